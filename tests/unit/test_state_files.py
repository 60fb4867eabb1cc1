"""The state file and its lock against their schemas: one verdict, bounded reading, symlinks, the pid rule.

schemas/state.schema.json and schemas/lock.schema.json are enforced by typed
checks (reconciler/state/model.py, lock.py), not jsonschema, for plan's
start-up time. The tests here hold the two to one verdict on over a thousand
mutated files, and check what the schemas cannot say: depth, size, duplicate
keys, lone surrogates, addresses, non-regular files, symbolic links.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.atomicfile import FileTooLarge, NotRegularFile, read_regular
from reconciler.errors import StateError
from reconciler.registry import API_FIELDS, TargetKey
from reconciler.schema import load_schema
from reconciler.state import lock as lockmod
from reconciler.state.jsonshape import ShapeError
from reconciler.state.lock import (
    PID_MAX,
    LockHeld,
    LockInfo,
    MalformedLock,
    acquire,
    force_unlock,
    lock_path,
    read_lock,
)
from reconciler.state.model import (
    ENTRY_FIELDS,
    MAX_PASSWORD_VERSION,
    MAX_STATE_BYTES,
    NO_CONTROL_CHARACTERS,
    PRINTABLE_ASCII,
    PROJECT_ID,
    REGION,
    STATE_FIELDS,
    TARGET_FIELDS,
    State,
    StateEntry,
    parse_state,
)
from reconciler.state.store import StateStore, backup_path

STATE_SCHEMA = load_schema("state.schema.json")
LOCK_SCHEMA = load_schema("lock.schema.json")
TARGET = TargetKey("ap-southeast-1", "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c", "0")

FieldPath = tuple[str | int, ...]


def _state(*entries: StateEntry) -> State:
    state = State(serial=3)
    for entry in entries:
        state.put(entry)
    return state


def _entry(name: str, registry_id: str | None, password_version: int | None = None,
           **extra: str) -> StateEntry:
    attributes = {"registry_name": name, "registry_type": "Harbor", "api_version": "V2", "protocol": "https",
                  "registry_addr": f"{name}.example.com", "registry_username": "robot-hss",
                  "connect_cluster_id": "c-1", "get_scan_image_channel": "Swr", **extra}
    return StateEntry(TARGET, name, registry_id, attributes, password_version)


def _valid_document() -> dict[str, Any]:
    state = _state(_entry("harbor-prod", "id-1"),
                   _entry("jfrog-build", None, 3, get_scan_image_channel="Other", namespace="tools"))
    document: dict[str, Any] = json.loads(state.serialize())
    return document


def _schema_accepts(schema: dict[str, Any], document: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(document)


def _reader_accepts_state(document: Any) -> bool:
    try:
        parse_state(json.dumps(document).encode(), "s.json")
    except StateError:
        return False
    return True


def _reader_accepts_lock(document: Any) -> bool:
    try:
        LockInfo.from_json(document)
    except ShapeError:
        return False
    return True


# Values of every JSON type, at and around the bounds the schemas use.
SAMPLES: list[Any] = [None, True, False, 0, 1, -1, 2**31 - 1, 2**31, 10**30, 1.5, 1.0, "", "x",
                      "ap-southeast-1", "A B", "a/b", "a" * 64, "a" * 65, "a" * 128, "a" * 129, "a" * 257,
                      "x\n", "\x1b[31m", "café", [], ["x"], {}, {"x": "y"}]


def _paths(node: Any, prefix: FieldPath = ()) -> Iterator[FieldPath]:
    """The path of every value in a document, containers included, the root excluded."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in children:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _parent(document: Any, path: FieldPath) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


def _with_addresses(document: dict[str, Any], mutated: FieldPath) -> dict[str, Any]:
    """Each entry's address made again from its (mutated) target and name, as the tool writes it.

    An address that does not match is a rule the schema cannot state; it has its own tests.
    """
    entries = document.get("registries")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if mutated[:3] == ("registries", index, "address") or not isinstance(entry, dict):
            continue
        target, name = entry.get("target"), entry.get("registry_name")
        if isinstance(target, dict) and isinstance(name, str):
            parts = [target.get(k) for k in TARGET_FIELDS]
            if all(isinstance(p, str) for p in parts):
                entry["address"] = "/".join([*[str(p) for p in parts], name])
    return document


