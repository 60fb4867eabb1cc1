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


# --- names chosen by whoever may add a registry in HSS (issue 17 review) -------------------------


@pytest.mark.parametrize(("name", "variable"), [
    ("hss", "REGISTRY_HSS_PASSWORD"),
    ("hss-endpoint", "REGISTRY_HSS_ENDPOINT_PASSWORD"),
    ("huaweicloud", "REGISTRY_HUAWEICLOUD_PASSWORD"),
    ("hw-user", "REGISTRY_HW_USER_PASSWORD"),  # the Terraform provider's HW_* variables
    ("hwx", "HWX_PASSWORD"),  # only the namespace itself, HW_
])
def test_a_variable_in_the_tools_or_huawei_clouds_namespace_gets_the_registry_prefix(
        name: str, variable: str) -> None:
    assert password_variable(name) == variable


def test_a_thousand_colliding_names_get_distinct_variables_in_one_pass(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every name below folds to the stem A: the numbering must not start over for each of them."""
    import itertools

    from reconciler.engine import envnames

    names = sorted({"a" + "".join(p) for k in range(1, 8) for p in itertools.product("-_.", repeat=k)})[:1000]
    names += ["a-2", "a-500"]  # rule 6 skips what another registry's own name gives
    calls = 0
    finish = envnames._finish

    def counted(stem: str) -> str:
        nonlocal calls
        calls += 1
        return finish(stem)

    monkeypatch.setattr(envnames, "_finish", counted)
    given = password_variables(names)
    assert len(set(given.values())) == len(names) == 1002
    assert given["a-2"] == "A_2_PASSWORD" and given["a-500"] == "A_500_PASSWORD"
    assert "A_2_PASSWORD" not in [v for n, v in given.items() if n != "a-2"]
    assert calls < 3 * len(names)  # linear: the quadratic numbering made about 500,000 calls


EDGE_SPACES = ["a\u00a0", "\u00a0", "x\u3000", "\u2003", " a ", "\u202fq"]


def test_a_name_ending_in_a_space_yaml_does_not_trim_reads_back_as_itself() -> None:
    """PyYAML writes `a<U+00A0>` plain, and a layout that trims lines would eat the U+00A0."""
    entries = [registry_entry({"registry_name": n, **FIELDS}, f"V{i}_PASSWORD")
               for i, n in enumerate(EDGE_SPACES)]
    text = registry_file_text(TARGET, entries, "x.yaml", format_text)
    assert [r["registry_name"] for r in parse_yaml(text, "x.yaml").data["registries"]] == EDGE_SPACES
    assert format_text(text, "x.yaml") == text


def test_a_registry_no_file_can_carry_is_left_out_and_the_others_written() -> None:
    from reconciler.engine.exporting import ExportResult, _file_text

    chosen = {n: {"registry_name": n, **FIELDS} for n in ("alpha", "beta", "gamma")}
    result = ExportResult(Path("x.yaml"))

    def trims_beta(text: str, file: str) -> str:  # a layout that cannot carry one registry's name
        return format_text(text.replace("registry_name: beta", "registry_name: bet"), file)

    text = _file_text(TARGET, chosen, {n: n.upper() + "_PASSWORD" for n in chosen}, result, trims_beta)
    assert [r["registry_name"] for r in yaml.safe_load(text)["registries"]] == ["alpha", "gamma"]
    assert result.left_out == {"beta": "a registry file would not read back as this registry"}
    assert sorted(chosen) == ["alpha", "gamma"]
