"""A workspace: the YAML files named on the command line, merged by target."""

from __future__ import annotations

import stat
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from reconciler.config.endpoints import EndpointResolver
from reconciler.config.lookalikes import shown, skeleton, why_alike
from reconciler.config.model import Desired, DesiredRegistry, Location, TargetConfig
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.wholenumbers import whole_number_problems
from reconciler.config.yamlfile import YamlDocument, read_yaml
from reconciler.registry import API_FIELDS, DEFAULT_ENTERPRISE_PROJECT, TargetKey
from reconciler.schema import validate_document
from reconciler.secrets import SecretRef

YAML_SUFFIXES = (".yaml", ".yml")
ENDPOINT_ENV = "HSS_ENDPOINT"
MAX_REGISTRIES_PER_TARGET = 100


def without_user(endpoint: str) -> str:
    """`endpoint` without a `user@` or `user:password@` part: what the state may record."""
    scheme, sep, rest = endpoint.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}"


def _declares(path: Path) -> bool:
    # Hidden files are skipped, as Terraform skips them: the registries live in a git
    # repository beside .gitlab-ci.yml, .pre-commit-config.yaml and the like.
    # The suffix in any case: PROD.YAML skipped would plan its registries' destruction,
    # and on macOS or Windows a rename that changes only case is invisible (issue 19.5).
    return path.suffix.lower() in YAML_SUFFIXES and not path.name.startswith(".")


def find_files(paths: list[Path]) -> list[Path]:
    """Each directory contributes its *.yaml/*.yml, any case, but hidden ones (not recursively, as Terraform).

    Whatever else a name leads to (a FIFO, a socket, a device, a directory named
    x.yaml) is passed on, and the reader refuses it, naming it, without opening
    it (yamlfile.read_capped): skipping it would drop its registries from the
    plan, which would then destroy them.
    """
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            is_dir = stat.S_ISDIR(path.stat().st_mode)
            files = sorted(p for p in path.iterdir() if _declares(p)) if is_dir else [path]
        except FileNotFoundError:
            problems.append(Problem(str(path), 0, 0, "", "no such file or directory"))
            continue
        except OSError as exc:
            problems.append(Problem(str(path), 0, 0, "", f"cannot read: {exc.strerror or exc}"))
            continue
        if is_dir and not files:
            problems.append(Problem(str(path), 0, 0, "", "directory holds no *.yaml or *.yml file "
                                    "(hidden files such as .gitlab-ci.yml are skipped)"))
        found.extend(files)
    if problems:
        raise ConfigProblems(problems)
    return found


def workspace_dir(paths: list[Path]) -> Path:
    """Where the state file lives by default: the directory given, or the first file's."""
    first = paths[0] if paths else Path(".")
    return first if first.is_dir() else first.parent


