"""The YAML loader: every value keeps its line, and hostile or odd input is one located problem."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.config import yamlfile
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.yamlfile import parse_yaml, read_yaml


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ConfigProblems) as caught:
        parse_yaml(text, "f.yaml")
    return caught.value.problems


def only_problem(text: str) -> Problem:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


def test_plain_data_with_line_and_column_of_every_value_and_key() -> None:
    doc = parse_yaml("version: 1\ntarget:\n  region: ap-southeast-1\nregistries:\n  - name: a\n", "f.yaml")
    assert doc.data == {"version": 1, "target": {"region": "ap-southeast-1"}, "registries": [{"name": "a"}]}
    assert doc.mark_of(("target", "region")) == yamlfile.Mark(3, 11)
    assert doc.mark_of(("target", "region"), key=True) == yamlfile.Mark(3, 3)
    assert doc.mark_of(("registries", 0, "name")) == yamlfile.Mark(5, 11)
    # Something not in the file is placed at its nearest parent.
    assert doc.mark_of(("registries", 0, "missing")) == yamlfile.Mark(5, 5)


def test_problem_renders_file_line_column_path_message() -> None:
    doc = parse_yaml("a:\n  b: 1\n", "dir/f.yaml")
    assert str(doc.problem(("a", "b"), "is wrong")) == "dir/f.yaml:2:6: a.b: is wrong"


def test_duplicate_key_names_both_lines() -> None:
    problem = only_problem("version: 1\ntarget: {}\nversion: 1\n")
    assert (problem.line, problem.column, problem.path) == (3, 1, "version")
    assert "duplicate key 'version' (first at line 1)" in problem.message


def test_every_duplicate_in_a_file_is_reported_at_once() -> None:
    found = problems_of("a: 1\na: 2\nb:\n  c: 1\n  c: 2\n")
    assert [(p.line, p.path) for p in found] == [(2, "a"), (5, "b.c")]


@pytest.mark.parametrize("text", [
    "x: !!python/object:os.system {a: 1}\n",
    "x: !!python/object/apply:os.system [ls]\n",
    "x: !!python/name:os.system ''\n",
    "x: !custom 1\n",
    "x: !!binary aGVsbG8=\n",
    "x: !!set {a, b}\n",
    "x: !!omap [a: 1]\n",
])
def test_non_plain_tags_are_refused_at_their_line(text: str) -> None:
    problem = only_problem(text)
    assert problem.line == 1
    assert problem.path == "x"
    assert "unsupported YAML tag" in problem.message


def test_explicit_plain_tags_are_fine() -> None:
    assert parse_yaml("a: !!str 5\nb: !!map {c: !!int '3'}\n", "f").data == {"a": "5", "b": {"c": 3}}


def test_unquoted_date_is_explained() -> None:
    problem = only_problem("name: 2024-01-01\n")
    assert "reads as a date; quote it" in problem.message


def test_merge_keys_merge_and_explicit_keys_win() -> None:
    doc = parse_yaml(
        "base: &b {api_version: V2, protocol: https}\n"
        "more: &m {protocol: http, registry_type: Jfrog}\n"
        "reg:\n"
        "  <<: [*b, *m]\n"
        "  api_version: V1\n",
        "f.yaml",
    )
    assert doc.data["reg"] == {"api_version": "V1", "protocol": "https", "registry_type": "Jfrog"}
    # The explicit key is what is used, so that is where its errors point.
    assert doc.mark_of(("reg", "api_version")).line == 5
    assert doc.mark_of(("reg", "protocol")).line == 1


def test_merge_of_a_scalar_is_refused() -> None:
    problem = only_problem("a:\n  <<: [1]\n  b: 2\n")
    assert "'<<' merges only mappings" in problem.message
    assert problem.line == 2


def test_aliases_expand_to_equal_values() -> None:
    doc = parse_yaml("a: &x [1, 2]\nb: *x\n", "f")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.perf_counter()
    problem = only_problem("\n".join(levels) + "\n")
    elapsed = time.perf_counter() - started
    assert "alias bomb" in problem.message
    assert 1 < problem.line <= 10
    assert elapsed < 5, "a bomb must be refused by counting, not by expanding it"


def test_recursive_alias_is_a_problem_not_a_crash() -> None:
    problem = only_problem("a: &x [1, *x]\n")
    assert "recursive alias" in problem.message


def test_deep_nesting_is_refused_before_the_composer_sees_it() -> None:
    # ~50,000 open brackets crash libyaml's recursive composer (a segfault). On one
    # line, libyaml's scanner reads far ahead of the events; where it has a nesting
    # limit of its own (PyYAML 6.0.4's wheels) that refusal arrives first, and is
    # reported in our words, never libyaml's.
    depth = 60_000
    problem = only_problem("x: " + "[" * depth + "]" * depth + "\n")
    assert problem.message == f"nested more than {yamlfile.MAX_DEPTH} levels deep"
    # The mapping is level 1, so the 64th bracket (column 3 + 64) is one too deep.
    assert (problem.file, problem.line, problem.column) == ("f.yaml", 1, 3 + yamlfile.MAX_DEPTH)


def test_deep_nesting_on_many_lines_is_refused_at_our_limit() -> None:
    # One bracket a line: libyaml streams events, so our own check stops it at level 65.
    depth = 2_000
    problem = only_problem("x:\n" + "".join(" [\n" for _ in range(depth)) + " " + "]" * depth + "\n")
    assert problem.message == f"nested more than {yamlfile.MAX_DEPTH} levels deep"
    assert (problem.line, problem.column) == (yamlfile.MAX_DEPTH + 1, 2)


def test_nesting_through_aliases_is_bounded_too() -> None:
    text = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 100))
    assert "nested more than" in only_problem(text).message


def test_too_many_values_even_without_aliases() -> None:
    problem = only_problem("x: [" + "1," * (yamlfile.MAX_VALUES + 10) + "]\n")
    assert "more than 100,000 values" in problem.message


def test_tab_indentation_says_tab() -> None:
    problem = only_problem("target:\n\tregion: a\n")
    assert problem.line == 2
    assert problem.message.startswith("invalid YAML")
    assert "tab" in problem.message


def test_syntax_error_has_line_and_column() -> None:
    problem = only_problem("a: 1\nb: [1, 2\nc: 3\n")
    assert problem.line >= 2
    assert problem.column >= 1
    assert problem.message.startswith("invalid YAML: ")


def test_two_documents_are_refused_with_the_reason() -> None:
    problem = only_problem("a: 1\n---\nb: 2\n")
    assert "expected a single document" in problem.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(text: str) -> None:
    assert only_problem(text).message == "file is empty"


def test_non_string_keys_are_refused() -> None:
    assert "mapping keys must be plain strings" in only_problem("? [a]\n: 1\n").message


def test_read_yaml_accepts_utf8_with_bom_and_non_ascii(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes("\ufeffname: régistre-ü\n".encode())
    assert read_yaml(path).data == {"name": "régistre-ü"}


def test_read_yaml_non_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\nbb: \xff\xfe\n")
    with pytest.raises(ConfigProblems) as caught:
        read_yaml(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), 2, 5)
    assert problem.message == "file is not valid UTF-8"


def test_read_yaml_size_cap_reads_no_further(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n#" + b"x" * yamlfile.MAX_FILE_BYTES)
    with pytest.raises(ConfigProblems) as caught:
        read_yaml(path)
    (problem,) = caught.value.problems
    assert "file is larger than 1 MiB" in problem.message
    just_fits = tmp_path / "fits.yaml"
    just_fits.write_bytes(b"a: 1\n#" + b"x" * (yamlfile.MAX_FILE_BYTES - 7) + b"\n")
    assert read_yaml(just_fits).data == {"a": 1}


def test_read_yaml_unreadable_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems) as caught:
        read_yaml(tmp_path)  # a directory
    (problem,) = caught.value.problems
    assert problem.message.startswith("cannot read file: ")
    assert problem.file == str(tmp_path)


def test_same_problem_twice_is_reported_once() -> None:
    # The duplicate inside the anchored mapping is reached through both aliases.
    found = problems_of("base: &b {k: 1, k: 2}\nx: {<<: *b}\ny: {<<: *b}\n")
    assert len({(p.line, p.column, p.message) for p in found}) == len(found)
    assert any("duplicate key 'k'" in p.message for p in found)
