"""Issue 16.4 through the real CLI: regions and endpoints as the official SDK resolves them.

`validate` names an unknown region and lists the known ones; the SDK's
HUAWEICLOUD_SDK_REGION_HSS_<REGION> and ~/.huaweicloud/regions.yaml lead
`plan` to the emulator; a malformed regions file is one line naming it.
Every run gets a HOME of its own and no HSS_ENDPOINT.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tests.e2e.conftest import CREDENTIAL_VARS, Hss, Result, run_cli
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, PROJECT, registry

REGION = "ap-southeast-9"  # not one of HSS's regions
REGION_ENV = "HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_9"


def _workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "ws"
    directory.mkdir()
    document = {"version": 1, "target": {"region": REGION, "project_id": PROJECT},
                "registries": [registry("alpha")]}
    (directory / "registries.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return directory


def _run(tmp_path: Path, hss: Hss | None, *args: str, **extra: str) -> Result:
    env = {k: v for k, v in os.environ.items()
           if k not in CREDENTIAL_VARS and not k.startswith(("HUAWEICLOUD_SDK_REGION", "HSS_"))}
    env.update({"HOME": str(tmp_path / "home"), PASSWORD_ENV: PASSWORD, **extra})
    if hss is not None:
        env["HSS_AUTH_TOKEN"] = hss.token
    return run_cli(*args, env=env)


def test_validate_names_an_unknown_region_and_lists_the_known_ones(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    result = _run(tmp_path, None, "validate", str(ws))
    assert result.code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    where = "registries.yaml:3:11: target.region"
    assert f"{where}: unknown region '{REGION}': HSS is known in ae-ad-1, " in line
    assert "ap-southeast-1, " in line and "eu-west-101, " in line and REGION_ENV in line
    assert "Traceback" not in result.output and result.stdout == ""


def test_the_sdks_region_variable_leads_plan_to_its_endpoint(tmp_path: Path, hss: Hss) -> None:
    ws = _workspace(tmp_path)
    assert _run(tmp_path, None, "validate", str(ws), **{REGION_ENV: hss.server.url}).code == 0
    result = _run(tmp_path, hss, "plan", str(ws), **{REGION_ENV: f"{hss.server.url},https://unused.example"})
    assert result.code == 0, result.output
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in result.stdout


def test_the_sdks_regions_file_in_home_leads_plan_to_its_endpoint(tmp_path: Path, hss: Hss) -> None:
    ws = _workspace(tmp_path)
    folder = tmp_path / "home" / ".huaweicloud"
    folder.mkdir(parents=True)
    (folder / "regions.yaml").write_text(f"HSS:\n  - id: {REGION}\n    endpoint: {hss.server.url}\n")
    result = _run(tmp_path, hss, "plan", str(ws))
    assert result.code == 0, result.output
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in result.stdout


def test_a_malformed_regions_file_is_one_line_naming_it(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    regions = tmp_path / "regions.yaml"
    regions.write_text(f"hss:\n  - id: {REGION}\n    endpoint: ftp://hss.example.com\n")
    result = _run(tmp_path, None, "validate", str(ws), HUAWEICLOUD_SDK_REGIONS_FILE=str(regions))
    assert result.code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {regions}:3:15: hss[0].endpoint: must be an http or https URL"), line
