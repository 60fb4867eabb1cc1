"""The plan for machines: the document of reconciler.plan.document, as stable JSON text.

Keys are sorted and the indentation fixed, so two runs over the same inputs
print byte-identical output that diffs and hashes cleanly (a reviewer's CI can
pin what was reviewed). The order of `changes` is kept: it is the apply order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.plan.document import plan_to_document
from reconciler.plan.model import Plan


def render_plan_json(plan: Plan, meta: Mapping[str, Any] | None = None) -> str:
    """The plan as JSON following schemas/plan.schema.json (no trailing newline)."""
    return json.dumps(plan_to_document(plan, meta), indent=2, sort_keys=True, ensure_ascii=False)
