"""The lines that say a long refresh or HSS call still runs (issue 17.6): text output only.

Terraform's rhythm ("Still creating... [10s elapsed]"): a hung endpoint holds a call up
to --request-timeout, and a minute of silence reads as a hung tool. The lines go to
stderr, so stdout stays the plan or the result as it always was; under --format json or
markdown none is printed, so those runs read exactly as before.
"""

from __future__ import annotations

from reconciler.apply import events
from reconciler.apply.events import Activity, Progress, StillRunning
from reconciler.cli.output import Output
from reconciler.render.colors import Palette

NAMED = 3  # subjects named in one line; the rest are counted


def still_running(fmt: str, out: Output) -> Progress | None:
    """The Session's progress hook for `fmt`: None (nothing said) but for text."""
    if fmt != "text":
        return None
    # Read at each run, not at import: tests shorten it to a fraction of a second.
    return Progress(lambda event: out.info(phrase(event, out.err_palette)), events.STILL_RUNNING_EVERY)


def phrase(event: StillRunning, palette: Palette) -> str:
    """One line, in the words of apply's own ("NAME: Still creating... [10s elapsed]")."""
    shown = [palette.paint(subject, "bold") for subject in event.subjects[:NAMED]]
    more = len(event.subjects) - NAMED
    subjects = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    elapsed = f"[{event.elapsed:.0f}s elapsed]"
    if event.activity is Activity.REFRESHING:
        return f"Still refreshing {subjects}... {elapsed}"
    if event.activity is Activity.FETCHING_OUTPUTS:
        return f"{subjects}: Still getting the upload commands... {elapsed}"
    return f"Still waiting for HSS to reach {subjects}... {elapsed}"
