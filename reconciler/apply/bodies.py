"""AddRegistry and UpdateRegistry request bodies, built at the last moment."""

from __future__ import annotations

from typing import Any

from reconciler.config.model import DesiredRegistry
from reconciler.registry import NOT_UPDATABLE
from reconciler.secrets import Secret


def add_body(registry: DesiredRegistry, password: Secret) -> dict[str, Any]:
    return {**registry.attributes, "registry_password": password}


def update_body(registry: DesiredRegistry, password: Secret | None) -> dict[str, Any]:
    """Every updatable field, so HSS ends up exactly as declared, not just the diff."""
    body: dict[str, Any] = {k: v for k, v in registry.attributes.items() if k not in NOT_UPDATABLE}
    if password is not None:
        body["registry_password"] = password
    return body
