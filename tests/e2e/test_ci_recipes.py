"""The CI recipes: valid for their CI system, and their own shell steps work against the emulator.

A recipe is run the way its runner would run it, as far as this machine allows:
each `run:` step (GitHub) or script line (GitLab) is taken from the YAML and
run by bash with the job's environment, in a clone of a local "origin" holding
examples/quickstart as registries/. What only the CI system can do is left out
and named in GITHUB_ONLY / GITLAB_ONLY (`uses:` actions are never run): the
artifact hand-over is played by copying plan.json, the pull-request comment
script runs under node against a fake GitHub API, and the GitLab API calls go
to a fake GitLab on loopback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.conftest import CLI, QUICKSTART, REPO, Hss, Result

GITHUB_WORKFLOW = REPO / "examples" / "github-actions" / "hss-reconciler.yml"
GITLAB_CI = REPO / "examples" / "gitlab-ci" / ".gitlab-ci.yml"
GITLAB_HELPER = REPO / "examples" / "gitlab-ci" / "hss_gitlab.py"
MARKER = "<!-- hss-reconciler-plan -->"
PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"
PASSWORDS = {"HARBOR_PROD_PASSWORD": "harbor-Pa55word!", "JFROG_PASSWORD": "jfrog-Pa55word?"}
GITHUB_ONLY = {
    "Install hss-reconciler": "installs from outside; the test runs this checkout's CLI",
    "Find the plan reviewed in the pull request": "calls the GitHub API (gh run download); "
                                                  "the test copies the plan job's plan.json instead",
}
GITLAB_ONLY = {
    'python -m pip install --quiet "$HSS_RECONCILER_SPEC"': "installs from outside",
    "git remote set-url --push": "points pushes at GitLab with a token; here origin is a local bare repo",
}
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


# --- a local "origin" and its clones -------------------------------------------------------------

def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def make_origin(tmp_path: Path, recipe: Path, recipe_path: str) -> Path:
    origin = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    seed = clone(origin, tmp_path / "seed")
    shutil.copytree(QUICKSTART, seed / "registries")
    (seed / recipe_path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(recipe, seed / recipe_path)
    if recipe == GITLAB_CI:
        (seed / "ci").mkdir()
        shutil.copy(GITLAB_HELPER, seed / "ci" / "hss_gitlab.py")
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "registries", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    return origin


def clone(origin: Path, dest: Path) -> Path:
    git("clone", "--quiet", str(origin), str(dest), cwd=origin.parent)
    return dest


def merge_change(origin: Path, tmp_path: Path, old: str, new: str) -> None:
    """Another merge request lands on main: one registry file edit."""
    other = clone(origin, tmp_path / "other-change")
    path = other / "registries" / "registries.yaml"
    path.write_text(path.read_text().replace(old, new))
    git("commit", "--quiet", "-am", "another change", cwd=other)
    git("push", "--quiet", "origin", "main", cwd=other)


def live(hss: Hss) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{hss.server.url}/v5/{PROJECT}/image/registries", params={"limit": 200},
                         headers={"X-Auth-Token": hss.token})
    response.raise_for_status()
    return {r["registry_name"]: r for r in response.json()["data_list"]}


def base_env(hss: Hss | None, tmp_path: Path) -> dict[str, str]:
    env = hss.env(aksk=True) if hss else {k: v for k, v in os.environ.items()
                                          if not k.startswith(("HUAWEICLOUD", "CLOUD_SDK", "HSS_"))}
    env["PATH"] = str(Path(CLI).parent) + os.pathsep + env.get("PATH", "")
    env.update(GIT_ENV)
    env["CI"] = "true"
    env["HOME"] = str(tmp_path)
    return env


def run_bash(script: str, env: dict[str, str], cwd: Path) -> Result:
    proc = subprocess.run([*BASH, "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


# --- GitHub Actions ------------------------------------------------------------------------------

def github_workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(GITHUB_WORKFLOW.read_text())
    return data


def resolve_github_env(mapping: dict[str, Any], provided: dict[str, str]) -> dict[str, str]:
    """Plain values as written; `${{ ... }}` values from `provided`, by variable name (a KeyError
    means the workflow gained a secret or expression the test does not yet stand in for)."""
    return {name: provided[name] if EXPRESSION.search(str(value)) else str(value)
            for name, value in mapping.items()}


@dataclass
class JobRun:
    results: dict[str, Result] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)


def run_github_job(job_name: str, cwd: Path, env: dict[str, str], provided: dict[str, str]) -> JobRun:
    workflow = github_workflow()
    job = workflow["jobs"][job_name]
    job_env = {**env, **resolve_github_env(workflow.get("env", {}), provided),
               **resolve_github_env(job.get("env", {}), provided)}
    run = JobRun()
    failed = False
    for step in job["steps"]:
        name = step.get("name", step.get("uses", ""))
        if "uses" in step:
            run.not_run[name] = "a GitHub action"
            continue
        if name in GITHUB_ONLY:
            run.not_run[name] = GITHUB_ONLY[name]
            continue
        condition = str(step.get("if", "success()"))
        if failed and not any(word in condition for word in ("always()", "!cancelled()", "failure()")):
            run.not_run[name] = "skipped after a failed step, as GitHub does"
            continue
        if not failed and "failure()" in condition:
            continue
        step_env = {**job_env, **resolve_github_env(step.get("env", {}), provided)}
        result = run_bash(step["run"], step_env, cwd)
        run.results[name] = result
        failed = failed or result.code != 0
    return run


def github_env(hss: Hss | None, tmp_path: Path, sha: str) -> dict[str, str]:
    summary = tmp_path / "step-summary.md"
    return {**base_env(hss, tmp_path), "GITHUB_ACTIONS": "true", "GITHUB_SHA": sha,
            "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/registries",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "4242",
            "GITHUB_WORKFLOW": "hss-reconciler", "GITHUB_STEP_SUMMARY": str(summary)}


def github_secrets(hss: Hss | None, sha: str) -> dict[str, str]:
    ak, sk = (hss.ak, hss.sk) if hss else ("unset", "unset")
    return {"HUAWEICLOUD_SDK_AK": ak, "HUAWEICLOUD_SDK_SK": sk, "PR_HEAD_SHA": sha, "GH_TOKEN": "unused",
            **PASSWORDS}


def test_github_workflow_matches_the_github_workflow_schema(tmp_path: Path) -> None:
    ok = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                         str(GITHUB_WORKFLOW)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(GITHUB_WORKFLOW.read_text().replace("runs-on:", "runs_on:", 1))
    bad = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken)],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1, "the schema check must be able to fail"


def test_github_scripts_take_values_only_from_env_and_applies_never_overlap() -> None:
    workflow = github_workflow()
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assert [s["name"] for s in steps if "run" in s and EXPRESSION.search(s["run"])] == []
    apply_job = workflow["jobs"]["apply"]
    assert apply_job["concurrency"]["cancel-in-progress"] is False
    assert workflow["jobs"]["plan"]["permissions"]["pull-requests"] == "write"
    assert set(GITHUB_ONLY) <= {s.get("name") for s in steps}, "GITHUB_ONLY names a step that is gone"


def test_github_pull_request_plan_then_merge_applies_the_reviewed_plan(hss: Hss, tmp_path: Path) -> None:
    origin = make_origin(tmp_path, GITHUB_WORKFLOW, ".github/workflows/hss-reconciler.yml")
    pr = clone(origin, tmp_path / "pr")
    sha = git("rev-parse", "HEAD", cwd=pr)
    env = github_env(hss, tmp_path, sha)
    secrets = github_secrets(hss, sha)

    plan_job = run_github_job("plan", pr, env, secrets)
    assert list(plan_job.results) == ["Validate", "Plan", "Write the plan comment"]
    assert all(r.code == 0 for r in plan_job.results.values()), plan_job.results
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan_job.results["Plan"].stdout
    comment = (pr / "plan-comment.md").read_text()
    assert comment.startswith(MARKER + "\n### hss-reconciler plan: 2 to add, 0 to change, 0 to destroy")
    assert f"Plan for {sha[:7]}." in comment and "<details>" in comment
    assert "hss-reconciler plan: 2 to add" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert live(hss) == {}, "a pull request never changes HSS"

    main = clone(origin, tmp_path / "main")
    (main / "saved-plan").mkdir()
    shutil.copy(pr / "plan.json", main / "saved-plan" / "plan.json")  # the artifact hand-over
    apply_job = run_github_job("apply", main, env, secrets)
    assert list(apply_job.results) == ["Check every password is set", "Apply", "Commit the state file"]
    applied = apply_job.results["Apply"]
    assert applied.code == 0, applied.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in applied.stdout
    assert "planning again" not in applied.output
    assert sorted(live(hss)) == ["harbor-prod", "jfrog-build"]
    assert apply_job.results["Commit the state file"].code == 0, apply_job.results["Commit the state file"]
    assert "[skip ci]" in git("log", "-1", "--format=%s", "main", cwd=origin)
    pushed = json.loads(git("show", "main:registries/hss-reconciler.state.json", cwd=origin))
    assert sorted(e["registry_name"] for e in pushed["registries"]) == ["harbor-prod", "jfrog-build"]


@dataclass
class ReviewedPlan:
    """A pull request's plan job has run; `main` is a checkout of main holding its plan artifact."""

    main: Path
    env: dict[str, str]
    secrets: dict[str, str]


