"""Run by Python at start-up in a program launched by `otelspend-run`: instrument it.

Python imports the first `sitecustomize` on sys.path; `otelspend-run` puts this directory
first.  After instrumenting, the directory leaves PYTHONPATH (programs this one starts are not
instrumented unless they are run under otelspend-run too, as with opentelemetry-instrument)
and sys.path, and the sitecustomize this one shadowed, if any, is run as usual.
"""

import importlib
import os
import sys


def _bootstrap() -> None:
    """Instrument the process; a failure is reported and never stops the program."""
    here = os.path.dirname(os.path.abspath(__file__))
    kept = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != here]
    if kept:
        os.environ["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        os.environ.pop("PYTHONPATH", None)
    try:
        import semconv

        semconv.instrument()
    except Exception as exc:  # a missing dependency must not break the application
        print(
            f"otelspend-run: model calls of this program are NOT reported: {exc!r} "
            f"(is otelspend installed in {sys.executable}'s environment?)",
            file=sys.stderr,
        )
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.modules.pop("sitecustomize", None)
    try:
        importlib.import_module("sitecustomize")
    except ImportError:
        pass


_bootstrap()
