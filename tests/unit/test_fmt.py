"""The canonical layout: key order, comments kept, idempotent, meaning unchanged."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
import yaml

from reconciler.config.problems import ConfigProblems
from reconciler.errors import ReconcilerError
from reconciler.fmt import format_file, format_text
from reconciler.fmt.format import write_atomically
from reconciler.fmt.order import REGISTRY_ORDER, ROOT_ORDER, TARGET_ORDER
from reconciler.schema import CONFIG_SCHEMA, load_schema

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "registries.yaml"

MESSY = """\
# header comment
---
registries:
    # before first registry
    -   get_scan_image_channel: Swr   # channel
        # the name, first
        registry_name: a
        api_version: V2
        protocol: https
        registry_addr: x   # addr eol
        registry_password:
            env: X
        registry_username: u
        connect_cluster_id: c
        registry_type: 'Harbor'
        # trailing in first item


    # before second
    -   registry_name: >-
          folded
          text
        registry_type: Jfrog
        api_version: V1
        protocol: http
        registry_addr: "y:8080"
        registry_username: u
        registry_password: {file: pw.txt}   # pw
        namespace: |
          # not a comment
          line2
        connect_cluster_id: c
        get_scan_image_channel: Other
target: {project_id: "p", region: r}   # flow target
# yaml-language-server: $schema=../schemas/registries.schema.json
version: 1
# end of file
"""

MESSY_FORMATTED = """\
# yaml-language-server: $schema=../schemas/registries.schema.json
# header comment
---
version: 1
target:  # flow target
  region: r
  project_id: "p"
registries:
  # before first registry
  # the name, first
  - registry_name: a
    registry_type: 'Harbor'
    api_version: V2
    protocol: https
    registry_addr: x   # addr eol
    registry_username: u
    registry_password: {env: X}
    connect_cluster_id: c
    get_scan_image_channel: Swr   # channel
  # trailing in first item

  # before second
  - registry_name: >-
      folded
      text
    registry_type: Jfrog
    api_version: V1
    protocol: http
    registry_addr: "y:8080"
    registry_username: u
    registry_password: {file: pw.txt}   # pw
    namespace: |
      # not a comment
      line2
    connect_cluster_id: c
    get_scan_image_channel: Other
