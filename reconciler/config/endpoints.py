"""A target's HSS endpoint, found the way the official SDK finds a region's.

Precedence, first found wins:

1. ``HSS_ENDPOINT`` (every target at once), then the target's ``endpoint``:
   ours, and unchanged (``workspace._Merger.finish`` applies them);
2. ``HUAWEICLOUD_SDK_REGION_HSS_<REGION>``: a comma-separated endpoint list
   (the SDK's ``EnvRegionProvider``);
3. the regions file, ``HUAWEICLOUD_SDK_REGIONS_FILE`` or
   ``~/.huaweicloud/regions.yaml`` (the SDK's ``ProfileRegionCache``);
4. the SDK's built-in table (``reconciler.regions``).

Steps 2-4 are the SDK's ``HssRegion.value_of``. A region's list is used as
the SDK's client uses it: the first endpoint, then the next one when a
connection to it cannot be made (``hss/client.py``; ``connect.py`` hands the
list over only for a target whose endpoint came from the region, and only the
endpoints of the first's scheme). As the SDK does, an endpoint without a scheme gets
``https://``. Unlike the SDK, a malformed value or file is an error naming
the variable or the file, line and field, never silently skipped, and a
regions file named by ``HUAWEICLOUD_SDK_REGIONS_FILE`` must exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.atomicfile import FileTooLarge, read_regular
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.yamldoc import YamlDocument
from reconciler.config.yamlfile import decode_text, parse_yaml
from reconciler.errors import ConfigError
from reconciler.regions import SERVICE, builtin_endpoint, known_regions, region_env_name

REGIONS_FILE_ENV = "HUAWEICLOUD_SDK_REGIONS_FILE"
DEFAULT_REGIONS_FILE = Path(".huaweicloud") / "regions.yaml"
# The SDK's file lists a few services' regions: a few KiB. 256 KiB is far above that.
MAX_REGIONS_FILE_BYTES = 256 * 1024
MAX_ENDPOINTS = 16  # per region: failover lists are two or three long
_ENTRY_KEYS = ("id", "endpoint", "endpoints")


@dataclass(frozen=True)
class Resolved:
    """A region's endpoints (the first, then the next when it is unreachable) and where they came from."""

    endpoints: tuple[str, ...]
    source: str

    @property
    def endpoint(self) -> str:
        return self.endpoints[0]


@cache
def _endpoint_rule() -> tuple[re.Pattern[str], str]:
    # The same rule as target.endpoint in the registries schema, read from it: one rule, one wording.
    # Loaded only when an SDK variable or a regions file supplies an endpoint.
    from reconciler.schema import CONFIG_SCHEMA, load_schema

    spec = load_schema(CONFIG_SCHEMA)["properties"]["target"]["properties"]["endpoint"]
    return re.compile(spec["pattern"]), spec["patternErrorMessage"]


def _endpoint_problem(value: Any) -> tuple[str, str]:
    """(the endpoint as the SDK would use it, "") or ("", why it is refused). Never echoes the value."""
    if not isinstance(value, str):
        return "", "must be a string"
    if not value:
        return "", "is empty"
    # The SDK's client: anything not starting with "http" gets "https://".
    endpoint = value if value.startswith("http") else "https://" + value
    if not endpoint.isascii() or not endpoint.isprintable():  # said first: the more exact reason
        return "", "holds a control character or a non-ASCII character"
    pattern, wording = _endpoint_rule()
    if not pattern.match(endpoint):
        return "", f"must be {wording}"
    return endpoint, ""


