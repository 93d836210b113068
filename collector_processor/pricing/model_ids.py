"""Turn the provider and model names telemetry reports into catalog lookup keys.

Telemetry names models the way each client sent them: `claude-opus-4-8[1m]` (Claude Code's
context suffix), `openai/gpt-4o` (OpenRouter, LiteLLM), `us.anthropic.claude-...-v1:0`
(Bedrock), `claude-opus-4-1@20250805` (Vertex), dated snapshots.  Providers arrive as
semconv values (`gcp.vertex_ai`, `aws.bedrock`, `az.ai.openai`, ...) or as nothing at all.

The catalog (genai-prices) already matches many dated and platform-specific ids, and some of
them carry their own price (Bedrock regional endpoints cost 10% more than global ones;
`gpt-4o-2024-05-13` is dearer than `gpt-4o`).  So the id is kept as specific as possible and
`lookup_candidates` lists progressively more generic fallbacks, most specific first.
"""

from __future__ import annotations

import re

# Telemetry provider names (semconv gen_ai.provider.name / gen_ai.system, OpenInference
# llm.provider / llm.system, LiteLLM prefixes) → genai-prices provider ids.
_PROVIDER_IDS: dict[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai",
    "aws.bedrock": "aws",
    "aws": "aws",
    "bedrock": "aws",
    "amazon-bedrock": "aws",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.inference": "azure",
    "azure": "azure",
    "azure_ai": "azure",
    "azure_openai": "azure",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "google": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "vertexai": "google",
    "vertex": "google",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "mistral": "mistral",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "x-ai": "x-ai",
    "deepseek": "deepseek",
    "groq": "groq",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "together_ai": "together",
    "together": "together",
    "fireworks_ai": "fireworks",
    "fireworks": "fireworks",
    "moonshot": "moonshotai",
    "moonshotai": "moonshotai",
}

# `vendor/model` prefixes that name where a model comes from rather than being part of the
# catalog id.  OpenRouter's own catalog ids keep the prefix, so it is kept for that provider.
_VENDOR_PREFIXES = frozenset(
    {
        "openai", "anthropic", "google", "gemini", "vertex_ai", "vertex", "bedrock", "aws",
        "azure", "azure_ai", "mistral", "mistralai", "x-ai", "xai", "deepseek", "litellm",
        "litellm_proxy", "openrouter",
    }
)  # fmt: skip

_BRACKET_SUFFIX = re.compile(r"\s*\[[^\]]*\]$")  # Claude Code's "[1m]" context-window marker
# Dated snapshots ("-20250929", "-2024-08-06") and Gemini's "-001" stable-version suffix.
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2}|0\d\d)$")
_BEDROCK_ID = re.compile(
    r"^(?:(?:us|us-gov|eu|apac|au|jp|ca|in|global)\.)?"
    r"(?P<vendor>anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\."
    r"(?P<model>[^:]+?)(?:-v\d+)?(?::\d+)?$"
)
_BEDROCK_VENDORS = {"anthropic": "anthropic", "openai": "openai", "deepseek": "deepseek",
                    "mistral": "mistral", "meta": "meta"}  # fmt: skip
# Platforms that resell other vendors' models under the vendor's plain id.
_HOSTING_PLATFORMS = frozenset({"aws", "google", "azure"})
_OPENAI_MODEL = re.compile(r"^(?:gpt-|chatgpt-|codex|o\d)")


def provider_id_for(provider: str) -> str:
    """Map a telemetry provider name to a genai-prices provider id (unknown names pass through)."""
    name = provider.strip().lower()
    return _PROVIDER_IDS.get(name, name)


def infer_provider(model_ref: str) -> str:
    """Guess the provider from a cleaned model id; "" when the id does not say."""
    if model_ref.startswith("arn:aws:bedrock") or _BEDROCK_ID.match(model_ref):
        return "aws"
    if "@" in model_ref:  # only Vertex AI versions models as "name@version"
        return "google"
    if model_ref.startswith("claude"):
        return "anthropic"
    if _OPENAI_MODEL.match(model_ref):
        return "openai"
    if model_ref.startswith("gemini"):
        return "google"
    return ""


def normalize_model_id(provider: str, model: str) -> tuple[str, str]:
    """Return the most specific (provider_id, model_ref) to look up for a reported call."""
    provider_id = provider_id_for(provider)
    ref = _BRACKET_SUFFIX.sub("", model.strip().lower())
    if ref.startswith("arn:aws:bedrock"):
        ref = ref.rsplit("/", 1)[-1]  # inference-profile ARN: the profile id is the model id
    elif "models/" in ref:
        ref = ref.rsplit("models/", 1)[-1]  # Gemini "models/x", Vertex ".../publishers/p/models/x"
    prefix, slash, rest = ref.partition("/")
    if slash and prefix in _VENDOR_PREFIXES and provider_id != "openrouter":
        ref = rest
        if provider_id in ("", "litellm"):
            provider_id = provider_id_for(prefix)
    if not provider_id or provider_id == "litellm":
        provider_id = infer_provider(ref)
    return provider_id, ref


def lookup_candidates(provider: str, model: str) -> tuple[tuple[str, str], ...]:
    """Return (provider_id, model_ref) pairs to try in order, most specific first."""
    provider_id, ref = normalize_model_id(provider, model)
    candidates = [(provider_id, ref)]
    if provider_id == "openrouter" and "/" in ref:
        prefix, _, rest = ref.partition("/")
        candidates.append((provider_id_for(prefix), rest))
    bedrock = _BEDROCK_ID.match(ref)
    if bedrock and bedrock["vendor"] in _BEDROCK_VENDORS:
        # Bedrock lists fewer regions than exist: fall back to the vendor's own list price.
        candidates.append((_BEDROCK_VENDORS[bedrock["vendor"]], bedrock["model"]))
    elif "@" in ref:
        bare = ref.partition("@")[0]
        candidates.append((provider_id, bare))
        candidates.append((infer_provider(bare), bare))
    if provider_id in _HOSTING_PLATFORMS and (vendor := infer_provider(ref)) != provider_id:
        candidates.append((vendor, ref))  # e.g. aws + "claude-sonnet-4-5": no Bedrock id given
    for cand_provider, cand_ref in list(candidates):
        undated = _DATE_SUFFIX.sub("", cand_ref)
        if undated != cand_ref:
            candidates.append((cand_provider, undated))
    return tuple(dict.fromkeys(candidates))
