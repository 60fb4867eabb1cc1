"""Entry point: signals, argument parsing and the one error handler.

Only argparse and the standard library are imported here; each command's
modules are imported when it runs, so `--version` and `--help` start fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import signal
import sys
from collections.abc import Callable, Sequence

from reconciler import __version__
from reconciler.cli.argv import UsageError, rewrite
from reconciler.cli.helptext import (
    EXIT_BUG,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    epilog,
    exit_codes,
)

TYPE_CHECKING = False  # typing costs 4 ms of every start; mypy reads the block below anyway
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from reconciler.cli.output import Output

# Exit codes live in cli/helptext.py with their meanings (--help and README list them);
# 2 is only plan --detailed-exitcode's "changes present", so usage errors exit 1.
FORMATS = ("text", "json", "markdown")
# --parallelism's ceiling (the refresh reads at most 64 targets at once, too): each worker is a
# thread and a pooled connection, and more mostly meet the gateway's 429s, which apply/pacing.py
# slows every worker down for anyway. 999999 is a typo, not a request.
MAX_PARALLELISM = 64


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line and exit 1, so exit 2 only ever means 'changes present'.

    `late_options` adds options whose definitions are costly to import (the
    emulator's) the first time this parser parses or shows its help, which is
    whenever argparse hands it a command line: they are part of the parser
    whatever the argv, and `--version` does not pay for them.

    No parser accepts a prefix of a long option (`allow_abbrev=False`):
    `--lock=false` would otherwise be read as `--lock-timeout`, and any new
    option could change what an old command line means.
    """

    def __init__(self, *args: Any, late_options: Callable[[argparse.ArgumentParser], None] | None = None,
                 epilog_of: Callable[[], str] | None = None, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)
        self._late_options = late_options
        self._epilog_of = epilog_of  # the help's last part (cli/helptext.py), made only if help is shown

    def _add_late_options(self) -> None:
        if self._late_options is not None:
            add, self._late_options = self._late_options, None
            add(self)

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: Any = None) -> tuple[Any, list[str]]:
        self._add_late_options()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_late_options()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_late_options()
        if self._epilog_of is not None:
            self.epilog, self._epilog_of = self._epilog_of(), None
        return super().format_help()

    def _get_option_tuples(self, option_string: str) -> list[Any]:
        """Only `-vv`-style clusters of a one-letter option: never a prefix of `-out`.

        `allow_abbrev=False` stops argparse completing `--lo` only; a single-dash
        prefix (`-o`, `-ou`) would still be read as `-out`.
        """
        short = option_string[:2]
        return [match for match in super()._get_option_tuples(option_string) if match[1] == short]

    def error(self, message: str) -> NoReturn:
        from reconciler.cli.output import Output
        from reconciler.cli.suggest import hint

        # The message echoes what was typed, which may hold an escape sequence or a bidi
        # control (or a pasted secret): it goes through Output like every other line. No
        # colour: --no-color may be among the words that failed to parse.
        out = Output(no_color=True)
        out.error(hint(message, self))
        out.info(f"Run '{self.prog} --help' for usage.")
        raise SystemExit(EXIT_ERROR)


class _Commands(argparse._SubParsersAction):
    """Subcommands that parse into the namespace the options before them filled.

    argparse's own action parses a command's options into a fresh namespace and
    copies every value over, defaults included, so the default of a global
    option repeated in the command's parser overwrote the value given before
    the command (`--log-level debug plan` logged at warning). Parsing into the
    same namespace, a command's parser fills in only what is still missing: a
    global option means the same before the command, after it and after a
    `state` subcommand; given twice, the later one wins and `-v` counts add up.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        name, *arg_strings = values
        setattr(namespace, self.dest, name)
        command = self._name_parser_map[name]  # argparse has refused an unknown name already
        _, unknown = command.parse_known_args(arg_strings, namespace)
        if unknown:  # the command's parser reports them: it knows which options were meant (did-you-mean)
            command.error(f"unrecognized arguments: {' '.join(unknown)}")


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parallelism(text: str) -> int:
    """1 to MAX_PARALLELISM: each worker is a thread with its own connection to HSS."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PARALLELISM:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_PARALLELISM}")
    return value


