"""Every page of the UI, rendered by Streamlit's AppTest on known data: the figures shown,
the URL deep links and the role rules (see conftest.py for the data and its exact costs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import T1, T2, T3, KnownStore

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")


def run_page(page: str, params: dict[str, Any] | None = None) -> AppTest:
    """Render one page (as $OTELSPEND_ACTOR) and fail on any exception."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page != "overview":
        at.switch_page(f"screens/{page}.py")
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Metric label -> value shown."""
    return {m.label: m.value for m in at.metric}


# AppTest does not expose a dataframe's key: tables are told apart by their columns.
SIGNATURES = {
    "series_table": {"start", "usd", "calls"},
    "budgets_table": {"budget", "why"},
    "alerts_table": {"kind", "message", "link"},
    "traces_table": {"trace", "open", "outcome"},
    "sessions_table": {"session", "traces", "open"},
    "waterfall_table": {"label", "kind", "cost_usd"},
    "tags": {"label", "explanation", "source"},
    "requests_table": {"reason", "status", "amount"},
    "audit_table": {"action", "entity"},
    "unpriced_table": {"first seen", "traces"},
    "keys_table": {"prefix", "trusted"},
}
BREAKDOWNS = ("agent", "workspace", "user", "key", "model")  # tab order on the Overview


def table(at: AppTest, key: str) -> Any:
    """The DataFrame of the st.dataframe rendered with this key."""
    frames = [d.value for d in at.dataframe]
    if key.startswith("by_"):
        groups = [f for f in frames if {"name", "usd", "share"} <= set(f.columns)]
        return groups[BREAKDOWNS.index(key[3:-6])]
    found = [f for f in frames if SIGNATURES[key] <= set(f.columns)]
    assert len(found) == 1, (key, [list(f.columns) for f in frames])
    return found[0]


def has_table(at: AppTest, key: str) -> bool:
    """Whether the page shows this table."""
    return any(SIGNATURES[key] <= set(d.value.columns) for d in at.dataframe)


def test_overview_shows_exact_spend_against_the_org_budget(ui_env: KnownStore) -> None:
    at = run_page("overview")
    shown = metrics(at)
    assert shown["Today"] == "$0.1380"
    assert shown["This month"] == "$0.1380"
    [month] = [m for m in at.metric if m.label == "This month"]
    assert month.delta == "0.1% of $100.00 org budget"
    users = table(at, "by_user_table")
    assert list(users["name"]) == ["alice", "bob"]
    assert list(users["usd"]) == [pytest.approx(0.126), pytest.approx(0.012)]
    agents = table(at, "by_agent_table")
    assert dict(zip(agents["name"], agents["unpriced"], strict=True)) == {
        "claude-code": 0,
        "support-bot": 1,
    }
    series = table(at, "series_table")
    assert series["usd"].sum() == pytest.approx(0.138)


def test_overview_filters_live_in_the_url(ui_env: KnownStore) -> None:
    at = run_page("overview", {"agent": "support-bot", "range": "24h"})
    assert metrics(at)["Today"] == "$0.0120"
    assert at.query_params["agent"] == "support-bot"
    assert at.query_params["range"] == "24h"


def test_a_member_sees_only_their_own_spend(
    ui_env: KnownStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELSPEND_ACTOR", "alice")
    at = run_page("overview")
    assert metrics(at)["Today"] == "$0.1260"
    assert "User" not in [m.label for m in at.multiselect]
    traces = table(run_page("traces"), "traces_table")
    assert set(traces["trace"]) == {T1, T2}
    assert "Audit log" not in [h.value for h in run_page("requests").subheader]
    trace = run_page("trace", {"id": T3})  # bob's trace
    assert any("that you may see" in w.value for w in trace.warning)


def test_budgets_page_lists_states_and_why_links(ui_env: KnownStore) -> None:
    at = run_page("budgets")
    df = table(at, "budgets_table")
    row = df[df["budget"] == f"#{ui_env.user_budget_id} user alice (default)"].iloc[0]
    assert row["status"] == "blocked" and row["spent_usd"] == pytest.approx(0.126)
    assert row["why"].startswith(f"traces?budget={ui_env.user_budget_id}&user=alice&window_start=")
    assert metrics(at)["Used up"] == "1"
    alerts = (
        table(at, "alerts_table") if any(d.key == "alerts_table" for d in at.dataframe) else None
    )
    assert alerts is None or set(alerts["kind"]) <= {"threshold", "projected", "unpriced_model"}


def test_the_webhook_link_opens_the_costliest_traces_of_the_budget(ui_env: KnownStore) -> None:
    from datetime import UTC, datetime, timedelta

    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    at = run_page(
        "traces",
        {
            "budget": str(ui_env.user_budget_id),
            "user": "alice",
            "window_start": day.isoformat(),
            "window_end": (day + timedelta(days=1)).isoformat(),
            "sort": "cost",
        },
    )
    assert metrics(at)["Spent in this window"] == "$0.1260"
    df = table(at, "traces_table")
    assert list(df["trace"]) == [T2, T1]
    assert list(df["cost"]) == [pytest.approx(0.09), pytest.approx(0.036)]
    assert list(df["open"]) == [f"trace?id={T2}", f"trace?id={T1}"]
    sessions = table(at, "sessions_table")
    assert list(sessions["session"]) == ["sess-a"] and sessions["traces"][0] == 2


def test_traces_filters_outcome_and_unpriced(ui_env: KnownStore) -> None:
    passed = table(run_page("traces", {"outcome": "pass"}), "traces_table")
    assert list(passed["trace"]) == [T1]
    failed = table(run_page("traces", {"outcome": "fail"}), "traces_table")
    assert list(failed["trace"]) == [T3]
    unpriced = table(
        run_page("traces", {"unpriced": "1", "model": "acme-coder-7b"}), "traces_table"
    )
    assert list(unpriced["trace"]) == [T3] and list(unpriced["unpriced"]) == [1]
    costly = table(run_page("traces", {"min_cost": "0.05"}), "traces_table")
    assert list(costly["trace"]) == [T2]


def test_trace_page_shows_the_waterfall_costs_and_tags(ui_env: KnownStore) -> None:
    at = run_page("trace", {"id": T1})
    shown = metrics(at)
    assert shown["Cost"] == "$0.0360"
    assert shown["Model calls"] == "2" and shown["Spans"] == "4" and shown["Errors"] == "1"
    spans = table(at, "waterfall_table")
    assert list(spans["kind"]) == ["tool / other", "model call", "error", "model call"]
    assert spans["cost_usd"].sum() == pytest.approx(0.036)
    tags = table(at, "tags")
    assert list(tags["label"]) == ["pass"]


def test_requests_member_files_admin_approves_audited(
    ui_env: KnownStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELSPEND_ACTOR", "alice")
    at = run_page(
        "requests", {"budget": str(ui_env.user_budget_id), "subject": "alice", "trace": T2}
    )
    form_traces = [t for t in at.text_input if t.label.startswith("Traces")][0]
    assert form_traces.value == T2
    [why] = [t for t in at.text_area]
    why.input("refactoring the billing service")
    at.button[0].click().run()
    assert any("filed" in s.value for s in at.success), [e.value for e in at.error]
    monkeypatch.setenv("OTELSPEND_ACTOR", "boss")
    admin = run_page("requests")
    pending = table(admin, "requests_table")
    assert list(pending["status"]) == ["pending"] and pending["amount"][0] == pytest.approx(25)
    [approve] = [b for b in admin.button if b.label == "Approve"]
    approve.click().run()
    audit = table(admin, "audit_table")
    assert "request.approve" in set(audit["action"])


def test_prices_page_lists_the_unpriced_model(ui_env: KnownStore) -> None:
    at = run_page("prices")
    df = table(at, "unpriced_table")
    assert list(df["model"]) == ["acme-coder-7b"] and list(df["calls"]) == [1]
    assert df["traces"][0] == "traces?model=acme-coder-7b&unpriced=1&range=30d"


def test_keys_admin_creates_a_key_shown_once_member_cannot(
    ui_env: KnownStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_page("keys")
    [user] = [t for t in at.text_input if t.label.startswith("User")]
    user.input("carol")
    [create] = [b for b in at.button if b.label == "Create key"]
    create.click().run()
    assert at.code[0].value.startswith("osk_")
    assert "carol" in set(table(at, "keys_table")["user"])
    monkeypatch.setenv("OTELSPEND_ACTOR", "alice")
    member = run_page("keys")
    assert not [b for b in member.button if b.label == "Create key"]
    assert set(table(member, "keys_table")["user"]) == {"alice"}


def test_sign_in_is_required_off_loopback(
    ui_env: KnownStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELSPEND_UI_HOST", "0.0.0.0")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("needs sign-in" in e.value for e in at.error)
    monkeypatch.setenv("OTELSPEND_UI_PASSWORD", "member-pw")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input("boss")
    at.text_input[1].input("member-pw")
    at.button[0].click().run()
    at.run()
    # boss is an admin, but the member password never grants admin
    assert any("(member, password)" in c.value for c in at.sidebar.caption)
