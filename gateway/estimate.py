"""The estimated maximum cost of a request: input tokens counted from the body + max output.

Input tokens are a calibrated character estimate, not a tokenizer.  tiktoken is installed
here, but it downloads its BPE files on first use and no PyPI package we can rely on ships
cl100k/o200k for it, so an exact OpenAI count would need the network at run time.  Byte-level
BPE tokenizers (OpenAI's, Anthropic's, Gemini's SentencePiece) average 3.5-4.5 characters per
token on English and code; we count 3, so the estimate errs high and a reservation covers the
real input.  Images count a flat 1 600 tokens (a 1 092 x 1 092 image on Anthropic's formula)
instead of their base64 length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 3
IMAGE_TOKENS = 1600
DEFAULT_OUTPUT_TOKENS = 4096  # when a request names no max (Codex, most chat clients)
_BINARY_KEYS = frozenset({"data", "bytes", "image_url", "inline_data", "inlineData", "source"})
_MAX_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


@dataclass(frozen=True, slots=True)
class Estimate:
    """Token counts a reservation is priced on."""

    input_tokens: int
    output_tokens: int
    output_from_request: bool  # the client set a maximum (else the configured default)


def input_tokens(body: Any) -> int:
    """Estimated input tokens of a request body (every string, images at a flat rate)."""
    chars, images = _walk(body, 0)
    return -(-chars // CHARS_PER_TOKEN) + images * IMAGE_TOKENS


def _walk(value: Any, depth: int) -> tuple[int, int]:
    if depth > 64:
        return 0, 0
    if isinstance(value, str):
        return len(value), 0
    chars = images = 0
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in _BINARY_KEYS and _looks_binary(item):
                images += 1
                continue
            c, i = _walk(item, depth + 1)
            chars, images = chars + c + len(str(key)), images + i
    elif isinstance(value, list):
        for item in value:
            c, i = _walk(item, depth + 1)
            chars, images = chars + c, images + i
    return chars, images


def _looks_binary(item: Any) -> bool:
    """A base64 payload or a data: URL (long strings or nested {data: ...})."""
    if isinstance(item, str):
        return item.startswith("data:") or len(item) > 4096
    if isinstance(item, Mapping):
        return any(_looks_binary(v) for v in item.values())
    return False


def requested_max_output(body: Any) -> int | None:
    """The output maximum the request sets, wherever its API puts it."""
    if not isinstance(body, Mapping):
        return None
    for name in _MAX_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and value > 0:
            return value
    config = body.get("generationConfig") or body.get("generation_config")
    if isinstance(config, Mapping):
        value = config.get("maxOutputTokens", config.get("max_output_tokens"))
        if isinstance(value, int) and value > 0:
            return value
    return None


def estimate(body: Any, default_output_tokens: int, *, has_output: bool = True) -> Estimate:
    """Input estimate plus the request's max output (or the default)."""
    asked = requested_max_output(body)
    output = 0 if not has_output else asked or default_output_tokens
    return Estimate(input_tokens(body), output, asked is not None)


def set_max_output(body: dict[str, Any], provider: str, operation: str, value: int) -> None:
    """Write the output maximum into the field this API reads (clamping)."""
    if provider == "google":
        body.setdefault("generationConfig", {})["maxOutputTokens"] = value
        return
    present = [name for name in _MAX_FIELDS if name in body]
    if present:
        for name in present:
            body[name] = value
    elif operation == "responses":
        body["max_output_tokens"] = value
    elif provider == "openai":
        body["max_completion_tokens"] = value
    else:
        body["max_tokens"] = value
