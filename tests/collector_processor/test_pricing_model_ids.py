"""Model-id normalization: telemetry names -> catalog lookup keys, most specific first."""

from __future__ import annotations

import pytest

from collector_processor.pricing.model_ids import (
    infer_provider,
    lookup_candidates,
    normalize_model_id,
    provider_id_for,
)


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("anthropic", "anthropic"),
        ("OpenAI", "openai"),
        ("gcp.gemini", "google"),
        ("gcp.vertex_ai", "google"),
        ("gcp.gen_ai", "google"),
        ("google", "google"),
        ("gemini", "google"),
        ("aws.bedrock", "aws"),
        ("azure.ai.openai", "azure"),
        ("az.ai.openai", "azure"),
        ("azure.ai.inference", "azure"),
        ("mistral_ai", "mistral"),
        ("x_ai", "x-ai"),
        (" deepseek ", "deepseek"),
        ("some-new-cloud", "some-new-cloud"),  # unknown names pass through
        ("", ""),
    ],
)
def test_provider_id_for(provider: str, expected: str) -> None:
    assert provider_id_for(provider) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-opus-4-8", "anthropic"),
        ("gpt-5.1-codex", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("codex-mini-latest", "openai"),
        ("chatgpt-4o-latest", "openai"),
        ("gemini-2.5-pro", "google"),
        ("claude-opus-4-1@20250805", "google"),  # Vertex AI's "@version" form
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "aws"),
        ("arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-opus-4-8-v1:0", "aws"),
        ("deepseek-chat", ""),  # left to the catalog's own model matching
        ("llama-3.3-70b", ""),
    ],
)
def test_infer_provider(model: str, expected: str) -> None:
    assert infer_provider(model) == expected


NORMALIZE = [
    # (provider, model) -> (provider_id, model_ref)
    ("anthropic", "claude-opus-4-8[1m]", "anthropic", "claude-opus-4-8"),
    ("anthropic", "Claude-Sonnet-4-5[1M]", "anthropic", "claude-sonnet-4-5"),
    ("", "claude-opus-4-8", "anthropic", "claude-opus-4-8"),
    ("", "gpt-5.1-codex", "openai", "gpt-5.1-codex"),
    # dated ids are kept: genai-prices matches them, some with their own price
    ("anthropic", "claude-sonnet-4-5-20250929", "anthropic", "claude-sonnet-4-5-20250929"),
    ("openai", "gpt-4o-2024-08-06", "openai", "gpt-4o-2024-08-06"),
    # provider/ prefixes: the prefix names the provider when telemetry does not
    ("", "openai/gpt-4o", "openai", "gpt-4o"),
    ("", "anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
    ("litellm", "anthropic/claude-opus-4-8", "anthropic", "claude-opus-4-8"),
    ("azure", "azure/gpt-4o", "azure", "gpt-4o"),
    ("", "gemini/gemini-2.5-pro", "google", "gemini-2.5-pro"),
    # OpenRouter's catalog ids include the vendor prefix
    ("openrouter", "anthropic/claude-sonnet-4", "openrouter", "anthropic/claude-sonnet-4"),
    # a slash that is not a vendor prefix is part of the id
    ("together", "meta-llama/llama-3.3-70b", "together", "meta-llama/llama-3.3-70b"),
    # Google resource names
    ("gcp.gemini", "models/gemini-2.5-pro", "google", "gemini-2.5-pro"),
    ("gcp.vertex_ai", "projects/p/locations/us/publishers/google/models/gemini-2.5-pro",
     "google", "gemini-2.5-pro"),
    # Bedrock and Vertex ids stay whole: the catalog prices their regions differently
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
     "aws", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("", "eu.anthropic.claude-opus-4-8-v1:0", "aws", "eu.anthropic.claude-opus-4-8-v1:0"),
    ("", "arn:aws:bedrock:us-east-1:1:inference-profile/global.anthropic.claude-opus-4-8-v1:0",
     "aws", "global.anthropic.claude-opus-4-8-v1:0"),
    ("gcp.vertex_ai", "claude-opus-4-1@20250805", "google", "claude-opus-4-1@20250805"),
    ("", "", "", ""),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "model", "provider_id", "model_ref"), NORMALIZE)
def test_normalize_model_id(provider: str, model: str, provider_id: str, model_ref: str) -> None:
    assert normalize_model_id(provider, model) == (provider_id, model_ref)


CANDIDATES = [
    ("openai", "gpt-5.1-codex-2025-11-13",
     (("openai", "gpt-5.1-codex-2025-11-13"), ("openai", "gpt-5.1-codex"))),
    ("openai", "gpt-4o-2024-08-06", (("openai", "gpt-4o-2024-08-06"), ("openai", "gpt-4o"))),
    ("gcp.gemini", "gemini-2.5-flash-001",
     (("google", "gemini-2.5-flash-001"), ("google", "gemini-2.5-flash"))),
    # Bedrock: the platform's own id first, then the vendor's list price for the bare model
    ("aws.bedrock", "apac.anthropic.claude-opus-4-8-v1:0",
     (("aws", "apac.anthropic.claude-opus-4-8-v1:0"), ("anthropic", "claude-opus-4-8"))),
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
     (("aws", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
      ("anthropic", "claude-sonnet-4-5-20250929"), ("anthropic", "claude-sonnet-4-5"))),
    # Bedrock provider with a plain vendor id
    ("aws.bedrock", "claude-opus-4-8",
     (("aws", "claude-opus-4-8"), ("anthropic", "claude-opus-4-8"))),
    # Vertex: platform id, then bare on the platform, then the vendor
    ("gcp.vertex_ai", "claude-opus-4-1@20250805",
     (("google", "claude-opus-4-1@20250805"), ("google", "claude-opus-4-1"),
      ("anthropic", "claude-opus-4-1"))),
    # OpenRouter: its own id, then the vendor's
    ("openrouter", "openai/gpt-4o", (("openrouter", "openai/gpt-4o"), ("openai", "gpt-4o"))),
    ("anthropic", "claude-opus-4-8", (("anthropic", "claude-opus-4-8"),)),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "model", "expected"), CANDIDATES)
def test_lookup_candidates(
    provider: str, model: str, expected: tuple[tuple[str, str], ...]
) -> None:
    assert lookup_candidates(provider, model) == expected
