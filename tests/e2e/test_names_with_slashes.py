"""Issue 19.2: names holding `/`, spaces and quotes are addressed like any other.

Addresses are `region/project/enterprise-project/name`; a name was once cut
out of an address at its last `/`, so `team/harbor` could not be shown, removed
or asked for its upload commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import TARGET, cli, registry, write_workspace

NAMES = ("team/harbor", "with space", "it's \"quoted\"")


@pytest.fixture
def applied(hss: Hss, tmp_path: Path) -> Path:
    registries = [registry(name, registry_addr="harbor.example.com") for name in NAMES]
    registries.append(registry("team/jfrog", registry_addr="jfrog.example.com",
                               get_scan_image_channel="Other", namespace="scanners"))
    ws = write_workspace(tmp_path / "ws", registries)
    result = cli(hss, "apply", str(ws), "--auto-approve")
    assert result.code == 0, result.output
    return ws


@pytest.mark.parametrize("name", NAMES)
def test_state_show_finds_the_name_and_its_full_address(hss: Hss, applied: Path, name: str) -> None:
    state = str(applied / "hss-reconciler.state.json")
    for wanted in (name, f"{TARGET}/{name}"):
        shown = cli(hss, "state", "show", wanted, "--state", state)
        assert shown.code == 0, shown.output
        assert json.loads(shown.stdout)["registry_name"] == name


def test_state_rm_removes_exactly_the_named_registry(hss: Hss, applied: Path) -> None:
    state = str(applied / "hss-reconciler.state.json")
    removed = cli(hss, "state", "rm", "team/harbor", "--state", state)
    assert removed.code == 0, removed.output
    listed = cli(hss, "state", "list", "--state", state).stdout.splitlines()
    assert f"{TARGET}/team/harbor" not in listed and f"{TARGET}/team/jfrog" in listed


def test_upload_command_for_a_name_with_a_slash(hss: Hss, applied: Path) -> None:
    result = cli(hss, "upload-command", "team/jfrog", str(applied))
    assert result.code == 0, result.output
    assert "image_command" in result.stdout


def test_a_part_of_a_name_is_not_a_name(hss: Hss, applied: Path) -> None:
    state = str(applied / "hss-reconciler.state.json")
    result = cli(hss, "state", "show", "harbor", "--state", state)
    assert result.code == 1 and "harbor: no such registry in" in result.stderr
