"""The whole test session, and every process it starts, gets a temporary HOME.

The official Huawei Cloud SDK (the oracle in tests/oracle/) writes
~/.huaweicloud/application_id when huaweicloudsdkcore.http.user_agent is
imported, which importing its credentials module does: at collection, so HOME
must move before any test module is imported. This file is imported first (the
top-level conftest), so that is done here, at import. Tools the tests start write
under HOME too: pre-commit's virtualenv keeps ~/.cache/virtualenv, and its
`cargo --version` probe makes rustup write ~/.rustup/settings.toml; pip, git and
check-jsonschema read or cache there. Every test builds its subprocess
environments from os.environ, so they inherit the temporary HOME and XDG
directories. Each pytest-xdist worker imports this file: each gets its own.

The guard: the real home, and the checkout itself, are snapshotted here and
compared when the session ends; a change fails the session (exit status 1) and
names what changed. Tests write only inside their temporary directories.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

if "huaweicloudsdkcore.http.user_agent" in sys.modules:  # pragma: no cover - a loud set-up error
    raise RuntimeError("huaweicloudsdkcore was imported before tests/conftest.py moved HOME: it may "
                       "already have written ~/.huaweicloud/application_id in the real home")

REAL_HOME = Path(os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir)
# Tools that ask the password database rather than HOME would write there.
_GUARDED = sorted({REAL_HOME, Path(pwd.getpwuid(os.getuid()).pw_dir)})

SESSION_HOME = Path(tempfile.mkdtemp(prefix="hss-reconciler-tests-home-")).resolve()
# pip finds its user configuration (an index mirror, find-links) through HOME; the
# pre-commit tests install through pip, so the real one still applies. Read, never written.
_PIP_CONFIGS = [Path(os.environ.get("XDG_CONFIG_HOME") or REAL_HOME / ".config") / "pip" / "pip.conf",
                REAL_HOME / ".pip" / "pip.conf"]
_REDIRECT = {
    "HOME": str(SESSION_HOME),
    "XDG_CONFIG_HOME": str(SESSION_HOME / ".config"),
    "XDG_CACHE_HOME": str(SESSION_HOME / ".cache"),  # pip, pre-commit, virtualenv
    "XDG_DATA_HOME": str(SESSION_HOME / ".local" / "share"),
    "XDG_STATE_HOME": str(SESSION_HOME / ".local" / "state"),
}
if "PIP_CONFIG_FILE" not in os.environ:
    _pip_config = next((path for path in _PIP_CONFIGS if path.is_file()), None)
    if _pip_config is not None:
        _REDIRECT["PIP_CONFIG_FILE"] = str(_pip_config)
_SAVED = {name: os.environ.get(name) for name in _REDIRECT}
os.environ.update(_REDIRECT)
# A developer's FORCE_COLOR would paint output the tests read as plain text (render/colors.py).
for _name in ("FORCE_COLOR", "CLICOLOR_FORCE"):
    _SAVED.setdefault(_name, os.environ.pop(_name, None))
# Where the tool finds credentials, endpoints and state, the runner's own must not leak in: a
# CI runner holding HUAWEICLOUD_SDK_IDP_ID, an AWS key or HSS_STATE would switch the tests to
# them. Each test sets what it needs. The profile and regions files live under HOME (moved above).
_RUNNER_PREFIXES = ("HUAWEICLOUD_SDK_", "HUAWEICLOUD_OIDC_", "CLOUD_SDK_", "HC_CONTAINER_", "HSS_", "AWS_",
                    "PG")
for _name in [name for name in os.environ if name.startswith(_RUNNER_PREFIXES)]:
    _SAVED.setdefault(_name, os.environ.pop(_name))
# On an ECS or CCE runner with an agency, the metadata service at 169.254.169.254 would hand the
# credential chain real keys; point it at a closed loopback port instead (it then finds none).
_SAVED.setdefault("HSS_METADATA_ENDPOINT", None)
os.environ["HSS_METADATA_ENDPOINT"] = "http://127.0.0.1:9"

# Where tools write in a home: its top level and the XDG directories (entries added or
# removed, files changed), and all of ~/.huaweicloud. Directories' times are left out
# there: programs running beside the tests (a shell, another tool's cache) change them.
_XDG_DIRS = (".cache", ".config", ".local", ".local/share", ".local/state")
Snapshot = dict[str, tuple[int, int, int]]


def snapshot(home: Path) -> Snapshot:
    """Relative path -> (mode, size, mtime) of what a tool writing to `home` would change."""
    found: Snapshot = {}

    def note(path: Path, *, times: bool = True) -> None:
        try:
            info = path.lstat()
        except OSError:
            return
        directory = stat.S_ISDIR(info.st_mode)
        found[str(path.relative_to(home))] = (
            info.st_mode, 0 if directory else info.st_size,
            info.st_mtime_ns if times or not directory else 0)

    def entries(directory: Path) -> list[Path]:
        try:
            return sorted(directory.iterdir()) if directory.is_dir() and not directory.is_symlink() else []
        except OSError:
            return []

    for path in entries(home):
        note(path, times=False)
    for name in _XDG_DIRS:
        for path in entries(home / name):
            note(path, times=False)
    for directory, _, files in os.walk(home / ".huaweicloud"):
        for name in ["", *files]:
            note(Path(directory, name))
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    return ([f"added   {name}" for name in sorted(after.keys() - before.keys())]
            + [f"removed {name}" for name in sorted(before.keys() - after.keys())]
            + [f"changed {name}" for name in sorted(before.keys() & after.keys())
               if before[name] != after[name]])


AT_START = {home: snapshot(home) for home in _GUARDED}  # before any test module is imported

# The checkout itself: a test that writes a relative path (a state file, an errored file) lands
# in the working directory, the repository root. Caches and venvs are the tools' own.
CHECKOUT = Path(__file__).resolve().parents[1]
_TOOL_DIRS = {".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".import_linter_cache", ".grimp_cache",
              "__pycache__", "node_modules"}


def checkout_snapshot() -> Snapshot:
    found: Snapshot = {}
    for directory, subdirs, files in os.walk(CHECKOUT):
        subdirs[:] = [d for d in subdirs if d not in _TOOL_DIRS and not d.startswith(".venv")
                      and not d.endswith(".egg-info")]
        for name in files:
            path = Path(directory, name)
            try:
                info = path.lstat()
            except OSError:
                continue
            found[str(path.relative_to(CHECKOUT))] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


CHECKOUT_AT_START = checkout_snapshot()
_REPORT = pytest.StashKey[list[str]]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller's session spans them all and checks once
    report = []
    written = changes(CHECKOUT_AT_START, checkout_snapshot())
    if written:
        report.append(f"the test session changed the checkout {CHECKOUT}; a test wrote outside its "
                      "temporary directory (a relative path lands in the repository root):")
        report.extend(f"  {line}" for line in written)
    for home, before in AT_START.items():
        found = changes(before, snapshot(home))
        if found:
            report.append(f"the test session changed the real home {home} (HOME was {SESSION_HOME}); "
                          "something wrote there without the temporary HOME, or ran beside the tests:")
            report.extend(f"  {line}" for line in found)
    if not report:
        return
    session.config.stash[_REPORT] = report
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if session.config.pluginmanager.get_plugin("terminalreporter") is None:
        sys.stderr.write("\n".join(report) + "\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = terminalreporter.config.stash.get(_REPORT, [])
    if report:
        terminalreporter.section("written outside the temporary directories", sep="!", red=True, bold=True)
        for line in report:
            terminalreporter.line(line, red=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _SAVED.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    # Tools leave read-only directories behind (caches): open them so all can go.
    for directory, _, _ in os.walk(SESSION_HOME):
        os.chmod(directory, stat.S_IRWXU)
    shutil.rmtree(SESSION_HOME, ignore_errors=True)
