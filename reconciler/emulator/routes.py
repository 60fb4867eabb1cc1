"""Which HSS operation a method and raw path name (APIG's job in front of HSS)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

ADD = "AddRegistry"
LIST = "ListRegistry"
UPDATE = "UpdateRegistry"
DELETE = "DeleteRegistry"
BATCH_DELETE = "BatchDeleteRegistry"
UPLOAD_COMMAND = "ShowImageUploadCommand"


@dataclass(frozen=True)
class Route:
    operation: str
    project_id: str
    registry_id: str | None = None


def match(method: str, raw_path: str) -> Route | None:
    """None when no operation has this method and path (APIG answers 404 then)."""
    parts = raw_path.split("/")
    if len(parts) < 5 or parts[0] or parts[1] != "v5" or parts[3:5] != ["image", "registries"]:
        return None
    project_id, rest = unquote(parts[2]), parts[5:]
    if not rest:
        operation = {"GET": LIST, "POST": ADD}.get(method)
        return Route(operation, project_id) if operation else None
    if len(rest) != 1:
        return None
    if method == "POST" and rest[0] == "batch-delete":
        return Route(BATCH_DELETE, project_id)
    if method == "GET" and rest[0] == "image-upload-command":
        return Route(UPLOAD_COMMAND, project_id)
    operation = {"PUT": UPDATE, "DELETE": DELETE}.get(method)
    return Route(operation, project_id, unquote(rest[0])) if operation else None
