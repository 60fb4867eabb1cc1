"""The state lock: atomic, says who holds it, released on every way out, force-unlock checks the id."""

from __future__ import annotations

import gc
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.engine.options import WorkspaceOptions
from reconciler.engine.session import Session
from reconciler.errors import StateError
from reconciler.state.lock import LockHeld, StateLock, acquire, force_unlock, lock_path, read_lock


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "hss-reconciler.state.json"


def test_lock_file_is_private_and_says_who_holds_it(state: Path) -> None:
    with acquire(state, "apply") as lock:
        path = lock_path(state)
        assert path == state.with_name("hss-reconciler.state.json.lock")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = json.loads(path.read_text())
        # Exactly these keys: nothing from the environment or the config can creep in.
        assert set(data) == {"id", "operation", "who", "pid", "created", "version", "path"}
        assert uuid.UUID(data["id"]).version == 4 and data["id"] == lock.info.id
        assert data["operation"] == "apply"
        assert data["who"].endswith("@" + socket.gethostname()) and data["pid"] == os.getpid()
        created = datetime.fromisoformat(data["created"].replace("Z", "+00:00"))
        assert created.tzinfo is not None and abs((datetime.now(UTC) - created).total_seconds()) < 60
        assert data["version"] == __version__ and data["path"] == str(state)
    assert not path.exists()


def test_second_taker_fails_at_once_naming_the_holder(state: Path) -> None:
    with acquire(state, "state rm") as first:
        started = time.monotonic()
        with pytest.raises(LockHeld) as caught:
            acquire(state, "apply")
        assert time.monotonic() - started < 0.5
    message = str(caught.value)
    assert "\n" not in message
    info = first.info
    for part in (info.who, f"pid {info.pid}", "'state rm'", info.created, info.id,
                 f"hss-reconciler force-unlock {info.id} --state {state}", "--lock-timeout"):
        assert part in message, part
    assert caught.value.holder == info


def test_waiting_taker_gets_the_lock_once_it_is_released(state: Path) -> None:
    first = acquire(state, "apply")
    threading.Timer(0.4, first.release).start()
    started = time.monotonic()
    with acquire(state, "apply", timeout=10, poll=0.05) as second:
        waited = time.monotonic() - started
        assert second.info.id != first.info.id
        assert read_lock(lock_path(state)) == second.info
    assert 0.3 < waited < 5


def test_waiting_gives_up_after_the_timeout(state: Path) -> None:
    with acquire(state, "apply"):
        started = time.monotonic()
        with pytest.raises(LockHeld, match=r"waited 0.3s"):
            acquire(state, "apply", timeout=0.3, poll=0.05)
        assert 0.25 < time.monotonic() - started < 2


def test_exactly_one_of_many_racing_takers_wins(state: Path) -> None:
    barrier = threading.Barrier(8)
    won: list[StateLock] = []
    lost: list[str] = []

    def take() -> None:
        barrier.wait()
        try:
            won.append(acquire(state, "apply"))  # kept, so still held when we look
        except LockHeld:
            lost.append("x")

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 7
    holder = read_lock(lock_path(state))
    assert holder is not None and holder.id == won[0].info.id


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_released_when_the_block_raises(state: Path, error: BaseException) -> None:
    with pytest.raises(type(error)), acquire(state, "apply"):
        assert lock_path(state).exists()
        raise error
    assert not lock_path(state).exists()


def test_released_when_dropped_without_release(state: Path) -> None:
    lock = acquire(state, "apply")
    assert lock_path(state).exists()
    del lock
    gc.collect()
    assert not lock_path(state).exists()


def test_release_leaves_a_lock_that_is_not_ours(state: Path) -> None:
    mine = acquire(state, "apply")
    force_unlock(state, mine.info.id)
    theirs = acquire(state, "import")
    mine.release()
    assert read_lock(lock_path(state)) == theirs.info
    theirs.release()
    assert not lock_path(state).exists()


CHILD = """
import os, sys
from pathlib import Path
from reconciler.state.lock import acquire
lock = acquire(Path(sys.argv[1]), "apply")
print(lock.info.id, flush=True)
how = sys.argv[2]
if how == "interrupt":
    raise KeyboardInterrupt
if how == "exit":
    sys.exit(0)
os._exit(0)  # like SIGKILL: no cleanup runs
"""


