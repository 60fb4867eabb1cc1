"""`fmt` and `fmt --check` through the installed CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import CLI, QUICKSTART, REPO, run_cli

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


QUICK_SECRET = "registry_password: {env: HARBOR_PROD_PASSWORD}"
QUICK_TARGET = ('target:\n  region: ap-southeast-1\n  project_id: 0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c\n'
                '  enterprise_project_id: "0"\n')


def _quickstart_copy(directory: Path, old: str, new: str, name: str = "registries.yaml") -> Path:
    quick = (QUICKSTART / "registries.yaml").read_text()
    assert old in quick
    path = directory / name
    path.write_text(quick.replace(old, new))
    return path


def test_comments_inside_flow_collections_are_kept_then_check_passes(tmp_path: Path) -> None:
    secret = _quickstart_copy(tmp_path, QUICK_SECRET, "registry_password: {  # c\n      env: PW}", "a.yaml")
    target = _quickstart_copy(tmp_path, QUICK_TARGET,
                              "target: {\n  region: ap-southeast-1,  # the region\n  project_id: p1}\n",
                              "b.yaml")
    result = run_cli("fmt", str(secret), str(target), env=dict(os.environ))
    assert result.code == 0, result.output
    assert "    registry_password: {env: PW}  # c\n" in secret.read_text()
    assert ("target:\n  region: ap-southeast-1  # the region\n  project_id: p1\nregistries:\n"
            in target.read_text())
    again = run_cli("fmt", "--check", str(secret), str(target), env=dict(os.environ))
    assert (again.code, again.stdout) == (0, ""), again.output


def test_a_comment_after_the_document_end_is_kept_by_fmt(tmp_path: Path) -> None:
    """Issue 19.11: fmt used to refuse a file with a comment after `...`; it now keeps the comment."""
    kept = _quickstart_copy(tmp_path, "get_scan_image_channel: Other\n",
                            "get_scan_image_channel: Other\n...\n# after the document\n", "b.yaml")
    result = run_cli("fmt", str(tmp_path), env=dict(os.environ))
    assert result.code == 0, result.stderr
    assert kept.read_text().endswith("...\n# after the document\n")
    assert run_cli("fmt", "--check", str(tmp_path), env=dict(os.environ)).code == 0


def test_a_flow_comment_fmt_cannot_place_is_refused_with_its_position(tmp_path: Path) -> None:
    """No valid file is known to need it, so `place_comments` is made to fail in the process."""
    path = _quickstart_copy(tmp_path, QUICK_SECRET, "registry_password: {  # c\n      env: PW}")
    before = path.read_bytes()
    script = ("import sys, reconciler.fmt.layout as layout\n"
              "layout.place_comments = lambda text, placements: text\n"
              "from reconciler.cli.main import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    expected = (f"Error: {path}:17:27: fmt cannot keep the comment inside this flow collection; "
                "write it in block style\n")
    for args in (("fmt",), ("fmt", "--check")):
        proc = subprocess.run([sys.executable, "-c", script, *args, str(path)], capture_output=True,
                              text=True, timeout=60, check=False)
        assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", expected), args
        assert path.read_bytes() == before
