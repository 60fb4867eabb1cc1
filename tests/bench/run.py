"""The benchmark harness for issue 5: one command, one table of medians.

    .venv/bin/python -m tests.bench [--quick] [--runs N] [--latency-ms 50] [--json FILE] [--dev-venv]

Every measurement is a whole process (interpreter start included), timed from
spawn to exit; peak RSS is that process's own (os.wait4). Each run measures
every scenario once, so a comparison's two sides share that run's machine
noise; ratios are computed within a run, and the table shows the median of
the per-run ratios beside the median times.

Two emulators run as separate processes with the same latency: one for the
apply scenarios (reset between runs through /_emulator/reset), one seeded once
(at zero latency, through hss-reconciler itself) for the plan scenarios.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.emulator import CLI, EmulatorProcess, wait_idle
from tests.bench.install import compile_development_copy, install_from_checkout
from tests.bench.measure import Sample, median, run_process
from tests.bench.probe import probe
from tests.bench.workload import PASSWORD, PASSWORD_ENV, Workload

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PARALLELISM = 10  # hss-reconciler's default --parallelism; the floors below assume it
CREDENTIAL_VARS = ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                   "CLOUD_SDK_AK", "CLOUD_SDK_SK", "HSS_AUTH_TOKEN", "HSS_ENDPOINT")
YAML_FLOOR = ("import sys, yaml\n"
              "for p in sys.argv[1:]:\n"
              "    with open(p, 'rb') as f: yaml.load(f, Loader=yaml.CSafeLoader)\n")


@dataclass(frozen=True)
class Sizes:
    apply_main: int  # A: the size compared with the SDK loop and the floor
    apply_sizes: tuple[int, ...]  # D: linearity of apply
    plan_main: int  # B
    plan_sizes: tuple[int, ...]  # D: linearity of plan
    noop: int = 10  # C
    probe_requests: int = 40  # E: requests per probe thread


FULL = Sizes(200, (50, 200, 800), 2000, (200, 2000, 10000))
QUICK = Sizes(50, (50,), 200, (200,), probe_requests=10)


@dataclass
class Results:
    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def wall(self, key: str) -> float:
        return median([s.wall for s in self.samples[key]])

    def rss(self, key: str) -> float:
        return median([s.maxrss_mb for s in self.samples[key]])

    def value(self, key: str) -> float:
        return median(self.values[key])


class BenchError(RuntimeError):
    pass


def _check(sample: Sample, what: str, expect: str | None = None, codes: Sequence[int] = (0,)) -> Sample:
    if sample.code not in codes or (expect is not None and expect not in sample.stdout):
        tail = (sample.stdout + sample.stderr).strip().splitlines()[-8:]
        raise BenchError(f"{what}: exit {sample.code}, expected {expect!r}\n  " + "\n  ".join(tail))
    return sample


class Bench:
    def __init__(self, sizes: Sizes, latency_ms: float, root: Path, log: Callable[[str], None],
                 cli: str = CLI) -> None:
        self.cli = cli  # the hss-reconciler being measured (the emulators always run from this venv)
        self.sizes = sizes
        self.latency = latency_ms / 1000.0
        self.root = root
        self.log = log
        self.results = Results()
        self.apply_emulator = EmulatorProcess(latency_ms, log=root / "emulator-apply.log")
        self.plan_emulator = EmulatorProcess(latency_ms, log=root / "emulator-plan.log")
        self.applies = {n: Workload(f"a{n}", n) for n in sorted({sizes.apply_main, *sizes.apply_sizes})}
        self.plans = {n: Workload(f"p{n}", n) for n in sorted({sizes.plan_main, *sizes.plan_sizes})}
        self.noop = Workload("c", sizes.noop)
        self.files: dict[str, list[Path]] = {}
        for workload in [*self.applies.values(), *self.plans.values(), self.noop]:
            self.files[workload.label] = workload.write(root / "ws" / workload.label)

    def close(self) -> None:
        self.apply_emulator.stop()
        self.plan_emulator.stop()

    # -- environments -------------------------------------------------------------

    @staticmethod
    def _base_env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
        env.update({"NO_COLOR": "1", PASSWORD_ENV: PASSWORD})
        return env

    def reconciler_env(self, emulator: EmulatorProcess) -> dict[str, str]:
        return {**self._base_env(), "HSS_ENDPOINT": emulator.url, "HSS_AUTH_TOKEN": emulator.token}

    def sdk_env(self, emulator: EmulatorProcess) -> dict[str, str]:
        env = {**self._base_env(), "HUAWEICLOUD_SDK_AK": emulator.ak, "HUAWEICLOUD_SDK_SK": emulator.sk}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        # The SDK writes ~/.huaweicloud/application_id: into the run's own directory, not the user's home.
        home = self.root / "sdk-home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)
        return env

    def workspace(self, workload: Workload) -> str:
        return str(self.root / "ws" / workload.label)

    # -- set-up ---------------------------------------------------------------------

    def seed(self) -> None:
        """Seed the plan emulator and a matching state per plan workload (see seed.py), then check
        that each plan has nothing to change."""
        from tests.bench.seed import seed

        emulator = self.plan_emulator
        emulator.set_latency(0)
        try:
            for workload in [self.noop, *self.plans.values()]:
                started = time.perf_counter()
                seed(workload, Path(self.workspace(workload)), self.state_path(workload), emulator.url,
                     emulator.token)
                self.log(f"  seeded {workload.count} registries in {time.perf_counter() - started:.1f}s")
        finally:
            emulator.set_latency(self.latency * 1000)
        for workload in [self.noop, *self.plans.values()]:
            _check(self.plan(workload), f"no-op plan {workload.count}", "No changes")
        served = emulator.stats()["registries"]
        expected = self.noop.count + sum(w.count for w in self.plans.values())
        if served != expected:
            raise BenchError(f"plan emulator holds {served} registries, expected {expected}")

    def state_path(self, workload: Workload, run: int | None = None) -> Path:
        suffix = "" if run is None else f"-run{run}"
        path = self.root / "state" / f"{workload.label}{suffix}.json"
        path.parent.mkdir(exist_ok=True)
        return path

    # -- one measurement each -------------------------------------------------------------

    def plan(self, workload: Workload) -> Sample:
        return run_process([self.cli, "plan", self.workspace(workload), "--detailed-exitcode",
                            "--state", str(self.state_path(workload))],
                           self.reconciler_env(self.plan_emulator))

    def apply(self, workload: Workload, run: int) -> Sample:
        emulator = self.apply_emulator
        emulator.reset()
        sample = run_process([self.cli, "apply", self.workspace(workload), "--auto-approve",
                              "--state", str(self.state_path(workload, run))],
                             self.reconciler_env(emulator))
        _check(sample, f"apply {workload.count}", f"{workload.count} added")
        wait_idle(emulator)
        stats = emulator.stats()
        if stats["registries"] != workload.count:
            raise BenchError(f"apply {workload.count}: emulator holds {stats['registries']}")
        key = f"A{workload.count}"
        self.results.values[f"{key}.requests"].append(stats["total_requests"])
        self.results.values[f"{key}.lists"].append(stats["requests"].get("ListRegistry", 0))
        self.results.values[f"{key}.served_rps"].append(stats["total_requests"] / sample.wall)
        self.results.values[f"{key}.max_in_flight"].append(stats["max_in_flight"])
        return sample

    def sdk_loop(self, workload: Workload) -> Sample:
        emulator = self.apply_emulator
        emulator.reset()
        sample = run_process([PYTHON, "-m", "tests.bench.sdk_loop", "--endpoint", emulator.url,
                              "--label", workload.label, "--count", str(workload.count)],
                             self.sdk_env(emulator))
        _check(sample, "SDK loop", f"added {workload.count}")
        if emulator.stats()["registries"] != workload.count:
            raise BenchError("SDK loop: the emulator does not hold every registry")
        return sample

    def stack_loop(self, workload: Workload) -> Sample:
        emulator = self.apply_emulator
        emulator.reset()
        # The measured install's interpreter, so httpx is the same version, byte-compiled alike.
        python = str(Path(self.cli).parent / "python")
        env = {**self.reconciler_env(emulator), "PYTHONPATH": str(REPO)}
        sample = run_process([python, str(REPO / "tests" / "bench" / "stack_loop.py"), "--endpoint",
                              emulator.url, "--label", workload.label, "--count", str(workload.count),
                              "--parallelism", str(PARALLELISM)], env)
        _check(sample, "httpx loop", f"added {workload.count}, listed {workload.count}")
        return sample

    # -- one run: every scenario once ----------------------------------------------------------

    def run_once(self, run: int) -> None:
        r = self.results
        put = r.samples
        env = self._base_env()
        put["python"].append(_check(run_process([PYTHON, "-c", "pass"], env), "python -c pass"))
        put["version"].append(_check(run_process([self.cli, "--version"], env), "--version",
                                     "hss-reconciler"))
        put["C.plan"].append(_check(self.plan(self.noop), "no-op plan", "No changes"))

        main = self.applies[self.sizes.apply_main]
        # Rotate which side goes first, so slow drift in machine load favours none.
        sides: dict[str, Callable[[], Sample]] = {
            f"A{main.count}": lambda: self.apply(main, run),
            "A.sdk": lambda: self.sdk_loop(main),
            "A.stack": lambda: self.stack_loop(main),
        }
        order = list(sides)
        for key in order[run % 3:] + order[:run % 3]:
            put[key].append(sides[key]())
        ours = put[f"A{main.count}"][-1].wall
        r.values["A.speedup"].append(put["A.sdk"][-1].wall / ours)
        r.values["A.vs_stack"].append(ours / put["A.stack"][-1].wall)
        r.values["A.stack_vs_floor"].append(
            put["A.stack"][-1].wall / (put["python"][-1].wall + self.apply_floor_network(main)))
        for n, workload in self.applies.items():
            if n != main.count:
                put[f"A{n}"].append(self.apply(workload, run))
        for n, workload in self.applies.items():
            floor = put["python"][-1].wall + self.apply_floor_network(workload)
            r.values[f"A{n}.floor"].append(floor)
            r.values[f"A{n}.vs_floor"].append(put[f"A{n}"][-1].wall / floor)

        for n, workload in self.plans.items():
            files = [str(p) for p in self.files[workload.label]]
            parse = _check(run_process([PYTHON, "-c", YAML_FLOOR, *files], env), "yaml floor")
            put[f"B{n}.parse"].append(parse)
            sample = _check(self.plan(workload), f"plan {n}", "No changes")
            put[f"B{n}"].append(sample)
            floor = parse.wall + self.latency
            r.values[f"B{n}.floor"].append(floor)
            r.values[f"B{n}.vs_floor"].append(sample.wall / floor)

    def apply_floor_network(self, workload: Workload) -> float:
        """N adds at `PARALLELISM` at a time, then one ListRegistry page per target."""
        return workload.count * self.latency / PARALLELISM + workload.targets * self.latency

    def probe_emulator(self) -> None:
        emulator = self.apply_emulator
        emulator.reset()
        for concurrency in (PARALLELISM, 5 * PARALLELISM):
            rate, failed = probe(emulator.url, emulator.token, concurrency, self.sizes.probe_requests)
            if failed:
                raise BenchError(f"emulator probe: {failed} requests failed")
            self.results.values[f"E.probe{concurrency}"].append(rate)


# -- the table ----------------------------------------------------------------------------------------

def _s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def table(bench: Bench) -> list[list[str]]:
    r, sizes, lat = bench.results, bench.sizes, bench.latency
    n_a = sizes.apply_main
    a_main = bench.applies[n_a]
    py = r.wall("python")
    rows: list[list[str]] = [["#", "scenario", "median", "compared with", "ratio (median)", "target", "met"]]

    speedup = r.value("A.speedup")
    rows.append(["A", f"apply {n_a} new, {a_main.targets} targets: hss-reconciler", _s(r.wall(f"A{n_a}")),
                 "", "", "", ""])
    rows.append(["A", f"  official SDK loop, add_registry x{n_a}", _s(r.wall("A.sdk")),
                 "hss-reconciler", f"{speedup:.1f}x faster", ">= 8x", _met(speedup >= 8)])
    vs = r.value(f"A{n_a}.vs_floor")
    rows.append(["A", f"  floor: python -c pass ({_s(py)}) + {n_a} x {lat * 1000:g} ms / {PARALLELISM}"
                      f" + {a_main.targets} x {lat * 1000:g} ms", _s(r.value(f"A{n_a}.floor")),
                 "hss-reconciler", f"{vs:.2f}x floor", "<= 1.3x", _met(vs <= 1.3)])
    rows.append(["A", f"  bare httpx loop: list, {n_a} adds on {PARALLELISM} threads, list",
                 _s(r.wall("A.stack")), "hss-reconciler", f"{r.value('A.vs_stack'):.2f}x the loop", "", ""])
    rows.append(["A", "  bare httpx loop against the floor", "", "httpx loop",
                 f"{r.value('A.stack_vs_floor'):.2f}x floor", "", ""])

    n_b = sizes.plan_main
    b_main = bench.plans[n_b]
    vs = r.value(f"B{n_b}.vs_floor")
    rows.append(["B", f"plan {n_b} declared, {b_main.targets} targets/files, no changes",
                 _s(r.wall(f"B{n_b}")), "", "", "", ""])
    rows.append(["B", f"  floor: python + CSafeLoader parse ({_s(r.wall(f'B{n_b}.parse'))})"
                      f" + {lat * 1000:g} ms", _s(r.value(f"B{n_b}.floor")),
                 "hss-reconciler", f"{vs:.2f}x floor", "<= 2x", _met(vs <= 2)])
    rss = r.rss(f"B{n_b}")
    rows.append(["B", "  peak RSS of the plan process", f"{rss:.1f} MB",
                 f"floor process {r.rss(f'B{n_b}.parse'):.1f} MB", "", "< 100 MB", _met(rss < 100)])

    c_plan, version = r.wall("C.plan"), r.wall("version")
    rows.append(["C", f"plan, {sizes.noop} registries, no changes", _s(c_plan), f"python -c pass {_s(py)}",
                 "", "< 0.35 s", _met(c_plan < 0.35)])
    rows.append(["C", "hss-reconciler --version", _s(version), "", "", "< 0.15 s", _met(version < 0.15)])

    for n, workload in bench.applies.items():
        wall = r.wall(f"A{n}")
        floor_per = bench.apply_floor_network(workload) / n
        rows.append(["D", f"apply {n} ({workload.targets} targets): per registry", _ms(wall / n),
                     f"network floor {_ms(floor_per)}/reg", f"{r.value(f'A{n}.vs_floor'):.2f}x floor",
                     "", ""])
    _marginal(rows, r, "A", list(bench.applies))
    for n, workload in bench.plans.items():
        wall = r.wall(f"B{n}")
        rows.append(["D", f"plan {n} ({workload.targets} targets): per registry", _ms(wall / n),
                     f"RSS {r.rss(f'B{n}'):.1f} MB", f"{r.value(f'B{n}.vs_floor'):.2f}x floor", "", ""])
    _marginal(rows, r, "B", list(bench.plans))

    served = r.value(f"A{n_a}.served_rps")
    rows.append(["E", f"emulator: served during A ({r.value(f'A{n_a}.requests'):.0f} requests, "
                      f"{r.value(f'A{n_a}.lists'):.0f} ListRegistry, peak "
                      f"{r.value(f'A{n_a}.max_in_flight'):.0f} in flight)", f"{served:.0f} req/s",
                 "", "", "", ""])
    for concurrency in (PARALLELISM, 5 * PARALLELISM):
        rate = r.value(f"E.probe{concurrency}")
        ideal = concurrency / lat if lat else float("inf")
        rows.append(["E", f"  emulator capacity, {concurrency} concurrent clients", f"{rate:.0f} req/s",
                     f"ideal {ideal:.0f} req/s", f"{rate / ideal:.2f}x ideal", "", ""])
    return rows


def _marginal(rows: list[list[str]], r: Results, prefix: str, sizes: list[int]) -> None:
    """Cost of each extra registry between consecutive sizes: flat means linear."""
    for small, big in itertools.pairwise(sizes):
        extra = (r.wall(f"{prefix}{big}") - r.wall(f"{prefix}{small}")) / (big - small)
        rows.append(["D", f"  marginal, {small} -> {big}: per extra registry", _ms(extra), "", "", "", ""])


def render(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; load average {load}"


def _revision() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no",
                                "reconciler"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in reconciler/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run: a sanity check")
    parser.add_argument("--runs", type=int, help="runs to take medians over (default 5; --quick 1)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="emulator latency (default 50)")
    parser.add_argument("--json", metavar="FILE", help="also write every sample here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspaces and logs")
    parser.add_argument("--dev-venv", action="store_true",
                        help="measure this venv's editable install instead of a fresh install of the "
                             "checkout (see tests/bench/install.py)")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    sizes = QUICK if args.quick else FULL

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    root = Path(tempfile.mkdtemp(prefix="hss-bench-"))
    started = datetime.datetime.now(datetime.UTC)
    log(f"hss-reconciler benchmark: {runs} run(s), latency {args.latency_ms:g} ms, work dir {root}")
    if args.dev_venv:
        compile_development_copy()
        cli, installed = CLI, "this venv's editable install (byte-compiled)"
    else:
        log("installing the checkout into a venv of its own ...")
        try:
            cli = install_from_checkout(root / "venv")
        except (RuntimeError, subprocess.CalledProcessError) as error:
            log(f"benchmark failed: {error}")
            shutil.rmtree(root, ignore_errors=True)
            return 1
        installed = "a fresh install of the checkout (pip install .) in a venv of its own"
    bench = Bench(sizes, args.latency_ms, root, log, cli)
    try:
        log("seeding the plan emulator ...")
        bench.seed()
        for run in range(runs):
            log(f"run {run + 1}/{runs} ...")
            bench.run_once(run)
        log("probing the emulator ...")
        bench.probe_emulator()
    except (BenchError, RuntimeError, OSError) as error:
        log(f"benchmark failed: {type(error).__name__}: {error}")
        return 1
    finally:
        bench.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    print(f"hss-reconciler benchmark, {started:%Y-%m-%d %H:%M} UTC, revision {_revision()}")
    print(f"machine: {_machine()}")
    print(f"medians of {runs} run(s); emulator latency {args.latency_ms:g} ms per request, separate process; "
          f"whole-process wall times (interpreter start included); parallelism {PARALLELISM} (the default)")
    print(f"hss-reconciler measured: {installed}")
    print()
    print(render(table(bench)))
    rate = bench.results.value(f"E.probe{PARALLELISM}")
    if rate < 0.8 * PARALLELISM / bench.latency:
        print(f"note: the emulator served {PARALLELISM} concurrent clients (hss-reconciler's parallelism) at "
              "under 80% of the ideal rate, so it is part of what the rows above measure")
    if args.json:
        raw: dict[str, Any] = {
            "date": started.isoformat(), "runs": runs, "latency_ms": args.latency_ms,
            "machine": _machine(), "revision": _revision(),
            "samples": {k: [{"wall": s.wall, "maxrss_mb": s.maxrss_mb} for s in v]
                        for k, v in bench.results.samples.items()},
            "values": dict(bench.results.values),
        }
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    return 0
