"""Issue 3.8-3.10: upload commands for `Other`, `apply --wait`, and `--target`."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import PASSWORD, TARGET, Api, cli, registry, write_workspace

OTHER = {"get_scan_image_channel": "Other", "namespace": "security-tools"}


def test_apply_prints_upload_commands_for_other_registries(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("swr-one"), registry("other-one", **OTHER)])
    result = cli(hss, "apply", str(ws), "--auto-approve", "--log-level", "debug")
    assert result.code == 0, result.output
    outputs = result.stdout.split("Outputs:")[1]
    assert f'upload_commands["{TARGET}/other-one"]' in outputs and "swr-one" not in outputs
    assert "image_command" in outputs and "docker login" in outputs
    assert PASSWORD not in result.output
    assert "image-upload-command" in result.stderr and "password=" not in result.stderr

    on_demand = cli(hss, "upload-command", "other-one", str(ws), "--log-level", "debug")
    assert on_demand.code == 0, on_demand.output
    assert "images_download_url" in on_demand.stdout and PASSWORD not in on_demand.output
    wrong = cli(hss, "upload-command", "swr-one", str(ws))
    assert wrong.code == 1 and "only for the Other channel" in wrong.stderr


def test_wait_reports_success_after_accessing(hss: Hss, tmp_path: Path) -> None:
    Api(hss).configure(access_delay_seconds=0.6)
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    result = cli(hss, "apply", str(ws), "--auto-approve", "--wait", "--wait-timeout", "20s")
    assert result.code == 0, result.output
    assert f"{TARGET}/alpha: HSS access success" in result.stdout
    assert result.stdout.index("HSS access success") < result.stdout.index("Apply complete!")


def test_wait_fails_with_the_reason(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("good"),
                                            registry("bad", registry_addr="registry.fail.invalid")])
    result = cli(hss, "apply", str(ws), "--auto-approve", "--wait", "--wait-timeout", "20s")
    assert result.code == 1
    assert f"{TARGET}/bad: fail (" in result.stderr
    assert "Apply complete!" not in result.stdout
    assert len(Api(hss).list()) == 2  # the registries exist; HSS just cannot reach one


def test_wait_timeout_is_bounded(hss: Hss, tmp_path: Path) -> None:
    Api(hss).configure(access_delay_seconds=600)
    ws = write_workspace(tmp_path / "ws", [registry("slow")])
    result = cli(hss, "apply", str(ws), "--auto-approve", "--wait", "--wait-timeout", "1s")
    assert result.code == 1 and "still accessing after 1s" in result.stderr


def test_target_limits_the_plan_and_warns(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha"), registry("beta")])
    plan = cli(hss, "plan", str(ws), "--target", "beta")
    assert "resource targeting is in effect" in plan.stdout
    assert "beta" in plan.stdout and '"alpha"' not in plan.stdout
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.stdout
    assert cli(hss, "apply", str(ws), "--auto-approve", "--target", f"{TARGET}/beta").code == 0
    assert list(Api(hss).by_name()) == ["beta"]


def test_a_target_that_selects_nothing_is_an_error_not_an_empty_plan(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    for command in ("plan", "apply"):
        result = cli(hss, command, str(ws), "--auto-approve" if command == "apply" else "-v",
                     "--target", "alpah")
        assert result.code == 1, result.output
        assert result.stderr.strip() == ("Error: --target alpah: no declared or managed registry has "
                                         f"this name or address (did you mean 'alpha', address "
                                         f"'{TARGET}/alpha'?)")
    assert Api(hss).list() == []
