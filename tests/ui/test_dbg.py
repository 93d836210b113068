from tests.ui.test_pages import run_page
def test_dbg(ui_env):
    at = run_page("overview")
    d = at.dataframe[3]
    print("FIELDS", [f.name for f, v in d.proto.ListFields() if f.name != "arrow_data"], [(f.name, v) for f, v in d.proto.ListFields() if f.name in ("id", "form_id")])
