"""Issue 4.7: canary secrets appear in no output, log line, file or error, on any path.

Every credential gets a distinctive canary value; the test drives every command
that touches HSS, success and failure paths, at debug log level, then searches
every byte the tool produced: stdout, stderr, and every file it left behind.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss, Result, run_cli
from tests.e2e.workspaces import Api, registry, write_workspace

CANARY_PASSWORD = "Canary-Pw-51c0ffee"
CANARY_FILE_PASSWORD = "Canary-FilePw-7e57"
OTHER = {"get_scan_image_channel": "Other", "namespace": "security-tools"}


def _leaks(text: str, canaries: list[str]) -> list[str]:
    return [c for c in canaries if c in text]


def _every_file(root: Path, skip: Path) -> dict[str, str]:
    return {str(p): p.read_text(errors="replace") for p in root.rglob("*") if p.is_file() and p != skip}


def test_no_canary_anywhere(hss: Hss, tmp_path: Path) -> None:
    secret_file = tmp_path / "secrets" / "jfrog.txt"
    secret_file.parent.mkdir()
    secret_file.write_text(CANARY_FILE_PASSWORD + "\n")
    ws = write_workspace(tmp_path / "ws", [
        registry("harbor"),
        registry("jfrog", registry_type="Jfrog", registry_password={"file": str(secret_file)}, **OTHER),
    ])
    security_token = "Canary-StsToken-0badcafe"
    # The secret file lives outside the workspace: HSS_SECRETS_DIR allows its directory.
    allowed = {"HSS_SECRETS_DIR": str(secret_file.parent)}
    base = {**hss.env(aksk=True), **allowed, "REGISTRY_PASSWORD": CANARY_PASSWORD,
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": security_token,
            "GITHUB_STEP_SUMMARY": str(tmp_path / "ws" / "summary.md")}
    token_env = {**hss.env(), **allowed, "REGISTRY_PASSWORD": CANARY_PASSWORD}
    canaries = [CANARY_PASSWORD, CANARY_FILE_PASSWORD, hss.sk, hss.token, security_token]
    plan_file = str(ws / "plan.json")
    debug = ("--log-level", "debug")
    results: list[Result] = [
        run_cli("validate", str(ws), "--check-env", *debug, env=base),
        run_cli("plan", str(ws), "-out", plan_file, *debug, env=base),
        run_cli("show", plan_file, "--format", "json", *debug, env=base),
        run_cli("show", plan_file, "--format", "markdown", *debug, env=base),
        run_cli("apply", plan_file, "--format", "json", *debug, env=base),
        run_cli("upload-command", "jfrog", str(ws), *debug, env=token_env),
        run_cli("show", str(ws), "--format", "json", *debug, env=token_env),
    ]
    # Failure paths: wrong credentials, an API error, faults.
    wrong_token = {**token_env, "HSS_AUTH_TOKEN": "wrong-" + hss.token}
    results.append(run_cli("plan", str(ws), *debug, env=wrong_token))
    write_workspace(ws, [registry("harbor", password_version=2), registry("extra"),
                         registry("jfrog", registry_type="Jfrog",
                                  registry_password={"file": str(secret_file)}, **OTHER)])
    Api(hss).configure(error_rate=0.4, lost_response_rate=0.2, seed=7)
    results.append(run_cli("apply", str(ws), "--auto-approve", *debug, env=base))
    Api(hss).configure(error_rate=0.0, lost_response_rate=0.0)
    results.append(run_cli("apply", str(ws), "--auto-approve", "--format", "markdown", *debug, env=base))

    assert results[4].code == 0, results[4].output
    assert any("HTTP POST" in r.stderr for r in results), "debug logging of HTTP calls is on"
    for result in results:
        assert "Traceback" not in result.output
        assert _leaks(result.output, canaries) == [], result.output
    files = _every_file(tmp_path, skip=secret_file)
    assert any(name.endswith("hss-reconciler.state.json") for name in files)
    assert any(name.endswith(".backup") for name in files)
    for name, text in files.items():
        assert _leaks(text, canaries) == [], name
