from tests.ui.test_pages import run_page
def test_dbg(ui_env):
    at = run_page("overview")
    print("METRICS", [(m.label, m.value, m.delta) for m in at.metric])
    print("DFS", [d.key for d in at.dataframe])
    print("INFO", [i.value for i in at.info])
    print("TABS", len(at.tabs))
