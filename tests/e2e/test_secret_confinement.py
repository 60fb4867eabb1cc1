"""Issue 15, as a user meets it: the installed CLI against the emulator.

A registry file cannot make hss-reconciler send one of its own or a CI/cloud
credential, or a file from outside the workspace, to a registry; a plan says
when a password is about to go to a new address; plain http to HSS needs
loopback or --allow-http. Every refusal is one line, exit 1, nothing sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.secrets import REFUSED_ENV_NAMES, REFUSED_ENV_PREFIXES
from tests.e2e.conftest import Hss, Result, run_cli
from tests.e2e.workspaces import PASSWORD, TARGET, Api, cli, env_for, registry, write_workspace

CANARY = "Canary-Escaped-9d3f1b"


def _requests(hss: Hss) -> int:
    total: int = hss.server.app.stats.snapshot()["total_requests"]
    return total


def _one_error(result: Result, *parts: str) -> str:
    """Exit 1, one `Error:` line holding every part, no traceback, no canary."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert result.code == 1, result.output
    assert len(errors) == 1, result.stderr
    for part in parts:
        assert part in errors[0], errors[0]
    assert "Traceback" not in result.output and CANARY not in result.output
    return errors[0]


# --- {env: NAME} ---------------------------------------------------------------------------------


def test_validate_refuses_every_documented_credential_variable(tmp_path: Path) -> None:
    names = sorted(REFUSED_ENV_NAMES) + [p + "X" for p in REFUSED_ENV_PREFIXES]
    ws = write_workspace(tmp_path / "ws", [registry(f"r{i}", registry_password={"env": n})
                                           for i, n in enumerate(names)])
    env = {k: v for k, v in os.environ.items() if k not in names}  # a static rule: no variable needed
    result = run_cli("validate", str(ws), env=env)
    assert result.code == 1 and result.stdout == "", result.output
    lines = result.stderr.splitlines()
    assert len(lines) == len(names), result.stderr
    for i, (name, line) in enumerate(zip(names, lines, strict=True)):
        assert line.startswith(f"Error: {ws / 'registries.yaml'}:"), line
        assert f": registries[{i}].registry_password.env: {name} is reserved for " in line, line


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve"), ("validate", "--check-env")])
def test_plan_and_apply_refuse_a_credential_variable_before_anything_is_sent(
        hss: Hss, tmp_path: Path, command: tuple[str, ...]) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"env": "GITHUB_TOKEN"})])
    hss.server.app.stats.reset()
    result = cli(hss, command[0], str(ws), *command[1:], GITHUB_TOKEN=CANARY)
    _one_error(result, "registries.yaml:",
               "registries[0].registry_password.env: GITHUB_TOKEN is reserved for GitHub credentials")
    assert _requests(hss) == 0
    assert not (ws / "hss-reconciler.state.json").exists()


# --- {file: PATH} --------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "pw.txt"
    secret.parent.mkdir()
    secret.write_text(CANARY + "\n", encoding="utf-8")
    return secret


@pytest.mark.parametrize("how", ["absolute", "dotdot"])
def test_secret_file_outside_the_workspace_is_never_read_or_sent(
        hss: Hss, tmp_path: Path, outside: Path, how: str) -> None:
    name = str(outside) if how == "absolute" else "../outside/pw.txt"
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"file": name})])
    hss.server.app.stats.reset()
    for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = cli(hss, command[0], str(ws), *command[1:])
        why = "an absolute path outside" if how == "absolute" else ".. leads outside"
        _one_error(result, "registries[0].registry_password.file: " + why)
    assert _requests(hss) == 0 and Api(hss).list() == []


@pytest.mark.parametrize("link", ["file", "directory"])
def test_symlink_leading_out_of_the_workspace_is_refused(
        hss: Hss, tmp_path: Path, outside: Path, link: str) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"file": "secrets/pw.txt"})])
    if link == "file":
        (ws / "secrets").mkdir()
        (ws / "secrets" / "pw.txt").symlink_to(outside)
    else:
        (ws / "secrets").symlink_to(outside.parent)
    hss.server.app.stats.reset()
    for command in (("validate",), ("apply", "--auto-approve")):
        result = cli(hss, command[0], str(ws), *command[1:])
        _one_error(result, "registries[0].registry_password.file: a symlink leads outside")
    assert _requests(hss) == 0


def test_secret_file_inside_the_workspace_still_works_through_a_symlink(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"file": "pw.txt"})])
    (ws / "secrets").mkdir()
    (ws / "secrets" / "real.txt").write_text(PASSWORD + "\n", encoding="utf-8")
    (ws / "pw.txt").symlink_to("secrets/real.txt")
    result = cli(hss, "apply", str(ws), "--auto-approve")
    assert result.code == 0, result.output
    assert list(Api(hss).by_name()) == ["harbor"]


def test_hss_secrets_dir_widens_where_secret_files_are_read(hss: Hss, tmp_path: Path, outside: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [
        registry("harbor", registry_password={"file": str(outside)}),
        registry("jfrog", registry_password={"file": "../outside/pw.txt"}),
    ])
    refused = cli(hss, "apply", str(ws), "--auto-approve")
    assert refused.code == 1 and Api(hss).list() == []
    allowed = cli(hss, "apply", str(ws), "--auto-approve", HSS_SECRETS_DIR=str(outside.parent))
    assert allowed.code == 0, allowed.output
    assert sorted(Api(hss).by_name()) == ["harbor", "jfrog"]
    assert CANARY not in allowed.output


