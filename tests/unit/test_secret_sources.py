"""Reading registry passwords ({env: NAME}, {file: PATH}) and HSS credentials from the environment.

Bad values are refused with a message naming the variable or file, never the
value, and never by crashing (exit 3) or hanging: bytes that are not UTF-8,
characters an HTTP header cannot carry, FIFOs, devices and huge files.
"""

from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import pytest

from reconciler.errors import ConfigError, ReconcilerError
from reconciler.hss.credentials import credentials_from_env
from reconciler.secrets import MASK, MAX_SECRET_LENGTH, REDACTOR, SecretRef

# b"Canary\xffPw-4d2e": what os.environ holds for bytes that are not UTF-8.
NOT_UTF8 = os.fsdecode(b"Canary\xffPw-4d2e")
# The most a secret file can hold: the longest value in 4-byte characters, plus CRLF.
MAX_SECRET_FILE_BYTES = MAX_SECRET_LENGTH * 4 + 2


def _file_ref(path: Path) -> SecretRef:
    return SecretRef("file", str(path))


def _resolve_file(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "pw.txt"
    path.write_bytes(content)
    return _file_ref(path).resolve().reveal()


def _error(ref: SecretRef, base_dir: Path | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        ref.resolve(base_dir)
    return str(caught.value)


# --- environment variables -------------------------------------------------------------------

def test_env_value_that_is_not_utf8_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW", NOT_UTF8)
    message = _error(SecretRef("env", "PW"))
    assert message == "environment variable PW is not valid UTF-8"
    assert "Canary" not in message


def test_env_value_that_is_not_utf8_is_still_masked_by_the_redactor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW", NOT_UTF8)
    _error(SecretRef("env", "PW"))
    assert REDACTOR.redact(f"oops {NOT_UTF8} oops") == f"oops {MASK} oops"


def test_redactor_registers_a_value_holding_surrogates_without_crashing() -> None:
    value = os.fsdecode(b"Surrogate\xfeValue-91")
    REDACTOR.register(value)
    assert REDACTOR.redact(f"[{value}]") == f"[{MASK}]"
    assert REDACTOR.redact("[Surrogate%FEValue-91]") == f"[{MASK}]"  # its URL-encoded form too


def test_env_value_in_utf8_beyond_ascii_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW", "pässwört-密码")
    assert SecretRef("env", "PW").resolve().reveal() == "pässwört-密码"


# --- files: line endings -----------------------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), [
    (b"abc", "abc"),
    (b"abc\n", "abc"),
    (b"abc\r\n", "abc"),
    (b"abc\n\n", "abc\n"),
    (b"abc\r\n\r\n", "abc\r\n"),
    (b"abc\r", "abc\r"),
    (b" abc \n", " abc "),
])
def test_file_loses_exactly_one_trailing_line_ending(tmp_path: Path, content: bytes, expected: str) -> None:
    assert _resolve_file(tmp_path, content) == expected


def test_file_holding_only_a_line_ending_is_empty(tmp_path: Path) -> None:
    (tmp_path / "pw.txt").write_bytes(b"\n")
    assert _error(_file_ref(tmp_path / "pw.txt")).endswith("holds 0 characters; HSS accepts 1-128")


# --- files: encoding ---------------------------------------------------------------------------

def test_file_that_is_not_utf8_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "pw.txt"
    path.write_bytes(b"Canary\xffPw-4d2e\n")
    message = _error(_file_ref(path))
    assert message == f"cannot read secret file {path}: not valid UTF-8"
    assert "Canary" not in message


