"""Issue 17's features under attack: what HSS, a forged plan file or a command line hands them.

Each test says what must never happen: a file written where nobody asked, a
name read back as another, HSS written to by a refresh-only apply or by a
saved plan given options it was not made with, a move split by --target. What
HSS was sent is read from the emulator's own counters.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import PROJECT, REGION, TARGET, Api, cli, registry, state_of, write_workspace

EXPORT = ("export", "--region", REGION, "--project-id", PROJECT)


@pytest.fixture
def hss(fresh_hss: Hss) -> Hss:
    return fresh_hss  # one emulator for the module, reset for each test


def _sent(api: Api, before: dict[str, Any]) -> dict[str, int]:
    """The HSS operations served since `before` (a copy of stats()['requests']), with their counts."""
    now: dict[str, int] = api.stats()["requests"]
    return {op: n - before.get(op, 0) for op, n in now.items() if n != before.get(op, 0)}


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def test_export_refuses_a_bad_out_or_an_endpoint_password_before_asking_hss(
        hss: Hss, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # where an empty --out wrote (the CLI runs in the test's directory)
    api = Api(hss)
    api.add("alpha")
    a_file, fifo = tmp_path / "a-file", tmp_path / "fifo"
    a_file.write_text("keep\n")
    os.mkfifo(fifo)
    before = dict(api.stats()["requests"])
    cases = {
        "is a file, not a directory": ["--out", str(a_file)],
        "is a FIFO (named pipe), not a directory": ["--out", str(fifo)],
        "--out: needs a directory name, not an empty value": ["--out", ""],
        "--endpoint: holds a password": ["--out", str(tmp_path / "new"), "--endpoint",
                                         "https://robot:Sup3r-Secret@hss.example.com"],
    }
    for said, words in cases.items():
        refused = cli(hss, *EXPORT, *words)
        assert refused.code == 1, refused.output
        assert len(_errors(refused.stderr)) == 1 and said in refused.stderr, refused.stderr
        assert "Sup3r-Secret" not in refused.output
    assert _sent(api, before) == {}  # HSS was not even listed
    # Nothing made: no --out directory, and no file in the current directory for the empty --out.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "fifo"] and a_file.read_text() == "keep\n"


def test_export_writes_names_yaml_would_misread_so_they_read_back_and_only_adopt(
        hss: Hss, tmp_path: Path) -> None:
    names = ["*a", "&x", "!!python/object", "? ", "- ", "#", "'", '"', "  lead", "yes", "null", "1e3",
             "a\u00a0", "\u3000x\u3000", "x" * 128, "hss", "admin", "\u0430dmin"]
    Api(hss).add_many([registry(n, registry_addr=f"r{i}.example.com") for i, n in enumerate(names)]
                      + [registry("a\u200fb", registry_addr="rtl.example.com")])
    out = tmp_path / "out"

    exported = cli(hss, *EXPORT, "--out", str(out))
    assert exported.code == 0, exported.output
    written = yaml.safe_load((out / f"{REGION}.{PROJECT}.yaml").read_text())["registries"]
    got = {r["registry_name"]: r["registry_password"]["env"] for r in written}
    assert sorted(got) == sorted(n for n in names if n != "\u0430dmin")  # exactly these names, byte for byte
    assert got["hss"] == "REGISTRY_HSS_PASSWORD"  # never a name in the tool's own HSS_ namespace
    assert "registry 'a\\u200fb' left out: registry.registry_name holds U+200F RIGHT-TO-LEFT MARK" \
        in exported.stderr
    assert "registry '\u0430dmin' left out: reads the same as 'admin'" in exported.stderr

    plan = cli(hss, "plan", str(out), "--detailed-exitcode")
    assert plan.code == 2, plan.output
    assert f"Plan: {len(names) - 1} to import, 0 to add, 0 to change, 0 to destroy." in plan.stdout


def _applied_then_renamed(hss: Hss, ws: Path) -> None:
    write_workspace(ws, [registry("alpha", registry_addr="shared.example.com"), registry("gamma")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    write_workspace(ws, [registry("beta", registry_addr="shared.example.com"),
                         registry("gamma", registry_username="robot-2")])


def test_a_saved_plan_is_applied_as_planned_or_refused_with_hss_sent_nothing(
        hss: Hss, tmp_path: Path) -> None:
    """Read silently, `apply --refresh-only FILE` sent the plan's changes to HSS, and
    `apply --target gamma FILE` ran every change; a forged refresh_only is no refresh-only plan."""
    ws, plan_file = tmp_path / "ws", tmp_path / "plan.json"
    _applied_then_renamed(hss, ws)
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    api, state = Api(hss), state_of(ws)
    before = dict(api.stats()["requests"])

    for option in (["--refresh-only"], ["--target", "gamma"], ["--no-destroy"], ["--refresh=false"]):
        refused = cli(hss, "apply", *option, str(plan_file))
        assert refused.code == 1, refused.output
        (line,) = _errors(refused.stderr)
        assert line.startswith(f"Error: {option[0]}: {plan_file} is a saved plan"), line
        assert line.endswith("Nothing was changed.")
    assert _sent(api, before) == {}

    forged = json.loads(plan_file.read_text())
    forged["refresh_only"] = True
    plan_file.write_text(json.dumps(forged))
    stale = cli(hss, "apply", str(plan_file))
    assert stale.code == 4, stale.output
    # Re-planned as the refresh-only plan it claims to be, which moves and updates nothing.
    assert "beta: the plan file would move it; a fresh plan does not" in stale.stderr
    assert set(_sent(api, before)) == {"ListRegistry"}
    assert state_of(ws) == state and sorted(api.by_name()) == ["alpha", "gamma"]


def test_target_naming_one_half_of_a_move_is_refused_and_the_old_registry_stays(
        hss: Hss, tmp_path: Path) -> None:
    """`--target alpha` planned a bare delete of a registry the files only renamed: a scanning gap."""
    ws = tmp_path / "ws"
    _applied_then_renamed(hss, ws)
    api = Api(hss)
    before = dict(api.stats()["requests"])

    for selected, other in (("alpha", "beta"), ("beta", "alpha")):
        refused = cli(hss, "apply", str(ws), "--target", selected, "--auto-approve")
        assert refused.code == 1, refused.output
        (line,) = _errors(refused.stderr)
        assert f"{TARGET}/{selected} is one half of a move, {TARGET}/alpha -> {TARGET}/beta" in line
        assert f"Add --target {TARGET}/{other}, or leave both out. Nothing was planned." in line
    assert set(_sent(api, before)) == {"ListRegistry"} and sorted(api.by_name()) == ["alpha", "gamma"]

    both = cli(hss, "apply", str(ws), "--target", "alpha", "--target", "beta", "--auto-approve")
    assert both.code == 0, both.output
    assert "Resources: 1 moved, 0 added, 0 changed, 0 destroyed." in both.stdout


def test_refresh_only_records_hostile_drift_escaped_and_sends_hss_nothing_but_reads(
        hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    api = Api(hss)
    hostile = "robot\x1b]8;;https://evil.example\x07\u202e"
    api.update(api.by_name()["alpha"]["id"], registry_username=hostile)
    state = state_of(ws)
    before = dict(api.stats()["requests"])

    applied = cli(hss, "apply", str(ws), "--refresh-only", "--auto-approve")
    assert applied.code == 0, applied.output
    assert "\x1b" not in applied.output and "\u202e" not in applied.output and "\x07" not in applied.output
    assert "\\u001b]8;;https://evil.example\\u0007\\u202e" in applied.stdout
    assert _sent(api, before) == {"ListRegistry": 1}
    after = state_of(ws)
    assert (after["lineage"], after["serial"]) == (state["lineage"], state["serial"] + 1)
    assert after["registries"][0]["attributes"]["registry_username"] == hostile
