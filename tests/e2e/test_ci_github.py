"""The GitHub Actions recipes run: each `run:` step with bash, as the runner does, against the emulator.

`uses:` actions (checkout, setup-python, upload-artifact) are not run: the test's
clones stand for checkout, this interpreter for setup-python, and the fake
GitHub API serves the artifact that upload-artifact would have kept. Every
`run:` line runs; the install line with pip against a fake release host in
`test_github_pull_request_plan_then_merge_applies_the_reviewed_plan` (the other
tests skip that one step to stay cheap).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.ci_harness import (
    API_TOKEN,
    DRIFT_MARKER,
    EXAMPLES,
    PASSWORDS,
    PLAN_MARKER,
    FakeApi,
    Route,
    Service,
    Wheel,
    apply_directly,
    base_env,
    clone,
    git,
    live,
    make_origin,
    merge_change,
    plan_zip,
    requirements_for,
    run_bash,
    start_service,
    wheel,  # noqa: F401  (a fixture)
)
from tests.e2e.conftest import Hss, Result
from tests.e2e.stores import BUCKET, S3_KEYS, moto_s3

RECIPE = EXAMPLES / "github-actions"
WORKFLOWS = {"hss-reconciler": RECIPE / "hss-reconciler.yml", "hss-drift": RECIPE / "hss-drift.yml"}
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
REPO_PATH = "/repos/acme/registries"
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvcmVnaXN0cmllczpwdWxsX3JlcXVlc3QifQ.c2ln"


# --- the fake GitHub -------------------------------------------------------------------------------


def _comments(api: FakeApi, body: dict[str, Any]) -> None:
    thread = api.store["comments"].setdefault(int(api.match[1]), [])
    if api.command == "GET":
        page, per_page = int(api.query.get("page", 1)), int(api.query.get("per_page", 30))
        api.send(200, thread[(page - 1) * per_page : page * per_page])
        return
    comment = {
        "id": 1000 + sum(map(len, api.store["comments"].values())),
        "body": body["body"],
        "user": {"type": "Bot"},
    }
    thread.append(comment)
    api.send(201, comment)


def _edit_comment(api: FakeApi, body: dict[str, Any]) -> None:
    found = [c for t in api.store["comments"].values() for c in t if c["id"] == int(api.match[1])]
    found[0]["body"] = body["body"]
    api.send(200, found[0])


def _runs(api: FakeApi, _: dict[str, Any]) -> None:
    runs = [r for r in api.store["runs"] if r["head_sha"] == api.query.get("head_sha")]
    api.send(200, {"total_count": len(runs), "workflow_runs": runs})


def _artifacts(api: FakeApi, _: dict[str, Any]) -> None:
    run = int(api.match[1])
    found = run in api.store["artifacts"] and api.query.get("name") == "hss-reconciler-plan"
    api.send(
        200,
        {"artifacts": [{"id": run * 10, "name": "hss-reconciler-plan", "expired": False}] if found else []},
    )


def _artifact_zip(api: FakeApi, _: dict[str, Any]) -> None:
    api.send(302, b"", {"Location": f"http://{api.headers['Host']}/blob/{int(api.match[1]) // 10}"})


def _blob(api: FakeApi, _: dict[str, Any]) -> None:
    assert api.headers.get("Authorization") is None, "the GitHub token must not follow the redirect"
    api.send(200, plan_zip(api.store["artifacts"][int(api.match[1])]))


def _issues(api: FakeApi, body: dict[str, Any]) -> None:
    if api.command == "GET":
        label = api.query.get("labels")
        api.send(200, [i for i in api.store["issues"] if i["state"] == "open" and label in i["labels"]])
        return
    issue = {
        "number": 50 + len(api.store["issues"]),
        "state": "open",
        "body": body["body"],
        "labels": body["labels"],
        "user": {"type": "Bot"},
    }
    api.store["issues"].append(issue)
    api.send(201, issue)


def _edit_issue(api: FakeApi, body: dict[str, Any]) -> None:
    issue = next(i for i in api.store["issues"] if i["number"] == int(api.match[1]))
    issue.update(body)
    api.send(200, issue)


def _oidc(api: FakeApi, _: dict[str, Any]) -> None:
    assert api.headers["Authorization"] == "Bearer runner-request-token"
    api.store["audiences"].append(api.query.get("audience"))
    api.send(200, {"value": OIDC_TOKEN})


GITHUB_ROUTES: list[tuple[str, str, Route]] = [
    ("GET", rf"{REPO_PATH}/issues/(\d+)/comments", _comments),
    ("POST", rf"{REPO_PATH}/issues/(\d+)/comments", _comments),
    ("PATCH", rf"{REPO_PATH}/issues/comments/(\d+)", _edit_comment),
    ("GET", rf"{REPO_PATH}/commits/\w+/pulls", lambda api, _: api.send(200, api.store["pulls"])),
    ("GET", rf"{REPO_PATH}/actions/runs", _runs),
    ("GET", rf"{REPO_PATH}/actions/runs/(\d+)/artifacts", _artifacts),
    ("GET", rf"{REPO_PATH}/actions/artifacts/(\d+)/zip", _artifact_zip),
    ("GET", r"/blob/(\d+)", _blob),
    ("GET", rf"{REPO_PATH}/issues", _issues),
    ("POST", rf"{REPO_PATH}/issues", _issues),
    ("PATCH", rf"{REPO_PATH}/issues/(\d+)", _edit_issue),
    ("GET", r"/oidc", _oidc),
]


@pytest.fixture
def github(wheel: Wheel) -> Iterator[Service]:  # noqa: F811  (the imported fixture)
    store: dict[str, Any] = {
        "comments": {},
        "issues": [],
        "pulls": [],
        "runs": [],
        "artifacts": {},
        "audiences": [],
        "wheel": wheel,
    }
    yield from start_service(GITHUB_ROUTES, ("Authorization", f"Bearer {API_TOKEN}"), store)


# --- running a job ---------------------------------------------------------------------------------


def workflow(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOWS[name].read_text())
    return data


def resolve(mapping: dict[str, Any], provided: dict[str, str]) -> dict[str, str]:
    """Plain values as written; `${{ ... }}` values from `provided`, by variable name (a KeyError
    means the workflow gained a secret or expression the test does not stand in for yet)."""
    return {
        name: provided[name] if EXPRESSION.search(str(value)) else str(value)
        for name, value in mapping.items()
    }


@dataclass
class JobRun:
    results: dict[str, Result] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(r.code != 0 for r in self.results.values())


def run_job(
    name: str,
    job_name: str,
    cwd: Path,
    env: dict[str, str],
    provided: dict[str, str],
    *,
    install: bool = False,
) -> JobRun:
    """Each `run:` step in order, with GitHub's step conditions and its GITHUB_ENV hand-over."""
    spec = workflow(name)
    job = spec["jobs"][job_name]
    github_env = cwd.parent / f"github-env-{cwd.name}"
    run = JobRun(
        env={
            **env,
            **resolve(spec.get("env", {}), provided),
            **resolve(job.get("env", {}), provided),
            "GITHUB_ENV": str(github_env),
        }
    )
    failed = False
    for step in job["steps"]:
        label = step.get("name", step.get("uses", ""))
        condition = str(step.get("if", "success()"))
        if failed and not any(word in condition for word in ("always()", "!cancelled()", "failure()")):
            run.not_run[label] = "skipped after a failed step, as GitHub does"
            continue
        if not failed and condition == "${{ failure() }}":
            continue
        if "uses" in step:
            run.not_run[label] = "a GitHub action"
            continue
        if label == "Install hss-reconciler" and not install:
            run.not_run[label] = (
                "run for real in test_github_pull_request_plan_then_merge_applies_the_reviewed_plan"
            )
            continue
        github_env.write_text("")
        result = run_bash(step["run"], {**run.env, **resolve(step.get("env", {}), provided)}, cwd)
        run.results[label] = result
        for line in github_env.read_text().splitlines():  # the runner's GITHUB_ENV, simple form
            key, _, value = line.partition("=")
            run.env[key] = value
        failed = failed or result.code != 0
    return run


