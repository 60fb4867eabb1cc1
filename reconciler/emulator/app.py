"""The state one emulator holds: settings, registries, auth, faults and counters.

Settings are one immutable ``EmulatorConfig`` swapped whole under a lock, so a
request reads one consistent snapshot even while a test reconfigures.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping

from reconciler.emulator.auth import Authenticator, ReceivedRequest
from reconciler.emulator.config import RUNTIME_KEYS, EmulatorConfig
from reconciler.emulator.errors import ApiFailure
from reconciler.emulator.faults import FaultInjector
from reconciler.emulator.ratelimit import RateLimiter
from reconciler.emulator.stats import Stats
from reconciler.emulator.store import RegistryStore


class EmulatorApp:
    def __init__(self, config: EmulatorConfig) -> None:
        self._initial = config
        self._config = config
        self._lock = threading.Lock()
        self.store = RegistryStore()
        self.auth = Authenticator()
        self.faults = FaultInjector(config.seed)
        self.stats = Stats()
        self.limiter = RateLimiter()

    @property
    def config(self) -> EmulatorConfig:
        with self._lock:
            return self._config

    def reconfigure(self, changes: Mapping[str, object]) -> EmulatorConfig:
        """Apply runtime changes; ValueError names the first bad key or value."""
        unknown = sorted(set(changes) - RUNTIME_KEYS)
        if unknown:
            raise ValueError(f"{unknown[0]}: not a runtime setting")
        with self._lock:
            self._config = dataclasses.replace(self._config, **changes)  # type: ignore[arg-type]
            if "seed" in changes:
                self.faults.reseed(self._config.seed)
            return self._config

    def throttle(self, request: ReceivedRequest, config: EmulatorConfig) -> None:
        """APIG's flow control, after auth and before the backend: raises the 429 over the rate limit."""
        try:
            self.limiter.admit(request, config.rate_limit)
        except ApiFailure:
            self.stats.fault("rate_limited")
            raise

    def reset(self) -> None:
        """Back to the state at construction: no registries, counters, lockouts or changes."""
        with self._lock:
            self._config = self._initial
            self.faults.reseed(self._initial.seed)
        self.store.reset()
        self.stats.reset()
        self.auth.reset()
        self.limiter.reset()
