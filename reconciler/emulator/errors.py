"""The error answers the emulator gives, and the codes it chose.

HSS and its API gateway (APIG) answer errors as JSON ``{"error_code",
"error_msg"}`` with an ``X-Request-Id`` header. The codes below follow the
public APIG error table and HSS conventions where those are documented; where
they are not (duplicate name, quota), the emulator picks a code in the HSS
range and this module is the one place that says so. Searched for issue 16.7:
the part of HSS's error-code table we could read
(https://support.huaweicloud.com/intl/en-us/api-hss2.0/ErrorCode.html, HSS.0001
to HSS.1021) has no code for a duplicate registry name or a registry count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# HSS (backend) codes, all HTTP 400 like the real service's validation errors.
INVALID_PARAMETER = "HSS.0001"  # a body, path or query value out of its documented range
NOT_FOUND = "HSS.0011"  # the real API's convention for an unknown id: 400, not 404
# invented: HSS.1064 and HSS.1065 are in no HSS document we found. The real service's
# answer to a duplicate registry_name or a full project is undocumented; HSS.1002
# ("Available quotas are insufficient") is the protection quota, not a registry count.
DUPLICATE_NAME = "HSS.1064"  # invented: registry_name already used in this project/enterprise project
QUOTA_EXCEEDED = "HSS.1065"  # invented: more than max_registries_per_project registries

# Gateway (APIG) codes, from the public APIG error table.
API_NOT_FOUND = "APIG.0101"  # 404: no such path, or no such method on it
BAD_REQUEST = "APIG.0201"  # 413 (body too large); 500 (injected backend error)
BACKEND_UNAVAILABLE = "APIG.0202"  # 503 (injected)
AUTH_FAILED = "APIG.0301"  # 401: bad token, bad signature, unknown AK, and the AK lockout
THROTTLED = "APIG.0308"  # 429 with Retry-After

# The emulator's own control endpoint (/_emulator/...), not part of HSS.
CONTROL_ERROR = "EMULATOR.0400"
CONTROL_NOT_FOUND = "EMULATOR.0404"

AUTH_PREFIX = "Incorrect IAM authentication information: "


@dataclass(eq=False)
class ApiFailure(Exception):
    """Raised anywhere in request handling; the handler turns it into the answer.

    ``message`` must never contain a secret: callers name fields, not values.
    """

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def body(self) -> dict[str, str]:
        return {"error_code": self.code, "error_msg": self.message}


def invalid(message: str) -> ApiFailure:
    return ApiFailure(400, INVALID_PARAMETER, message)


def not_found(registry_id: str) -> ApiFailure:
    return ApiFailure(400, NOT_FOUND, f"registry not found: {registry_id}")


def unauthorized(reason: str) -> ApiFailure:
    return ApiFailure(401, AUTH_FAILED, AUTH_PREFIX + reason)

INTERNAL_ERROR = "EMULATOR.0500"  # a bug in the emulator itself, logged with its traceback
