"""Timing a whole process: wall time and that process's own peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, from spawn to exit
    maxrss_mb: float  # the command's own peak resident set
    code: int
    stdout: str
    stderr: str


# Linux carries a process's peak RSS across exec, so a child forked from this
# (large) harness would report at least the harness's own size. GNU time is a
# small process in between: it forks and execs the command and reports the
# command's peak alone. Without it, the peak shown is an upper bound.
GNU_TIME = "/usr/bin/time"
EXACT_RSS = os.access(GNU_TIME, os.X_OK)


def run_process(args: Sequence[str], env: Mapping[str, str], *, timeout: float = 900.0) -> Sample:
    """Spawn and wait; wall time from spawn to exit, peak RSS of the command alone (see above)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        command = [GNU_TIME, "-f", "%M", "-o", rss.name, *args] if EXACT_RSS else list(args)
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=dict(env))
        killer = threading.Timer(timeout, proc.kill)  # a hung run fails, it does not hang the harness
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        maxrss_kb = float(usage.ru_maxrss)
        if EXACT_RSS:
            # GNU time exits with the command's status; its file holds only the peak
            # ("Command exited with non-zero status N" first, when it did).
            lines = rss.read().decode().split()
            maxrss_kb = float(lines[-1]) if lines and lines[-1].isdigit() else float("nan")
        out.seek(0)
        err.seek(0)
        return Sample(wall, maxrss_kb / 1024.0, proc.returncode,
                      out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
