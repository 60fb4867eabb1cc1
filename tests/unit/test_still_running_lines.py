"""Issue 17.6: the lines that say a long call still runs: when they come, where, and in what colour."""

from __future__ import annotations

import io
import threading
import time

import pytest

from reconciler.apply.events import Activity, Progress, StillRunning, heartbeat
from reconciler.cli.output import Output
from reconciler.cli.progress import still_running
from reconciler.secrets import REDACTOR

REFRESHING = StillRunning(Activity.REFRESHING, ("ap-southeast-1/p/0",), 10.4)


@pytest.fixture(autouse=True)
def _no_secrets_of_other_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The redactor is process-wide: a 4-character secret another test in this worker registered
    ("st-1") would be masked inside these lines' region names."""
    monkeypatch.setattr(REDACTOR, "_values", set())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _said(stderr: io.StringIO, event: StillRunning = REFRESHING) -> str:
    progress = still_running("text", Output(stdout=io.StringIO(), stderr=stderr))
    assert progress is not None
    progress.report(event)
    return stderr.getvalue()


@pytest.mark.parametrize(("terminal", "env", "painted"), [
    (True, {}, True),
    (False, {}, False),
    (True, {"TERM": "dumb"}, False),
    (False, {"TERM": "dumb", "FORCE_COLOR": "1"}, True),  # forced beats dumb, terminal or not
    (False, {"CLICOLOR_FORCE": "1"}, True),
    (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # NO_COLOR beats forced
])
def test_the_lines_follow_the_colour_rules_of_stderr(terminal: bool, env: dict[str, str], painted: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TERM", "NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    line = _said(_Terminal() if terminal else io.StringIO())
    plain = "Still refreshing ap-southeast-1/p/0... [10s elapsed]\n"
    assert line == (plain.replace("ap-southeast-1/p/0", "\x1b[1map-southeast-1/p/0\x1b[0m") if painted
                    else plain)


def test_each_activity_has_its_words_and_many_subjects_are_counted() -> None:
    many = tuple(f"t/p/{i}" for i in range(5))
    assert _said(io.StringIO(), StillRunning(Activity.REFRESHING, many, 20)) == (
        "Still refreshing t/p/0, t/p/1, t/p/2 and 2 more... [20s elapsed]\n")
    assert _said(io.StringIO(), StillRunning(Activity.FETCHING_OUTPUTS, ("t/p/0/reg",), 10)) == (
        "t/p/0/reg: Still getting the upload commands... [10s elapsed]\n")
    assert _said(io.StringIO(), StillRunning(Activity.WAITING, ("t/p/0/a", "t/p/0/b"), 30)) == (
        "Still waiting for HSS to reach t/p/0/a, t/p/0/b... [30s elapsed]\n")


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_json_and_markdown_runs_get_no_hook(fmt: str) -> None:
    assert still_running(fmt, Output(stdout=io.StringIO(), stderr=io.StringIO())) is None


def test_a_heartbeat_beats_while_its_block_runs_and_never_after() -> None:
    said: list[StillRunning] = []
    with heartbeat(Progress(said.append, every=0.02), Activity.WAITING, lambda: ("a",)):
        time.sleep(0.15)
    count = len(said)
    time.sleep(0.06)
    assert len(said) == count >= 2
    assert all(s.activity is Activity.WAITING and s.subjects == ("a",) for s in said)
    assert [s.elapsed for s in said] == sorted(s.elapsed for s in said) and said[0].elapsed >= 0.02


def test_no_progress_starts_no_thread() -> None:
    before = threading.active_count()
    with heartbeat(None, Activity.REFRESHING, lambda: ()):
        assert threading.active_count() == before
