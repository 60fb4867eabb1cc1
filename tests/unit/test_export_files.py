"""Issue 17.1: what `export` writes: password variable names, and registry files safe from any name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.atomicfile import atomic_write
from reconciler.config.yamlfile import parse_yaml
from reconciler.engine.envnames import password_variable, password_variables
from reconciler.engine.registryfile import entry_problem, registry_entry, registry_file_text, target_document
from reconciler.errors import ReconcilerError
from reconciler.fmt import format_text
from reconciler.registry import TargetKey
from reconciler.secrets import refused_env_reason

TARGET = target_document(TargetKey("ap-southeast-1", "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"), None)
FIELDS = {"registry_type": "Harbor", "api_version": "V2", "protocol": "https",
          "registry_addr": "h.example.com", "registry_username": "robot", "connect_cluster_id": "c1",
          "get_scan_image_channel": "Swr"}


@pytest.mark.parametrize(("name", "variable"), [
    ("harbor-prod", "HARBOR_PROD_PASSWORD"),
    ("Harbor.Prod--EU", "HARBOR_PROD_EU_PASSWORD"),
    ("__x__", "X_PASSWORD"),
    ("7up", "REGISTRY_7UP_PASSWORD"),
    ("日本", "REGISTRY_PASSWORD"),
    ("café", "CAFE_PASSWORD"),
    ("os", "REGISTRY_OS_PASSWORD"),  # OS_PASSWORD is a cloud credential
    ("twine", "REGISTRY_TWINE_PASSWORD"),
    ("huaweicloud-sdk-ak", "REGISTRY_HUAWEICLOUD_SDK_AK_PASSWORD"),
    ("a" * 128, "A" * 100 + "_PASSWORD"),
])
def test_a_variable_is_derived_from_the_registry_name(name: str, variable: str) -> None:
    assert password_variable(name) == variable
    assert refused_env_reason(variable) is None


def test_colliding_variables_get_numbers_in_name_order_and_never_take_anothers() -> None:
    given = password_variables(["harbor_prod", "harbor-prod", "harbor-prod-2", "Harbor.Prod"])
    assert given == {"Harbor.Prod": "HARBOR_PROD_PASSWORD", "harbor-prod": "HARBOR_PROD_3_PASSWORD",
                     "harbor-prod-2": "HARBOR_PROD_2_PASSWORD", "harbor_prod": "HARBOR_PROD_4_PASSWORD"}
    assert password_variables(reversed(list(given))) == given  # the order names come in does not matter


HOSTILE = ["yes", "No", "null", "~", "0x1F", "1e3", "- item", "a: b", "#c", "x #y", "&a", "*a", "!!str x",
           "!python/object", "'q'", '"dq"', "{env: GITHUB_TOKEN}", "[1, 2]", "|", ">", "%TAG", "---", "...",
           "@x", "`x`", " lead", "trail ", "a\\nb", "é ü ß", "\u00a0nbsp"]


def test_any_visible_name_is_written_as_data_and_reads_back_as_itself() -> None:
    names = password_variables(HOSTILE)
    entries = [registry_entry({"registry_name": n, **FIELDS}, names[n]) for n in sorted(HOSTILE)]
    assert all(entry_problem(TARGET, e) is None for e in entries)
    text = registry_file_text(TARGET, entries, "x.yaml", format_text)
    assert format_text(text, "x.yaml") == text
    assert [r["registry_name"] for r in parse_yaml(text, "x.yaml").data["registries"]] == sorted(HOSTILE)
    assert [r["registry_password"] for r in yaml.safe_load(text)["registries"]] == \
        [{"env": names[n]} for n in sorted(HOSTILE)]


@pytest.mark.parametrize(("fields", "said"), [
    ({"registry_name": "a\nregistry_password: x"}, "U+000A"),
    ({"registry_name": "red\x1b[31m"}, "U+001B"),
    ({"registry_name": "evil\u202egnp"}, "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ({"registry_name": "ok", "registry_addr": "h\u200b.example.com"}, "registry.registry_addr holds U+200B"),
    ({"registry_name": "ok", "registry_type": "SwrPrivate"}, "registry_type"),
    ({"registry_name": "ok", "connect_cluster_id": None}, "connect_cluster_id"),
    ({"registry_name": "x" * 129}, "registry_name"),
])
def test_a_registry_a_file_could_not_declare_is_refused_with_the_reason(fields: dict[str, str | None],
                                                                         said: str) -> None:
    merged = {k: v for k, v in {**FIELDS, **fields}.items() if v is not None}
    why = entry_problem(TARGET, registry_entry(merged, "X_PASSWORD"))
    assert why is not None and said in why


def test_a_layout_that_changes_the_data_is_refused() -> None:
    entry = registry_entry({"registry_name": "a", **FIELDS}, "A_PASSWORD")
    with pytest.raises(ReconcilerError, match="would not read back as what HSS has"):
        registry_file_text(TARGET, [entry], "x.yaml", lambda text, file: text.replace("robot", "robot2"))


def test_a_file_made_meanwhile_is_never_replaced_without_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    atomic_write(path, b"first\n", mode=0o644, replace=False)
    with pytest.raises(FileExistsError):
        atomic_write(path, b"second\n", mode=0o644, replace=False)
    assert path.read_bytes() == b"first\n" and [p.name for p in tmp_path.iterdir()] == ["r.yaml"]
    atomic_write(path, b"second\n", mode=0o644)
    assert path.read_bytes() == b"second\n"
