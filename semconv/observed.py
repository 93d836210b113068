"""The GenAI span of one call while its response body streams to the caller.

`wrap_stream` puts an observer between httpx's (or httpx2's) ResponseStream and the httpcore
stream under it: each chunk is parsed after it is read and before it is handed on, so the
caller gets every byte as soon as it arrives; the span ends once, when the body ends, is
closed, or (never read nor closed) is garbage-collected.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

from semconv.providers import STREAM_INCOMPLETE, TIME_TO_FIRST_CHUNK, CallFacts, parser_for
from semconv.streams import BodyReader

log = logging.getLogger(__name__)


class ObservedCall:
    """One call whose response body is being read: feeds the parser, ends the span once."""

    def __init__(
        self, span: Any, facts: CallFacts, capture: bool, content_type: str, encoding: str
    ) -> None:
        self._span = span
        self._facts = facts
        self._capture = capture
        self._parser = parser_for(facts.endpoint)
        self._reader: BodyReader | None = BodyReader(
            content_type, encoding, self._on_event, self._on_body
        )
        self._done = False
        self._lock = threading.Lock()
        self._first_chunk_ns = 0

    def feed(self, chunk: bytes) -> None:
        """Observe one chunk; a parsing error stops observation, never the caller's read."""
        if not self._first_chunk_ns:
            self._first_chunk_ns = time.time_ns()
        if self._reader is None:
            return
        try:
            self._reader.feed(chunk)
        except Exception:
            log.debug("otelspend: cannot parse the response body", exc_info=True)
            self._reader = None

    def finish(self, *, complete: bool) -> None:
        """Set the response attributes and end the span (only the first call counts)."""
        with self._lock:
            if self._done:
                return
            self._done = True
        try:
            if self._reader is not None:
                self._reader.close()
        except Exception:
            log.debug("otelspend: cannot parse the end of the body", exc_info=True)
        attrs = self._facts.end_attributes()
        if not complete and not self._facts.finish_reasons:
            attrs[STREAM_INCOMPLETE] = True  # abandoned: billed for what was reported so far
        start_ns = getattr(self._span, "start_time", None)
        if self._facts.stream and self._first_chunk_ns and start_ns:
            attrs[TIME_TO_FIRST_CHUNK] = max(self._first_chunk_ns - start_ns, 0) / 1e9
        self._span.set_attributes(attrs)
        self._span.end()

    def _on_event(self, name: str, data: Any) -> None:
        if isinstance(data, dict):
            self._parser.read_event(self._facts, name, data, self._capture)

    def _on_body(self, body: Any) -> None:
        if isinstance(body, dict) or (
            isinstance(body, list) and self._facts.endpoint.api == "gemini"
        ):
            self._parser.read_response(self._facts, body, self._capture)


class _SyncObserved:
    """Stands in for httpcore's sync byte stream inside httpx's ResponseStream."""

    def __init__(self, inner: Any, call: ObservedCall) -> None:
        self._inner = inner
        self._call = call
        weakref.finalize(self, call.finish, complete=False)  # a body nobody read or closed

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._call.feed(chunk)
            yield chunk
        self._call.finish(complete=True)

    def close(self) -> None:
        """The caller closed the response (maybe before its end): the span ends now."""
        try:
            if hasattr(self._inner, "close"):
                self._inner.close()
        finally:
            self._call.finish(complete=False)


class _AsyncObserved:
    """Stands in for httpcore's async byte stream inside httpx's AsyncResponseStream."""

    def __init__(self, inner: Any, call: ObservedCall) -> None:
        self._inner = inner
        self._call = call
        weakref.finalize(self, call.finish, complete=False)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._call.feed(chunk)
            yield chunk
        self._call.finish(complete=True)

    async def aclose(self) -> None:
        """The caller closed the response (maybe before its end): the span ends now."""
        try:
            if hasattr(self._inner, "aclose"):
                await self._inner.aclose()
        finally:
            self._call.finish(complete=False)


def wrap_stream(stream: Any, call: ObservedCall, is_async: bool) -> bool:
    """Put the observer between httpx's ResponseStream and httpcore (both httpx and httpx2)."""
    inner = getattr(stream, "_httpcore_stream", None)
    if inner is None:
        return False
    stream._httpcore_stream = (_AsyncObserved if is_async else _SyncObserved)(inner, call)
    return True