class EndpointResolver:
    """Steps 2-4 above for one run: the regions file is read at most once, and only if needed."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self._file_regions: dict[str, Resolved] | None = None
        self._file_problem: ConfigProblems | None = None

    def resolve(self, region: str) -> Resolved | None:
        """The endpoints for ``region``; None if no source knows it.

        Raises ConfigProblems for a malformed variable or regions file.
        """
        name = region_env_name(region)
        listed = self.environ.get(name)
        if listed:  # set but empty is unset, as the SDK's `if not endpoint`
            return Resolved(_env_endpoints(name, listed), name)
        found = self.file_regions().get(region)
        if found is not None:
            return found
        builtin = builtin_endpoint(region)
        return Resolved((builtin,), "the SDK's built-in table") if builtin else None

    def file_regions(self) -> dict[str, Resolved]:
        if self._file_problem is not None:
            raise self._file_problem
        if self._file_regions is None:
            try:
                self._file_regions = _read_regions_file(self.regions_file())
            except ConfigProblems as exc:
                self._file_problem = exc
                raise
        return self._file_regions

    def regions_file(self) -> tuple[Path, bool] | None:
        """The regions file and whether it was named explicitly; None with neither a name nor a home."""
        named = self.environ.get(REGIONS_FILE_ENV)
        if named:
            return Path(named), True
        home = self.environ.get("HOME") or self.environ.get("USERPROFILE")  # the SDK's get_home_path
        return (Path(home) / DEFAULT_REGIONS_FILE, False) if home else None

    def unknown(self, region: str) -> str:
        """Why ``region`` has no endpoint, listing every region known, and how to name one."""
        known = sorted({*known_regions(), *(self._file_regions or {})})
        return (f"unknown region '{region}': HSS is known in {', '.join(known)}; for another region set "
                f"target.endpoint, HSS_ENDPOINT, {region_env_name(region)} or an {SERVICE} entry in "
                f"the regions file ({REGIONS_FILE_ENV} or ~/{DEFAULT_REGIONS_FILE.as_posix()})")


def resolve_endpoint(region: str, environ: Mapping[str, str]) -> str:
    """The endpoint of a target not declared in any file (one the state alone still holds)."""
    resolver = EndpointResolver(environ)
    found = resolver.resolve(region)
    if found is None:
        raise ConfigError(resolver.unknown(region))
    return found.endpoint


def _env_endpoints(name: str, listed: str) -> tuple[str, ...]:
    items = [item.strip() for item in listed.split(",")]
    problems = []
    if len(items) > MAX_ENDPOINTS:
        problems.append(f"lists {len(items)} endpoints; at most {MAX_ENDPOINTS}")
    endpoints = []
    for number, item in enumerate(items[:MAX_ENDPOINTS], 1):
        endpoint, why = _endpoint_problem(item)
        if why:
            problems.append(f"endpoint {number} of {len(items)} {why}")
        endpoints.append(endpoint)
    if problems:
        raise ConfigProblems([Problem(name, 0, 0, "", f"{p} (a comma-separated list of endpoint URLs)")
                              for p in problems])
    return tuple(endpoints)


def _read_regions_file(where: tuple[Path, bool] | None) -> dict[str, Resolved]:
    if where is None:
        return {}
    path, named = where
    file = str(path)
    try:
        raw = read_regular(path, MAX_REGIONS_FILE_BYTES)
    except FileNotFoundError:
        if not named:
            return {}  # the default file is optional, as in the SDK
        missing = Problem(file, 0, 0, "", f"no such file (named by {REGIONS_FILE_ENV})")
        raise ConfigProblems([missing]) from None
    except FileTooLarge:
        raise ConfigProblems([Problem(file, 0, 0, "", f"regions file is larger than "
                                                      f"{MAX_REGIONS_FILE_BYTES // 1024} KiB")]) from None
    except OSError as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"cannot read regions file: {exc.strerror or exc}")]) \
            from None
    doc = parse_yaml(decode_text(raw, file), file)
    problems: list[Problem] = []
    regions = _hss_regions(doc, problems)
    if problems:
        raise ConfigProblems(problems)
    return regions


def _hss_regions(doc: YamlDocument, problems: list[Problem]) -> dict[str, Resolved]:
    """The HSS entries of the SDK's format: ``{SERVICE: [{id, endpoint?, endpoints?}, ...], ...}``."""
    data = doc.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(doc.problem((), "a regions file is a mapping from service names to lists of regions"))
        return {}
    regions: dict[str, Resolved] = {}
    first_line: dict[str, int] = {}
    for service, entries in data.items():
        if not isinstance(entries, list):
            problems.append(doc.problem((service,), "must be a list of regions ({id, endpoint} or "
                                                    "{id, endpoints: [...]})"))
            continue
        if service.upper() != SERVICE:  # the SDK matches service names ignoring case
            continue
        for index, entry in enumerate(entries):
            where = (service, index)
            found = _hss_entry(doc, where, entry, problems)
            if found is None:
                continue
            region, endpoints = found
            line = doc.mark_of(where).line
            if region in first_line:
                problems.append(doc.problem((*where, "id"), f"region '{region}' is listed twice "
                                                            f"(first at line {first_line[region]})"))
                continue
            first_line[region] = line
            regions[region] = Resolved(endpoints, f"{doc.file}:{line}")
    return regions


def _hss_entry(doc: YamlDocument, where: tuple[str, int], entry: Any,
               problems: list[Problem]) -> tuple[str, tuple[str, ...]] | None:
    """One region of the HSS list: its id and endpoints; None (and problems) when malformed."""
    if not isinstance(entry, dict):
        problems.append(doc.problem(where, "a region is a mapping: {id, endpoint} or {id, endpoints: [...]}"))
        return None
    before = len(problems)
    problems.extend(doc.problem((*where, key), f"unknown field '{key}' (expected id, endpoint, endpoints)",
                                key=True) for key in entry if key not in _ENTRY_KEYS)
    region = entry.get("id")
    if not isinstance(region, str) or not region:
        problems.append(doc.problem((*where, "id"), "a region needs an id, a non-empty string"))
    listed = entry.get("endpoints", [])
    if not isinstance(listed, list):
        problems.append(doc.problem((*where, "endpoints"), "must be a list of endpoint URLs"))
        return None
    # The SDK's order: the `endpoints` list, then `endpoint`.
    values: list[tuple[tuple[str | int, ...], Any]] = [
        ((*where, "endpoints", i), value) for i, value in enumerate(listed)]
    if "endpoint" in entry:
        values.append(((*where, "endpoint"), entry["endpoint"]))
    if not values:
        problems.append(doc.problem(where, "a region needs an endpoint or a list of endpoints"))
    if len(values) > MAX_ENDPOINTS:
        problems.append(doc.problem(where, f"lists {len(values)} endpoints; at most {MAX_ENDPOINTS}"))
    endpoints = []
    for path, value in values[:MAX_ENDPOINTS]:
        endpoint, why = _endpoint_problem(value)
        if why:
            problems.append(doc.problem(path, why))
        endpoints.append(endpoint)
    if len(problems) > before:
        return None
    return str(region), tuple(endpoints)
