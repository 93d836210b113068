"""The otelspend UI (Streamlit): `otelspend ui` runs `streamlit run ui/app.py`.

This entry point resolves who is looking and which org is in view, then hands over to the
page the URL names.  Pages only call store queries and render (see ui/views/).
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine, select

from store.subjects import ORGS, OrgInfo, find_org, org_by_id
from store.ui_queries import latest_org
from ui import access
from ui.context import PageContext, set_context, shared_engine
from ui.settings import load_settings
from ui.state import url_value

_SCREENS = "screens"
PAGES = (
    ("overview.py", "Overview", "overview", ":material/monitoring:"),
    ("budgets.py", "Budgets", "budgets", ":material/savings:"),
    ("traces.py", "Traces", "traces", ":material/list:"),
    ("trace.py", "Trace", "trace", ":material/timeline:"),
    ("requests.py", "Requests & audit", "requests", ":material/approval:"),
    ("prices.py", "Prices", "prices", ":material/sell:"),
    ("keys.py", "Keys & onboarding", "keys", ":material/key:"),
)


def _orgs(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(n) for n in conn.execute(select(ORGS.c.name).order_by(ORGS.c.name)).scalars()]


def _org(engine: Engine, names: list[str], wanted: str) -> OrgInfo | None:
    """The org asked for, else the one with the latest spend, else the first."""
    latest = None if wanted in names else latest_org(engine)
    with engine.begin() as conn:
        if wanted in names:
            return find_org(conn, wanted)
        if latest is not None:
            return org_by_id(conn, latest)
        return find_org(conn, names[0]) if names else None


def main() -> None:
    """Resolve the viewer and the org, then run the page the URL names."""
    st.set_page_config(page_title="otelspend", page_icon="💸", layout="wide")
    settings = load_settings()
    engine = shared_engine(settings.db)
    name, cap, how = access.sign_in(settings)
    names = _orgs(engine)
    # The org sticks for the session: page links need not carry it (alert links may).
    org = _org(engine, names, url_value("org") or st.session_state.get("_org") or settings.org)
    if org is None:
        st.title("otelspend")
        st.info(
            "The store is empty: start `otelspend serve`, or load a demo with `otelspend demo`."
        )
        st.stop()
    try:
        actor = access.resolve(engine, org, name, cap, how)
    except access.AccessDenied as exc:
        st.error(f"{name} cannot see org {org.name}: {exc}")
        st.stop()
    st.session_state["_org"] = org.name
    set_context(PageContext(settings, engine, org, actor, how))
    _sidebar(names, org, actor.name, actor.role, how)
    pages = [
        st.Page(f"{_SCREENS}/{file}", title=title, url_path=path, icon=icon, default=i == 0)
        for i, (file, title, path, icon) in enumerate(PAGES)
    ]
    st.navigation(pages).run()


def _sidebar(names: list[str], org: OrgInfo, who: str, role: str, how: str) -> None:
    with st.sidebar:
        if len(names) > 1:
            picked = st.selectbox("Org", names, index=names.index(org.name))
            if picked != org.name:
                st.session_state["_org"] = picked
                st.query_params.clear()  # filters of one org mean nothing in another
                st.rerun()
        st.caption(f"Signed in as **{who}** ({role}, {how})")
        if how != "local" and st.button("Sign out"):
            access.sign_out()
            st.rerun()


main()
