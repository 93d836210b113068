"""GenAI semantic conventions: dialect normalizers (server side) and agent instrumentation.

`semconv.instrument()` is loaded lazily so the server never imports the OpenTelemetry SDK.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "instrument":
        from semconv.instrumentation import instrument

        return instrument
    raise AttributeError(f"module 'semconv' has no attribute {name!r}")
