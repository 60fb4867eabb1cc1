"""Injected faults: what can go wrong between a client and HSS, on demand.

One seeded ``random.Random`` decides for every HSS API request (auth failures
and the control endpoint are exempt). Each decision draws the same five
numbers whatever the rates, so a given seed gives the same sequence of faults
for the same sequence of requests; rates of 0.0 and 1.0 are exact (0.0 never,
1.0 always), which is what tests use.
"""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import dataclass

from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.errors import BACKEND_UNAVAILABLE, BAD_REQUEST, THROTTLED, ApiFailure


class Fault(enum.Enum):
    NONE = "none"
    DROP = "drop"  # close the connection before doing anything
    THROTTLE = "throttle"  # 429, Retry-After
    ERROR = "error"  # 500 or 503, nothing done
    LOST_RESPONSE = "lost_response"  # do the operation, then close without answering


@dataclass(frozen=True)
class Decision:
    fault: Fault
    error_status: int = 0
    retry_after_seconds: int = 1

    def failure(self) -> ApiFailure | None:
        """The answer that replaces the operation, for THROTTLE and ERROR."""
        if self.fault is Fault.THROTTLE:
            return ApiFailure(
                429, THROTTLED, "The throttling threshold has been reached",
                {"Retry-After": str(self.retry_after_seconds)},
            )
        if self.fault is Fault.ERROR and self.error_status == 503:
            return ApiFailure(503, BACKEND_UNAVAILABLE, "Backend unavailable (injected fault)")
        if self.fault is Fault.ERROR:
            return ApiFailure(500, BAD_REQUEST, "Backend error (injected fault)")
        return None


class FaultInjector:
    def __init__(self, seed: int | None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._random = random.Random(seed)

    def decide(self, config: EmulatorConfig) -> Decision:
        with self._lock:
            drop, throttle, error, lost, which = (self._random.random() for _ in range(5))
        if drop < config.drop_rate:
            return Decision(Fault.DROP)
        if throttle < config.throttle_rate:
            return Decision(Fault.THROTTLE, retry_after_seconds=config.retry_after_seconds)
        if error < config.error_rate:
            return Decision(Fault.ERROR, 500 if which < 0.5 else 503)
        if lost < config.lost_response_rate:
            return Decision(Fault.LOST_RESPONSE)
        return Decision(Fault.NONE)
