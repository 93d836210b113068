"""Provider-reported spend: imports (re-importing a period replaces it), mappings, settings.

An import replaces, inside one transaction, every stored line of the same provider and kind
("cost", "usage" or "csv") whose bucket starts inside a bucket the new export covers, then
inserts the new lines: importing the same period twice never doubles it, and an export that
reports a day as empty clears that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from store.tables import Workspace, utcnow
from store.tables_evals import BilledLine, ProviderMapping, ReconcileImport, ReconcileSetting

LINES = BilledLine.__table__  # type: ignore[attr-defined]
IMPORTS = ReconcileImport.__table__  # type: ignore[attr-defined]
MAPPINGS = ProviderMapping.__table__  # type: ignore[attr-defined]
SETTINGS = ReconcileSetting.__table__  # type: ignore[attr-defined]
WORKSPACES = Workspace.__table__  # type: ignore[attr-defined]
MAPPING_KINDS = ("workspace", "api_key")
LINE_FIELDS = (
    "provider",
    "bucket_start_ns",
    "bucket_end_ns",
    "external_workspace",
    "external_api_key",
    "model",
    "description",
    "token_class",
    "cost_nanousd",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "requests",
)
# Kinds that describe the same spend: holding both for one day would count it twice.
_OVERLAPPING_KINDS = {"csv": ("cost", "usage"), "cost": ("csv",), "usage": ("csv",)}


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did."""

    import_id: int
    lines: int
    replaced_lines: int
    period_start_ns: int
    period_end_ns: int
    warnings: tuple[str, ...] = ()


