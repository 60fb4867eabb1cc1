"""Every folder under tests/cases/invalid/ is one bad input run through the installed CLI.

A folder holds the workspace files plus:
  expected.txt  one line per expected stderr line, in order; each is a substring of that line
  command.txt   optional: the arguments (default `validate .`), run inside a copy of the folder
  env.txt       optional: NAME=VALUE lines added to the environment
  absent.txt    optional: text that must appear nowhere in the output (a pasted secret)
A new bad input is a new folder; inputs that cannot live in git (a 50 MB file, a
symlink loop) are made by GENERATORS below at test time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI, CREDENTIAL_VARS, Result

CASES = Path(__file__).resolve().parents[1] / "cases" / "invalid"
METADATA = frozenset({"expected.txt", "command.txt", "env.txt", "absent.txt"})
DURATIONS: dict[str, float] = {}


def _fifty_megabytes(workspace: Path) -> None:
    with (workspace / "registries.yaml").open("wb") as handle:
        handle.write(b"version: 1\n# padding\n")
        line = b"# " + b"x" * 1021 + b"\n"
        handle.write(line * (50 * 1024))


def _symlink_loop(workspace: Path) -> None:
    os.symlink("b.yaml", workspace / "a.yaml")
    os.symlink("a.yaml", workspace / "b.yaml")


def _sixty_thousand_brackets(workspace: Path) -> None:
    # One line: libyaml reads ahead of the events, and newer releases refuse it first.
    depth = 60_000
    (workspace / "registries.yaml").write_text(f"version: 1\ntarget: {'[' * depth}{']' * depth}\n")


STATE = "hss-reconciler.state.json"
# The lock cases keep their state as state.json (command.txt: --state state.json), since git
# ignores *.state.json: a case's files must survive a clone and the sdist.
LOCK = "state.json.lock"


def _state_nested_100000_deep(workspace: Path) -> None:
    # Python's json raises RecursionError on it: reported at its line, not a crash.
    depth = 100_000
    (workspace / STATE).write_text('{"version": 1, "serial": 1, "lineage": "x", "registries": ['
                                   + "[" * depth + "]" * depth + "]}\n")


def _sparse(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no disk space: refused from its size, never read."""
    with path.open("wb") as handle:
        handle.truncate(size)


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda workspace: os.mkfifo(workspace / name)  # opening it for reading would wait for a writer


def _socket(workspace: Path) -> None:
    with contextlib.chdir(workspace), socket.socket(socket.AF_UNIX) as server:
        server.bind("socket.yaml")  # relative: a socket path holds at most 107 bytes


def _link(name: str, target: str) -> Callable[[Path], None]:
    return lambda workspace: os.symlink(target, workspace / name)


def _state_symlink_loop(workspace: Path) -> None:
    os.symlink("loop.json", workspace / STATE)
    os.symlink(STATE, workspace / "loop.json")


GENERATORS: dict[str, Callable[[Path], None]] = {
    "deep-nesting-one-long-line": _sixty_thousand_brackets,
    "file-50mb": _fifty_megabytes,
    "symlink-loop": _symlink_loop,
    # the state file, its lock and the workspace's entries as a hostile checkout can leave them
    "state-json-nested-100000-deep": _state_nested_100000_deep,
    "state-larger-than-32-mib": lambda workspace: _sparse(workspace / STATE, 33 * 1024 * 1024),
    "lock-larger-than-64-kib": lambda workspace: _sparse(workspace / LOCK, 65 * 1024),
    "fifo-registry-file": _fifo("pipe.yaml"),
    "fifo-named-on-the-command-line": _fifo("pipe.yaml"),
    "socket-registry-file": _socket,
    "device-registry-file": _link("zero.yaml", "/dev/zero"),  # reading it would never end
    "state-is-a-fifo": _fifo(STATE),
    "state-is-a-device": _link(STATE, "/dev/zero"),
    "lock-is-a-fifo": _fifo(LOCK),
    "lock-is-a-symlink": _link(LOCK, "state.json"),
    "state-symlink-loop": _state_symlink_loop,
    "state-symlink-to-nowhere": _link(STATE, "moved-away/hss-reconciler.state.json"),
}

Snapshot = dict[str, tuple[int, int, int, str | None]]


def _snapshot(root: Path) -> Snapshot:
    """Every entry under root with its mode, size, mtime (and link target): any write changes it."""
    found: Snapshot = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory, name)
            info = path.lstat()
            link = os.readlink(path) if path.is_symlink() else None
            found[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns, link)
    return found


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _env(case: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in CREDENTIAL_VARS and not k.startswith("HSS_CASE_")}
    for line in _lines(case / "env.txt"):
        name, _, value = line.partition("=")
        env[name] = value
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> Result:
    """run_cli, inside the workspace, so messages name files as a user there would see them."""
    proc = subprocess.run([CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
                          check=False, stdin=subprocess.DEVNULL)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.fixture(scope="module", autouse=True)
def _report_durations(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not DURATIONS:
        return
    slowest = max(DURATIONS, key=DURATIONS.__getitem__)
    line = f"bad-input cases: {len(DURATIONS)}, slowest {slowest} {DURATIONS[slowest]:.3f} s"
    # Timing on a shared CI machine is reported, not asserted.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n{line}")


def test_the_corpus_is_large_and_every_case_says_what_it_expects() -> None:
    names = _case_names()
    assert len(names) >= 40
    for name in names:
        assert _lines(CASES / name / "expected.txt"), f"{name}: expected.txt is empty"
        inputs = [p for p in (CASES / name).iterdir() if p.name not in METADATA]
        assert inputs or name in GENERATORS, f"{name}: no input files"


@pytest.mark.parametrize("name", _case_names())
def test_bad_input(name: str, tmp_path: Path) -> None:
    case = CASES / name
    workspace = tmp_path / "ws"
    shutil.copytree(case, workspace, symlinks=True,
                    ignore=lambda _dir, names: [n for n in names if n in METADATA])
    if name in GENERATORS:
        GENERATORS[name](workspace)
    before = _snapshot(workspace)
    command = (_lines(case / "command.txt") or ["validate ."])[0].split()

    started = time.perf_counter()
    result = _run(command, _env(case), workspace)
    DURATIONS[name] = elapsed = time.perf_counter() - started
    print(f"{name}: {elapsed:.3f} s")

    assert result.code == 1, result.output
    assert result.stdout == ""
    stderr = result.stderr.splitlines()
    assert "Traceback" not in result.output
    assert all(line.startswith("Error: ") for line in stderr), result.stderr
    expected = _lines(case / "expected.txt")
    assert len(stderr) == len(expected), f"one line per problem:\n{result.stderr}"
    for want, line in zip(expected, stderr, strict=True):
        assert want in line, f"\nwanted: {want}\n   got: {line}"
    for secret in _lines(case / "absent.txt"):
        assert secret not in result.output
    assert _snapshot(workspace) == before, "the run wrote to the workspace"
