"""Run the emulator: on a daemon thread for tests, or in the foreground for the CLI."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.handler import HttpServer

logger = logging.getLogger("reconciler.emulator")

STOP_POLL_SECONDS = 0.05


class EmulatorServer:
    """A local HSS. The socket is bound at construction, so ``port`` is known at once.

    Always ``stop()`` it (or use it as a context manager) to close the socket.
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.app = EmulatorApp(self.config)
        self._httpd = HttpServer((self.config.host, self.config.port), self.app)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.config.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        """Serve on a daemon thread and return at once."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        # A short poll interval makes stop() quick, which keeps test suites fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="hss-emulator", daemon=True,
        )
        self._thread.start()
        logger.info("HSS emulator listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted; KeyboardInterrupt propagates after cleanup."""
        logger.info("HSS emulator listening on %s", self.url)
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
