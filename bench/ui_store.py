"""Build a large store for the UI query benchmark: rows written directly with bulk inserts.

Realistic shape, not realistic ingest (bench/ingest.py measures that): 30 days of coding
agent sessions from a few hundred users over a dozen workspaces; each trace is one prompt
with 1–15 model calls, and every call brings four more spans (1 root + m calls + 4m−1
tool spans = exactly 5 spans per call).  Rollups are summed from the generated calls, so
they agree with llm_calls exactly; ~12 % of traces carry an evaluation tag; Claude Code's
calls carry a client-reported cost (within 1 % of ours), as its api_request events do.
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from store.tables import ROLLUP_DIMENSIONS, ROLLUP_MEASURES

NS_PER_S = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_S
DAY_S = 86_400
_CHUNK_ROWS = 50_000
_NANO_PER_USD_PER_MTOK = 1000  # $1 per million tokens = 1000 nano-USD per token
# agent -> [(provider, model, USD/Mtok input, output, cache read, weight)]: list prices.
MODELS: dict[str, list[tuple[str, str, float, float, float, float]]] = {
    "claude-code": [
        ("anthropic", "claude-sonnet-4-5", 3.0, 15.0, 0.3, 0.70),
        ("anthropic", "claude-opus-4-1", 15.0, 75.0, 1.5, 0.20),
        ("anthropic", "claude-haiku-4-5", 1.0, 5.0, 0.1, 0.10),
    ],
    "codex": [
        ("openai", "gpt-5.1-codex", 1.25, 10.0, 0.125, 0.8),
        ("openai", "gpt-5.1", 1.25, 10.0, 0.125, 0.2),
    ],
    "gemini-cli": [
        ("google", "gemini-2.5-pro", 1.25, 10.0, 0.31, 0.6),
        ("google", "gemini-2.5-flash", 0.3, 2.5, 0.075, 0.4),
    ],
    "support-bot": [
        ("openai", "gpt-4.1-mini", 0.4, 1.6, 0.1, 0.9),
        ("acme", "acme-coder-7b", 0.0, 0.0, 0.0, 0.1),  # unpriced
    ],
}
AGENT_WEIGHTS = {"claude-code": 0.5, "codex": 0.25, "gemini-cli": 0.15, "support-bot": 0.10}
CALL_COLUMNS = (
    "call_id", "org_id", "workspace_id", "user_id", "key_id", "agent", "provider",
    "request_model", "response_model", "model", "operation", "granularity", "source", "dialect",
    "billed", "start_ns", "end_ns", "minute", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
    "cost_nanousd", "client_cost_nanousd", "price_version", "unpriced_reason", "trace_id",
    "span_id", "session_id", "service_name", "created_ns",
)  # fmt: skip
SPAN_COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "name", "kind", "start_ns", "end_ns",
    "status_code", "status_message", "org_id", "workspace_id", "key_id", "service_name",
    "scope_name", "attributes", "resource", "events",
)  # fmt: skip
TOOLS = ("Read", "Edit", "Bash", "Grep", "Write", "WebFetch")


@dataclass(frozen=True, slots=True)
class Who:
    """One sender: user, workspace and key ids."""

    user_id: int
    workspace_id: int
    key_id: int


@dataclass
class Identity:
    """The bench org and its senders (with a skewed weight each)."""

    org_id: int
    senders: list[Who]
    weights: list[float]


def _insert_id(conn: Any, sql: str, **params: Any) -> int:
    conn.execute(text(sql), params)
    return int(conn.execute(text("SELECT last_insert_rowid()")).scalar_one())


def build_identity(engine: Engine, users: int, workspaces: int, rng: random.Random) -> Identity:
    """One org, `workspaces` teams, `users` people with one key each."""
    t = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        org = _insert_id(
            conn, "INSERT INTO orgs (name, timezone, created_at) VALUES ('bench', 'UTC', :t)", t=t
        )
        ws_sql = "INSERT INTO workspaces (org_id, name, created_at) VALUES (:o, :n, :t)"
        ws_ids = [
            _insert_id(conn, ws_sql, o=org, n=f"team-{w:02d}", t=t) for w in range(workspaces)
        ]
        senders = []
        for u in range(users):
            name = f"user{u:04d}@bench.example"
            uid = _insert_id(
                conn, "INSERT INTO users (org_id, name, created_at) VALUES (:o, :n, :t)",
                o=org, n=name, t=t,
            )  # fmt: skip
            ws = ws_ids[u % workspaces]
            key = _insert_id(
                conn,
                "INSERT INTO api_keys (org_id, workspace_id, user_id, prefix, key_hash, trusted,"
                " label, created_at) VALUES (:o, :w, :u, :p, :h, 0, '', :t)",
                o=org, w=ws, u=uid, p=f"osk_b{u:07d}", h=f"{u:064d}", t=t,
            )  # fmt: skip
            senders.append(Who(uid, ws, key))
    weights = [rng.paretovariate(1.5) for _ in senders]  # a few heavy users, many light ones
    return Identity(org, senders, weights)


def client_cost(cost: int, input_tokens: int) -> int:
    """What Claude Code reports for a call: our cost give or take up to 1 %."""
    return cost * (990 + input_tokens % 21) // 1000


# The same, for a store built before calls carried it (integers >= 0: / floors as // does).
CLIENT_COST_SQL = (
    "UPDATE llm_calls SET client_cost_nanousd = cost_nanousd * (990 + input_tokens % 21) / 1000 "
    "WHERE agent = 'claude-code' AND cost_nanousd IS NOT NULL AND client_cost_nanousd IS NULL"
)


def _hex(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def _session_start(rng: random.Random, now_s: int, days: int) -> int:
    """A start time weighted to working hours on weekdays (UTC)."""
    while True:
        t = now_s - rng.randrange(days * DAY_S)
        hour = (t % DAY_S) // 3600
        weekday = (t // DAY_S + 3) % 7  # 1970-01-01 was a Thursday
        weight = (1.0 if 8 <= hour < 19 else 0.15) * (1.0 if weekday < 5 else 0.2)
        if rng.random() < weight:
            return t


@dataclass
class Session:
    """Rows of one generated session."""

    calls: list[tuple[Any, ...]]
    spans: list[tuple[Any, ...]]
    traces: list[str]


class Generator:
    """Turns a seeded RNG into sessions of calls and spans."""

    def __init__(self, ident: Identity, days: int, now_s: int, rng: random.Random) -> None:
        self.ident, self.days, self.now_s, self.rng = ident, days, now_s, rng

    def call(self, who: Who, model: tuple[Any, ...], at_ns: int, ids: tuple[str, ...]) -> Any:
        """One llm_calls row (CALL_COLUMNS order)."""
        rng = self.rng
        provider, name, p_in, p_out, p_cache, _ = model
        inp, out, cached = rng.randint(200, 8000), rng.randint(50, 3000), rng.randint(0, 60000)
        rate = _NANO_PER_USD_PER_MTOK
        cost = int(rate * (inp * p_in + out * p_out + cached * p_cache))
        priced = provider != "acme"
        trace, span, session, agent = ids
        end = at_ns + rng.randint(1, 40) * NS_PER_S
        client = client_cost(cost, inp) if agent == "claude-code" else None
        return (
            f"c:{trace}:{span}", self.ident.org_id, who.workspace_id, who.user_id, who.key_id,
            agent, provider, name, name, name, "chat", "call", "span", "genai", True, at_ns, end,
            at_ns // NS_PER_MINUTE, inp, cached, 0, 0, out, 0, cost if priced else None, client,
            "bench", "" if priced else "unknown model", trace, span, session, agent, at_ns,
        )  # fmt: skip

    def span(self, who: Who, ids: tuple[str, str, str], name: str, t: tuple[int, int]) -> Any:
        """One spans row (SPAN_COLUMNS order)."""
        trace, span, parent = ids
        return (
            trace, span, parent, name, 1, t[0], t[1], 0, "", self.ident.org_id,
            who.workspace_id, who.key_id, "bench", "bench", '{"bench": true}', "{}", "[]",
        )  # fmt: skip

    def shape(self, seed: int) -> tuple[random.Random, int, list[int]]:
        """A session's RNG (positioned after its shape), start time and calls per trace."""
        rng = random.Random(seed)
        start = _session_start(rng, self.now_s, self.days)
        sizes = [max(1, min(15, int(rng.expovariate(1 / 5)))) for _ in range(rng.randint(1, 12))]
        return rng, start, sizes

    def session(self, seed: int, sizes: list[int]) -> Session:
        """One session: traces of `sizes` calls each, 5 spans per call."""
        rng, start_s, _ = self.shape(seed)
        who = rng.choices(self.ident.senders, self.ident.weights)[0]
        agent = rng.choices(list(AGENT_WEIGHTS), list(AGENT_WEIGHTS.values()))[0]
        model = rng.choices(MODELS[agent], [m[5] for m in MODELS[agent]])[0]
        session_id, t_ns = _hex(rng, 64), start_s * NS_PER_S
        out = Session([], [], [])
        for size in sizes:
            trace, root, start = _hex(rng, 128), _hex(rng, 64), t_ns
            calls = []
            for _ in range(size):
                span = _hex(rng, 64)
                calls.append(self.call(who, model, t_ns, (trace, span, session_id, agent)))
                t_ns = calls[-1][16]
                name = f"chat {model[1]}"
                out.spans.append(self.span(who, (trace, span, root), name, (calls[-1][15], t_ns)))
            out.spans.append(self.span(who, (trace, root, ""), "interaction", (start, t_ns)))
            for i in range(4 * len(calls) - 1):
                c = calls[i % len(calls)]
                tool = f"tool {rng.choice(TOOLS)}"
                out.spans.append(self.span(who, (trace, _hex(rng, 64), c[29]), tool, c[15:17]))
            out.calls += calls
            out.traces.append(trace)
            t_ns += rng.randint(20, 600) * NS_PER_S
        return out

    def plan(self, calls: int) -> list[tuple[int, int, list[int]]]:
        """(start, seed, sizes) of sessions holding exactly `calls` calls, by start time:
        rows then go in roughly in time order, as real ingest writes them."""
        out, total = [], 0
        while total < calls:
            seed = self.rng.getrandbits(63)
            _, start, sizes = self.shape(seed)
            cut: list[int] = []
            for n in sizes:  # the last session is cut to the exact total
                left = calls - total - sum(cut)
                if left <= 0:
                    break
                cut.append(min(n, left))
            out.append((start, seed, cut))
            total += sum(cut)
        return sorted(out)


