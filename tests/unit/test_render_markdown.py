"""`--format markdown`: a pull-request comment that fits GitHub's limit and that foreign text cannot break."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.plan.model import Action, Change, Drift, LiveStatus, Plan, UnsafeTarget
from reconciler.registry import TargetKey
from reconciler.render.colors import Palette
from reconciler.render.markdown import (
    GITHUB_COMMENT_LIMIT,
    code,
    comment_length,
    one_line,
    prose,
    render_plan_markdown,
)
from reconciler.render.text import render_plan
from tests.unit.test_plan_document import TARGET, attributes, desired_after, realistic_plan

FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def fenced_regions(markdown: str) -> list[tuple[int, int]]:
    """(open, close) line indexes of each fenced code block, as a CommonMark parser finds them."""
    lines = markdown.split("\n")
    regions, i = [], 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group(1)
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = next((k for k in range(i + 1, len(lines)) if closing.match(lines[k])), len(lines))
        regions.append((i, j))
        i = j + 1
    return regions


def outside_fences(markdown: str) -> list[str]:
    lines = markdown.split("\n")
    inside = {k for start, end in fenced_regions(markdown) for k in range(start, end + 1)}
    return [line for k, line in enumerate(lines) if k not in inside]


def assert_well_formed(markdown: str) -> None:
    """One diff fence, inside one details block, and no markup of anyone else's outside them."""
    lines = markdown.split("\n")
    regions = fenced_regions(markdown)
    assert len(regions) == 1
    start, end = regions[0]
    assert lines[start - 2].startswith("<details><summary>") and lines[start].endswith("diff")
    assert lines[end + 2] == "</details>" and end < len(lines)
    for line in lines[start + 1:end]:
        assert line == "" or line.startswith(("# ", "+ ", "- ", "! ", "-/+ ", "<= ", "      ", "  }")), line
    outside = outside_fences(markdown)
    assert [line for line in outside if line.startswith("<")] == [lines[start - 2], "</details>"]
    for line in outside:
        plain = CODE_SPAN.sub("", line)
        plain = plain.replace("<details><summary>", "").replace("</summary>", "").replace("</details>", "")
        assert not re.search(r"(?<!\\)[<`]", plain), line


def test_headline_counts_warning_and_details(tmp_path: Path) -> None:
    markdown = render_plan_markdown(realistic_plan(tmp_path))
    lines = markdown.split("\n")
    assert lines[0] == ("### hss-reconciler plan: 1 to import, 1 to move, 2 to add, 3 to change, "
                        "2 to destroy, 1 to forget")
    assert "> [!WARNING]\n> This plan **destroys 2 registries** in HSS:" in markdown
    assert f"> - `{TARGET}/rep` (replaced: deleted, then created again)" in markdown
    assert "<details><summary>Show 8 changes</summary>" in markdown
    assert f"**Changed outside hss-reconciler** since the last apply (1 field):\n\n- `{TARGET}/upd`: " \
           '`registry_username` `"robot"` → `"changed-by-hand"`' in markdown
    assert f"- `{TARGET}/rotated`: status `fail`, `REQUEST_API_ERROR`" in markdown
    assert "1 registry in HSS is not managed by hss-reconciler (left untouched)." in markdown
    assert_well_formed(markdown)


def test_diff_lines_per_action(tmp_path: Path) -> None:
    markdown = render_plan_markdown(realistic_plan(tmp_path))
    for line in ['+ registry "new-one" {', '+     registry_password      = (sensitive)',
                 '-/+ registry "rep" {',
                 '!     registry_type          = "Harbor" -> "Jfrog"  # forces replacement',
                 '! registry "upd" {', '!     protocol               = "https" -> "http"',
                 '!     registry_password      = (sensitive) (re-sent: password_version 1 -> 2)',
                 '- registry "deleted" {', '-     registry_addr          = "deleted.example.com"',
                 '<= registry "adopted" {', f'# {TARGET}/vanished will be removed from the state only '
                 '(left in HSS)', '# (HSS access status: fail, REQUEST_API_ERROR)']:
        assert line in markdown.split("\n"), line
    assert "PW_NEW_ONE" not in markdown  # the password is shown as (sensitive), even its reference


def test_updated_lines_start_with_the_mark_github_colours_and_the_text_output_keeps_tilde(
        tmp_path: Path) -> None:
    plan = realistic_plan(tmp_path)
    fenced = [line for line in render_plan_markdown(plan).split("\n") if line.startswith(("!", "~"))]
    text = [line.strip() for line in render_plan(plan, Palette(False)).split("\n")]
    # GitHub's diff grammar colours a line starting with "!" (as "changed"), and none starting with "~".
    assert fenced and all(line.startswith("! ") for line in fenced), fenced
    assert '! registry "upd" {' in fenced and '~ registry "upd" {' in text
    assert '~ protocol               = "https" -> "http"' in text
    assert not [line for line in text if line.startswith("! ")]


def test_the_brief_example_headline_and_no_warning_without_destroys() -> None:
    creates = [Change(Action.CREATE, TARGET, f"r{i}", after=desired_after(f"r{i}"), send_password=True)
               for i in range(2)]
    update = Change(Action.UPDATE, TARGET, "u", "id-u", attributes("u"),
                    desired_after("u", protocol="http"), ("protocol",), send_password=True)
    delete = Change(Action.DELETE, TARGET, "d", "id-d", attributes("d"))
    assert render_plan_markdown(Plan([*creates, update, delete])).split("\n")[0] == \
        "### hss-reconciler plan: 2 to add, 1 to change, 1 to destroy"
    only_creates = render_plan_markdown(Plan(creates))
    assert "[!WARNING]" not in only_creates and "destroy" not in only_creates.split("\n", 1)[1]
    replace = Change(Action.REPLACE, TARGET, "x", "id-x", attributes("x"),
                     desired_after("x", registry_type="Jfrog"), ("registry_type",), send_password=True)
    assert "> This plan **destroys 1 registry** in HSS:" in render_plan_markdown(Plan([replace]))


