"""Read a response body as it passes by: content decoding, SSE events, a bounded JSON copy.

The caller's bytes are never held back: `BodyReader.feed` is called with each chunk after it
has been handed on (see semconv.httpx_hooks) and keeps only what parsing needs — the partial
SSE line, or a copy of a JSON body up to `MAX_JSON_BODY_BYTES` plus its tail, where usage
sits in every API's non-streaming answer.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

MAX_JSON_BODY_BYTES = 16 * 1024 * 1024
_TAIL_BYTES = 64 * 1024
_USAGE_IN_TAIL = re.compile(rb'"(usage|usageMetadata)"\s*:\s*(\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})')
_MODEL_IN_TAIL = re.compile(rb'"(model|modelVersion)"\s*:\s*"([^"]{1,200})"')

Event = tuple[str, Any]  # (SSE event name or "", decoded JSON data)


class Decoder(Protocol):
    """Undo one Content-Encoding incrementally."""

    def decompress(self, data: bytes) -> bytes: ...


def content_decoder(encoding: str) -> Decoder | None:
    """Return a decoder for a Content-Encoding header ("" = identity); None if unsupported."""
    chain = [part.strip().lower() for part in encoding.split(",") if part.strip()]
    chain = [part for part in chain if part != "identity"]
    if not chain:
        return _Identity()
    if len(chain) > 1:
        return None  # stacked encodings: rare enough to leave unparsed
    name = chain[0]
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return zlib.decompressobj()
    if name == "br":
        return _optional_decoder("brotli", "Decompressor") or _optional_decoder(
            "brotlicffi", "Decompressor"
        )
    if name == "zstd":
        module = _import("zstandard")
        return module.ZstdDecompressor().decompressobj() if module else None
    return None


class _Identity:
    def decompress(self, data: bytes) -> bytes:
        return data


class _BrotliAdapter:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def decompress(self, data: bytes) -> bytes:
        method = getattr(self._inner, "process", None) or self._inner.decompress
        return bytes(method(data))


def _optional_decoder(module_name: str, attr: str) -> Decoder | None:
    module = _import(module_name)
    return _BrotliAdapter(getattr(module, attr)()) if module else None


def _import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        return None


class SseDecoder:
    """Incremental text/event-stream parser: bytes in, (event name, JSON data) out."""

    def __init__(self) -> None:
        self._pending = b""
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """Yield every event completed by `chunk`; data that is not JSON ([DONE]) is skipped."""
        data = self._pending + chunk
        held = b""
        if data.endswith(b"\r"):  # maybe the first half of a \r\n split across chunks
            data, held = data[:-1], b"\r"
        *lines, rest = re.split(rb"\r\n|\r|\n", data)
        self._pending = rest + held
        for line in lines:
            event = self._line(line)
            if event is not None:
                yield event

    def close(self) -> Iterator[Event]:
        """Flush a last event that was not followed by a blank line."""
        if self._pending.rstrip(b"\r"):
            event = self._line(self._pending.rstrip(b"\r"))
            self._pending = b""
            if event is not None:
                yield event
        event = self._line(b"")
        if event is not None:
            yield event

    def _line(self, line: bytes) -> Event | None:
        if not line:
            return self._dispatch()
        if line.startswith(b"data:"):
            self._data.append(line[5:].removeprefix(b" "))
        elif line.startswith(b"event:"):
            self._event = line[6:].strip().decode("utf-8", "replace")
        return None

    def _dispatch(self) -> Event | None:
        data, name = b"\n".join(self._data), self._event
        self._data, self._event = [], ""
        if not data or data.strip() == b"[DONE]":
            return None
        try:
            return name, json.loads(data)
        except ValueError:
            return None


class JsonCollector:
    """A copy of a JSON body, bounded: past the limit only the tail is kept."""

    def __init__(self, limit_bytes: int = MAX_JSON_BODY_BYTES) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._limit = limit_bytes
        self._tail = b""
        self._overflowed = False

    def feed(self, chunk: bytes) -> None:
        """Keep `chunk` (or, past the limit, just the last bytes seen)."""
        self._size += len(chunk)
        if not self._overflowed and self._size <= self._limit:
            self._parts.append(chunk)
            return
        if not self._overflowed:
            self._overflowed = True
            self._tail = b"".join(self._parts)[-_TAIL_BYTES:]
            self._parts = []
        self._tail = (self._tail + chunk)[-_TAIL_BYTES:]

    def result(self) -> Any:
        """The parsed body; for an oversized one, usage and model recovered from the tail."""
        if not self._overflowed:
            try:
                return json.loads(b"".join(self._parts))
            except ValueError:
                return None
        out: dict[str, Any] = {}
        for match in _USAGE_IN_TAIL.finditer(self._tail):
            try:
                out[match.group(1).decode()] = json.loads(match.group(2))
            except ValueError:
                continue
        for match in _MODEL_IN_TAIL.finditer(self._tail):
            out[match.group(1).decode()] = match.group(2).decode("utf-8", "replace")
        return out or None


class BodyReader:
    """Decode and parse one response body chunk by chunk, reporting to two callbacks."""

    def __init__(
        self,
        content_type: str,
        content_encoding: str,
        on_event: Callable[[str, Any], None],
        on_body: Callable[[Any], None],
    ) -> None:
        self._decoder = content_decoder(content_encoding)
        self._sse = SseDecoder() if "event-stream" in content_type.lower() else None
        self._json = None if self._sse else JsonCollector()
        self._on_event, self._on_body = on_event, on_body
        self.readable = self._decoder is not None
        if not self.readable:
            log.debug(
                "otelspend: cannot decode Content-Encoding %r; usage unread", content_encoding
            )

    def feed(self, chunk: bytes) -> None:
        """Consume one raw (possibly compressed) chunk."""
        if self._decoder is None or not chunk:
            return
        data = self._decoder.decompress(chunk)
        if self._sse is not None:
            for name, event in self._sse.feed(data):
                self._on_event(name, event)
        elif self._json is not None:
            self._json.feed(data)

    def close(self) -> None:
        """The body ended (or was abandoned): flush what is parseable."""
        if self._decoder is None:
            return
        if self._sse is not None:
            for name, event in self._sse.close():
                self._on_event(name, event)
        elif self._json is not None:
            body = self._json.result()
            if body is not None:
                self._on_body(body)
