"""POST /v1/evaluations on the OTLP/HTTP app: rows handed to the writer, every refusal."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any, cast

import pytest
import requests
from aiohttp import web

from collector_processor.consumer import ExportOutcome
from collector_processor.evaluations.http import evaluation_routes
from collector_processor.receiver.http import build_http_app
from collector_processor.testing import (
    LoopThread,
    RecordingConsumer,
    StaticAuthenticator,
    make_ingest_key,
)
from store.writer import QueueFull, StoreWriter, WriteBatch, WriterClosed

KEY = make_ingest_key(7, org_id=3, prefix="osk_judge123")
BEARER = {"Authorization": "Bearer sk-judge", "Content-Type": "application/json"}
TRACE, SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


class FakeWriter:
    """Stands in for StoreWriter: records batches, or fails as configured."""

    def __init__(self) -> None:
        self.batches: list[WriteBatch] = []
        self.error: Exception | None = None
        self.commit_error: Exception | None = None

    def submit(self, batch: WriteBatch) -> Future[Any]:
        if self.error is not None:
            raise self.error
        fut: Future[Any] = Future()
        if self.commit_error is not None:
            fut.set_exception(self.commit_error)
        else:
            self.batches.append(batch)
            fut.set_result(None)
        return fut


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    with LoopThread() as lt:
        yield lt


@pytest.fixture
def served(loop_thread: LoopThread) -> Iterator[tuple[str, FakeWriter]]:
    writer = FakeWriter()
    routes = evaluation_routes(
        cast(StoreWriter, writer), StaticAuthenticator({"sk-judge": KEY}), max_body_bytes=4096
    )
    app = build_http_app(
        RecordingConsumer(ExportOutcome()), StaticAuthenticator({}), extra_routes=routes
    )
    runner = web.AppRunner(app)
    loop_thread.run(runner.setup())
    loop_thread.run(web.TCPSite(runner, "127.0.0.1", 0).start())
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/v1/evaluations", writer
    loop_thread.run(runner.cleanup())


def _post(url: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(url, data=data, headers=BEARER if headers is None else headers, timeout=10)


def test_a_batch_is_committed_and_refused_items_are_listed(
    served: tuple[str, FakeWriter],
) -> None:
    url, writer = served
    body = {
        "evaluations": [
            {
                "trace_id": TRACE,
                "span_id": SPAN,
                "name": "correctness",
                "label": "fail",
                "score": 0,
            },
            {"response_id": "chatcmpl-9", "name": "relevance", "score": 0.9, "source": "nightly"},
            {
                "trace_id": TRACE,
                "gen_ai.evaluation.name": "toxicity",  # semconv attribute names work too
                "gen_ai.evaluation.score.value": 0.01,
                "time": "2026-11-02T10:00:00Z",
            },
            {"trace_id": TRACE, "label": "pass"},  # no name
            "nonsense",
        ]
    }
    resp = _post(url, body)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "accepted": 3,
        "rejected": 2,
        "errors": [
            {"index": 3, "reason": "gen_ai.evaluation.name is required"},
            {"index": 4, "reason": "each evaluation must be a JSON object"},
        ],
    }
    (batch,) = writer.batches
    assert batch.org_id == 3
    first, second, third = batch.evaluations
    assert (first["target"], first["source"], first["key_id"]) == (
        f"span:{TRACE}:{SPAN}",
        "api:osk_judge123",
        7,
    )
    assert (second["target"], second["source"]) == ("response:chatcmpl-9", "nightly")
    assert (third["target"], third["time_ns"]) == (f"trace:{TRACE}", 1_793_613_600 * 10**9)


def test_a_bare_list_and_gzip_are_accepted(served: tuple[str, FakeWriter]) -> None:
    url, writer = served
    items = [{"trace_id": TRACE, "name": "n", "label": "pass"}]
    gz = gzip.compress(json.dumps(items).encode())
    resp = _post(url, gz, {**BEARER, "Content-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.json() == {"accepted": 1, "rejected": 0}
    assert len(writer.batches) == 1
    assert _post(url, []).json() == {"accepted": 0, "rejected": 0}
    assert len(writer.batches) == 1  # nothing to write: the writer is not woken


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ({"evaluations": []}, {"Content-Type": "application/json"}, 401, "missing ingest key"),
        ({"evaluations": []}, {**BEARER, "Authorization": "Bearer nope"}, 401, "unknown"),
        ({"evaluations": []}, {**BEARER, "Content-Type": "text/csv"}, 415, "application/json"),
        (b"{not json", BEARER, 400, "not valid JSON"),
        ({"evaluations": {"a": 1}}, BEARER, 400, "must be"),
        (b"x" * 5000, BEARER, 413, "exceeds the limit"),
    ],
)
def test_refusals(
    served: tuple[str, FakeWriter],
    body: Any,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    url, writer = served
    resp = _post(url, body, headers)
    assert resp.status_code == status
    assert message in resp.json()["error"]
    assert writer.batches == []


def test_backpressure_and_store_failures(served: tuple[str, FakeWriter]) -> None:
    url, writer = served
    body = [{"trace_id": TRACE, "name": "n", "label": "pass"}]
    writer.error = QueueFull("write queue full (64 batches)")
    resp = _post(url, body)
    assert (resp.status_code, resp.headers["Retry-After"]) == (429, "1")
    writer.error = WriterClosed("the store writer is shutting down")
    assert _post(url, body).status_code == 503
    writer.error, writer.commit_error = None, RuntimeError("disk full")
    resp = _post(url, body)
    assert resp.status_code == 503 and "RuntimeError" in resp.json()["error"]


def test_construction_validates() -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        evaluation_routes(
            cast(StoreWriter, FakeWriter()), StaticAuthenticator({}), max_body_bytes=0
        )
