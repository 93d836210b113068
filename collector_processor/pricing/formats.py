"""Price files otelspend reads: genai-prices data JSON and LiteLLM's price map.

One entry point, `load_catalog`, turns stored or imported text into a catalog; the store
keeps the text, so a price version can always be rebuilt exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.genai_json import CatalogFormatError, parse_genai_prices
from collector_processor.pricing.litellm import LiteLLMCatalog

FORMAT_GENAI_PRICES = "genai-prices"
FORMAT_LITELLM = "litellm"
FORMATS = (FORMAT_GENAI_PRICES, FORMAT_LITELLM)

Catalog = GenaiPricesCatalog | LiteLLMCatalog


def decode(text: str) -> Any:
    """Parse JSON keeping every number exact (prices never pass through float)."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CatalogFormatError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def detect_format(document: Any) -> str:
    """genai-prices data is a list of providers; LiteLLM's file is an object of models."""
    if isinstance(document, list):
        return FORMAT_GENAI_PRICES
    if isinstance(document, dict):
        return FORMAT_LITELLM
    raise CatalogFormatError("a price file is a JSON list (genai-prices) or object (LiteLLM)")


def load_catalog(fmt: str, document: Any, label: str) -> Catalog:
    """Build the catalog a decoded price file describes; CatalogFormatError says what is wrong."""
    if fmt == FORMAT_GENAI_PRICES:
        providers = parse_genai_prices(document)
        if not any(p.models for p in providers):
            raise CatalogFormatError("this genai-prices data lists no models")
        return GenaiPricesCatalog(providers, version=label)
    if fmt == FORMAT_LITELLM:
        return LiteLLMCatalog(document, version=label)
    raise CatalogFormatError(f"unknown price format {fmt!r}; use one of {', '.join(FORMATS)}")
