"""The credentials value, and the first link of the chain: environment variables.

Credentials never come from YAML: the config lives in git, and keys in git
leak. The variable names follow the official SDK (``HUAWEICLOUD_SDK_*``) and
its samples (``CLOUD_SDK_*``) so CI secrets set up for other Huawei Cloud tools
work unchanged. The rest of the chain (profile file, IdP federation, ECS
metadata, pod identity) is :mod:`reconciler.hss.credsources`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import ReconcilerError
from reconciler.secrets import Secret

# (access key, secret key) variable pairs, in order of precedence.
AKSK_VARIABLES: tuple[tuple[str, str], ...] = (
    ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"),
    ("CLOUD_SDK_AK", "CLOUD_SDK_SK"),
)
SECURITY_TOKEN_VARIABLE = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
AUTH_TOKEN_VARIABLE = "HSS_AUTH_TOKEN"
# IdP federation (huaweicloudsdkcore EnvCredentialProvider): both set wins over an AK/SK pair.
IDP_ID_VARIABLE = "HUAWEICLOUD_SDK_IDP_ID"
ID_TOKEN_FILE_VARIABLE = "HUAWEICLOUD_SDK_ID_TOKEN_FILE"


@dataclass(frozen=True)
class Credentials:
    """AK/SK (optionally temporary, with a security token) or an IAM token.

    Exactly one kind is filled by :func:`credentials_from_env`. Every secret is
    a :class:`Secret`, so printing a ``Credentials`` shows only masks.
    """

    access_key: str | None = None
    secret_key: Secret | None = None
    security_token: Secret | None = None
    auth_token: Secret | None = None
    # Temporary credentials: when they stop working (seconds since the epoch), and where from.
    expires_at: float | None = None
    source: str = "environment"

    @property
    def kind(self) -> str:
        """``"aksk"`` or ``"token"``: for messages that say how we authenticated."""
        return "aksk" if self.access_key is not None else "token"


@dataclass(frozen=True)
class Federation:
    """IdP federation settings (``HUAWEICLOUD_SDK_IDP_ID`` + ``..._ID_TOKEN_FILE``): exchanged later."""

    idp_id: str
    id_token_file: str
    iam_endpoint: str | None = None  # a profile's iam_endpoint; else the environment's or the default
    source: str = "environment"


def credential_variable(environ: Mapping[str, str], name: str) -> str | None:
    """The variable's value, ``None`` when unset or empty; refused unless it is a header-safe token.

    An empty variable is how CI systems spell "not configured". Every
    credential travels in an HTTP header (``X-Auth-Token``,
    ``X-Security-Token``, the ``Authorization`` signature): real access keys,
    secret keys and tokens are printable ASCII without spaces, so anything else
    (a pasted line break or space, a non-ASCII character, bytes that are not
    UTF-8) is a broken CI secret. Naming the variable here beats a crash or a
    401 later; the value is registered as a secret and never shown.
    """
    value = environ.get(name)
    if not value:
        return None
    if not is_header_token(value):
        Secret(value)  # registered, so no later message can show it
        raise ReconcilerError(
            f"{name} holds characters other than printable ASCII "
            "(such as a space, a line break or a non-ASCII character)"
        )
    return value


def is_header_token(value: str) -> bool:
    """Printable ASCII, no space: ``!`` (0x21) to ``~`` (0x7E)."""
    return all("!" <= char <= "~" for char in value)


def both_or_neither(first: tuple[str, str | None], second: tuple[str, str | None], where: str = "") -> bool:
    """True when both named values are set, False when neither; one alone is an error naming both.

    A half-set pair is almost always a typo in a CI secret name, and falling
    through to another credential would hide it.
    """
    (first_name, first_value), (second_name, second_value) = first, second
    if bool(first_value) == bool(second_value):
        return bool(first_value)
    missing, present = (second_name, first_name) if first_value else (first_name, second_name)
    raise ReconcilerError(f"{where}{present} is set but {missing} is not: set both, or neither")


def federation_from_env(environ: Mapping[str, str]) -> Federation | None:
    """IdP federation when both of its variables are set (the SDK checks it before AK/SK)."""
    idp_id = credential_variable(environ, IDP_ID_VARIABLE)
    token_file = environ.get(ID_TOKEN_FILE_VARIABLE) or None
    if not both_or_neither((IDP_ID_VARIABLE, idp_id), (ID_TOKEN_FILE_VARIABLE, token_file)):
        return None
    assert idp_id is not None and token_file is not None
    return Federation(idp_id, token_file)


def configured_in_env(environ: Mapping[str, str]) -> Credentials | None:
    """The environment's static credentials, None when it names none (the chain goes on).

    AK/SK wins over a token. A half-set pair is an error rather than a reason
    to fall through.
    """
    for ak_name, sk_name in AKSK_VARIABLES:
        access_key = credential_variable(environ, ak_name)
        secret_value = credential_variable(environ, sk_name)
        secret_key = Secret(secret_value) if secret_value else None  # registered before any error
        if both_or_neither((ak_name, access_key), (sk_name, secret_value)):
            assert access_key is not None and secret_key is not None
            token_value = credential_variable(environ, SECURITY_TOKEN_VARIABLE)
            return Credentials(
                access_key=access_key,
                secret_key=secret_key,
                security_token=Secret(token_value) if token_value else None,
            )
    if credential_variable(environ, SECURITY_TOKEN_VARIABLE):  # registered too: refused unread if malformed
        Secret(environ[SECURITY_TOKEN_VARIABLE])
        raise ReconcilerError(f"{SECURITY_TOKEN_VARIABLE} is set but HUAWEICLOUD_SDK_AK and "
                              "HUAWEICLOUD_SDK_SK are not: a security token works only with its "
                              "temporary keys")
    token_value = credential_variable(environ, AUTH_TOKEN_VARIABLE)
    if token_value:
        return Credentials(auth_token=Secret(token_value))
    return None


def credentials_from_env(environ: Mapping[str, str]) -> Credentials:
    """Static credentials from ``environ`` alone (pass ``os.environ``; tests pass a dict)."""
    found = configured_in_env(environ)
    if found is not None:
        return found
    raise ReconcilerError(
        "no HSS credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK "
        "(or CLOUD_SDK_AK and CLOUD_SDK_SK), or set HSS_AUTH_TOKEN to an IAM token"
    )
