"""The GitLab CI recipe runs: each job's before_script and script in one bash, then after_script.

The runner's semantics: the script lines run in one shell that stops at the
first failing line; after_script runs after a failure too; a job's `id_tokens`
become variables holding the token GitLab issued for their audience; a project
variable outranks a job's `variables:`. The GitLab
API is a fake on loopback. Every line runs; before_script's pip install against
a fake release host in `test_gitlab_merge_request_note_then_merge_applies_the_reviewed_plan`
(elsewhere it is left out to keep the tests cheap).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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
    requirements_for,
    run_bash,
    start_service,
    wheel,  # noqa: F401  (a fixture)
)
from tests.e2e.conftest import Hss, Result
from tests.e2e.credentials_kit import IDP_ID, Vending

GITLAB_CI = EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"
HELPER = EXAMPLES / "gitlab-ci" / "hss_gitlab.py"
PROJECT_PATH = "/api/v4/projects/42"


# --- the fake GitLab -------------------------------------------------------------------------------


def _notes(api: FakeApi, body: dict[str, Any]) -> None:
    notes = api.store["notes"]
    if api.command == "GET":
        page = int(api.query["page"])
        more = len(notes) > page * 2  # two a page, to exercise paging
        api.send(200, notes[(page - 1) * 2 : page * 2], {"X-Next-Page": str(page + 1) if more else ""})
        return
    note = {"id": 500 + len(notes), "body": body["body"], "author": {"id": 99}}
    notes.append(note)
    api.send(201, note)


def _edit_note(api: FakeApi, body: dict[str, Any]) -> None:
    note = next(n for n in api.store["notes"] if n["id"] == int(api.match[1]))
    note["body"] = body["body"]
    api.send(200, note)


def _artifact(api: FakeApi, _: dict[str, Any]) -> None:
    if "plan" in api.store:
        api.send(200, api.store["plan"])
    else:
        api.send(404, {"message": "404 Not Found"})


def _issues(api: FakeApi, body: dict[str, Any]) -> None:
    issues = api.store["issues"]
    if api.command == "GET":
        api.send(
            200,
            [
                i
                for i in issues
                if i["state"] == "opened"
                and api.query["labels"] in i["labels"]
                and api.query["author_id"] == "99"
            ],
        )
        return
    issue = {
        "iid": 60 + len(issues),
        "state": "opened",
        "description": body["description"],
        "labels": body["labels"].split(","),
        "notes": [],
    }
    issues.append(issue)
    api.send(201, issue)


def _edit_issue(api: FakeApi, body: dict[str, Any]) -> None:
    issue = next(i for i in api.store["issues"] if i["iid"] == int(api.match[1]))
    if body.get("state_event") == "close":
        issue["state"] = "closed"
    issue.update({k: v for k, v in body.items() if k == "description"})
    api.send(200, issue)


def _issue_note(api: FakeApi, body: dict[str, Any]) -> None:
    next(i for i in api.store["issues"] if i["iid"] == int(api.match[1]))["notes"].append(body["body"])
    api.send(201, {"id": 1})


GITLAB_ROUTES: list[tuple[str, str, Route]] = [
    ("GET", r"/api/v4/user", lambda api, _: api.send(200, {"id": 99, "username": "project_42_bot"})),
    ("GET", rf"{PROJECT_PATH}/merge_requests/7/notes", _notes),
    ("POST", rf"{PROJECT_PATH}/merge_requests/7/notes", _notes),
    ("PUT", rf"{PROJECT_PATH}/merge_requests/7/notes/(\d+)", _edit_note),
    (
        "GET",
        rf"{PROJECT_PATH}/repository/commits/\w+/merge_requests",
        lambda api, _: api.send(200, api.store["merge_requests"]),
    ),
    (
        "GET",
        rf"{PROJECT_PATH}/merge_requests/7/pipelines",
        lambda api, _: api.send(200, [{"id": 3, "status": "failed"}, {"id": 2, "status": "success"}]),
    ),
    (
        "GET",
        rf"{PROJECT_PATH}/pipelines/2/jobs",
        lambda api, _: api.send(200, [{"id": 21, "name": "hss-plan"}]),
    ),
    ("GET", rf"{PROJECT_PATH}/jobs/21/artifacts/plan.json", _artifact),
    ("GET", rf"{PROJECT_PATH}/issues", _issues),
    ("POST", rf"{PROJECT_PATH}/issues", _issues),
    ("PUT", rf"{PROJECT_PATH}/issues/(\d+)", _edit_issue),
    ("POST", rf"{PROJECT_PATH}/issues/(\d+)/notes", _issue_note),
]


@pytest.fixture
def gitlab(wheel: Wheel) -> Iterator[Service]:  # noqa: F811  (the imported fixture)
    store: dict[str, Any] = {
        "notes": [],
        "issues": [],
        "merge_requests": [{"iid": 7, "state": "merged"}],
        "wheel": wheel,
    }
    yield from start_service(GITLAB_ROUTES, ("PRIVATE-TOKEN", API_TOKEN), store)


# --- running a job ---------------------------------------------------------------------------------


def config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(GITLAB_CI.read_text())
    return data


def _expand(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)


def job_spec(name: str) -> dict[str, Any]:
    spec = config()
    job = dict(spec[name])
    parents = job.get("extends", [])
    for parent in [parents] if isinstance(parents, str) else parents:
        job = {**spec[parent], **job}
    return job


def run_job(
    name: str,
    cwd: Path,
    env: dict[str, str],
    *,
    install: bool = False,
    id_tokens: dict[str, str] | None = None,
) -> tuple[Result, Result | None]:
    """before_script + script in one bash (stops at the first failing line), then after_script.

    `id_tokens`: what GitLab issues, by audience; each of the job's `id_tokens` gets the
    token of its (expanded) audience, or none. Without `install`, the pip line is left out.
    """
    job = job_spec(name)
    # GitLab's precedence: the project's variables (`env`) outrank a job's `variables:`,
    # which outrank the file's top-level ones.
    yaml_env = {k: _expand(str(v), env) for k, v in config()["variables"].items()}
    yaml_env.update({k: _expand(str(v), {**yaml_env, **env}) for k, v in job.get("variables", {}).items()})
    job_env = {**yaml_env, **env}
    for variable, spec in job.get("id_tokens", {}).items():
        token = (id_tokens or {}).get(_expand(str(spec["aud"]), job_env))
        if token:
            job_env[variable] = token
    before = [line for line in job["before_script"] if install or "pip install" not in line]
    lines = before + job["script"]
    result = run_bash("\n".join(lines), job_env, cwd)
    after = run_bash("\n".join(job["after_script"]), job_env, cwd) if "after_script" in job else None
    return result, after


def gitlab_repo(hss: Hss | None, tmp_path: Path, gitlab: Service) -> Path:
    return make_origin(
        tmp_path,
        {
            ".gitlab-ci.yml": GITLAB_CI,
            "ci/hss_gitlab.py": HELPER,
            "ci/hss-reconciler-requirements.txt": requirements_for(gitlab.store["wheel"], gitlab.url),
        },
    )


def gitlab_env(
    hss: Hss | None, tmp_path: Path, gitlab: Service, sha: str, *, mr: bool, **extra: str
) -> dict[str, str]:
    """The runner's variables; with `hss`, its endpoint and the key variables (none without)."""
    keys = {} if hss is None else {
        "HSS_READONLY_AK": hss.ak,
        "HSS_READONLY_SK": hss.sk,
        "HUAWEICLOUD_SDK_AK": hss.ak,
        "HUAWEICLOUD_SDK_SK": hss.sk,
    }
    env = {
        **base_env(hss, tmp_path),
        "GITLAB_CI": "true",
        "CI_API_V4_URL": f"{gitlab.url}/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_COMMIT_SHA": sha,
        "CI_COMMIT_SHORT_SHA": sha[:8],
        "CI_DEFAULT_BRANCH": "main",
        "CI_JOB_URL": "https://gitlab.example.com/acme/registries/-/jobs/77",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/registries/-/pipelines/9",
        "GITLAB_API_TOKEN": API_TOKEN,
        "CI_SERVER_HOST": "gitlab.example.com",
        "CI_PROJECT_PATH": "acme/registries",
        **keys,
        **PASSWORDS,
    }
    env.update(
        {
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        }
        if mr
        else {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"}
    )
    return {**env, **extra}


def merge_request_plan(hss: Hss, tmp_path: Path, gitlab: Service, origin: Path) -> tuple[Path, Result]:
    mr = clone(origin, tmp_path / "mr")
    result, _ = run_job(
        "hss-plan", mr, gitlab_env(hss, tmp_path, gitlab, git("rev-parse", "HEAD", cwd=mr), mr=True)
    )
    gitlab.store["plan"] = (mr / "plan.json").read_bytes()  # the job's artifact
    return mr, result


# --- the tests -------------------------------------------------------------------------------------


def test_gitlab_merge_request_note_then_merge_applies_the_reviewed_plan(
    hss: Hss, tmp_path: Path, gitlab: Service
) -> None:
    gitlab.store["notes"] += [
        {"id": 1, "body": "LGTM", "author": {"id": 5}},
        {"id": 2, "body": f"quoting {PLAN_MARKER}", "author": {"id": 5}},
    ]
    origin = gitlab_repo(hss, tmp_path, gitlab)
    mr = clone(origin, tmp_path / "mr")
    sha = git("rev-parse", "HEAD", cwd=mr)
    env = gitlab_env(hss, tmp_path, gitlab, sha, mr=True)
    for push in (1, 2):  # a second push to the merge request edits the same note
        result, after = run_job("hss-plan", mr, env, install=push == 1)
        assert result.code == 0, result.output
        assert after is not None and after.code == 0, after
        assert "Plan: 2 to add, 0 to change, 0 to destroy." in result.stdout
        assert "Planning against the state on main." in result.stdout
        ours = [n for n in gitlab.store["notes"] if n["author"]["id"] == 99]
        assert len(ours) == 1, f"push {push}: {gitlab.store['notes']}"
        assert ours[0]["body"].startswith(PLAN_MARKER + "\n### hss-reconciler plan: 2 to add")
    assert (tmp_path / "site" / "reconciler" / "__init__.py").is_file(), (
        "before_script installed the pinned wheel"
    )
    assert gitlab.store["notes"][1]["body"] == f"quoting {PLAN_MARKER}", "a person's note is never edited"
    assert live(hss) == {}

    gitlab.store["plan"] = (mr / "plan.json").read_bytes()
    main = clone(origin, tmp_path / "main")
    git("checkout", "--quiet", "--detach", "HEAD", cwd=main)  # runners check out a detached commit
    result, _ = run_job("hss-apply", main, gitlab_env(hss, tmp_path, gitlab, sha, mr=False))
    assert result.code == 0, result.output
    assert "Using the plan reviewed in !7 (job 21)." in result.stdout
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in result.stdout
    assert sorted(live(hss)) == ["harbor-prod", "jfrog-build"]
    assert "[skip ci]" in git("log", "-1", "--format=%s", "main", cwd=origin)
    assert (
        len(json.loads(git("show", "main:registries/hss-reconciler.state.json", cwd=origin))["registries"])
        == 2
    )


def test_gitlab_merge_request_plans_against_the_target_branch_state(
    hss: Hss, tmp_path: Path, gitlab: Service
) -> None:
    origin = gitlab_repo(hss, tmp_path, gitlab)
    mr = clone(origin, tmp_path / "mr")  # the branch is cut before main's apply committed the state
    main = clone(origin, tmp_path / "main")
    apply_directly(hss, main / "registries", tmp_path)
    git("add", "registries/hss-reconciler.state.json", cwd=main)
    git("commit", "--quiet", "-m", "state [skip ci]", cwd=main)
    git("push", "--quiet", "origin", "main", cwd=main)
    result, _ = run_job("hss-plan", mr, gitlab_env(hss, tmp_path, gitlab, "a" * 40, mr=True))
    assert result.code == 0, result.output
    assert "No changes." in result.stdout, "the branch's missing state would have planned 2 to add"


def test_gitlab_stale_plan_fails_posts_a_new_plan_then_the_manual_job_applies_it(
    hss: Hss, tmp_path: Path, gitlab: Service
) -> None:
    origin = gitlab_repo(hss, tmp_path, gitlab)
    merge_request_plan(hss, tmp_path, gitlab, origin)
    merge_change(origin, tmp_path / "other", "registry_username: robot-hss", "registry_username: robot-hss2")
    main = clone(origin, tmp_path / "main")
    env = gitlab_env(hss, tmp_path, gitlab, "b" * 40, mr=False)
    result, _ = run_job("hss-apply", main, env)
    assert result.code == 5, result.output
    assert job_spec("hss-apply")["allow_failure"] == {"exit_codes": [5]}
    assert "The reviewed plan is stale" in result.stdout and "play hss-apply-reviewed" in result.stdout
    assert live(hss) == {}, "nothing unreviewed is applied"
    posted = gitlab.store["notes"][-1]["body"]
    assert posted.startswith(PLAN_MARKER + "\n**The reviewed plan is stale") and "robot-hss2" in posted

    reviewed = clone(origin, tmp_path / "reviewed")  # the manual job, with hss-apply's artifact
    (reviewed / "replan.json").write_bytes((main / "replan.json").read_bytes())
    result, _ = run_job("hss-apply-reviewed", reviewed, env)
    assert result.code == 0, result.output
    assert live(hss)["harbor-prod"]["registry_username"] == "robot-hss2"
    assert "[skip ci]" in git("log", "-1", "--format=%s", "main", cwd=origin)


def test_gitlab_missing_plan_fails_unless_unreviewed_applies_are_opted_in(
    hss: Hss, tmp_path: Path, gitlab: Service
) -> None:
    origin = gitlab_repo(hss, tmp_path, gitlab)
    gitlab.store["merge_requests"] = []  # a direct push
    result, _ = run_job(
        "hss-apply", clone(origin, tmp_path / "main"), gitlab_env(hss, tmp_path, gitlab, "c" * 40, mr=False)
    )
    assert result.code == 5 and "No merge request brought cccccccc." in result.stdout, result.output
    assert "No merge request to write the plan to" in result.stdout
    # Opted in, with the state elsewhere (HSS_STATE; a path here, a URL in production): no commit back.
    shared = tmp_path / "shared.state.json"
    env = gitlab_env(
        hss, tmp_path, gitlab, "c" * 40, mr=False, HSS_APPLY_UNREVIEWED="true", HSS_STATE=str(shared)
    )
    result, _ = run_job("hss-apply", clone(origin, tmp_path / "main2"), env)
    assert result.code == 0, result.output
    assert "HSS_APPLY_UNREVIEWED is true: applying a fresh plan nobody reviewed." in result.stdout
    assert sorted(live(hss)) == ["harbor-prod", "jfrog-build"]
    assert len(json.loads(shared.read_text())["registries"]) == 2
    assert git("log", "-1", "--format=%s", "main", cwd=origin) == "registries", "nothing committed back"


def test_gitlab_without_the_protected_token_the_plan_stays_in_the_job(
    hss: Hss, tmp_path: Path, gitlab: Service
) -> None:
    origin = gitlab_repo(hss, tmp_path, gitlab)
    mr = clone(origin, tmp_path / "mr")
    _, after = run_job(
        "hss-plan", mr, gitlab_env(hss, tmp_path, gitlab, "d" * 40, mr=True, GITLAB_API_TOKEN="")
    )
    assert after is not None and after.code == 0
    assert "No GITLAB_API_TOKEN in this pipeline" in after.stdout
    assert gitlab.store["calls"] == [] and (mr / "plan-note.md").read_text().startswith(PLAN_MARKER)


def test_gitlab_drift_issue_is_opened_updated_then_closed(hss: Hss, tmp_path: Path, gitlab: Service) -> None:
    origin = gitlab_repo(hss, tmp_path, gitlab)
    main = clone(origin, tmp_path / "main")
    env = gitlab_env(
        hss, tmp_path, gitlab, "e" * 40, mr=False, CI_PIPELINE_SOURCE="schedule", HSS_DRIFT="true"
    )
    for expected in ("opened issue #60", "updated issue #60"):
        result, _ = run_job("hss-drift", main, env)
        assert result.code == 0 and f"Drift: {expected}." in result.stdout, result.output
    (issue,) = gitlab.store["issues"]
    assert issue["description"].startswith(DRIFT_MARKER + "\nScheduled `plan` found differences")
    assert issue["labels"] == ["hss-drift"] and "pipelines/9" in issue["description"]
    apply_directly(hss, main / "registries", tmp_path)
    result, _ = run_job("hss-drift", main, env)
    assert "No drift: closed issue #60." in result.stdout, result.output
    assert issue["state"] == "closed" and issue["notes"][0].startswith("No drift any more")


def test_gitlab_merge_request_plans_with_the_job_s_id_token_and_no_key(
    tmp_path: Path, gitlab: Service, vending: Vending
) -> None:
    origin = gitlab_repo(None, tmp_path, gitlab)
    mr = clone(origin, tmp_path / "mr")
    temporary = tmp_path / "tmp"  # where the job's mktemp writes the token file
    temporary.mkdir()
    env = gitlab_env(
        None, tmp_path, gitlab, git("rev-parse", "HEAD", cwd=mr), mr=True, TMPDIR=str(temporary),
        HSS_ENDPOINT=vending.server.url, HUAWEICLOUD_SDK_IAM_ENDPOINT=vending.server.url,
        HSS_PLAN_IDP_ID=IDP_ID, HSS_APPLY_IDP_ID="the-apply-idp",
    )
    result, after = run_job("hss-plan", mr, env, id_tokens={"hss-reconciler": vending.id_token})
    assert result.code == 0, result.output
    assert f"Credentials: OIDC federation (IdP {IDP_ID}, audience hss-reconciler)." in result.stdout
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in result.stdout
    assert vending.issued == 1, "the ID token was exchanged at IAM for temporary credentials"
    (token_file,) = temporary.iterdir()
    assert token_file.read_text() == vending.id_token and token_file.stat().st_mode & 0o077 == 0
    assert after is not None and after.code == 0, after
    assert vending.id_token not in result.output + after.output
    assert gitlab.store["notes"][-1]["body"].startswith(PLAN_MARKER + "\n### hss-reconciler plan: 2 to add")
    # The plan IdP for merge requests and drift; the apply IdP (a protected variable) for the apply jobs.
    assert {name: job_spec(name)["variables"]["HSS_IDP_ID"] for name in
            ("hss-plan", "hss-drift", "hss-apply", "hss-apply-reviewed")} == {
        "hss-plan": "$HSS_PLAN_IDP_ID", "hss-drift": "$HSS_PLAN_IDP_ID",
        "hss-apply": "$HSS_APPLY_IDP_ID", "hss-apply-reviewed": "$HSS_APPLY_IDP_ID"}


def test_gitlab_job_without_its_id_token_or_any_credential_stops_before_the_plan(
    tmp_path: Path, gitlab: Service
) -> None:
    origin = gitlab_repo(None, tmp_path, gitlab)
    main = clone(origin, tmp_path / "main")
    schedule = {"CI_PIPELINE_SOURCE": "schedule", "HSS_DRIFT": "true"}
    env = gitlab_env(None, tmp_path, gitlab, "f" * 40, mr=False, **schedule, HSS_PLAN_IDP_ID=IDP_ID)
    result, _ = run_job("hss-drift", main, env, id_tokens={"another-audience": "eyJ.x.y"})
    assert result.code == 1 and "this job has no ID token" in result.stdout, result.output
    result, _ = run_job("hss-drift", main, gitlab_env(None, tmp_path, gitlab, "f" * 40, mr=False, **schedule))
    assert result.code == 1 and "No Huawei Cloud credential" in result.stdout, result.output
    assert gitlab.store["calls"] == [], "no plan ran, so no drift issue was touched"


def test_gitlab_plan_jobs_use_the_read_only_key_even_where_the_protected_write_key_is_set(
    hss: Hss, tmp_path: Path, gitlab: Service
) -> None:
    # A project variable outranks a job's `variables:`: on a protected branch (a scheduled
    # drift check on main) HUAWEICLOUD_SDK_AK/SK would be the write key, here one HSS refuses.
    origin = gitlab_repo(hss, tmp_path, gitlab)
    env = gitlab_env(hss, tmp_path, gitlab, "9" * 40, mr=False, CI_PIPELINE_SOURCE="schedule",
                     HSS_DRIFT="true", HUAWEICLOUD_SDK_AK="AKWRITEKEYNEVERUSED", HUAWEICLOUD_SDK_SK="x" * 40)
    result, _ = run_job("hss-drift", clone(origin, tmp_path / "main"), env)
    assert result.code == 0, result.output
    assert "Credentials: access keys." in result.stdout and "Drift: opened issue #60." in result.stdout