# end of file
"""

TARGET = {"region": "ap-southeast-1", "project_id": "p1", "enterprise_project_id": '"0"',
          "endpoint": "http://127.0.0.1:8080", "credentials": "{profile: prod}"}
REGISTRY = {"registry_name": "harbor-prod", "registry_type": "Harbor", "api_version": "V2",
            "protocol": "https", "registry_addr": "harbor.example.com", "registry_username": "robot",
            "registry_password": "{env: HARBOR_PASSWORD}", "password_version": "2",
            "namespace": "library", "connect_cluster_id": "c-1", "get_scan_image_channel": "Other"}


def test_quickstart_is_already_canonical() -> None:
    text = QUICKSTART.read_text()
    assert format_text(text, "quickstart") == text


def test_messy_file_gets_the_canonical_layout_with_every_comment() -> None:
    assert format_text(MESSY, "messy.yaml") == MESSY_FORMATTED


def test_formatting_is_idempotent() -> None:
    assert format_text(MESSY_FORMATTED, "messy.yaml") == MESSY_FORMATTED


def _shuffled_file(rng: random.Random) -> tuple[str, set[str]]:
    """A file with keys in random order, every key carrying a comment above it and one beside it.

    The comment above a list item's dash describes the item and stays there; the
    names that opened an item are returned, since they have no comment of their own above.
    """
    item_openers: set[str] = set()

    def block(fields: dict[str, str], indent: str, dash: str | None = None) -> list[str]:
        names = list(fields)
        rng.shuffle(names)
        lines: list[str] = []
        for i, name in enumerate(names):
            if i == 0 and dash:
                item_openers.add(name)
                lines += [f"{dash[:-2]}# about the item", f"{dash}{name}: {fields[name]}  # beside {name}"]
            else:
                lines += [f"{indent}# about {name}", f"{indent}{name}: {fields[name]}  # beside {name}"]
        return lines

    top = {
        "version": ["version: 1  # beside version"],
        "target": ["target:", *block(TARGET, "  ")],
        "registries": ["registries:",
                       *block(REGISTRY, "    ", "  - "),
                       *block({**REGISTRY, "registry_name": "second"}, "    ", "  - ")],
    }
    order = list(top)
    rng.shuffle(order)
    return "\n".join(line for name in order for line in top[name]) + "\n", item_openers


def _comments_above(lines: list[str], index: int) -> list[str]:
    above: list[str] = []
    while index > 0 and lines[index - 1].lstrip().startswith("#"):
        index -= 1
        above.insert(0, lines[index])
    return above


@pytest.mark.parametrize("seed", range(20))
def test_any_key_order_becomes_api_order_and_comments_follow_their_keys(seed: int) -> None:
    text, item_openers = _shuffled_file(random.Random(seed))
    result = format_text(text, f"shuffled-{seed}.yaml")

    assert yaml.safe_load(result) == yaml.safe_load(text)
    assert format_text(result, "again") == result
    keys = re.findall(r"^ *(?:- )?(\w+):", result, re.MULTILINE)
    assert [k for k in keys if k in ROOT_ORDER] == list(ROOT_ORDER)
    assert [k for k in keys if k in TARGET_ORDER] == list(TARGET_ORDER)
    assert [k for k in keys if k in REGISTRY_ORDER] == list(REGISTRY_ORDER) * 2
    assert result.count("# about") == text.count("# about")
    lines = result.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^( *)(- )?(\w+):", line)
        if not match or match.group(3) in ("version", "target", "registries"):
            continue
        indent, dash, name = match.groups()
        assert line.endswith(f"# beside {name}"), line
        above = _comments_above(lines, index)
        # each comment keeps to the line it described, at that line's indentation
        assert all(len(c) - len(c.lstrip()) == len(indent) for c in above), (above, line)
        if dash:
            assert above[0].strip() == "# about the item", (above, line)
        if name not in item_openers:
            assert f"{indent}# about {name}" in above, (above, line)


def test_order_matches_the_schema_so_editors_and_fmt_agree() -> None:
    schema = load_schema(CONFIG_SCHEMA)
    assert tuple(schema["properties"]) == ROOT_ORDER
    assert tuple(schema["properties"]["target"]["properties"]) == TARGET_ORDER
    assert tuple(schema["$defs"]["registry"]["properties"]) == REGISTRY_ORDER


def test_modeline_moves_to_the_first_line() -> None:
    text = QUICKSTART.read_text()
    lines = text.splitlines(keepends=True)
    moved = "".join([*lines[1:4], lines[0], *lines[4:]])
    assert format_text(moved, "f").splitlines()[0] == lines[0].rstrip("\n")


def test_indentation_is_two_spaces_with_list_items_under_their_key() -> None:
    quick = QUICKSTART.read_text()
    # 4-space mappings, list items 4 in: each level of indentation doubled
    four_spaces = re.sub(r"^ +", lambda m: " " * (2 * len(m.group(0)) - (2 if m.group(0) == "    " else 0)),
                         quick, flags=re.MULTILINE)
    flush_dashes = re.sub(r"^  (- |  )", r"\1", quick, flags=re.MULTILINE)
    assert four_spaces != quick and flush_dashes != quick
    assert yaml.safe_load(four_spaces) == yaml.safe_load(flush_dashes) == yaml.safe_load(quick)
    assert format_text(four_spaces, "f") == quick
    assert format_text(flush_dashes, "f") == quick


def test_block_secret_reference_becomes_inline_unless_that_would_swallow_a_comment() -> None:
    quick = QUICKSTART.read_text()
    block = quick.replace("registry_password: {env: HARBOR_PROD_PASSWORD}",
                          "registry_password:\n      env: HARBOR_PROD_PASSWORD")
    assert format_text(block, "f") == quick
    commented = quick.replace("registry_password: {env: HARBOR_PROD_PASSWORD}",
                              "registry_password:\n      env: HARBOR_PROD_PASSWORD  # from the vault")
    result = format_text(commented, "f")
    assert "      env: HARBOR_PROD_PASSWORD  # from the vault\n" in result
    assert yaml.safe_load(result) == yaml.safe_load(quick)


def test_crlf_bom_trailing_spaces_and_blank_runs_are_normalised() -> None:
    quick = QUICKSTART.read_text()
    noisy = "\n\n" + quick.replace("get_scan_image_channel: Swr\n", "get_scan_image_channel: Swr   \n\n\n")
    assert format_text(noisy.replace("\n", "\r\n"), "f") == quick


def test_anchors_and_merge_keys_keep_their_meaning() -> None:
    text = """\
version: 1
target:
  project_id: p
  region: r
registries:
  - &base
    registry_type: Harbor
    registry_name: a
    api_version: V2
    protocol: https
    registry_addr: x
    registry_username: u
    registry_password: {env: X}
    connect_cluster_id: &cluster c
    get_scan_image_channel: Swr
  - <<: *base
    registry_addr: y
    registry_name: b
    connect_cluster_id: *cluster
