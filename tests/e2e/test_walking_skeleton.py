"""validate -> plan -> apply -> plan, through the installed CLI, against the emulator."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx

from tests.e2e.conftest import Hss, run_cli

PASSWORDS = {"HARBOR_PROD_PASSWORD": "harbor-Pa55word!", "JFROG_PASSWORD": "jfrog-Pa55word?"}


def _env(hss: Hss, *, aksk: bool = False) -> dict[str, str]:
    return {**hss.env(aksk=aksk), **PASSWORDS}


def _live(hss: Hss) -> list[dict[str, object]]:
    response = httpx.get(f"{hss.server.url}/v5/0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c/image/registries",
                         params={"limit": 200}, headers={"X-Auth-Token": hss.token})
    response.raise_for_status()
    items: list[dict[str, object]] = response.json()["data_list"]
    return items


def test_plan_apply_plan_converges(hss: Hss, workspace: Path) -> None:
    env = _env(hss)
    plan = run_cli("plan", str(workspace), "--detailed-exitcode", env=env)
    assert plan.code == 2, plan.output
    assert "+ registry \"harbor-prod\"" in plan.stdout
    assert "registry_password" in plan.stdout and "(sensitive)" in plan.stdout
    assert plan.stdout.rstrip().endswith("Plan: 2 to add, 0 to change, 0 to destroy.")
    assert not (workspace / "hss-reconciler.state.json").exists(), "plan must never write"

    apply = run_cli("apply", str(workspace), "--auto-approve", env=env)
    assert apply.code == 0, apply.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in apply.stdout

    live = {str(r["registry_name"]): r for r in _live(hss)}
    assert sorted(live) == ["harbor-prod", "jfrog-build"]
    state_file = workspace / "hss-reconciler.state.json"
    state = json.loads(state_file.read_text())
    assert state["version"] == 1 and state["serial"] >= 1 and state["lineage"]
    assert {e["registry_name"]: e["id"] for e in state["registries"]} == {
        name: r["id"] for name, r in live.items()}
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600

    again = run_cli("plan", str(workspace), "--detailed-exitcode", env=env)
    assert again.code == 0, again.output
    assert "No changes." in again.stdout


def test_apply_without_terminal_needs_auto_approve(hss: Hss, workspace: Path) -> None:
    result = run_cli("apply", str(workspace), env=_env(hss), stdin="yes\n")
    assert result.code == 1
    assert "--auto-approve" in result.stderr
    assert "Traceback" not in result.output
    assert _live(hss) == []
    assert not (workspace / "hss-reconciler.state.json").exists()


def test_state_option_and_backup(hss: Hss, workspace: Path, tmp_path: Path) -> None:
    state = tmp_path / "elsewhere" / "s.json"
    state.parent.mkdir()
    env = _env(hss)
    assert run_cli("apply", str(workspace), "--auto-approve", "--state", str(state), env=env).code == 0
    first = json.loads(state.read_text())
    (workspace / "registries.yaml").write_text(
        (workspace / "registries.yaml").read_text().replace("robot-hss", "robot-hss-2"))
    result = run_cli("apply", str(workspace), "--auto-approve", "--state", str(state), env=env)
    assert result.code == 0, result.output
    backup = json.loads(Path(str(state) + ".backup").read_text())
    assert backup == first
    assert json.loads(state.read_text())["serial"] > first["serial"]


def test_wrong_token_is_one_readable_line(hss: Hss, workspace: Path) -> None:
    env = {**_env(hss), "HSS_AUTH_TOKEN": "not-the-token"}
    result = run_cli("plan", str(workspace), env=env)
    assert result.code == 1
    assert "401" in result.stderr and "APIG.0301" in result.stderr
    assert "Traceback" not in result.output
    assert "not-the-token" not in result.output


def test_aksk_signed_apply_converges(hss: Hss, workspace: Path) -> None:
    env = _env(hss, aksk=True)
    assert run_cli("apply", str(workspace), "--auto-approve", env=env).code == 0
    assert len(_live(hss)) == 2
    assert "No changes." in run_cli("plan", str(workspace), env=env).stdout


def test_canary_secrets_appear_nowhere(hss: Hss, workspace: Path) -> None:
    canary = "CANARY-pw-7f3a9c1e"
    env = {**_env(hss, aksk=True), "HARBOR_PROD_PASSWORD": canary, "JFROG_PASSWORD": canary + "-j"}
    runs = [
        run_cli("validate", str(workspace), "--check-env", "--log-level", "debug", env=env),
        run_cli("plan", str(workspace), "--log-level", "debug", env=env),
        run_cli("apply", str(workspace), "--auto-approve", "--log-level", "debug", env=env),
    ]
    (workspace / "registries.yaml").write_text(
        (workspace / "registries.yaml").read_text().replace("robot-hss", "robot-hss-2"))
    runs.append(run_cli("apply", str(workspace), "--auto-approve", "-vv", env=env))
    assert all(r.code == 0 for r in runs), [r.output for r in runs]
    assert any("HTTP POST /v5/" in r.stderr for r in runs), "debug logging of HTTP calls expected"
    files = [workspace / "hss-reconciler.state.json", workspace / "hss-reconciler.state.json.backup"]
    texts = [r.output for r in runs] + [f.read_text() for f in files]
    for secret in (canary, hss.sk):
        assert not any(secret in text for text in texts)


def test_demo_runs_the_main_job() -> None:
    import os

    from tests.e2e.conftest import CREDENTIAL_VARS
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    result = run_cli("demo", "--no-color", env=env)
    assert result.code == 0, result.output
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in result.stdout
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in result.stdout
    assert result.stdout.count("No changes.") == 1
