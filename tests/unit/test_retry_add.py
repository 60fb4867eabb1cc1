"""The create path of apply when an AddRegistry's outcome is unknown.

A fake HSS (httpx.MockTransport over a dict) can commit an add and then lose
the answer, fail before committing, or commit late. Whatever it does, apply
must end with exactly one registry of each name, recorded in the state with
its HSS id, and never send an add while the registry might already exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.apply.executor import MAX_ADD_SENDS, apply_plan
from reconciler.apply.result import ApplyResult
from reconciler.config.model import Desired
from reconciler.config.workspace import load_workspace
from reconciler.hss.client import HssClient
from reconciler.hss.retry import RetryPolicy
from reconciler.plan.diff import make_plan
from reconciler.registry import TargetKey
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import State
from reconciler.state.store import StateStore

PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"
TARGET = TargetKey("ap-southeast-1", PROJECT, "0")
ENDPOINT = "https://hss.ap-southeast-1.myhuaweicloud.com"
PASSWORD_ENV = "RETRY_ADD_PASSWORD"
PASSWORD = "Add-Canary-Pa55word"
QUICK = RetryPolicy(max_attempts=4, sleep=lambda seconds: None)

# What the fake does with one AddRegistry: "ok", "lost" (commit, then hang up),
# "drop" (hang up before doing anything), "500" (fail, nothing done),
# "late" (hang up now, commit just before the next add arrives), "invalid" (400 HSS.0001).
Behaviour = str


@dataclass
class FakeHss:
    adds: list[Behaviour]
    list_fails: bool = False
    registries: dict[str, str] = field(default_factory=dict)  # name -> id
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> what a listing shows
    calls: list[str] = field(default_factory=list)
    pending_late: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return self._add(request)
        if request.method == "PUT":
            self.calls.append("UPDATE")
            assert json.loads(request.content)["registry_password"] == PASSWORD
            return httpx.Response(200)
        self.calls.append("LIST")
        if self.list_fails:
            return httpx.Response(401, json={"error_code": "APIG.0301", "error_msg": "bad token"})
        wanted = request.url.params.get("registry_name")
        items = [{**self.fields.get(name, {}), "id": rid, "registry_name": name}
                 for name, rid in self.registries.items() if wanted is None or wanted in name]
        return httpx.Response(200, json={"data_list": items, "total_num": len(items)})

    def _add(self, request: httpx.Request) -> httpx.Response:
        for name in self.pending_late:
            self._commit(name)
        self.pending_late.clear()
        body = json.loads(request.content)
        name = body["registry_name"]
        assert body["registry_password"] == PASSWORD
        behaviour = self.adds.pop(0) if self.adds else "ok"
        self.calls.append(f"ADD:{behaviour}")
        if name in self.registries:
            return httpx.Response(400, json={"error_code": "HSS.1064", "error_msg": "name exists"})
        if behaviour == "invalid":
            return httpx.Response(400, json={"error_code": "HSS.0001", "error_msg": "bad field"})
        if behaviour == "500":
            return httpx.Response(500, json={"error_code": "APIG.0201", "error_msg": "backend error"})
        if behaviour == "drop":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        self.fields[name] = {k: v for k, v in body.items() if k != "registry_password"}
        self._commit(name) if behaviour in ("ok", "lost") else self.pending_late.append(name)
        if behaviour in ("lost", "late"):
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200)

    def _commit(self, name: str) -> None:
        self.registries[name] = f"id-{name}"


@dataclass
class Run:
    result: ApplyResult
    state: dict[str, Any]
    hss: FakeHss


def declared(name: str) -> dict[str, Any]:
    """The registry as the YAML declares it, less the password reference."""
    return {"registry_name": name, "registry_type": "Harbor", "api_version": "V2", "protocol": "https",
            "registry_addr": f"{name}.example.com", "registry_username": "robot",
            "connect_cluster_id": "cluster-1", "get_scan_image_channel": "Swr"}


def declare(tmp_path: Path, names: list[str], monkeypatch: pytest.MonkeyPatch) -> Desired:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    registries = [{**declared(name), "registry_password": {"env": PASSWORD_ENV}} for name in names]
    document = {"version": 1, "target": {"region": TARGET.region, "project_id": PROJECT,
                                          "enterprise_project_id": "0", "endpoint": ENDPOINT},
                "registries": registries}
    (tmp_path / "registries.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return load_workspace([tmp_path], {})


def apply_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hss: FakeHss,
               names: tuple[str, ...] = ("harbor",)) -> Run:
    desired = declare(tmp_path, list(names), monkeypatch)
    state = State()
    store = StateStore(tmp_path / "state.json")
    plan = make_plan(desired, state, {TARGET: []})
    client = HssClient(httpx.Client(transport=httpx.MockTransport(hss)), ENDPOINT, PROJECT, retry=QUICK)
    result = apply_plan(plan, Checkpointer(store, state), {TARGET: client}, parallelism=1)
    saved = json.loads(store.path.read_text()) if store.path.exists() else {"registries": []}
    return Run(result, saved, hss)


def recorded(run: Run) -> dict[str, str | None]:
    return {entry["registry_name"]: entry["id"] for entry in run.state["registries"]}


def test_lost_answer_is_found_by_name_and_adopted_without_a_second_add(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = apply_with(tmp_path, monkeypatch, FakeHss(adds=["lost"]))
    assert run.hss.calls == ["ADD:lost", "LIST"]
    assert run.hss.registries == {"harbor": "id-harbor"}
    assert recorded(run) == {"harbor": "id-harbor"}
    assert not run.result.failed and len(run.result.done) == 1


@pytest.mark.parametrize("behaviour", ["drop", "500"])
def test_add_that_did_nothing_is_sent_again_only_after_a_listing_shows_it_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviour: str
) -> None:
    run = apply_with(tmp_path, monkeypatch, FakeHss(adds=[behaviour, behaviour]))
    assert run.hss.calls[:5] == [f"ADD:{behaviour}", "LIST", f"ADD:{behaviour}", "LIST", "ADD:ok"]
    assert run.hss.registries == {"harbor": "id-harbor"}
    assert recorded(run) == {"harbor": "id-harbor"}
    assert not run.result.failed


def test_an_add_that_lands_late_is_adopted_when_the_resend_meets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = apply_with(tmp_path, monkeypatch, FakeHss(adds=["late"]))
    # Listed absent, sent again; the first add landed meanwhile, so the resend is a
    # duplicate; listed again, found, adopted.
    assert run.hss.calls == ["ADD:late", "LIST", "ADD:ok", "LIST"]
    assert run.hss.registries == {"harbor": "id-harbor"}
    assert recorded(run) == {"harbor": "id-harbor"}
    assert not run.result.failed


def test_a_registry_that_appeared_since_the_plan_is_adopted_and_made_as_declared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Say a killed run's add landed after this run's refresh: the add is refused
    # as a duplicate; the registry is adopted, and updated since this run did not make it.
    hss = FakeHss(adds=["ok"], registries={"harbor": "id-earlier"}, fields={"harbor": declared("harbor")})
    run = apply_with(tmp_path, monkeypatch, hss)
    assert run.hss.calls == ["ADD:ok", "LIST", "UPDATE"]
    assert run.hss.registries == {"harbor": "id-earlier"}
    assert recorded(run) == {"harbor": "id-earlier"}
    assert not run.result.failed


@pytest.mark.parametrize("theirs", [
    {"registry_addr": "colleague.example.com"},
    {"registry_type": "Jfrog"},
    {"registry_username": "colleague", "registry_addr": "colleague.example.com"},
])
def test_someone_elses_registry_made_since_the_plan_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, theirs: dict[str, str]
) -> None:
    # The plan said create; a colleague made a different registry of that name since.
    # Updating it would overwrite their address and credentials with ours, unreviewed.
    hss = FakeHss(adds=["ok"], registries={"harbor": "id-theirs"},
                  fields={"harbor": {**declared("harbor"), **theirs}})
    run = apply_with(tmp_path, monkeypatch, hss)
    assert run.hss.calls == ["ADD:ok", "LIST"]
    assert recorded(run) == {}
    [(_, message)] = run.result.failed
    assert "HSS already has a registry named 'harbor' (id id-theirs)" in message
    assert f"differs in {', '.join(sorted(theirs, key=list(declared('harbor')).index))}" in message
    assert message.startswith("HSS already has") and "Run plan again" in message  # the reporter names it


def test_an_invalid_add_still_fails_with_its_own_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = apply_with(tmp_path, monkeypatch, FakeHss(adds=["invalid"]))
    assert run.hss.calls == ["ADD:invalid", "LIST"]
    ((_, message),) = run.result.failed
    assert message == "HSS AddRegistry failed: HTTP 400 HSS.0001: bad field"
    assert recorded(run) == {}


def test_sends_are_bounded_and_the_failure_says_the_outcome_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = apply_with(tmp_path, monkeypatch, FakeHss(adds=["500"] * 50))
    assert run.hss.calls.count("ADD:500") == MAX_ADD_SENDS
    assert run.hss.registries == {} and recorded(run) == {}
    ((change, message),) = run.result.failed
    assert change.name == "harbor"
    assert "may or may not have added the registry" in message and PASSWORD not in message


def test_when_the_check_by_name_fails_nothing_is_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = apply_with(tmp_path, monkeypatch, FakeHss(adds=["lost"], list_fails=True))
    assert run.hss.calls == ["ADD:lost", "LIST"]  # the 401 is not retried, the add not resent
    ((_, message),) = run.result.failed
    assert "checking by name failed too" in message and "APIG.0301" in message
    assert "The next plan adopts it" in message


def test_exact_name_only_a_longer_name_is_not_adopted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hss = FakeHss(adds=["drop"], registries={"harbor-old": "id-old"})
    run = apply_with(tmp_path, monkeypatch, hss)
    assert run.hss.registries == {"harbor-old": "id-old", "harbor": "id-harbor"}
    assert recorded(run) == {"harbor": "id-harbor"}


def test_many_creates_under_mixed_faults_give_one_registry_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = tuple(f"reg-{i:02d}" for i in range(20))
    pattern: list[Behaviour] = ["lost", "drop", "ok", "500", "late", "ok", "lost"] * 10
    run = apply_with(tmp_path, monkeypatch, FakeHss(adds=pattern), names)
    assert not run.result.failed
    assert sorted(run.hss.registries) == sorted(names)
    assert recorded(run) == {name: f"id-{name}" for name in names}