def _state_mutations() -> Iterator[tuple[str, Any, bool]]:
    """(what changed, the document, whether only a rule beyond the schema's words can refuse it)."""
    base = _valid_document()
    paths = list(_paths(base))
    for path in paths:
        for sample in SAMPLES:
            document = copy.deepcopy(base)
            _parent(document, path)[path[-1]] = copy.deepcopy(sample)
            beyond = path[-1] == "address" and isinstance(sample, str)  # must be its target and name
            yield f"{path}={sample!r:.20}", _with_addresses(document, path), beyond
        document = copy.deepcopy(base)
        parent = _parent(document, path)
        if isinstance(parent, dict):
            del parent[path[-1]]
            yield f"{path} deleted", _with_addresses(document, path), False
    for path in [(), *paths]:
        document = copy.deepcopy(base)
        node = _parent(document, (*path, "")) if path else document
        if isinstance(node, dict):
            node["unexpected"] = "x"
            yield f"{path} + unexpected", document, False
    for sample in SAMPLES:
        yield f"document={sample!r:.20}", sample, False


def _stricter_on_purpose(document: Any, base: Any) -> bool:
    """Documented in the schemas' $comment: an integral float is not an integer to the reader."""
    def walk(a: Any, b: Any) -> bool:
        if isinstance(a, float) and a.is_integer() and not isinstance(b, float):
            return True
        if isinstance(a, dict) and isinstance(b, dict):
            return any(walk(v, b.get(k)) for k, v in a.items())
        if isinstance(a, list) and isinstance(b, list):
            return any(walk(x, y) for x, y in zip(a, b, strict=False))
        return False
    return walk(document, base)


def test_the_state_reader_and_the_state_schema_give_one_verdict_on_every_mutation() -> None:
    base = _valid_document()
    assert _schema_accepts(STATE_SCHEMA, base) and _reader_accepts_state(base)
    checked, disagreements = 0, []
    for label, document, beyond in _state_mutations():
        schema, reader = _schema_accepts(STATE_SCHEMA, document), _reader_accepts_state(document)
        checked += 1
        if beyond:
            assert not reader, label
        elif schema != reader and not (schema and not reader and _stricter_on_purpose(document, base)):
            disagreements.append(f"{label}: schema {'accepts' if schema else 'refuses'}, "
                                 f"reader {'accepts' if reader else 'refuses'}")
    assert checked > 1000
    assert disagreements == []


def _lock_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(LockInfo.new(Path("s.json"), "apply").serialize())
    return document


def test_the_lock_reader_and_the_lock_schema_give_one_verdict_on_every_mutation() -> None:
    base = _lock_document()
    assert _schema_accepts(LOCK_SCHEMA, base) and _reader_accepts_lock(base)
    disagreements, checked = [], 0
    for key in base:
        for sample in [*SAMPLES, "a" * 513, "a" * 4097, 4242]:
            document = {**base, key: sample}
            schema, reader = _schema_accepts(LOCK_SCHEMA, document), _reader_accepts_lock(document)
            checked += 1
            if schema != reader and not (schema and not reader and _stricter_on_purpose(document, base)):
                disagreements.append(f"{key}={sample!r:.20}: schema {schema}, reader {reader}")
        document = {k: v for k, v in base.items() if k != key}
        if _schema_accepts(LOCK_SCHEMA, document) != _reader_accepts_lock(document):
            disagreements.append(f"{key} deleted")
    for sample in SAMPLES:
        if _schema_accepts(LOCK_SCHEMA, sample) != _reader_accepts_lock(sample):
            disagreements.append(f"document={sample!r:.20}")
    assert checked > 200
    assert disagreements == []


