"""Who is looking: local actor on loopback, else OIDC (st.login) or a configured password.

- Bound to loopback: no sign-in; the UI acts as the local actor exactly as the CLI does
  (`--as` / OTELSPEND_ACTOR, else the login name; the first actor of an org without
  members becomes its admin).
- Bound elsewhere: sign-in is required.  With an `[auth]` section in Streamlit's secrets,
  Streamlit's OIDC login (st.login) names the person by e-mail; otherwise the `[ui]`
  password of the config file (members) or `admin_password` (admins) with a name.  A
  signed-in name is only ever a member or admin through the members table (no bootstrap),
  and the member password never grants admin, whatever the name.
"""

from __future__ import annotations

import getpass
import hmac
from dataclasses import replace

import streamlit as st
from sqlalchemy import Engine, func, select

from store.members import MEMBERS, Actor, PermissionDenied, resolve_actor
from store.subjects import OrgInfo
from ui.settings import UiSettings

_SIGNED_IN = "_signed_in"  # session_state: (name, "admin" | "member", how)


class AccessDenied(Exception):
    """The person may not see this org; the message says what an admin can do."""


def oidc_configured() -> bool:
    """Streamlit's built-in OIDC is set up ([auth] in .streamlit/secrets.toml)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, OSError):
        return False


def sign_in(settings: UiSettings) -> tuple[str, str, str]:
    """(name, most a password allows, how); renders a sign-in screen and stops if needed."""
    if settings.local:
        return settings.actor or getpass.getuser(), "admin", "local"
    if oidc_configured():
        if not st.user.is_logged_in:
            st.title("otelspend")
            st.info("Sign in to see spend.")
            st.button("Sign in", on_click=st.login, type="primary")
            st.stop()
        name = str(st.user.get("email") or st.user.get("name") or "")
        return name, "admin", "oidc"
    if settings.password_login:
        held = st.session_state.get(_SIGNED_IN)
        if held:
            return held  # type: ignore[no-any-return]
        _password_form(settings)
        st.stop()
    st.error(
        f"This UI listens on {settings.host}, so it needs sign-in, and none is configured. "
        "Add Streamlit OIDC (`[auth]` in .streamlit/secrets.toml) or a password "
        '(`[ui] password = "…"` in otelspend.toml), or bind it to 127.0.0.1.'
    )
    st.stop()


def _password_form(settings: UiSettings) -> None:
    st.title("otelspend")
    with st.form("sign_in"):
        name = st.text_input("Your name (as in `otelspend members list`)")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            level = _level(settings, password)
            if level and name.strip():
                st.session_state[_SIGNED_IN] = (name.strip(), level, "password")
                st.rerun()
            st.error("Wrong name or password.")


def _level(settings: UiSettings, password: str) -> str:
    """'admin' / 'member' for a matching password ('' for none); constant-time compares."""
    given = password.encode()
    if settings.admin_password and hmac.compare_digest(given, settings.admin_password.encode()):
        return "admin"
    if settings.password and hmac.compare_digest(given, settings.password.encode()):
        return "member"
    return ""


def sign_out() -> None:
    """Forget the password sign-in (OIDC: st.logout)."""
    if oidc_configured():
        st.logout()
    st.session_state.pop(_SIGNED_IN, None)


def resolve(engine: Engine, org: OrgInfo, name: str, cap: str, how: str) -> Actor:
    """The actor for `name` in `org`, its role capped by what the sign-in allows."""
    with engine.begin() as conn:
        if how != "local":
            members = conn.execute(
                select(func.count()).where(MEMBERS.c.org_id == org.id)
            ).scalar_one()
            if not members:  # never let a signed-in stranger bootstrap themselves to admin
                raise AccessDenied(
                    f"org {org.name} has no members yet: an admin runs "
                    f"`otelspend members add {name} --role admin --org {org.name}`"
                )
        try:
            actor = resolve_actor(conn, org, name)
        except PermissionDenied as exc:
            raise AccessDenied(str(exc)) from exc
    if actor.is_admin and cap != "admin":
        actor = replace(actor, role="member")
    return actor
