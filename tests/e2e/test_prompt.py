"""Issue 2.5: on a terminal, apply asks for 'yes'; anything else cancels and changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.terminal import run_in_terminal
from tests.e2e.workspaces import Api, env_for, registry, write_workspace


def test_yes_applies(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    code, screen = run_in_terminal(["apply", str(ws)], env_for(hss), "yes")
    assert code == 0, screen
    assert "Only 'yes' will be accepted to approve." in screen and "Apply complete!" in screen
    assert list(Api(hss).by_name()) == ["alpha"]


def test_anything_else_cancels(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    code, screen = run_in_terminal(["apply", str(ws)], env_for(hss), "y")
    assert code == 1 and "Apply cancelled." in screen
    assert Api(hss).list() == [] and not (ws / "hss-reconciler.state.json").exists()
