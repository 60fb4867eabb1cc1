"""Command-line options of ``hss-reconciler emulator``; parsing only, no serving.

Ranges are not checked here: ``EmulatorConfig`` checks them, so the CLI, the
control endpoint and Python callers agree. A bad value raises ``SettingError``
naming the setting (``latency_ms``); ``option_message`` rephrases it for the
command line (``--latency-ms: must be >= 0, got -5``).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping

from reconciler.emulator.config import EmulatorConfig, SettingError

#: The option that sets each setting, so an error names what the user typed.
OPTIONS = {
    "host": "--host",
    "port": "--port",
    "allow_remote": "--allow-remote",
    "tokens": "--token",
    "aksk": "--ak/--sk",
    "latency_ms": "--latency-ms",
    "error_rate": "--error-rate",
    "throttle_rate": "--throttle-rate",
    "drop_rate": "--drop-rate",
    "lost_response_rate": "--lost-response-rate",
    "retry_after_seconds": "--retry-after",
    "rate_limit": "--rate-limit",
    "seed": "--seed",
    "access_delay_seconds": "--access-delay",
    "max_registries_per_project": "--max-registries",
    "credential_lifetime_seconds": "--credential-lifetime",
    "idp_id": "--idp-id",
    "id_tokens": "--id-token",
    "metadata_agency": "--metadata-agency",
    "pod_identity_token": "--pod-identity-token",
}
#: Never quoted back: secrets, and a flag whose value says nothing.
UNQUOTED = frozenset({"tokens", "aksk", "allow_remote", "id_tokens", "pod_identity_token",
                      "metadata_agency"})
#: The secrets may come from the environment instead, where `ps` does not show them.
TOKEN_ENV, AK_ENV, SK_ENV = "HSS_EMULATOR_TOKEN", "HSS_EMULATOR_AK", "HSS_EMULATOR_SK"
RATE_LIMIT_ENV = "HSS_EMULATOR_RATE_LIMIT"
ID_TOKEN_ENV, POD_TOKEN_ENV = "HSS_EMULATOR_ID_TOKEN", "HSS_EMULATOR_POD_IDENTITY_TOKEN"
_SETTING_WORD = re.compile(r"\b(" + "|".join(OPTIONS) + r")\b")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    parser.add_argument(
        "--allow-remote", action="store_true",
        help="allow a non-loopback --host (the control endpoint needs no credentials)",
    )
    parser.add_argument(
        "--token", action="append", default=[], metavar="TOKEN",
        help=f"accept this X-Auth-Token (repeatable; also {TOKEN_ENV}, which `ps` does not show)",
    )
    parser.add_argument("--ak", help=f"accept SDK-HMAC-SHA256 signatures by this access key (or {AK_ENV})")
    parser.add_argument("--sk", help=f"the secret key of --ak (or {SK_ENV}, which `ps` does not show)")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay every API request")
    parser.add_argument("--error-rate", type=float, default=0.0, help="probability of a 500/503")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="probability of a 429")
    parser.add_argument(
        "--drop-rate", type=float, default=0.0,
        help="probability of closing the connection before doing anything",
    )
    parser.add_argument(
        "--lost-response-rate", type=float, default=0.0,
        help="probability of doing the operation, then closing without answering",
    )
    parser.add_argument(
        "--retry-after", type=int, default=1, metavar="SECONDS",
        help="the Retry-After a throttled (429) answer carries (default 1)",
    )
    parser.add_argument(
        "--rate-limit", type=float, default=None, metavar="N",
        help=f"answer 429 APIG.0308 beyond N requests per second per credential, as APIG does "
             f"(or {RATE_LIMIT_ENV}; default 0: no limit)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for the fault dice")
    parser.add_argument(
        "--access-delay", type=float, default=0.0, metavar="SECONDS",
        help="how long a new or updated registry stays 'accessing' (default 0)",
    )
    parser.add_argument(
        "--max-registries", type=int, default=100,
        help="registries allowed per project and enterprise project (default 100)",
    )
    _add_credential_services(parser)


def _add_credential_services(parser: argparse.ArgumentParser) -> None:
    """IAM federation, ECS metadata and pod identity, served on the same port (emulator/vending.py)."""
    parser.add_argument(
        "--credential-lifetime", type=float, default=3600.0, metavar="SECONDS",
        help="lifetime of the temporary AK/SK and security tokens issued (default 3600; short forces "
             "clients to refresh)",
    )
    parser.add_argument("--idp-id", help="serve IAM IdP federation for this identity provider id")
    parser.add_argument(
        "--id-token", action="append", default=[], metavar="TOKEN",
        help=f"an ID token --idp-id accepts (repeatable; also {ID_TOKEN_ENV})",
    )
    parser.add_argument("--metadata-agency", action="store_true",
                        help="the metadata service vends temporary credentials (an agency is attached)")
    parser.add_argument("--pod-identity-token",
                        help=f"the pod identity agent accepts this Authorization (or {POD_TOKEN_ENV})")


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> EmulatorConfig:
    """The options, with the token and the key pair also taken from the environment."""
    tokens = [*args.token, *([environ[TOKEN_ENV]] if environ.get(TOKEN_ENV) else [])]
    ak = args.ak if args.ak is not None else environ.get(AK_ENV) or None
    sk = args.sk if args.sk is not None else environ.get(SK_ENV) or None
    if (ak is None) != (sk is None):
        given, missing = ("--ak", "--sk") if sk is None else ("--sk", "--ak")
        raise SettingError(given, f"needs {missing} as well")
    if args.rate_limit is None:
        args.rate_limit = _env_number(environ, RATE_LIMIT_ENV, "rate_limit")
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        tokens=frozenset(tokens),
        aksk={ak: sk} if ak is not None and sk is not None else {},
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        throttle_rate=args.throttle_rate,
        drop_rate=args.drop_rate,
        lost_response_rate=args.lost_response_rate,
        retry_after_seconds=args.retry_after,
        rate_limit=args.rate_limit,
        seed=args.seed,
        access_delay_seconds=args.access_delay,
        max_registries_per_project=args.max_registries,
        credential_lifetime_seconds=args.credential_lifetime,
        idp_id=args.idp_id,
        id_tokens=frozenset([*args.id_token, *filter(None, [environ.get(ID_TOKEN_ENV)])]),
        metadata_agency=args.metadata_agency,
        pod_identity_token=args.pod_identity_token or environ.get(POD_TOKEN_ENV) or None,
    )


def _env_number(environ: Mapping[str, str], name: str, setting: str) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise SettingError(setting, f"{name} must be a number") from None


def option_message(error: SettingError, args: argparse.Namespace) -> str:
    """``error`` in the command line's words: the option, not the setting, and the value given.

    EmulatorConfig's message serves the control endpoint and Python callers, who
    know ``latency_ms``; someone who typed ``--latency-ms -5`` should read that back.
    """
    option = OPTIONS.get(error.setting, error.setting)
    problem = _SETTING_WORD.sub(lambda match: OPTIONS[match.group()], error.problem)
    if error.setting not in OPTIONS or error.setting in UNQUOTED:
        return f"{option}: {problem}"
    value = getattr(args, option.removeprefix("--").replace("-", "_"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # argparse made "2" 2.0; show what was typed
    return f"{option}: {problem}, got {value}"
