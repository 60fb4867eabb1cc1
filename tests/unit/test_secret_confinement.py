"""Issue 15: a secret goes only where it should.

- `{env: NAME}` never names the tool's own credentials or a CI or cloud credential;
- `{file: PATH}` stays in its registry file's directory (or an HSS_SECRETS_DIR one);
- a password sent to a new registry_addr is said so, in every format;
- plain http to HSS only on loopback, or when asked for.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from reconciler.config.model import TargetConfig
from reconciler.config.problems import ConfigProblems
from reconciler.config.workspace import load_workspace
from reconciler.engine.options import Connection
from reconciler.engine.session import hss_clients
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.plan.document import (
    NewPasswordAddress,
    PlanDocumentError,
    load_plan_schema,
    new_password_address,
    plan_from_document,
    plan_to_document,
)
from reconciler.plan.model import Action, Change, Plan
from reconciler.render.colors import Palette
from reconciler.render.markdown import render_plan_markdown
from reconciler.render.text import render_plan
from reconciler.secrets import (
    REFUSED_ENV_NAMES,
    REFUSED_ENV_PREFIXES,
    SECRETS_DIR_ENV,
    SecretRef,
    file_reference_problem,
    refused_env_reason,
)
from tests.unit.test_plan_document import TARGET, attributes, desired_after
from tests.unit.test_render_markdown import assert_well_formed

REPO = Path(__file__).resolve().parents[2]

# --- {env: NAME} --------------------------------------------------------------------------------


def _documented_names(text: str) -> tuple[set[str], set[str]]:
    """The variable names and `PREFIX*` patterns a document lists in backticks."""
    names = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", text))
    prefixes = set(re.findall(r"`([A-Z][A-Z0-9_]*)\*`", text))
    return names, prefixes


def _refusal_paragraph(document: str, start: str) -> str:
    text = (REPO / document).read_text(encoding="utf-8")
    begin = text.index(start)
    return text[begin:text.index("\n- " if document == "README.md" else "\n|", begin + 1)]


@pytest.mark.parametrize(("document", "start"), [
    ("SECURITY.md", "| `{env: NAME}` never names"),
    ("README.md", "- `{env: NAME}` may not name"),
])
def test_every_documented_variable_is_refused_and_only_those(document: str, start: str) -> None:
    names, prefixes = _documented_names(_refusal_paragraph(document, start))
    allowed = {"HSS_ENDPOINT", "DOCKER_PASSWORD"}  # named there as deliberately not refused
    assert names - allowed == set(REFUSED_ENV_NAMES)
    assert prefixes == set(REFUSED_ENV_PREFIXES)
    for name in sorted(names - allowed):
        assert refused_env_reason(name), name
    for prefix in prefixes:
        assert refused_env_reason(prefix + "ANYTHING"), prefix


@pytest.mark.parametrize("name", [
    "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_NEW_ONE",
    "CLOUD_SDK_AK", "CLOUD_SDK_SK", "HSS_AUTH_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID", "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN",
    "CI_JOB_TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V1", "CI_JOB_JWT_V2", "GITLAB_TOKEN", "CI_REGISTRY_PASSWORD",
    "PGPASSWORD", "OS_PASSWORD", "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_CLIENT_SECRET",
    "ARM_CLIENT_SECRET", "VAULT_TOKEN", "NPM_TOKEN", "PYPI_TOKEN", "TWINE_PASSWORD",
])
def test_the_names_the_issue_asks_for_are_refused_in_any_case(name: str) -> None:
    for spelling in (name, name.lower(), name.title()):
        reason = refused_env_reason(spelling)
        assert reason is not None and reason.startswith(f"{spelling} is reserved for "), spelling


@pytest.mark.parametrize("name", [
    "HARBOR_PROD_PASSWORD", "REGISTRY_PASSWORD", "DOCKER_PASSWORD", "HSS_ENDPOINT", "HSS_SECRETS_DIR",
    "GITHUB_TOKEN_FOR_HARBOR", "CI_JOB_ID", "MY_GITHUB_TOKEN", "CLOUD_SDK", "AWS_REGION",
])
def test_registry_passwords_and_non_secrets_are_not_refused(name: str) -> None:
    assert refused_env_reason(name) is None


def test_reading_a_refused_variable_fails_even_when_it_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_Canary0000secret")
    with pytest.raises(ConfigError) as caught:
        SecretRef("env", "GITHUB_TOKEN").resolve(Path("."))
    assert "GITHUB_TOKEN is reserved for GitHub credentials" in str(caught.value)
    assert "Canary" not in str(caught.value)


# --- {file: PATH} -------------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace directory with a secret inside it, and one outside it next door."""
    (tmp_path / "ws" / "secrets").mkdir(parents=True)
    (tmp_path / "ws" / "secrets" / "pw.txt").write_text("inside-pw\n", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "pw.txt").write_text("outside-pw\n", encoding="utf-8")
    return tmp_path / "ws"


