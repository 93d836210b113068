"""LiteLLM's model_prices_and_context_window.json as a price catalog.

The file maps a model key ("gpt-4o", "bedrock/us.anthropic.claude-...-v1:0",
"openrouter/anthropic/claude-sonnet-4") to USD-per-token rates and a `litellm_provider`.
Keys are normalized exactly as telemetry model ids are (model_ids.normalize_model_id), so a
call and a row meet on the same (provider id, model ref).  The file carries no price
history: the price version's effective date dates it.  Rows without a per-token price
(images, audio seconds, rerank queries) are skipped, never read as $0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from collector_processor.pricing.catalog import LongContextTier, ModelRates
from collector_processor.pricing.genai_json import CatalogFormatError
from collector_processor.pricing.listing import CatalogEntry, rate_signature
from collector_processor.pricing.model_ids import normalize_model_id, provider_id_for

_MTOK = Decimal(1_000_000)
# LiteLLM field -> ModelRates field, per token (converted to per million tokens).
_TOKEN_FIELDS = {
    "input_cost_per_token": "input_usd_per_mtok",
    "cache_read_input_token_cost": "cache_read_usd_per_mtok",
    "cache_creation_input_token_cost": "cache_write_usd_per_mtok",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h_usd_per_mtok",
    "output_cost_per_token": "output_usd_per_mtok",
    "output_cost_per_reasoning_token": "output_reasoning_usd_per_mtok",
}
_TIER_FIELD = re.compile(r"^(?P<field>.+)_above_(?P<k>\d+)k_tokens$")
_SERVICE_TIERS = {
    "_flex": "service_tier=flex",
    "_priority": "service_tier=priority",
    "_batches": "processing=batch",
}
# LiteLLM provider names that are not telemetry provider names.
_PROVIDERS = {
    "text-completion-openai": "openai",
    "cohere_chat": "cohere",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "gemini": "google",
}
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def litellm_provider_id(name: str) -> str:
    """Map a LiteLLM provider name ("vertex_ai-anthropic_models", "bedrock_converse") to ours."""
    name = name.strip().lower()
    if name.startswith("vertex_ai"):
        return "google"
    if name.startswith("bedrock"):
        return "aws"
    return _PROVIDERS.get(name) or provider_id_for(name)


class LiteLLMCatalog:
    """A LiteLLM price file as a PriceCatalog; lookups are dict hits."""

    def __init__(self, document: Mapping[str, Any], version: str) -> None:
        if not isinstance(document, Mapping):
            raise CatalogFormatError(
                "a LiteLLM price file is a JSON object of model -> prices, "
                f"this file holds a {type(document).__name__}"
            )
        self._version = version
        self._rates: dict[tuple[str, str], ModelRates] = {}
        self._tiers: dict[tuple[str, str], dict[str, ModelRates]] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._bare: dict[str, ModelRates] = {}  # ref -> rates of the row keyed without prefix
        self.skipped: list[str] = []  # keys without per-token prices
        for key, row in document.items():
            if key == "sample_spec" or not isinstance(row, Mapping):
                continue
            self._add(key, row)
        if not self._rates:
            raise CatalogFormatError("no model in this file has a per-token price")
        self._add_undated_aliases()

    @property
    def version(self) -> str:
        """Identify the price data."""
        return self._version

    def lookup(self, provider_id: str, model_ref: str, at: datetime) -> ModelRates | None:
        """The row for exactly this provider and model ref (the file is undated: `at` unused)."""
        rates = self._rates.get((provider_id, model_ref))
        if rates is None and not provider_id:
            rates = self._bare.get(model_ref)
        return rates

    def rates_for_entry(self, provider_id: str, model_id: str, at: datetime) -> ModelRates | None:
        """The row listed under exactly this provider and model ref."""
        return self._rates.get((provider_id, model_id))

    def entries(self) -> Iterator[CatalogEntry]:
        """Every token-priced row, keyed as lookups see it."""
        for key, rates in self._rates.items():
            if key not in self._names:
                continue  # an undated alias, listed under its dated row
            tiers = self._tiers.get(key, {})
            yield CatalogEntry(
                provider_id=key[0],
                model_id=key[1],
                name=self._names[key],
                change_dates=(),
                rates_at=lambda _at, r=rates: r,  # type: ignore[misc]
                service_tiers_at=lambda _at, t=tiers: t,  # type: ignore[misc]
            )

    def _add(self, key: str, row: Mapping[str, Any]) -> None:
        litellm_provider = str(row.get("litellm_provider") or "")
        provider = litellm_provider_id(litellm_provider) if litellm_provider else ""
        prefix, slash, rest = key.partition("/")
        # "bedrock/x", "azure/x": the prefix repeats the provider; drop it before normalizing.
        stripped = rest if slash and provider and litellm_provider_id(prefix) == provider else key
        provider_id, ref = normalize_model_id(provider, stripped)
        try:
            rates = rates_from_row(provider_id, ref, row)
        except (ValueError, InvalidOperation) as exc:
            raise CatalogFormatError(f"model {key!r}: {exc}") from None
        if rates is None:
            self.skipped.append(key)
            return
        ident = (provider_id, ref)
        if ident in self._rates:
            return  # the first row of a model wins; later ones are aliases of it
        self._rates[ident] = rates
        self._names[ident] = key
        self._tiers[ident] = _service_tiers(provider_id, ref, row)
        if not slash:
            self._bare.setdefault(ref, rates)

    def _add_undated_aliases(self) -> None:
        """Let "claude-x-20250929" answer for "claude-x" too, when every dated row agrees."""
        seen: dict[tuple[str, str], ModelRates | None] = {}
        for (provider_id, ref), rates in self._rates.items():
            undated = _DATE_SUFFIX.sub("", ref)
            if undated == ref or (provider_id, undated) in self._rates:
                continue
            alias = (provider_id, undated)
            prior: ModelRates | None = seen.get(alias, rates)
            agree = prior is not None and rate_signature(prior) == rate_signature(rates)
            seen[alias] = rates if agree else None
        for alias, agreed in seen.items():
            if agreed is not None:
                self._rates[alias] = agreed


def rates_from_row(provider_id: str, model_id: str, row: Mapping[str, Any]) -> ModelRates | None:
    """One LiteLLM row as ModelRates (tiers from `*_above_<N>k_tokens`); None if not per-token."""
    base = {f: _per_mtok(row.get(k), k) for k, f in _TOKEN_FIELDS.items()}
    if base["input_usd_per_mtok"] is None and base["output_usd_per_mtok"] is None:
        return None
    tiers = []
    thresholds: dict[int, dict[str, Decimal]] = {}
    for key, value in row.items():
        m = _TIER_FIELD.match(key)
        if m and m["field"] in _TOKEN_FIELDS and (rate := _per_mtok(value, key)) is not None:
            thresholds.setdefault(int(m["k"]) * 1000, {})[_TOKEN_FIELDS[m["field"]]] = rate
    for threshold in sorted(thresholds):
        above = {**base, **thresholds[threshold]}
        tiers.append(LongContextTier(threshold, _rates(provider_id, model_id, above)))
    return _rates(provider_id, model_id, base, tuple(tiers))


def _rates(
    provider_id: str,
    model_id: str,
    values: dict[str, Decimal | None],
    tiers: tuple[LongContextTier, ...] = (),
) -> ModelRates:
    zero = Decimal(0)
    # Priced on one side only (embeddings: input only): the other side costs nothing.
    return ModelRates(
        provider_id=provider_id,
        model_id=model_id,
        input_usd_per_mtok=values["input_usd_per_mtok"] or zero,
        cache_read_usd_per_mtok=values["cache_read_usd_per_mtok"],
        cache_write_usd_per_mtok=values["cache_write_usd_per_mtok"],
        cache_write_1h_usd_per_mtok=values["cache_write_1h_usd_per_mtok"],
        output_usd_per_mtok=values["output_usd_per_mtok"] or zero,
        output_reasoning_usd_per_mtok=values["output_reasoning_usd_per_mtok"],
        long_context=tiers,
    )


def _service_tiers(provider_id: str, ref: str, row: Mapping[str, Any]) -> dict[str, ModelRates]:
    tiers = {}
    for suffix, name in _SERVICE_TIERS.items():
        if f"input_cost_per_token{suffix}" in row or f"output_cost_per_token{suffix}" in row:
            merged = {**row}
            merged.update({k: row[k + suffix] for k in _TOKEN_FIELDS if k + suffix in row})
            rates = rates_from_row(provider_id, ref, merged)
            if rates is not None:
                tiers[name] = rates
    return tiers


def _per_mtok(value: Any, field: str) -> Decimal | None:
    """USD per token (as written in the file) -> USD per million tokens, exactly."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # documents decoded without parse_float=Decimal
    try:
        rate = Decimal(value) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate < 0:
        raise ValueError(f"{field} is {value!r}, not a price (a non-negative number)")
    return (rate * _MTOK).normalize()
