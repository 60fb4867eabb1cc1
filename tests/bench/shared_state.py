"""Shared state on demand (issue 18): a no-op plan on S3 (moto) and PostgreSQL against a local file,
and the import time each backend adds to plan and apply.

    .venv/bin/python -m tests.bench.shared_state [--runs 9]

Servers as in the tests (tests/e2e/stores.py): moto on 127.0.0.1, PostgreSQL from pgserver's binaries,
the emulator in this process. Every figure is a whole CLI process, median of --runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reconciler.emulator import EmulatorConfig, EmulatorServer
from tests.e2e.stores import S3_KEYS, moto_s3, postgres, unique
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, registry, write_workspace

CLI = str(Path(sys.executable).parent / "hss-reconciler")
# What a plan has imported by the time it opens the state; the backend's own cost is on top of this.
BASELINE = "import httpx, reconciler.engine.session"
IMPORTS = {"s3": "import reconciler.state.backends.s3, reconciler.state.backends.shared",
           "postgresql": "import reconciler.state.backends.postgres, reconciler.state.backends.shared"}


def _timed(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([CLI, *args], env=env, check=True, capture_output=True, timeout=120)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _import_cost(statement: str, runs: int) -> float:
    code = (f"{BASELINE}\nimport time\nt = time.perf_counter()\n{statement}\n"
            "print(time.perf_counter() - t)")
    command = [sys.executable, "-c", code]
    runs_out = [subprocess.run(command, check=True, capture_output=True, text=True).stdout
                for _ in range(runs)]
    return statistics.median(float(out) for out in runs_out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    token = "bench-token"
    hss = EmulatorServer(EmulatorConfig(host="127.0.0.1", port=0, tokens={token}))
    hss.start()
    with tempfile.TemporaryDirectory() as scratch, moto_s3() as s3, postgres() as pg:
        env = {**os.environ, "HSS_ENDPOINT": hss.url,
               "HSS_AUTH_TOKEN": token, PASSWORD_ENV: PASSWORD, "HOME": scratch, **S3_KEYS}
        ws = write_workspace(Path(scratch) / "ws", [registry(f"bench-{i}") for i in range(10)])
        stores = {"local": str(Path(scratch) / "local.json"), "s3": s3.url(unique("bench") + ".json"),
                  "postgresql": pg.url(unique("bench"))}
        for location in stores.values():  # the first applies the 10 registries, the others adopt them
            subprocess.run([CLI, "apply", str(ws), "--auto-approve", "--state", location], env=env,
                           check=True, capture_output=True, timeout=120)
        print(f"no-op plan of 10 registries (median of {args.runs}):")
        for refresh in ("true", "false"):
            local = None
            for name, location in stores.items():
                took = _timed(["plan", str(ws), "--detailed-exitcode", f"--refresh={refresh}",
                               "--state", location], env, args.runs)
                local = local or took
                print(f"  refresh={refresh:5} {name:10} {took * 1000:7.0f} ms   x{took / local:.2f} of local")
        print("import time a backend adds to plan and apply (after httpx and the engine are loaded):")
        for name, statement in IMPORTS.items():
            print(f"  {name:10} {_import_cost(statement, args.runs) * 1000:7.1f} ms")
    hss.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
