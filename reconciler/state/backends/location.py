"""The two shared-state URLs, parsed and checked before anything connects.

    s3://BUCKET/KEY?endpoint=URL&region=R[&style=path|virtual][&lock=off][&versioning=off][&timeout=60s]
    postgresql://USER@HOST:PORT/DB?table=T[&sslmode=MODE][&lock=off][&timeout=60s]

Every part is checked here, and a bad URL is one line naming the part. A
PostgreSQL password is refused in the URL (it would show in `ps`, CI logs and
saved plans): libpq reads it from PGPASSWORD, ~/.pgpass or a service file. A
parameter we do not know may be a credential someone put there by mistake
(`?password=`, `?aws_secret_access_key=`): its value is registered with the
redactor and the message shows only its name.

Neither store's traffic may cross the network unprotected: plain http is
refused outside loopback, and so is a PostgreSQL sslmode that lets libpq fall
back to an unencrypted or unverified connection (disable, allow, prefer).

An object key with `.` or `..` segments is refused: HTTP clients (httpx among
them) resolve them before sending, so `s3://state/../other/k` would read and
write the bucket `other`, not the one the URL names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from reconciler.config.warnings import is_loopback_host
from reconciler.errors import StateError

S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")  # leaves room for the _history and _lock suffixes
HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
UNPROTECTED_SSLMODES = SSLMODES[:3]  # libpq may connect without TLS, or to anyone, with these
MAX_KEY_BYTES = 1024
DEFAULT_TABLE = "hss_reconciler_state"
DEFAULT_TIMEOUT = 60.0  # seconds one request or statement to the store may take, as an HSS call
TIMEOUT = re.compile(r"^([1-9][0-9]{0,3})(s|m)?$")
MAX_TIMEOUT = 3600.0


@dataclass(frozen=True)
class S3Location:
    url: str
    bucket: str
    key: str
    endpoint: str  # scheme://host[:port], no path
    region: str
    virtual_host: bool  # bucket.host/key rather than host/bucket/key
    lock: bool
    versioning: bool = True  # False: versioning=off, the bucket need not keep previous versions
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class PgLocation:
    url: str
    user: str
    host: str
    port: int
    dbname: str
    table: str
    sslmode: str | None
    lock: bool
    timeout: float = DEFAULT_TIMEOUT


def _bad(shown: str, what: str) -> StateError:
    return StateError(f"{shown}: {what}")


def _hidden_query(url: str) -> str:
    """`url` with its query cut, for a message about a query that may hold a credential."""
    return url.partition("?")[0] + "?..."


def _query(shown: str, query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), max_num_fields=20)
    except ValueError:
        raise _bad(_hidden_query(shown),
                   "the query after '?' is not NAME=VALUE pairs joined by '&'") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            from reconciler.secrets import Secret

            Secret(value)  # ?password=... by mistake: no later message or log line can show it
            raise _bad(_hidden_query(shown), f"unknown parameter {name[:64]!r} (known: {', '.join(allowed)})")
        if name in found:
            raise _bad(shown, f"parameter {name!r} is given twice")
        found[name] = value
    return found


def _lock(shown: str, params: dict[str, str]) -> bool:
    value = params.get("lock", "on")
    if value not in ("on", "off"):
        raise _bad(shown, f"lock: expected on or off, got {value!r}")
    return value == "on"


def _timeout(shown: str, params: dict[str, str]) -> float:
    value = params.get("timeout")
    if value is None:
        return DEFAULT_TIMEOUT
    match = TIMEOUT.match(value)
    seconds = int(match.group(1)) * (60 if match.group(2) == "m" else 1) if match else 0
    if not 0 < seconds <= MAX_TIMEOUT:
        raise _bad(shown, f"timeout: expected whole seconds or minutes up to 1h, such as 30s or 2m, "
                          f"got {value[:64]!r}")
    return float(seconds)


def _nothing_dropped(shown: str, url: str) -> None:
    """Refuse what urlsplit would drop silently: a fragment, and tabs or line breaks anywhere."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise _bad(repr(shown), "the URL holds a control character (a tab or line break from the variable?); "
                          "remove it")
    if "#" in url:
        raise _bad(shown, "a '#' would end the URL there and the rest would be ignored; percent-encode "
                          "it as %23, or remove it")


