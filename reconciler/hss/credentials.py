"""Which credentials the client authenticates with, read from the environment.

Credentials never come from YAML: the config lives in git, and keys in git
leak. The variable names follow the official SDK (``HUAWEICLOUD_SDK_*``) and
its samples (``CLOUD_SDK_*``) so CI secrets set up for other Huawei Cloud tools
work unchanged.
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

    @property
    def kind(self) -> str:
        """``"aksk"`` or ``"token"``: for messages that say how we authenticated."""
        return "aksk" if self.access_key is not None else "token"


def _get(environ: Mapping[str, str], name: str) -> str | None:
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
    if not _is_header_token(value):
        Secret(value)  # registered, so no later message can show it
        raise ReconcilerError(
            f"{name} holds characters other than printable ASCII "
            "(such as a space, a line break or a non-ASCII character)"
        )
    return value


def _is_header_token(value: str) -> bool:
    """Printable ASCII, no space: ``!`` (0x21) to ``~`` (0x7E)."""
    return all("!" <= char <= "~" for char in value)


def credentials_from_env(environ: Mapping[str, str]) -> Credentials:
    """Pick credentials from ``environ`` (pass ``os.environ``; tests pass a dict).

    AK/SK wins over a token. A half-set pair is an error rather than a reason
    to fall through: it is almost always a typo in a CI secret name, and using
    some other credential instead would hide it.
    """
    for ak_name, sk_name in AKSK_VARIABLES:
        access_key = _get(environ, ak_name)
        secret_value = _get(environ, sk_name)
        if access_key and secret_value:
            token_value = _get(environ, SECURITY_TOKEN_VARIABLE)
            return Credentials(
                access_key=access_key,
                secret_key=Secret(secret_value),
                security_token=Secret(token_value) if token_value else None,
            )
        if access_key or secret_value:
            if secret_value:
                Secret(secret_value)  # register it, so no later message can show it
            missing, present = (sk_name, ak_name) if access_key else (ak_name, sk_name)
            raise ReconcilerError(f"{present} is set but {missing} is not: set both, or neither")
    token_value = _get(environ, AUTH_TOKEN_VARIABLE)
    if token_value:
        return Credentials(auth_token=Secret(token_value))
    raise ReconcilerError(
        "no HSS credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK "
        "(or CLOUD_SDK_AK and CLOUD_SDK_SK), or set HSS_AUTH_TOKEN to an IAM token"
    )
