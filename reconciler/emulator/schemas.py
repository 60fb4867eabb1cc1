"""Find the JSON schemas whether installed from a wheel or run from a checkout.

The wheel carries ``schemas/`` inside the package (pyproject force-include);
an editable install or a plain checkout has it beside the package instead.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import reconciler

API_SCHEMA = "hss-api.schema.json"


def schema_text(name: str) -> str:
    packaged = resources.files("reconciler") / "schemas" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(reconciler.__file__).parent.parent / "schemas" / name).read_text(encoding="utf-8")


@cache
def load_schema(name: str = API_SCHEMA) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded
