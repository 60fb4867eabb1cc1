"""Password references a plan's adoptions cannot resolve now: said at plan time, not at the next update.

Adopting sends no password (HSS keeps the one it has), so an adopted
registry whose `{env: NAME}` is unset, or whose file is missing, would be
managed without anyone noticing until its first update or password
rotation fails. The plan reads each adopted registry's reference (the value
is registered with the redactor and never shown) and names the ones that
fail, with the reason (which variable or file).
"""

from __future__ import annotations

from reconciler.errors import ConfigError
from reconciler.plan.model import Action, Plan


def unresolved_password_warnings(plan: Plan) -> list[str]:
    """One warning per adoption in `plan` whose password reference cannot be read now."""
    warnings = []
    for change in plan.changes:
        registry = change.registry
        if change.action is not Action.ADOPT or registry is None:
            continue
        try:
            registry.password.resolve(registry.base_dir)
        except ConfigError as exc:
            needed = ("apply sends it with the update, and will stop before changing anything"
                      if change.send_password else
                      "adopting does not need it, but the next update, password rotation, and the "
                      "upload commands of an Other registry do")
            warnings.append(f"{change.address}: its password reference {registry.password.describe()} "
                            f"({registry.password_location}) cannot be resolved now: {exc}; {needed}")
    return warnings
