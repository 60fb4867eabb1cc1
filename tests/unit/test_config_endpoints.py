"""Issue 16.4: a target's endpoint, found the way the official SDK finds a region's.

HSS_ENDPOINT, then target.endpoint, then HUAWEICLOUD_SDK_REGION_HSS_<REGION>,
the regions file and the SDK's built-in table. An unknown region is a located
problem that lists the known ones; a malformed variable or regions file is a
problem naming it. tests/oracle/test_regions_oracle.py holds the same sources
to the SDK's own readers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config.endpoints import MAX_ENDPOINTS, MAX_REGIONS_FILE_BYTES, resolve_endpoint
from reconciler.config.workspace import load_workspace
from reconciler.errors import ConfigError
from reconciler.regions import known_regions
from tests.unit.test_config_workspace import file_yaml, load_problems, write

UNKNOWN = "ap-southeast-9"
ENV = "HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_9"


def target_file(directory: Path, **options: str) -> Path:
    """A registry file declaring one registry, in a directory of its own (made here)."""
    directory.mkdir(parents=True, exist_ok=True)
    return write(directory, "a.yaml", file_yaml("r", **options))


def endpoint_of(paths: list[Path], environ: dict[str, str]) -> str:
    (target,) = load_workspace(paths, environ).targets.values()
    return target.endpoint


def regions_file(tmp_path: Path, text: str, name: str = "regions.yaml") -> dict[str, str]:
    path = write(tmp_path, name, text)
    return {"HUAWEICLOUD_SDK_REGIONS_FILE": str(path)}


def test_an_unknown_region_is_located_and_the_known_ones_listed(tmp_path: Path) -> None:
    path = target_file(tmp_path, region=UNKNOWN)
    (problem,) = load_problems([path])
    assert (problem.file, problem.line, problem.column, problem.path) == (str(path), 3, 11, "target.region")
    assert problem.message.startswith(f"unknown region '{UNKNOWN}': HSS is known in ae-ad-1, ")
    assert all(region in problem.message for region in known_regions())
    assert ENV in problem.message and "HSS_ENDPOINT" in problem.message


def test_an_unknown_region_is_fine_wherever_an_endpoint_is_given(tmp_path: Path) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r", region=UNKNOWN))
    assert endpoint_of([bare], {"HSS_ENDPOINT": "http://127.0.0.1:1"}) == "http://127.0.0.1:1"
    assert endpoint_of([bare], {ENV: "http://127.0.0.1:2"}) == "http://127.0.0.1:2"
    listed = regions_file(tmp_path, f"hss:\n  - id: {UNKNOWN}\n    endpoint: http://127.0.0.1:3\n")
    assert endpoint_of([bare], listed) == "http://127.0.0.1:3"
    named = target_file(tmp_path / "b", region=UNKNOWN, endpoint="http://127.0.0.1:4")
    assert endpoint_of([named], {}) == "http://127.0.0.1:4"


def test_precedence_hss_endpoint_then_file_endpoint_then_variable_then_regions_file_then_table(
        tmp_path: Path) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r"))
    named = target_file(tmp_path / "n", endpoint="http://127.0.0.1:2")
    every = {"HSS_ENDPOINT": "http://127.0.0.1:1", "HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_1": "http://127.0.0.1:3",
             **regions_file(tmp_path, "HSS:\n  - {id: ap-southeast-1, endpoint: 'http://127.0.0.1:4'}\n",
                            "r.yml")}
    assert endpoint_of([named], every) == "http://127.0.0.1:1"
    del every["HSS_ENDPOINT"]
    assert endpoint_of([named], every) == "http://127.0.0.1:2"
    assert endpoint_of([bare], every) == "http://127.0.0.1:3"
    del every["HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_1"]
    assert endpoint_of([bare], every) == "http://127.0.0.1:4"
    assert endpoint_of([bare], {}) == "https://hss.ap-southeast-1.myhuaweicloud.com"


def test_the_variable_is_a_list_whose_first_endpoint_is_used_https_when_no_scheme(tmp_path: Path) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r", region=UNKNOWN))
    assert endpoint_of([bare], {ENV: "hss.a.example.com:8443, https://hss.b.example.com"}) \
        == "https://hss.a.example.com:8443"
    (problem,) = load_problems([bare], {ENV: ""})  # set but empty: unset, as in the SDK
    assert problem.path == "target.region"


@pytest.mark.parametrize(("value", "message"), [
    ("https://ok.example.com,", "endpoint 2 of 2 is empty"),
    ("https://a.example.com?x=1", "endpoint 1 of 1 must be an http or https URL"),
    ("http://a.example.com:0", "endpoint 1 of 1 must be an http or https URL"),
    ("https://a.example.com/\x1b[31m", "endpoint 1 of 1 holds a control character"),
    (",".join(["http://127.0.0.1:1"] * (MAX_ENDPOINTS + 1)), f"lists {MAX_ENDPOINTS + 1} endpoints"),
])
def test_a_malformed_variable_is_a_problem_naming_it_never_its_value(tmp_path: Path, value: str,
                                                                      message: str) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r", region=UNKNOWN))
    (problem,) = load_problems([bare], {ENV: value})
    assert problem.file == ENV and problem.line == 0
    assert problem.message.startswith(message)
    assert "example.com" not in problem.message


def test_the_default_regions_file_is_in_home_and_optional(tmp_path: Path) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r", region=UNKNOWN))
    assert load_problems([bare], {"HOME": str(tmp_path / "nobody")})[0].path == "target.region"
    folder = tmp_path / "home" / ".huaweicloud"
    folder.mkdir(parents=True)
    write(folder, "regions.yaml", f"hss: [{{id: {UNKNOWN}, endpoint: x.example}}]\n")
    assert endpoint_of([bare], {"HOME": str(tmp_path / "home")}) == "https://x.example"


def test_the_regions_file_is_read_only_when_needed(tmp_path: Path) -> None:
    # As in the SDK, the variable is asked first: a broken file it makes unneeded is never read.
    bare = write(tmp_path, "a.yaml", file_yaml("r"))
    broken = regions_file(tmp_path, "hss: [\n")
    variable = {"HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_1": "http://127.0.0.1:1"}
    assert endpoint_of([bare], {**broken, **variable}) == "http://127.0.0.1:1"
    assert endpoint_of([bare], {**broken, "HSS_ENDPOINT": "http://127.0.0.1:2"}) == "http://127.0.0.1:2"
    (problem,) = load_problems([bare], broken)  # needed for the built-in region too: the SDK reads it first
    assert problem.file == broken["HUAWEICLOUD_SDK_REGIONS_FILE"] and problem.line == 2


REGIONS_FILE_PROBLEMS = [
    ("- hss\n", 1, "", "a regions file is a mapping from service names to lists of regions"),
    ("hss: {id: x}\n", 1, "hss", "must be a list of regions"),
    ("ecs: 3\nhss: []\n", 1, "ecs", "must be a list of regions"),
    ("hss:\n  - x\n", 2, "hss[0]", "a region is a mapping"),
    ("hss:\n  - id: x\n", 2, "hss[0]", "a region needs an endpoint or a list of endpoints"),
    ("hss:\n  - {endpoint: 'https://a'}\n", 2, "hss[0].id", "a region needs an id"),
    ("hss:\n  - {id: x, endpoint: 'https://a', zone: 1}\n", 2, "hss[0].zone", "unknown field 'zone'"),
    ("hss:\n  - {id: x, endpoints: 'https://a'}\n", 2, "hss[0].endpoints", "must be a list of endpoint URLs"),
    ("hss:\n  - {id: x, endpoints: ['https://a', 7]}\n", 2, "hss[0].endpoints[1]", "must be a string"),
    ("hss:\n  - {id: x, endpoint: 'https://a b'}\n", 2, "hss[0].endpoint", "must be an http or https URL"),
    ('hss:\n  - {id: x, endpoint: "https://a/\\e[31m"}\n', 2, "hss[0].endpoint", "holds a control character"),
    ("hss: " + "[" * 100 + "]" * 100 + "\n", 1, "", "nested more than 64 levels deep"),
    ("hss:\n  - {id: x, endpoint: 'https://a'}\n  - {id: x, endpoint: 'https://b'}\n", 3, "hss[1].id",
     "region 'x' is listed twice (first at line 2)"),
    ("hss: [\n", 2, "", "invalid YAML"),
    ("hss:\n  - {id: x, endpoint: 'https://a', id: y}\n", 2, "hss[0].id", "duplicate key 'id'"),
]


@pytest.mark.parametrize(("text", "line", "path", "message"), REGIONS_FILE_PROBLEMS)
def test_a_malformed_regions_file_is_located(tmp_path: Path, text: str, line: int, path: str,
                                             message: str) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r"))
    environ = regions_file(tmp_path, text)
    problems = load_problems([bare], environ)
    assert {p.file for p in problems} == {environ["HUAWEICLOUD_SDK_REGIONS_FILE"]}
    assert (problems[0].line, problems[0].path) == (line, path)
    assert message in problems[0].message


def test_another_services_regions_are_not_checked_beyond_being_a_list(tmp_path: Path) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r", region=UNKNOWN))
    environ = regions_file(tmp_path, f"ECS:\n  - whatever\nHss:\n  - {{id: {UNKNOWN}, endpoint: 'http://h:1'}}\n")
    assert endpoint_of([bare], environ) == "http://h:1"


def test_a_regions_file_that_cannot_be_read_is_one_problem_naming_it(tmp_path: Path) -> None:
    bare = write(tmp_path, "a.yaml", file_yaml("r"))
    missing = str(tmp_path / "missing.yaml")
    (problem,) = load_problems([bare], {"HUAWEICLOUD_SDK_REGIONS_FILE": missing})
    assert str(problem) == f"{missing}: no such file (named by HUAWEICLOUD_SDK_REGIONS_FILE)"
    big = regions_file(tmp_path, "#" * (MAX_REGIONS_FILE_BYTES + 1), "big.yaml")
    (problem,) = load_problems([bare], big)
    assert problem.message == f"regions file is larger than {MAX_REGIONS_FILE_BYTES // 1024} KiB"
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # opening it would block: refused by its kind instead
    (problem,) = load_problems([bare], {"HUAWEICLOUD_SDK_REGIONS_FILE": str(fifo)})
    assert problem.file == str(fifo) and "not a regular file" in problem.message


def test_a_target_only_the_state_holds_resolves_the_same_way() -> None:
    assert resolve_endpoint("eu-west-101", {}) == "https://hss.eu-west-101.myhuaweicloud.eu"
    assert resolve_endpoint(UNKNOWN, {ENV: "http://127.0.0.1:5"}) == "http://127.0.0.1:5"
    with pytest.raises(ConfigError, match=f"unknown region '{UNKNOWN}'"):
        resolve_endpoint(UNKNOWN, {})


def test_an_alias_bomb_in_the_regions_file_is_refused_unexpanded(tmp_path: Path) -> None:
    levels = ["a0: &a0 [" + ",".join(["x"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]  # 10^8 values
    bare = write(tmp_path, "a.yaml", file_yaml("r"))
    problems = load_problems([bare], regions_file(tmp_path, "\n".join(levels) + "\n"))
    assert len(problems) == 1 and "through aliases" in problems[0].message
