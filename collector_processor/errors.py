"""The one error taxonomy of the ingest path; receivers map it to HTTP and gRPC codes."""

from __future__ import annotations


class IngestError(Exception):
    """Base of every error a receiver turns into a protocol answer."""


class InvalidInput(IngestError):
    """The request can never succeed as sent (HTTP 400 / INVALID_ARGUMENT); not retryable."""


class DecodeError(InvalidInput):
    """The body could not be decoded as the announced OTLP message."""


class UnsupportedMediaType(IngestError):
    """The Content-Type is not an OTLP encoding we accept (HTTP 415)."""


class PayloadTooLarge(IngestError):
    """The body exceeds the configured limit (HTTP 413 / RESOURCE_EXHAUSTED)."""


class Unauthenticated(IngestError):
    """No valid ingest key (HTTP 401 / UNAUTHENTICATED)."""


class Overloaded(IngestError):
    """The bounded write queue is full; retry later (HTTP 429 / RESOURCE_EXHAUSTED)."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(IngestError):
    """The store failed or is shutting down; retryable (HTTP 503 / UNAVAILABLE)."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
