"""`otelspend prices ...` as a person uses it: listings, JSON, diffs and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from otelspend.cli import main
from store.engine import make_engine
from store.identity import create_key
from store.migrate import upgrade
from store.prices import ensure_bundled_version
from tests.store.test_prices_reprice import Store, call


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--db", db])


def ok(db: str, *args: str) -> str:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def db(sqlite_url: str) -> str:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    create_key(engine, org="acme", workspace="platform", user="alice")
    engine.dispose()
    return sqlite_url


def test_list_one_model_as_calls_are_priced(db: str) -> None:
    out = ok(db, "prices", "list", "--model", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
             "--provider", "aws.bedrock", "--at", "2026-01-15")  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == (
        "aws/regional.anthropic.claude-sonnet-4-5-20250929-v1:0 at 2026-01-15, "
        "USD per million tokens"
    )
    assert lines[1] == "  source          genai-prices 0.2.3 (price version #1)"
    assert "  input           3.3" in lines and "  reasoning       = output" in lines


def test_list_json_shows_tiers_and_service_tiers(db: str) -> None:
    row = json.loads(ok(db, "prices", "list", "--model", "claude-sonnet-4-5", "--json",
                        "--at", "2026-11-15"))  # fmt: skip
    rates = row["rates_usd_per_mtok"]
    assert (rates["input"], rates["cache_write_1h"], rates["reasoning"]) == ("3", "6", None)
    assert rates["long_context"][0]["above_input_tokens"] == 200_000
    assert rates["long_context"][0]["output"] == "22.5"
    assert row["service_tiers"]["processing=batch"]["input"] == "1.5"
    assert (row["source"], row["override_id"]) == ("genai-prices 0.2.3", None)


def test_list_everything_and_by_provider(db: str) -> None:
    out = ok(db, "prices", "list", "--provider", "anthropic", "--at", "2026-01-15")
    assert out.splitlines()[2].startswith("provider     model")
    opus = next(line for line in out.splitlines() if " claude-opus-4-8 " in line)
    assert opus.split() == ["anthropic", "claude-opus-4-8", "5", "0.5", "6.25", "10", "25", "-",
                            "-", "genai-prices", "0.2.3"]  # fmt: skip
    rows = json.loads(ok(db, "prices", "list", "--json"))
    assert len(rows) > 2000 and {"provider", "model", "source"} <= rows[0].keys()


def test_list_an_unknown_model_fails_with_a_hint(db: str) -> None:
    result = run(db, "prices", "list", "--model", "claude-opuz-4-8")
    assert result.exit_code == 1
    assert "no price for 'claude-opuz-4-8'" in result.output
    assert "similar ids: claude-opus-4-8," in result.output


def test_override_listing_and_its_effect_on_list(db: str) -> None:
    out = ok(db, "prices", "override", "--model", "claude-opus-4-8", "--org", "acme", "--discount",
             "20", "--from", "2026-11-01", "--note", "MSA 2026", "--as", "carol")  # fmt: skip
    assert out.startswith("override #1: claude-opus-4-8 for org acme: 20% off the catalog")
    listed = ok(db, "prices", "overrides")
    assert listed.split() == ["#1", "claude-opus-4-8", "org", "acme", "2026-11-01", "..",
                              "open", "20%", "off", "the", "catalog"]  # fmt: skip
    row = json.loads(ok(db, "prices", "list", "--model", "claude-opus-4-8", "--org", "acme",
                        "--at", "2026-11-02", "--json"))  # fmt: skip
    # $5 / $25 less 20%: $4 / $20
    assert (row["rates_usd_per_mtok"]["input"], row["rates_usd_per_mtok"]["output"]) == ("4", "20")
    assert (row["source"], row["override_id"]) == ("genai-prices 0.2.3 + override #1", 1)
    other = json.loads(ok(db, "prices", "list", "--model", "claude-opus-4-8", "--json"))
    assert other["override_id"] is None  # no --org: the catalog


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--discount", "10", "--input", "1", "--output", "2"], "either --discount PCT or rates"),
        (["--input", "1"], "custom rates need at least --input and --output"),
        (["--discount", "150"], "a discount is a percentage in (0, 100], got 150"),
        (["--discount", "ten"], "Invalid value for --discount: not a number: 'ten'"),
        (["--input", "-1", "--output", "2"], "Invalid value for --input: must be zero or positive"),
        (["--discount", "10", "--until", "2026-10-01"], "an override must end after it starts"),
        (["--discount", "10", "--org", "nope"], "no org named 'nope'"),
    ],
)
def test_override_errors(db: str, args: list[str], message: str) -> None:
    result = run(db, "prices", "override", "--model", "claude-opus-4-8", "--from", "2026-11-01",
                 *args)  # fmt: skip
    assert result.exit_code != 0
    assert message in result.output


def test_discount_needs_a_catalog_price(db: str) -> None:
    result = run(db, "prices", "override", "--model", "acme-coder-1", "--discount", "10",
                 "--from", "2026-11-01")  # fmt: skip
    assert result.exit_code == 1
    assert "'acme-coder-1' has no catalog price at 2026-11-01 to discount" in result.output


def test_remove_override(db: str) -> None:
    ok(db, "prices", "override", "--model", "acme-coder-1", "--input", "1", "--output", "2",
       "--from", "2026-11-01")  # fmt: skip
    assert "removed override #1 (acme-coder-1)" in ok(db, "prices", "remove-override", "1")
    result = run(db, "prices", "remove-override", "1")
    assert result.exit_code == 1 and "no override #1" in result.output


def test_import_dry_run_then_store(db: str, tmp_path: Path) -> None:
    doc = {"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.75e-06,
                      "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06},
           "acme-coder-1": {"litellm_provider": "acme", "input_cost_per_token": 1e-06,
                            "output_cost_per_token": 3e-06}}  # fmt: skip
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(doc))
    result = run(db, "prices", "import", str(path), "--effective", "2026-12-01", "--dry-run")
    assert result.exit_code == 0, result.output
    assert [" ".join(line.split()) for line in result.stdout.splitlines()[2:]] == [
        "+ acme/acme-coder-1 from 2026-12-01: input 1, output 3",
        "~ openai/gpt-4o from 2026-12-01: input 2.5 -> 2.75 (was genai-prices 0.2.3)",
        "1 added, 1 changed, 0 unchanged of 2 models in the file; models it does not list keep "
        "their current prices.",
    ]
    assert "dry run: nothing stored" in result.output
    assert len(json.loads(ok(db, "prices", "versions", "--json"))) == 1
    stored = run(db, "prices", "import", str(path), "--effective", "2026-12-01", "--label", "v2")
    assert "stored as price version #2 ('v2')" in stored.output
    versions = json.loads(ok(db, "prices", "versions", "--json"))
    assert [(v["label"], v["format"], v["effective_from"]) for v in versions] == [
        ("genai-prices 0.2.3", "genai-prices", "1970-01-01T00:00:00+00:00"),
        ("v2", "litellm", "2026-12-01T00:00:00+00:00"),
    ]
    again = run(db, "prices", "import", str(path))
    assert again.exit_code == 1 and "already stored as price version #2" in again.output


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ('{"a": ', [], "not JSON: Expecting value at line 1 column 7"),
        ("[1]", [], "provider #0 is a number, not a JSON object"),
        ('{"m": {"input_cost_per_token": "x"}}', [], "model 'm': input_cost_per_token is 'x'"),
        ("{}", ["--format", "genai-prices"], "a JSON list of providers, this file holds a JSON "),
        ("[]", [], "this genai-prices data lists no models"),
    ],
)
def test_import_errors(
    db: str, tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run(db, "prices", "import", str(path), *args)
    assert result.exit_code == 1
    assert message in result.output


def test_reports_on_an_empty_store(db: str) -> None:
    assert ok(db, "prices", "unpriced") == "Every model seen has a price.\n"
    assert ok(db, "prices", "unpriced", "--json") == "[]\n"
    assert ok(db, "prices", "accuracy").startswith("No call since ")
    assert ok(db, "prices", "reprice", "--since", "1d", "--json").count('"calls": 0') == 1
    bad = run(db, "prices", "accuracy", "--threshold", "0")
    assert bad.exit_code == 2 and "must be positive" in bad.output
    bad = run(db, "prices", "reprice", "--since", "someday")
    assert bad.exit_code == 2 and "Invalid value for --since: 'someday'" in bad.output


def test_unpriced_lists_every_org_or_the_one_asked_for(db: str) -> None:
    engine = make_engine(db)
    ensure_bundled_version(engine)
    Store(engine).write(call("a1", "acme-coder-1", "acme", input_tokens=1000))
    Store(engine, org="globex", user="gus").write(call("g1", "globex-secret-1", "globex"))
    engine.dispose()

    def models(*args: str) -> list[tuple[str, list[str]]]:
        rows = json.loads(ok(db, "prices", "unpriced", "--json", *args))
        return [(r["model"], r["user_names"]) for r in rows]

    assert sorted(models()) == [("acme-coder-1", ["alice"]), ("globex-secret-1", ["gus"])]
    assert models("--org", "acme") == [("acme-coder-1", ["alice"])]
    assert models("--org", "globex") == [("globex-secret-1", ["gus"])]
    assert "globex-secret-1" not in ok(db, "prices", "unpriced", "--org", "acme")
    bad = run(db, "prices", "unpriced", "--org", "initech")
    assert bad.exit_code == 2 and "no org named 'initech'" in bad.output


def test_custom_models_are_listed_with_their_override(db: str) -> None:
    ok(db, "prices", "override", "--model", "acme-coder-1", "--workspace", "platform",
       "--input", "1", "--output", "3", "--from", "2026-11-01")  # fmt: skip
    scoped = json.loads(ok(db, "prices", "list", "--workspace", "platform", "--json"))
    [row] = [r for r in scoped if r["model"] == "acme-coder-1"]
    assert (row["source"], row["rates_usd_per_mtok"]["output"]) == ("override #1", "3")
    everyone = json.loads(ok(db, "prices", "list", "--json"))
    assert not [r for r in everyone if r["model"] == "acme-coder-1"]  # not outside its scope
    detail = ok(db, "prices", "list", "--model", "acme-coder-1", "--workspace", "platform")
    assert detail.splitlines()[1] == (
        "  source          override #1 (workspace, input 1, output 3)"
    )