def parse_s3(url: str) -> S3Location:
    shown = url
    _nothing_dropped(shown, url)
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise _bad("s3://...", "credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY (or the Huawei AK/SK variables)")
    bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
    if not S3_BUCKET.match(bucket) or ".." in bucket:
        raise _bad(shown, f"bucket {bucket!r} is not a valid bucket name (3-63 lower-case letters, digits, "
                          "dots and hyphens)")
    if not key or key.endswith("/"):
        raise _bad(shown, "needs an object key after the bucket, such as s3://bucket/hss/prod.state.json")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES or any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise _bad(shown, "the object key must be at most 1024 bytes without control characters")
    if any(segment in (".", "..") for segment in key.split("/")):
        raise _bad(shown, "the object key may not have '.' or '..' segments: they would be resolved "
                          "before sending and name another object, or another bucket")
    params = _query(shown, parts.query, ("endpoint", "region", "style", "lock", "versioning", "timeout"))
    region = params.get("region", "us-east-1")
    if not REGION.match(region):
        raise _bad(shown, f"region {region!r} is not a region name such as ap-southeast-1")
    endpoint = params.get("endpoint") or f"https://s3.{region}.amazonaws.com"
    target = urlsplit(endpoint)
    if target.scheme not in ("http", "https") or not target.hostname or target.path not in ("", "/") \
            or target.query or target.username or target.password:
        raise _bad(shown, "endpoint must be http(s)://HOST[:PORT], without a path, query or user")
    try:
        target.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise _bad(shown, "endpoint has a port that is not a number") from None
    if target.scheme == "http" and not is_loopback_host(target.hostname):
        raise _bad(shown, f"endpoint {endpoint} is plain http outside loopback: the state would cross "
                          "the network unencrypted; use https")
    style = params.get("style", "path")
    if style not in ("path", "virtual"):
        raise _bad(shown, f"style: expected path or virtual, got {style!r}")
    versioning = params.get("versioning", "on")
    if versioning not in ("on", "off"):
        raise _bad(shown, f"versioning: expected on or off, got {versioning!r}")
    return S3Location(url=shown, bucket=bucket, key=key, endpoint=f"{target.scheme}://{target.netloc}",
                      region=region, virtual_host=style == "virtual", lock=_lock(shown, params),
                      versioning=versioning == "on", timeout=_timeout(shown, params))


def parse_postgresql(url: str) -> PgLocation:
    parts = urlsplit(url)
    if parts.password is not None:
        from reconciler.secrets import Secret

        Secret(parts.password)  # registered: no later message or log line can show it
        raise _bad(f"{parts.scheme}://{parts.username}@{parts.hostname}/...",
                   "a password in the URL would show in process lists, CI logs and saved plans; set "
                   "PGPASSWORD or use ~/.pgpass and give the URL without it")
    shown = url
    _nothing_dropped(shown, url)
    if not parts.username:
        raise _bad(shown, "needs a user: postgresql://USER@HOST:PORT/DB?table=T")
    hostport = parts.netloc.rpartition("@")[2]
    host = hostport.rsplit(":", 1)[0] if ":" in hostport and not hostport.endswith("]") else hostport
    if not HOST.match(host):
        raise _bad(shown, f"host {host!r} is not a host name or address")
    try:
        port = parts.port or 5432
    except ValueError:
        raise _bad(shown, "the port is not a number from 1 to 65535") from None
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname or len(dbname) > 63:
        raise _bad(shown, "needs a database name after the host: postgresql://USER@HOST:PORT/DB")
    params = _query(shown, parts.query, ("table", "sslmode", "lock", "timeout"))
    table = params.get("table", DEFAULT_TABLE)
    if not IDENTIFIER.match(table):
        raise _bad(shown, f"table {table!r}: expected 1-41 lower-case letters, digits and _ (not first)")
    sslmode = params.get("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        raise _bad(shown, f"sslmode: expected one of {', '.join(SSLMODES)}")
    if sslmode is not None:
        unprotected_sslmode(shown, host, sslmode, "sslmode")
    return PgLocation(url=shown, user=unquote(parts.username), host=host.strip("[]"), port=port,
                      dbname=dbname, table=table, sslmode=sslmode, lock=_lock(shown, params),
                      timeout=_timeout(shown, params))


def unprotected_sslmode(shown: str, host: str, sslmode: str, given_by: str) -> None:
    """Refuse an sslmode that lets the state and the password cross the network in the clear
    (or to an impostor) when the server is not on this machine."""
    if sslmode in UNPROTECTED_SSLMODES and not is_loopback_host(host):
        raise _bad(shown, f"{given_by}={sslmode} lets libpq connect to {host} without TLS, so the state "
                          "and the password could cross the network unencrypted; use sslmode=require "
                          "(or verify-full, with the server's CA in PGSSLROOTCERT)")


def identity(location: str) -> tuple[str, ...]:
    """What names one stored state, however the URL is spelled (parameter order, style, case of the
    scheme): two locations with one identity are one state. A local path is its real path."""
    import os

    lowered = location.lower()
    if lowered.startswith("s3://"):
        s3 = parse_s3(location)
        return ("s3", s3.endpoint.lower(), s3.bucket, s3.key)
    if lowered.startswith(("postgresql://", "postgres://")):
        pg = parse_postgresql(location)
        return ("postgresql", pg.host.lower(), str(pg.port), pg.dbname, pg.table)
    return ("file", os.path.realpath(location))
