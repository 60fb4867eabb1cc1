"""One HssClient per target, sharing one connection pool."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from reconciler.config.model import TargetConfig
from reconciler.hss.client import HssClient
from reconciler.registry import TargetKey


def clients_for(targets: Iterable[TargetConfig], http: httpx.Client) -> dict[TargetKey, HssClient]:
    return {
        t.key: HssClient(http, t.endpoint, t.key.project_id, t.key.enterprise_project_id)
        for t in targets
    }