@dataclass
class Repo:
    origin: Path
    env: dict[str, str]
    provided: dict[str, str]


def github_repo(hss: Hss | None, tmp_path: Path, github: Service, **variables: str) -> Repo:
    requirements = requirements_for(github.store["wheel"], github.url)
    origin = make_origin(
        tmp_path,
        {
            ".github/workflows/hss-reconciler.yml": WORKFLOWS["hss-reconciler"],
            ".github/workflows/hss-drift.yml": WORKFLOWS["hss-drift"],
            ".github/hss_github.py": RECIPE / "hss_github.py",
            ".github/hss-reconciler-requirements.txt": requirements,
        },
    )
    (tmp_path / "pull_request.json").write_text(json.dumps({"pull_request": {"number": 7}}))
    (tmp_path / "push.json").write_text(json.dumps({"ref": "refs/heads/main"}))
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {
        **base_env(hss, tmp_path),
        "GITHUB_ACTIONS": "true",
        "GITHUB_REF_NAME": "main",
        "GITHUB_REPOSITORY": "acme/registries",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": github.url,
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "hss-reconciler",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
        "GITHUB_EVENT_PATH": str(tmp_path / "push.json"),
        "RUNNER_TEMP": str(runner_temp),
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{github.url}/oidc?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-request-token",
        "GITHUB_SHA": "0" * 40,
    }
    ak, sk = (hss.ak, hss.sk) if hss else ("unset", "unset")
    provided = {
        "HUAWEICLOUD_SDK_AK": ak,
        "HUAWEICLOUD_SDK_SK": sk,
        "GITHUB_TOKEN": API_TOKEN,
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "HSS_IDP_ID": "",
        "HSS_OIDC_AUDIENCE": "",
        "STATE_URL": "",
        "PLAN_RUN_ID": "",
        "HSS_APPLY_UNREVIEWED": "",
        **PASSWORDS,
        **variables,
    }
    return Repo(origin, env, provided)


