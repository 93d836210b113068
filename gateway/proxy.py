"""The request path: authenticate → cap → estimate → reserve → forward → settle and record.

Streams are forwarded chunk by chunk as they arrive (aiohttp StreamResponse); usage is read
from each chunk on the way through, never from a buffered copy.  Settlement (record the call
through the writer, then release the hold) runs after the client has its answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from collector_processor.budgets.evaluate import CallScope
from collector_processor.consumer import IngestKey
from collector_processor.errors import Unauthenticated
from collector_processor.pricing.engine import Pricer
from gateway import cache as cache_rules
from gateway.config import PROVIDERS, GatewayConfig
from gateway.estimate import estimate, set_max_output
from gateway.leases import Admission, Leases
from gateway.metrics import GatewayMetrics
from gateway.providers.common import DROP_RESPONSE_HEADERS, Usage, forward_headers, parse_json
from gateway.record import CallFacts, Trace, agent_from_user_agent, session_header
from gateway.reservations import Blocked
from gateway.routes import Route
from gateway.settle import Settler, billed_usage, priced_estimate
from gateway.store_link import StoreSide
from gateway.workspaces import WorkspaceNames
from store.gateway import CachedResponse

log = logging.getLogger("otelspend.gateway")
_NO_KEY = "otelspend gateway: no API key sent; use your otelspend key as the provider API key"
_STREAM_TYPES = ("text/event-stream", "application/x-ndjson")


class GatewayError(Exception):
    """Answer the client with a provider-shaped error without calling upstream."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Prepared:
    """A request that passed auth, caps and the budget check."""

    route: Route
    key: IngestKey
    raw: bytes
    body: Any
    stream: bool
    model: str
    credential: str
    admission: Admission | None
    estimate_input: int
    cache_key: str | None
    trace: Trace
    start_ns: int
    t0: float


