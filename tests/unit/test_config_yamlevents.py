"""The one-pass event builder reads every file exactly as the node-graph path does.

yamlevents.py exists for speed; yamlgraph.py is the reference (it composes
libyaml's graph and walks it, as PyYAML itself does). For each document below
both are run and must agree on everything a user can see: the data, the line
and column of every value and key, or the problems, word for word.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.config import yamlfile
from reconciler.config.problems import ConfigProblems
from reconciler.config.yamldoc import MAX_DEPTH, MAX_VALUES, YamlDocument
from reconciler.config.yamlevents import NeedsGraph, parse_events

REPO = Path(__file__).resolve().parents[2]

HANDWRITTEN = [
    "version: 1\ntarget: {region: a}\nregistries: []\n",
    "a: 1\nb: 2\na: 3\nb: {x: 1, x: 2}\n",                   # duplicate keys, one inside a value
    "a: 1\na: !!python/object:os.system x\n",                  # a refused tag under a duplicate key
    "? [a, b]\n: 1\nc: 2\n",                                   # a sequence as a key, then more keys
    "? {a: 1}\n: {b: !!python/name:os.system x}\nc: 2\n",      # a mapping key; its value is skipped
    "1: a\nnull: b\n~: c\ntrue: d\n3.5: e\n",                  # non-string plain keys
    "!!int 7: a\n!!str 8: b\n",
    "2024-01-02: a\n",                                         # a date as a key
    "a: 2024-01-02\nb: [2024-01-02 10:00:00]\n",
    "a: !!python/object:os.system {x: 1}\nb: !!set {x, y}\nc: !!omap [a: 1]\nd: !!binary aGk=\n",
    "a: !custom x\nb: !custom [1]\nc: !<tag:example.com,2000:x> y\n",
    "a: !!str 1\nb: !!int '2'\nc: !!float '3'\nd: !!bool 'true'\ne: !!null ''\n",
    "a: ! 12\nb: ! [1]\n",                                       # the non-specific tag
    "a: &anchor {x: 1}\nb: &other [1, 2]\n",                   # anchors without aliases
    "a: 0x1F\nb: 0o17\nc: 1_000\nd: .inf\ne: -.nan\nf: yes\ng: on\nh: 1e3\n",
    "a: 'quoted'\nb: \"dq \\u00e9\"\nc: |\n  block\nd: >\n  folded\n",
    "- 1\n- [2, [3, {a: [4]}]]\n- {}\n- []\n- \n",
    "",
    "# only a comment\n",
    "---\n",
    "--- ~\n",
    "--- null\n",
    "---\n...\n",
    "plain scalar\n",
    "- only\n- a list\n",
    "a: 1\n---\nb: 2\n",                                       # two documents
    "a: 1\n---\nb: [\n",                                       # and the second one is broken
    "a: [1, 2\n",
    "a:\n\tb: 1\n",
    "a: b: c\n",
    "é: ü\n'key with spaces': 1\n\"\": empty key\n? \n: null key\n",
    "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n",
    "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n",
    "".join(f"{'  ' * i}- k:\n" for i in range(40)),
    "x: [" + "1," * (MAX_VALUES + 5) + "]\n",
    "x: [" + "1," * (MAX_VALUES + 5) + "\n",                   # too many values, then a syntax error
]


def outcome(text: str, *, graph: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    if graph:
        def refuse(text: str, doc: YamlDocument) -> None:
            raise NeedsGraph()

        monkeypatch.setattr(yamlfile, "parse_events", refuse)
    try:
        doc = yamlfile.parse_yaml(text, "f.yaml")
    except ConfigProblems as exc:
        return ("problems", [str(p) for p in exc.problems])
    finally:
        monkeypatch.undo()
    marks = {("value", p): doc.mark_of(p) for p in doc.value_marks}
    marks.update({("key", p): doc.mark_of(p, key=True) for p in doc.key_marks})
    return ("data", doc.data, marks)


def assert_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    events = outcome(text, graph=False, monkeypatch=monkeypatch)
    graph = outcome(text, graph=True, monkeypatch=monkeypatch)
    assert events == graph, f"the two paths differ on:\n{text[:2000]}"


@pytest.mark.parametrize("text", HANDWRITTEN, ids=range(len(HANDWRITTEN)))
def test_handwritten_documents(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(text, monkeypatch)


def corpus() -> Iterator[Path]:
    """YAML files of the bad-input corpus and the examples that reach the parser (UTF-8 ones)."""
    for pattern, root in [("*.yaml", "tests/cases"), ("*.yaml", "examples"), ("*.yml", "examples")]:
        for path in sorted((REPO / root).rglob(pattern)):
            try:
                path.read_bytes()[: yamlfile.MAX_FILE_BYTES].decode("utf-8-sig")
            except UnicodeDecodeError:
                continue  # refused before any YAML is parsed (its own case checks how)
            yield path


@pytest.mark.parametrize("path", list(corpus()), ids=lambda p: str(p.relative_to(REPO)))
def test_every_file_of_the_bad_input_corpus_and_the_examples(path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(path.read_bytes()[: yamlfile.MAX_FILE_BYTES].decode("utf-8-sig"), monkeypatch)


def _random_document(rng: random.Random, depth: int) -> Any:
    scalars = ["x", "", "1", 1, 2.5, True, None, "2024-01-02", "null", "a: b", "- x", "é", "0x10"]
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(scalars)
    if rng.random() < 0.5:
        return [_random_document(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "c", "1", "true", "~"]): _random_document(rng, depth - 1)
            for _ in range(rng.randint(0, 3))}


def _mangle(rng: random.Random, text: str) -> str:
    """Duplicate a line, or add a tag or a bracket: the edits people and fuzzers make."""
    lines = text.splitlines()
    if not lines:
        return text
    i = rng.randrange(len(lines))
    edit = rng.randrange(4)
    if edit == 0:
        lines.insert(i, lines[i])
    elif edit == 1:
        lines[i] = lines[i].replace(": ", ": !!python/object ", 1)
    elif edit == 2:
        lines[i] += rng.choice(["[", "]", "{", ": x", " #", "'"])
    else:
        lines[i] = lines[i].replace(": ", ": 2024-01-02 #", 1)
    return "\n".join(lines) + "\n"


def test_a_thousand_generated_documents_and_their_mangled_twins(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261123)
    for _ in range(500):
        data = _random_document(rng, rng.randint(1, 6))
        text = yaml.safe_dump(data, default_flow_style=rng.choice([False, True, None]), allow_unicode=True)
        assert_same(text, monkeypatch)
        assert_same(_mangle(rng, text), monkeypatch)


def test_ordinary_files_really_take_the_event_path() -> None:
    text = (REPO / "examples" / "quickstart" / "registries.yaml").read_text()
    doc = YamlDocument("f.yaml", None)
    parse_events(text, doc)  # would raise NeedsGraph if it handed the file on
    assert doc.data["version"] == 1


GRAPH_ONLY = ["a: &x 1\nb: *x\n", "base: &b {x: 1}\nc:\n  <<: *b\n", "c:\n  <<: {x: 1}\n"]


@pytest.mark.parametrize("text", GRAPH_ONLY)
def test_aliases_and_merge_keys_hand_the_file_to_the_graph_path(text: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NeedsGraph):
        parse_events(text, YamlDocument("f.yaml", None))
    assert_same(text, monkeypatch)