def pr_env(repo: Repo) -> dict[str, str]:
    """The environment of a pull_request run: its event names the pull request."""
    return {
        **repo.env,
        "GITHUB_EVENT_PATH": str(Path(repo.env["GITHUB_EVENT_PATH"]).with_name("pull_request.json")),
    }


def pull_request_plan(repo: Repo, tmp_path: Path, *, install: bool = False) -> tuple[Path, JobRun]:
    pr = clone(repo.origin, tmp_path / "pr")
    sha = git("rev-parse", "HEAD", cwd=pr)
    job = run_job(
        "hss-reconciler",
        "plan",
        pr,
        {**pr_env(repo), "GITHUB_SHA": sha},
        {**repo.provided, "PR_HEAD_SHA": sha},
        install=install,
    )
    return pr, job


def reviewed_and_merged(hss: Hss, tmp_path: Path, github: Service) -> Repo:
    """A pull request's plan ran and the pull request was merged."""
    repo = github_repo(hss, tmp_path, github)
    pr, _ = pull_request_plan(repo, tmp_path)
    merged(github, repo, pr)
    return repo


def merged(github: Service, repo: Repo, pr: Path) -> None:
    """The pull request is merged: the API knows it, its successful plan run and that run's artifact."""
    head = git("rev-parse", "HEAD", cwd=pr)
    github.store["pulls"] = [{"number": 7, "merged_at": "2026-11-30T10:00:00Z", "head": {"sha": head}}]
    github.store["runs"] = [{"id": 555, "run_number": 3, "name": "hss-reconciler", "head_sha": head}]
    github.store["artifacts"][555] = pr / "plan.json"


# --- the tests -------------------------------------------------------------------------------------


def test_github_pull_request_plan_then_merge_applies_the_reviewed_plan(
    hss: Hss, tmp_path: Path, github: Service
) -> None:
    repo = github_repo(hss, tmp_path, github)
    pr, plan_job = pull_request_plan(repo, tmp_path, install=True)
    assert list(plan_job.results) == [
        "Install hss-reconciler",
        "Huawei Cloud credentials and state",
        "Validate",
        "Plan",
        "Write the plan comment",
        "Create or update the plan comment",
    ]
    assert not plan_job.failed, plan_job.results
    assert (tmp_path / "site" / "reconciler" / "__init__.py").is_file(), "pip installed the pinned wheel"
    assert plan_job.env["HUAWEICLOUD_SDK_AK"] == hss.ak  # the read-only key's secret, never the write key's
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan_job.results["Plan"].stdout
    assert "Created the plan comment on #7." in plan_job.results["Create or update the plan comment"].stdout
    (comment,) = github.store["comments"][7]
    assert comment["body"].startswith(
        PLAN_MARKER + "\n### hss-reconciler plan: 2 to add, 0 to change, 0 to destroy"
    )
    assert "hss-reconciler plan: 2 to add" in Path(repo.env["GITHUB_STEP_SUMMARY"]).read_text()
    assert live(hss) == {}, "a pull request never changes HSS"
    github.store["comments"][7].insert(
        0, {"id": 1, "body": f"I quote {PLAN_MARKER}", "user": {"type": "User"}}
    )
    again = run_job("hss-reconciler", "plan", pr, pr_env(repo), {**repo.provided, "PR_HEAD_SHA": "f" * 40})
    assert "Updated the plan comment on #7." in again.results["Create or update the plan comment"].stdout
    assert [c["body"][:20] for c in github.store["comments"][7]] == [
        f"I quote {PLAN_MARKER}"[:20],
        PLAN_MARKER[:20],
    ]
    assert "Plan for fffffff." in github.store["comments"][7][1]["body"]

    merged(github, repo, pr)
    main = clone(repo.origin, tmp_path / "main")
    apply_job = run_job("hss-reconciler", "apply", main, repo.env, repo.provided)
    assert list(apply_job.results) == [
        "Huawei Cloud credentials and state",
        "Find the plan reviewed in the pull request",
        "Check every password is set",
        "Apply",
        "Commit the state file",
    ]
    assert (
        "Using the plan reviewed in run 555."
        in apply_job.results["Find the plan reviewed in the pull request"].stdout
    )
    applied = apply_job.results["Apply"]
    assert applied.code == 0, applied.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in applied.stdout
    assert sorted(live(hss)) == ["harbor-prod", "jfrog-build"]
    assert "[skip ci]" in git("log", "-1", "--format=%s", "main", cwd=repo.origin)
    pushed = json.loads(git("show", "main:registries/hss-reconciler.state.json", cwd=repo.origin))
    assert sorted(e["registry_name"] for e in pushed["registries"]) == ["harbor-prod", "jfrog-build"]


