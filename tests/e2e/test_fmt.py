"""`fmt` and `fmt --check` through the installed CLI."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.e2e.conftest import CLI, REPO, run_cli

UNFORMATTED_TAIL = "target:\n    project_id: p\n    region: ap-southeast-1   # Singapore\n"


def _unformatted(directory: Path, name: str = "messy.yaml") -> Path:
    path = directory / name
    path.write_text("# yaml-language-server: $schema=../schemas/registries.schema.json\n"
                    "registries: []\nversion: 1\n" + UNFORMATTED_TAIL)
    return path


FORMATTED = ("# yaml-language-server: $schema=../schemas/registries.schema.json\n"
             "version: 1\ntarget:\n  region: ap-southeast-1   # Singapore\n  project_id: p\n"
             "registries: []\n")


def test_check_lists_unformatted_files_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    messy = _unformatted(tmp_path)
    before = messy.read_bytes()
    (tmp_path / "clean.yaml").write_text(FORMATTED.replace("project_id: p", "project_id: q"))
    result = run_cli("fmt", "--check", str(tmp_path), env=dict(os.environ))
    assert result.code == 1, result.output
    assert result.stdout.splitlines() == [str(messy)]
    assert "1 file not in the canonical layout" in result.stderr
    assert messy.read_bytes() == before


def test_fmt_rewrites_in_place_keeping_mode_then_check_passes(tmp_path: Path) -> None:
    messy = _unformatted(tmp_path)
    messy.chmod(0o640)
    result = run_cli("fmt", str(messy), env=dict(os.environ))
    assert result.code == 0, result.output
    assert result.stdout.splitlines() == [str(messy)]
    assert messy.read_text() == FORMATTED
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messy.yaml"], "no temporary file left"
    again = run_cli("fmt", "--check", str(messy), env=dict(os.environ))
    assert (again.code, again.stdout) == (0, "")


def test_default_path_is_the_current_directory_and_symlinks_stay_links(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = _unformatted(tmp_path / "real")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "link.yaml").symlink_to(real)
    proc = subprocess.run([CLI, "fmt"], cwd=workspace, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["link.yaml"]
    assert (workspace / "link.yaml").is_symlink()
    assert real.read_text() == FORMATTED


def test_an_invalid_file_stops_fmt_before_anything_is_written(tmp_path: Path) -> None:
    messy = _unformatted(tmp_path, "a.yaml")
    before = messy.read_bytes()
    (tmp_path / "b.yaml").write_text("version: 1\ntarget:\n  region: r\nregistries: []\n")
    result = run_cli("fmt", str(tmp_path), env=dict(os.environ))
    assert result.code == 1
    assert result.stderr == f"Error: {tmp_path / 'b.yaml'}:3:3: target: missing required field: project_id\n"
    assert result.stdout == ""
    assert messy.read_bytes() == before


def test_every_example_registry_file_is_formatted() -> None:
    registry_files = [str(p) for p in sorted((REPO / "examples").rglob("*.y*ml"))
                      if "registries.schema.json" in p.read_text().splitlines()[0]]
    assert len(registry_files) >= 2
    result = run_cli("fmt", "--check", *registry_files, env=dict(os.environ))
    assert (result.code, result.stdout) == (0, ""), result.output