def _insert(engine: Engine, table: str, cols: tuple[str, ...], rows: list[Any]) -> None:
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    with engine.begin() as conn:
        conn.exec_driver_sql(sql, rows)


def build(engine: Engine, *, calls: int, users: int, days: int, seed: int) -> int:
    """Fill an empty, migrated store with `calls` calls (5 spans each); return the org id."""
    rng = random.Random(seed)
    ident = build_identity(engine, users, max(1, users // 33), rng)
    now_s = int(time.time())
    rollup: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(ROLLUP_MEASURES))
    made, spans, started = 0, 0, time.monotonic()
    evals: list[tuple[str, bool]] = []
    pending = Session([], [], [])
    gen = Generator(ident, days, now_s, rng)
    for _, session_seed, sizes in gen.plan(calls):
        s = gen.session(session_seed, sizes)
        pending.calls += s.calls
        pending.spans += s.spans
        evals += [(t, rng.random() < 0.7) for t in s.traces if rng.random() < 0.12]
        made += len(s.calls)
        if len(pending.calls) >= _CHUNK_ROWS or made >= calls:
            for c in pending.calls:
                _roll(rollup, c)
            _insert(engine, "llm_calls", CALL_COLUMNS, pending.calls)
            _insert(engine, "spans", SPAN_COLUMNS, pending.spans)
            spans += len(pending.spans)
            pending = Session([], [], [])
            _progress(made, calls, spans, started)
        if made >= calls:
            break
    _write_rollup(engine, rollup)
    _write_evals(engine, ident.org_id, evals, now_s)
    print(file=sys.stderr)
    return ident.org_id


def _progress(made: int, total: int, spans: int, started: float) -> None:
    rate = made / max(time.monotonic() - started, 1e-9)
    line = f"\r  building: {made:>9,} calls {spans:>10,} spans ({100 * made / total:5.1f} %"
    print(f"{line}, {rate:,.0f} calls/s)", end="", file=sys.stderr, flush=True)


def _roll(rollup: dict[tuple[Any, ...], list[int]], c: tuple[Any, ...]) -> None:
    # ROLLUP_DIMENSIONS order: minute, org, workspace, user, key, agent, model
    acc = rollup[(c[17], c[1], c[2], c[3], c[4], c[5], c[9])]
    acc[0] += 1
    acc[1] += 1 if c[24] is None else 0
    acc[2] += c[18]
    acc[3] += c[19]
    acc[4] += c[20]
    acc[5] += c[22]
    acc[6] += c[23]
    acc[7] += c[24] or 0


def _write_rollup(engine: Engine, rollup: dict[tuple[Any, ...], list[int]]) -> None:
    cols = (*ROLLUP_DIMENSIONS, *ROLLUP_MEASURES)
    rows = sorted((*dims, *m) for dims, m in rollup.items())
    for i in range(0, len(rows), _CHUNK_ROWS):
        _insert(engine, "spend_minutes", cols, rows[i : i + _CHUNK_ROWS])


def _write_evals(engine: Engine, org_id: int, evals: list[tuple[str, bool]], now_s: int) -> None:
    cols = (
        "org_id", "target", "trace_id", "span_id", "response_id", "name", "source", "score",
        "label", "explanation", "error_type", "time_ns", "key_id", "updated_ns",
    )  # fmt: skip
    rows = [
        (org_id, f"trace:{t}", t, "", "", "task_success", "bench-judge", None,
         "pass" if ok else "fail", "", "", now_s * NS_PER_S, 0, 0)
        for t, ok in evals
    ]  # fmt: skip
    if rows:
        _insert(engine, "evaluations", cols, rows)
