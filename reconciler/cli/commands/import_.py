"""`import TARGET_FILE NAME ID`: take over one registry that already exists in HSS.

The entry records what HSS has now, not what the file says, so the next plan
shows exactly the fields apply will change, as Terraform does after an import.
"""

from __future__ import annotations

import argparse

from reconciler.cli.names import resolve_address
from reconciler.cli.output import Output
from reconciler.cli.workspace import Workspace, hss_clients, open_workspace
from reconciler.errors import ReconcilerError
from reconciler.plan.diff import comparable
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import StateEntry


def run(args: argparse.Namespace, out: Output) -> int:
    with open_workspace([args.target_file], args.state, lock_timeout=args.lock_timeout,
                        operation="import") as workspace:
        return _import(workspace, args, out)


def _import(workspace: Workspace, args: argparse.Namespace, out: Output) -> int:
    address = resolve_address(args.name, workspace.desired.registries, args.target_file)
    registry = workspace.desired.registries[address]
    known = workspace.state.entries.get(address)
    if known is not None:
        raise ReconcilerError(f"{address}: already managed (id {known.registry_id}); to import another "
                              "registry under this name, run 'hss-reconciler state rm' first")
    with hss_clients([workspace.desired.targets[registry.target]], ca_bundle=args.ca_bundle,
                     insecure=args.insecure, parallelism=1) as clients:
        found = clients[registry.target].list_registries(registry_id=args.registry_id)
    live = next((item for item in found if str(item.get("id")) == args.registry_id), None)
    if live is None:
        raise ReconcilerError(f"{args.registry_id}: no registry with this id in {registry.target}")
    if live.get("registry_name") != registry.name:
        raise ReconcilerError(f"{args.registry_id}: this registry is named {live.get('registry_name')!r} "
                              f"in HSS, not {registry.name!r}; HSS cannot rename a registry, so declare it "
                              "under its HSS name to import it")
    attributes = {"registry_name": registry.name, **{k: str(v) for k, v in comparable(live).items()}}
    entry = StateEntry(registry.target, registry.name, args.registry_id, attributes)
    Checkpointer(workspace.store, workspace.state).commit(lambda s: s.put(entry))
    out.print(out.palette.paint(f"{address}: Import complete [id={args.registry_id}]", "green"))
    out.print("Run 'hss-reconciler plan' to see what differs from the file.")
    return 0
