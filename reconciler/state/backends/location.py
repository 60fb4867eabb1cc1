"""The two shared-state URLs, parsed and checked before anything connects.

    s3://BUCKET/KEY?endpoint=URL&region=R[&style=path|virtual][&lock=off]
    postgresql://USER@HOST:PORT/DB?table=T[&sslmode=MODE]

Every part is checked here, and a bad URL is one line naming the part. A
PostgreSQL password is refused in the URL (it would show in `ps`, CI logs and
saved plans): libpq reads it from PGPASSWORD, ~/.pgpass or a service file.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from reconciler.errors import StateError

S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")  # leaves room for the _history and _lock suffixes
HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
MAX_KEY_BYTES = 1024
DEFAULT_TABLE = "hss_reconciler_state"


@dataclass(frozen=True)
class S3Location:
    url: str
    bucket: str
    key: str
    endpoint: str  # scheme://host[:port], no path
    region: str
    virtual_host: bool  # bucket.host/key rather than host/bucket/key
    lock: bool


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


def _bad(shown: str, what: str) -> StateError:
    return StateError(f"{shown}: {what}")


def _query(shown: str, query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), max_num_fields=20)
    except ValueError:
        raise _bad(shown, "the query after '?' is not NAME=VALUE pairs joined by '&'") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise _bad(shown, f"unknown parameter {name!r} (known: {', '.join(allowed)})")
        if name in found:
            raise _bad(shown, f"parameter {name!r} is given twice")
        found[name] = value
    return found


def _lock(shown: str, params: dict[str, str]) -> bool:
    value = params.get("lock", "on")
    if value not in ("on", "off"):
        raise _bad(shown, f"lock: expected on or off, got {value!r}")
    return value == "on"


def loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() == "localhost"
    return address.is_loopback


def parse_s3(url: str) -> S3Location:
    shown = url
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
    params = _query(shown, parts.query, ("endpoint", "region", "style", "lock"))
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
    if target.scheme == "http" and not loopback(target.hostname):
        raise _bad(shown, f"endpoint {endpoint} is plain http outside loopback: the state would cross "
                          "the network unencrypted; use https")
    style = params.get("style", "path")
    if style not in ("path", "virtual"):
        raise _bad(shown, f"style: expected path or virtual, got {style!r}")
    return S3Location(url=shown, bucket=bucket, key=key, endpoint=f"{target.scheme}://{target.netloc}",
                      region=region, virtual_host=style == "virtual", lock=_lock(shown, params))


def parse_postgresql(url: str) -> PgLocation:
    parts = urlsplit(url)
    if parts.password is not None:
        from reconciler.secrets import Secret

        Secret(parts.password)  # registered: no later message or log line can show it
        raise _bad(f"{parts.scheme}://{parts.username}@{parts.hostname}/...",
                   "a password in the URL would show in process lists, CI logs and saved plans; set "
                   "PGPASSWORD or use ~/.pgpass and give the URL without it")
    shown = url
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
    params = _query(shown, parts.query, ("table", "sslmode", "lock"))
    table = params.get("table", DEFAULT_TABLE)
    if not IDENTIFIER.match(table):
        raise _bad(shown, f"table {table!r}: expected 1-41 lower-case letters, digits and _ (not first)")
    sslmode = params.get("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        raise _bad(shown, f"sslmode: expected one of {', '.join(SSLMODES)}")
    return PgLocation(url=shown, user=unquote(parts.username), host=host.strip("[]"), port=port,
                      dbname=dbname, table=table, sslmode=sslmode, lock=_lock(shown, params))