def test_the_readers_rules_are_the_schemas_words() -> None:
    defs = STATE_SCHEMA["$defs"]
    assert STATE_SCHEMA["required"] == list(STATE_FIELDS)
    assert defs["entry"]["required"] == list(ENTRY_FIELDS)
    assert defs["target"]["required"] == list(TARGET_FIELDS)
    assert list(defs["entry"]["properties"]["attributes"]["properties"]) == list(API_FIELDS)
    assert STATE_SCHEMA["properties"]["lineage"]["pattern"] == PRINTABLE_ASCII.pattern
    assert defs["entry"]["properties"]["registry_name"]["pattern"] == NO_CONTROL_CHARACTERS.pattern
    assert defs["entry"]["properties"]["password_version"]["maximum"] == MAX_PASSWORD_VERSION
    assert defs["target"]["properties"]["region"]["pattern"] == REGION.pattern
    assert defs["target"]["properties"]["project_id"]["pattern"] == PROJECT_ID.pattern
    assert LOCK_SCHEMA["required"] == list(lockmod.LOCK_FIELDS)
    assert LOCK_SCHEMA["properties"]["pid"]["maximum"] == PID_MAX
    assert LOCK_SCHEMA["properties"]["id"]["pattern"] == PRINTABLE_ASCII.pattern


def test_a_state_target_follows_the_registry_files_target_rules() -> None:
    """A state entry's target picks the endpoint a registry no file declares any more is deleted through."""
    registry_target = load_schema("registries.schema.json")["properties"]["target"]["properties"]
    rules = ("type", "minLength", "maxLength", "pattern")
    for field in TARGET_FIELDS:
        ours = STATE_SCHEMA["$defs"]["target"]["properties"][field]
        assert {k: ours.get(k) for k in rules} == {k: registry_target[field].get(k) for k in rules}, field


@pytest.mark.parametrize("state", [
    _state(),
    _state(_entry("harbor-prod", "id-1"), _entry("jfrog-build", None, 0)),
    _state(StateEntry(TargetKey("eu-west-101", "p" * 256, "e" * 256), "n" * 128, "i" * 64,
                      {f: "v" * 300 for f in API_FIELDS}, MAX_PASSWORD_VERSION, "https://" + "h" * 2040)),
    _state(_entry("café-ünïcode-名前", "id-ü"), _entry("x", "id-x", 7)),
], ids=["empty", "ordinary", "longest", "unicode"])
def test_every_state_the_tool_writes_reads_back_and_meets_its_schema(state: State) -> None:
    raw = state.serialize()
    assert _schema_accepts(STATE_SCHEMA, json.loads(raw))
    again = parse_state(raw, "s.json")
    assert (again.lineage, again.serial, again.entries) == (state.lineage, state.serial, state.entries)


@pytest.mark.parametrize("user", ["alice", "u" * 5000, "evil\x1b[31m\n", "\udcff-undecodable"])
def test_every_lock_the_tool_writes_reads_back_whoever_runs_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    monkeypatch.setattr(lockmod.getpass, "getuser", lambda: user)
    state = tmp_path / "s\udcfe.json"
    with acquire(state, "apply") as held:
        assert read_lock(lock_path(state)) == held.info
        assert _schema_accepts(LOCK_SCHEMA, json.loads(lock_path(state).read_bytes()))


def test_a_newer_tools_lock_with_fields_we_do_not_know_still_reads_as_a_lock(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    lock_path(state).write_text(json.dumps({**_lock_document(), "host_boot_id": "b-1", "ttl": 30}))
    with pytest.raises(LockHeld, match="the state is locked by"):
        acquire(state, "apply")


# --- depth, size, duplicates, constants, surrogates, addresses -----------------------------------


@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"version": 1, "serial": 1, "lineage": "x", "registries": ['
    + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"]}",
], ids=["a bare array", "inside registries"])
def test_json_nested_deeper_than_the_parser_follows_is_refused_at_its_line_not_a_crash(raw: bytes) -> None:
    with pytest.raises(StateError, match=r"^s\.json: state file is not readable JSON \(line 1, column \d+\): "
                                         r"nested deeper than the parser follows") as caught:
        parse_state(raw, "s.json")
    assert "left untouched" in str(caught.value)