def github_reviewed_plan(hss: Hss, tmp_path: Path, *, merged: tuple[str, str] | None = None
                         ) -> ReviewedPlan:
    """Plan on a pull request; optionally merge another change (`old`, `new`) to main; check out main."""
    origin = make_origin(tmp_path, GITHUB_WORKFLOW, ".github/workflows/hss-reconciler.yml")
    pr = clone(origin, tmp_path / "pr")
    sha = git("rev-parse", "HEAD", cwd=pr)
    env, secrets = github_env(hss, tmp_path, sha), github_secrets(hss, sha)
    assert run_github_job("plan", pr, env, secrets).results["Plan"].code == 0
    if merged:
        merge_change(origin, tmp_path, *merged)
    main = clone(origin, tmp_path / "main")
    (main / "saved-plan").mkdir()
    shutil.copy(pr / "plan.json", main / "saved-plan" / "plan.json")  # the artifact hand-over
    return ReviewedPlan(main, env, secrets)


def test_github_stale_plan_is_replaced_by_a_fresh_one(hss: Hss, tmp_path: Path) -> None:
    reviewed = github_reviewed_plan(
        hss, tmp_path, merged=("registry_addr: harbor.example.com", "registry_addr: harbor2.example.com"))
    applied = run_github_job("apply", reviewed.main, reviewed.env, reviewed.secrets).results["Apply"]
    assert applied.code == 0, applied.output
    assert "saved plan is stale" in applied.stderr
    assert "::notice::The reviewed plan is stale" in applied.stdout
    assert live(hss)["harbor-prod"]["registry_addr"] == "harbor2.example.com"


