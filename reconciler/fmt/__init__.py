"""`fmt`: registry files in one canonical layout, comments kept.

Reviewers read registry files in pull requests; one layout (keys in the order
the HSS API documents them, 2-space block style, list items indented under
their key) makes every diff about content, not style. The pipeline:

1. refuse a file that does not validate (formatting must never hide an error);
2. `layout`: ruamel.yaml round trip for indentation and block style, because it
   is the only YAML library that keeps comments (`comments` keeps the ones it
   drops: those inside flow collections, `{...}` and `[...]`);
3. `order`: keys put in API order by moving whole lines, so each comment moves
   with the key it sits above or beside;
4. `layout.tidy`: comments aligned with the line they describe, blank-line runs
   collapsed, the yaml-language-server `$schema` line first;
5. the result must load to exactly the same data and hold every comment of the
   file, or nothing is written (a comment fmt cannot keep is an error, never a
   silent loss that `fmt --check` would then pass).
"""

from __future__ import annotations

from reconciler.fmt.format import FormatResult, format_file, format_text

__all__ = ["FormatResult", "format_file", "format_text"]
