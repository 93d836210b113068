"""One call that makes a Python agent report every model call to otelspend.

    import semconv
    semconv.instrument()          # or run the agent under `otelspend-run python agent.py`

It configures the OpenTelemetry SDK (a TracerProvider with a BatchSpanProcessor and an OTLP
exporter, unless the application already set one up, which is then reused) and instruments
httpx and httpx2 (the HTTP clients of the openai, anthropic and google-genai SDKs, LangChain
and most agent frameworks) with semconv.httpx_hooks.  Only spans that carry GenAI or LLM
attributes are exported to otelspend: the application's other spans stay private.

Settings, first found wins: the keyword arguments; the OTELSPEND_* variables
(OTELSPEND_ENDPOINT, OTELSPEND_KEY, OTELSPEND_AGENT_NAME, OTELSPEND_INJECT_STREAM_USAGE); the
standard OTEL_EXPORTER_OTLP_* variables (read by the exporter itself); the client config file
(OTELSPEND_CLIENT_CONFIG, default ~/.config/otelspend/client.toml, keys: endpoint, key,
protocol, agent_name, service_name, capture_content, inject_stream_usage).  Prompt and
completion text is recorded only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
"""

from __future__ import annotations

import logging
import os
import threading
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from semconv.agent_env import (
    ENV_AGENT_NAME,
    ENV_CAPTURE_CONTENT,
    ENV_CLIENT_CONFIG,
    ENV_ENDPOINT,
    ENV_INJECT_STREAM_USAGE,
    ENV_KEY,
)
from semconv.ancestry import ActiveSpans
from semconv.httpx_hooks import GenAiHooks

log = logging.getLogger(__name__)

