"""Keys & onboarding: create (shown once) and revoke ingest keys, and download the onboarding
bundle of each coding CLI for a new key (files from otelspend.onboard)."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import streamlit as st

from otelspend.onboard import CLIENTS, Identity, OnboardSpec, bundle_files
from otelspend.onboard_bundle import install_notes
from store.identity import create_key, list_keys, revoke_key
from ui.context import PageContext, page_context
from ui.fmt import when
from ui.widgets import empty_state

_NEW_KEY = "_new_key"  # session_state: (token, user, workspace) of the key just created


def render() -> None:
    """Draw the Keys & onboarding page."""
    ctx = page_context()
    st.title("Keys & onboarding")
    if ctx.is_admin:
        _create(ctx)
    _just_created(ctx)
    _list(ctx)


def _list(ctx: PageContext) -> None:
    st.subheader("Keys")
    keys = [k for k in list_keys(ctx.engine, include_revoked=True) if k.org == ctx.org.name]
    if not ctx.is_admin:
        mine = {n for n in (ctx.actor.name,)}
        keys = [k for k in keys if k.user in mine]
    if not keys:
        empty_state(ctx, "keys")
        return
    df = pd.DataFrame(
        {
            "prefix": [k.prefix for k in keys],
            "workspace": [k.workspace for k in keys],
            "user": [k.user or "—" for k in keys],
            "trusted": [k.trusted for k in keys],
            "label": [k.label for k in keys],
            "created": [when(k.created_at, ctx.zone) for k in keys],
            "revoked": [when(k.revoked_at, ctx.zone) if k.revoked_at else "" for k in keys],
        }
    )
    st.dataframe(df, hide_index=True, width="stretch", key="keys_table")
    live = [k.prefix for k in keys if k.revoked_at is None]
    if ctx.is_admin and live:
        with st.form("revoke"):
            prefix = st.selectbox("Revoke a key", live)
            sure = st.checkbox("Yes: agents using it are refused within 5 seconds")
            if st.form_submit_button("Revoke") and sure:
                ok = revoke_key(ctx.engine, prefix)
                st.success(f"Revoked {prefix}.") if ok else st.error(f"{prefix} is not live.")


def _create(ctx: PageContext) -> None:
    st.subheader("New key")
    with st.form("create_key"):
        a, b, c = st.columns(3)
        workspace = a.text_input("Workspace (team)", value="default")
        user = b.text_input("User (person or agent)", placeholder="alice@example.com")
        label = c.text_input("Label", placeholder="laptop")
        trusted = st.checkbox(
            "Trusted shared sender (gateway / collector): telemetry names the user"
        )
        if st.form_submit_button("Create key", type="primary"):
            if not workspace.strip():
                st.error("A key needs a workspace.")
                return
            token, _ = create_key(
                ctx.engine,
                org=ctx.org.name,
                workspace=workspace.strip(),
                user=user.strip() or None,
                trusted=trusted,
                label=label.strip(),
            )
            st.session_state[_NEW_KEY] = (token, user.strip(), workspace.strip())


def _just_created(ctx: PageContext) -> None:
    held = st.session_state.get(_NEW_KEY)
    if not held:
        return
    token, user, workspace = held
    st.success("Key created. Copy it now: it is stored hashed and cannot be shown again.")
    st.code(token, language=None)
    st.download_button(
        "Download onboarding bundles (Claude Code, Codex, Gemini CLI)",
        data=bundle_zip(ctx.settings.otlp_http, token, user, workspace),
        file_name=f"otelspend-onboarding-{user or workspace}.zip",
        mime="application/zip",
        type="primary",
    )
    if st.button("I have stored the key"):
        del st.session_state[_NEW_KEY]
        st.rerun()


def bundle_zip(server: str, token: str, user: str, workspace: str) -> bytes:
    """A zip with each client's config files and install notes, for one key."""
    identity = Identity(
        user=user or workspace, workspace=workspace, email=user if "@" in user else ""
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for client in CLIENTS:
            spec = OnboardSpec(
                client=client, server=server.rstrip("/"), key=token, identity=identity
            )
            files = bundle_files(spec)
            for f in files:
                z.writestr(f"{client}/{f.name}", f.content)
            z.writestr(f"{client}/INSTALL.txt", install_notes(spec, files))
    return out.getvalue()
