"""The schemas and the quickstart ship inside the wheel: nothing needs the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.e2e.conftest import CREDENTIAL_VARS, REPO


def test_wheel_carries_schemas_and_runs_demo(tmp_path: Path) -> None:
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("hss_reconciler-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        licenses = [name for name in archive.namelist() if "/licenses/" in name]
    assert tops == {"reconciler", "hss_reconciler-0.1.0.dist-info"}  # no test code, nothing else
    assert licenses == ["hss_reconciler-0.1.0.dist-info/licenses/LICENSE"]
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env["PYTHONPATH"] = str(site)  # ahead of the editable checkout on sys.path

    def python(code: str) -> str:
        return subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True,
                              capture_output=True, text=True).stdout

    location = python("import reconciler; print(reconciler.__file__)")
    assert location.startswith(str(site))
    title = python("from reconciler.schema import load_schema; "
                   "print(load_schema('registries.schema.json')['title'])")
    assert title.strip() == "hss-reconciler registry file"
    demo = subprocess.run([sys.executable, "-m", "reconciler", "demo", "--no-color"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert str(site) in demo.stdout  # the quickstart came from the wheel
    assert "Demo complete" in demo.stdout
