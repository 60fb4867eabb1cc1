"""Group commit for state checkpoints during a parallel apply.

Every accepted change must be on disk before it counts as done. With ten calls
in flight, ten separate fsync'd writes would serialise the run on the disk;
instead, whoever finds no write in progress writes the latest state, and every
change made before that write started is covered by it (the way databases
group-commit their logs).

When a write fails the run must stop starting changes (each would be one more
registry HSS has and the state file does not), yet the calls already in flight
still finish: their changes keep being written to the errored file the store
falls back to, so that file always holds everything HSS accepted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from reconciler.state.model import State
from reconciler.state.store import StateStore


class Checkpointer:
    def __init__(self, store: StateStore, state: State, *, stop: threading.Event | None = None) -> None:
        """`stop` is set on the first failed write; pass the same event to `apply_plan`."""
        self.state = state
        self._store = store
        self._stop = stop
        self._cond = threading.Condition()
        self._changes = 0
        self._saved = 0
        self._writing = False
        self._failure: BaseException | None = None

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
            mutate(self.state)
            self._changes += 1
            mine = self._changes
            while self._saved < mine:
                if self._writing:
                    self._cond.wait()
                    continue
                self._write_locked()
            if self._failure is not None:
                raise self._failure

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
            self._failure = failure  # the latest: its message names where the newest state went
            if self._stop is not None:
                self._stop.set()
