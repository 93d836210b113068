"""`otelspend demo`: a realistic company's month of agent traffic, through the real ingest path.

It starts the real server in-process on free loopback ports and POSTs OTLP/protobuf with each
person's key — decode, normalize, price, attribute, write, budgets and alerts all run as in
production.  Only the traffic is synthetic (seeded, so a seed gives the same company): work
happens on weekdays in office hours of the org's zone, one person overspends today, one
session runs away in the last minutes, the support bot sometimes calls an unpriced custom
model and its conversations carry evaluation tags.
"""

from __future__ import annotations

import asyncio
import http.client
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from collector_processor.budgets.evaluator import BUDGET_CACHE_S
from otelspend.demo_company import ZONE, Company, Person, build_company, set_budgets
from otelspend.demo_traffic import Traffic
from otelspend.server import ServeConfig, start_server

_FLUSH_SPANS = 400


@dataclass(frozen=True)
class DemoSpec:
    """How big a company, over how many days, from which seed."""

    days: int = 30
    users: int = 40
    seed: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.days <= 400 or not 3 <= self.users <= 2000:
            raise ValueError("--days must be 1..400 and --users 3..2000")


@dataclass
class DemoResult:
    """What was sent."""

    requests: int = 0
    spans: int = 0
    logs: int = 0


class Sender:
    """POSTs OTLP bodies to the local server over one keep-alive connection."""

    def __init__(self, port: int, engine: Engine) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.engine = engine
        self.result = DemoResult()

    def post(self, signal: str, key: str, body: bytes) -> None:
        """Send one export request; raise on anything but 200 (the demo must be complete)."""
        headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {key}"}
        for _ in range(20):  # 429: the write queue is full, retry as an exporter would
            self.conn.request("POST", f"/v1/{signal}", body, headers)
            resp = self.conn.getresponse()
            text = resp.read()
            if resp.status != 429:
                break
            threading.Event().wait(0.2)
        if resp.status != 200:
            raise RuntimeError(f"/v1/{signal} answered {resp.status}: {text[:200]!r}")
        self.result.requests += 1


def _days(spec: DemoSpec, now: datetime) -> list[datetime]:
    """Local midnights of the demo's days, oldest first, today last."""
    today = now.astimezone(ZoneInfo(ZONE)).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=d) for d in range(spec.days - 1, -1, -1)]


def _session_starts(
    p: Person, day: datetime, now: datetime, rng: random.Random
) -> Iterator[datetime]:
    if day.weekday() >= 5 and rng.random() > 0.15:
        return
    for _ in range(max(0, round(rng.gauss(p.sessions_per_day, 0.8)))):
        start = day + timedelta(hours=rng.uniform(8.5, 18.5))
        if start < now - timedelta(minutes=30):
            yield start


def run_demo(db: str, spec: DemoSpec, progress: Callable[[int, int], None]) -> DemoResult:
    """Create the company in `db` and send its traffic; progress(done, total) per day."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    cfg = ServeConfig(db=db, otlp_grpc_port=0, otlp_http_port=0, decode_workers=0)
    running = asyncio.run_coroutine_threadsafe(start_server(cfg), loop).result(120)
    try:
        rng = random.Random(spec.seed)
        company = build_company(running.engine, spec.users, rng)
        sender = Sender(running.http_port, running.engine)
        _send_all(sender, company, spec, rng, progress)
        return sender.result
    finally:
        asyncio.run_coroutine_threadsafe(running.stop(), loop).result(120)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _send_all(
    sender: Sender, company: Company, spec: DemoSpec, rng: random.Random,
    progress: Callable[[int, int], None],
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    days = _days(spec, now)
    traffic = Traffic(rng)
    for i, day in enumerate(days):
        if i == len(days) - 1:
            # Budgets start with today: alerts concern current windows, and evaluating budgets
            # on every commit of the backfill would only slow it down.
            set_budgets(sender.engine, company)
            time.sleep(BUDGET_CACHE_S * 2)  # the evaluator re-reads budgets this often
        for p in company.people:
            starts = list(_session_starts(p, day, now, rng))
            if p is company.overspender and day == days[-1]:
                starts += [now - timedelta(hours=h) for h in (5, 4, 3, 2)]  # a heavy day
            for start in starts:
                traffic.session(p.key, p.agent, start, heavy=p is company.overspender)
            _flush(sender, traffic, force=False)
        for _ in range(rng.randint(6, 14)):  # the support bot works every day
            start = day + timedelta(hours=rng.uniform(7, 21))
            if start < now - timedelta(minutes=10):
                traffic.bot_conversation(company.bot_key, start)
        traffic.evaluations(company.evaluator_key)
        _flush(sender, traffic, force=True)
        progress(i + 1, len(days) + 1)
    traffic.runaway(company.runaway.key, now)
    _flush(sender, traffic, force=True)
    progress(len(days) + 1, len(days) + 1)


def _flush(sender: Sender, traffic: Traffic, *, force: bool) -> None:
    for (key, agent), batch in list(traffic.pending.items()):
        if force or len(batch.spans) >= _FLUSH_SPANS:
            if batch.spans:
                sender.post("traces", key, traffic.encode_spans(batch))
                sender.result.spans += len(batch.spans)
            if batch.logs:
                sender.post("logs", key, traffic.encode_logs(batch))
                sender.result.logs += len(batch.logs)
            del traffic.pending[(key, agent)]
