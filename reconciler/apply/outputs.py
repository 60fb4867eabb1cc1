"""Outputs of an apply: the scan component upload commands of `Other` registries.

With the `Other` channel HSS does not pull its scanner from SWR; someone must
push it into the registry by hand, with the commands ShowImageUploadCommand
returns. Printing them right after the registry is created saves a console
visit. The API takes the registry password in its query string; the client
never logs that URL and every printed line goes through the redactor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.apply.events import Activity, Progress, heartbeat
from reconciler.config.model import DesiredRegistry
from reconciler.errors import ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.registry import TargetKey

OTHER_CHANNEL = "Other"


def needs_upload_command(registry: DesiredRegistry) -> bool:
    return registry.attributes.get("get_scan_image_channel") == OTHER_CHANNEL


@dataclass
class UploadCommands:
    commands: dict[str, dict[str, str]] = field(default_factory=dict)  # by address
    failures: dict[str, str] = field(default_factory=dict)  # address -> one-line reason


def fetch_upload_commands(registries: Iterable[DesiredRegistry],
                          clients: Mapping[TargetKey, HssClient],
                          progress: Progress | None = None) -> UploadCommands:
    """Ask HSS for each `Other` registry's commands; a failure is reported, not raised.

    The registries themselves were applied already, so a missing output (HSS
    refused, or the password's variable is unset, as it may be for a registry
    only adopted) must not turn a successful apply into a failed one; the user
    can ask again with `hss-reconciler upload-command NAME`. A call that takes long
    says so through `progress`.
    """
    wanted = [r for r in registries if needs_upload_command(r)]
    result = UploadCommands()
    if not wanted:
        return result
    for registry in sorted(wanted, key=lambda r: r.address):
        attributes = registry.attributes
        try:
            # One by one: an adopted registry's password may be unset (adopting never needs it),
            # and that is this output's problem alone, named by its variable.
            password = registry.password.resolve(registry.base_dir)
            subjects = (registry.address,)  # read only while this iteration's call runs
            with heartbeat(progress, Activity.FETCHING_OUTPUTS, lambda: subjects):  # noqa: B023
                result.commands[registry.address] = clients[registry.target].image_upload_command(
                    attributes["registry_addr"], attributes["namespace"], attributes["registry_username"],
                    password)
        except ReconcilerError as exc:
            result.failures[registry.address] = str(exc)
    return result