def test_github_reviewed_plan_is_applied_with_the_state_in_a_versioned_s3_bucket(
    hss: Hss, tmp_path: Path, github: Service
) -> None:
    """The recommended set-up end to end: vars.HSS_STATE an s3:// URL (moto's S3 server, versioning on)."""
    key = "ci/hss-reconciler.state.json"
    with moto_s3() as s3:
        repo = github_repo(hss, tmp_path, github, STATE_URL=s3.url(key), **S3_KEYS)
        pr, plan_job = pull_request_plan(repo, tmp_path)
        assert not plan_job.failed, plan_job.results
        assert "state: remote (HSS_STATE)" in plan_job.results["Huawei Cloud credentials and state"].stdout
        assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan_job.results["Plan"].stdout
        merged(github, repo, pr)
        main = clone(repo.origin, tmp_path / "main")
        apply_job = run_job("hss-reconciler", "apply", main, repo.env, repo.provided)
        applied = apply_job.results["Apply"]
        assert applied.code == 0, applied.output
        assert (
            "Using the plan reviewed in run 555."
            in apply_job.results["Find the plan reviewed in the pull request"].stdout
        )
        assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in applied.stdout
        stored = json.loads(s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read())
        serials = s3.serials(key)
    assert sorted(live(hss)) == ["harbor-prod", "jfrog-build"]
    assert sorted(e["registry_name"] for e in stored["registries"]) == ["harbor-prod", "jfrog-build"]
    assert all(e["id"] == live(hss)[e["registry_name"]]["id"] for e in stored["registries"])
    # Every checkpoint a new version of the object, none overwritten: the bucket keeps the history.
    assert len(serials) >= 2 and serials == sorted(set(serials)) and serials[-1] == stored["serial"]
    committed = apply_job.results["Commit the state file"].stdout
    assert committed == "The state is remote (HSS_STATE); nothing to commit.\n"
    assert not (main / "registries" / "hss-reconciler.state.json").exists()
    assert "[skip ci]" not in git("log", "-1", "--format=%s", "main", cwd=repo.origin)


def test_github_install_refuses_a_wheel_whose_hash_differs(tmp_path: Path, github: Service) -> None:
    spec = workflow("hss-reconciler")
    install = next(s for s in spec["jobs"]["plan"]["steps"] if s.get("name") == "Install hss-reconciler")
    lock = tmp_path / "lock.txt"
    lock.write_bytes(requirements_for(github.store["wheel"], github.url, sha256="1" * 64))
    result = run_bash(install["run"], {**base_env(None, tmp_path), "HSS_REQUIREMENTS": str(lock)}, tmp_path)
    assert result.code == 1 and "DO NOT MATCH THE HASHES" in result.stderr, result.output
    assert not (tmp_path / "site" / "reconciler").exists()