class GatewayProxy:
    """Owns the upstream HTTP session and the per-request logic."""

    def __init__(
        self,
        cfg: GatewayConfig,
        auth: Any,
        pricer: Pricer,
        store: StoreSide,
        names: WorkspaceNames,
        cache: cache_rules.CacheStore | None,
        metrics: GatewayMetrics,
    ) -> None:
        self.cfg, self._auth, self._pricer = cfg, auth, pricer
        self._names, self._cache = names, cache
        self.metrics = metrics
        self.leases = Leases(store, lifetime_s=cfg.lease_s, keep_warm_s=cfg.lease_keep_warm_s)
        self.settler = Settler(store, self.leases, metrics)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the upstream session (one connection pool for every request)."""
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)

    async def close(self) -> None:
        """Finish settlements, then close the upstream session."""
        await self.settler.drain()
        await self.leases.close()
        if self._session is not None:
            await self._session.close()

    async def handle(self, request: web.Request, route: Route) -> web.StreamResponse:
        """Serve one request on `route`."""
        provider = PROVIDERS[route.provider]
        try:
            prepared = await self._prepare(request, route)
        except GatewayError as exc:
            self.metrics.requests.labels(route.provider, route.operation, exc.status).inc()
            return _error(provider, exc.status, exc.message)
        try:
            return await self._forward(request, prepared)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.settler.cancel(prepared)
            message = f"otelspend gateway: upstream {route.provider} unreachable: {exc!r}"
            self.metrics.requests.labels(route.provider, route.operation, 502).inc()
            return _error(provider, 502, message)

    async def _prepare(self, request: web.Request, route: Route) -> Prepared:
        t0, start_ns = time.perf_counter(), time.time_ns()
        provider = PROVIDERS[route.provider]
        key = self._authenticate(provider.client_key(request.headers, request.query))
        workspace = await self._names.name(key.workspace_id)
        credential = self.cfg.credential(route.provider, workspace)
        if not credential:
            env = provider.CREDENTIAL_ENV
            raise GatewayError(502, f"otelspend gateway: no {route.provider} credential ({env})")
        raw = await request.read()
        body = parse_json(raw) if raw else None
        stream = route.streams(body, dict(request.query))
        trace = Trace.from_header(request.headers.get("traceparent"))
        model = route.model(body)
        p = Prepared(
            route, key, raw, body, stream, model, credential, None, 0, None, trace, start_ns, t0
        )
        if route.billable:
            await self._admit(p, workspace, request)
        return p

    def _authenticate(self, token: str | None) -> IngestKey:
        if not token:
            raise GatewayError(401, _NO_KEY)
        try:
            return self._auth.authenticate(token)  # type: ignore[no-any-return]
        except Unauthenticated:
            raise GatewayError(401, "otelspend gateway: unknown or revoked otelspend key") from None

    async def _admit(self, p: Prepared, workspace: str, request: web.Request) -> None:
        """Caps, then the cache key, then the reservation against hard budgets."""
        caps = self.cfg.caps_for(workspace, p.key.prefix)
        est = estimate(p.body, self.cfg.default_output_tokens, has_output=p.route.has_output)
        output = est.output_tokens
        if caps.max_output_tokens and output > caps.max_output_tokens and p.route.has_output:
            if caps.mode == "reject":
                self.metrics.cap_rejections.labels("max_output_tokens").inc()
                raise GatewayError(400, f"otelspend gateway: max output tokens {output} is above "
                                   f"this key's cap of {caps.max_output_tokens}")  # fmt: skip
            output = caps.max_output_tokens
            if isinstance(p.body, dict):
                set_max_output(p.body, PROVIDERS[p.route.provider].NAME, p.route.operation, output)
                p.raw = orjson.dumps(p.body)
        cost = priced_estimate(self._pricer, p, est.input_tokens, output)
        if caps.max_call_nanousd is not None and cost > caps.max_call_nanousd:
            self.metrics.cap_rejections.labels("max_call_usd").inc()
            raise GatewayError(400, f"otelspend gateway: this call may cost up to "
                               f"${cost / 1e9:.6f}, above the per-call cap of "
                               f"${caps.max_call_nanousd / 1e9:.6f}")  # fmt: skip
        p.estimate_input = est.input_tokens
        if self._cache is not None and cache_rules.qualifies(
            True, request.headers, p.body, p.stream
        ):
            p.cache_key = cache_rules.request_hash(p.route.provider, p.route.upstream_path, p.raw)
        scope = self._scope(p, request.headers.get("User-Agent", ""))
        try:
            outcome = await self.leases.admit(scope, cost)
        except Exception as exc:  # noqa: BLE001 - the store is down: fail closed, say why
            raise GatewayError(503, f"otelspend gateway: budget check failed: {exc}") from exc
        if isinstance(outcome, Blocked):
            b = outcome
            self.metrics.blocks.labels(str(b.budget_id), b.scope, b.window).inc()
            raise GatewayError(self.cfg.block_status, b.message)
        p.admission = outcome

    @staticmethod
    def _scope(p: Prepared, user_agent: str) -> CallScope:
        k = p.key
        agent = agent_from_user_agent(user_agent)
        return CallScope(k.org_id, k.workspace_id, k.user_id or 0, k.key_id, agent, p.model)

    async def _forward(self, request: web.Request, p: Prepared) -> web.StreamResponse:
        if p.cache_key is not None:
            hit = await self._cached(p)
            if hit is not None:
                return hit
        provider = PROVIDERS[p.route.provider]
        headers = forward_headers(request.headers)
        headers.update(provider.auth_headers(p.credential))
        headers["traceparent"] = p.trace.upstream_header()
        query = {k: v for k, v in request.query.items() if k != "key"}
        url = self.cfg.upstreams[p.route.provider] + p.route.upstream_path
        assert self._session is not None, "start() the proxy first"
        self.metrics.overhead_seconds.labels(p.route.provider).observe(time.perf_counter() - p.t0)
        up_start_ns, up_t0 = time.time_ns(), time.perf_counter()
        upstream = await self._session.request(
            request.method, url, params=query, headers=headers, data=p.raw or None
        )
        self.metrics.upstream_seconds.labels(p.route.provider).observe(time.perf_counter() - up_t0)
        facts = self._facts(request, p, url, up_start_ns, upstream.status)
        async with upstream:
            ctype = upstream.headers.get("Content-Type", "")
            if upstream.status < 400 and (p.stream or ctype.startswith(_STREAM_TYPES)):
                return await self._relay_stream(request, p, upstream, facts)
            return await self._relay_body(p, upstream, facts)

    def _facts(
        self, request: web.Request, p: Prepared, url: str, up_start_ns: int, status: int
    ) -> CallFacts:
        return CallFacts(
            p.key, PROVIDERS[p.route.provider].NAME, p.route.operation, p.model, Usage(),
            p.trace, p.start_ns, 0, up_start_ns, time.time_ns(), url, status,
            request.headers.get("User-Agent", ""), False,
            p.admission.estimate if p.admission else 0, session_header(request.headers),
        )  # fmt: skip

    async def _relay_body(
        self, p: Prepared, upstream: aiohttp.ClientResponse, facts: CallFacts
    ) -> web.Response:
        data = await upstream.read()
        provider = PROVIDERS[p.route.provider]
        usage = (
            provider.json_usage(parse_json(data), p.route.operation) if p.route.billable else None
        )
        facts.end_ns = time.time_ns()
        facts.usage = usage or Usage()
        headers = _response_headers(upstream)
        self.metrics.requests.labels(p.route.provider, p.route.operation, upstream.status).inc()
        if p.cache_key is not None and upstream.status == 200 and usage is not None:
            ctype = headers.get("Content-Type", "application/json")
            self.settler.cache_after(self._cache, p, CachedResponse(200, ctype, data, 0))
        self.settler.settle(p, facts, usage is not None and upstream.status < 400)
        return web.Response(body=data, status=upstream.status, headers=headers)

    async def _relay_stream(
        self, request: web.Request, p: Prepared, upstream: aiohttp.ClientResponse, facts: CallFacts
    ) -> web.StreamResponse:
        provider = PROVIDERS[p.route.provider]
        sse = "event-stream" in upstream.headers.get("Content-Type", "")
        if p.route.provider == "gemini":
            parser = provider.stream_parser(p.route.operation, sse)  # type: ignore[call-arg]
        else:
            parser = provider.stream_parser(p.route.operation)
        out = web.StreamResponse(status=upstream.status, headers=_response_headers(upstream))
        self.metrics.requests.labels(p.route.provider, p.route.operation, upstream.status).inc()
        try:
            await out.prepare(request)
            async for chunk in upstream.content.iter_any():
                parser.feed(chunk)
                await out.write(chunk)  # at once: the client sees tokens as they come
            await out.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            facts.abandoned = True  # the client went away: bill what was consumed
            raise
        finally:
            facts.end_ns = time.time_ns()
            facts.usage = billed_usage(parser.usage, p.estimate_input, facts.abandoned)
            self.settler.settle(p, facts, True)
        return out

    async def _cached(self, p: Prepared) -> web.Response | None:
        assert self._cache is not None and p.cache_key is not None
        hit = await asyncio.to_thread(self._cache.get, p.key.workspace_id, p.cache_key)
        self.metrics.cache.labels("hit" if hit else "miss").inc()
        if hit is None:
            return None
        self.settler.cancel(p)  # nothing was spent: drop the hold
        self.metrics.cache_saved_nanousd.inc(hit.cost_nanousd)
        self.metrics.requests.labels(p.route.provider, p.route.operation, hit.status).inc()
        headers = {"Content-Type": hit.content_type, "x-otelspend-cache": "hit"}
        return web.Response(body=hit.body, status=hit.status, headers=headers)


def _response_headers(upstream: aiohttp.ClientResponse) -> dict[str, str]:
    return {k: v for k, v in upstream.headers.items() if k.lower() not in DROP_RESPONSE_HEADERS}


def _error(provider: Any, status: int, message: str) -> web.Response:
    return web.json_response(provider.error_body(status, message), status=status)


__all__ = ["CachedResponse", "GatewayError", "GatewayProxy", "Prepared"]
