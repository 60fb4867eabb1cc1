"""`schema`: print the registry file JSON Schema, so a user can save it where an editor finds it.

It prints the copy packaged with this version, so the schema always matches
what `validate` checks.
"""

from __future__ import annotations

import argparse

from reconciler.cli.output import Output
from reconciler.schema import CONFIG_SCHEMA, schema_text


def run(args: argparse.Namespace, out: Output) -> int:
    out.print(schema_text(CONFIG_SCHEMA).rstrip("\n"))
    return 0