@pytest.mark.parametrize("name", ["secrets/pw.txt", "./secrets/pw.txt", "secrets/../secrets/pw.txt",
                                  "not-yet-there.txt", "."])
def test_file_inside_the_registry_files_directory_is_allowed(ws: Path, name: str) -> None:
    assert file_reference_problem(name, ws) is None


@pytest.mark.parametrize(("name", "why"), [
    ("../outside/pw.txt", ".. leads outside the registry file's directory"),
    ("secrets/../../outside/pw.txt", ".. leads outside the registry file's directory"),
    ("/etc/hostname", "an absolute path outside every HSS_SECRETS_DIR directory"),
    ("~/pw.txt", "~ is not expanded"),
    ("~", "~ is not expanded"),
    ("secrets/a\0b", "the path holds a NUL character"),
])
def test_file_leaving_the_directory_is_refused_with_the_reason(ws: Path, name: str, why: str) -> None:
    problem = file_reference_problem(name, ws)
    assert problem is not None and problem.startswith(why), problem
    assert "\0" not in problem


def test_file_absolute_path_inside_the_workspace_is_still_refused(ws: Path) -> None:
    # Written relative, it would be fine; absolute, it is only allowed in HSS_SECRETS_DIR.
    assert file_reference_problem(str(ws / "secrets" / "pw.txt"), ws) is not None


def test_file_symlink_leading_out_is_refused_whether_file_or_directory(ws: Path) -> None:
    (ws / "link.txt").symlink_to(ws.parent / "outside" / "pw.txt")
    (ws / "linkdir").symlink_to(ws.parent / "outside")
    for name in ("link.txt", "linkdir/pw.txt", "linkdir/missing.txt"):
        problem = file_reference_problem(name, ws)
        assert problem is not None and problem.startswith("a symlink leads outside"), name


def test_file_symlink_staying_inside_is_followed(ws: Path) -> None:
    (ws / "link.txt").symlink_to("secrets/pw.txt")
    assert file_reference_problem("link.txt", ws) is None
    assert SecretRef("file", "link.txt").resolve(ws).reveal() == "inside-pw"


def test_file_workspace_reached_through_a_symlink_is_its_own_directory(ws: Path) -> None:
    alias = ws.parent / "alias"
    alias.symlink_to(ws)
    assert file_reference_problem("secrets/pw.txt", alias) is None
    assert SecretRef("file", "secrets/pw.txt").resolve(alias).reveal() == "inside-pw"


def test_file_hss_secrets_dir_widens_for_absolute_and_relative_paths(ws: Path) -> None:
    outside = ws.parent / "outside"
    environ = {SECRETS_DIR_ENV: os.pathsep.join(["", str(ws.parent / "nope"), str(outside)])}
    for name in (str(outside / "pw.txt"), "../outside/pw.txt"):
        assert SecretRef("file", name).problem(ws, environ) is None, name
        assert SecretRef("file", name).resolve(ws, environ).reveal() == "outside-pw"
    assert SecretRef("file", "/etc/hostname").problem(ws, environ) is not None


def test_file_symlink_swapped_after_validation_is_refused_when_read(ws: Path) -> None:
    link = ws / "pw.txt"
    link.symlink_to("secrets/pw.txt")
    ref = SecretRef("file", "pw.txt")
    assert ref.problem(ws, {}) is None
    link.unlink()
    link.symlink_to(ws.parent / "outside" / "pw.txt")
    with pytest.raises(ConfigError, match="a symlink leads outside") as caught:
        ref.resolve(ws, {})
    assert "outside-pw" not in str(caught.value)


