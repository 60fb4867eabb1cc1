"""The HSS HTTP client: credentials, auth (token and AK/SK), error mapping, retries, calls."""

from __future__ import annotations

from reconciler.hss.auth import AkSkAuth, TokenAuth, auth_from_credentials
from reconciler.hss.client import HssClient
from reconciler.hss.credentials import Credentials, credentials_from_env
from reconciler.hss.errors import AddOutcomeUnknown, RegistryNotFound
from reconciler.hss.retry import DEFAULT_RETRY, NO_RETRY, RetryPolicy
from reconciler.hss.transport import make_http_client, quiet_third_party_loggers

__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "AddOutcomeUnknown",
    "AkSkAuth",
    "Credentials",
    "HssClient",
    "RegistryNotFound",
    "RetryPolicy",
    "TokenAuth",
    "auth_from_credentials",
    "credentials_from_env",
    "make_http_client",
    "quiet_third_party_loggers",
]
