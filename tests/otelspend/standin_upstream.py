"""A local stand-in for the OpenAI, Anthropic and Gemini HTTP APIs, for end-to-end tests.

    with StandinUpstream(anthropic=AnthropicUsage(input_tokens=10)) as upstream:
        client = anthropic.Anthropic(base_url=upstream.url, api_key="x")
        ...
        assert upstream.paths() == ["/v1/messages"]

It binds 127.0.0.1 only, answers every model call with the configured usage (so the expected
tokens and dollars are known exactly), streams Server-Sent Events chunk by chunk, and records
every request it received.  Routes: Anthropic POST /v1/messages (+ /count_tokens); OpenAI
POST /v1/chat/completions, /v1/responses, /v1/completions, /v1/embeddings, GET /v1/models;
Gemini POST /v1beta/models/{model}:generateContent | :streamGenerateContent | :countTokens.
With `gate_streams=True` a stream pauses after its first text delta until `release()`, which
lets a test prove that a client sees chunks before the stream ends.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.otelspend import standin_bodies as bodies
from tests.otelspend.standin_bodies import AnthropicUsage, GeminiUsage, OpenAIUsage

__all__ = ["AnthropicUsage", "GeminiUsage", "OpenAIUsage", "ReceivedRequest", "StandinUpstream"]

_START_TIMEOUT_S = 30.0
_GATE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the stand-in answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # decoded JSON, or None


@dataclass
class StandinUpstream:
    """The stand-in server; start() binds a free port on 127.0.0.1 (or `port`).

    `anthropic` / `openai` / `gemini`: usage every call of that API reports.
    `reply`: the assistant text.  `response_model`: the model reported back ("" echoes the
    requested one).  `first_byte_delay_s`: pause before answering a model call (a provider's
    time to first token).  `chunk_delay_s`: pause between streamed events.  `tool_calls`: a chat
    request that offers tools gets a call of the first tool until a tool result is sent
    (a minimal agent loop).  `compress`: gzip the non-streaming JSON answers.  A request for
    a model named like "http-429" is answered with that HTTP status.
    """

    anthropic: AnthropicUsage = field(default_factory=AnthropicUsage)
    openai: OpenAIUsage = field(default_factory=OpenAIUsage)
    gemini: GeminiUsage = field(default_factory=GeminiUsage)
    reply: str = "Hi! How can I help?"
    response_model: str = ""
    first_byte_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    gate_streams: bool = False
    tool_calls: bool = False
    compress: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[ReceivedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the stand-in upstream binds loopback only")
        self._gate = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash (clients add /v1/... themselves)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> StandinUpstream:
        """Serve in a background thread; returns once the port is bound."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(_START_TIMEOUT_S)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._gate.set()
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> StandinUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def release(self) -> None:
        """Let gated streams finish."""
        self._gate.set()

    def paths(self) -> list[str]:
        """Paths of the requests received so far, in order."""
        return [r.path for r in self.requests]

    def model_calls(self) -> list[ReceivedRequest]:
        """The requests that were model calls (those a provider would bill)."""
        return [r for r in self.requests if bodies.is_model_call(r.method, r.path)]

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.requests.append(
            ReceivedRequest(
                request.method, request.path, dict(request.query), dict(request.headers), body
            )
        )
        route = bodies.route(request.method, request.path)
        if route is None:
            return web.json_response({"error": {"message": f"no route {request.path}"}}, status=404)
        kind, model_in_path = route
        if self.first_byte_delay_s and bodies.is_model_call(request.method, request.path):
            await asyncio.sleep(self.first_byte_delay_s)
        payload = body if isinstance(body, dict) else {}
        model = self.response_model or model_in_path or str(payload.get("model") or "")
        if model.startswith("http-") and model[5:].isdigit():  # e.g. "http-429": fail on demand
            error = {"type": "error", "error": {"type": "standin", "message": f"as asked: {model}"}}
            return web.json_response(error, status=int(model[5:]))
        if kind == "gemini" and request.path.endswith(":streamGenerateContent"):
            return await self._stream(request, bodies.gemini_events(self, model))
        if payload.get("stream"):
            return await self._stream(request, bodies.stream_events(kind, self, model, payload))
        response = web.json_response(bodies.json_body(kind, self, model, payload))
        if self.compress:
            response.enable_compression(web.ContentCoding.gzip)
        return response

    async def _stream(
        self, request: web.Request, events: list[tuple[str | None, dict[str, Any] | str]]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        first_delta_sent = False
        for name, data in events:
            text = data if isinstance(data, str) else json.dumps(data)
            head = f"event: {name}\n" if name else ""
            await response.write(f"{head}data: {text}\n\n".encode())
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
            if self.gate_streams and not first_delta_sent and bodies.is_text_delta(name, data):
                first_delta_sent = True
                await _wait_for(self._gate.wait)
        await response.write_eof()
        return response


async def _wait_for(blocking: Callable[[float], bool]) -> None:
    """Wait on a threading primitive without blocking the event loop."""
    waited: Awaitable[bool] = asyncio.to_thread(blocking, _GATE_TIMEOUT_S)
    await waited
