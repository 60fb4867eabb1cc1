"""Issue 3.7: json (validated against schemas/plan.schema.json), markdown, step summary, colour."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.e2e.conftest import REPO, Hss
from tests.e2e.terminal import run_in_terminal
from tests.e2e.workspaces import PASSWORD, TARGET, Api, cli, env_for, registry, write_workspace


def _mixed_plan_workspace(hss: Hss, tmp_path: Path) -> Path:
    """A workspace whose next plan creates, updates and destroys."""
    ws = write_workspace(tmp_path / "ws", [registry("keep"), registry("change"), registry("drop")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    write_workspace(ws, [registry("keep"), registry("change", api_version="V1"), registry("new")])
    return ws


def test_json_plan_follows_the_published_schema(hss: Hss, tmp_path: Path) -> None:
    ws = _mixed_plan_workspace(hss, tmp_path)
    result = cli(hss, "plan", str(ws), "--format", "json")
    assert result.code == 0, result.output
    document = json.loads(result.stdout)
    schema = json.loads((REPO / "schemas" / "plan.schema.json").read_text())
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    changes = {c["address"]: c for c in document["changes"]}
    assert {a: c["action"] for a, c in changes.items()} == {
        f"{TARGET}/change": "update", f"{TARGET}/drop": "delete", f"{TARGET}/new": "create"}
    assert changes[f"{TARGET}/change"]["changed"] == ["api_version"]
    assert changes[f"{TARGET}/change"]["before"]["api_version"] == "V2"
    assert changes[f"{TARGET}/change"]["after"]["api_version"] == "V1"
    assert document["summary"]["add"] == 1 and document["summary"]["destroy"] == 1
    assert PASSWORD not in result.stdout


def test_markdown_plan_for_a_pull_request(hss: Hss, tmp_path: Path) -> None:
    ws = _mixed_plan_workspace(hss, tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = cli(hss, "plan", str(ws), "--format", "markdown", GITHUB_STEP_SUMMARY=str(summary))
    assert result.code == 0, result.output
    md = result.stdout
    assert "1 to add, 1 to change, 1 to destroy" in md.splitlines()[0]
    assert "WARNING" in md and "<details>" in md and "</details>" in md
    assert len(md) <= 65536
    appended = summary.read_text()
    assert appended.startswith("earlier step\n") and "1 to destroy" in appended

    text = cli(hss, "plan", str(ws), GITHUB_STEP_SUMMARY=str(summary))
    assert summary.read_text().count("<details>") == 2 and "\x1b[" not in text.stdout


def test_json_apply_document_and_saved_plan_markdown(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    plan_file = tmp_path / "plan.json"
    assert cli(hss, "plan", str(ws), "-out", str(plan_file), "--format", "json").code == 0
    shown = cli(hss, "show", str(plan_file), "--format", "markdown")
    assert shown.code == 0 and "1 to add" in shown.stdout.splitlines()[0]
    applied = cli(hss, "apply", str(plan_file), "--format", "json")
    assert applied.code == 0, applied.output
    document = json.loads(applied.stdout)
    assert document["result"]["added"] == 1 and document["result"]["failed"] == []
    assert "alpha: Creating..." in applied.stderr
    assert len(Api(hss).list()) == 1


def test_colour_only_on_a_terminal_and_never_with_no_color(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    env = env_for(hss)
    assert "\x1b[" in run_in_terminal(["plan", str(ws)], env)[1]
    assert "\x1b[" not in run_in_terminal(["plan", str(ws)], {**env, "NO_COLOR": "1"})[1]
    assert "\x1b[" not in run_in_terminal(["plan", str(ws), "--no-color"], env)[1]