"""
    result = format_text(text, "f")
    assert yaml.safe_load(result) == yaml.safe_load(text)
    assert "  - &base\n    registry_name: a\n    registry_type: Harbor\n" in result
    assert "  - <<: *base\n    registry_name: b\n    registry_addr: y\n" in result


def test_invalid_file_is_refused_with_the_validation_error() -> None:
    with pytest.raises(ConfigProblems) as caught:
        format_text("version: 1\ntarget: {region: r}\nregistries: []\n", "bad.yaml")
    assert str(caught.value) == "bad.yaml:2:9: target: missing required field: project_id"


def test_a_layout_that_would_change_the_data_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import reconciler.fmt.format as fmt_format

    monkeypatch.setattr(fmt_format, "reorder_keys", lambda text: text.replace("harbor-prod", "other"))
    with pytest.raises(ReconcilerError, match="nothing was written"):
        format_text(QUICKSTART.read_text(), "quickstart")


# Comments inside flow collections: ruamel.yaml drops them, so `fmt` lifts them out and puts
# them back beside or above the entry they describe once the collection is in block style.
QUICK_TARGET = ('target:\n  region: ap-southeast-1\n  project_id: 0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c\n'
                '  enterprise_project_id: "0"\n')
QUICK_SECRET = "registry_password: {env: HARBOR_PROD_PASSWORD}"


def _quickstart_with(old: str, new: str) -> str:
    quick = QUICKSTART.read_text()
    assert old in quick
    return quick.replace(old, new)


def test_comment_after_the_brace_of_a_secret_reference_is_kept_beside_it() -> None:
    text = _quickstart_with(QUICK_SECRET, "registry_password: {  # c\n      env: PW}")
    assert format_text(text, "f") == _quickstart_with(QUICK_SECRET, "registry_password: {env: PW}  # c")


def test_comment_inside_a_flow_target_is_kept_beside_its_entry_in_block_style() -> None:
    text = _quickstart_with(QUICK_TARGET, "target: {\n  region: ap-southeast-1,  # the region\n"
                                          "  project_id: p1}\n")
    assert format_text(text, "f") == _quickstart_with(
        QUICK_TARGET, "target:\n  region: ap-southeast-1  # the region\n  project_id: p1\n")


FLOW_COMMENT_CASES = {
    "beside the last entry, before the brace": (
        QUICK_SECRET, "registry_password: {env: PW  # c\n      }",
        "    registry_password: {env: PW}  # c\n"),
    # a comment on a line of its own describes what follows: the reference has to be a block
    "on a line of its own in a secret reference": (
        QUICK_SECRET, "registry_password: {\n      # own line\n      env: PW}",
        "    registry_password:\n      # own line\n      env: PW\n"),
    "after the last entry of a secret reference": (
        QUICK_SECRET, "registry_password: {env: PW,\n      # trailing\n      }",
        "    registry_password:\n      env: PW\n    # trailing\n"),
    "beside the brace and after it": (
        QUICK_SECRET, "registry_password: {  # c1\n      env: PW}  # c3",
        "    # c1\n    registry_password: {env: PW} # c3\n"),
    "everywhere in a target, keys reordered": (
        QUICK_TARGET, "target: {  # open\n  # about project\n  project_id: p1,  # pid\n"
                      "  region: ap-southeast-1  # the region\n  # tail\n}  # after\n",
        "# open\ntarget: # after\n  region: ap-southeast-1  # the region\n  # about project\n"
        "  project_id: p1  # pid\n# tail\nregistries:\n"),
    "between key and value": (
        QUICK_TARGET, "target: {region:  # between\n   ap-southeast-1, project_id: p}\n",
        "target:\n  region: ap-southeast-1  # between\n  project_id: p\n"),
    "after a comma on a line of its own": (
        QUICK_TARGET, "target: {region: ap-southeast-1\n  ,  # comma line\n  project_id: p}\n",
        "target:\n  region: ap-southeast-1  # comma line\n  project_id: p\n"),
    "a `#` inside a scalar is not one": (
        QUICK_TARGET, "target: {region: ap-southeast-1, project_id: p#1,  # real\n  }\n",
        "target:\n  region: ap-southeast-1\n  project_id: p#1  # real\n"),
    "an empty list": (
        "registries:\n" + QUICKSTART.read_text().split("registries:\n")[1], "registries: [  # none yet\n]\n",
        "registries: []  # none yet\n"),
    "a whole flow list of registries": (
        "registries:\n" + QUICKSTART.read_text().split("registries:\n")[1],
        "registries: [  # open list\n"
        "  {registry_type: Harbor, registry_name: a, api_version: V2, protocol: https,  # proto\n"
        "   registry_addr: x, registry_username: u, registry_password: {env: X}, connect_cluster_id: c,\n"
        "   get_scan_image_channel: Swr},\n"
        "  # before second\n"
        "  {registry_name: b, registry_type: Harbor, api_version: V2, protocol: https,\n"
        "   registry_addr: x, registry_username: u, registry_password: {file: f}, connect_cluster_id: c,\n"
        "   get_scan_image_channel: Swr}\n]\n",
        "registries:  # open list\n  - registry_name: a\n    registry_type: Harbor\n    api_version: V2\n"
        "    protocol: https  # proto\n    registry_addr: x\n    registry_username: u\n"
        "    registry_password: {env: X}\n    connect_cluster_id: c\n    get_scan_image_channel: Swr\n"
        "  # before second\n  - registry_name: b\n"),
}


@pytest.mark.parametrize("case", FLOW_COMMENT_CASES)
def test_every_comment_in_a_flow_collection_is_kept_and_the_layout_is_stable(case: str) -> None:
    old, new, expected = FLOW_COMMENT_CASES[case]
    text = _quickstart_with(old, new)
    result = format_text(text, "f")
    assert expected in result, result
    comments = re.findall(r"(?<![\w'])# [\w ]+", new)
    assert comments
    assert all(result.count(comment) == 1 for comment in comments), (comments, result)
    assert yaml.safe_load(result) == yaml.safe_load(text)
    assert format_text(result, "again") == result


def test_a_whole_document_in_flow_style_keeps_its_comments() -> None:
    text = ("{  # open\n version: 1,  # v\n target: {region: r, project_id: p},\n"
            " # before registries\n registries: []}\n")
    result = format_text(text, "f")
    assert result == ("# open\nversion: 1  # v\ntarget:\n  region: r\n  project_id: p\n"
                      "# before registries\nregistries: []\n")
    assert yaml.safe_load(result) == yaml.safe_load(text)


def test_a_comment_inside_an_anchored_reference_stays_where_the_anchor_is_written() -> None:
    text = _quickstart_with(QUICK_SECRET, "registry_password: &pw {  # c\n      env: PW}").replace(
        "registry_password: {env: JFROG_PASSWORD}", "registry_password: *pw")
    result = format_text(text, "f")
    assert result == _quickstart_with(QUICK_SECRET, "registry_password: &pw {env: PW}  # c").replace(
        "registry_password: {env: JFROG_PASSWORD}", "registry_password: *pw")
    assert yaml.safe_load(result) == yaml.safe_load(text)
    assert format_text(result, "again") == result


def test_a_comment_beside_an_anchored_reference_shared_by_an_alias_is_aligned_once() -> None:
    # ruamel files the comment under the alias's key too; aligning it twice used to crash
    text = _quickstart_with(QUICK_SECRET, "registry_password: &pw {env: PW}  # c").replace(
        "registry_password: {env: JFROG_PASSWORD}", "registry_password: *pw")
    result = format_text(text, "f")
    assert result == text
    assert yaml.safe_load(result) == yaml.safe_load(text)


def test_a_flow_comment_that_cannot_be_placed_is_refused_at_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import reconciler.fmt.layout as fmt_layout

    monkeypatch.setattr(fmt_layout, "place_comments", lambda text, placements: text)
    text = "\n" + _quickstart_with(QUICK_SECRET, "registry_password: {  # c\n      env: PW}")
    with pytest.raises(ConfigProblems) as caught:
        format_text(text, "f.yaml")
    assert str(caught.value) == ("f.yaml:18:27: fmt cannot keep the comment inside this flow collection; "
                                 "write it in block style")


def test_any_other_lost_comment_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever step loses a comment (ruamel once dropped those after `...`), the comparison of
    # comments catches it and nothing is written.
    import reconciler.fmt.format as fmt_format

    text = QUICKSTART.read_text() + "# after the document\n"
    tidy = fmt_format.tidy
    monkeypatch.setattr(fmt_format, "tidy", lambda t: tidy(t).replace("# after the document\n", ""))
    with pytest.raises(ConfigProblems) as caught:
        format_text(text, "f.yaml")
    line = text.count("\n")
    assert str(caught.value) == (f"f.yaml:{line}:1: fmt cannot keep this comment; nothing was written. "
                                 "Please report it")


def test_a_file_fmt_cannot_write_is_left_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "registries.yaml"
    path.write_text("old\n")

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ReconcilerError, match=r"registries\.yaml: cannot write the formatted file: No space"):
        write_atomically(path, "new\n")
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["registries.yaml"]


def test_a_file_that_is_not_utf8_is_located_as_validate_locates_it(tmp_path: Path) -> None:
    path = tmp_path / "registries.yaml"
    path.write_bytes(b"version: 1\nregistries: \xff\n")
    with pytest.raises(ConfigProblems) as caught:
        format_file(path)
    assert str(caught.value) == f"{path}:2:13: file is not valid UTF-8"