@pytest.mark.parametrize(("raw", "expected"), [
    (b'{"version": 1, "serial": 1, "serial": 2, "lineage": "x", "registries": []}',
     "s.json: serial: appears twice in one object"),
    (b'{"version": 1, "serial": Infinity, "lineage": "x", "registries": []}',
     "Infinity is not a JSON number"),
    (b'{"version": 1, "serial": ' + b"9" * 5000 + b', "lineage": "x", "registries": []}',
     "a number has more digits than this tool reads"),
    (b'{"version": 1, "serial": 1e400, "lineage": "x", "registries": []}',
     "serial: expected an integer, got a number"),
    (b'{"version": 1, "serial": 1, "lineage": "x", "tool_version": "\\udc80", "registries": []}',
     "tool_version: holds U+DC80, a lone surrogate"),
    (b'{"version": 1, "serial": 1, "lineage": "x", "registries": [7]}',
     "registries[0]: expected an object, got an integer"),
    (b'{"version": 1.0, "serial": 1, "lineage": "x", "registries": []}', "version: expected 1, got a number"),
    (b'{"version": 1, "serial": 1, "lineage": "x", "registries": [], "\\u001b[2J": 1}',
     's.json: "\\u001b[2J": unknown field'),
])
def test_what_json_schema_cannot_say_is_refused_naming_the_field(raw: bytes, expected: str) -> None:
    with pytest.raises(StateError) as caught:
        parse_state(raw, "s.json")
    assert expected in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_an_address_must_be_its_own_target_and_name_and_appear_once() -> None:
    document = _valid_document()
    document["registries"][1]["address"] = document["registries"][0]["address"]
    with pytest.raises(StateError, match=r"registries\[1\]\.address: does not match the entry's target and "
                                         r"registry_name, which make \"ap-southeast-1/.*/0/jfrog-build\""):
        parse_state(json.dumps(document).encode(), "s.json")
    document["registries"][1] = copy.deepcopy(document["registries"][0])
    document["registries"][1]["id"] = "id-2"
    with pytest.raises(StateError, match=r"registries\[1\]\.address: registries\[0\] has this address too"):
        parse_state(json.dumps(document).encode(), "s.json")


def test_one_hss_id_in_two_entries_of_one_target_is_refused_but_not_across_targets() -> None:
    document = _valid_document()
    document["registries"][1]["id"] = "id-1"
    with pytest.raises(StateError, match=r"registries\[1\]\.id: registries\[0\], in the same target, has "):
        parse_state(json.dumps(document).encode(), "s.json")
    other = StateEntry(TargetKey("eu-west-101", TARGET.project_id), "harbor-prod", "id-1", {})
    assert len(parse_state(_state(_entry("harbor-prod", "id-1"), other).serialize(), "s.json").entries) == 2


def test_a_malformed_state_names_the_field_and_never_repeats_a_long_value() -> None:
    document = _valid_document()
    document["registries"][0]["target"]["region"] = "x" * 100_000
    with pytest.raises(StateError) as caught:
        parse_state(json.dumps(document).encode(), "s.json")
    assert str(caught.value) == ("s.json: registries[0].target.region: expected 1 to 64 characters, "
                                 "got 100000 (the state file is malformed; it was left untouched)")


