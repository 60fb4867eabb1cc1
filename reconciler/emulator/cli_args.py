"""Command-line options of ``hss-reconciler emulator``; parsing only, no serving.

Ranges are not checked here: ``EmulatorConfig`` checks them, so the CLI, the
control endpoint and Python callers agree. A bad value raises ValueError with
a one-line message naming the option's setting.
"""

from __future__ import annotations

import argparse

from reconciler.emulator.config import EmulatorConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    parser.add_argument(
        "--allow-remote", action="store_true",
        help="allow a non-loopback --host (the control endpoint needs no credentials)",
    )
    parser.add_argument(
        "--token", action="append", default=[], metavar="TOKEN",
        help="accept this X-Auth-Token (repeatable)",
    )
    parser.add_argument("--ak", help="accept SDK-HMAC-SHA256 signatures by this access key")
    parser.add_argument("--sk", help="the secret key of --ak")
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
    parser.add_argument("--seed", type=int, default=None, help="seed for the fault dice")
    parser.add_argument(
        "--access-delay", type=float, default=0.0, metavar="SECONDS",
        help="how long a new or updated registry stays 'accessing' (default 0)",
    )
    parser.add_argument(
        "--max-registries", type=int, default=100,
        help="registries allowed per project and enterprise project (default 100)",
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    if (args.ak is None) != (args.sk is None):
        raise ValueError("--ak and --sk go together")
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        tokens=frozenset(args.token),
        aksk={args.ak: args.sk} if args.ak is not None else {},
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        throttle_rate=args.throttle_rate,
        drop_rate=args.drop_rate,
        lost_response_rate=args.lost_response_rate,
        retry_after_seconds=args.retry_after,
        seed=args.seed,
        access_delay_seconds=args.access_delay,
        max_registries_per_project=args.max_registries,
    )
