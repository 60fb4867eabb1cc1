"""Group commit for state checkpoints during a parallel apply.

Every accepted change must be on disk before it counts as done. With ten calls
in flight, ten separate fsync'd writes would serialise the run on the disk;
instead, whoever finds no write in progress writes the latest state, and every
change made before that write started is covered by it (the way databases
group-commit their logs).

Some records only guard against a crash: an add HSS accepted whose id is not
known yet. Waiting for those would cost every worker a write per call, so
`commit_soon` hands them to a writer thread and returns; the record that makes
the change count as done goes through `commit`, which waits.

When a write fails the run must stop starting changes (each would be one more
registry HSS has and the state file does not), yet the calls already in flight
still finish: their changes keep being written to the errored file the store
falls back to, so that file always holds everything HSS accepted. With
`commit_soon`, the calls in flight when a write fails may include ones started
while that write was under way (a few milliseconds).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from reconciler.state.backends.base import Store
from reconciler.state.model import State


class Checkpointer:
    def __init__(self, store: Store, state: State, *, stop: threading.Event | None = None) -> None:
        """`stop` is set on the first failed write; pass the same event to `apply_plan`."""
        self.state = state
        self._store = store
        self._stop = stop
        self._cond = threading.Condition()
        self._changes = 0
        self._saved = 0
        self._writing = False
        self._failure: BaseException | None = None
        self._writer: threading.Thread | None = None
        self._closing = False

    @property
    def failed(self) -> bool:
        """True once a write has failed: no new change should start."""
        return self._failure is not None

    def commit(self, mutate: Callable[[State], None]) -> None:
        """Apply `mutate` to the state and return once a save that includes it is on disk.

        After a failed write this raises for every commit, but only once the
        change has been included in a write to wherever the store fell back to.
        """
        with self._cond:
            self._wait_saved(self._change(mutate))

    def commit_soon(self, mutate: Callable[[State], None]) -> None:
        """Apply `mutate` to the state and return at once; a writer thread saves it.

        Nothing recorded this way may count as done until a later `commit` or
        `flush` returns. A failed write sets `stop` as soon as it happens.
        """
        with self._cond:
            self._change(mutate)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_behind, name="state-writer",
                                                daemon=True)
                self._writer.start()
            self._cond.notify_all()

    def flush(self) -> None:
        """Return once every change so far is on disk; raises if a write has failed."""
        with self._cond:
            self._wait_saved(self._changes)

    def close(self) -> None:
        """Save whatever is pending and stop the writer thread.

        Does not raise: a failed write has already set `stop`, and the
        `commit` that makes each change count as done reports it.
        """
        with self._cond:
            with contextlib.suppress(Exception):  # an interrupt still propagates
                self._wait_saved(self._changes)
            self._closing = True
            self._cond.notify_all()
        if self._writer is not None:
            self._writer.join()

    def _change(self, mutate: Callable[[State], None]) -> int:
        mutate(self.state)
        self._changes += 1
        return self._changes

    def _wait_saved(self, change: int) -> None:
        while self._saved < change:
            if self._writing:
                self._cond.wait()
                continue
            self._write_locked()
        if self._failure is not None:
            raise self._failure

    def _write_behind(self) -> None:
        """The writer thread: write whenever there is something unsaved and nobody is writing."""
        with self._cond:
            while not self._closing:
                if self._writing or self._saved >= self._changes:
                    self._cond.wait()
                    continue
                try:
                    self._write_locked()
                except BaseException as exc:  # the snapshot itself failed: a bug, not the disk
                    self._failed(exc)
                    return

    def _write_locked(self) -> None:
        # Serialise under the lock, write without it: changes made meanwhile
        # queue up and the next writer covers all of them at once.
        upto = self._changes
        payload = self._store.snapshot(self.state)  # may raise: then nobody is left waiting on a writer
        self._writing = True
        failure: BaseException | None = None
        self._cond.release()
        try:
            self._store.write(payload)
        except BaseException as exc:
            failure = exc
        finally:
            self._cond.acquire()
        self._writing = False
        self._saved = max(self._saved, upto)
        self._cond.notify_all()
        if failure is not None:
            self._failed(failure)

    def _failed(self, failure: BaseException) -> None:
        self._failure = failure  # the latest: its message names where the newest state went
        if self._stop is not None:
            self._stop.set()