def test_github_reviewed_plan_failing_for_another_reason_fails_the_job(hss: Hss, tmp_path: Path) -> None:
    # Only exit 4 (stale) means "plan again"; any other failure is the job's answer.
    reviewed = github_reviewed_plan(hss, tmp_path)
    wrong_key = {**reviewed.secrets, "HUAWEICLOUD_SDK_SK": "not-the-secret-key"}
    applied = run_github_job("apply", reviewed.main, reviewed.env, wrong_key).results["Apply"]
    assert applied.code == 1, applied.output
    assert "HSS ListRegistry failed: HTTP 401" in applied.stderr  # apply FILE plans afresh first
    assert "planning again" not in applied.output and "stale" not in applied.output
    assert live(hss) == {}


def test_github_failed_plan_still_refreshes_the_comment(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, GITHUB_WORKFLOW, ".github/workflows/hss-reconciler.yml")
    pr = clone(origin, tmp_path / "pr")
    path = pr / "registries" / "registries.yaml"
    path.write_text(path.read_text().replace("protocol: https", "protocol: ftp", 1))
    sha = git("rev-parse", "HEAD", cwd=pr)
    job = run_github_job("plan", pr, github_env(None, tmp_path, sha), github_secrets(None, sha))
    assert job.results["Validate"].code == 1
    assert "registries/registries.yaml:14:15: registries[0].protocol: " in job.results["Validate"].stderr
    assert job.not_run["Plan"].startswith("skipped")
    comment = (pr / "plan-comment.md").read_text()
    assert comment.startswith(MARKER + "\n### hss-reconciler plan failed")
    assert "https://github.com/acme/registries/actions/runs/4242" in comment


