"""A workspace: files found, merged by target, duplicates named at both places, endpoints chosen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config.envcheck import check_secret_references, resolve_passwords
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.workspace import (
    MAX_REGISTRIES_PER_TARGET,
    find_files,
    load_workspace,
    workspace_dir,
)
from reconciler.regions import builtin_endpoint
from reconciler.registry import TargetKey

PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"


def registry_yaml(name: str, password: str = "{env: HARBOR_PASSWORD}") -> str:
    return (f"  - registry_name: {name}\n"
            "    registry_type: Harbor\n"
            "    api_version: V2\n"
            "    protocol: https\n"
            "    registry_addr: harbor.example.com\n"
            "    registry_username: robot-hss\n"
            f"    registry_password: {password}\n"
            "    connect_cluster_id: cluster-1\n"
            "    get_scan_image_channel: Swr\n")


def file_yaml(*names: str, region: str = "ap-southeast-1", eps: str = '"0"', endpoint: str = "",
              password: str = "{env: HARBOR_PASSWORD}") -> str:
    target = f"target:\n  region: {region}\n  project_id: {PROJECT}\n  enterprise_project_id: {eps}\n"
    if endpoint:
        target += f"  endpoint: {endpoint}\n"
    body = "".join(registry_yaml(n, password) for n in names)
    return f"version: 1\n{target}registries:\n{body}" if names else f"version: 1\n{target}registries: []\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_problems(paths: list[Path], environ: dict[str, str] | None = None) -> list[Problem]:
    with pytest.raises(ConfigProblems) as caught:
        load_workspace(paths, environ or {})
    return caught.value.problems


def test_same_target_in_two_files_merges(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", file_yaml("harbor-a"))
    b = write(tmp_path, "b.yml", file_yaml("harbor-b"))
    desired = load_workspace([tmp_path], {})
    key = TargetKey("ap-southeast-1", PROJECT, "0")
    assert list(desired.targets) == [key]
    assert desired.targets[key].files == [str(a), str(b)]
    assert sorted(r.name for r in desired.registries.values() if r.target == key) == ["harbor-a", "harbor-b"]
    assert desired.files == [a, b]
    registry = desired.registries[f"{key}/harbor-b"]
    assert registry.location.file == str(b)
    assert registry.location.line == 7
    assert registry.password.describe() == "{env: HARBOR_PASSWORD}"
    assert "registry_password" not in registry.attributes
    assert registry.attributes["registry_type"] == "Harbor"


def test_duplicate_registry_across_files_names_both_places(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", file_yaml("other", "harbor-prod"))
    b = write(tmp_path, "b.yaml", file_yaml("harbor-prod"))
    (problem,) = load_problems([tmp_path])
    assert (problem.file, problem.line) == (str(b), 7)
    assert problem.path == "registries[0].registry_name"
    assert "registry 'harbor-prod' is declared twice" in problem.message
    assert f"here and at {a}:16" in problem.message


def test_duplicate_registry_in_one_file_names_both_lines(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", file_yaml("harbor-prod", "harbor-prod"))
    (problem,) = load_problems([a])
    assert (problem.line, problem.path) == (16, "registries[1].registry_name")
    assert f"here and at {a}:7" in problem.message


def test_same_name_in_another_enterprise_project_is_another_registry(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", file_yaml("harbor-prod"))
    write(tmp_path, "b.yaml", file_yaml("harbor-prod", eps='"eps-2"'))
    desired = load_workspace([tmp_path], {})
    assert len(desired.targets) == 2
    assert len(desired.registries) == 2


def test_enterprise_project_defaults_to_zero(tmp_path: Path) -> None:
    text = file_yaml("r").replace('  enterprise_project_id: "0"\n', "")
    desired = load_workspace([write(tmp_path, "a.yaml", text)], {})
    assert list(desired.targets) == [TargetKey("ap-southeast-1", PROJECT, "0")]


@pytest.mark.parametrize(("region", "endpoint"), [
    ("ap-southeast-1", "https://hss.ap-southeast-1.myhuaweicloud.com"),
    ("cn-north-4", "https://hss.cn-north-4.myhuaweicloud.com"),
    ("eu-west-101", "https://hss.eu-west-101.myhuaweicloud.eu"),
])
def test_default_endpoint(tmp_path: Path, region: str, endpoint: str) -> None:
    assert builtin_endpoint(region) == endpoint
    desired = load_workspace([write(tmp_path, "a.yaml", file_yaml("r", region=region))], {})
    assert [t.endpoint for t in desired.targets.values()] == [endpoint]


def test_file_endpoint_then_hss_endpoint_override(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", file_yaml("r", endpoint="http://127.0.0.1:9"))
    assert [t.endpoint for t in load_workspace([path], {}).targets.values()] == ["http://127.0.0.1:9"]
    overridden = load_workspace([path], {"HSS_ENDPOINT": "http://127.0.0.1:8080"})
    assert [t.endpoint for t in overridden.targets.values()] == ["http://127.0.0.1:8080"]
    empty = load_workspace([path], {"HSS_ENDPOINT": ""})  # set but empty: not an override
    assert [t.endpoint for t in empty.targets.values()] == ["http://127.0.0.1:9"]


def test_conflicting_endpoints_for_one_target_are_an_error(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", file_yaml("x", endpoint="http://127.0.0.1:1"))
    b = write(tmp_path, "b.yaml", file_yaml("y", endpoint="http://127.0.0.1:2"))
    (problem,) = load_problems([a, b])
    assert (problem.file, problem.path) == (str(b), "target.endpoint")
    assert problem.message == ("differs from the endpoint http://127.0.0.1:1 given for the same target "
                               f"at {a}:6")


@pytest.mark.parametrize("order", [("a.yaml", "b.yaml"), ("b.yaml", "a.yaml")])
def test_a_file_may_omit_the_endpoint_another_names(tmp_path: Path, order: tuple[str, str]) -> None:
    # Was order-dependent: the first file's default endpoint "conflicted" with the second's.
    named = write(tmp_path, "a.yaml", file_yaml("x", endpoint="http://127.0.0.1:1"))
    omitted = write(tmp_path, "b.yaml", file_yaml("y"))
    paths = {p.name: p for p in (named, omitted)}
    desired = load_workspace([paths[n] for n in order], {})
    assert [t.endpoint for t in desired.targets.values()] == ["http://127.0.0.1:1"]


def test_hss_endpoint_override_does_not_conflict_with_named_endpoints(tmp_path: Path) -> None:
    # Was a spurious "differs" error: the second file was compared with the override.
    a = write(tmp_path, "a.yaml", file_yaml("x", endpoint="http://127.0.0.1:1"))
    b = write(tmp_path, "b.yaml", file_yaml("y", endpoint="http://127.0.0.1:1"))
    desired = load_workspace([a, b], {"HSS_ENDPOINT": "http://127.0.0.1:8080"})
    assert [t.endpoint for t in desired.targets.values()] == ["http://127.0.0.1:8080"]


def test_problems_of_every_file_come_together(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 2\n")
    write(tmp_path, "b.yaml", "a: [\n")
    write(tmp_path, "c.yaml", file_yaml("fine"))
    problems = load_problems([tmp_path])
    assert {Path(p.file).name for p in problems} == {"a.yaml", "b.yaml"}
    assert all(p.line >= 1 for p in problems)


def test_more_than_the_documented_maximum_is_a_warning(tmp_path: Path) -> None:
    names = [f"r{i}" for i in range(MAX_REGISTRIES_PER_TARGET + 1)]
    desired = load_workspace([write(tmp_path, "a.yaml", file_yaml(*names))], {})
    assert len(desired.registries) == 101
    assert len(desired.warnings) == 1
    assert "declares 101 registries" in desired.warnings[0]
    fine = load_workspace([write(tmp_path, "a.yaml", file_yaml(*names[:100]))], {})
    assert fine.warnings == []


def test_find_files_takes_yaml_of_a_directory_not_recursively(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", "notes.txt", "c.json", ".gitlab-ci.yml", ".pre-commit-config.yaml"):
        write(tmp_path, name, "x: 1\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "d.yaml", "x: 1\n")
    assert [p.name for p in find_files([tmp_path])] == ["a.yaml", "b.yml"]
    named = write(tmp_path, "named.conf", "x: 1\n")
    assert find_files([named]) == [named]  # a file named on the command line is read as is
    hidden = tmp_path / ".gitlab-ci.yml"
    assert find_files([hidden]) == [hidden]  # so is a hidden one


def test_find_files_reports_every_bad_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    write(empty, "README.md", "x")
    write(empty, ".gitlab-ci.yml", "stages: [plan]\n")
    with pytest.raises(ConfigProblems) as caught:
        find_files([empty, tmp_path / "missing"])
    messages = {Path(p.file).name: p.message for p in caught.value.problems}
    assert messages == {"empty": "directory holds no *.yaml or *.yml file "
                                 "(hidden files such as .gitlab-ci.yml are skipped)",
                        "missing": "no such file or directory"}


def test_symlink_loop_is_a_problem(tmp_path: Path) -> None:
    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    problems = load_problems([tmp_path])
    assert len(problems) == 2
    assert all("cannot read" in p.message for p in problems)


def test_workspace_dir_is_the_directory_or_the_first_files_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "x: 1\n")
    assert workspace_dir([tmp_path]) == tmp_path
    assert workspace_dir([path]) == tmp_path
    assert workspace_dir([]) == Path(".")


def test_check_env_resolves_every_reference_or_names_each_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pw.txt").write_text("file-password\n", encoding="utf-8")
    text = file_yaml("from-env") + registry_yaml("from-file", "{file: secrets/pw.txt}")
    path = write(tmp_path, "a.yaml", text)
    monkeypatch.setenv("HARBOR_PASSWORD", "env-password")
    desired = load_workspace([path], {})
    check_secret_references(desired)
    secrets = resolve_passwords(desired.registries.values())
    assert sorted(s.reveal() for s in secrets.values()) == ["env-password", "file-password"]

    monkeypatch.delenv("HARBOR_PASSWORD")
    (tmp_path / "secrets" / "pw.txt").unlink()
    with pytest.raises(ConfigProblems) as caught:
        check_secret_references(desired)
    found = [(p.line, p.path, p.message) for p in caught.value.problems]
    assert found == [
        (13, "registries[0].registry_password", "environment variable HARBOR_PASSWORD is not set"),
        (22, "registries[1].registry_password",
         f"cannot read secret file {tmp_path / 'secrets' / 'pw.txt'}: No such file or directory"),
    ]


@pytest.mark.parametrize(("value", "expected"), [
    ("x" * 129, "{env: HARBOR_PASSWORD} holds 129 characters; HSS accepts 1-128"),
    ("", "{env: HARBOR_PASSWORD} holds 0 characters; HSS accepts 1-128"),
])
def test_check_env_length_limits_never_show_the_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      value: str, expected: str) -> None:
    monkeypatch.setenv("HARBOR_PASSWORD", value)
    desired = load_workspace([write(tmp_path, "a.yaml", file_yaml("r"))], {})
    with pytest.raises(ConfigProblems) as caught:
        check_secret_references(desired)
    assert [p.message for p in caught.value.problems] == [expected]
    monkeypatch.setenv("HARBOR_PASSWORD", "x" * 128)
    check_secret_references(desired)  # the limit itself is fine
