"""Issue 16.5: the official SDK's DefaultExceptionHandler and our error line read a body alike.

The same bodies (the unit test's shapes and 300 random nestings of the SDK's
key pairs) go to huaweicloudsdkcore's handler and to ours: wherever the SDK
finds a code in the body, ours is the same code with the same message, the
same request id and, when there is one, the same encoded authorization message.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest
import requests
from huaweicloudsdkcore.exceptions.exception_handler import DefaultExceptionHandler
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException

from reconciler.hss.errors import api_error_from_response
from tests.unit.test_hss_errors import SHAPES, _error

PAIRS = (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message"))
OTHER_KEYS = ("error", "result", "detail", "status", "title")


def _sdk(status: int, body: Any, request_id: str) -> ServiceResponseException:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.encoding = "utf-8"
    response.headers["X-Request-Id"] = request_id
    with pytest.raises(ServiceResponseException) as caught:
        DefaultExceptionHandler().handle_exception(None, response)
    return caught.value


def _random_body(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(rng.randint(0, 3)):
        roll = rng.random()
        if roll < 0.35:
            code_key, message_key = rng.choice(PAIRS)
            body[code_key] = f"E.{rng.randint(1, 999)}"
            body[message_key] = f"message-{rng.randint(1, 999)}"
        elif roll < 0.45:
            body[rng.choice([k for pair in PAIRS for k in pair])] = f"lone-{rng.randint(1, 9)}"
        elif roll < 0.55:
            body["encoded_authorization_message"] = f"enc{rng.randint(1, 999)}="
        elif depth < 3:
            body[rng.choice(OTHER_KEYS) + str(rng.randint(0, 2))] = _random_body(rng, depth + 1)
        else:
            body[rng.choice(OTHER_KEYS)] = rng.choice(["x", 1, None, []])
    return body


def _agrees(status: int, body: Any) -> bool:
    """True when the SDK read a code from the body (and ours agreed); False when it fell back."""
    sdk = _sdk(status, body, "rid-1")
    ours = _error(status, body, **{"X-Request-Id": "rid-1"})
    assert ours.request_id == sdk.request_id == "rid-1"
    if sdk.encoded_auth_msg:
        assert f"(encoded authorization message: {sdk.encoded_auth_msg})" in str(ours), body
    if str(sdk.error_code) == str(status) and sdk.error_msg == json.dumps(body):
        return False  # no pair in the body: the SDK shows the status and the raw text
    assert ours.error_code == str(sdk.error_code), body
    assert f" {sdk.error_code}: {sdk.error_msg} (request id rid-1)" in str(ours), body
    return True


@pytest.mark.parametrize(("body", "status", "code", "message"), SHAPES)
def test_every_shape_the_sdk_reads_we_read_alike(body: Any, status: int, code: str, message: str) -> None:
    # The one shape the SDK does not read as a pair: a lone error_code beside error_message.
    assert _agrees(status, body) or "error_message" in body


def test_random_nestings_of_the_sdks_keys_read_alike() -> None:
    rng = random.Random(16_5)
    read = sum(_agrees(rng.choice([400, 401, 403, 429, 500]), _random_body(rng)) for _ in range(300))
    # 195 of the 300 hold a pair somewhere; the others check the request id and the encoded message only.
    assert read == 195


def test_the_sdk_and_we_agree_on_an_http_error_without_json() -> None:
    response = httpx.Response(502, content=b"bad gateway", headers={"X-Request-Id": "r"})
    assert api_error_from_response("ListRegistry", response).error_code is None
    assert _sdk(502, "bad gateway", "r").error_code == "502"  # the SDK's code is then the status