MAX_DURATION = 7 * 24 * 3600.0  # no wait of this tool is sensibly longer; inf and 1e300h are typos


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(text: str) -> float:
    """'90', '90s', '2m', '1h', and Terraform's (Go's) '1h1m', '1m30s', '500ms' -> seconds."""
    import re

    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)", text)
    if "".join(n + u for n, u in parts) == text and (len(parts) > 1 or text.endswith("ms")):
        number, unit = str(sum(float(n) * _UNITS[u] for n, u in parts)), "s"
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration such as 30s or 5m, got {text!r}") from None
    if seconds != seconds or seconds < 0:  # NaN compares unequal to itself
        raise argparse.ArgumentTypeError(f"expected a duration such as 30s or 5m, got {text!r}")
    if seconds > MAX_DURATION:  # also what every wait can be given (threading.TIMEOUT_MAX is ~292 years)
        raise argparse.ArgumentTypeError(f"{text!r} is longer than 7 days")
    return seconds


def _location(text: str) -> str:
    """A path or URL: never empty, which would silently mean the default (an unset $STATE)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path or URL, got an empty value")
    return text


def _request_timeout(text: str) -> float:
    seconds = _duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration longer than 0s, got {text!r}")
    return seconds


def _connection_options(parser: argparse.ArgumentParser) -> None:
    """Every command that calls HSS: TLS verification, and a bound on each call
    (engine Connection.request_timeout)."""
    parser.add_argument("--ca-bundle", metavar="FILE", help="extra CA bundle for TLS verification")
    parser.add_argument("--insecure", action="store_true",
                        help="do not verify TLS certificates (prints a warning; never in production)")
    parser.add_argument("--request-timeout", type=_request_timeout, default=60.0, metavar="DURATION",
                        help="the most one HSS call may take, retries included, e.g. 30s or 2m "
                             "(default: 60s)")


def _common() -> _Parser:
    """The global options: every parser has them, so they go before or after a command (see _Commands)."""
    common = _Parser(add_help=False)
    group = common.add_argument_group("global options (before or after the command)")
    group.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"),
                       help="log level for messages on stderr (default: warning)")
    group.add_argument("-v", "--verbose", action="count", default=0,
                       help="more logging: -v info, -vv debug")
    group.add_argument("--no-color", action="store_true", help="no ANSI colour (NO_COLOR is honoured too)")
    group.add_argument("--allow-http", action="store_true",
                       help="allow a plain-http HSS endpoint outside loopback (prints a warning; "
                            "credentials and passwords then cross the network unencrypted)")
    return common


def _workspace(detailed: bool) -> _Parser:
    ws = _Parser(add_help=False)
    ws.add_argument("paths", nargs="*", metavar="PATH",
                    help="registry files or directories of *.yaml/*.yml (default: .)")
    ws.add_argument("--state", type=_location, metavar="PATH|URL",
                    help="state file, or a shared store: s3://BUCKET/KEY?endpoint=URL&region=R or "
                         "postgresql://USER@HOST:PORT/DB?table=T (default: HSS_STATE, else "
                         "hss-reconciler.state.json in the workspace directory)")
    ws.add_argument("--refresh", type=_bool, default=True, metavar="BOOL",
                    help="read the live registries from HSS first (default: true)")
    ws.add_argument("--target", action="append", metavar="NAME",
                    help="only plan this registry (name or address); repeatable")
    ws.add_argument("--no-destroy", action="store_true",
                    help="delete nothing from HSS: forget undeclared registries; refuse a replace")
    ws.add_argument("--parallelism", type=_parallelism, default=10, metavar="N",
                    help=f"concurrent HSS calls, 1 to {MAX_PARALLELISM} (default: 10)")
    _connection_options(ws)
    ws.add_argument("--format", choices=FORMATS, default="text",
                    help="text for people, json for machines (schemas/plan, apply-output and "
                         "show-output.schema.json), "
                         "markdown for a pull-request comment (default: text)")
    if detailed:
        ws.add_argument("--detailed-exitcode", action="store_true",
                        help="exit 0 when there are no changes, 2 when there are, 1 on error")
    return ws


def _state_file(parser: argparse.ArgumentParser, where: str = "in the workspace directory") -> None:
    parser.add_argument("--state", type=_location, metavar="PATH|URL",
                        help=f"state file or s3:// / postgresql:// URL (default: HSS_STATE, else "
                             f"hss-reconciler.state.json {where})")


def _state_workspace(parser: argparse.ArgumentParser) -> None:
    """The PATHs plan was given: the state is found where plan and apply find it."""
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="the registry files or directories plan is given; the state is beside "
                             "them (default: .)")
    _state_file(parser, "in the first PATH's directory, as plan finds it")


def _always_lock(text: str) -> bool:
    if not _bool(text):
        raise argparse.ArgumentTypeError(
            "this command writes the state and always locks it first; wait for another run with "
            "--lock-timeout 2m, or release a dead run's lock with 'hss-reconciler force-unlock LOCK_ID'")
    return True


def _locking(parser: argparse.ArgumentParser, *, writes: bool) -> None:
    """--lock and --lock-timeout, as Terraform has them; a run that writes cannot turn the lock off."""
    if writes:
        parser.add_argument("--lock", type=_always_lock, default=True, metavar="BOOL",
                            help="lock the state while writing it; only true is accepted (default: true)")
        parser.add_argument("--lock-timeout", type=_duration, default=0.0, metavar="DURATION",
                            help="wait this long for another run's state lock, e.g. 30s or 2m (default: 0s)")
    else:
        parser.add_argument("--lock", type=_bool, default=True, metavar="BOOL",
                            help="accepted for Terraform command lines; this command reads the state "
                                 "without a lock (it is written atomically), whatever the value")
        parser.add_argument("--lock-timeout", type=_duration, default=0.0, metavar="DURATION",
                            help="accepted for Terraform command lines; no lock is waited for")


def _input(parser: argparse.ArgumentParser, asks: bool = True) -> None:
    if asks:
        help_text = ("ask for approval when needed; false: never ask, so apply needs --auto-approve or "
                     "a plan file (default: true)")
    else:
        help_text = "accepted for Terraform command lines; this command never asks, whatever the value"
    parser.add_argument("--input", type=_bool, default=True, metavar="BOOL", help=help_text)


def _emulator_options(parser: argparse.ArgumentParser) -> None:
    # They live with the emulator, whose package imports its server (0.2 s): added when used.
    importlib.import_module("reconciler.emulator.cli_args").add_arguments(parser)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command. `command` is ignored: the parser no longer depends on argv."""
    common = _common()
    parser = _Parser(
        prog="hss-reconciler",
        description="Declare the image registries Huawei Cloud HSS scans in YAML; plan and apply them.",
        parents=[common], epilog_of=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hss-reconciler {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, action=_Commands)
    formatter = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("validate", parents=[common], formatter_class=formatter, epilog_of=exit_codes,
                       help="check registry files (no network, no credentials)",
                       description="Check registry files against the schema and each other.\n\n"
                                   "example:\n  hss-reconciler validate registries/ --check-env")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    p.add_argument("--check-env", action="store_true",
                   help="also check every {env: ...}/{file: ...} reference resolves to 1-128 characters "
                        "on one line, not only spaces")
    p.add_argument("--workspace-of", action="store_true",
                   help="validate the whole directory each PATH is in (every registry file there, as plan "
                        "reads it), not only the files named: the pre-commit hook passes only staged files")

    p = sub.add_parser("plan", parents=[common, _workspace(True)], formatter_class=formatter,
                       epilog_of=epilog,
                       help="show what apply would change",
                       description="Refresh from HSS and show what apply would change. Writes nothing "
                                   "but the plan file you ask for.\n\n"
                                   "example:\n  hss-reconciler plan registries/ -out plan.json")
    p.add_argument("-out", "--out", metavar="FILE",
                   help="save the plan (no secrets, references only) for 'apply FILE'")
    p.add_argument("--refresh-only", action="store_true",
                   help="plan only to record in the state what HSS has now (drift), changing nothing in HSS")
    _locking(p, writes=False)
    _input(p, asks=False)

    p = sub.add_parser("apply", parents=[common, _workspace(False)], formatter_class=formatter,
                       epilog_of=epilog,
                       help="make HSS match the registry files",
                       description="Plan, ask for approval, then make HSS match the files. Given a "
                                   "saved plan file, apply exactly that plan; if the state or the "
                                   "files changed since it was made, change nothing and exit 4.\n\n"
                                   "examples:\n  hss-reconciler apply registries/ --auto-approve\n"
                                   "  hss-reconciler apply plan.json")
    p.add_argument("--auto-approve", action="store_true", help="do not ask for 'yes'")
    p.add_argument("--force", action="store_true",
                   help="apply even when the plan destroys more than the safety threshold")
    p.add_argument("--wait", action="store_true",
                   help="wait until new and updated registries leave 'accessing'; any 'fail' exits 1")
    p.add_argument("--wait-timeout", type=_duration, default=300.0, metavar="DURATION",
                   help="how long --wait waits (default: 5m)")
    p.add_argument("--refresh-only", action="store_true",
                   help="change nothing in HSS: after approval, record what HSS has now in the state, "
                        "so accepted drift stops being reported")
    _locking(p, writes=True)
    _input(p)

    p = sub.add_parser("show", parents=[common, _workspace(False)], formatter_class=formatter,
                       epilog_of=epilog,
                       help="show the managed registries, or a saved plan",
                       description="Show what the state manages, with each registry's access status "
                                   "from HSS; or render a saved plan file.\n\n"
                                   "examples:\n  hss-reconciler show registries/\n"
                                   "  hss-reconciler show plan.json --format markdown")

    p = sub.add_parser("import", parents=[common], formatter_class=formatter, epilog_of=epilog,
                       help="adopt one existing HSS registry into the state",
                       description="Record an existing HSS registry as managed by the file that "
                                   "declares it.\n\nexample:\n"
                                   "  hss-reconciler import registries/prod.yaml harbor-prod 1d3c...e9")
    p.add_argument("target_file", metavar="TARGET_FILE", help="the registry file that declares NAME")
    p.add_argument("name", metavar="NAME", help="registry_name as declared")
    p.add_argument("registry_id", metavar="ID", help="the registry's HSS id")
    _state_file(p, "beside TARGET_FILE")
    _locking(p, writes=True)
    _input(p, asks=False)
    _connection_options(p)

    p = sub.add_parser("export", parents=[common], formatter_class=formatter, epilog_of=epilog,
                       help="write a registry file for the registries a target already has in HSS",
                       description="List one target's registries and write one registry file declaring "
                                   "them as HSS has them, each password an {env: NAME} reference; the "
                                   "next plan adopts them.\n\nexample:\n  hss-reconciler export "
                                   "--region ap-southeast-1 --project-id 0b5f... --out registries/")
    p.add_argument("--region", required=True, metavar="REGION", help="the target's region")
    p.add_argument("--project-id", required=True, metavar="ID", help="the target's project")
    p.add_argument("--enterprise-project-id", default="0", metavar="ID", help="(default: 0)")
    p.add_argument("--endpoint", metavar="URL",
                   help="HSS endpoint, also written into the file (default: HSS_ENDPOINT, then the region's)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory of the file (made if missing)")
    p.add_argument("--state", type=_location, metavar="PATH|URL",
                   help="leave out the registries this state manages: a file, s3:// or postgresql:// URL, as "
                        "plan takes (default: HSS_STATE, if set); only read, never locked")
    p.add_argument("--overwrite", action="store_true", help="replace the file if it exists")
    _connection_options(p)

    p = sub.add_parser("state", parents=[common], formatter_class=formatter, epilog_of=exit_codes,
                       help="inspect, edit or move the state: list, show, rm, pull, push, migrate",
                       description="Read or edit the state (a file or a shared store). Give the PATHs "
                                   "plan is given (or --state): the state is found where plan finds it.\n\n"
                                   "examples:\n  hss-reconciler state list registries/\n"
                                   "  hss-reconciler state rm harbor-old registries/")
    state_sub = p.add_subparsers(dest="state_command", metavar="SUBCOMMAND", parser_class=_Parser,
                                 action=_Commands, required=True)
    q = state_sub.add_parser("list", parents=[common], help="one address per managed registry")
    _state_workspace(q)
    q = state_sub.add_parser("show", parents=[common], help="everything the state holds for NAME")
    q.add_argument("name", metavar="NAME", help="registry name or address")
    _state_workspace(q)
    q = state_sub.add_parser("rm", parents=[common],
                             help="forget NAME: drop it from the state, keep it in HSS")
    q.add_argument("name", metavar="NAME", help="registry name or address")
    _state_workspace(q)
    _locking(q, writes=True)
    q = state_sub.add_parser("pull", parents=[common], help="write the state (local or shared) to stdout")
    _state_workspace(q)
    q = state_sub.add_parser("push", parents=[common],
                             help="make FILE the state: refused if it is older or of another lineage")
    q.add_argument("file", metavar="FILE", help="a state file, e.g. one 'state pull' wrote")
    q.add_argument("--force", action="store_true",
                   help="push even an older state or one of another lineage (the serial still goes up)")
    _state_workspace(q)
    _locking(q, writes=True)
    q = state_sub.add_parser("migrate", parents=[common],
                             help="copy the state to another store under both locks, and verify it")
    q.add_argument("--to", type=_location, required=True, metavar="PATH|URL", help="where the state goes")
    q.add_argument("--force", action="store_true", help="replace a different state already there")
    _state_workspace(q)
    _locking(q, writes=True)

    p = sub.add_parser("upload-command", parents=[common], formatter_class=formatter, epilog_of=epilog,
                       help="print the scan component upload commands for an 'Other' registry",
                       description="Ask HSS for the commands that upload the scan component for a "
                                   "registry whose get_scan_image_channel is Other.\n\n"
                                   "example:\n  hss-reconciler upload-command jfrog-build registries/")
    p.add_argument("name", metavar="NAME", help="registry name or address")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    _connection_options(p)

    p = sub.add_parser("force-unlock", parents=[common], formatter_class=formatter,
                       epilog_of=exit_codes,
                       help="release a state lock left by a run that died",
                       description="Remove the state lock with this id. Only when no run holds it. The "
                                   "state is found where plan finds it.\n\n"
                                   "example:\n  hss-reconciler force-unlock 6f1e... registries/")
    p.add_argument("lock_id", metavar="LOCK_ID", help="the id the lock error printed")
    _state_workspace(p)

    p = sub.add_parser("fmt", parents=[common], formatter_class=formatter, epilog_of=exit_codes,
                       help="rewrite registry files in the canonical layout (comments kept)",
                       description="Rewrite registry files with keys in API order, comments kept.\n\n"
                                   "example:\n  hss-reconciler fmt --check registries/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is not formatted")

    sub.add_parser("schema", parents=[common], formatter_class=formatter,
                   help="print the JSON Schema of registry files",
                   description="Print the registry file JSON Schema, for editors.\n\n"
                               "example:\n  hss-reconciler schema > .vscode/hss-registries.schema.json")

    sub.add_parser("emulator", parents=[common], formatter_class=formatter, late_options=_emulator_options,
                   help="run a local HSS emulator",
                   description="A local HSS server for tests and demos.\n\n"
                               "example:\n  hss-reconciler emulator --port 8080 --token dev-token")

    sub.add_parser("demo", parents=[common], formatter_class=formatter,
                   help="validate, plan, apply and plan again on examples/quickstart against the emulator",
                   description="Runs the whole workflow against an in-process emulator.\n\n"
                               "example:\n  hss-reconciler demo")
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so cleanup runs the same way."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated()


def _catch_signals() -> Callable[[], None]:
    """From now on Ctrl-C raises KeyboardInterrupt and SIGTERM Terminated; returns the undo.

    SIGTERM unwinds like Ctrl-C, so `with` blocks release state locks on the way
    out; apply installs its own gentler handlers while changes run
    (cli/interrupts.py). A SIGINT the parent ignores (`cmd &` in a script) stays
    ignored, as Python leaves it. Outside the main thread Python cannot install
    handlers, and the caller's stay.
    """
    wanted = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: _terminated}
    previous = {}
    try:
        for signum, handler in wanted.items():
            if signum == signal.SIGINT and signal.getsignal(signum) is signal.SIG_IGN:
                continue
            previous[signum] = signal.signal(signum, handler)
    except ValueError:
        pass

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _run(args: argparse.Namespace, out: Output) -> int:
    """The command, with every error it did not handle turned into one message and an exit code."""
    try:
        module_name = {"import": "import_"}.get(args.command, args.command.replace("-", "_"))
        module = importlib.import_module(f"reconciler.cli.commands.{module_name}")
        code: int = module.run(args, out)
        return code
    except Exception as exc:
        import logging

        from reconciler.errors import ReconcilerError

        if isinstance(exc, ReconcilerError):
            for line in str(exc).split("\n"):  # only our own line breaks: a U+2028 in a name is escaped
                out.error(line)
            return exc.exit_code
        logging.getLogger("reconciler").debug("unexpected error", exc_info=True)
        out.error(f"An unexpected error has occurred ({type(exc).__name__}). This is a bug in "
                  "hss-reconciler; run again with --log-level debug to see the traceback.")
        return EXIT_BUG


