"""Which budgets apply to a call (pure): defaults vs exceptions, filters, most restrictive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector_processor.budgets.evaluate import (
    BudgetCheck,
    BudgetState,
    CallScope,
    applicable,
)
from collector_processor.budgets.windows import window_at
from store.budgets import Budget

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
USD = 1_000_000_000
ORG, WS, ALICE, BOB, ALICE_KEY, BOB_KEY = 1, 10, 100, 101, 1000, 1001
_next_id = iter(range(1, 1000))


def budget(scope: str, scope_id: int, window: str = "day", limit: int = 50, **kw: object) -> Budget:
    fields: dict[str, object] = {
        "agent": "",
        "model": "",
        "mode": "soft",
        "thresholds": (50, 80, 100),
        "until": None,
    }
    fields.update(kw)
    return Budget(
        next(_next_id),
        ORG,
        scope,
        scope_id,
        str(fields["agent"]),
        str(fields["model"]),
        window,
        limit * USD,
        str(fields["mode"]),
        fields["thresholds"],  # type: ignore[arg-type]
        fields["until"],
        "admin",
        NOW,
        NOW,  # type: ignore[arg-type]
    )


def call(
    user: int = ALICE,
    key: int = ALICE_KEY,
    agent: str = "claude-code",
    model: str = "claude-sonnet-4-5",
) -> CallScope:
    return CallScope(ORG, WS, user, key, agent, model)


def ids(pairs: list[tuple[Budget, int]]) -> set[tuple[int, int]]:
    return {(b.id, s) for b, s in pairs}


DEFAULT_USER_DAY = budget("user", 0, limit=50)
ALICE_DAY = budget("user", ALICE, limit=200)
ORG_MONTH = budget("org", ORG, "month", 1000)
CODEX_DEFAULT = budget("user", 0, limit=10, agent="codex")
WS_WEEK = budget("workspace", WS, "week", 500)
BOB_KEY_HOUR = budget("key", BOB_KEY, "hour", 5, mode="hard")
ALL = [DEFAULT_USER_DAY, ALICE_DAY, ORG_MONTH, CODEX_DEFAULT, WS_WEEK, BOB_KEY_HOUR]


def test_exception_replaces_the_default_for_its_subject_only() -> None:
    alice = ids(applicable(ALL, call(), NOW))
    assert alice == {(ALICE_DAY.id, ALICE), (ORG_MONTH.id, ORG), (WS_WEEK.id, WS)}
    bob = ids(applicable(ALL, call(BOB, BOB_KEY), NOW))
    assert bob == {
        (DEFAULT_USER_DAY.id, BOB),
        (ORG_MONTH.id, ORG),
        (WS_WEEK.id, WS),
        (BOB_KEY_HOUR.id, BOB_KEY),
    }


def test_default_applies_to_a_user_nobody_has_seen_before() -> None:
    newcomer = ids(applicable(ALL, call(999, 9999), NOW))
    assert (DEFAULT_USER_DAY.id, 999) in newcomer


def test_agent_and_model_filters() -> None:
    codex = ids(applicable(ALL, call(BOB, BOB_KEY, agent="codex"), NOW))
    assert {(CODEX_DEFAULT.id, BOB), (DEFAULT_USER_DAY.id, BOB)} <= codex
    by_model = budget("user", ALICE, limit=5, model="gpt-5")
    assert by_model not in {b for b, _ in applicable([by_model], call(), NOW)}
    assert applicable([by_model], call(model="gpt-5"), NOW) == [(by_model, ALICE)]


def test_a_filtered_exception_does_not_replace_an_unfiltered_default() -> None:
    alice_cc = budget("user", ALICE, limit=20, agent="claude-code")
    got = ids(applicable([DEFAULT_USER_DAY, alice_cc], call(), NOW))
    assert got == {(DEFAULT_USER_DAY.id, ALICE), (alice_cc.id, ALICE)}


def test_expired_exception_hands_back_to_the_default() -> None:
    ended = budget("user", ALICE, limit=200, until=NOW - timedelta(seconds=1))
    live = budget("user", ALICE, limit=200, until=NOW + timedelta(days=1))
    assert ids(applicable([DEFAULT_USER_DAY, ended], call(), NOW)) == {(DEFAULT_USER_DAY.id, ALICE)}
    assert ids(applicable([DEFAULT_USER_DAY, live], call(), NOW)) == {(live.id, ALICE)}


def test_other_orgs_budgets_never_apply() -> None:
    foreign = Budget(999, 2, "org", 2, "", "", "day", USD, "hard", (100,), None, "", NOW, NOW)
    assert applicable([foreign], call(), NOW) == []


def state(b: Budget, spent: int, limit: int | None = None) -> BudgetState:
    w = window_at(b.window, NOW, "UTC")
    lim = b.limit_nanousd if limit is None else limit * USD
    return BudgetState(b, 0, w, lim, spent * USD, 0, w.start, NOW)


def test_most_restrictive_is_the_least_money_left() -> None:
    # Alice's day has $50 left of $200; the org's month only $30 of $1000: the org decides.
    check = BudgetCheck((state(ALICE_DAY, 150), state(ORG_MONTH, 970), state(WS_WEEK, 10)))
    assert check.most_restrictive is not None
    assert check.most_restrictive.budget is ORG_MONTH
    assert not check.blocked  # all soft


def test_only_a_used_up_hard_budget_blocks() -> None:
    assert BudgetCheck((state(BOB_KEY_HOUR, 5), state(ORG_MONTH, 2000))).blocked
    assert not BudgetCheck((state(BOB_KEY_HOUR, 4), state(ORG_MONTH, 2000))).blocked
    assert BudgetCheck(()).most_restrictive is None


def test_threshold_crossing_is_integer_exact() -> None:
    s = state(DEFAULT_USER_DAY, 0)
    just_below = BudgetState(s.budget, 0, s.window, 50 * USD, 25 * USD - 1, 0, s.window.start, NOW)
    assert not just_below.crossed(50)
    at_half = BudgetState(s.budget, 0, s.window, 50 * USD, 25 * USD, 0, s.window.start, NOW)
    assert at_half.crossed(50) and not at_half.crossed(80)