DEFAULT_CLIENT_CONFIG = Path("~/.config/otelspend/client.toml")
SCOPE_NAME = "otelspend.semconv.httpx"
_TRUE = frozenset({"1", "true", "yes", "on", "span_only", "span_and_event"})
_EXPORTED_PREFIXES = ("gen_ai.", "llm.", "openinference.")
_lock = threading.Lock()
_active: Instrumentation | None = None


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Resolved agent-side settings ("" / None = leave it to the OTEL_* variables)."""

    endpoint: str = ""
    key: str = ""
    protocol: str = ""
    service_name: str = ""
    agent_name: str = ""
    capture_content: bool = False
    inject_stream_usage: bool = False


@dataclass
class Instrumentation:
    """What instrument() set up; shutdown() flushes and undoes it (tests, re-configuration)."""

    provider: TracerProvider
    processor: BatchSpanProcessor
    spans: ActiveSpans
    hooks: GenAiHooks
    instrumentors: Sequence[Any]
    owns_provider: bool

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every finished span now."""
        return self.processor.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush, un-instrument httpx/httpx2 and stop the exporter."""
        global _active
        for instrumentor in self.instrumentors:
            instrumentor.uninstrument()
        self.processor.shutdown()
        self.spans.shutdown()
        with _lock:
            if _active is self:
                _active = None


class GenAiOnlyExporter(SpanExporter):
    """Forward only spans with GenAI/LLM attributes: otelspend needs nothing else."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export the GenAI spans of the batch (an empty batch is a success)."""
        chosen = [s for s in spans if _is_genai(s.attributes)]
        return self._inner.export(chosen) if chosen else SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the wrapped exporter."""
        return self._inner.force_flush(timeout_millis)


def instrument(
    *,
    endpoint: str | None = None,
    key: str | None = None,
    service_name: str | None = None,
    agent_name: str | None = None,
    capture_content: bool | None = None,
    inject_stream_usage: bool | None = None,
    tracer_provider: TracerProvider | None = None,
    exporter: SpanExporter | None = None,
) -> Instrumentation | None:
    """Configure the SDK and the httpx hooks once per process; None when OTEL_SDK_DISABLED."""
    global _active
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    with _lock:
        if _active is None:
            given = ClientSettings(
                endpoint or "", key or "", "", service_name or "", agent_name or ""
            )
            settings = resolve_settings(given, os.environ, capture_content, inject_stream_usage)
            _active = _set_up(settings, tracer_provider, exporter)
        return _active


def _set_up(
    settings: ClientSettings, given: TracerProvider | None, exporter: SpanExporter | None
) -> Instrumentation:
    """Add the span processors to the provider and instrument the HTTP clients."""
    provider, owns = _provider(given, settings)
    spans = ActiveSpans()  # first, so it sees every span start before the exporter does
    provider.add_span_processor(spans)
    processor = BatchSpanProcessor(GenAiOnlyExporter(exporter or build_exporter(settings)))
    provider.add_span_processor(processor)
    hooks = GenAiHooks(
        provider.get_tracer(SCOPE_NAME),
        spans,
        capture_content=settings.capture_content,
        agent_name=settings.agent_name,
        inject_stream_usage=settings.inject_stream_usage,
    )
    instrumentors = _instrument_http_clients(provider, hooks)
    return Instrumentation(provider, processor, spans, hooks, instrumentors, owns)


def resolve_settings(
    given: ClientSettings,
    env: Mapping[str, str],
    capture_content: bool | None = None,
    inject_stream_usage: bool | None = None,
) -> ClientSettings:
    """Merge arguments > OTELSPEND_* env > client config file (see the module docstring)."""
    path = Path(env.get(ENV_CLIENT_CONFIG) or DEFAULT_CLIENT_CONFIG).expanduser()
    file = _read_config(path)

    def pick(value: str, env_name: str, file_key: str) -> str:
        return value or env.get(env_name, "") or str(file.get(file_key) or "")

    def flag(value: bool | None, env_name: str, file_key: str) -> bool:
        if value is not None:
            return value
        if env_name in env:
            return env[env_name].strip().lower() in _TRUE
        return bool(file.get(file_key, False))

    return ClientSettings(
        endpoint=pick(given.endpoint, ENV_ENDPOINT, "endpoint").rstrip("/"),
        key=pick(given.key, ENV_KEY, "key"),
        protocol=str(file.get("protocol") or ""),
        service_name=given.service_name or str(file.get("service_name") or ""),
        agent_name=pick(given.agent_name, ENV_AGENT_NAME, "agent_name"),
        capture_content=flag(capture_content, ENV_CAPTURE_CONTENT, "capture_content"),
        inject_stream_usage=flag(
            inject_stream_usage, ENV_INJECT_STREAM_USAGE, "inject_stream_usage"
        ),
    )


def build_exporter(settings: ClientSettings) -> SpanExporter:
    """An OTLP span exporter: explicit endpoint/key when given, else the OTEL_* variables."""
    protocol = (
        (
            settings.protocol
            or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or "http/protobuf"
        )
        .strip()
        .lower()
    )
    headers = {"authorization": f"Bearer {settings.key}"} if settings.key else None
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        target = settings.endpoint or None
        insecure = True if target and target.startswith("http://") else None
        return GrpcExporter(endpoint=target, headers=headers, insecure=insecure)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if protocol not in ("http/protobuf", "http"):
        log.warning(
            "otelspend: OTLP protocol %r is not supported here; using http/protobuf", protocol
        )
    url = f"{settings.endpoint}/v1/traces" if settings.endpoint else None
    return OTLPSpanExporter(endpoint=url, headers=headers)


def _provider(
    given: TracerProvider | None, settings: ClientSettings
) -> tuple[TracerProvider, bool]:
    """The provider to use: the caller's, the application's global SDK one, or a new one."""
    if given is not None:
        return given, False
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current, False
    attrs = {SERVICE_NAME: settings.service_name} if settings.service_name else {}
    provider = TracerProvider(resource=Resource.create(attrs))
    trace.set_tracer_provider(provider)
    return provider, True


def _instrument_http_clients(provider: TracerProvider, hooks: GenAiHooks) -> list[Any]:
    """Instrument whichever of httpx / httpx2 is installed with the GenAI hooks."""
    from opentelemetry.instrumentation.httpx import (
        HTTPX2ClientInstrumentor,
        HTTPXClientInstrumentor,
    )

    done = []
    for cls in (HTTPXClientInstrumentor, HTTPX2ClientInstrumentor):
        if cls._module is None:
            continue  # that client library is not installed
        instrumentor = cls()
        if instrumentor.is_instrumented_by_opentelemetry:
            log.info("otelspend: re-instrumenting %s with the GenAI hooks", cls._module_name)
            instrumentor.uninstrument()
        instrumentor.instrument(
            tracer_provider=provider,
            request_hook=hooks.request_hook,
            response_hook=hooks.response_hook,
            async_request_hook=hooks.async_request_hook,
            async_response_hook=hooks.async_response_hook,
        )
        done.append(instrumentor)
    return done


def _read_config(path: Path) -> dict[str, Any]:
    """The client config file's keys ({} when absent; a broken file is reported, not fatal)."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("otelspend: ignoring client config %s: %s", path, exc)
        return {}


def _is_genai(attrs: Mapping[str, Any] | None) -> bool:
    return bool(attrs) and any(k.startswith(_EXPORTED_PREFIXES) for k in attrs or ())
