"""What an emulator run is: address, credentials, status model and faults.

One frozen value, validated on construction. The control endpoint changes a
running emulator with ``dataclasses.replace``, so every range below is checked
in exactly one place, whether a setting comes from Python, the CLI or HTTP.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

#: Settings the control endpoint (POST /_emulator/config) may change at runtime.
RUNTIME_KEYS = frozenset(
    {
        "latency_ms",
        "error_rate",
        "throttle_rate",
        "drop_rate",
        "lost_response_rate",
        "retry_after_seconds",
        "seed",
        "access_delay_seconds",
        "max_registries_per_project",
        "fail_addr_substring",
        "rate_limit",
        "credential_lifetime_seconds",
    }
)

RATE_KEYS = ("error_rate", "throttle_rate", "drop_rate", "lost_response_rate")


class SettingError(ValueError):
    """A bad setting: ``"{setting}: {problem}"``, with the two parts kept apart.

    A ValueError still, so the control endpoint answers it with a 400 and its text
    unchanged; the parts let the CLI name its own option (``--latency-ms``) instead of
    the setting (``latency_ms``) without checking anything a second time.
    """

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _number(name: str, value: object, minimum: float, maximum: float | None = None) -> None:
    # bool is an int subclass; True is no latency.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingError(name, "must be a number")
    if not math.isfinite(value):  # NaN passes every comparison below; infinity would sleep forever
        raise SettingError(name, "must be a finite number")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
        raise SettingError(name, f"must be {bounds}")


def _integer(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(name, "must be an integer")
    if value < minimum:
        raise SettingError(name, f"must be >= {minimum}")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an emulator needs. With no tokens and no AK/SK, auth is off."""

    host: str = "127.0.0.1"
    port: int = 0
    # Secrets: kept out of repr so a logged config never shows them.
    tokens: AbstractSet[str] = field(default=frozenset(), repr=False)
    aksk: Mapping[str, str] = field(default_factory=dict, repr=False)
    allow_remote: bool = False
    # Faults, each a probability per HSS API request (control and auth are exempt).
    latency_ms: float = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    drop_rate: float = 0.0
    lost_response_rate: float = 0.0
    retry_after_seconds: int = 1  # what a throttled answer's Retry-After header says
    # Requests per second each credential may make (APIG's user flow control, ratelimit.py); 0: no limit.
    rate_limit: float = 0.0
    seed: int | None = None
    # Status model: accessing for this long, then success (or fail, see below).
    access_delay_seconds: float = 0.0
    fail_addr_substring: str = "fail.invalid"
    max_registries_per_project: int = 100
    # AK/SK lockout as the real APIG does it: more than 5 bad signatures, 5 minutes.
    lockout_threshold: int = 5
    lockout_seconds: float = 300.0
    max_clock_skew_seconds: float = 900.0
    # Credential services (iam.py, instance.py), each off until configured. Temporary AK/SK and
    # security tokens they issue live this long (IAM's own minimum is 900 s: shorter is for tests).
    credential_lifetime_seconds: float = 3600.0
    idp_id: str | None = None  # IdP federation: the X-Idp-Id accepted, with any of these ID tokens
    id_tokens: AbstractSet[str] = field(default=frozenset(), repr=False)
    # STS AssumeAgencyWithOIDC (sts.py): the provider and agency URNs accepted, with any of id_tokens.
    oidc_provider_urn: str | None = None
    oidc_agency_urn: str | None = None
    metadata_agency: bool = False  # the metadata service vends an agency's credentials
    pod_identity_token: str | None = field(default=None, repr=False)  # the agent's Authorization

    def __post_init__(self) -> None:
        # Accept any iterable of tokens (a set, a list) but store an immutable copy.
        object.__setattr__(self, "tokens", frozenset(self.tokens))
        object.__setattr__(self, "aksk", dict(self.aksk))
        if not self.allow_remote and not is_loopback(self.host):
            raise SettingError("host", "not a loopback address (use allow_remote)")
        _integer("port", self.port, 0)
        if self.port > 65535:
            raise SettingError("port", "must be 0-65535")
        if any(not token for token in self.tokens):
            raise SettingError("tokens", "a token must not be empty")
        if any(not ak or not sk for ak, sk in self.aksk.items()):
            raise SettingError("aksk", "access key and secret key must not be empty")
        _number("latency_ms", self.latency_ms, 0)
        for name in RATE_KEYS:
            _number(name, getattr(self, name), 0, 1)
        _integer("retry_after_seconds", self.retry_after_seconds, 0)
        _number("rate_limit", self.rate_limit, 0)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise SettingError("seed", "must be an integer or null")
        _number("access_delay_seconds", self.access_delay_seconds, 0)
        if not isinstance(self.fail_addr_substring, str):
            raise SettingError("fail_addr_substring", "must be a string")
        _integer("max_registries_per_project", self.max_registries_per_project, 0)
        _integer("lockout_threshold", self.lockout_threshold, 0)
        _number("lockout_seconds", self.lockout_seconds, 0)
        _number("max_clock_skew_seconds", self.max_clock_skew_seconds, 0)
        object.__setattr__(self, "id_tokens", frozenset(self.id_tokens))
        _number("credential_lifetime_seconds", self.credential_lifetime_seconds, 0.01)
        if any(not token for token in self.id_tokens) or (self.id_tokens and not self.idp_id):
            raise SettingError("id_tokens", "need idp_id, and no token may be empty")

    @property
    def auth_enabled(self) -> bool:
        return bool(self.tokens or self.aksk or self.idp_id or self.metadata_agency
                    or self.pod_identity_token)

    def runtime_view(self) -> dict[str, object]:
        """The runtime-changeable settings, as the control endpoint shows them."""
        return {key: getattr(self, key) for key in sorted(RUNTIME_KEYS)}