@pytest.mark.parametrize(("how", "left_behind"), [("exit", False), ("interrupt", False), ("kill", True)])
def test_process_exit_releases_what_it_can_clean_up(state: Path, how: str, left_behind: bool) -> None:
    child = subprocess.run([sys.executable, "-c", CHILD, str(state), how], capture_output=True, text=True,
                           timeout=30, check=False)
    lock_id = child.stdout.strip()
    assert uuid.UUID(lock_id)
    assert lock_path(state).exists() is left_behind
    if left_behind:
        with pytest.raises(LockHeld) as caught:
            acquire(state, "apply")
        # A dead holder on this host gets a hint, never an automatic removal.
        assert "looks stale" in str(caught.value) and lock_path(state).exists()
        assert force_unlock(state, lock_id).id == lock_id
        assert not lock_path(state).exists()


def test_force_unlock_checks_the_id(state: Path) -> None:
    lock = acquire(state, "apply")
    before = lock_path(state).read_bytes()
    wrong = str(uuid.uuid4())
    with pytest.raises(StateError, match=re.escape(f"lock id {wrong} does not match")) as caught:
        force_unlock(state, wrong)
    assert "nothing was released" in str(caught.value)
    assert lock_path(state).read_bytes() == before
    released = force_unlock(state, lock.info.id)
    assert released == lock.info
    assert not lock_path(state).exists()
    with pytest.raises(StateError, match="there is no state lock"):
        force_unlock(state, lock.info.id)


def test_an_unreadable_lock_is_never_taken_over_and_only_its_printed_id_removes_it(state: Path) -> None:
    lock_path(state).write_bytes(b"")  # a run died between creating and writing it
    with pytest.raises(StateError, match=r"lock: empty .*malformed.*force-unlock malformed-") as caught:
        acquire(state, "apply")
    with pytest.raises(StateError, match="does not match the malformed state lock"):
        force_unlock(state, str(uuid.uuid4()))
    assert lock_path(state).read_bytes() == b""
    unlock_id = re.search(r"force-unlock (\S+)", str(caught.value))[1]  # type: ignore[index]
    force_unlock(state, unlock_id)
    assert not lock_path(state).exists()


def test_a_directory_that_cannot_hold_the_lock_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    with pytest.raises(StateError, match=r"cannot create the state lock .*Nothing was changed"):
        acquire(blocker / "s.json", "apply")


WORKSPACE = """\
version: 1
target: {region: ap-southeast-1, project_id: 0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c}
registries:
  - registry_name: harbor-prod
    registry_type: Harbor
    api_version: V2
    protocol: https
    registry_addr: harbor.example.com
    registry_username: robot-hss
    registry_password: {env: SOME_PASSWORD}
    connect_cluster_id: 6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f
    get_scan_image_channel: Swr
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    directory = tmp_path / "ws"
    directory.mkdir()
    (directory / "registries.yaml").write_text(WORKSPACE)
    return directory


def _open(files: Path, lock_timeout: float | None = None, operation: str = "apply") -> Session:
    return Session.open(WorkspaceOptions((str(files),), lock_timeout=lock_timeout, operation=operation))


def test_session_holds_the_lock_until_closed(files: Path) -> None:
    state = files / "hss-reconciler.state.json"
    with _open(files, lock_timeout=0, operation="import") as session:
        assert session.lock is not None
        holder = read_lock(lock_path(state))
        assert holder is not None and holder.operation == "import"
        with pytest.raises(LockHeld):
            _open(files, lock_timeout=0)
        plain = _open(files)  # read-only: no lock, no wait, no error
        assert plain.lock is None
        plain.close()
        assert lock_path(state).exists()
    assert not lock_path(state).exists()


def test_session_releases_the_lock_when_the_state_is_refused(files: Path) -> None:
    state = files / "hss-reconciler.state.json"
    state.write_text("{ not json")
    with pytest.raises(StateError, match="not valid JSON"):
        _open(files, lock_timeout=0)
    assert not lock_path(state).exists()
    assert state.read_text() == "{ not json"