# --- reading files that are not what they seem -----------------------------------------------------


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """call() in a thread, failing (not hanging) the test if it blocks."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", call()))
        except BaseException as exc:  # handed to the test
            outcome.append(("raised", exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"blocked for more than {seconds} s"
    kind, value = outcome[0]
    if kind == "raised":
        raise value
    return value


def test_a_fifo_is_refused_from_its_stat_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile, match=r"it is a FIFO \(named pipe\), not a regular file"):
        _within(5, lambda: read_regular(fifo, 1024))


def test_a_fifo_swapped_in_after_the_stat_is_opened_non_blocking_and_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    regular, fifo = tmp_path / "file", tmp_path / "pipe"
    regular.write_text("x")
    os.mkfifo(fifo)
    regular_stat = os.stat(regular)
    monkeypatch.setattr(os, "stat", lambda *_a, **_k: regular_stat)  # the name looked regular a moment ago
    with pytest.raises(NotRegularFile, match="FIFO"):
        _within(5, lambda: read_regular(fifo, 1024))


def test_sockets_devices_and_directories_are_refused_by_kind(tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path), socket.socket(socket.AF_UNIX) as server:
        server.bind("s.sock")  # relative: a socket path holds at most 107 bytes
        with pytest.raises(NotRegularFile, match="a socket"):
            read_regular(tmp_path / "s.sock", 10)
    with pytest.raises(NotRegularFile, match="a character device"):
        read_regular(Path("/dev/zero"), 10)
    with pytest.raises(NotRegularFile, match="a directory"):
        read_regular(tmp_path, 10)
    (tmp_path / "link").symlink_to("s.sock")
    with pytest.raises(NotRegularFile, match="a symbolic link"):
        read_regular(tmp_path / "link", 10, follow_symlinks=False)


def test_a_file_over_the_cap_is_refused_from_its_size_without_being_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "s.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_STATE_BYTES + 1)

    def no_reading(*_args: Any) -> bytes:
        raise AssertionError("read a file that is too large")

    monkeypatch.setattr(os, "read", no_reading)
    with pytest.raises(FileTooLarge):
        read_regular(big, MAX_STATE_BYTES)
    with pytest.raises(StateError, match=r"s\.json: state file is larger than 32 MiB .* left untouched"):
        StateStore(big).load()


def test_the_state_cap_holds_ten_thousand_registries_at_their_longest() -> None:
    entry = StateEntry(TargetKey("ap-southeast-1", "p" * 256, "e" * 256), "n" * 128, "i" * 64,
                       {"registry_name": "n" * 128, "registry_type": "Harbor", "api_version": "V2",
                        "protocol": "https", "registry_addr": "a" * 256, "registry_username": "u" * 128,
                        "namespace": "s" * 128, "connect_cluster_id": "c" * 64,
                        "get_scan_image_channel": "Other"}, 10**6)
    one = len(_state(entry).serialize()) - len(_state().serialize())
    assert 10_000 * one < MAX_STATE_BYTES


def test_a_file_that_grows_past_the_cap_while_read_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"{}")
    real_fstat = os.fstat

    def small(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, *([0] * 5), 0, *([0] * 3)))  # size 0, as before it grew

    monkeypatch.setattr(os, "fstat", small)
    path.write_bytes(b"x" * 100)
    with pytest.raises(FileTooLarge):
        read_regular(path, 50)


def test_the_state_store_refuses_a_fifo_without_hanging(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    os.mkfifo(state)
    with pytest.raises(StateError, match=r"s\.json: cannot read state file: it is a FIFO"):
        _within(5, StateStore(state).load)


# --- symbolic links ----------------------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """A state file elsewhere, and a workspace's state name linking to it."""
    real = tmp_path / "shared" / "prod.state.json"
    real.parent.mkdir()
    real.write_bytes(_state(_entry("harbor-prod", "id-1")).serialize())
    link = tmp_path / "ws" / "hss-reconciler.state.json"
    link.parent.mkdir()
    link.symlink_to(os.path.relpath(real, link.parent))
    return link, real


def test_a_symlinked_state_is_written_through_the_link_which_stays_a_link(linked: tuple[Path, Path]) -> None:
    link, real = linked
    store = StateStore(link)
    state = store.load()
    before = real.read_bytes()
    state.put(_entry("jfrog-build", "id-2"))
    store.write(store.snapshot(state))
    assert link.is_symlink() and link.resolve() == real
    assert set(parse_state(real.read_bytes(), "s").entries) == set(state.entries)
    assert backup_path(real).read_bytes() == before
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in link.parent.iterdir()) == [link.name]


def test_a_symlinked_state_is_locked_beside_its_target_so_two_links_share_one_lock(
        linked: tuple[Path, Path]) -> None:
    link, real = linked
    other = link.parent / "another-name.json"
    other.symlink_to(real)
    assert lock_path(link) == lock_path(other) == real.with_name(real.name + ".lock")
    with acquire(link, "apply"):
        assert lock_path(real).exists() and not (link.parent / (link.name + ".lock")).exists()
        with pytest.raises(LockHeld, match="the state is locked by"):
            acquire(other, "apply")
        with pytest.raises(LockHeld):
            acquire(real, "apply")
    assert not lock_path(real).exists()