# A command allocates hundreds of thousands of long-lived objects (modules, parsed
# files, the state) and makes few reference cycles; at the default threshold of
# 700 the collector walks the growing heap again and again for garbage it rarely
# finds (5-10% of a large plan). mypy makes the same trade: gc.set_threshold(200 * 1000, 30, 30).
GC_THRESHOLDS = (200_000, 30, 30)


def _interrupt_in(exc: BaseException) -> KeyboardInterrupt | None:
    """The interrupt `exc` is, or wraps: a signal that lands in a class's `__set_name__`
    while a module is being imported reaches us as a RuntimeError caused by it."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, KeyboardInterrupt):
        cause = cause.__cause__
    return cause


def main(argv: Sequence[str] | None = None) -> int:
    # First of all, so a signal while the CLI still imports or parses ends the run
    # like one during the command: 130 or 143, one line, no traceback.
    restore_signals = _catch_signals()
    out: Output | None = None
    try:
        gc.set_threshold(*GC_THRESHOLDS)
        parser = build_parser()
        try:  # Terraform's single-dash spellings become ours first (cli/argv.py has the table)
            words = rewrite(sys.argv[1:] if argv is None else argv)
        except UsageError as exc:
            parser.error(str(exc))
        args = parser.parse_args(words)
        if not args.command:
            parser.print_help()
            return EXIT_ERROR
        from reconciler.cli.logsetup import configure_logging
        from reconciler.cli.output import Output

        configure_logging(args.log_level, args.verbose)
        out = Output(no_color=args.no_color)
        code = _run(args, out)
    except (KeyboardInterrupt, RuntimeError) as exc:
        interrupt = _interrupt_in(exc)
        if interrupt is None:
            raise
        if out is None:
            sys.stderr.write("Error: interrupted\n")
        else:
            out.error("interrupted")
        return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED
    finally:
        restore_signals()
    # Everything is printed and saved: spare the collector a walk over every object
    # at interpreter exit (tens of milliseconds per command).
    gc.freeze()
    return code
