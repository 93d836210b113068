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
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from semconv import names as n
from semconv.ancestry import ActiveSpans, describes_call, inherited_agent
from semconv.observed import ObservedCall, wrap_stream
from semconv.providers import (
    ERROR_TYPE,
    SERVER_ADDRESS,
    SERVER_PORT,
    CallFacts,
    match_endpoint,
    parser_for,
)
from semconv.providers import anthropic as anthropic_api

log = logging.getLogger(__name__)

CALL_KEY = "otelspend.genai_call"  # request.extensions key between the two hooks
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
        parser = parser_for(endpoint)
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
        if not wrap_stream(response.stream, call, is_async):
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