def _repoint(link: Path, target: Path) -> None:
    """Point `link` at `target` in one step, as `ln -sfn` or a deploy script's rename would."""
    fresh = link.with_name(link.name + ".new")
    fresh.symlink_to(target)
    os.replace(fresh, link)


@pytest.mark.parametrize("when", ["after-open", "after-lock"])
def test_a_link_re_pointed_during_a_run_neither_moves_its_lock_nor_redirects_its_writes(
        linked: tuple[Path, Path], when: str) -> None:
    """Before: the store and the lock each resolved the link, so a link re-pointed between the two
    locked one file and wrote another, and the stale-temporary sweep ran beside the new target."""
    link, real = linked
    decoy = real.with_name("other.state.json")
    decoy.write_bytes(_state(_entry("other", "id-9")).serialize())
    decoy_bytes = decoy.read_bytes()
    in_flight = decoy.with_name(f".{decoy.name}.123.tmp")  # another writer's temporary beside the decoy
    in_flight.write_bytes(b"{")
    store = StateStore(link)  # the run opens the state, as Session.open does, then locks it
    if when == "after-open":
        _repoint(link, decoy)
    with store.acquire("apply", 0):
        if when == "after-lock":
            _repoint(link, decoy)
        store.prepare_locked()
        state = store.load()
        assert {entry.name for entry in state.entries.values()} == {"harbor-prod"}
        state.put(_entry("jfrog-build", "id-2"))
        store.write(store.snapshot(state))
        assert lock_path(real).exists() and not lock_path(decoy).exists()
    written = parse_state(real.read_bytes(), "s")
    assert {entry.name for entry in written.entries.values()} == {"harbor-prod", "jfrog-build"}
    assert decoy.read_bytes() == decoy_bytes and not backup_path(decoy).exists() and in_flight.exists()
    assert not lock_path(real).exists() and link.resolve() == decoy


def test_a_state_in_a_linked_directory_re_pointed_before_the_lock_keeps_the_file_it_opened(
        tmp_path: Path) -> None:
    opened, other = tmp_path / "release-1", tmp_path / "release-2"
    opened.mkdir()
    other.mkdir()
    (opened / "s.json").write_bytes(_state(_entry("harbor-prod", "id-1")).serialize())
    (other / "s.json").write_bytes(_state(_entry("other", "id-9")).serialize())
    untouched = (other / "s.json").read_bytes()
    current = tmp_path / "current"
    current.symlink_to(opened)
    store = StateStore(current / "s.json")
    _repoint(current, other)
    with store.acquire("apply", 0):
        state = store.load()
        state.put(_entry("jfrog-build", "id-2"))
        store.write(store.snapshot(state))
        assert lock_path(opened / "s.json").exists() and not lock_path(other / "s.json").exists()
    assert len(parse_state((opened / "s.json").read_bytes(), "s").entries) == 2
    assert (other / "s.json").read_bytes() == untouched


def test_a_symlink_leading_nowhere_or_in_a_loop_is_refused_not_read_as_an_empty_state(tmp_path: Path) -> None:
    dangling = tmp_path / "s.json"
    dangling.symlink_to("moved-away/s.json")
    with pytest.raises(StateError, match=r"s\.json: the state file is a symbolic link to "
                                         r".*moved-away/s\.json, which does not exist"):
        StateStore(dangling).load()
    loop = tmp_path / "loop.json"
    loop.symlink_to("loop2.json")
    (tmp_path / "loop2.json").symlink_to("loop.json")
    with pytest.raises(StateError, match="cannot read state file: Too many levels of symbolic links"):
        StateStore(loop).load()


def test_a_state_that_is_not_a_link_keeps_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    assert StateStore(Path("s.json")).real == Path("s.json")
    assert lock_path(Path("s.json")) == Path("s.json.lock")


# --- the lock: the pid rule, malformed locks, force-unlock ------------------------------------------


@pytest.mark.parametrize(("pid", "accepted"), [
    (1, True), (4242, True), (PID_MAX, True), (0, False), (-1, False), (PID_MAX + 1, False),
    (10**20, False), (4242.0, False), (1.5, False), (True, False), ("4242", False), (None, False),
])
def test_a_lock_pid_is_a_positive_pid_t(pid: Any, accepted: bool) -> None:
    assert _reader_accepts_lock({**_lock_document(), "pid": pid}) is accepted


