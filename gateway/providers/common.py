"""What every provider adapter shares: the usage record, the SSE splitter, header rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

# Never forwarded upstream: hop-by-hop (RFC 9110 §7.6.1), framing the proxy redoes itself,
# and every credential or account selector of the client (the gateway adds its own).
DROP_REQUEST_HEADERS = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "host", "content-length",
        "accept-encoding", "authorization", "x-api-key", "x-goog-api-key", "api-key",
        "cookie", "openai-organization", "openai-project", "x-goog-user-project",
        "traceparent", "tracestate", "x-otelspend-cache",
    }
)  # fmt: skip
DROP_RESPONSE_HEADERS = frozenset(
    {
        "connection", "keep-alive", "transfer-encoding", "content-length",
        "content-encoding", "set-cookie", "upgrade", "trailer", "date", "server",
    }
)  # fmt: skip
_TEXT_CHARS_PER_TOKEN = 4  # output of an abandoned stream: English-ish text


@dataclass(slots=True)
class Usage:
    """Token counts of one call in canonical classes (input is UNCACHED input)."""

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    response_id: str = ""
    response_model: str = ""
    complete: bool = False  # the provider reported final usage
    output_chars: int = 0  # streamed text seen so far (bills an abandoned stream)
    output_events: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def output_so_far(self) -> int:
        """Output tokens of an unfinished stream: reported, else estimated from the text."""
        guess = max(self.output_events, -(-self.output_chars // _TEXT_CHARS_PER_TOKEN))
        return max(self.output_tokens, guess)


def parse_json(raw: bytes) -> Any:
    """Decoded JSON, or None when the body is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def as_int(value: Any) -> int:
    """A token count from JSON (absent, null or junk -> 0; never negative)."""
    return value if isinstance(value, int) and value > 0 else 0


class SseSplitter:
    """Split an SSE byte stream into `data:` payloads as chunks arrive (keeps one partial line)."""

    __slots__ = ("_partial",)

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The complete data lines in `chunk` (plus what was left over from the last one)."""
        data = self._partial + chunk if self._partial else chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > 4 * 1024 * 1024:  # a runaway line: drop, never grow unbounded
            self._partial = b""
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip()


class StreamParser(Protocol):
    """Reads usage out of a response stream as it passes through."""

    usage: Usage

    def feed(self, chunk: bytes) -> None:
        """Consume one chunk (never blocks, never buffers the stream)."""
        ...


class SseJsonParser:
    """A StreamParser calling `on_event(obj)` for each JSON `data:` payload."""

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self._sse = SseSplitter()

    def feed(self, chunk: bytes) -> None:
        """Parse the complete events in `chunk`."""
        for data in self._sse.feed(chunk):
            if data and data[:1] == b"{":
                obj = parse_json(data)
                if isinstance(obj, dict):
                    self.on_event(obj)

    def on_event(self, obj: Mapping[str, Any]) -> None:
        """Handle one event (subclasses)."""
        raise NotImplementedError


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer` header."""
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def forward_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The client's headers minus hop-by-hop, framing and credential headers."""
    return {k: v for k, v in headers.items() if k.lower() not in DROP_REQUEST_HEADERS}
