"""The test-only control endpoint under /_emulator/ (not part of HSS).

It needs no credentials: the emulator listens on loopback only unless told
otherwise, and tests must be able to steer it without signing. It is never
subject to injected faults.

    GET  /_emulator/stats                   counters, registries count, peak concurrency
    GET  /_emulator/config                  the runtime settings
    POST /_emulator/config                  {"error_rate": 0.5, ...} change them
    POST /_emulator/reset                   back to the state at start
    POST /_emulator/registries/{id}/fail    force a registry to fail, body optional:
                                            {"fail_reason": "CREATE_JOB_FAILED"}
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator import validation
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.errors import CONTROL_ERROR, CONTROL_NOT_FOUND, ApiFailure
from reconciler.emulator.store import UNREACHABLE_REASON

PREFIX = "/_emulator"


def handle(app: EmulatorApp, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    parts = path[len(PREFIX) :].strip("/").split("/")
    if method == "GET" and parts == ["stats"]:
        return 200, {**app.stats.snapshot(), "registries": app.store.count()}
    if method == "GET" and parts == ["config"]:
        return 200, app.config.runtime_view()
    if method == "POST" and parts == ["config"]:
        try:
            return 200, app.reconfigure(_object(body)).runtime_view()
        except (TypeError, ValueError) as error:
            raise ApiFailure(400, CONTROL_ERROR, str(error)) from None
    if method == "POST" and parts == ["reset"]:
        app.reset()
        return 200, {"reset": True}
    if method == "POST" and len(parts) == 3 and parts[0] == "registries" and parts[2] == "fail":
        reason = _object(body).get("fail_reason", UNREACHABLE_REASON)
        validation.check("fail_reason", reason, where="fail_reason")
        if not app.store.force_fail(parts[1], reason):
            raise ApiFailure(404, CONTROL_NOT_FOUND, f"registry not found: {parts[1]}")
        return 200, {"id": parts[1], "status": "fail", "fail_reason": reason}
    raise ApiFailure(404, CONTROL_NOT_FOUND, f"no control operation {method} {path}")


def _object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise ApiFailure(400, CONTROL_ERROR, "request body: is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiFailure(400, CONTROL_ERROR, "request body: must be a JSON object")
    return data
