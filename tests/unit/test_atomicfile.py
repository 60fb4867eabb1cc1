"""The one atomic writer (state, saved plans, fmt): old file or new, never a mix, nothing left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from reconciler.atomicfile import atomic_write, leftover_temporaries


def test_atomic_write_leaves_the_old_file_when_the_rename_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"old")

    def fail(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary file left behind


def test_atomic_write_leaves_the_old_file_when_the_write_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"old")

    def fail(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="Input/output"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_the_file_then_its_directory_are_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def record(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        synced.append(("dir" if stat.S_ISDIR(mode) else "file", (tmp_path / "s.json").exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    atomic_write(tmp_path / "s.json", b"new")
    # The data before the rename, the directory (the rename itself) after it.
    assert synced == [("file", False), ("dir", True)]
    assert (tmp_path / "s.json").read_bytes() == b"new"


def test_the_mode_is_private_by_default_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"old")
    path.chmod(0o644)
    old_umask = os.umask(0o000)
    try:
        atomic_write(path, b"new")
        atomic_write(tmp_path / "fresh.json", b"new", mode=0o640)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "fresh.json").stat().st_mode) == 0o640


def test_mode_none_keeps_the_files_bits(tmp_path: Path) -> None:
    path = tmp_path / "registries.yaml"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write(path, b"new", mode=None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_bytes() == b"new"
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing.yaml", b"new", mode=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registries.yaml"]


def test_a_symlink_is_followed_only_when_asked(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_bytes(b"old")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    atomic_write(link, b"through", follow_symlinks=True)
    assert link.is_symlink() and real.read_bytes() == b"through"
    atomic_write(link, b"over")
    assert not link.is_symlink() and link.read_bytes() == b"over" and real.read_bytes() == b"through"


def test_leftover_temporaries_are_those_of_this_file_only(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    mine = [tmp_path / ".s.json.k1ll3d.tmp", tmp_path / ".s.json.x2.tmp"]
    for leftover in [*mine, tmp_path / ".other.json.x.tmp", tmp_path / "s.json.backup"]:
        leftover.write_bytes(b"")
    assert leftover_temporaries(path) == mine
