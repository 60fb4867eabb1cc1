"""What a command asks the engine for, typed: the CLI builds these from its arguments.

Nothing below `cli/` sees an argparse object; a test or another front end
builds these directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Connection:
    """How to reach HSS."""

    ca_bundle: str | None = None
    insecure: bool = False
    parallelism: int = 10  # concurrent HSS calls, and the size of the connection pool
    allow_http: bool = False  # a plain-http HSS endpoint outside loopback (always allowed on loopback)
    request_timeout: float = 60.0  # seconds one HSS call may take, retries included (hss.bounds)


@dataclass(frozen=True)
class WorkspaceOptions:
    """Which registry files and which state."""

    paths: tuple[str, ...] = ()  # files or directories; empty means "."
    state: str | None = None  # default: hss-reconciler.state.json beside the files
    lock_timeout: float | None = None  # None: read only, no lock; else wait up to this long
    operation: str = "apply"  # named in the lock, so a blocked run knows who holds it


@dataclass(frozen=True)
class PlanOptions:
    refresh: bool = True
    targets: tuple[str, ...] = ()  # registry names or addresses; empty means all
    destroy: bool = True  # False: forget undeclared registries instead of deleting them
    refresh_only: bool = False  # plan only to record HSS's current attributes in the state


@dataclass(frozen=True)
class ApplyOptions:
    plan: PlanOptions = field(default_factory=PlanOptions)
    force: bool = False  # apply even a plan flagged unsafe
    wait: bool = False  # wait until HSS reaches each new or changed registry
    wait_timeout: float = 300.0
