"""What every page needs: the store, the org in view and who is looking (set by ui/app.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st
from sqlalchemy import Engine

from store.engine import make_engine
from store.members import Actor
from store.subjects import OrgInfo
from ui.settings import UiSettings

_KEY = "_page_context"


@dataclass(frozen=True)
class PageContext:
    """The store, the org, the viewer and the UI's settings."""

    settings: UiSettings
    engine: Engine
    org: OrgInfo
    actor: Actor
    how: str  # local | oidc | password

    @property
    def is_admin(self) -> bool:
        """Admins see and do everything in the org."""
        return self.actor.is_admin

    @property
    def own_users(self) -> tuple[int, ...]:
        """() for admins (no restriction); a member sees only their own user's spend."""
        if self.is_admin:
            return ()
        return (self.actor.user_id if self.actor.user_id is not None else -1,)

    @property
    def zone(self) -> str:
        """The org's IANA zone: every time on the pages is shown in it."""
        return self.org.timezone

    def now(self) -> datetime:
        """The current instant (aware UTC)."""
        return datetime.now(UTC)


@st.cache_resource(show_spinner=False)
def shared_engine(db: str) -> Engine:
    """One engine (connection pool) per database for the whole UI process."""
    return make_engine(db)


def set_context(ctx: PageContext) -> None:
    """Called by ui/app.py before the page runs."""
    st.session_state[_KEY] = ctx


def page_context() -> PageContext:
    """The context ui/app.py resolved for this run."""
    ctx = st.session_state.get(_KEY)
    if not isinstance(ctx, PageContext):
        st.error("Open otelspend through its main page.")
        st.stop()
    return ctx
