#!/usr/bin/env python3
"""GitHub plumbing for hss-reconciler in GitHub Actions (Python standard library only).

    python3 .github/hss_github.py setup               credentials and state for the next steps, via
                                                      GITHUB_ENV: OIDC when HSS_IDP_ID names the IAM
                                                      identity provider (the ID token is written to
                                                      RUNNER_TEMP), else the job's AK/SK; HSS_STATE
                                                      when STATE_URL names a remote state
    python3 .github/hss_github.py comment FILE        create, or edit in place, the one plan comment
                                                      (pull_request: this PR; push: the PR merged here)
    python3 .github/hss_github.py fetch-plan DEST     download plan.json reviewed for this commit:
                                                      from run PLAN_RUN_ID when set, else from the
                                                      newest successful pull_request run of the PR
                                                      merged as GITHUB_SHA
    python3 .github/hss_github.py drift STATUS FILE   plan's --detailed-exitcode STATUS: 2 opens or
                                                      updates the one drift issue with FILE, 0 closes it

Every value comes from the runner's variables (GITHUB_API_URL, GITHUB_REPOSITORY,
GITHUB_SHA, GITHUB_EVENT_PATH, ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN) and GITHUB_TOKEN,
so nothing from a pull request reaches a shell. `fetch-plan` never fails the job:
without a reviewed plan the workflow decides what to do.
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

PLAN_MARKER = "<!-- hss-reconciler-plan -->"
DRIFT_MARKER = "<!-- hss-reconciler-drift -->"
DRIFT_LABEL = os.environ.get("HSS_DRIFT_LABEL", "hss-drift")
PLAN_ARTIFACT = "hss-reconciler-plan"
COMMENT_LIMIT = 65536  # GitHub's limit on an issue or comment body, in characters
ARTIFACT_LIMIT = 50 * 1024 * 1024  # a plan is small; refuse anything that is not


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the artifact redirect is followed by hand, without our token


def _open(method: str, url: str, body: Any = None, *, auth: bool = True) -> Any:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if auth:
        headers["Authorization"] = f"Bearer {os.environ['GITHUB_TOKEN']}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    return urllib.request.build_opener(_NoRedirect).open(request, timeout=30)


def _api(method: str, path: str, body: Any = None) -> Any:
    base = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    with _open(method, f"{base}/repos/{os.environ['GITHUB_REPOSITORY']}{path}", body) as response:
        return json.loads(response.read() or b"null")


def _fit(body: str, marker: str, why: str) -> str:
    body = body if body.startswith(marker) else f"{marker}\n{body}"
    if len(body) <= COMMENT_LIMIT:
        return body
    run = os.environ.get("GITHUB_RUN_ID", "")
    return f"{marker}\n{why} is too long for GitHub; see the job summary of run {run}."


def _id_token(dest: Path) -> None:
    """The runner's OIDC token for the audience Huawei IAM expects (the IdP's client ID)."""
    audience = os.environ["HSS_OIDC_AUDIENCE"]
    url = os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"]
    url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"audience": audience})
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {os.environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.loads(response.read(65536))["value"]
    if not isinstance(token, str) or token.count(".") != 2:
        raise ValueError("the runner's OIDC answer holds no JWT")
    dest.touch(mode=0o600)
    dest.write_text(token, encoding="ascii")
    print(f"Wrote an ID token for audience {audience} to {dest}.")


def setup() -> int:
    settings: dict[str, str] = {}
    idp = os.environ.get("HSS_IDP_ID", "")
    if idp:
        token_file = Path(os.environ["RUNNER_TEMP"]) / "hss-id-token"
        _id_token(token_file)
        settings |= {"HUAWEICLOUD_SDK_IDP_ID": idp, "HUAWEICLOUD_SDK_ID_TOKEN_FILE": str(token_file)}
    elif not os.environ.get("HUAWEICLOUD_SDK_AK"):
        print(
            "::error::No Huawei Cloud credential: set the IdP variable (OIDC) or the key secrets; "
            "see the recipe's README."
        )
        return 1
    if os.environ.get("STATE_URL"):
        settings["HSS_STATE"] = os.environ["STATE_URL"]
    with open(os.environ["GITHUB_ENV"], "a", encoding="utf-8") as env_file:
        for name, value in settings.items():
            if "\n" in value or "\r" in value:
                raise ValueError(f"{name} holds a line break")
            env_file.write(f"{name}={value}\n")
    print(
        "Credentials: "
        + ("OIDC federation" if idp else "access keys")
        + "; state: "
        + ("remote (HSS_STATE)" if "HSS_STATE" in settings else "the committed file")
    )
    return 0


def _merged_pull_request() -> dict[str, Any] | None:
    pulls = _api("GET", f"/commits/{os.environ['GITHUB_SHA']}/pulls")
    return next((p for p in pulls if p.get("merged_at")), None)


def _event_pull_request() -> int | None:
    event = json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    number = event.get("pull_request", {}).get("number")
    return number if isinstance(number, int) else None


def comment(file: str) -> int:
    number = _event_pull_request()
    if number is None:
        merged = _merged_pull_request()
        if merged is None:
            print("No pull request to comment on; the plan is in the job summary.")
            return 0
        number = merged["number"]
    body = _fit(Path(file).read_text(encoding="utf-8"), PLAN_MARKER, "The plan")
    page = 1
    while True:
        comments = _api("GET", f"/issues/{number}/comments?per_page=100&page={page}")
        for existing in comments:
            # only a bot's comment: a person quoting the marker keeps theirs
            if existing.get("user", {}).get("type") == "Bot" and PLAN_MARKER in existing.get("body", ""):
                _api("PATCH", f"/issues/comments/{existing['id']}", {"body": body})
                print(f"Updated the plan comment on #{number}.")
                return 0
        if len(comments) < 100:
            break
        page += 1
    _api("POST", f"/issues/{number}/comments", {"body": body})
    print(f"Created the plan comment on #{number}.")
    return 0


def _plan_run() -> str | None:
    chosen = os.environ.get("PLAN_RUN_ID", "").strip()
    if chosen:
        if not chosen.isdigit():
            raise ValueError(f"PLAN_RUN_ID must be a run id, not {chosen!r}")
        return chosen
    merged = _merged_pull_request()
    if merged is None:
        print(f"No pull request was merged as {os.environ['GITHUB_SHA'][:7]}.")
        return None
    head = merged["head"]["sha"]
    runs = _api("GET", f"/actions/runs?event=pull_request&status=success&head_sha={head}")
    ours = [r for r in runs.get("workflow_runs", []) if r.get("name") == os.environ["GITHUB_WORKFLOW"]]
    if not ours:
        print(f"No successful plan run for #{merged['number']} ({head[:7]}).")
        return None
    return str(max(ours, key=lambda r: r["run_number"])["id"])


def fetch_plan(dest: str) -> int:
    try:
        run = _plan_run()
        if run is None:
            return 0
        artifacts = _api("GET", f"/actions/runs/{run}/artifacts?name={PLAN_ARTIFACT}")["artifacts"]
        if not artifacts or artifacts[0].get("expired"):
            print(f"Run {run} has no {PLAN_ARTIFACT} artifact (expired?).")
            return 0
        base = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        url = f"{base}/repos/{os.environ['GITHUB_REPOSITORY']}/actions/artifacts/{artifacts[0]['id']}/zip"
        try:
            response = _open("GET", url)
        except urllib.error.HTTPError as redirect:
            if redirect.code != 302:
                raise
            response = _open("GET", redirect.headers["Location"], auth=False)
        with response:
            archive = zipfile.ZipFile(io.BytesIO(response.read(ARTIFACT_LIMIT)))
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        Path(dest).write_bytes(archive.read("plan.json"))
        print(f"Using the plan reviewed in run {run}.")
    except (urllib.error.URLError, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        print(f"Could not fetch the reviewed plan: {exc}")
    return 0


def drift(status: str, file: str) -> int:
    issues = _api("GET", f"/issues?state=open&labels={DRIFT_LABEL}&per_page=100")
    ours = next(
        (
            i
            for i in issues
            if DRIFT_MARKER in (i.get("body") or "")
            and i.get("user", {}).get("type") == "Bot"
            and "pull_request" not in i
        ),
        None,
    )
    run_url = (
        f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/"
        f"{os.environ['GITHUB_REPOSITORY']}/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}"
    )
    if status == "2":
        body = _fit(
            Path(file).read_text(encoding="utf-8") + f"\n\nFound by {run_url}.",
            DRIFT_MARKER,
            "The drift report",
        )
        if ours:
            _api("PATCH", f"/issues/{ours['number']}", {"body": body})
            print(f"Drift: updated issue #{ours['number']}.")
        else:
            made = _api(
                "POST",
                "/issues",
                {
                    "title": "hss-reconciler: HSS differs from the registry files",
                    "body": body,
                    "labels": [DRIFT_LABEL],
                },
            )
            print(f"Drift: opened issue #{made['number']}.")
        return 0
    if status == "0":
        if ours:
            _api("POST", f"/issues/{ours['number']}/comments", {"body": f"No drift any more ({run_url})."})
            _api("PATCH", f"/issues/{ours['number']}", {"state": "closed", "state_reason": "completed"})
            print(f"No drift: closed issue #{ours['number']}.")
        else:
            print("No drift.")
        return 0
    print(f"plan failed (exit {status}); the drift issue is left as it is.", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if argv == ["setup"]:
        return setup()
    commands = {"comment": comment, "fetch-plan": fetch_plan}
    if len(argv) == 2 and argv[0] in commands:
        return commands[argv[0]](argv[1])
    if len(argv) == 3 and argv[0] == "drift":
        return drift(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
