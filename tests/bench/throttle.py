"""Throttling benchmark (issue 16.7): apply against APIG's per-user rate limit, paced and not.

    .venv/bin/python -m tests.bench.throttle [--adds 500] [--rate-limit 20] [--latency-ms 20]
                                             [--baseline 58cb4b8] [--runs 1] [--keep]

One emulator process with ``--rate-limit`` (a token bucket per credential,
answering 429 APIG.0308 with Retry-After) and ``--latency-ms``. Two installs
of hss-reconciler, each `pip install`ed fresh (install.py): this checkout,
which paces itself (reconciler/apply/pacing.py), and the baseline revision,
whose workers each retry their own 429s (fixed width). Each applies the same
new registries from an empty emulator; the table gives wall time against the
ideal (adds / rate), and the share of the calls the gateway answered 429.
Runs alternate which install goes first, so both share the machine's load.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.bench.emulator import EmulatorProcess, wait_idle
from tests.bench.install import REPO, install_from_checkout
from tests.bench.measure import run_process
from tests.bench.run import Bench, BenchError
from tests.bench.workload import Workload

BASELINE = "58cb4b8"  # the last revision before pacing: fixed-width retry
TARGET_RATIO, TARGET_SHARE = 1.2, 0.10


@dataclass(frozen=True)
class Outcome:
    label: str
    wall: float
    requests: int
    throttled: int

    @property
    def share(self) -> float:
        return self.throttled / self.requests if self.requests else 0.0


def _baseline_tree(revision: str, into: Path) -> Path:
    """The baseline revision's files (git archive: no worktree, nothing written to .git)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _apply(cli: str, label: str, workload: Workload, workspace: Path, state: Path,
           emulator: EmulatorProcess) -> Outcome:
    emulator.reset()
    state.unlink(missing_ok=True)
    env = {**Bench._base_env(), "HSS_ENDPOINT": emulator.url, "HSS_AUTH_TOKEN": emulator.token}
    sample = run_process([cli, "apply", str(workspace), "--auto-approve", "--state", str(state)], env)
    if sample.code != 0 or f"{workload.count} added" not in sample.stdout:
        tail = (sample.stdout + sample.stderr).strip().splitlines()[-8:]
        raise BenchError(f"{label}: exit {sample.code}\n  " + "\n  ".join(tail))
    wait_idle(emulator)
    stats = emulator.stats()
    if stats["registries"] != workload.count:
        raise BenchError(f"{label}: the emulator holds {stats['registries']} registries, "
                         f"not {workload.count}")
    return Outcome(label, sample.wall, int(stats["total_requests"]), int(stats["responses"].get("429", 0)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.throttle",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--adds", type=int, default=500)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--baseline", default=BASELINE, help="revision to compare with ('' for none)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="hss-bench-throttle-"))
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    try:
        log(f"installing this checkout into {root / 'venv-paced'}")
        clis = {"paced (this checkout)": install_from_checkout(root / "venv-paced")}
        if args.baseline:
            log(f"installing {args.baseline} into {root / 'venv-baseline'}")
            tree = _baseline_tree(args.baseline, root / "baseline-src")
            clis[f"fixed-width retry ({args.baseline})"] = install_from_checkout(root / "venv-baseline", tree)
        workload = Workload("t", args.adds)
        workload.write(root / "ws")
        emulator = EmulatorProcess(args.latency_ms, log=root / "emulator.log",
                                   extra=("--rate-limit", f"{args.rate_limit:g}"))
        outcomes: list[Outcome] = []
        try:
            for run in range(args.runs):
                order = list(clis.items())
                for label, cli in order[run % 2:] + order[:run % 2]:
                    outcome = _apply(cli, label, workload, root / "ws", root / f"state-{run}.json", emulator)
                    log(f"  run {run + 1}: {label}: {outcome.wall:.1f} s, {outcome.throttled} of "
                        f"{outcome.requests} calls answered 429")
                    outcomes.append(outcome)
        finally:
            emulator.stop()
        ideal = args.adds / args.rate_limit
        print(f"{args.adds} adds, --rate-limit {args.rate_limit:g}, --latency-ms {args.latency_ms:g}; "
              f"ideal {ideal:.1f} s; target <= {TARGET_RATIO}x and <= {TARGET_SHARE:.0%} answered 429")
        print("| client | wall | / ideal | calls | answered 429 | share |")
        print("|---|---|---|---|---|---|")
        for o in outcomes:
            print(f"| {o.label} | {o.wall:.1f} s | {o.wall / ideal:.2f}x | {o.requests} | {o.throttled} "
                  f"| {o.share:.1%} |")
        return 0
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