def test_safety_flag_partial_refresh_and_warnings_are_called_out() -> None:
    plan = Plan([Change(Action.DELETE, TARGET, "d", "id-d", attributes("d"))], partial=True, refreshed=False,
                warnings=["protocol http sends the password unencrypted"],
                unsafe_targets=[UnsafeTarget(TARGET, 4, 10, 0.30)])
    markdown = render_plan_markdown(plan)
    assert "> [!CAUTION]\n> **Flagged as unsafe**: `apply` refuses this plan unless `--force`." in markdown
    assert "> - ap-southeast-1/0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c/0\\: deletes or replaces 4 of 10" in markdown
    assert "Resource targeting is in effect (`--target`)" in markdown
    assert "Planned from the state file only (`--refresh=false`)" in markdown
    assert "**Warnings:**\n\n- protocol http sends the password unencrypted" in markdown


def test_no_changes() -> None:
    markdown = render_plan_markdown(Plan(unmanaged=2))
    assert markdown.split("\n")[0] == "### hss-reconciler plan: no changes"
    assert "Your registries match the configuration." in markdown
    assert "2 registries in HSS are not managed" in markdown
    assert "<details>" not in markdown


def _many(count: int, name: str = "registry-{i:05d}") -> Plan:
    return Plan([Change(Action.CREATE, TARGET, name.format(i=i), after=desired_after(name.format(i=i)),
                        send_password=True) for i in range(count)])


def test_3000_changes_fit_githubs_comment_limit_with_a_note() -> None:
    markdown = render_plan_markdown(_many(3000))
    assert len(markdown) <= GITHUB_COMMENT_LIMIT and comment_length(markdown) <= GITHUB_COMMENT_LIMIT
    assert len(markdown) > GITHUB_COMMENT_LIMIT - 2_000  # filled, not cut short
    shown = sum(1 for line in markdown.split("\n") if line.startswith('+ registry "'))
    assert 0 < shown < 3000
    assert markdown.split("\n")[0] == "### hss-reconciler plan: 3,000 to add, 0 to change, 0 to destroy"
    assert f"<details><summary>Show the first {shown:,} of 3,000 changes</summary>" in markdown
    assert markdown.endswith(f"> **{3000 - shown:,} of 3,000 changes are not shown**: the comment would pass "
                             "GitHub's 65,536-character limit. To see every change, save the plan with "
                             "`hss-reconciler plan -out plan.json` and run `hss-reconciler show plan.json`.")
    assert_well_formed(markdown)


def test_the_limit_counts_utf16_units_and_names_the_plan_file() -> None:
    rockets = "\U0001f680" * 40  # one character, two UTF-16 units each
    markdown = render_plan_markdown(_many(400, rockets + "-{i:05d}"), plan_file="out/plan.json", limit=20_000)
    utf16_units = len(markdown.encode("utf-16-le")) // 2
    assert 18_000 < utf16_units <= 20_000
    assert markdown.endswith("To see every change, run `hss-reconciler show out/plan.json`.")
    assert_well_formed(markdown)


def test_a_plan_that_fits_is_not_truncated() -> None:
    markdown = render_plan_markdown(_many(50))
    assert "<details><summary>Show 50 changes</summary>" in markdown
    assert "not shown" not in markdown
    assert sum(1 for line in markdown.split("\n") if line.startswith('+ registry "')) == 50


BREAKOUT = "x```\n</details>\n\n<script>alert(1)</script>\n```\n# owned"


def test_foreign_text_cannot_leave_the_fence_or_the_details_block() -> None:
    plan = Plan(
        [Change(Action.CREATE, TARGET, BREAKOUT, after=desired_after("a", registry_addr=BREAKOUT),
                send_password=True),
         Change(Action.DELETE, TARGET, "````", "id`", attributes("d", namespace="```` ~~~"),
                reason=BREAKOUT)],
        drift=[Drift(f"{TARGET}/{BREAKOUT}", "namespace", "`", BREAKOUT)],
        statuses=[LiveStatus(f"{TARGET}/````", "fail", BREAKOUT)],
        warnings=[f"<img src=x onerror=alert(1)> @everyone [click](http://evil) {BREAKOUT}"],
        unsafe_targets=[UnsafeTarget(TargetKey(BREAKOUT, "p"), 4, 10, 0.30)],
    )
    markdown = render_plan_markdown(plan)
    assert_well_formed(markdown)
    assert "<script>" not in "\n".join(CODE_SPAN.sub("", line) for line in outside_fences(markdown))
    assert "\\<img src=x onerror=alert(1)\\> \\@everyone \\[click\\](http\\://evil)" in markdown
    addr = '"x```\\n</details>\\n\\n<script>alert(1)</script>\\n```\\n# owned"'
    assert f"+     registry_addr          = {addr}" in markdown
    assert markdown.split("\n").count("</details>") == 1


def test_escaping_helpers() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    assert code("a\nb") == "`a\\nb`"
    assert one_line("r\u202egnp.exe\x00") == "r\\u202egnp.exe\\u0000"
    assert prose("*bold* <b> a_b") == "\\*bold\\* \\<b\\> a\\_b"
    assert code("x" * 1000).count("x") < 400  # long foreign text is clipped
