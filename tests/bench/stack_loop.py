"""A's network work with nothing but the HTTP stack hss-reconciler is built on.

One process: import httpx, read every target's registries at once (the
refresh), add the registries on `--parallelism` threads sharing one
``httpx.Client`` (as apply's workers do), then list each target once more (to
learn the new ids). No YAML, schema, state, plan or output: what is left is
the interpreter, httpx and httpcore, and the round trips. Timed side by side
with hss-reconciler, it shows how much of A's time our own code adds, and how
close to the round-trip floor this stack itself can get.

    python tests/bench/stack_loop.py --endpoint URL --label a200 --count 200

The token comes from HSS_AUTH_TOKEN. Exit status 0 only if every add was
accepted and every new registry was listed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.bench.workload import PASSWORD, Workload

PAGE = {"limit": "200", "offset": "0", "enterprise_project_id": "0"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--parallelism", type=int, default=10)
    args = parser.parse_args(argv)
    workload = Workload(args.label, args.count)
    targets = [target for target, _ in workload.per_target()]
    adds = [(target, body) for target, how_many in workload.per_target()
            for body in workload.bodies(target, how_many)]
    limits = httpx.Limits(max_connections=max(args.parallelism, len(targets)))
    with httpx.Client(base_url=args.endpoint, limits=limits, verify=False,
                      headers={"X-Auth-Token": os.environ["HSS_AUTH_TOKEN"]}) as http:

        def registries(target: int) -> str:
            return f"/v5/{workload.project_id(target)}/image/registries"

        def list_target(target: int) -> list[dict[str, object]]:
            response = http.get(registries(target), params=PAGE)
            response.raise_for_status()
            return list(response.json()["data_list"])

        def add(item: tuple[int, dict[str, str]]) -> None:
            target, body = item
            content = json.dumps({**body, "registry_password": PASSWORD}).encode()
            http.post(registries(target), params={"enterprise_project_id": "0"}, content=content,
                      headers={"Content-Type": "application/json;charset=UTF-8"}).raise_for_status()

        with ThreadPoolExecutor(max(len(targets), args.parallelism)) as pool:
            list(pool.map(list_target, targets))
        with ThreadPoolExecutor(args.parallelism) as pool:
            list(pool.map(add, adds))
        with ThreadPoolExecutor(len(targets)) as pool:
            listed = sum(len(page) for page in pool.map(list_target, targets))
    print(f"added {len(adds)}, listed {listed}")
    return 0 if len(adds) == listed == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
