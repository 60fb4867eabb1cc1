"""Writing a registry file from data that came from HSS: safe text, or a reason it cannot be.

Registry names and fields come from the server, so they are data, never
YAML: the text is emitted by PyYAML's safe dumper (which quotes anything
that would read as another type, a comment, a key or a document marker, and
escapes what YAML cannot hold raw), then read back with our own reader and
compared with what was meant. A registry is only written if it would pass
`validate` on its own; what would not (a hidden character, an undocumented
`registry_type`, a missing field) is left out, with the reason, never
"repaired" into something HSS does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.config.problems import ConfigProblems
from reconciler.config.yamlfile import parse_yaml
from reconciler.errors import ReconcilerError
from reconciler.registry import FILE_FIELDS, TargetKey
from reconciler.schema import validate_document
from reconciler.terminal import describe_char, is_hidden

SCHEMA_URL = "https://hss-reconciler.dev/schemas/registries.schema.json"  # the schema's $id
MODELINE = "# yaml-language-server: $schema="
FILE_VERSION = 1

# fmt.format_text, passed in by the CLI (the engine may not import fmt): the canonical layout.
Layout = Callable[[str, str], str]


class _Dumper(yaml.SafeDumper):
    """The safe dumper, but a string that begins or ends with whitespace is always quoted.

    PyYAML writes a name ending in U+00A0 or U+3000 plain (YAML does not count
    them as spaces), and a layout that trims lines as Python does would eat
    them; inside quotes nothing trims them.
    """


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if value[:1].isspace() or value[-1:].isspace() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


@dataclass(frozen=True)
class CheckedDocument:
    """A document as `validate` sees it, for the schema's messages (path and message only)."""

    data: Any

    def problem(self, path: tuple[str | int, ...], message: str, *, key: bool = False) -> str:
        where = ".".join(str(p) for p in path)
        return f"{where}: {message}" if where else message


def target_document(target: TargetKey, endpoint: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {"region": target.region, "project_id": target.project_id,
                                "enterprise_project_id": target.enterprise_project_id}
    if endpoint is not None:
        document["endpoint"] = endpoint
    return document


def registry_entry(fields: Mapping[str, Any], password_variable: str) -> dict[str, Any]:
    """One registry as a file declares it, keys in file order, the password as a reference."""
    values = {**fields, "registry_password": {"env": password_variable}}
    return {key: values[key] for key in FILE_FIELDS if key in values}


def _hidden_problem(value: Any, where: str) -> str | None:
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := _hidden_problem(v, f"{where}.{k}"))), None)
    if isinstance(value, str):
        found = next((c for c in value if is_hidden(c)), None)
        if found is not None:
            return f"{where} holds {describe_char(found)}, which a registry file may not hide"
    return None


def document_problems(target: dict[str, Any], entries: list[dict[str, Any]]) -> list[str]:
    """What `validate` would say of a file with `target` and `entries`, as `path: message` lines."""
    document = {"version": FILE_VERSION, "target": target, "registries": entries}
    return validate_document(CheckedDocument(document))


def entry_problem(target: dict[str, Any], entry: dict[str, Any]) -> str | None:
    """Why `entry` could not be declared as it is (None: it can)."""
    hidden = _hidden_problem(entry, "registry")
    if hidden:
        return hidden
    problems = document_problems(target, [entry])
    return "; ".join(p.removeprefix("registries.0.") for p in problems) or None


def registry_file_text(target: dict[str, Any], entries: list[dict[str, Any]], file: str,
                       layout: Layout) -> str:
    """The file's text, in the canonical layout; raises if it would not read back as `entries`."""
    document = {"version": FILE_VERSION, "target": target, "registries": entries}
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1 << 16)
    text = f"{MODELINE}{SCHEMA_URL}\n{body}"
    try:
        text = layout(text, file)
        same = parse_yaml(text, file).data == document
    except ConfigProblems as exc:
        raise ReconcilerError(f"{file}: the exported file would not validate ({exc.problems[0].message}); "
                              "nothing was written. Please report it.") from None
    if not same:
        raise ReconcilerError(f"{file}: the exported file would not read back as what HSS has; nothing "
                              "was written. Please report it.")
    return text