def merge_intervals(covered: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Coalesce overlapping or touching (provider, start, end) buckets."""
    merged: list[tuple[str, int, int]] = []
    for provider, start, end in sorted(covered):
        if merged and merged[-1][0] == provider and start <= merged[-1][2]:
            last = merged[-1]
            merged[-1] = (provider, last[1], max(last[2], end))
        else:
            merged.append((provider, start, end))
    return merged


def import_lines(
    engine: Engine,
    org_id: int,
    *,
    kind: str,
    fmt: str,
    lines: Sequence[dict[str, Any]],
    covered: Iterable[tuple[str, int, int]],
    file_name: str = "",
    file_sha256: str = "",
) -> ImportResult:
    """Replace the covered buckets of (provider, kind) with `lines`, atomically."""
    intervals = merge_intervals(covered)
    if not intervals:
        raise ValueError("the export covers no time bucket")
    start, end = min(i[1] for i in intervals), max(i[2] for i in intervals)
    providers = sorted({i[0] for i in intervals})
    with engine.begin() as conn:
        replaced = sum(_delete_covered(conn, org_id, kind, i) for i in intervals)
        warnings = _overlap_warnings(conn, org_id, kind, intervals)
        import_id = conn.execute(
            insert(IMPORTS).returning(IMPORTS.c.id),
            {
                "org_id": org_id,
                "provider": ",".join(providers),
                "kind": kind,
                "format": fmt,
                "period_start_ns": start,
                "period_end_ns": end,
                "file_name": file_name,
                "file_sha256": file_sha256,
                "lines": len(lines),
                "replaced_lines": replaced,
                "imported_at": utcnow(),
            },
        ).scalar_one()
        rows = [{**{f: ln[f] for f in LINE_FIELDS}, "import_id": import_id} for ln in lines]
        if rows:
            conn.execute(insert(LINES), [{**r, "org_id": org_id, "kind": kind} for r in rows])
    return ImportResult(import_id, len(rows), replaced, start, end, tuple(warnings))


def _delete_covered(
    conn: Connection, org_id: int, kind: str, interval: tuple[str, int, int]
) -> int:
    provider, start, end = interval
    stmt = delete(LINES).where(
        LINES.c.org_id == org_id,
        LINES.c.provider == provider,
        LINES.c.kind == kind,
        LINES.c.bucket_start_ns >= start,
        LINES.c.bucket_start_ns < end,
    )
    return int(conn.execute(stmt).rowcount or 0)


def _overlap_warnings(
    conn: Connection, org_id: int, kind: str, intervals: list[tuple[str, int, int]]
) -> list[str]:
    """Warn when lines of a kind describing the same spend already cover these buckets."""
    found: dict[tuple[str, str], int] = {}
    for provider, start, end in intervals:
        stmt = select(LINES.c.kind, func.count()).where(
            LINES.c.org_id == org_id,
            LINES.c.provider == provider,
            LINES.c.kind.in_(_OVERLAPPING_KINDS.get(kind, ())),
            LINES.c.bucket_start_ns >= start,
            LINES.c.bucket_start_ns < end,
        )
        for other, n in conn.execute(stmt.group_by(LINES.c.kind)):
            found[(provider, other)] = found.get((provider, other), 0) + n
    return [
        f"{n} {other} line(s) of {provider} already cover these days: a CSV and an API "
        "export of the same days both count; keep one (re-import it to replace)"
        for (provider, other), n in sorted(found.items())
    ]


@dataclass(frozen=True, slots=True)
class ImportInfo:
    """A past import, as listed."""

    id: int
    provider: str
    kind: str
    format: str
    period_start_ns: int
    period_end_ns: int
    file_name: str
    lines: int
    replaced_lines: int
    imported_at: datetime


def list_imports(engine: Engine, org_id: int) -> list[ImportInfo]:
    """Imports of an org, newest first."""
    c = IMPORTS.c
    stmt = select(
        c.id, c.provider, c.kind, c.format, c.period_start_ns, c.period_end_ns, c.file_name,
        c.lines, c.replaced_lines, c.imported_at,
    ).where(c.org_id == org_id).order_by(c.id.desc())  # fmt: skip
    with engine.connect() as conn:
        return [ImportInfo(**r._mapping) for r in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class MappingInfo:
    """A provider workspace/project or API key tied to an otelspend workspace."""

    provider: str
    kind: str
    external_id: str
    workspace: str


def set_mapping(
    engine: Engine, org_id: int, provider: str, kind: str, external_id: str, workspace: str
) -> None:
    """Tie (provider, kind, external id) to an existing otelspend workspace of the org."""
    if kind not in MAPPING_KINDS:
        raise ValueError(f"kind must be one of {', '.join(MAPPING_KINDS)}")
    with engine.begin() as conn:
        ws_id = conn.execute(
            select(WORKSPACES.c.id).where(
                WORKSPACES.c.org_id == org_id, WORKSPACES.c.name == workspace
            )
        ).scalar()
        if ws_id is None:
            names = conn.execute(
                select(WORKSPACES.c.name).where(WORKSPACES.c.org_id == org_id)
            ).scalars()
            raise ValueError(f"no workspace {workspace!r}; the org has: {', '.join(names)}")
        key = {"org_id": org_id, "provider": provider, "kind": kind, "external_id": external_id}
        conn.execute(delete(MAPPINGS).where(*(MAPPINGS.c[k] == v for k, v in key.items())))
        conn.execute(insert(MAPPINGS), {**key, "workspace_id": ws_id, "created_at": utcnow()})


def remove_mapping(engine: Engine, org_id: int, provider: str, kind: str, external_id: str) -> bool:
    """Remove a mapping; False when there was none."""
    key = {"org_id": org_id, "provider": provider, "kind": kind, "external_id": external_id}
    with engine.begin() as conn:
        stmt = delete(MAPPINGS).where(*(MAPPINGS.c[k] == v for k, v in key.items()))
        return bool(conn.execute(stmt).rowcount)


def list_mappings(engine: Engine, org_id: int) -> list[MappingInfo]:
    """Mappings of an org."""
    m = MAPPINGS.c
    stmt = (
        select(m.provider, m.kind, m.external_id, WORKSPACES.c.name)
        .select_from(MAPPINGS.join(WORKSPACES, WORKSPACES.c.id == m.workspace_id))
        .where(m.org_id == org_id)
        .order_by(m.provider, m.kind, m.external_id)
    )
    with engine.connect() as conn:
        return [MappingInfo(*r) for r in conn.execute(stmt)]


def count_uncaptured_in_budgets(engine: Engine, org_id: int) -> bool:
    """Whether the org counts uncaptured spend toward its budgets (default: no)."""
    stmt = select(SETTINGS.c.count_uncaptured_in_budgets).where(SETTINGS.c.org_id == org_id)
    with engine.connect() as conn:
        return bool(conn.execute(stmt).scalar())


def set_count_uncaptured_in_budgets(engine: Engine, org_id: int, enabled: bool) -> None:
    """Switch counting uncaptured spend toward the org's and workspaces' budgets."""
    with engine.begin() as conn:
        conn.execute(delete(SETTINGS).where(SETTINGS.c.org_id == org_id))
        conn.execute(
            insert(SETTINGS),
            {"org_id": org_id, "count_uncaptured_in_budgets": enabled, "updated_at": utcnow()},
        )
