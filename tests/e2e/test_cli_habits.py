"""Issue 17.7 against the emulator: Terraform's spellings end to end, the JSON outputs of apply and
show validated against schemas/, and TERM=dumb on a real terminal. One emulator for the module.

The parser, the state's location, --help and the colour rules in process: tests/unit/test_cli_habits.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from tests.e2e.conftest import REPO, Hss, running_hss
from tests.e2e.terminal import run_in_terminal
from tests.e2e.workspaces import PASSWORD, TARGET, cli, env_for, registry, write_workspace

OTHER = {"get_scan_image_channel": "Other", "namespace": "security-tools"}


@pytest.fixture(scope="module")
def hss() -> Iterator[Hss]:
    with running_hss() as started:
        yield started


def _validator(name: str) -> Draft202012Validator:
    """The schema `name`, its references to the other schemas resolved from schemas/ (never fetched)."""
    schemas = [json.loads(path.read_text()) for path in sorted((REPO / "schemas").glob("*.schema.json"))]
    registry_ = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    schema = next(s for s in schemas if s["$id"].endswith(f"/{name}.schema.json"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry_)


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Any], None]:
    def mutate(document: Any) -> None:
        for key in path[:-1]:
            document = document[key]
        document[path[-1]] = value
    return mutate


APPLY_MUTATIONS = {
    "an unknown top-level key": _set(("extra",), 1),
    "a negative count": _set(("result", "added"), -1),
    "a count as text": _set(("result", "changed"), "1"),
    "a failure without its error": _set(("result", "failed"), [{"address": "a"}]),
    "an unknown upload-command field": _set(("outputs", "upload_commands", f"{TARGET}/habit-other", "x"),
                                            "y"),
    "a wait without ok": lambda d: d["wait"].pop("ok"),
    "a plan that is not one": _set(("plan", "format_version"), 2),
    "a change with an unknown action": _set(("plan", "changes", 0, "action"), "explode"),
}
SHOW_MUTATIONS = {
    "an unknown key": _set(("registries", 0, "secret"), "x"),
    "missing as text": _set(("registries", 0, "missing"), "no"),
    "a status that is a number": _set(("registries", 0, "status"), 1),
    "an empty registry name": _set(("registries", 0, "registry_name"), ""),
    "no id field": lambda d: d["registries"][0].pop("id"),
}


def _refused(validator: Draft202012Validator, document: Any,
             mutations: dict[str, Callable[[Any], None]]) -> list[str]:
    """The mutations the schema lets through (each one alone, on a copy of a real document)."""
    passed = []
    for why, mutate in mutations.items():
        changed = copy.deepcopy(document)
        mutate(changed)
        if validator.is_valid(changed):
            passed.append(why)
    return passed


def test_terraform_spellings_and_the_json_outputs_of_apply_and_show(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("habit-swr"), registry("habit-other", **OTHER)])
    applied = cli(hss, "apply", str(ws), "-auto-approve", "-parallelism=2", "-lock-timeout=5s",
                  "-input=false", "-lock=true", "-json", "--wait", "--wait-timeout", "20s")
    assert applied.code == 0, applied.output
    document = json.loads(applied.stdout)
    apply_schema = _validator("apply-output")
    assert list(apply_schema.iter_errors(document)) == []
    assert document["result"]["added"] == 2 and document["wait"]["ok"] is True
    assert set(document["outputs"]["upload_commands"]) == {f"{TARGET}/habit-other"}
    assert _refused(apply_schema, document, APPLY_MUTATIONS) == []
    assert PASSWORD not in applied.output

    again = cli(hss, "apply", str(ws), "-auto-approve", "-json")  # nothing to do: no result, no wait
    assert again.code == 0, again.output
    quiet = json.loads(again.stdout)
    assert (quiet["result"], quiet["wait"]) == (None, None) and apply_schema.is_valid(quiet)

    shown = cli(hss, "show", str(ws), "-json")
    assert shown.code == 0, shown.output
    show_document = json.loads(shown.stdout)
    show_schema = _validator("show-output")
    assert list(show_schema.iter_errors(show_document)) == []
    assert [(r["registry_name"], r["status"], r["missing"]) for r in show_document["registries"]] == [
        ("habit-other", "success", False), ("habit-swr", "success", False)]
    assert _refused(show_schema, show_document, SHOW_MUTATIONS) == []
    offline = json.loads(cli(hss, "show", str(ws), "-json", "-refresh=false").stdout)
    assert {r["status"] for r in offline["registries"]} == {None} and show_schema.is_valid(offline)

    write_workspace(ws, [registry("habit-swr", api_version="V1"), registry("habit-other", **OTHER)])
    targeted = cli(hss, "plan", str(ws), "-detailed-exitcode", "-target=habit-swr", "-no-color",
                   "-lock=false")
    assert targeted.code == 2, targeted.output
    assert "1 to change" in targeted.stdout and "\x1b[" not in targeted.stdout


def test_term_dumb_turns_colour_off_on_a_terminal(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("habit-colour")])
    env = env_for(hss)  # colour on a terminal otherwise: tests/e2e/test_output_formats.py
    assert "\x1b[" not in run_in_terminal(["plan", str(ws), "-refresh=false"], {**env, "TERM": "dumb"})[1]
    forced = run_in_terminal(["plan", str(ws), "-refresh=false"], {**env, "TERM": "dumb", "FORCE_COLOR": "1"})
    assert "\x1b[" in forced[1]