def test_github_stale_plan_fails_posts_a_new_plan_and_applies_it_only_when_dispatched(
    hss: Hss, tmp_path: Path, github: Service
) -> None:
    repo = reviewed_and_merged(hss, tmp_path, github)
    merge_change(
        repo.origin,
        tmp_path / "other",
        "registry_addr: harbor.example.com",
        "registry_addr: harbor2.example.com",
    )
    main = clone(repo.origin, tmp_path / "main")
    job = run_job("hss-reconciler", "apply", main, repo.env, repo.provided)
    applied = job.results["Apply"]
    assert applied.code == 1, applied.output
    assert "saved plan is stale" in applied.stderr
    assert "::error::The reviewed plan is stale" in applied.stdout and "plan_run=4242" in applied.stdout
    assert live(hss) == {}, "nothing unreviewed is applied"
    posted = github.store["comments"][7][-1]["body"]
    assert posted.startswith(PLAN_MARKER + "\n**The reviewed plan is stale")
    assert "harbor2.example.com" in posted and "plan_run = 4242" in posted
    assert job.results["Post the new plan for review"].code == 0
    assert job.results["Commit the state file"].stdout.strip() == "", "no state to commit"

    # After review, a person runs the workflow with plan_run=4242: exactly that plan is applied.
    github.store["artifacts"][4242] = main / "plan.json"
    dispatched = clone(repo.origin, tmp_path / "dispatched")
    job = run_job("hss-reconciler", "apply", dispatched, repo.env, {**repo.provided, "PLAN_RUN_ID": "4242"})
    assert (
        "Using the plan reviewed in run 4242."
        in job.results["Find the plan reviewed in the pull request"].stdout
    )
    assert job.results["Apply"].code == 0, job.results["Apply"].output
    assert live(hss)["harbor-prod"]["registry_addr"] == "harbor2.example.com"


def test_github_missing_plan_fails_unless_unreviewed_applies_are_opted_in(
    hss: Hss, tmp_path: Path, github: Service
) -> None:
    repo = github_repo(hss, tmp_path, github)  # a direct push: no pull request was merged
    main = clone(repo.origin, tmp_path / "main")
    job = run_job("hss-reconciler", "apply", main, repo.env, repo.provided)
    assert (
        "No pull request was merged as 0000000."
        in job.results["Find the plan reviewed in the pull request"].stdout
    )
    assert job.results["Apply"].code == 1
    assert "::error::No reviewed plan was found for this commit" in job.results["Apply"].stdout
    assert "No pull request to comment on" in job.results["Post the new plan for review"].stdout
    assert live(hss) == {}

    # Opted in, with the state elsewhere (HSS_STATE; a path here, a URL in production).
    again = clone(repo.origin, tmp_path / "main2")
    shared = tmp_path / "shared" / "hss.state.json"
    shared.parent.mkdir()
    opted_in = {**repo.provided, "HSS_APPLY_UNREVIEWED": "true", "STATE_URL": str(shared)}
    job = run_job("hss-reconciler", "apply", again, repo.env, opted_in)
    assert job.results["Apply"].code == 0, job.results["Apply"].output
    assert (
        "::warning::No reviewed plan was found for this commit. HSS_APPLY_UNREVIEWED is true"
        in job.results["Apply"].stdout
    )
    assert sorted(live(hss)) == ["harbor-prod", "jfrog-build"]
    assert len(json.loads(shared.read_text())["registries"]) == 2
    assert "state: remote (HSS_STATE)" in job.results["Huawei Cloud credentials and state"].stdout
    assert (
        job.results["Commit the state file"].stdout == "The state is remote (HSS_STATE); nothing to commit.\n"
    )
    assert not (again / "registries" / "hss-reconciler.state.json").exists()


def test_github_reviewed_plan_failing_for_another_reason_fails_the_job(
    hss: Hss, tmp_path: Path, github: Service
) -> None:
    # Only exit 4 (stale) means "plan again"; any other failure is the job's answer.
    repo = reviewed_and_merged(hss, tmp_path, github)
    main = clone(repo.origin, tmp_path / "main")
    job = run_job("hss-reconciler", "apply", main, repo.env, {**repo.provided, "HUAWEICLOUD_SDK_SK": "wrong"})
    assert job.results["Apply"].code == 1
    assert "HSS ListRegistry failed: HTTP 401" in job.results["Apply"].stderr
    assert "stale" not in job.results["Apply"].output and not (main / "plan-comment.md").exists()
    assert live(hss) == {}


