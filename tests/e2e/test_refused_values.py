"""Issue 19.8: values that reached HSS, or the state, though nobody could have meant them.

The file-only cases (password_version 1.0 or 400 digits, version 1.0, a password
of spaces at `validate --check-env`) are folders under tests/cases/invalid/. What
needs a server is here: apply refuses the same passwords before its first call,
and `import NAME ""` is refused before anything is locked or sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Hss, Result
from tests.e2e.workspaces import PASSWORD_ENV, Api, cli, registry, write_workspace

LINE_BREAK = "Canary-first-line\nsecond-line"
SPACES = "      "


def _one_error(result: Result, *wanted: str) -> str:
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    for text in wanted:
        assert text in errors[0], errors[0]
    return errors[0]


def _writes(hss: Hss) -> dict[str, int]:
    requests: dict[str, int] = Api(hss).stats().get("requests", {})
    return {op: n for op, n in requests.items() if op != "ListRegistry"}


@pytest.mark.parametrize(("password", "why"), [(LINE_BREAK, "holds a line break"),
                                               (SPACES, "holds only white space (6 characters)")])
def test_a_password_with_a_line_break_or_only_spaces_is_refused_by_validate_and_by_apply(
        hss: Hss, tmp_path: Path, password: str, why: str) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("first")])
    wanted = (f"registries.yaml:14:5: registries[0].registry_password: {{env: {PASSWORD_ENV}}} {why}",)

    _one_error(cli(hss, "validate", "--check-env", str(ws), **{PASSWORD_ENV: password}), *wanted)
    applied = cli(hss, "apply", str(ws), "--auto-approve", **{PASSWORD_ENV: password})
    _one_error(applied, *wanted)

    assert _writes(hss) == {}, "apply sent something"
    assert Api(hss).list() == []
    assert not (ws / "hss-reconciler.state.json").exists()
    assert "Canary-first-line" not in applied.output


@pytest.mark.parametrize("registry_id", ["", "id with space", "x" * 65])
def test_import_with_an_empty_or_malformed_id_is_refused_before_anything_is_locked_or_sent(
        hss: Hss, tmp_path: Path, registry_id: str) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("first")])
    Api(hss).add("first")
    before, served = sorted(p.name for p in ws.iterdir()), Api(hss).stats()["requests"]

    result = cli(hss, "import", str(ws / "registries.yaml"), "first", registry_id)

    _one_error(result, "an HSS registry id is 1 to 64 characters without spaces", "nothing was sent")
    assert Api(hss).stats()["requests"] == served, "import asked HSS about the id"
    assert sorted(p.name for p in ws.iterdir()) == before, "a state or lock file was written"
