"""An emulator on loopback that accepts one freshly made AK/SK pair: what the SDK oracle tests drive."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.emulator import EmulatorConfig, EmulatorServer


@contextmanager
def aksk_emulator() -> Iterator[tuple[EmulatorServer, str, str]]:
    """The running server and the key pair it accepts; stopped on exit."""
    ak, sk = "AK" + secrets.token_hex(8).upper(), secrets.token_hex(20)
    server = EmulatorServer(EmulatorConfig(host="127.0.0.1", port=0, aksk={ak: sk}))
    server.start()
    try:
        yield server, ak, sk
    finally:
        server.stop()
