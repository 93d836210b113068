"""Evaluation tags: rows for the store writer and the POST /v1/evaluations endpoint."""
