"""Issue 3.6: `plan -out FILE`, `apply FILE` exactly as reviewed, stale plans refused, `show FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import PASSWORD, Api, cli, registry, write_workspace


def test_saved_plan_applies_exactly_once(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha"), registry("beta")])
    plan_file = tmp_path / "plan.json"
    plan = cli(hss, "plan", str(ws), "-out", str(plan_file))
    assert plan.code == 0, plan.output
    assert f"hss-reconciler apply {plan_file}" in plan.stdout
    text = plan_file.read_text()
    assert PASSWORD not in text and '"env": "REGISTRY_PASSWORD"' in text
    assert Api(hss).list() == []

    shown = cli(hss, "show", str(plan_file))
    assert shown.code == 0 and "Plan: 2 to add, 0 to change, 0 to destroy." in shown.stdout

    apply = cli(hss, "apply", str(plan_file))  # no prompt: the plan file is the approval
    assert apply.code == 0, apply.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in apply.stdout
    assert sorted(Api(hss).by_name()) == ["alpha", "beta"]

    again = cli(hss, "apply", str(plan_file))
    assert again.code == 4  # stale: its own code, so CI can plan again without reading stderr
    assert "saved plan is stale: the state changed since the plan was made (serial 0 -> " in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert len(Api(hss).list()) == 2


def test_saved_plan_refused_when_config_changed(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    plan_file = tmp_path / "plan.json"
    assert cli(hss, "plan", str(ws), "--out", str(plan_file)).code == 0
    write_workspace(ws, [registry("alpha", registry_addr="elsewhere.example.com")])
    refused = cli(hss, "apply", str(plan_file))
    assert refused.code == 4 and "the registry files changed since the plan was made" in refused.stderr
    assert Api(hss).list() == [] and not (ws / "hss-reconciler.state.json").exists()


def test_saved_plan_whose_change_was_edited_sends_nothing(hss: Hss, tmp_path: Path) -> None:
    # The registry files are unchanged (their digest matches), but the reviewed change
    # was edited to send another address: a fresh plan differs, so nothing is applied.
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    plan_file = tmp_path / "plan.json"
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    document = json.loads(plan_file.read_text())
    document["changes"][0]["after"]["registry_addr"] = "collector.attacker.example"
    plan_file.write_text(json.dumps(document))
    refused = cli(hss, "apply", str(plan_file))
    assert refused.code == 4, refused.output
    assert "a fresh plan differs from it: " in refused.stderr
    assert "create after was {" in refused.stderr and "collector.attacker.example" in refused.stderr
    assert Api(hss).list() == [] and not (ws / "hss-reconciler.state.json").exists()


def test_forged_delete_of_an_unmanaged_registry_deletes_nothing(hss: Hss, tmp_path: Path) -> None:
    # Issue 15: a reviewed update edited into a delete of someone else's registry.
    ws = write_workspace(tmp_path / "ws", [registry("mine")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    theirs = Api(hss).add("someone-elses")
    write_workspace(ws, [registry("mine", registry_addr="moved.example.com")])
    plan_file = tmp_path / "plan.json"
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    document = json.loads(plan_file.read_text())
    (change,) = document["changes"]
    change.update(action="delete", name="someone-elses", registry_id=theirs,
                  address=change["address"].replace("/mine", "/someone-elses"), after=None, changed=[])
    document["summary"].update({"add": 0, "change": 0, "destroy": 1})
    plan_file.write_text(json.dumps(document))
    refused = cli(hss, "apply", str(plan_file))
    assert refused.code in (1, 4), refused.output  # refused as a malformed document, or as differing
    assert "someone-elses" in refused.stderr or "not a valid plan document" in refused.stderr
    assert sorted(Api(hss).by_name()) == ["mine", "someone-elses"]


def test_saved_plan_refused_when_state_replaced(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    write_workspace(ws, [registry("alpha"), registry("beta")])
    plan_file = tmp_path / "plan.json"
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    state = ws / "hss-reconciler.state.json"
    data = json.loads(state.read_text())
    data["lineage"] = "00000000-0000-0000-0000-000000000000"
    state.write_text(json.dumps(data))
    refused = cli(hss, "apply", str(plan_file))
    assert refused.code == 4 and "the state file is a different one" in refused.stderr


def test_a_plan_file_that_is_not_one_is_a_clear_error(hss: Hss, tmp_path: Path) -> None:
    bogus = tmp_path / "plan.json"
    bogus.write_text('{"tool": "hss-reconciler", "format_version": 1}')
    result = cli(hss, "apply", str(bogus))
    assert result.code == 1 and "plan.json" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(("out", "why"), [
    ("ws/registries.yaml", "must not end in .yaml"),
    ("ws/hss-reconciler.state.json", "is the state file"),
    ("ws/hss-reconciler.state.json.lock", "is the state's lock file"),
    ("notes.txt", "exists and is not an hss-reconciler plan file"),
    ("ws", "is a directory"),
    ("", "-out: needs a file name"),
])
def test_plan_out_never_writes_over_its_inputs_or_a_non_plan_file(
        hss: Hss, tmp_path: Path, out: str, why: str) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    (tmp_path / "notes.txt").write_text("keep me\n")
    before = {p: p.read_bytes() for p in [*ws.iterdir(), tmp_path / "notes.txt"] if p.is_file()}
    hss.server.app.stats.reset()

    result = cli(hss, "plan", str(ws), "-out", str(tmp_path / out) if out else "")
    assert result.code == 1, result.output
    assert result.stderr.count("\n") == 1 and why in result.stderr, result.stderr
    assert {p: p.read_bytes() for p in before} == before
    assert hss.server.app.stats.snapshot()["total_requests"] == 0  # refused before any refresh


def test_replanning_to_the_same_plan_file_overwrites_it(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    plan_file = tmp_path / "plan.json"
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    write_workspace(ws, [registry("alpha"), registry("beta")])
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    assert '"beta"' in plan_file.read_text()


@pytest.mark.parametrize(("content", "says"), [
    ('{"tool": "hss-reconciler", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than"),
    ('{"tool": "hss-reconciler", "x": NaN}', "NaN"),
    # json keeps the last of two equal keys: the reviewer may have read the first.
    ('{"tool": "hss-reconciler", "changes": [{"action": "create", "registry_id": "a", "registry_id": "b"}]}',
     'changes[0].registry_id: appears twice in one object'),
    ('{"tool": "nothing", "tool": "hss-reconciler"}', "tool: appears twice in one object"),
], ids=["100000-deep", "nan", "duplicate-key-in-a-change", "duplicate-tool-key"])
def test_a_hostile_plan_file_is_one_line_and_exit_1(hss: Hss, tmp_path: Path, content: str,
                                                     says: str) -> None:
    # Issue 15: a saved plan is read like the state: nesting bounded, NaN refused, never exit 3.
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(content)
    for command in ("apply", "show"):
        result = cli(hss, command, str(plan_file))
        assert result.code == 1, result.output
        assert result.stderr.startswith(f"Error: {plan_file}: not a valid plan file: ")
        assert says in result.stderr and len(result.stderr.splitlines()) == 1
