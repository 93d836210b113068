"""Trace: a waterfall of every span with per-span cost, tokens by class, model, duration,
errors and evaluation tags; totals; the session it belongs to; raw attributes on demand."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from store.ui_trace_detail import SpanView, TraceDetail, pretty_json, trace_detail
from ui import charts
from ui.context import PageContext, page_context
from ui.fmt import dollars, duration, money, tokens, when
from ui.state import url_value
from ui.widgets import chart_and_table, money_column

_TOKEN_CLASSES = (
    ("input_tokens", "input (uncached)"),
    ("cache_read_tokens", "cache read"),
    ("cache_write_tokens", "cache write"),
    ("output_tokens", "output"),
    ("reasoning_tokens", "of which reasoning"),
)


def render() -> None:
    """Draw the Trace page for ?id=TRACE_ID."""
    ctx = page_context()
    trace_id = url_value("id").strip().lower()
    st.title("Trace")
    if not trace_id:
        st.info("Open a trace from the Traces page (or put its id in the URL: `trace?id=…`).")
        st.page_link("screens/traces.py", label="Costliest traces", icon=":material/list:")
        return
    detail = trace_detail(ctx.engine, ctx.org.id, trace_id)
    if detail is None or not _may_see(ctx, detail):
        st.warning(f"No trace {trace_id} in {ctx.org.name} that you may see.")
        return
    st.caption(f"`{trace_id}`")
    _totals(ctx, detail)
    _waterfall(ctx, detail)
    _tags(ctx, detail)
    _raw(detail)


def _may_see(ctx: PageContext, d: TraceDetail) -> bool:
    """Members see traces of their own spend only."""
    return ctx.is_admin or any(c.user_id in ctx.own_users for c in d.calls)


def _totals(ctx: PageContext, d: TraceDetail) -> None:
    start = min([s.start_ns for s in d.spans] + [c.start_ns for c in d.calls])
    end = max([s.end_ns for s in d.spans] + [c.end_ns for c in d.calls])
    a, b, c, e, f = st.columns(5)
    a.metric("Cost", money(d.cost_nanousd))
    b.metric(
        "Model calls",
        len([x for x in d.calls if x.billed]),
        f"{d.unpriced_calls} unpriced" if d.unpriced_calls else None,
        delta_color="off",
    )
    c.metric("Duration", duration(end - start))
    e.metric("Spans", len(d.spans))
    f.metric("Errors", d.errors)
    users = sorted({d.names["user"].get(x.user_id, str(x.user_id)) for x in d.calls})
    keys = sorted({d.names["key"].get(x.key_id, str(x.key_id)) for x in d.calls})
    agents = sorted({x.agent for x in d.calls if x.agent})
    st.markdown(
        f"**Started** {when(start, ctx.zone)} · **user** {', '.join(users) or '—'} · "
        f"**key** {', '.join(keys) or '—'} · **agent** {', '.join(agents) or '—'}"
    )
    tok = " · ".join(f"{label} **{tokens(d.tokens(name))}**" for name, label in _TOKEN_CLASSES)
    st.markdown(f"Tokens: {tok}")
    for session in d.session_ids:
        st.page_link(
            "screens/traces.py",
            label=f"Session {session}: all its traces",
            icon=":material/forum:",
            query_params={"session": session, "range": "30d"},
        )


def _kind(s: SpanView) -> str:
    if s.is_error:
        return "error"
    if s.call is None:
        return "tool / other"
    return "unpriced call" if s.call.cost_nanousd is None else "model call"


def _labels(spans: list[SpanView]) -> list[str]:
    """Indented span names, made unique (the waterfall's y axis needs one per row)."""
    seen: Counter[str] = Counter()
    out = []
    for s in spans:
        base = f"{'· ' * s.depth}{s.name or '(unnamed)'}"
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base} #{seen[base]}")
    return out


def _frame(d: TraceDetail) -> pd.DataFrame:
    t0 = min(s.start_ns for s in d.spans)
    rows = []
    for label, s in zip(_labels(d.spans), d.spans, strict=True):
        call = s.call
        rows.append(
            {
                "label": label,
                "start_ms": (s.start_ns - t0) / 1e6,
                "end_ms": (s.end_ns - t0) / 1e6,
                "kind": _kind(s),
                "duration": duration(s.end_ns - s.start_ns),
                "cost": money(call.cost_nanousd) if call else "",
                "cost_usd": dollars(call.cost_nanousd) if call else None,
                "model": call.model if call else "",
                "input": call.input_tokens if call else None,
                "cache_read": call.cache_read_tokens if call else None,
                "cache_write": call.cache_write_tokens if call else None,
                "output": call.output_tokens if call else None,
                "reasoning": call.reasoning_tokens if call else None,
                "tokens": _token_text(s),
                "status": f"ERROR {s.status_message}".strip() if s.is_error else "ok",
                "span_id": s.span_id,
            }
        )
    return pd.DataFrame(rows)


def _token_text(s: SpanView) -> str:
    c = s.call
    if c is None:
        return ""
    return (
        f"in {c.input_tokens:,} · cache read {c.cache_read_tokens:,} · "
        f"cache write {c.cache_write_tokens:,} · out {c.output_tokens:,}"
    )


def _waterfall(ctx: PageContext, d: TraceDetail) -> None:
    st.subheader("Waterfall")
    if not d.spans:
        st.info("No spans were stored for this trace (its calls came as log events); the calls:")
        st.dataframe(
            pd.DataFrame(
                [
                    c.__dict__
                    if hasattr(c, "__dict__")
                    else {f: getattr(c, f) for f in c.__slots__}
                    for c in d.calls
                ]
            ),
            hide_index=True,
        )
        return
    df = _frame(d)
    table = df.drop(columns=["start_ms", "end_ms", "cost", "tokens"])
    chart_and_table(
        charts.waterfall(df),
        table,
        {
            "label": "span",
            "cost_usd": money_column("cost", precise=True),
            "cache_read": "cache read",
            "cache_write": "cache write",
        },
        key="waterfall",
        ratio=(1, 1),
    )


def _tags(ctx: PageContext, d: TraceDetail) -> None:
    st.subheader("Evaluation tags")
    if not d.tags:
        st.caption(
            "No evaluation of this trace yet (send `gen_ai.evaluation.result` events, or "
            "`otelspend eval tag`)."
        )
        return
    st.dataframe(
        pd.DataFrame(
            {
                "name": [t.name for t in d.tags],
                "label": [t.label for t in d.tags],
                "score": [t.score for t in d.tags],
                "span": [t.span_id or "(whole trace)" for t in d.tags],
                "source": [t.source for t in d.tags],
                "explanation": [t.explanation for t in d.tags],
                "at": [when(t.time_ns, ctx.zone) if t.time_ns else "" for t in d.tags],
            }
        ),
        hide_index=True,
        width="stretch",
        key="tags",
    )


def _raw(d: TraceDetail) -> None:
    if not d.spans:
        return
    labels = _labels(d.spans)
    with st.expander("Raw attributes"):
        pick = st.selectbox(
            "Span", range(len(labels)), format_func=labels.__getitem__, key="raw_span"
        )
        s = d.spans[pick]
        st.caption(
            f"span {s.span_id} · parent {s.parent_span_id or '—'} · service {s.service_name}"
        )
        st.code(pretty_json(s.attributes), language="json")
        st.code(pretty_json(s.resource), language="json")
        if s.events not in ("", "[]"):
            st.code(pretty_json(s.events), language="json")
