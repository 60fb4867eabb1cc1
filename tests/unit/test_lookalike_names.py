"""Issue 15: two registry names a reviewer cannot tell apart are one name declared twice.

The skeleton (reconciler/config/lookalikes.py) folds NFKC forms, hidden
characters and the common Cyrillic, Greek and Armenian look-alikes of Latin
letters; names keep their case. The workspace reports a collision like a
duplicate: located at the second, naming the first's file and line, with both
names escaped so the difference shows.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from reconciler.config import workspace
from reconciler.config.lookalikes import HOMOGLYPHS, shown, skeleton, why_alike
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.workspace import load_workspace
from tests.unit.test_config_workspace import file_yaml, write

TARGET = "ap-southeast-1/0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c/0"

ALIKE = {
    "zero-width space": ("harbor", "harbor\u200b"),
    "NFC and NFD": ("caf\u00e9", "cafe\u0301"),
    "Cyrillic a": ("harbor", "h\u0430rbor"),
    "Cyrillic capitals": ("HARBOR-PROD", "\u041d\u0410RB\u041eR-PR\u041eD"),
    "Greek capitals": ("HARBOR", "\u0397\u0391RBOR"),
    "Greek omicron": ("jfrog-build", "jfr\u03bfg-build"),
    "Armenian o": ("proxy", "pr\u0585xy"),
    "fullwidth letters": ("harbor", "\uff48\uff41\uff52\uff42\uff4f\uff52"),
    "ligature": ("office", "o\ufb03ce"),
    "soft hyphen": ("harbor-prod", "harbor-\u00adprod"),
    "bidi mark": ("harbor", "harbor\u200f"),
    "Cyrillic e with diaeresis (composed)": ("r\u00ebg", "r\u0451g"),
}
DIFFERENT = {
    "case": ("harbor", "Harbor"),
    "accent": ("cafe", "caf\u00e9"),
    "digit and letter": ("harbor-1", "harbor-l"),
    "another script, not a look-alike": ("registry", "\u955c\u50cf\u4ed3\u5e93"),
}


@pytest.mark.parametrize(("name", "other"), list(ALIKE.values()), ids=list(ALIKE))
def test_look_alike_names_share_a_skeleton(name: str, other: str) -> None:
    assert name != other
    assert skeleton(name) == skeleton(other)


@pytest.mark.parametrize(("name", "other"), list(DIFFERENT.values()), ids=list(DIFFERENT))
def test_visibly_different_names_keep_different_skeletons(name: str, other: str) -> None:
    assert skeleton(name) != skeleton(other)


def test_an_ascii_name_is_its_own_skeleton() -> None:
    assert skeleton("harbor-prod_01.example") == "harbor-prod_01.example"


def test_the_homoglyph_table_maps_letters_of_other_scripts_to_one_ascii_letter() -> None:
    for char, latin in HOMOGLYPHS.items():
        name = unicodedata.name(char)
        assert name.split()[0] in ("CYRILLIC", "GREEK", "ARMENIAN", "LATIN"), name
        assert len(latin) == 1 and latin.isascii() and latin.isalpha(), name
        assert unicodedata.normalize("NFKC", char) == char, f"{name}: NFKC would fold it already"


def test_the_reason_names_the_code_point_and_never_prints_it_raw() -> None:
    reason = why_alike("h\u0430rbor", "harbor")
    assert reason == 'a look-alike: U+0430 CYRILLIC SMALL LETTER A looks like "a"'
    assert why_alike("cafe\u0301", "caf\u00e9") == "the same name after Unicode NFKC normalisation"
    assert why_alike("harbor\u200b", "harbor") == "a look-alike: U+200B ZERO WIDTH SPACE is invisible"
    assert shown("h\u0430rbor\u202e") == '"h\\u0430rbor\\u202e"'


def _problems(paths: list[Path]) -> list[Problem]:
    with pytest.raises(ConfigProblems) as caught:
        load_workspace(paths, {})
    return caught.value.problems


def test_a_cyrillic_look_alike_in_another_file_is_a_duplicate_naming_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", file_yaml("harbor"))
    write(tmp_path, "b.yaml", file_yaml('"h\\u0430rbor"'))
    problems = _problems([tmp_path])
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yaml'}:7:20: registries[0].registry_name: registry \"h\\u0430rbor\" is declared "
        f"twice in target {TARGET}: here and at {tmp_path / 'a.yaml'}:7 as \"harbor\", a look-alike: "
        "U+0430 CYRILLIC SMALL LETTER A looks like \"a\""]


def test_nfc_and_nfd_spellings_in_one_file_are_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", file_yaml('"caf\\u00e9"', '"cafe\\u0301"'))
    [problem] = _problems([path])
    assert problem.line == 16 and problem.path == "registries[1].registry_name"
    assert problem.message == (f'registry "cafe\\u0301" is declared twice in target {TARGET}: here and at '
                               f'{path}:7 as "caf\\u00e9", the same name after Unicode NFKC normalisation')


def test_an_invisible_difference_is_a_duplicate_even_past_the_schema(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The schema refuses a zero-width space in a name first; the skeleton does not rely on that.
    monkeypatch.setattr(workspace, "validate_document", lambda doc: [])
    path = write(tmp_path, "a.yaml", file_yaml("harbor", '"harbor\\u200b"'))
    [problem] = _problems([path])
    assert problem.message.endswith('as "harbor", a look-alike: U+200B ZERO WIDTH SPACE is invisible')
    assert "\u200b" not in str(problem)


def test_look_alikes_in_different_targets_are_two_registries(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", file_yaml("harbor"))
    write(tmp_path, "b.yaml", file_yaml('"h\\u0430rbor"', region="eu-west-101"))
    desired = load_workspace([tmp_path], {})
    assert sorted(r.name for r in desired.registries.values()) == ["harbor", "h\u0430rbor"]


def test_a_name_in_another_script_alone_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", file_yaml('"\\u955c\\u50cf-\\u0440\\u0435\\u0435\\u0441\\u0442\\u0440"',
                                               "harbor"))
    assert len(load_workspace([path], {}).registries) == 2


def test_an_exact_duplicate_keeps_its_own_message(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", file_yaml("harbor", "harbor"))
    [problem] = _problems([path])
    assert problem.message == f"registry 'harbor' is declared twice in target {TARGET}: here and at {path}:7"