def test_the_liveness_check_never_signals_a_pid_out_of_range(monkeypatch: pytest.MonkeyPatch) -> None:
    signalled: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, _sig: signalled.append(pid))
    here = f"me@{socket.gethostname()}"
    for pid in (0, -1, PID_MAX + 1, 10**20):
        info = LockInfo("id", "apply", here, pid, "t", "v", "p")
        assert lockmod._holder_running(info) is None
    assert signalled == []
    assert lockmod._holder_running(LockInfo("id", "apply", here, os.getpid(), "t", "v", "p")) is True


def _write_lock(state: Path, **fields: Any) -> dict[str, Any]:
    document = {**_lock_document(), **fields}
    lock_path(state).write_text(json.dumps(document))
    return document


def test_a_malformed_lock_blocks_names_its_field_and_is_released_by_its_own_id(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    document = _write_lock(state, pid=10**20)
    with pytest.raises(MalformedLock) as caught:
        acquire(state, "apply")
    message = str(caught.value)
    assert message.startswith(f"{lock_path(state)}: pid: expected an integer from 1 to 2147483647, got ")
    assert f"force-unlock {document['id']} --state {state}" in message
    assert lock_path(state).exists()
    released = force_unlock(state, document["id"])
    assert (released.id, released.who, released.operation) == (document["id"], document["who"], "apply")
    assert not lock_path(state).exists()


def test_a_lock_without_a_usable_id_is_released_only_by_the_digest_its_error_printed(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    _write_lock(state, id={"not": "a string"})
    with pytest.raises(MalformedLock, match=r"lock: id: expected a string, got an object") as caught:
        acquire(state, "apply")
    unlock_id = caught.value.unlock_id
    assert re.fullmatch(r"malformed-[0-9a-f]{16}", unlock_id)
    assert f"force-unlock {unlock_id} --state" in str(caught.value)
    with pytest.raises(StateError, match="does not match the malformed state lock"):
        force_unlock(state, str(uuid.uuid4()))
    assert lock_path(state).exists()
    _write_lock(state, id=["rewritten", "since"])  # another file now: the id printed for the old one is stale
    with pytest.raises(StateError, match="nothing was released"):
        force_unlock(state, unlock_id)
    fresh = _malformed_error(state).unlock_id
    assert force_unlock(state, fresh).id == fresh
    assert not lock_path(state).exists()


def _malformed_error(state: Path) -> MalformedLock:
    with pytest.raises(MalformedLock) as caught:
        read_lock(lock_path(state), state)
    return caught.value


@pytest.mark.parametrize("content", [b"x" * (65 * 1024), b"{", b"[]", b"\xff\xfe", b'{"id": "a", "id": "b"}'])
def test_every_malformed_lock_can_be_released(tmp_path: Path, content: bytes) -> None:
    state = tmp_path / "s.json"
    lock_path(state).write_bytes(content)
    error = _malformed_error(state)
    assert str(error).startswith(f"{lock_path(state)}: ")
    force_unlock(state, error.unlock_id)
    assert not lock_path(state).exists()


def test_a_lock_name_taken_by_a_fifo_or_a_link_is_never_opened_and_left_to_a_person(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    os.mkfifo(lock_path(state))
    with pytest.raises(StateError, match=r"the state lock is a FIFO \(named pipe\).*remove it by hand"):
        _within(5, lambda: acquire(state, "apply"))
    lock_path(state).unlink()
    lock_path(state).symlink_to("/dev/zero")
    with pytest.raises(StateError, match="the state lock is a symbolic link"):
        _within(5, lambda: force_unlock(state, "anything"))
    assert lock_path(state).is_symlink()


def test_reading_a_state_does_not_import_jsonschema(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    state.write_bytes(_state(_entry("harbor-prod", "id-1")).serialize())
    code = ("import sys; from pathlib import Path; from reconciler.state.store import StateStore; "
            f"StateStore(Path({str(state)!r})).load(); print('jsonschema' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            timeout=60)
    assert result.stdout.strip() == "False"