def test_file_nul_is_a_config_error_even_without_a_workspace() -> None:
    with pytest.raises(ConfigError, match="NUL"):
        SecretRef("file", "a\0b").resolve()


def test_file_messages_still_name_the_path_as_the_registry_file_spells_it(ws: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        SecretRef("file", "secrets/missing.txt").resolve(ws)
    shown = ws / "secrets" / "missing.txt"
    assert str(caught.value) == f"cannot read secret file {shown}: No such file or directory"


def _workspace_file(directory: Path, reference: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "registries.yaml").write_text(f"""version: 1
target:
  region: ap-southeast-1
  project_id: p1
registries:
  - registry_name: harbor
    registry_type: Harbor
    api_version: V2
    protocol: https
    registry_addr: harbor.example.com
    registry_username: robot
    registry_password: {reference}
    connect_cluster_id: c1
    get_scan_image_channel: Swr
""", encoding="utf-8")
    return directory


@pytest.mark.parametrize(("reference", "where"), [
    ("{env: GITHUB_TOKEN}", "12:30: registries[0].registry_password.env: GITHUB_TOKEN is reserved"),
    ("{file: /etc/hostname}", "12:31: registries[0].registry_password.file: an absolute path"),
    ('{file: "a\\0b"}', "12:31: registries[0].registry_password.file: the path holds a NUL character"),
])
def test_loading_a_workspace_reports_a_refused_reference_located(
        tmp_path: Path, reference: str, where: str) -> None:
    directory = _workspace_file(tmp_path / "ws", reference)
    with pytest.raises(ConfigProblems) as caught:
        load_workspace([directory], {})
    assert len(caught.value.problems) == 1
    assert str(caught.value).startswith(f"{directory / 'registries.yaml'}:{where}")


def test_loading_honours_hss_secrets_dir_from_the_environment_given(tmp_path: Path) -> None:
    directory = _workspace_file(tmp_path / "ws", f"{{file: {tmp_path / 'shared' / 'pw.txt'}}}")
    with pytest.raises(ConfigProblems):
        load_workspace([directory], {})
    desired = load_workspace([directory], {SECRETS_DIR_ENV: str(tmp_path / "shared")})
    assert len(desired.registries) == 1


# --- a password sent to a new address -----------------------------------------------------------


def _update(action: Action = Action.UPDATE, changed: tuple[str, ...] = ("registry_addr",),
            send: bool = True, **after: str) -> Change:
    return Change(action, TARGET, "harbor", "id-1", attributes("harbor"),
                  desired_after("harbor", **{"registry_addr": "evil.example.net", **after}), changed,
                  send_password=send)


def test_new_address_line_for_update_adopt_and_replace_only() -> None:
    moved = NewPasswordAddress("harbor.example.com", "evil.example.net")
    assert new_password_address(_update()) == moved
    assert new_password_address(_update(Action.ADOPT)) == moved
    assert new_password_address(_update(Action.REPLACE, ("registry_type", "registry_addr"),
                                        registry_type="Jfrog")) == moved
    create = Change(Action.CREATE, TARGET, "harbor", after=desired_after("harbor"), send_password=True)
    assert new_password_address(create) is None
    assert new_password_address(_update(changed=("protocol",))) is None  # the address stays
    assert new_password_address(_update(send=False)) is None  # nothing is sent
    delete = Change(Action.DELETE, TARGET, "harbor", "id-1", attributes("harbor"), None)
    assert new_password_address(delete) is None


def _plan(*changes: Change) -> Plan:
    return Plan(changes=list(changes))


def test_text_shows_the_new_address_on_a_line_of_its_own() -> None:
    text = render_plan(_plan(_update()), Palette(False))
    line = ('  # Warning: registry_password will be sent to the new address "evil.example.net" '
            '(it was sent to "harbor.example.com")')
    assert line in text.splitlines()
    create = Change(Action.CREATE, TARGET, "new", after=desired_after("new"), send_password=True)
    assert "new address" not in render_plan(_plan(create, _update(changed=("protocol",))), Palette(False))


def test_markdown_shows_it_above_the_details_and_in_the_change() -> None:
    markdown = render_plan_markdown(_plan(_update()))
    top, details = markdown.split("<details>", 1)
    assert "> This plan **sends 1 registry password to a new address**; check each one:" in top
    assert (f"> - `{TARGET}/harbor`: registry_password will be sent to the new address "
            "`evil.example.net` (it was sent to `harbor.example.com`)") in top
    assert ('# Warning: registry_password will be sent to the new address "evil.example.net" '
            '(it was sent to "harbor.example.com")') in details.splitlines()


def test_markdown_cannot_be_broken_by_a_hostile_address() -> None:
    hostile = "evil`</details>\n```\n# [x](http://a)"
    markdown = render_plan_markdown(_plan(_update(registry_addr=hostile)))
    assert_well_formed(markdown)  # one fence in one details block, no foreign markup outside
    assert "\n# [x]" not in markdown


def test_json_carries_the_new_address_and_reads_it_back() -> None:
    plan = _plan(_update(), Change(Action.CREATE, TARGET, "new", after=desired_after("new"),
                                   send_password=True))
    document = plan_to_document(plan)
    Draft202012Validator(load_plan_schema()).validate(document)
    assert document["changes"][0]["password_new_address"] == {"old": "harbor.example.com",
                                                              "new": "evil.example.net"}
    assert "password_new_address" not in document["changes"][1]
    assert document["format_version"] == 1
    back, _ = plan_from_document(document)
    assert back == plan


def test_a_plan_file_cannot_contradict_its_new_address() -> None:
    document = plan_to_document(_plan(_update(), _update(changed=("protocol",))))
    for edit in (lambda d: d["changes"][0]["password_new_address"].update(new="elsewhere.example.com"),
                 lambda d: d["changes"][1].update(password_new_address={"old": "a", "new": "b"})):
        edited = copy.deepcopy(document)
        edit(edited)
        with pytest.raises(PlanDocumentError, match=r"password_new_address: does not match"):
            plan_from_document(edited)


def test_a_plan_file_written_before_the_field_existed_still_reads() -> None:
    document = plan_to_document(_plan(_update()))
    del document["changes"][0]["password_new_address"]
    plan, _ = plan_from_document(document)
    assert new_password_address(plan.changes[0]) is not None  # every reader derives it again


# --- plain http to HSS --------------------------------------------------------------------------


def _targets(endpoint: str) -> list[TargetConfig]:
    return [TargetConfig(TARGET, endpoint)]


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1:8080", "http://127.8.9.10", "http://[::1]:8080", "http://localhost:8080",
    "http://LOCALHOST", "http://[::ffff:127.0.0.1]:1",
])
def test_plain_http_rule_by_host(endpoint: str, monkeypatch: pytest.MonkeyPatch,
                                 caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HSS_AUTH_TOKEN", "unit-token")
    with caplog.at_level(logging.WARNING, logger="reconciler"), hss_clients(_targets(endpoint), Connection()):
        pass
    assert [r.getMessage() for r in caplog.records if "plain http on loopback" in r.getMessage()]


@pytest.mark.parametrize("endpoint", [
    "http://hss.example.com", "http://10.0.0.1:80", "http://192.0.2.2", "http://[fd00::2]:1",
    "http://127.1:80", "http://localhost.example.com", "HTTP://hss.example.com",
    "http://user:pw-never-shown@hss.example.com",
])
def test_plain_http_outside_loopback_is_refused_unless_allowed(
        endpoint: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HSS_AUTH_TOKEN", "unit-token")
    with (pytest.raises(ReconcilerError, match="is plain http outside loopback") as caught,
          hss_clients(_targets(endpoint), Connection())):
        pytest.fail("no client may be opened")
    assert "pw-never-shown" not in str(caught.value) and "\n" not in str(caught.value)
    with (caplog.at_level(logging.WARNING, logger="reconciler"),
          hss_clients(_targets(endpoint), Connection(allow_http=True))):
        pass
    warnings = [r.getMessage() for r in caplog.records]
    assert any(w.startswith("--allow-http: HSS endpoint http://") for w in warnings), warnings
    assert not any("pw-never-shown" in w for w in warnings)


def test_https_endpoints_get_no_http_warning(monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HSS_AUTH_TOKEN", "unit-token")
    https = _targets("https://hss.ap-southeast-1.myhuaweicloud.com")
    with caplog.at_level(logging.WARNING, logger="reconciler"), hss_clients(https, Connection()):
        pass
    assert not [r for r in caplog.records if "plain http" in r.getMessage()]
