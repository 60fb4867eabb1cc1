"""Apply under APIG's flow control: every registry made, and few calls spent on 429s.

The emulator throttles the run's credential to a rate (``rate_limit``, a token
bucket answering 429 APIG.0308 with Retry-After). Apply starts at full width,
meets the limit, and from then on paces every worker to what the gateway
allows (reconciler/apply/pacing.py) instead of each worker retrying on its own.
Small counts keep it cheap; the 500-add figures are in tests/bench/README.md.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import Api, cli, registry, state_of, write_workspace

COUNT = 60
RATE = 30  # per second; the bucket holds one second's worth, so about half the adds wait for tokens


def test_apply_paces_itself_to_the_gateways_rate_limit(hss: Hss, tmp_path: Path) -> None:
    api = Api(hss)
    names = [f"paced-{i:03d}" for i in range(COUNT)]
    workspace = write_workspace(tmp_path / "registries", [registry(n) for n in names])
    api.configure(rate_limit=RATE, latency_ms=5)

    result = cli(hss, "apply", str(workspace), "--auto-approve", "--parallelism", "10")
    stats = api.stats()
    api.configure(rate_limit=0)  # the checks below use the same credential

    assert result.code == 0, result.output
    assert f"{COUNT} added, 0 changed, 0 destroyed" in result.stdout
    assert sorted(api.by_name()) == names  # every one, once
    entries = state_of(workspace)["registries"]
    assert len(entries) == COUNT and all(entry["id"] for entry in entries)
    throttled = int(stats["responses"].get("429", 0))
    assert stats["faults"].get("rate_limited") == throttled
    # The limit bit (the first second's burst overran it), and the run then kept to it:
    # at full width, each of the 10 workers retrying on its own, far more calls are refused.
    assert 1 <= throttled <= 0.25 * stats["total_requests"], stats
