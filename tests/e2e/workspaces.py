"""Builders for end-to-end tests: registry files on disk and direct calls to the emulator.

Tests change HSS "behind the tool's back" through the emulator's own API, the
way a colleague clicking in the console would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.e2e.conftest import Hss, Result, run_cli

PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"
REGION = "ap-southeast-1"
TARGET = f"{REGION}/{PROJECT}/0"
CLUSTER = "6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f"
PASSWORD_ENV = "REGISTRY_PASSWORD"
PASSWORD = "Canary-Passw0rd-7f3e9a"


def registry(name: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "registry_name": name, "registry_type": "Harbor", "api_version": "V2", "protocol": "https",
        "registry_addr": f"{name}.example.com", "registry_username": "robot-hss",
        "registry_password": {"env": PASSWORD_ENV}, "connect_cluster_id": CLUSTER,
        "get_scan_image_channel": "Swr",
    }
    body.update(fields)
    return body


def write_workspace(directory: Path, registries: list[dict[str, Any]], *, project: str = PROJECT,
                    filename: str = "registries.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    document = {"version": 1, "target": {"region": REGION, "project_id": project,
                                          "enterprise_project_id": "0"},
                "registries": registries}
    (directory / filename).write_text(yaml.safe_dump(document, sort_keys=False))
    return directory


@dataclass
class Api:
    """The emulator's HSS API and control endpoint, called directly."""

    hss: Hss
    project: str = PROJECT

    @property
    def _base(self) -> str:
        return f"{self.hss.server.url}/v5/{self.project}/image/registries"

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = httpx.request(method, url, headers={"X-Auth-Token": self.hss.token}, **kwargs)
        response.raise_for_status()
        return response

    def list(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._call("GET", self._base, params={"limit": 200}).json()["data_list"]
        return items

    def by_name(self) -> dict[str, dict[str, Any]]:
        return {item["registry_name"]: item for item in self.list()}

    def add(self, name: str, **fields: Any) -> str:
        body = registry(name, **fields)
        body["registry_password"] = "unmanaged-secret"
        self._call("POST", self._base, json=body)
        return str(self.by_name()[name]["id"])

    def add_many(self, bodies: list[dict[str, Any]]) -> None:
        """Many registries made by hand at once (`registry(name, ...)` bodies), on one connection:
        a client per call costs a TLS context each, ~70 ms."""
        with httpx.Client(headers={"X-Auth-Token": self.hss.token}) as client:
            for body in bodies:
                client.post(self._base, json={**body, "registry_password": "unmanaged-secret"}
                            ).raise_for_status()

    def update(self, registry_id: str, **fields: Any) -> None:
        self._call("PUT", f"{self._base}/{registry_id}", json={**fields, "registry_password": "x-secret"})

    def delete(self, registry_id: str) -> None:
        self._call("DELETE", f"{self._base}/{registry_id}")

    def fail(self, registry_id: str, reason: str = "REQUEST_API_ERROR") -> None:
        self._call("POST", f"{self.hss.server.url}/_emulator/registries/{registry_id}/fail",
                   json={"fail_reason": reason})

    def configure(self, **settings: Any) -> None:
        self._call("POST", f"{self.hss.server.url}/_emulator/config", json=settings)

    def stats(self) -> dict[str, Any]:
        """What the emulator has served since it started or was reset: requests by operation."""
        answer: dict[str, Any] = self._call("GET", f"{self.hss.server.url}/_emulator/stats").json()
        return answer


def env_for(hss: Hss, **extra: str) -> dict[str, str]:
    return {**hss.env(), PASSWORD_ENV: PASSWORD, **extra}


def cli(hss: Hss, *args: str, **extra_env: str) -> Result:
    return run_cli(*args, env=env_for(hss, **extra_env))


def state_of(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / "hss-reconciler.state.json").read_text())
    return data
