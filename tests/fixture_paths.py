"""Where the real-client OTLP fixtures live: ../shared beside the repository (as CI lays it
out), overridable with OTELSPEND_FIXTURES for other layouts."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
REAL_CLIENTS = Path(
    os.environ.get("OTELSPEND_FIXTURES", _REPO.parent / "shared" / "fixtures" / "real-clients")
)
