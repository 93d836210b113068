"""Workspace names by id (per-workspace credentials and caps are configured by name)."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from store.subjects import subject_names


class WorkspaceNames:
    """A process-lifetime cache: workspace names do not change under a running gateway."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._names: dict[int, str] = {}

    async def name(self, workspace_id: int) -> str:
        """The name of a workspace ("" if unknown)."""
        found = self._names.get(workspace_id)
        if found is None:
            found = await asyncio.to_thread(self._load, workspace_id)
            self._names[workspace_id] = found
        return found

    def _load(self, workspace_id: int) -> str:
        with self._engine.connect() as conn:
            return subject_names(conn, "workspace", [workspace_id]).get(workspace_id, "")
