"""The routes the gateway serves: provider, operation, upstream path, how to read the body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Operations that are model calls (reserved, settled, recorded); the rest pass through.
BILLABLE = frozenset({"chat", "responses", "embeddings", "generate_content"})
_NO_OUTPUT = frozenset({"embeddings"})


@dataclass(frozen=True, slots=True)
class Route:
    """One matched request."""

    provider: str  # "anthropic" | "openai" | "gemini" (config / adapter name)
    operation: str  # GenAI operation name, or count_tokens / models
    upstream_path: str  # appended to the provider's upstream base URL
    model_in_path: str = ""
    gemini_stream: bool = False

    @property
    def billable(self) -> bool:
        """A model call the provider bills."""
        return self.operation in BILLABLE

    @property
    def has_output(self) -> bool:
        """The call generates output tokens (embeddings do not)."""
        return self.operation not in _NO_OUTPUT

    def model(self, body: Any) -> str:
        """The requested model (body field, or the Gemini path)."""
        if self.model_in_path:
            return self.model_in_path
        return str(body.get("model") or "") if isinstance(body, dict) else ""

    def streams(self, body: Any, query: dict[str, str]) -> bool:
        """The client asked for a streamed answer."""
        if self.gemini_stream:
            return True
        return isinstance(body, dict) and body.get("stream") is True


ANTHROPIC = {
    "v1/messages": "chat",
    "v1/messages/count_tokens": "count_tokens",
}
OPENAI = {
    "chat/completions": "chat",
    "responses": "responses",
    "embeddings": "embeddings",
    "models": "models",
}
GEMINI = {
    "generateContent": "generate_content",
    "streamGenerateContent": "generate_content",
    "countTokens": "count_tokens",
}


def gemini_route(version: str, target: str) -> Route | None:
    """/gemini/{version}/models/{model}:{method} (v1, v1beta, v1alpha)."""
    model, _, method = target.partition(":")
    op = GEMINI.get(method)
    if op is None or not model or version not in ("v1", "v1beta", "v1alpha"):
        return None
    path = f"/{version}/models/{target}"
    return Route("gemini", op, path, model, method == "streamGenerateContent")