@pytest.mark.parametrize("command", [("validate", "--check-env"), ("plan",), ("apply", "--auto-approve")])
def test_nul_in_a_file_reference_is_a_located_error_not_a_crash(
        hss: Hss, tmp_path: Path, command: tuple[str, ...]) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"file": "secrets/a\0b"})])
    assert '"secrets/a\\0b"' in (ws / "registries.yaml").read_text()
    hss.server.app.stats.reset()
    result = cli(hss, command[0], str(ws), *command[1:])
    _one_error(result, "registries.yaml:",
               "registries[0].registry_password.file: the path holds a NUL character")
    assert _requests(hss) == 0


# --- a password sent to a new address ------------------------------------------------------------

MOVED = "registry_password will be sent to the new address {new} (it was sent to {old})"


def test_plan_says_when_a_password_goes_to_a_new_address_in_every_format(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor"), registry("jfrog"), registry("same")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    Api(hss).add("adopted")  # in HSS, not in the state: declared below, it is adopted
    write_workspace(ws, [registry("harbor", registry_addr="evil.example.net"),
                         registry("jfrog", registry_type="Jfrog", registry_addr="evil2.example.net"),
                         registry("same", protocol="http"),
                         registry("adopted", registry_addr="evil3.example.net")])

    text = cli(hss, "plan", str(ws))
    assert text.code == 0, text.output
    warned = [line for line in text.stdout.splitlines() if "new address" in line]
    assert warned == [
        "  # Warning: " + MOVED.format(new='"evil3.example.net"', old='"adopted.example.com"'),
        "  # Warning: " + MOVED.format(new='"evil.example.net"', old='"harbor.example.com"'),
        "  # Warning: " + MOVED.format(new='"evil2.example.net"', old='"jfrog.example.com"'),
    ]

    markdown = cli(hss, "plan", str(ws), "--format", "markdown")
    top = markdown.stdout.split("<details>", 1)[0]
    assert "This plan **sends 3 registry passwords to a new address**" in top
    harbor = MOVED.format(new="`evil.example.net`", old="`harbor.example.com`")
    assert f"- `{TARGET}/harbor`: {harbor}" in top

    plan_file = tmp_path / "plan.json"
    document = json.loads(cli(hss, "plan", str(ws), "--format", "json", "-out", str(plan_file)).stdout)
    moved = {c["name"]: c.get("password_new_address") for c in document["changes"]}
    assert moved == {"adopted": {"old": "adopted.example.com", "new": "evil3.example.net"},
                     "harbor": {"old": "harbor.example.com", "new": "evil.example.net"},
                     "jfrog": {"old": "jfrog.example.com", "new": "evil2.example.net"},
                     "same": None}
    assert document["format_version"] == 1

    shown = cli(hss, "show", str(plan_file))
    assert shown.code == 0 and shown.stdout.count("new address") == 3, shown.output
    applied = cli(hss, "apply", str(plan_file))
    assert applied.code == 0, applied.output
    assert Api(hss).by_name()["harbor"]["registry_addr"] == "evil.example.net"


def test_no_new_address_line_for_creates_or_unchanged_addresses(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor")])
    created = cli(hss, "plan", str(ws))
    assert created.code == 0 and "new address" not in created.output
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    write_workspace(ws, [registry("harbor", registry_username="robot-2")])
    updated = cli(hss, "plan", str(ws), "--format", "json")
    assert "password_new_address" not in updated.stdout and updated.code == 0


# --- plain http to HSS ---------------------------------------------------------------------------


def _via(hss: Hss, host: str) -> dict[str, str]:
    """The emulator's environment, with HSS_ENDPOINT naming it by another host."""
    return env_for(hss, HSS_ENDPOINT=f"http://{host}:{hss.server.port}")


def test_plain_http_endpoint_outside_loopback_is_refused_and_nothing_is_sent(
        hss: Hss, tmp_path: Path) -> None:
    # 127.1 reaches the emulator, but is not a loopback address the rule recognises (it never
    # asks DNS): exactly the case of a name that leads somewhere it should not.
    ws = write_workspace(tmp_path / "ws", [registry("harbor")])
    hss.server.app.stats.reset()
    for command in (("plan",), ("apply", "--auto-approve")):
        result = run_cli(command[0], str(ws), *command[1:], env=_via(hss, "127.1"))
        _one_error(result, f"HSS endpoint http://127.1:{hss.server.port} is plain http outside loopback",
                   "--allow-http", "Nothing was sent")
        assert result.stderr.count("\n") == 1, result.stderr
    assert _requests(hss) == 0
    assert not (ws / "hss-reconciler.state.json").exists()


def test_allow_http_lets_plain_http_through_with_a_warning(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor")])
    for where in (("--allow-http", "apply"), ("apply", "--allow-http")):  # a global option, either side
        result = run_cli(*where, str(ws), "--auto-approve", env=_via(hss, "127.1"))
        assert result.code == 0, result.output
        assert (f"WARNING reconciler: --allow-http: HSS endpoint http://127.1:{hss.server.port} is plain "
                "http") in result.stderr
    assert list(Api(hss).by_name()) == ["harbor"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_plain_http_on_loopback_is_warned_about(hss: Hss, tmp_path: Path, host: str) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor")])
    result = run_cli("plan", str(ws), env=_via(hss, host))
    assert result.code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "plain http" in line]
    assert warnings == [f"WARNING reconciler: HSS endpoint http://{host}:{hss.server.port} is plain http "
                        "on loopback: credentials are not encrypted (fine for the emulator; use https "
                        "for a real HSS)"]