NODE_HARNESS = r"""
const fs = require('fs');
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const github = {
  paginate: async (method, params) => (await method(params)).data,
  rest: { issues: {
    listComments: async () => ({ data: state.comments }),
    updateComment: async ({ comment_id, body }) => {
      state.comments.find((c) => c.id === comment_id).body = body; state.calls.push('update'); },
    createComment: async ({ body }) => {
      state.comments.push({ id: 100 + state.comments.length, body, user: { type: 'Bot' } });
      state.calls.push('create'); },
  } },
};
const context = { repo: { owner: 'acme', repo: 'registries' }, issue: { number: 7 }, runId: 4242 };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const script = fs.readFileSync(scriptFile, 'utf8');
new AsyncFunction('github', 'context', 'require', script)(github, context, require)
  .then(() => fs.writeFileSync(stateFile, JSON.stringify(state)));
"""


def test_github_comment_script_creates_one_comment_then_edits_it(tmp_path: Path) -> None:
    step = next(s for s in github_workflow()["jobs"]["plan"]["steps"]
                if s.get("uses", "").startswith("actions/github-script"))
    (tmp_path / "script.js").write_text(step["with"]["script"])
    (tmp_path / "harness.js").write_text(NODE_HARNESS)
    human = {"id": 1, "body": f"I quote {MARKER} here", "user": {"type": "User"}}
    (tmp_path / "state.json").write_text(json.dumps({"comments": [human], "calls": []}))

    def push(comment: str) -> dict[str, Any]:
        (tmp_path / "plan-comment.md").write_text(comment)
        subprocess.run(["node", "harness.js", "script.js", "state.json"], cwd=tmp_path, check=True,
                       capture_output=True, text=True, timeout=30)
        state: dict[str, Any] = json.loads((tmp_path / "state.json").read_text())
        return state

    push(f"{MARKER}\nfirst plan\n")
    state = push(f"{MARKER}\nsecond plan\n")
    assert state["calls"] == ["create", "update"]
    assert [c["body"] for c in state["comments"]] == [human["body"], f"{MARKER}\nsecond plan\n"]
    state = push(MARKER + "\n" + "x" * 70_000)
    assert state["comments"][1]["body"].startswith(f"{MARKER}\nThe plan is too long for a comment")


# --- GitLab CI -----------------------------------------------------------------------------------

