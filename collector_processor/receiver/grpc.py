"""The OTLP/gRPC receiver: TraceService, LogsService and MetricsService Export."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc

from collector_processor.consumer import Authenticator, Consumer
from collector_processor.receiver import status
from collector_processor.receiver.signals import (
    ENCODING_PROTOBUF,
    SIGNALS,
    Signal,
    bearer_token,
    export_request,
)

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024

ExportMethod = Callable[[bytes, grpc.aio.ServicerContext], Awaitable[bytes]]


async def start_grpc_server(
    consumer: Consumer,
    auth: Authenticator,
    *,
    host: str,
    port: int,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> tuple[grpc.aio.Server, int]:
    """Start the OTLP/gRPC server on host:port (0 picks a free port); return it and its port."""
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
    server = grpc.aio.server(
        options=[
            # gRPC checks this after decompression too, so a compressed bomb is refused as well.
            ("grpc.max_receive_message_length", max_body_bytes),
            # Without this a second server on a taken port binds silently (SO_REUSEPORT).
            ("grpc.so_reuseport", 0),
        ]
    )
    server.add_generic_rpc_handlers(
        tuple(_service_handler(signal, consumer, auth) for signal in SIGNALS)
    )
    bound_port = server.add_insecure_port(_address(host, port))
    await server.start()
    return server, bound_port


def _address(host: str, port: int) -> str:
    """Format host:port, bracketing IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _service_handler(
    signal: Signal, consumer: Consumer, auth: Authenticator
) -> grpc.GenericRpcHandler:
    """Return the generic handler of one signal's service."""
    # No (de)serializers: the raw request bytes go through the same decode path as HTTP.
    method = grpc.unary_unary_rpc_method_handler(
        _export_method(signal, consumer, auth),
        request_deserializer=None,
        response_serializer=None,
    )
    return grpc.method_handlers_generic_handler(signal.grpc_service, {"Export": method})


def _export_method(signal: Signal, consumer: Consumer, auth: Authenticator) -> ExportMethod:
    """Return the Export implementation of one signal."""

    async def export(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        try:
            key = auth.authenticate(bearer_token(_metadata_value(context, "authorization")))
            response = await export_request(signal, consumer, key, request, ENCODING_PROTOBUF)
            return response.SerializeToString()
        except Exception as exc:  # every failure becomes a status, never a crash
            answer = status.answer_for(exc)
        context.set_trailing_metadata(status.grpc_trailing_metadata(answer))
        await context.abort(answer.grpc_code, answer.message)
        raise AssertionError("unreachable: abort() raises")

    return export


def _metadata_value(context: grpc.aio.ServicerContext, name: str) -> str | None:
    """Return the first value of an invocation metadata key (keys arrive lower-cased)."""
    for key, value in context.invocation_metadata() or ():
        if key == name:
            return value if isinstance(value, str) else value.decode()
    return None
