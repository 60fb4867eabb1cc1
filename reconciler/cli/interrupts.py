"""Ctrl-C and SIGTERM during apply: finish what is in flight, keep the state, exit.

Killing apply between an accepted AddRegistry and the state write that
records it leaves a registry HSS has and the state does not know (the next
plan adopts it, but a cancelled pipeline should not rely on that). So the first
SIGINT or SIGTERM only sets the executor's `stop` event: nothing new starts,
the calls in flight finish and are checkpointed, and the command exits with
128 + the signal number (130 for Ctrl-C, 143 for SIGTERM, as shells and CI
runners expect). A second signal means "now": the process exits at once with
os._exit. The state file is still whole, because every write of it is an
atomic rename; what the calls in flight did is found by the next plan.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType

from reconciler.apply.result import ApplyResult
from reconciler.cli.applyview import not_started, where_recorded
from reconciler.cli.output import Output
from reconciler.plan.model import Plan

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def _say(text: str) -> None:
    # os.write, not sys.stderr: a signal handler may run while the main thread
    # is inside a buffered write, and re-entering it raises RuntimeError.
    with contextlib.suppress(OSError):
        os.write(2, text.encode("utf-8", "replace"))


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopOnSignal:
    """Within `with`, the first SIGINT/SIGTERM sets `stop`; a second one exits at once.

    `before_exit` runs just before that immediate exit (apply passes the
    release of its state lock, so a double Ctrl-C does not strand the lock).
    Outside the main thread, where Python cannot install handlers, this does
    nothing.
    """

    def __init__(self, stop: threading.Event | None = None, *,
                 before_exit: Callable[[], None] | None = None) -> None:
        self.stop = stop if stop is not None else threading.Event()
        self.signum: int | None = None
        self._before_exit = before_exit
        self._previous: dict[int, _Handler] = {}

    @property
    def exit_code(self) -> int:
        """128 + the first signal's number; 0 when no signal came."""
        return 128 + self.signum if self.signum is not None else 0

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            self.stop.set()
            _say(f"\n{signal_name(signum)} received: starting nothing new; waiting for the calls in "
                 "flight to finish and be saved. Interrupt again to exit at once.\n")
            return
        _say(f"{signal_name(signum)} received again: exiting now. The state file is intact; "
             "run 'hss-reconciler plan' to see what is left.\n")
        if self._before_exit is not None:
            with contextlib.suppress(Exception):
                self._before_exit()
        os._exit(128 + signum)

    def exit_if_interrupted(self, plan: Plan, result: ApplyResult, state_path: Path | str,
                            out: Output) -> None:
        """After `apply_plan` returned: if a signal stopped it, say so in one line and exit.

        Raises SystemExit (not an error the CLI would turn into exit 1), so the
        exit code tells a CI runner the job was cancelled, not that it failed.
        """
        if self.signum is None:
            return
        out.error(interrupted_summary(signal_name(self.signum), plan, result, state_path))
        raise SystemExit(self.exit_code)


def interrupted_summary(signal_text: str, plan: Plan, result: ApplyResult, state_path: Path | str) -> str:
    """What an interrupted apply did: saved, failed, accepted but unsaved (issue 19.4), not started.

    A change HSS accepted after the state file could no longer be written is neither
    done nor failed, and it did start: counting it as "not started" would hide a
    change the user must copy in from the errored file before running again.
    """
    done, failed, unrecorded = len(result.done), len(result.failed), len(result.unrecorded)
    left = not_started(plan, result)
    counts = "".join([f", {failed} failed" if failed else "",
                      f", {unrecorded} accepted by HSS but not saved there" if unrecorded else ""])
    then = where_recorded(result) if unrecorded else "Run apply again to finish."
    return (f"interrupted by {signal_text}: {done} of {len(plan.changes)} changes applied and saved in "
            f"{state_path}{counts}, {left} not started. {then}")
