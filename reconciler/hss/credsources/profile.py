"""The profile file: ``~/.huaweicloud/credentials`` or ``HUAWEICLOUD_SDK_CREDENTIALS_FILE``.

The SDK's format (huaweicloudsdkcore ``ProfileCredentialProvider``): INI,
read with ``configparser``; the default section is ``[basic]`` with keys
``ak``, ``sk``, ``security_token``, ``idp_id``, ``id_token_file`` and
``iam_endpoint`` (``project_id`` and ``domain_id`` are ignored here: a target
names its project). ``idp_id`` + ``id_token_file`` wins over ``ak`` + ``sk``, as
in the SDK. A target's ``credentials: {profile: NAME}`` reads section
``[NAME]`` of the same file (``basic`` is the default one), so one workspace
can span accounts; the SDK itself only reads ``[basic]`` and ``[global]``, and
ignores the others.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping

from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import Credentials, Federation, both_or_neither, is_header_token
from reconciler.hss.credsources.answer import MAX_KEY_CHARS, MAX_SECURITY_TOKEN_CHARS
from reconciler.hss.credsources.files import read_text
from reconciler.secrets import Secret

FILE_VARIABLE = "HUAWEICLOUD_SDK_CREDENTIALS_FILE"
DEFAULT_PROFILE = "basic"
MAX_FILE_BYTES = 256 * 1024


def profile_path(environ: Mapping[str, str]) -> tuple[str | None, bool]:
    """The file, and whether the user named it (a named file must exist; the default may not)."""
    named = environ.get(FILE_VARIABLE)
    if named:
        return named, True
    home = environ.get("HOME")
    return (os.path.join(home, ".huaweicloud", "credentials") if home else None), False


def _parse(text: str, path: str) -> configparser.ConfigParser:
    """The file as configparser reads it (strict: a section or key twice is an error).

    configparser's own messages quote the offending line, which may hold a
    secret key: only line numbers and names leave here.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as exc:  # a ParsingError without .errors
        raise ReconcilerError(f"profile file {path}: line {exc.lineno}: a key before any [section] "
                              "(the first line must be one, such as [basic])") from None
    except configparser.ParsingError as exc:
        lines = ", ".join(str(number) for number, _ in exc.errors[:5])
        raise ReconcilerError(f"profile file {path}: line {lines}: "
                              "not 'key = value' or a [section]") from None
    except configparser.DuplicateSectionError as exc:
        raise ReconcilerError(f"profile file {path}: line {exc.lineno}: section [{_shown(exc.section)}] "
                              "appears twice") from None
    except configparser.DuplicateOptionError as exc:
        raise ReconcilerError(f"profile file {path}: line {exc.lineno}: key {_shown(exc.option)!r} appears "
                              f"twice in section [{_shown(exc.section)}]") from None
    except configparser.Error:  # none other is raised by read_string; never its text, just in case
        raise ReconcilerError(f"profile file {path}: not in the SDK's INI format") from None
    return parser


def _shown(name: str) -> str:
    """A section or key name, short and printable: it came from the file."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in name[:64])


def _check(values: dict[str, str | None], where: str) -> None:
    """Each credential printable ASCII (it goes into a header) and of a plausible length; never shown."""
    for key, value in values.items():
        if value is None:
            continue
        limit = MAX_SECURITY_TOKEN_CHARS if key == "security_token" else MAX_KEY_CHARS
        if not is_header_token(value) or len(value) > limit:
            Secret(value)
            raise ReconcilerError(f"{where}{key} holds characters other than printable ASCII, "
                                  f"or more than {limit}")


def from_profile(environ: Mapping[str, str], profile: str | None) -> Credentials | Federation | None:
    """The profile's credentials; None when the default profile is not configured (the chain goes on).

    A named profile (a target's ``credentials: {profile: ...}``) must exist and hold credentials.
    """
    path, named_file = profile_path(environ)
    section = profile or DEFAULT_PROFILE
    source = f"profile {section!r}"
    required = named_file or profile is not None
    if path is None or not (required or os.path.lexists(path)):
        if profile is not None:
            raise ReconcilerError(f"{source}: no profile file (set HOME or {FILE_VARIABLE})")
        return None
    # A byte-order mark (Windows Notepad writes one) is not part of the first [section].
    parser = _parse(read_text(path, MAX_FILE_BYTES, source, "profile file").removeprefix("\ufeff"), path)
    if not parser.has_section(section):
        if profile is None:
            return None
        raise ReconcilerError(f"{source}: profile file {path} has no [{section}] section")
    values = dict(parser.items(section))
    where = f"{source} in {path}: "
    idp_id, token_file = values.get("idp_id") or None, values.get("id_token_file") or None
    if both_or_neither(("idp_id", idp_id), ("id_token_file", token_file), where):
        assert idp_id is not None and token_file is not None
        return Federation(idp_id, token_file, values.get("iam_endpoint") or None, source)
    ak, sk = values.get("ak") or None, values.get("sk") or None
    if sk:
        Secret(sk)
    if not both_or_neither(("ak", ak), ("sk", sk), where):
        if profile is None:
            return None
        raise ReconcilerError(f"{where}neither ak and sk nor idp_id and id_token_file are set")
    token = values.get("security_token") or None
    _check({"ak": ak, "sk": sk, "security_token": token}, where)
    assert ak is not None and sk is not None
    return Credentials(access_key=ak, secret_key=Secret(sk),
                       security_token=Secret(token) if token else None, source=source)
