"""Issue 16.5: every error shape the official SDK reads gives a code and a message in our one line.

The shapes are those of huaweicloudsdkcore's DefaultExceptionHandler:
error_code/error_msg, errorCode/errorMsg, code/message, each at the top or
nested in a mapping, and IAM's encoded_authorization_message, which is kept
and shown (it is not secret: IAM decodes it for whoever may read the denial).
tests/oracle/test_error_oracle.py feeds the same bodies to the SDK's handler.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.hss.errors import RegistryNotFound, api_error_from_response

ENCODED = "Egpjbi1ub3J0aC03GiAwOYJns96GCCcWEws54Kds1Gj/wy3NzP/NiSjP14=.BORs/KvbnoEeTkZCrRO1gw=="

# (body, status, code, message)
SHAPES: list[tuple[Any, int, str, str]] = [
    ({"error_code": "HSS.0001", "error_msg": "invalid registry_name"}, 400, "HSS.0001",
     "invalid registry_name"),
    ({"errorCode": "SVCSTG.SWR.4001048", "errorMsg": "no token"}, 401, "SVCSTG.SWR.4001048", "no token"),
    ({"code": "APIG.0301", "message": "Incorrect IAM authentication"}, 401, "APIG.0301",
     "Incorrect IAM authentication"),
    ({"error": {"code": "IMG.0024", "message": "The imagetype is invalid."}}, 400, "IMG.0024",
     "The imagetype is invalid."),
    ({"error": {"error_code": "HSS.0013", "error_msg": "Insufficient permissions."}}, 403, "HSS.0013",
     "Insufficient permissions."),
    ({"result": {"errorCode": "X.1", "errorMsg": "nested camel"}, "status": "failed"}, 500, "X.1",
     "nested camel"),
    ({"outer": {"inner": {"error_code": "DEEP.1", "error_msg": "two levels"}}}, 400, "DEEP.1", "two levels"),
    # The SDK's order at one level: error_code/error_msg before code/message.
    ({"code": "LOSES", "message": "no", "error_code": "WINS.1", "error_msg": "yes"}, 400, "WINS.1", "yes"),
    # A level with a pair is not searched further; siblings are searched in order, the last find kept.
    ({"a": {"code": "A.1", "message": "first"}, "b": {"code": "B.1", "message": "second"}}, 400, "B.1",
     "second"),
    ({"code": 403, "message": "numeric code"}, 403, "403", "numeric code"),
    # A lone code the SDK would not read as a pair: still ours. Then IAM's Keystone-style body.
    ({"error_code": "HSS.0011", "error_message": "registry not exist"}, 400, "HSS.0011",
     "registry not exist"),
    ({"error": {"message": "Forbidden", "code": "IAM.0002", "title": "Forbidden"}}, 403, "IAM.0002",
     "Forbidden"),
]


def _error(status: int, body: Any, **headers: str) -> ApiError:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **headers}
    response = httpx.Response(status, content=content, headers=headers)
    return api_error_from_response("ListRegistry", response)


@pytest.mark.parametrize(("body", "status", "code", "message"), SHAPES)
def test_each_shape_gives_its_code_and_message(body: Any, status: int, code: str, message: str) -> None:
    error = _error(status, body, **{"X-Request-Id": "req-1"})
    assert error.error_code == code
    assert str(error) == f"HSS ListRegistry failed: HTTP {status} {code}: {message} (request id req-1)"


def test_the_encoded_authorization_message_is_kept_whole_at_any_level() -> None:
    top = {"error_code": "HSS.0013", "error_msg": "Insufficient permissions",
           "encoded_authorization_message": ENCODED}
    assert str(_error(403, top)).endswith(
        f"HTTP 403 HSS.0013: Insufficient permissions (encoded authorization message: {ENCODED})")
    # SWR's documented body: the old and new format side by side, the message at both levels.
    swr = {"errors": [{"errorCode": "SVCSTG.SWR.4030170", "encoded_authorization_message": "old"}],
           "error_code": "SVCSTG.SWR.4030170", "error_msg": "Insufficient permissions",
           "details": [{"error_code": "SVCSTG.SWR.4030170", "error_msg": ""}],
           "encoded_authorization_message": ENCODED}
    assert f"(encoded authorization message: {ENCODED})" in str(_error(403, swr, **{"X-Request-Id": "r"}))
    nested = {"error": {"code": "IAM.0002", "message": "Denied", "encoded_authorization_message": ENCODED}}
    assert str(_error(403, nested)).endswith(f"Denied (encoded authorization message: {ENCODED})")


def test_an_overlong_encoded_authorization_message_is_named_not_cut() -> None:
    body = {"error_code": "HSS.0013", "error_msg": "denied", "encoded_authorization_message": "A" * 9000}
    text = str(_error(403, body))
    assert text.endswith("(an encoded authorization message of 9000 characters, too long to show)")
    assert "AAAA" not in text


def test_the_request_id_header_wins_over_the_body_and_either_is_kept() -> None:
    body = {"error_code": "HSS.0011", "error_msg": "registry not exist", "request_id": "from-body"}
    assert _error(400, body, **{"x-request-id": "from-header"}).request_id == "from-header"
    missing = _error(400, body)
    assert isinstance(missing, RegistryNotFound) and missing.request_id == "from-body"


def test_no_pair_anywhere_gives_no_code_and_the_reason_phrase() -> None:
    assert str(_error(500, {"detail": {"reason": "x"}})) == \
        "HSS ListRegistry failed: HTTP 500 Internal Server Error"
    assert str(_error(400, [{"error_code": "IN.LIST", "error_msg": "lists are not read"}])) == \
        "HSS ListRegistry failed: HTTP 400 Bad Request"


def test_a_body_nested_past_the_limit_is_not_searched_to_its_bottom() -> None:
    body: dict[str, Any] = {"error_code": "DEEP", "error_msg": "found"}
    for _ in range(40):
        body = {"wrap": body}
    assert str(_error(400, body)) == "HSS ListRegistry failed: HTTP 400 Bad Request"
