"""Directory put first on PYTHONPATH by `otelspend-run`; only its sitecustomize matters."""
