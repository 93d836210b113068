"""Request/response hooks for opentelemetry-instrumentation-httpx that emit GenAI spans.

The request hook recognises an OpenAI, Anthropic or Gemini call from its URL and JSON body
and keeps what the request says.  The response hook starts the GenAI span (start time = the
HTTP span's) and wraps the response's byte stream, so every chunk is observed as it is handed
to the caller — SSE events are parsed incrementally, nothing is held back — and the span ends
when the body ends or is closed, carrying response model, id, finish reasons and every token
class.  The span is a sibling of the HTTP span (same parent), or its child when the HTTP span
is a root, and ends after it: the HTTP span closes when the headers arrive.

A call is skipped when an open ancestor of the HTTP span is already a model-call span of an
official GenAI instrumentation (openai-v2, OpenLLMetry, OpenInference), so it is counted once.
Hooks never raise into the application: a parsing failure only loses the usage.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from semconv import names as n
from semconv.ancestry import ActiveSpans, describes_call, inherited_agent
from semconv.providers import (
    ERROR_TYPE,
    SERVER_ADDRESS,
    SERVER_PORT,
    STREAM_INCOMPLETE,
    TIME_TO_FIRST_CHUNK,
    CallFacts,
    match_endpoint,
)
from semconv.providers import anthropic as anthropic_api
from semconv.providers import gemini as gemini_api
from semconv.providers import openai as openai_api
from semconv.streams import BodyReader

log = logging.getLogger(__name__)

CALL_KEY = "otelspend.genai_call"  # request.extensions key between the two hooks
_PARSERS: dict[str, Any] = {
    "openai": openai_api,
    "openai_responses": openai_api,
    "anthropic": anthropic_api,
    "gemini": gemini_api,
}
_STREAMING_CHAT = ("/chat/completions", "/completions")


class GenAiHooks:
    """The four hooks HTTPXClientInstrumentor / HTTPX2ClientInstrumentor accept."""

    def __init__(
        self,
        tracer: Tracer,
        spans: ActiveSpans | None = None,
        *,
        capture_content: bool = False,
        agent_name: str = "",
        inject_stream_usage: bool = False,
    ) -> None:
        self._tracer = tracer
        self._spans = spans
        self._capture = capture_content
        self._agent = agent_name
        self._inject = inject_stream_usage

    def request_hook(self, span: Any, request: Any) -> None:
        """Remember the call a model-API request makes (nothing for other requests)."""
        try:
            self._on_request(span, request)
        except Exception:  # never break the application's request
            log.debug("otelspend: request hook failed", exc_info=True)

    def response_hook(self, span: Any, request: Any, response: Any) -> None:
        """Start the GenAI span and observe the response body as the caller reads it."""
        try:
            self._on_response(span, request, response, is_async=False)
        except Exception:
            log.debug("otelspend: response hook failed", exc_info=True)

    async def async_request_hook(self, span: Any, request: Any) -> None:
        """Async clients: same as request_hook (no I/O happens here)."""
        self.request_hook(span, request)

    async def async_response_hook(self, span: Any, request: Any, response: Any) -> None:
        """Async clients: wraps the async byte stream."""
        try:
            self._on_response(span, request, response, is_async=True)
        except Exception:
            log.debug("otelspend: response hook failed", exc_info=True)

    def _on_request(self, span: Any, request: Any) -> None:
        extensions = request.extensions
        if extensions is None or not span.is_recording():
            return
        url = request.url
        method = request.method.decode() if isinstance(request.method, bytes) else request.method
        endpoint = match_endpoint(method, str(url.host), str(url.path))
        if endpoint is None:
            return
        ancestors = list(self._spans.ancestors(span)) if self._spans else []
        if any(describes_call(a.attributes) for a in ancestors):
            return  # an official GenAI instrumentation already describes this call
        body = _json_body(request.stream)
        if not isinstance(body, dict):
            return
        facts = CallFacts(endpoint)
        parser = _PARSERS[endpoint.api]
        if endpoint.api == "anthropic" and not anthropic_api.is_request(body):
            return
        parser.read_request(facts, body, self._capture)
        if not facts.request_model:
            return
        if self._inject and facts.stream and str(url.path).endswith(_STREAMING_CHAT):
            _ask_for_stream_usage(request, body)
        agent = self._agent or inherited_agent(iter(ancestors))
        extensions[CALL_KEY] = (facts, agent, url, ancestors[0] if ancestors else None)

    def _on_response(self, span: Any, request: Any, response: Any, *, is_async: bool) -> None:
        pending = (request.extensions or {}).pop(CALL_KEY, None)
        if pending is None:
            return
        facts, agent, url, parent = pending
        genai_span = self._start_span(span, facts, agent, url, parent)
        if response.status_code >= 400:
            genai_span.set_attribute(ERROR_TYPE, str(response.status_code))
            genai_span.set_status(StatusCode.ERROR, f"HTTP {response.status_code}")
            genai_span.end()
            return
        headers = response.headers
        call = ObservedCall(
            genai_span,
            facts,
            self._capture,
            headers.get("content-type", "") if headers is not None else "",
            headers.get("content-encoding", "") if headers is not None else "",
        )
        if not _wrap_stream(response.stream, call, is_async):
            log.debug("otelspend: unknown response stream %r; usage unread", type(response.stream))
            call.finish(complete=False)

    def _start_span(
        self, http_span: Any, facts: CallFacts, agent: str, url: Any, parent: Any
    ) -> Any:
        if parent is not None:
            context = trace.set_span_in_context(parent)
        elif getattr(http_span, "parent", None) is not None:
            context = trace.set_span_in_context(trace.NonRecordingSpan(http_span.parent))
        else:
            context = trace.set_span_in_context(http_span)  # a root HTTP span: stay in its trace
        attrs = facts.start_attributes()
        attrs[SERVER_ADDRESS] = str(url.host)
        if url.port:
            attrs[SERVER_PORT] = int(url.port)
        if agent:
            attrs[n.GEN_AI_AGENT_NAME] = agent
        return self._tracer.start_span(
            f"{facts.endpoint.operation} {facts.request_model}",
            context=context,
            kind=SpanKind.CLIENT,
            attributes=attrs,
            start_time=getattr(http_span, "start_time", None),
        )


class ObservedCall:
    """One call whose response body is being read: feeds the parser, ends the span once."""

    def __init__(
        self, span: Any, facts: CallFacts, capture: bool, content_type: str, encoding: str
    ) -> None:
        self._span = span
        self._facts = facts
        self._capture = capture
        self._parser = _PARSERS[facts.endpoint.api]
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
        try:
            if hasattr(self._inner, "aclose"):
                await self._inner.aclose()
        finally:
            self._call.finish(complete=False)


def _wrap_stream(stream: Any, call: ObservedCall, is_async: bool) -> bool:
    """Put the observer between httpx's ResponseStream and httpcore (both httpx and httpx2)."""
    inner = getattr(stream, "_httpcore_stream", None)
    if inner is None:
        return False
    stream._httpcore_stream = (_AsyncObserved if is_async else _SyncObserved)(inner, call)
    return True


def _json_body(stream: Any) -> Any:
    """The request's JSON body when it is an in-memory byte stream (never consumes others)."""
    data = getattr(stream, "_stream", None)
    if not isinstance(data, bytes | bytearray) or not data.lstrip()[:1] == b"{":
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _ask_for_stream_usage(request: Any, body: dict[str, Any]) -> None:
    """Opt-in: add stream_options.include_usage so a Chat Completions stream reports usage."""
    options = body.get("stream_options")
    if isinstance(options, dict) and "include_usage" in options:
        return  # the application decided; respect it
    body["stream_options"] = {**(options or {}), "include_usage": True}
    data = json.dumps(body).encode()
    request.stream._stream = data
    if request.headers is not None:
        request.headers["Content-Length"] = str(len(data))
