"""The generated registry-file validator accepts exactly what jsonschema accepts.

`reconciler.schema` trusts the generated code's "valid" without asking
jsonschema, so a document the two judge differently is either an invalid file
let through or a valid one slowed down. Compared here: every bad-input case,
every example, and a few thousand seeded mutations of a valid file.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from reconciler.config.problems import ConfigProblems
from reconciler.config.yamlfile import read_yaml
from reconciler.generated import registries_validator
from reconciler.schema import CONFIG_SCHEMA, load_schema

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases" / "invalid"
EXAMPLES = REPO / "examples"
SEED = 20_240_611
RANDOM_DOCUMENTS = 3000

JSONSCHEMA = Draft202012Validator(load_schema(CONFIG_SCHEMA))

Path_ = tuple[str | int, ...]
Document = tuple[str, Any]  # (how it was made, the data)


def generated_accepts(data: Any) -> bool:
    try:
        registries_validator.validate_registry_file(data)
    except registries_validator.JsonSchemaValueException:
        return False
    return True


def assert_agree(documents: Iterable[Document], *, min_each: int = 1) -> None:
    """Same verdict on every document, and both verdicts seen, so agreement is not vacuous."""
    verdicts = {True: 0, False: 0}
    for label, data in documents:
        before = repr(data)
        fast, slow = generated_accepts(data), JSONSCHEMA.is_valid(data)
        assert repr(data) == before, f"{label}: the generated validator changed the data"
        assert fast == slow, (f"generated validator {'accepts' if fast else 'refuses'} and jsonschema "
                              f"{'accepts' if slow else 'refuses'} {label}:\n"
                              f"{json.dumps(data, indent=2, ensure_ascii=False, default=repr)}")
        verdicts[slow] += 1
    assert verdicts[True] >= min_each and verdicts[False] >= min_each, f"one-sided corpus: {verdicts}"


# --- documents from files ----------------------------------------------------------------------


def yaml_documents(paths: Iterable[Path]) -> Iterator[Document]:
    """Each file that parses; one refused before schema validation is not a schema question."""
    for path in sorted(paths):
        try:
            yield str(path.relative_to(REPO)), read_yaml(path).data
        except ConfigProblems:
            continue


def test_bad_input_cases_agree() -> None:
    files = [p for p in CASES.rglob("*") if p.suffix in (".yaml", ".yml")]
    documents = list(yaml_documents(files))
    assert len(documents) > 30  # most cases get past parsing; if not, the corpus went missing
    assert_agree(documents)


def test_examples_agree_and_the_registry_files_are_valid() -> None:
    documents = list(yaml_documents(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml")))
    assert_agree(documents)  # CI recipes and hook configs are refused by both
    by_name = dict(documents)
    for registry_file in ("examples/quickstart/registries.yaml", "examples/pre-commit/registries/prod.yaml"):
        assert generated_accepts(by_name[registry_file]), registry_file


# --- mutations of a valid file -----------------------------------------------------------------


def valid_document() -> dict[str, Any]:
    """Every optional field present, both channels, both reference forms."""
    return {
        "version": 1,
        "target": {"region": "ap-southeast-1", "project_id": "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c",
                   "enterprise_project_id": "0", "endpoint": "https://hss.ap-southeast-1.myhuaweicloud.com"},
        "registries": [
            {"registry_name": "harbor-prod", "registry_type": "Harbor", "api_version": "V2",
             "protocol": "https", "registry_addr": "harbor.example.com", "registry_username": "robot-hss",
             "registry_password": {"env": "HARBOR_PASSWORD"}, "password_version": 2,
             "connect_cluster_id": "6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f", "get_scan_image_channel": "Swr"},
            {"registry_name": "jfrog-build", "registry_type": "Jfrog", "api_version": "V1",
             "protocol": "http", "registry_addr": "jfrog.example.com:8443", "registry_username": "scanner",
             "registry_password": {"file": "secrets/jfrog"}, "namespace": "security-tools",
             "connect_cluster_id": "c-1", "get_scan_image_channel": "Other"},
        ],
    }


WRONG_TYPES: list[Any] = [None, True, False, 0, 1, -1, 1.0, 2.5, math.nan, math.inf, "", " ", "x", "\n",
                          [], ["x"], {}, {"x": 1}]


def strings_around(limit: int) -> list[str]:
    """Lengths at and around maxLength, in one-code-point and astral characters (len() counts both as 1)."""
    return [c * n for c in ("a", "é", "😀") for n in (limit - 1, limit, limit + 1)] + ["a" * (2 * limit)]


def enum_variants(values: list[str]) -> list[str]:
    variants = {f(v) for v in values for f in (str.lower, str.upper, str.title, str.swapcase)}
    variants |= {w for v in values for w in (f" {v}", f"{v} ", f"{v}\n", v[:-1], v + v[-1])}
    return sorted(variants)


REFERENCES: list[Any] = [
    {"env": "A"}, {"file": "p"}, {"env": ""}, {"file": ""}, {"env": "1A"}, {"env": "A-B"}, {"env": "A\n"},
    {"env": "_"}, {"env": "é"}, {"env": "A", "file": "p"}, {}, {"ENV": "A"}, {"Env": "A"}, {"path": "p"},
    {"env": 1}, {"file": None}, {"env": None}, {"env": ["A"]}, {"env": {"env": "A"}},
    "literal", "12345678", 12345678, ["A"],
]

FIELD_VALUES: dict[str, list[Any]] = {
    "version": [1, 1.0, 2, 0, -1, "1", 1.5, True, [1]],
    "region": ["ap-southeast-1", "eu-west-101", "a", "AP-southeast-1", "ap--southeast", "-ap", "ap-",
               "ap_southeast", "ap southeast", "ap-southeast-1\n", "\nap-southeast-1", "ap-\u0661",
               "ap-\uff53", "ap.southeast", *strings_around(64)],
    "project_id": strings_around(256),
    "enterprise_project_id": ["0", 0, *strings_around(256)],
    "endpoint": ["https://x", "http://x", "https://x/", "https://x/a/b", "https://x:8443/p", "https://x?y",
                 "https://x#f", "https://x/a?b", "ftp://x", "https://", "https:///p", "https:// x",
                 "https://x\n", "https://x\ny", "HTTPS://x", "https://x/a b", "https://x\u00a0y",
                 "https://x\u2028", "//x", "x", "https://" + "a" * 300],
    "registry_name": strings_around(128),
    "registry_addr": strings_around(256),
    "registry_username": strings_around(128),
    "namespace": strings_around(128),
    "connect_cluster_id": strings_around(64),
    "registry_password": REFERENCES,
    "env": ["A", "a_b", "_1", "1a", "A-B", "A B", "A\n", "\nA", "é", "A$", "a" * 1000],
    "file": ["p", " ", "/abs", "\n", "a" * 1000],
    "password_version": [0, 1, 0.0, -0.0, 1.0, 1.5, -1, -1.0, True, False, "1", 2**70, 1e300, math.nan,
                         math.inf, -math.inf],
    "registry_type": ["Harbor", "Jfrog", "Docker", *enum_variants(["Harbor", "Jfrog"])],
    "api_version": ["V1", "V2", "V3", *enum_variants(["V1", "V2"])],
    "protocol": ["http", "https", "ftp", *enum_variants(["http", "https"])],
    "get_scan_image_channel": ["Swr", "Other", "SWR", *enum_variants(["Swr", "Other"])],
}
EXTRA_KEYS: list[Any] = ["extra", "Registry_Name", "registry-name", "", " version", "$schema", 1]


def slots(data: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every place in the document: the root, each mapping value, each list item."""
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from slots(value, (*path, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from slots(item, (*path, i))


def apply(data: Any, op: str, path: Path_, value: Any = None) -> Any:
    """A changed deep copy; unchanged if an earlier mutation removed the place."""
    data = copy.deepcopy(data)
    if not path:
        if op == "set":
            return value
        if op == "extra" and isinstance(data, dict):
            data[value] = "x"
        return data
    parent = data
    for part in path[:-1]:
        if not _has(parent, part):
            return data
        parent = parent[part]
    last = path[-1]
    if not _has(parent, last):
        return data
    if op == "set":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "extra" and isinstance(parent[last], dict):
        parent[last][value] = "x"
    return data


def _has(parent: Any, key: Any) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent)


def mutations() -> list[tuple[str, Path_, Any]]:
    """(operation, path, value) for every slot of the valid document."""
    base = valid_document()
    found: list[tuple[str, Path_, Any]] = []
    for path in slots(base):
        field = path[-1] if path and isinstance(path[-1], str) else ""
        values = WRONG_TYPES + FIELD_VALUES.get(field, [])
        found += [("set", path, v) for v in values]
        if path:
            found.append(("delete", path, None))
        if isinstance(_value_at(base, path), dict):
            found += [("extra", path, key) for key in EXTRA_KEYS]
    # The channel and the namespace depend on each other; so do the two references' forms.
    found += [("set", ("registries", 0, "get_scan_image_channel"), "Other"),
              ("set", ("registries", 1, "get_scan_image_channel"), "Swr"),
              ("set", ("registries", 0, "namespace"), "ns"),
              ("set", ("registries", 0, "namespace"), "")]
    return found


def _value_at(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def one_mutation_documents() -> Iterator[Document]:
    base = valid_document()
    for op, path, value in mutations():
        yield f"{op} {path} {value!r}"[:300], apply(base, op, path, value)


def random_documents(count: int, seed: int = SEED) -> Iterator[Document]:
    """Two to four mutations at once: a type error next to a missing field next to a bad reference."""
    rng, catalogue = random.Random(seed), mutations()
    for n in range(count):
        data: Any = valid_document()
        if rng.random() < 0.3:  # sometimes one registry, sometimes many
            data["registries"] = data["registries"][: rng.randint(0, 1)] * rng.randint(1, 3)
        steps = rng.sample(catalogue, rng.randint(2, 4))
        for op, path, value in steps:
            data = apply(data, op, path, value)
        yield f"random document {n} (seed {seed}): {[s[:2] for s in steps]}", data


def test_the_valid_document_is_valid() -> None:
    assert generated_accepts(valid_document()) and JSONSCHEMA.is_valid(valid_document())


def test_every_single_mutation_agrees() -> None:
    assert_agree(one_mutation_documents(), min_each=50)


def test_seeded_random_mutations_agree() -> None:
    assert_agree(random_documents(RANDOM_DOCUMENTS), min_each=100)


def test_top_level_shapes_agree() -> None:
    shapes: list[Any] = [None, [], "x", 1, [valid_document()], {}, {"registries": []},
                         {**valid_document(), "registries": {}}, {**valid_document(), "registries": None},
                         {**valid_document(), "registries": [None, "x", [], 1]},
                         {**valid_document(), "registries": []}, {**valid_document(), "target": []},
                         # Never from YAML, but jsonschema refuses a tuple for an array, so must we.
                         {**valid_document(), "registries": tuple(valid_document()["registries"])}]
    assert_agree(((f"shape {i}", s) for i, s in enumerate(shapes)))
