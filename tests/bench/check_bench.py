"""A sanity check of the benchmark harness: `--quick` runs end to end and prints the table.

Not part of the default test run, twice over: pyproject's norecursedirs skips
tests/bench, and this file's name does not match pytest's test_*.py. Run it by
naming it:

    .venv/bin/python -m pytest tests/bench/check_bench.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_benchmark_prints_one_table() -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.bench", "--quick"], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for scenario in ("A", "B", "C", "D", "E"):
        assert any(line.startswith(f"{scenario}  ") for line in lines), proc.stdout
    assert "official SDK loop" in proc.stdout and "peak RSS" in proc.stdout
    assert "bare httpx loop" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_workload_files_declare_what_the_sdk_loop_adds(tmp_path: Path) -> None:
    import yaml

    from tests.bench.workload import PER_TARGET, Workload

    workload = Workload("t", 2 * PER_TARGET + 5)
    files = workload.write(tmp_path)
    assert len(files) == workload.targets == 3
    declared = [yaml.safe_load(f.read_text())["registries"] for f in files]
    assert [len(d) for d in declared] == [PER_TARGET, PER_TARGET, 5]
    for target, registries in enumerate(declared):
        bodies = list(workload.bodies(target, len(registries)))
        assert [{k: v for k, v in r.items() if k != "registry_password"} for r in registries] == bodies