class _Merger:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.desired = Desired()
        self.problems: list[Problem] = []
        self.endpoint_override = environ.get(ENDPOINT_ENV) or None
        self.resolver = EndpointResolver(environ)  # a target with no endpoint named: from its region
        self.region_locations: dict[TargetKey, Location] = {}  # where each target's region was first said
        self.environ = environ  # HSS_SECRETS_DIR: where {file: PATH} may also read
        # The endpoint a file names for a target, and where: another file may omit it, not contradict it.
        self.named_endpoints: dict[TargetKey, tuple[str, Location]] = {}
        self.named_profiles: dict[TargetKey, tuple[str, Location]] = {}  # the same, for credentials
        # Each declared registry by its target and the skeleton of its name: look-alikes collide here.
        self.lookalikes: dict[tuple[TargetKey, str], DesiredRegistry] = {}

    def add(self, path: Path, doc: YamlDocument) -> None:
        data: dict[str, Any] = doc.data
        raw_target = data["target"]
        key = TargetKey(raw_target["region"], raw_target["project_id"],
                        raw_target.get("enterprise_project_id", DEFAULT_ENTERPRISE_PROJECT))
        target = self.desired.targets.get(key)
        if target is None:
            target = self.desired.targets[key] = TargetConfig(key, "")  # chosen in finish()
            mark = doc.mark_of(("target", "region"))
            self.region_locations[key] = Location(doc.file, mark.line, mark.column, "target.region")
        if "endpoint" in raw_target:
            endpoint = raw_target["endpoint"]
            named = self.named_endpoints.get(key)
            if named is None:
                mark = doc.mark_of(("target", "endpoint"))
                where = Location(doc.file, mark.line, mark.column, "target.endpoint")
                self.named_endpoints[key] = (endpoint, where)
            elif named[0] != endpoint:
                self.problems.append(doc.problem(
                    ("target", "endpoint"),
                    f"differs from the endpoint {named[0]} given for the same target at {named[1]}"))
        if "credentials" in raw_target:
            self._name_profile(doc, target, raw_target["credentials"]["profile"])
        target.files.append(doc.file)
        for index, raw in enumerate(data["registries"]):
            self._add_registry(path, doc, key, index, raw)

    def _name_profile(self, doc: YamlDocument, target: TargetConfig, profile: str) -> None:
        """A target's credentials profile: another file of the target may omit it, not contradict it."""
        named = self.named_profiles.get(target.key)
        if named is None:
            self.named_profiles[target.key] = (profile, Location(
                doc.file, doc.mark_of(("target", "credentials", "profile")).line))
            target.credentials_profile = profile
        elif named[0] != profile:
            self.problems.append(doc.problem(
                ("target", "credentials", "profile"),
                f"differs from the profile {named[0]} given for the same target at {named[1]}"))

    def _add_registry(self, path: Path, doc: YamlDocument, key: TargetKey, index: int,
                      raw: dict[str, Any]) -> None:
        line = doc.mark_of(("registries", index)).line
        password_mark = doc.mark_of(("registries", index, "registry_password"))
        ref_kind, ref_name = next(iter(raw["registry_password"].items()))
        password = SecretRef(ref_kind, ref_name)
        refused = password.problem(path.parent, self.environ)
        if refused:  # a static rule on the file: refused before anything is read or sent
            self.problems.append(doc.problem(("registries", index, "registry_password", ref_kind), refused))
        registry = DesiredRegistry(
            target=key,
            name=raw["registry_name"],
            attributes={f: raw[f] for f in API_FIELDS if f in raw},
            password=password,
            password_version=raw.get("password_version"),
            location=Location(doc.file, line),
            password_location=Location(doc.file, password_mark.line, password_mark.column,
                                       f"registries[{index}].registry_password"),
            base_dir=path.parent,
        )
        twice = self._declared_before(registry)
        if twice:
            self.problems.append(doc.problem(("registries", index, "registry_name"), twice))
            return
        self.desired.registries[registry.address] = registry

    def _declared_before(self, registry: DesiredRegistry) -> str:
        """Why `registry` repeats one declared before in its target, or "" when it does not.

        The same name, or one a reader cannot tell apart (config/lookalikes.py):
        both are one name declared twice.
        """
        key = registry.target
        existing = self.desired.registries.get(registry.address)
        if existing is not None:
            return (f"registry '{registry.name}' is declared twice in target {key}: "
                    f"here and at {existing.location}")
        alike = self.lookalikes.setdefault((key, skeleton(registry.name)), registry)
        if alike is registry:
            return ""
        return (f"registry {shown(registry.name)} is declared twice in target {key}: here and at "
                f"{alike.location} as {shown(alike.name)}, {why_alike(registry.name, alike.name)}")

    def _region_endpoint(self, key: TargetKey) -> str:
        """The SDK's endpoint for the target's region; "" and a problem when there is none."""
        try:
            found = self.resolver.resolve(key.region)
        except ConfigProblems as exc:  # a malformed HUAWEICLOUD_SDK_REGION_HSS_* or regions file
            self.problems.extend(exc.problems)
            return ""
        if found is None:
            self.problems.append(self.region_locations[key].problem(self.resolver.unknown(key.region)))
            return ""
        return found.endpoint

    def _record_endpoint(self, key: TargetKey, endpoint: str) -> None:
        """Give each registry of `key` the endpoint its file named, for the state to record."""
        registries = self.desired.registries
        for address, registry in registries.items():
            if registry.target == key:
                registries[address] = replace(registry, endpoint=endpoint)

    def finish(self) -> Desired:
        counts = Counter(registry.target for registry in self.desired.registries.values())
        for key, target in self.desired.targets.items():
            named = self.named_endpoints.get(key)
            target.endpoint = self.endpoint_override or (named[0] if named else self._region_endpoint(key))
            target.named_endpoint = named
            if named:
                self._record_endpoint(key, without_user(named[0]))
            count = counts[key]
            if count > MAX_REGISTRIES_PER_TARGET:
                self.desired.warnings.append(
                    f"target {key} declares {count} registries; HSS documents at most "
                    f"{MAX_REGISTRIES_PER_TARGET} per project and enterprise project")
        return self.desired


def load_workspace(paths: list[Path], environ: Mapping[str, str]) -> Desired:
    """Read, validate and merge every file; raise every problem of every file at once."""
    files = find_files(paths)
    merger = _Merger(environ)
    problems: list[Problem] = []
    for path in files:
        try:
            doc = read_yaml(path)
        except ConfigProblems as exc:
            problems.extend(exc.problems)
            continue
        schema_problems = validate_document(doc) or whole_number_problems(doc)
        if schema_problems:
            problems.extend(schema_problems)
            continue
        merger.add(path, doc)
    desired = merger.finish()  # endpoints: an unknown region is one more problem
    problems.extend(merger.problems)
    if problems:
        raise ConfigProblems(problems)
    desired.files = files
    return desired
