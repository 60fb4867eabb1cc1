"""Our signer must agree with the official SDK's Signer, byte for byte."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from reconciler import signing

CASES = [
    ("GET", "/v5/proj123/image/registries", [("limit", "200"), ("offset", "0")], b""),
    ("POST", "/v5/proj123/image/registries", [("enterprise_project_id", "0")],
     b'{"registry_name": "harbor-prod", "registry_type": "Harbor"}'),
    ("PUT", "/v5/p/image/registries/abc-123", [("enterprise_project_id", "all_granted_eps")],
     b'{"protocol": "https"}'),
    ("DELETE", "/v5/p/image/registries/id with space", [], b""),
    ("GET", "/v5/p/image/registries/image-upload-command",
     [("registry_addr", "hub.docker.com"), ("namespace", "a b/c"), ("username", "u~x")], b""),
]


@pytest.mark.parametrize(("method", "path", "query", "body"), CASES)
def test_signature_matches_official_sdk(method: str, path: str, query: list[tuple[str, str]],
                                        body: bytes) -> None:
    headers = {
        "X-Sdk-Date": "20261123T061300Z",
        "Host": "hss.ap-southeast-1.myhuaweicloud.com",
        "X-Project-Id": "proj123",
        "Content-Type": "application/json",
    }
    sdk_request = SdkRequest(
        method=method, schema="https", host=headers["Host"], resource_path=path,
        query_params=list(query), header_params=dict(headers), body=body,
    )
    Signer(BasicCredentials("AK_EXAMPLE", "SK_EXAMPLE_SECRET", "proj123")).sign(sdk_request)
    theirs = sdk_request.header_params["Authorization"]

    ours = signing.sign("AK_EXAMPLE", "SK_EXAMPLE_SECRET", method, path, query, headers, body)
    assert ours == theirs

    parsed = signing.parse_authorization(theirs)
    assert parsed is not None
    assert signing.verify("SK_EXAMPLE_SECRET", parsed, method, path, query, headers, body)
    assert not signing.verify("WRONG", parsed, method, path, query, headers, body)
