"""How many requests per second the emulator itself can serve (E).

K threads, each with its own keep-alive connection, send ListRegistry on an
empty project as fast as answers come back. With latency L the ideal is K / L
requests per second; getting close shows the emulator overlaps requests and
is not what limits the client measured in A.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

PROBE_PROJECT = "e0000000000000000000000000000000"


def probe(url: str, token: str, concurrency: int, per_thread: int) -> tuple[float, int]:
    """(requests per second, requests that did not answer 200)."""
    parts = urlsplit(url)
    host = parts.hostname
    assert host is not None, url
    path = f"/v5/{PROBE_PROJECT}/image/registries?enterprise_project_id=0&offset=0&limit=200"
    failures = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(host, parts.port, timeout=60)
        conn.connect()
        barrier.wait()
        for _ in range(per_thread):
            conn.request("GET", path, headers={"X-Auth-Token": token})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures[index] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return concurrency * per_thread / elapsed, sum(failures)
