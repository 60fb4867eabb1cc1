#!/usr/bin/env python3
"""Merge-request plumbing for hss-reconciler in GitLab CI (Python standard library only).

    python3 ci/hss_gitlab.py note FILE          create, or edit in place, the one plan note on the
                                                merge request of this pipeline (or, on the default
                                                branch, on the merge request that brought the commit)
    python3 ci/hss_gitlab.py fetch-plan DEST    download plan.json from the newest successful
                                                `hss-plan` job of the merge request that
                                                brought this commit to the default branch
    python3 ci/hss_gitlab.py drift STATUS FILE  plan's --detailed-exitcode STATUS: 2 opens or updates
                                                the one drift issue with FILE, 0 closes it

Needs GITLAB_API_TOKEN: a project access token (role Reporter, scope `api`), as a
protected and masked CI/CD variable; CI_JOB_TOKEN cannot write notes. Pipelines
that cannot read protected variables get no note (the plan stays in the job log
and its artifact). Everything else comes from GitLab's predefined variables.
`fetch-plan` never fails the job: without a reviewed plan, the job decides.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

MARKER = "<!-- hss-reconciler-plan -->"
DRIFT_MARKER = "<!-- hss-reconciler-drift -->"
DRIFT_LABEL = os.environ.get("HSS_DRIFT_LABEL", "hss-drift")
PLAN_JOB = os.environ.get("HSS_PLAN_JOB", "hss-plan")
PLAN_ARTIFACT = "plan.json"


def _request(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[bytes, dict[str, str]]:
    url = os.environ["CI_API_V4_URL"].rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"PRIVATE-TOKEN": os.environ["GITLAB_API_TOKEN"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), dict(response.headers.items())


def _json(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return json.loads(_request(method, path, body)[0] or b"null")


def _project() -> str:
    return f"/projects/{urllib.parse.quote(os.environ['CI_PROJECT_ID'], safe='')}"


def _merged_iid() -> int | None:
    """The merge request that brought CI_COMMIT_SHA (merged ones first), or None."""
    requests = _json("GET", f"{_project()}/repository/commits/{os.environ['CI_COMMIT_SHA']}/merge_requests")
    merged = [mr for mr in requests if mr.get("state") == "merged"] or requests
    return int(merged[0]["iid"]) if merged else None


def note(file: str) -> int:
    if not os.environ.get("GITLAB_API_TOKEN"):
        print(
            "No GITLAB_API_TOKEN in this pipeline (a protected variable reaches protected branches "
            "only): the plan is in this job's log and artifacts, not in a note."
        )
        return 0
    text = Path(file).read_text(encoding="utf-8")
    body = text if text.startswith(MARKER) else f"{MARKER}\n{text}"
    iid = os.environ.get("CI_MERGE_REQUEST_IID") or _merged_iid()
    if iid is None:
        print("No merge request to write the plan to; it is in this job's log and artifacts.")
        return 0
    notes_path = f"{_project()}/merge_requests/{iid}/notes"
    me = _json("GET", "/user")["id"]
    page: str | None = "1"
    while page:
        raw, headers = _request("GET", f"{notes_path}?per_page=100&page={page}")
        for existing in json.loads(raw):
            # only our own note: a person quoting the marker must not have theirs overwritten
            if existing.get("author", {}).get("id") == me and MARKER in existing.get("body", ""):
                _json("PUT", f"{notes_path}/{existing['id']}", {"body": body})
                print(f"Updated the plan note {existing['id']}.")
                return 0
        page = {k.lower(): v for k, v in headers.items()}.get("x-next-page") or None
    created = _json("POST", notes_path, {"body": body})
    print(f"Created the plan note {created['id']}.")
    return 0


def fetch_plan(dest: str) -> int:
    sha = os.environ["CI_COMMIT_SHA"]
    try:
        iid = _merged_iid()
        if iid is None:
            print(f"No merge request brought {sha[:8]}.")
            return 0
        for pipeline in _json("GET", f"{_project()}/merge_requests/{iid}/pipelines"):  # newest first
            if pipeline.get("status") != "success":
                continue
            jobs = _json("GET", f"{_project()}/pipelines/{pipeline['id']}/jobs?scope[]=success")
            job = next((j for j in jobs if j.get("name") == PLAN_JOB), None)
            if job is None:
                continue
            content, _ = _request("GET", f"{_project()}/jobs/{job['id']}/artifacts/{PLAN_ARTIFACT}")
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            Path(dest).write_bytes(content)
            print(f"Using the plan reviewed in !{iid} (job {job['id']}).")
            return 0
        print(f"No successful {PLAN_JOB} job in !{iid}.")
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        print(f"Could not fetch the reviewed plan ({exc}).")
    return 0


def drift(status: str, file: str) -> int:
    me = _json("GET", "/user")["id"]
    issues = _json(
        "GET",
        f"{_project()}/issues?state=opened&labels={urllib.parse.quote(DRIFT_LABEL)}"
        f"&author_id={me}&per_page=100",
    )
    ours = next((i for i in issues if DRIFT_MARKER in (i.get("description") or "")), None)
    found_by = f"Found by {os.environ.get('CI_PIPELINE_URL', 'a scheduled pipeline')}."
    if status == "2":
        body = f"{DRIFT_MARKER}\n{Path(file).read_text(encoding='utf-8')}\n\n{found_by}"
        if ours:
            _json("PUT", f"{_project()}/issues/{ours['iid']}", {"description": body})
            print(f"Drift: updated issue #{ours['iid']}.")
        else:
            made = _json(
                "POST",
                f"{_project()}/issues",
                {
                    "title": "hss-reconciler: HSS differs from the registry files",
                    "description": body,
                    "labels": DRIFT_LABEL,
                },
            )
            print(f"Drift: opened issue #{made['iid']}.")
        return 0
    if status == "0":
        if ours:
            _json(
                "POST", f"{_project()}/issues/{ours['iid']}/notes", {"body": f"No drift any more. {found_by}"}
            )
            _json("PUT", f"{_project()}/issues/{ours['iid']}", {"state_event": "close"})
            print(f"No drift: closed issue #{ours['iid']}.")
        else:
            print("No drift.")
        return 0
    print(f"plan failed (exit {status}); the drift issue is left as it is.", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "note":
        return note(argv[1])
    if len(argv) == 2 and argv[0] == "fetch-plan":
        return fetch_plan(argv[1])
    if len(argv) == 3 and argv[0] == "drift":
        return drift(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
