"""Issue 18's proof under contention at full size, on demand: 20 interleaved applies and 20 plans
against one shared state, on S3 (moto) and on PostgreSQL.

    .venv/bin/python -m tests.bench.contention [--runs 20] [--store s3|postgresql|both]

Each apply runs from its own directory (its own "machine") and adds its own registry; all 2 x runs
processes start at once. tests/e2e/shared_scenarios.py `interleaved` drives them and asserts what
the suite asserts with 6: every registry in HSS and in the state, each with its id, and the stored
serials strictly increasing. The suite keeps 6 runs: 20 take several times as long on 2 cores
(tests/bench/README.md has the figures). Servers as in the tests (tests/e2e/stores.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e import shared_scenarios as scenarios
from tests.e2e.conftest import Hss, running_hss
from tests.e2e.stores import S3_KEYS, moto_s3, postgres, unique
from tests.e2e.workspaces import Api

# The runner's own credentials, endpoints and state locations stay out of the measured processes.
RUNNER_PREFIXES = ("HUAWEICLOUD_SDK_", "CLOUD_SDK_", "HC_CONTAINER_", "HSS_", "AWS_", "PG")


def _measure(name: str, hss: Hss, env: dict[str, str], url: str, runs: int,
             serials: Callable[[], list[int]], scratch: Path) -> None:
    started = time.perf_counter()
    scenarios.interleaved(hss, env, url, scratch / name, runs, serials)  # asserts, or raises
    took = time.perf_counter() - started
    history = serials()
    names = {f"team-{i}" for i in range(runs)}
    stored = scenarios.names_in(scenarios.pulled(hss, env, url))
    lost = len(names - stored) + len(names - set(Api(hss).by_name()))
    increasing = history == sorted(set(history))
    print(f"{name:10} {runs} applies + {runs} plans  wall {took:5.1f} s  versions {len(history)} "
          f"(serials {history[0]}..{history[-1]}, strictly increasing: {'yes' if increasing else 'NO'})  "
          f"registries lost: {lost}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--store", choices=("s3", "postgresql", "both"), default="both")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    for name in [n for n in os.environ if n.startswith(RUNNER_PREFIXES)]:
        del os.environ[name]
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["HOME"] = scratch
        os.environ["HSS_METADATA_ENDPOINT"] = "http://127.0.0.1:9"  # never an ECS agency's keys
        if args.store in ("s3", "both"):
            with running_hss() as hss, moto_s3() as s3:
                key = unique("contention") + ".json"
                _measure("s3", hss, S3_KEYS, s3.url(key), args.runs, lambda: s3.serials(key), Path(scratch))
        if args.store in ("postgresql", "both"):
            with running_hss() as hss, postgres() as pg:
                table = unique("contention")
                _measure("postgresql", hss, {}, pg.url(table), args.runs, lambda: pg.serials(table),
                         Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
