"""Running the CI recipes as their runners would, on this machine.

A recipe's shell lines run with bash in clones of a local bare "origin" that
holds examples/quickstart as registries/, the recipe and its helper script,
against the HSS emulator. Only the external services are stood in for: one
small HTTP server on loopback plays the GitHub or GitLab API, the runner's
OIDC token endpoint and the release host that serves the hss-reconciler wheel
(so the recipes' `pip install --require-hashes` line runs for real).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import CLI, QUICKSTART, REPO, Hss, Result, run_cli

EXAMPLES = REPO / "examples"
REQUIREMENTS_TEMPLATE = EXAMPLES / "hss-reconciler-requirements.txt"
PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"
PASSWORDS = {"HARBOR_PROD_PASSWORD": "harbor-Pa55word!", "JFROG_PASSWORD": "jfrog-Pa55word?"}
API_TOKEN = "api-token-for-tests"
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
PLAN_MARKER = "<!-- hss-reconciler-plan -->"
DRIFT_MARKER = "<!-- hss-reconciler-drift -->"


def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def clone(origin: Path, dest: Path) -> Path:
    git("clone", "--quiet", str(origin), str(dest), cwd=origin.parent)
    return dest


def make_origin(tmp_path: Path, files: dict[str, Path | bytes]) -> Path:
    """A bare repository whose main holds registries/ (the quickstart) and `files` (path: source)."""
    origin = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    seed = clone(origin, tmp_path / "seed")
    shutil.copytree(QUICKSTART, seed / "registries")
    for relative, source in files.items():
        (seed / relative).parent.mkdir(parents=True, exist_ok=True)
        (seed / relative).write_bytes(source if isinstance(source, bytes) else source.read_bytes())
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "registries", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    return origin


def merge_change(origin: Path, where: Path, old: str, new: str) -> None:
    """Another change lands on main: one edit of the registry file."""
    other = clone(origin, where)
    path = other / "registries" / "registries.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    git("commit", "--quiet", "-am", "another change", cwd=other)
    git("push", "--quiet", "origin", "main", cwd=other)


def live(hss: Hss) -> dict[str, dict[str, Any]]:
    response = httpx.get(
        f"{hss.server.url}/v5/{PROJECT}/image/registries",
        params={"limit": 200},
        headers={"X-Auth-Token": hss.token},
    )
    response.raise_for_status()
    return {r["registry_name"]: r for r in response.json()["data_list"]}


def base_env(hss: Hss | None, tmp_path: Path) -> dict[str, str]:
    """The runner's environment: the emulator's endpoint, this checkout's CLI first on PATH."""
    env = (
        hss.env(aksk=True)
        if hss
        else {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD", "CLOUD_SDK", "HSS_"))}
    )
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"):  # only what the recipe passes
        env.pop(name, None)
    env["PATH"] = str(Path(CLI).parent) + os.pathsep + env.get("PATH", "")
    env.update(GIT_ENV)
    env.update({"CI": "true", "HOME": str(tmp_path)})
    # pip, when a recipe's install line runs: into a throwaway target, never to an index
    env.update(
        {
            "PIP_TARGET": str(tmp_path / "site"),
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_CACHE_DIR": "1",
        }
    )
    return env


def run_bash(script: str, env: dict[str, str], cwd: Path) -> Result:
    proc = subprocess.run(
        [*BASH, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True)
class Wheel:
    path: Path
    sha256: str


def build_wheel(directory: Path) -> Wheel:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "-q",
            "--disable-pip-version-check",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(directory),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = directory.glob("hss_reconciler-*.whl")
    return Wheel(path, hashlib.sha256(path.read_bytes()).hexdigest())


def requirements_for(wheel: Wheel, base_url: str, *, sha256: str | None = None) -> bytes:
    """A lock file shaped like the template, for the wheel the fake release host serves."""
    return (
        f"hss-reconciler @ {base_url}/wheels/{wheel.path.name} \\\n"
        f"    --hash=sha256:{sha256 or wheel.sha256}\n"
    ).encode()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    """This checkout's wheel, built once per module, for the fake release host."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def apply_directly(hss: Hss, workspace: Path, home: Path) -> None:
    """Someone applies the registry files outside CI (to make HSS match them, or to move the state on)."""
    env = {**hss.env(aksk=True), "HOME": str(home), **PASSWORDS}
    applied = run_cli("apply", str(workspace), "--auto-approve", env=env)
    assert applied.code == 0, applied.output


def plan_zip(plan: Path) -> bytes:
    """An artifact as GitHub serves it: a zip holding plan.json."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("plan.json", plan.read_bytes())
    return buffer.getvalue()


# --- the fake services ----------------------------------------------------------------------------

Route = Callable[["FakeApi", dict[str, Any]], None]


class FakeApi(BaseHTTPRequestHandler):
    """Dispatches to `routes`: (METHOD, path regex) -> handler(self, body). Answers as documented."""

    store: dict[str, Any]
    routes: list[tuple[str, str, Route]]
    auth_header: tuple[str, str]

    def send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @property
    def query(self) -> dict[str, str]:
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.path).query))

    def _route(self, method: str) -> None:
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length)) if length else {}
        self.store["calls"].append(f"{method} {path}")
        for verb, pattern, handler in self.routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                public = path.startswith(("/wheels/", "/blob/", "/oidc"))
                name, value = self.auth_header
                if not public and self.headers.get(name) != value:
                    self.send(401, {"message": "Bad credentials"})
                    return
                self.match = match
                handler(self, body)
                return
        self.send(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def log_message(self, *args: Any) -> None:
        pass


def serve_wheel(api: FakeApi, _: dict[str, Any]) -> None:
    wheel: Wheel = api.store["wheel"]
    api.send(200, wheel.path.read_bytes())


@dataclass
class Service:
    url: str
    store: dict[str, Any] = field(default_factory=dict)


def start_service(
    routes: list[tuple[str, str, Route]], auth_header: tuple[str, str], store: dict[str, Any]
) -> Iterator[Service]:
    store.setdefault("calls", [])
    handler = type(
        "Handler",
        (FakeApi,),
        {
            "store": store,
            "auth_header": auth_header,
            "routes": [*routes, ("GET", r"/wheels/[\w.-]+", serve_wheel)],
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Service(f"http://127.0.0.1:{server.server_address[1]}", store)
    finally:
        server.shutdown()
        server.server_close()
