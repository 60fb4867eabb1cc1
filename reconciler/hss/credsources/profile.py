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
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(text, source=path)
    except configparser.ParsingError as exc:  # its own message quotes the line, which may be a secret
        lines = ", ".join(str(number) for number, _ in exc.errors[:5])
        raise ReconcilerError(f"profile file {path}: line {lines}: "
                              "not 'key = value' or a [section]") from None
    except configparser.Error as exc:  # duplicate section or key, a key before any section: no values
        raise ReconcilerError(f"profile file {path}: {exc.message.splitlines()[0][:200]}") from None
    return parser


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
    parser = _parse(read_text(path, MAX_FILE_BYTES, source, "profile file"), path)
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
    for key, value in (("ak", ak), ("sk", sk), ("security_token", token)):
        if value is not None and not is_header_token(value):
            Secret(value)
            raise ReconcilerError(f"{where}{key} holds characters other than printable ASCII")
    assert ak is not None and sk is not None
    return Credentials(access_key=ak, secret_key=Secret(sk),
                       security_token=Secret(token) if token else None, source=source)
