"""The six HSS image-registry operations, on validated input.

Each operation checks path, then query, then body against the wire schema and
only then touches the store, so a rejected request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.emulator import routes, validation
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.auth import ReceivedRequest
from reconciler.emulator.routes import Route
from reconciler.emulator.store import Scope

SCANNER_IMAGE = "hss-scanner:latest"
SCANNER_ARCHIVE = "hss-scanner.tar"
IMAGES_DOWNLOAD_URL = "https://hss-emulator.invalid/image/hss-scanner.zip"
SWR_IMAGE = f"swr.emulator.invalid/hss/{SCANNER_IMAGE}"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None  # None: an empty body, as AddRegistry answers


def _scope(route: Route, request: ReceivedRequest, query_def: str = "ScopeQuery") -> tuple[
    Scope, dict[str, Any]
]:
    path: dict[str, str] = {"project_id": route.project_id}
    if route.registry_id is not None:
        path["id"] = route.registry_id
    validation.check("RegistryPath" if "id" in path else "ProjectPath", path, where="path")
    query = validation.parse_query(request.query, query_def)
    return Scope(route.project_id, query["enterprise_project_id"]), query


def add_registry(app: EmulatorApp, route: Route, request: ReceivedRequest) -> Reply:
    scope, _ = _scope(route, request)
    body = validation.parse_body(request.body, "AddRegistryBody")
    app.store.add(scope, body, app.config)
    return Reply()


def list_registry(app: EmulatorApp, route: Route, request: ReceivedRequest) -> Reply:
    scope, query = _scope(route, request, "ListRegistryQuery")
    page, total = app.store.query(scope, query, query["offset"], query["limit"], app.config)
    return Reply(body={"data_list": page, "total_num": total})


def _namespace_rule(registry: Mapping[str, str]) -> None:
    validation.check("NamespaceRule", dict(registry))


def update_registry(app: EmulatorApp, route: Route, request: ReceivedRequest) -> Reply:
    scope, _ = _scope(route, request)
    body = validation.parse_body(request.body, "UpdateRegistryBody")
    assert route.registry_id is not None  # the route has one
    app.store.update(scope, route.registry_id, body, app.config, _namespace_rule)
    return Reply()


def delete_registry(app: EmulatorApp, route: Route, request: ReceivedRequest) -> Reply:
    scope, _ = _scope(route, request)
    assert route.registry_id is not None
    app.store.delete(scope, [route.registry_id])
    return Reply()


def batch_delete_registry(app: EmulatorApp, route: Route, request: ReceivedRequest) -> Reply:
    scope, _ = _scope(route, request)
    body = validation.parse_body(request.body, "BatchDeleteBody")
    app.store.delete(scope, body["ids"])
    return Reply()


def show_image_upload_command(app: EmulatorApp, route: Route, request: ReceivedRequest) -> Reply:
    _, query = _scope(route, request, "ImageUploadCommandQuery")
    addr, namespace, username = query["registry_addr"], query["namespace"], query["username"]
    # The password is required but never echoed: the command reads it from stdin.
    # A shell variable keeps the longest inputs within the documented 1024 characters.
    image_command = (
        f"IMAGE={addr}/{namespace}/{SCANNER_IMAGE} && "
        f"docker login -u {username} --password-stdin {addr} && "
        f"docker load -i {SCANNER_ARCHIVE} && "
        f'docker tag {SCANNER_IMAGE} "$IMAGE" && docker push "$IMAGE"'
    )
    return Reply(
        body={
            "image_command": image_command,
            "images_download_url": IMAGES_DOWNLOAD_URL,
            "swr_image_pull_command": f"docker pull {SWR_IMAGE}",
        }
    )


Operation = Callable[[EmulatorApp, Route, ReceivedRequest], Reply]

OPERATIONS: dict[str, Operation] = {
    routes.ADD: add_registry,
    routes.LIST: list_registry,
    routes.UPDATE: update_registry,
    routes.DELETE: delete_registry,
    routes.BATCH_DELETE: batch_delete_registry,
    routes.UPLOAD_COMMAND: show_image_upload_command,
}