def test_github_failed_plan_still_refreshes_the_comment(tmp_path: Path, github: Service) -> None:
    repo = github_repo(None, tmp_path, github)
    pr = clone(repo.origin, tmp_path / "pr")
    path = pr / "registries" / "registries.yaml"
    path.write_text(path.read_text().replace("protocol: https", "protocol: ftp", 1))
    job = run_job("hss-reconciler", "plan", pr, pr_env(repo), {**repo.provided, "PR_HEAD_SHA": "a" * 40})
    assert job.results["Validate"].code == 1
    assert "registries/registries.yaml:14:15: registries[0].protocol: " in job.results["Validate"].stderr
    assert job.not_run["Plan"].startswith("skipped")
    (comment,) = github.store["comments"][7]
    assert comment["body"].startswith(PLAN_MARKER + "\n### hss-reconciler plan failed")
    assert "https://github.com/acme/registries/actions/runs/4242" in comment["body"]


def test_github_setup_writes_the_oidc_token_and_the_state_location(tmp_path: Path, github: Service) -> None:
    repo = github_repo(None, tmp_path, github)
    step = next(
        s
        for s in workflow("hss-reconciler")["jobs"]["plan"]["steps"]
        if s.get("name") == "Huawei Cloud credentials and state"
    )
    github_env = tmp_path / "github-env"
    env = {
        **repo.env,
        "GITHUB_ENV": str(github_env),
        "HSS_IDP_ID": "github-actions",
        "HSS_OIDC_AUDIENCE": "hss-reconciler",
        "STATE_URL": "s3://state/hss.json?region=ap-southeast-1",
    }
    github_env.write_text("")
    work = clone(repo.origin, tmp_path / "work")
    result = run_bash(step["run"], env, work)
    assert result.code == 0, result.output
    token_file = Path(repo.env["RUNNER_TEMP"]) / "hss-id-token"
    assert github_env.read_text().splitlines() == [
        "HUAWEICLOUD_SDK_IDP_ID=github-actions",
        f"HUAWEICLOUD_SDK_ID_TOKEN_FILE={token_file}",
        "HSS_STATE=s3://state/hss.json?region=ap-southeast-1",
    ]
    assert token_file.read_text() == OIDC_TOKEN and token_file.stat().st_mode & 0o077 == 0
    assert github.store["audiences"] == ["hss-reconciler"]
    assert "Credentials: OIDC federation; state: remote (HSS_STATE)" in result.stdout

    github_env.write_text("")
    bare = {k: v for k, v in env.items() if k not in ("HSS_IDP_ID", "STATE_URL")}
    refused = run_bash(step["run"], bare, work)
    assert refused.code == 1 and "::error::No Huawei Cloud credential" in refused.stdout
    assert github_env.read_text() == ""


def test_github_drift_issue_is_opened_updated_then_closed(hss: Hss, tmp_path: Path, github: Service) -> None:
    repo = github_repo(hss, tmp_path, github, GITHUB_TOKEN=API_TOKEN)
    main = clone(repo.origin, tmp_path / "main")
    env = {**repo.env, "GITHUB_WORKFLOW": "hss-drift"}
    provided = {**repo.provided, "HUAWEICLOUD_SDK_AK": hss.ak, "HUAWEICLOUD_SDK_SK": hss.sk}
    for expected in ("opened issue #50", "updated issue #50"):
        job = run_job("hss-drift", "drift", main, env, provided)
        result = job.results["Plan and report drift"]
        assert result.code == 0 and f"Drift: {expected}." in result.stdout, result.output
    (issue,) = github.store["issues"]
    assert issue["body"].startswith(DRIFT_MARKER + "\nScheduled `plan` found differences")
    assert "2 to add" in issue["body"] and issue["labels"] == ["hss-drift"]

    apply_directly(hss, main / "registries", tmp_path)
    job = run_job("hss-drift", "drift", main, env, provided)
    assert "No drift: closed issue #50." in job.results["Plan and report drift"].stdout
    assert issue["state"] == "closed" and github.store["comments"][50][0]["body"].startswith(
        "No drift any more"
    )
    job = run_job("hss-drift", "drift", main, env, {**provided, "HUAWEICLOUD_SDK_SK": "wrong"})
    assert job.results["Plan and report drift"].code == 1, "a failed plan fails the run"
    assert "the drift issue is left as it is" in job.results["Plan and report drift"].stderr
    assert len(github.store["issues"]) == 1


def test_github_recipe_steps_are_all_known_to_this_test() -> None:
    steps = [s for spec in map(workflow, WORKFLOWS) for job in spec["jobs"].values() for s in job["steps"]]
    assert [s["name"] for s in steps if "run" in s and EXPRESSION.search(s["run"])] == []
    assert all("uses" in s or "run" in s for s in steps)
