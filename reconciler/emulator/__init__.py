"""A faithful local HSS image-registry service, for tests and demos.

It speaks the HSS v5 wire format (paths, JSON bodies, error bodies,
X-Request-Id), checks IAM tokens and SDK-HMAC-SHA256 signatures, enforces the
documented ranges from schemas/hss-api.schema.json, and can inject latency,
errors, throttling and dropped connections. It imports nothing from the
reconciler engine except the shared signer.
"""

from __future__ import annotations

from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer"]
