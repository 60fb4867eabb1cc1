"""The registry rules module: the one place the rules live, at the bottom of the layers.

Also the renderer tables: every format is chosen by name, and an unknown name is an error.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

import reconciler
from reconciler import registry
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Plan
from reconciler.render.colors import Palette
from reconciler.render.formats import (
    MANAGED_RENDERERS,
    RENDERERS,
    render_managed_as,
    render_plan_as,
    render_result_as,
)
from reconciler.render.results import RESULT_RENDERERS

PACKAGE = Path(reconciler.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_the_rules_module_is_the_bottom_layer() -> None:
    assert not [m for m in _imports(PACKAGE / "registry.py") if m.startswith("reconciler")]


def test_no_other_module_keeps_its_own_copy_of_a_rule() -> None:
    copies = ("REPLACE_ON = ", "SECRET_FIELDS = ", "NOT_UPDATABLE = ", "COMPARED_FIELDS = ",
              "UPLOAD_COMMAND_FIELDS = ", "OUTPUT_FIELDS = ", "REPLACE_FIELDS = ", "API_FIELDS = (",
              "def comparable(", "def changed_fields(")
    found = [f"{path.relative_to(PACKAGE)}: {copy}" for path in sorted(PACKAGE.rglob("*.py"))
             if path.name != "registry.py" and "emulator" not in path.parts
             for copy in copies if copy in path.read_text(encoding="utf-8")]
    assert found == []


def test_comparable_keeps_what_hss_reports_back() -> None:
    swr = {"registry_name": "a", "registry_type": "Harbor", "namespace": "ns", "protocol": None,
           "get_scan_image_channel": "Swr", "id": "1", "status": "success"}
    assert registry.comparable(swr) == {"registry_type": "Harbor", "get_scan_image_channel": "Swr"}
    other = {**swr, "get_scan_image_channel": "Other"}
    assert registry.comparable(other)["namespace"] == "ns"


def test_changed_fields_come_in_api_order() -> None:
    before = {"protocol": "https", "registry_type": "Harbor", "registry_addr": "a"}
    after = {"registry_addr": "b", "protocol": "http", "registry_type": "Jfrog"}
    assert registry.changed_fields(before, after) == ("registry_type", "protocol", "registry_addr")
    assert registry.changed_fields({}, {"api_version": "V2"}) == ("api_version",)
    assert registry.changed_fields(before, dict(before)) == ()


def test_what_forces_replacement_and_what_an_update_leaves_out() -> None:
    assert registry.forcing_replacement(("protocol", "registry_type")) == ("registry_type",)
    assert registry.forcing_replacement(("protocol",)) == ()
    assert set(registry.NOT_UPDATABLE) == {"registry_name", *registry.REPLACE_ON}
    assert set(registry.COMPARED_FIELDS) == set(registry.API_FIELDS) - {"registry_name"}


def test_file_fields_put_the_password_after_the_user_name() -> None:
    fields = registry.FILE_FIELDS
    assert fields.index("registry_password") == fields.index("registry_username") + 1
    in_the_api = [f for f in fields if f not in ("registry_password", "password_version")]
    assert in_the_api == list(registry.API_FIELDS)
    assert set(fields) >= registry.SECRET_FIELDS


def test_identity() -> None:
    target = registry.TargetKey("r", "p")
    assert registry.registry_address(target, "n") == "r/p/0/n"
    assert registry.TargetKey.from_json(target.to_json()) == target


def test_every_format_is_registered_by_name() -> None:
    assert set(RENDERERS) == set(MANAGED_RENDERERS) == {"text", "markdown", "json"}
    assert set(RESULT_RENDERERS) == {"markdown", "json"}
    assert render_plan_as("text", Plan(), Palette()).endswith("Your registries match the configuration.")
    assert render_plan_as("markdown", Plan(), Palette()).startswith("### hss-reconciler plan: no changes")
    assert '"has_changes": false' in render_plan_as("json", Plan(), Palette())
    assert render_managed_as("text", [], Palette()) == "The state manages no registries."
    assert '"plan"' in render_result_as("json", Plan(), None, None, None)


@pytest.mark.parametrize("call", [
    lambda: render_plan_as("yaml", Plan(), Palette()),
    lambda: render_result_as("text", Plan(), None, None, None),
    lambda: render_managed_as("html", [], Palette()),
])
def test_an_unknown_format_is_an_error_not_text(call: Callable[[], str]) -> None:
    with pytest.raises(ReconcilerError, match="--format"):
        call()