def test_file_relative_path_is_relative_to_the_yaml_directory(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pw.txt").write_text("relative-pw\n", encoding="utf-8")
    assert SecretRef("file", "secrets/pw.txt").resolve(tmp_path).reveal() == "relative-pw"


# --- files: size bound -------------------------------------------------------------------------

def test_the_bound_fits_the_longest_value_in_the_widest_characters(tmp_path: Path) -> None:
    longest = "😀" * MAX_SECRET_LENGTH  # 4 bytes each in UTF-8
    content = (longest + "\r\n").encode()
    assert len(content) == MAX_SECRET_FILE_BYTES
    assert _resolve_file(tmp_path, content) == longest


def test_file_one_byte_past_the_bound_is_refused_as_too_long(tmp_path: Path) -> None:
    path = tmp_path / "pw.txt"
    path.write_bytes(b"x" * (MAX_SECRET_FILE_BYTES + 1))
    assert _error(_file_ref(path)) == (
        f"cannot read secret file {path}: longer than {MAX_SECRET_LENGTH} characters")


def test_file_of_129_characters_names_its_length(tmp_path: Path) -> None:
    path = tmp_path / "pw.txt"
    path.write_bytes(b"x" * 129 + b"\n")
    assert _error(_file_ref(path)) == f"{{file: {path}}} holds 129 characters; HSS accepts 1-128"


def test_huge_file_is_refused_without_being_read_into_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        block = b"x" * (1024 * 1024)
        for _ in range(20):
            handle.write(block)
    tracemalloc.start()
    try:
        message = _error(_file_ref(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message == f"cannot read secret file {path}: longer than {MAX_SECRET_LENGTH} characters"
    assert peak < 1024 * 1024, f"reading a refused 20 MB file allocated {peak} bytes"


# --- files: what is not a regular file ---------------------------------------------------------

def _error_within(ref: SecretRef, seconds: float = 5) -> str:
    """The error, from a daemon thread: a read that blocks fails the test instead of hanging it."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            ref.resolve()
        except BaseException as exc:  # handed to the test thread, which asserts on it
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"resolving {ref.describe()} blocked for {seconds}s"
    assert len(outcome) == 1 and isinstance(outcome[0], ConfigError), outcome
    return str(outcome[0])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pw.fifo"
    os.mkfifo(fifo)
    assert _error_within(_file_ref(fifo)) == f"cannot read secret file {fifo}: not a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_symlink_to_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pw.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "pw.txt"
    link.symlink_to(fifo)
    assert _error_within(_file_ref(link)) == f"cannot read secret file {link}: not a regular file"


def test_symlink_to_a_regular_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("linked-pw\n", encoding="utf-8")
    (tmp_path / "pw.txt").symlink_to(tmp_path / "real.txt")
    assert _file_ref(tmp_path / "pw.txt").resolve().reveal() == "linked-pw"


def test_directory_is_refused(tmp_path: Path) -> None:
    assert _error(_file_ref(tmp_path)) == f"cannot read secret file {tmp_path}: Is a directory"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.txt"
    assert _error(_file_ref(path)) == f"cannot read secret file {path}: No such file or directory"


# --- HSS credentials ---------------------------------------------------------------------------

AK = "HPUAXXXXXXXXXXXXXXXX"  # 20 characters, the shape IAM issues
SK = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"  # 40 characters
# IAM and STS tokens are long base64-like strings: letters, digits and + / = - _.
TOKEN = "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw-_+/=="


def test_well_formed_credentials_are_accepted() -> None:
    creds = credentials_from_env({"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK,
                                  "HUAWEICLOUD_SDK_SECURITY_TOKEN": TOKEN})
    assert creds.access_key == AK
    assert creds.secret_key is not None and creds.secret_key.reveal() == SK
    assert creds.security_token is not None and creds.security_token.reveal() == TOKEN
    token_creds = credentials_from_env({"HSS_AUTH_TOKEN": TOKEN})
    assert token_creds.auth_token is not None and token_creds.auth_token.reveal() == TOKEN


BAD_VALUES = {
    "non-ascii": "Canaryäöü12345",
    "not-utf8": os.fsdecode(b"Canary\xffsecret123"),
    "space": "Canary secret123",
    "newline": "Canarysecret123\n",
    "control": "Canary\x01secret123",
}


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=list(BAD_VALUES))
@pytest.mark.parametrize(("variable", "environ"), [
    ("HUAWEICLOUD_SDK_AK", {"HUAWEICLOUD_SDK_SK": SK}),
    ("HUAWEICLOUD_SDK_SK", {"HUAWEICLOUD_SDK_AK": AK}),
    ("CLOUD_SDK_AK", {"CLOUD_SDK_SK": SK}),
    ("CLOUD_SDK_SK", {"CLOUD_SDK_AK": AK}),
    ("HUAWEICLOUD_SDK_SECURITY_TOKEN", {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK}),
    ("HSS_AUTH_TOKEN", {}),
])
def test_credential_that_is_not_printable_ascii_is_refused_by_name(
        variable: str, environ: dict[str, str], bad: str) -> None:
    with pytest.raises(ReconcilerError) as caught:
        credentials_from_env({**environ, variable: bad})
    message = str(caught.value)
    assert message.startswith(f"{variable} holds characters other than printable ASCII")
    assert "\n" not in message
    assert "Canary" not in message and "secret123" not in message
