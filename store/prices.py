"""Price versions: stored catalog snapshots, the price book built from them, the change epoch.

Cold path only.  The ingest hot path never queries these tables per call: a refresher
compares `price_epoch` every few seconds and rebuilds the in-memory PriceBook on change.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from collector_processor.pricing.book import BEGINNING, CatalogVersion, PriceBook
from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.formats import FORMAT_GENAI_PRICES, decode, load_catalog
from collector_processor.pricing.genai_json import CatalogFormatError, providers_to_raw
from collector_processor.pricing.listing import priced_models
from store.audit import entity_path, record
from store.price_overrides import OVERRIDES, load_overrides
from store.tables import PriceVersion, utcnow
from store.tables_prices import PriceSnapshot

log = logging.getLogger(__name__)

VERSIONS: Table = PriceVersion.__table__  # type: ignore[attr-defined]
SNAPSHOTS: Table = PriceSnapshot.__table__  # type: ignore[attr-defined]
BUNDLED_SOURCE = "bundled genai-prices package"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A stored price version as listed to people."""

    id: int
    label: str
    source: str
    format: str
    effective_from: datetime
    models: int
    sha256: str
    created_at: datetime
    created_by: str


@functools.cache
def bundled_catalog() -> GenaiPricesCatalog:
    """The genai-prices data installed with otelspend (one instance per process)."""
    return GenaiPricesCatalog()


def sha256_of(body: str) -> str:
    """Identify a price file's content."""
    return hashlib.sha256(body.encode()).hexdigest()


def price_epoch(engine: Engine) -> tuple[int, ...]:
    """Changes whenever a version or an override is added or removed: one cheap query."""
    v, o = VERSIONS.c, OVERRIDES.c
    stmt = select(
        select(func.count()).select_from(VERSIONS).scalar_subquery(),
        select(func.coalesce(func.max(v.id), 0)).scalar_subquery(),
        select(func.count()).select_from(OVERRIDES).scalar_subquery(),
        select(func.coalesce(func.max(o.id), 0)).scalar_subquery(),
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return tuple(int(x) for x in row)


def list_versions(engine: Engine) -> list[VersionInfo]:
    """Every version that has a snapshot, oldest first."""
    v, s = VERSIONS.c, SNAPSHOTS.c
    stmt = (
        select(v.id, v.version, v.source, s.format, s.effective_from, s.models, s.sha256)
        .add_columns(v.created_at, s.created_by)
        .join(SNAPSHOTS, s.version_id == v.id)
        .order_by(v.id)
    )
    with engine.connect() as conn:
        return [VersionInfo(*row) for row in conn.execute(stmt)]


def ensure_bundled_version(engine: Engine, actor: str = "otelspend") -> int:
    """Store the installed genai-prices data as a version (once); return its id.

    The first version is in force since the beginning; a later package upgrade becomes a
    new version in force from the moment it is first recorded, and is audited.
    """
    catalog = bundled_catalog()
    try:
        return _ensure_bundled(engine, catalog, actor)
    except IntegrityError:  # a concurrent first start stored it: read theirs
        return _ensure_bundled(engine, catalog, actor)


def _ensure_bundled(engine: Engine, catalog: GenaiPricesCatalog, actor: str) -> int:
    with engine.begin() as conn:
        row = conn.execute(select(VERSIONS.c.id).where(VERSIONS.c.version == catalog.version))
        version_id: int | None = row.scalar()
        if version_id is not None:
            snapshot = select(SNAPSHOTS.c.version_id).where(SNAPSHOTS.c.version_id == version_id)
            if conn.execute(snapshot).first() is not None:
                return version_id
        first = conn.execute(select(func.count()).select_from(SNAPSHOTS)).scalar() == 0
        body = json.dumps(providers_to_raw(catalog.providers), separators=(",", ":"))
        effective = BEGINNING if first else utcnow()
        models = priced_models(catalog, effective)
        if version_id is None:
            version_id = _insert_version(conn, catalog.version, BUNDLED_SOURCE)
        _insert_snapshot(conn, version_id, FORMAT_GENAI_PRICES, body, effective, models, actor)
        if not first:
            after = {"label": catalog.version, "effective_from": effective, "models": models}
            record(
                conn,
                actor,
                "prices.bundled",
                entity_path("*", "price-version", version_id),
                None,
                after,
            )
        return version_id


def store_version(
    conn: Connection,
    *,
    label: str,
    fmt: str,
    body: str,
    effective_from: datetime,
    models: int,
    actor: str,
    audit: dict[str, Any],
) -> int:
    """Store an imported catalog as a new version with its audit row (caller's transaction)."""
    version_id = _insert_version(conn, label, f"{fmt} import")
    _insert_snapshot(conn, version_id, fmt, body, effective_from, models, actor)
    record(conn, actor, "prices.import", entity_path("*", "price-version", version_id), None, audit)
    return version_id


def find_version(engine: Engine, *, label: str = "", sha256: str = "") -> VersionInfo | None:
    """The stored version with this label or content, if any."""
    for info in list_versions(engine):
        if info.label == label or info.sha256 == sha256:
            return info
    return None


def _insert_version(conn: Connection, label: str, source: str) -> int:
    stmt = insert(VERSIONS).values(version=label, source=source, created_at=utcnow())
    return int(conn.execute(stmt.returning(VERSIONS.c.id)).scalar_one())


def _insert_snapshot(
    conn: Connection,
    version_id: int,
    fmt: str,
    body: str,
    effective_from: datetime,
    models: int,
    actor: str,
) -> None:
    conn.execute(
        insert(SNAPSHOTS).values(
            version_id=version_id,
            format=fmt,
            effective_from=effective_from,
            sha256=sha256_of(body),
            models=models,
            created_by=actor,
            body=body,
        )
    )


def load_price_book(engine: Engine, cache: dict[int, CatalogVersion] | None = None) -> PriceBook:
    """Every stored version and override as a PriceBook.

    `cache` keeps parsed catalogs between calls (snapshots never change), so a refresh after
    an override change parses nothing.
    """
    cache = {} if cache is None else cache
    v, s = VERSIONS.c, SNAPSHOTS.c
    meta = select(v.id, v.version, s.format, s.effective_from).join(SNAPSHOTS, s.version_id == v.id)
    with engine.connect() as conn:
        rows = conn.execute(meta).all()
        for version_id, label, fmt, effective_from in rows:
            if version_id not in cache:
                catalog = _catalog(conn, version_id, label, fmt)
                if catalog is not None:
                    cache[version_id] = CatalogVersion(version_id, label, effective_from, catalog)
        overrides = load_overrides(conn)
    versions = [cache[r[0]] for r in rows if r[0] in cache]
    if not versions:
        versions = [CatalogVersion(0, bundled_catalog().version, BEGINNING, bundled_catalog())]
    return PriceBook(versions, overrides)


def _catalog(conn: Connection, version_id: int, label: str, fmt: str) -> Any:
    bundled = bundled_catalog()
    if fmt == FORMAT_GENAI_PRICES and label == bundled.version:
        return bundled  # the installed data itself: no need to parse its snapshot
    body = conn.execute(select(SNAPSHOTS.c.body).where(SNAPSHOTS.c.version_id == version_id))
    try:
        return load_catalog(fmt, decode(body.scalar_one()), label)
    except CatalogFormatError as exc:
        # Imports are validated before they are stored; only a hand-edited row gets here.
        log.error("price version %s (%s) cannot be read and is ignored: %s", version_id, label, exc)
        return None
