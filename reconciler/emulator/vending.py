"""The credential services the emulator also plays, on its own port: which path is whose.

IAM's ID-token exchange and security-token call (``iam.py``), STS's
AssumeAgencyWithOIDC (``sts.py``), the ECS metadata
service and a CCE pod identity agent (``instance.py``). They answer before
HSS's routes and outside its auth, rate limit and faults, as they are other
services; each checks its own callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.emulator import iam, instance, sts
from reconciler.emulator.answer import Answer


def handles(raw_path: str) -> bool:
    return raw_path in iam.PATHS or raw_path in sts.PATHS or raw_path in instance.PATHS


def handle(app: Any, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """The answer of whichever service owns ``raw_path`` (``handles`` said one does)."""
    lower = {name.lower(): value for name, value in headers.items()}
    if raw_path in iam.PATHS:
        return iam.handle(app, method, raw_path, lower, body)
    if raw_path in sts.PATHS:
        return sts.handle(app, method, raw_path, lower, body)
    return instance.handle(app, method, raw_path, lower, body)
