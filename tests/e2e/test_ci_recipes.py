"""The CI recipes are valid for their CI systems and hold the rules a security review asks for.

The recipes' shell lines run in test_ci_github.py and test_ci_gitlab.py; this
module runs the linters (actionlint, check-jsonschema with GitHub's and
GitLab's schemas and the require-timeout rule) and checks what a reviewer
checks by reading: pins, timeouts, credentials per job, the install lock.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from reconciler.secrets import refused_env_reason
from tests.e2e.ci_harness import EXAMPLES, REQUIREMENTS_TEMPLATE
from tests.e2e.conftest import REPO

GITHUB = sorted((EXAMPLES / "github-actions").glob("*.yml"))
GITLAB_CI = EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"
ACTIONLINT = "actionlint"  # the venv's (tests/e2e/conftest.py puts it first on PATH)
PINNED = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$")


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["check-jsonschema", *args], capture_output=True, text=True, check=False)


def test_the_recipes_pass_actionlint_and_check_jsonschema(tmp_path: Path) -> None:
    lint = subprocess.run(
        [ACTIONLINT, "-no-color", *map(str, GITHUB)], capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        ok = check_jsonschema("--builtin-schema", schema, *map(str, GITHUB))
        assert ok.returncode == 0, schema + ok.stdout + ok.stderr
    ok = check_jsonschema("--builtin-schema", "vendor.gitlab-ci", str(GITLAB_CI))
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # Each check can fail: an old major (node20, deprecated), a job without a timeout, a bad key.
    old = tmp_path / "old.yml"
    old.write_text(re.sub(r"actions/checkout@\w+", "actions/checkout@v4", GITHUB[0].read_text()))
    assert (
        "deprecated"
        in subprocess.run(
            [ACTIONLINT, "-no-color", str(old)], capture_output=True, text=True, check=False
        ).stdout
    )
    untimed = tmp_path / "untimed.yml"
    untimed.write_text(re.sub(r"\n +timeout-minutes: \d+", "", GITHUB[0].read_text(), count=1))
    assert (
        check_jsonschema(
            "--builtin-schema", "custom.github-workflows-require-timeout", str(untimed)
        ).returncode
        == 1
    )
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(
        GITLAB_CI.read_text().replace(
            "resource_group: hss-reconciler ", "resource_group: [hss-reconciler] ", 1
        )
    )
    assert check_jsonschema("--builtin-schema", "vendor.gitlab-ci", str(broken)).returncode == 1


def test_github_actions_are_pinned_by_sha_and_the_plan_job_never_sees_the_write_key() -> None:
    for path in GITHUB:
        uses = [line.strip().removeprefix("- ") for line in path.read_text().splitlines() if "uses:" in line]
        assert uses and [u for u in uses if not PINNED.fullmatch(u)] == [], path
        spec: dict[Any, Any] = yaml.safe_load(path.read_text())
        for name, job in spec["jobs"].items():
            assert 0 < job["timeout-minutes"] <= 30, f"{path.name}: {name}"
            if name != "apply":
                env = " ".join(map(str, job.get("env", {}).values()))
                assert "secrets.HUAWEICLOUD_SDK" not in env and "HSS_APPLY_IDP_ID" not in str(job), name
                assert "secrets.HSS_READONLY_AK" in env
    apply_job = yaml.safe_load(GITHUB[1].read_text())["jobs"]["apply"]
    assert (
        apply_job["concurrency"]["cancel-in-progress"] is False
        and apply_job["environment"] == "hss-reconciler"
    )


def test_gitlab_runs_on_an_image_with_git_every_job_times_out_and_merge_requests_read_only() -> None:
    spec: dict[str, Any] = yaml.safe_load(GITLAB_CI.read_text())
    assert spec[".hss-reconciler"]["image"].startswith("python:3.11-bookworm"), "slim images have no git"
    jobs = {
        name: job
        for name, job in spec.items()
        if not name.startswith(".") and isinstance(job, dict) and "script" in job
    }
    assert sorted(jobs) == ["hss-apply", "hss-apply-reviewed", "hss-drift", "hss-plan"]
    for name, job in jobs.items():
        assert ".hss-reconciler" in job["extends"], f"{name} inherits the image, install and timeout"
        assert re.fullmatch(r"\d+m", job.get("timeout", spec[".hss-reconciler"]["timeout"])), name
    for name in ("hss-plan", "hss-drift"):
        # read-only: the shared before_script takes HSS_READONLY_AK/SK (test_ci_gitlab.py runs it)
        assert spec[name]["variables"] == {"HSS_IDP_ID": "$HSS_PLAN_IDP_ID", "HSS_KEYS": "read-only"}
        assert "HSS_APPLY_IDP_ID" not in str(spec[name])
    for name in ("hss-apply", "hss-apply-reviewed"):
        assert spec[name]["variables"] == {"HSS_IDP_ID": "$HSS_APPLY_IDP_ID"}
    # Keyless: every job gets an ID token, under a name no registry file's {env: NAME} may use.
    assert spec[".hss-reconciler"]["id_tokens"] == {"HUAWEICLOUD_SDK_ID_TOKEN": {"aud": "$HSS_OIDC_AUDIENCE"}}
    assert refused_env_reason("HUAWEICLOUD_SDK_ID_TOKEN") is not None
    assert spec["hss-apply"]["resource_group"] == spec["hss-apply-reviewed"]["resource_group"]
    assert spec["hss-apply-reviewed"]["rules"][0]["when"] == "manual"


def test_the_install_lock_template_pins_with_hashes_and_fails_closed() -> None:
    text = REQUIREMENTS_TEMPLATE.read_text()
    requirements = re.findall(r"^([^#\s].*?)\s*\\\n\s+(--hash=sha256:[0-9a-f]{64})$", text, re.MULTILINE)
    assert requirements == [
        (
            "hss-reconciler @ https://github.com/your-org/hss-reconciler/releases/download/"
            "v0.1.0/hss_reconciler-0.1.0-py3-none-any.whl",
            "--hash=sha256:" + "0" * 64,
        )
    ]
    for recipe in [*GITHUB, GITLAB_CI]:
        assert '--no-deps --require-hashes -r "$HSS_REQUIREMENTS"' in recipe.read_text(), recipe


def test_every_example_yaml_starts_with_a_schema_line_that_resolves() -> None:
    files = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yml", ".yaml"))
    files.append(REPO / ".pre-commit-hooks.yaml")
    assert len(files) >= 6
    for path in files:
        first = path.read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, f"{path}: first line is {first!r}"
        target = match.group(1)
        if target.startswith("https://"):
            continue
        resolved = (path.parent / target).resolve()
        assert resolved == REPO / "schemas" / "registries.schema.json", f"{path}: {target}"