class FakeGitLab(BaseHTTPRequestHandler):
    """The few GitLab API v4 calls hss_gitlab.py makes, with the answers GitLab documents."""

    store: dict[str, Any]

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, method: str) -> None:
        store = self.store
        if self.headers.get("PRIVATE-TOKEN") != store["token"]:
            self._send(401, {"message": "401 Unauthorized"})
            return
        path = self.path.split("?")[0].removeprefix("/api/v4")
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length)) if length else {}
        notes = "/projects/42/merge_requests/7/notes"
        if (method, path) == ("GET", "/user"):
            self._send(200, {"id": 99, "username": "project_42_bot"})
        elif (method, path) == ("GET", notes):
            page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
            chunk = store["notes"][(page - 1) * 2: page * 2]  # two a page, to exercise paging
            more = len(store["notes"]) > page * 2
            self._send(200, chunk, {"X-Next-Page": str(page + 1) if more else ""})
        elif method == "PUT" and path.startswith(notes + "/"):
            note = next(n for n in store["notes"] if n["id"] == int(path.rsplit("/", 1)[1]))
            note["body"] = body["body"]
            self._send(200, note)
        elif (method, path) == ("POST", notes):
            note = {"id": 500 + len(store["notes"]), "body": body["body"], "author": {"id": 99}}
            store["notes"].append(note)
            self._send(201, note)
        elif method == "GET" and re.fullmatch(r"/projects/42/repository/commits/\w+/merge_requests", path):
            self._send(200, [{"iid": 7, "state": "merged"}])
        elif (method, path) == ("GET", "/projects/42/merge_requests/7/pipelines"):
            self._send(200, [{"id": 3, "status": "failed"}, {"id": 2, "status": "success"}])
        elif (method, path) == ("GET", "/projects/42/pipelines/2/jobs"):
            self._send(200, [{"id": 21, "name": "hss-plan"}])
        elif (method, path) == ("GET", "/projects/42/jobs/21/artifacts/plan.json") and "plan" in store:
            self._send(200, store["plan"])
        else:
            self._send(404, {"message": "404 Not Found"})
        store["calls"].append(f"{method} {path}")

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gitlab() -> Iterator[tuple[str, dict[str, Any]]]:
    store: dict[str, Any] = {"token": "glpat-test", "notes": [], "calls": []}
    handler = type("Handler", (FakeGitLab,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v4", store
    finally:
        server.shutdown()
        server.server_close()


def gitlab_config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(GITLAB_CI.read_text())
    return data


def gitlab_env(hss: Hss, tmp_path: Path, api: str, sha: str, mr: bool) -> dict[str, str]:
    env = {**base_env(hss, tmp_path), "GITLAB_CI": "true", "CI_API_V4_URL": api, "CI_PROJECT_ID": "42",
           "CI_COMMIT_SHA": sha, "CI_COMMIT_SHORT_SHA": sha[:8], "CI_DEFAULT_BRANCH": "main",
           "CI_JOB_URL": "https://gitlab.example.com/acme/registries/-/jobs/77",
           "GITLAB_API_TOKEN": "glpat-test",
           "CI_SERVER_HOST": "gitlab.example.com", "CI_PROJECT_PATH": "acme/registries",
           "HSS_READONLY_AK": hss.ak, "HSS_READONLY_SK": hss.sk, **PASSWORDS}
    env.update({"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"} if mr
               else {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"})
    return env


def _gitlab_expand(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], value)


def run_gitlab_job(name: str, cwd: Path, env: dict[str, str]) -> tuple[Result, Result | None, list[str]]:
    """script (one shell, stops at the first failing line) then after_script, as the runner does."""
    config = gitlab_config()
    job = {**config[config[name]["extends"]], **config[name]}
    job_env = {**env, **{k: _gitlab_expand(str(v), env) for k, v in config["variables"].items()}}
    job_env.update({k: _gitlab_expand(str(v), job_env) for k, v in job.get("variables", {}).items()})
    # before_script only installs hss-reconciler (not run: the test uses this checkout's CLI)
    assert job["before_script"] == [next(iter(GITLAB_ONLY))], "the install line changed; update GITLAB_ONLY"
    skipped = [line for line in job["script"] if any(line.startswith(prefix) for prefix in GITLAB_ONLY)]
    script = "\n".join(line for line in job["script"] if line not in skipped)
    result = run_bash(script, job_env, cwd)
    after = run_bash("\n".join(job["after_script"]), job_env, cwd) if "after_script" in job else None
    return result, after, skipped


def test_gitlab_ci_matches_the_gitlab_ci_schema(tmp_path: Path) -> None:
    ok = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(GITLAB_CI)],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(GITLAB_CI.read_text().replace("resource_group: hss-reconciler",
                                                    "resource_group: [hss-reconciler]"))
    bad = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(broken)],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1, "the schema check must be able to fail"
    config = gitlab_config()
    assert config["hss-apply"]["resource_group"] and config["hss-plan"]["rules"][0]["if"].endswith(
        '"merge_request_event"')


def test_gitlab_merge_request_note_then_merge_applies_the_reviewed_plan(
        hss: Hss, tmp_path: Path, gitlab: tuple[str, dict[str, Any]]) -> None:
    api, store = gitlab
    store["notes"] += [{"id": 1, "body": "LGTM", "author": {"id": 5}},
                       {"id": 2, "body": f"quoting {MARKER}", "author": {"id": 5}}]
    origin = make_origin(tmp_path, GITLAB_CI, ".gitlab-ci.yml")
    mr = clone(origin, tmp_path / "mr")
    sha = git("rev-parse", "HEAD", cwd=mr)
    env = gitlab_env(hss, tmp_path, api, sha, mr=True)

    for push in (1, 2):  # a second push to the merge request edits the same note
        result, after, skipped = run_gitlab_job("hss-plan", mr, env)
        assert result.code == 0, result.output
        assert after is not None
        assert after.code == 0, after.output
        assert "Plan: 2 to add, 0 to change, 0 to destroy." in result.stdout
        ours = [n for n in store["notes"] if n["author"]["id"] == 99]
        assert len(ours) == 1, f"push {push}: {store['notes']}"
        assert ours[0]["body"].startswith(MARKER + "\n### hss-reconciler plan: 2 to add")
        assert f"Plan for {sha[:8]}." in ours[0]["body"]
    assert store["notes"][1]["body"] == f"quoting {MARKER}", "a person's note is never edited"
    assert "PUT /projects/42/merge_requests/7/notes/502" in store["calls"]
    assert skipped == []
    assert live(hss) == {}

    store["plan"] = (mr / "plan.json").read_bytes()  # the job artifact
    main = clone(origin, tmp_path / "main")
    git("checkout", "--quiet", "--detach", "HEAD", cwd=main)  # runners check out a detached commit
    result, _, skipped = run_gitlab_job("hss-apply", main, gitlab_env(hss, tmp_path, api, sha, mr=False))
    assert result.code == 0, result.output
    assert [s.split()[:4] for s in skipped] == [["git", "remote", "set-url", "--push"]]
    assert "Using the plan reviewed in !7 (job 21)." in result.stdout
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in result.stdout
    assert "planning again" not in result.output
    assert sorted(live(hss)) == ["harbor-prod", "jfrog-build"]
    assert "[skip ci]" in git("log", "-1", "--format=%s", "main", cwd=origin)
    pushed = json.loads(git("show", "main:registries/hss-reconciler.state.json", cwd=origin))
    assert len(pushed["registries"]) == 2


def test_gitlab_stale_or_missing_plan_is_replaced_by_a_fresh_one(
        hss: Hss, tmp_path: Path, gitlab: tuple[str, dict[str, Any]]) -> None:
    api, store = gitlab
    origin = make_origin(tmp_path, GITLAB_CI, ".gitlab-ci.yml")
    mr = clone(origin, tmp_path / "mr")
    sha = git("rev-parse", "HEAD", cwd=mr)
    assert run_gitlab_job("hss-plan", mr, gitlab_env(hss, tmp_path, api, sha, mr=True))[0].code == 0
    store["plan"] = (mr / "plan.json").read_bytes()
    merge_change(origin, tmp_path, "registry_username: robot-hss", "registry_username: robot-hss2")

    main = clone(origin, tmp_path / "main")
    result, _, _ = run_gitlab_job("hss-apply", main, gitlab_env(hss, tmp_path, api, sha, mr=False))
    assert result.code == 0, result.output
    assert "The reviewed plan is stale" in result.stdout
    assert live(hss)["harbor-prod"]["registry_username"] == "robot-hss2"

    del store["plan"]  # no artifact any more (expired): plan again, say so, still apply
    merge_change(origin, tmp_path / "again", "registry_username: robot-hss2", "registry_username: robot-hss3")
    main2 = clone(origin, tmp_path / "main2")
    result, _, _ = run_gitlab_job("hss-apply", main2, gitlab_env(hss, tmp_path, api, sha, mr=False))
    assert result.code == 0, result.output
    assert "apply will plan again" in result.stdout and "planning again" in result.stdout
    assert live(hss)["harbor-prod"]["registry_username"] == "robot-hss3"


# --- every example -------------------------------------------------------------------------------

def test_every_example_yaml_starts_with_a_schema_line_that_resolves() -> None:
    files = sorted(p for p in (REPO / "examples").rglob("*") if p.suffix in (".yml", ".yaml"))
    files.append(REPO / ".pre-commit-hooks.yaml")
    assert len(files) >= 5
    for path in files:
        first = path.read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, f"{path}: first line is {first!r}"
        target = match.group(1)
        if target.startswith("https://"):
            continue
        resolved = (path.parent / target).resolve()
        assert resolved == REPO / "schemas" / "registries.schema.json", f"{path}: {target}"
