"""Issue 17.1-17.2: `export` then `plan` adopts exactly what exists; adopting ends honestly.

The registries are made by hand in the emulator (its HSS API, as a console
user would), never by hss-reconciler.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reconciler.config.workspace import load_workspace
from tests.e2e.conftest import Hss
from tests.e2e.workspaces import PASSWORD, PROJECT, REGION, TARGET, Api, cli, registry, state_of

OTHER = {"get_scan_image_channel": "Other", "namespace": "security-tools"}
EXPORT = ("export", "--region", REGION, "--project-id", PROJECT)


def _variables(stdout: str) -> dict[str, str]:
    """The `NAME  # address` lines export prints: address -> variable."""
    return {address: name for name, address in re.findall(r"^  ([A-Z0-9_]+) +# (\S+)$", stdout, re.M)}


def test_eighty_hand_made_registries_export_adopt_and_apply_to_no_changes(hss: Hss, tmp_path: Path) -> None:
    api = Api(hss)
    api.add_many([registry(f"legacy-{n:02d}", **(OTHER if n < 3 else {})) for n in range(80)])
    out = tmp_path / "registries"

    exported = cli(hss, *EXPORT, "--out", str(out))
    assert exported.code == 0, exported.output
    path = out / f"{REGION}.{PROJECT}.yaml"
    assert f"Wrote {path}: 80 registries." in exported.stdout
    variables = _variables(exported.stdout)
    assert len(variables) == 80 and variables[f"{TARGET}/legacy-07"] == "LEGACY_07_PASSWORD"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=https://hss-reconciler.dev/schemas/")
    assert cli(hss, "fmt", "--check", str(out)).code == 0
    declared = load_workspace([out], {}).registries
    assert declared[f"{TARGET}/legacy-01"].attributes["namespace"] == "security-tools"

    # Every password set but those of two `Other` registries, as a team part-way through.
    unset = {f"{TARGET}/legacy-00", f"{TARGET}/legacy-01"}
    passwords = {name: PASSWORD for address, name in variables.items() if address not in unset}
    plan = cli(hss, "plan", str(out), "--detailed-exitcode", **passwords)
    assert plan.code == 2, plan.output
    assert "Plan: 80 to import, 0 to add, 0 to change, 0 to destroy." in plan.stdout
    assert plan.stdout.count("  <= registry ") == 80
    for name in ("legacy-00", "legacy-01"):
        assert (f"Warning: {TARGET}/{name}: its password reference {{env: {name.upper().replace('-', '_')}"
                "_PASSWORD}") in plan.stdout
    assert plan.stdout.count("cannot be resolved now") == 2

    applied = cli(hss, "apply", str(out), "--auto-approve", **passwords)
    assert applied.code == 0, applied.output
    assert "Apply complete! Resources: 80 imported, 0 added, 0 changed, 0 destroyed." in applied.stdout
    assert "environment variable LEGACY_00_PASSWORD is not set" in applied.stderr
    assert "environment variable LEGACY_01_PASSWORD is not set" in applied.stderr
    assert f"{TARGET}/legacy-02" in applied.stdout  # its upload commands, as outputs
    assert len(state_of(out)["registries"]) == 80

    again = cli(hss, "plan", str(out), "--detailed-exitcode", **passwords)
    assert again.code == 0, again.output
    assert "No changes." in again.stdout

    # The state manages them all now: nothing left to export; and an existing file is kept.
    state = str(out / "hss-reconciler.state.json")
    rest = cli(hss, *EXPORT, "--out", str(tmp_path / "more"), "--state", state)
    assert rest.code == 0, rest.output
    assert "Nothing to export" in rest.stdout
    assert "80 registries left out: already in the state" in rest.stdout
    assert not (tmp_path / "more" / path.name).exists()
    refused = cli(hss, *EXPORT, "--out", str(out))
    assert refused.code == 1 and "already exists; nothing was listed or written" in refused.stderr
    assert path.read_text() == text


def test_hostile_names_from_hss_are_data_or_left_out(hss: Hss, tmp_path: Path) -> None:
    api = Api(hss)
    tricky = ["yes", "null", "- item", "a: b", "#comment", "x #y", "&anchor", "*alias", "!!python/object",
              "'quoted'", '"dq"', "{env: GITHUB_TOKEN}", "harbor-prod", "harbor_prod", "os", "7up", "café"]
    api.add_many([registry(name) for name in [*tricky, "evil\n  registry_password: {env: GITHUB_TOKEN}",
                                              "red\x1b[31m"]])
    out = tmp_path / "out"

    exported = cli(hss, *EXPORT, "--out", str(out), "--endpoint", hss.server.url)
    assert exported.code == 0, exported.output
    assert "\x1b" not in exported.output
    assert exported.stderr.count("left out:") == 2
    assert "U+000A" in exported.stderr and "U+001B" in exported.stderr
    document = yaml.safe_load((out / f"{REGION}.{PROJECT}.yaml").read_text())
    assert document["target"]["endpoint"] == hss.server.url
    assert sorted(r["registry_name"] for r in document["registries"]) == sorted(tricky)
    variables = {r["registry_name"]: r["registry_password"]["env"] for r in document["registries"]}
    assert variables["harbor-prod"] == "HARBOR_PROD_PASSWORD"
    assert variables["harbor_prod"] == "HARBOR_PROD_2_PASSWORD"
    assert variables["os"] == "REGISTRY_OS_PASSWORD"  # OS_PASSWORD is refused for registry passwords
    assert variables["7up"] == "REGISTRY_7UP_PASSWORD" and variables["café"] == "CAFE_PASSWORD"
    assert variables["{env: GITHUB_TOKEN}"] == "ENV_GITHUB_TOKEN_PASSWORD"

    plan = cli(hss, "plan", str(out))
    assert plan.code == 0, plan.output
    assert f"Plan: {len(tricky)} to import, 0 to add, 0 to change, 0 to destroy." in plan.stdout


def test_export_refuses_bad_options_with_one_line_and_writes_nothing(hss: Hss, tmp_path: Path) -> None:
    Api(hss).add("alpha")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    bad_region = cli(hss, "export", "--region", "AP_SOUTH", "--project-id", PROJECT, "--out", str(tmp_path))
    assert bad_region.code == 1 and bad_region.stderr.startswith("Error: --region: ")
    no_state = cli(hss, *EXPORT, "--out", str(tmp_path / "x"), "--state", str(tmp_path / "none.json"))
    assert no_state.code == 1 and "no such file" in no_state.stderr
    not_a_dir = cli(hss, *EXPORT, "--out", str(a_file))
    assert not_a_dir.code == 1 and "is a file, not a directory" in not_a_dir.stderr
    assert "Traceback" not in bad_region.output + no_state.output + not_a_dir.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]

    out = tmp_path / "out"
    assert cli(hss, *EXPORT, "--out", str(out)).code == 0
    path = out / f"{REGION}.{PROJECT}.yaml"
    path.write_text("edited by hand\n")
    replaced = cli(hss, *EXPORT, "--out", str(out), "--overwrite")
    assert replaced.code == 0, replaced.output
    assert "registry_name: alpha" in path.read_text()
