"""The registries a benchmark declares: one generator for the workspace YAML and the SDK loop.

Both sides of a comparison add exactly the same registries (same names, same
bodies, same projects), so the only difference measured is the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REGION = "ap-southeast-1"
PER_TARGET = 100  # the documented HSS maximum per project (and the emulator's default)
PASSWORD_ENV = "BENCH_REGISTRY_PASSWORD"
PASSWORD = "bench-Pa55word!"  # a throwaway value for the emulator, never a real secret
CLUSTER = "6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f"


@dataclass(frozen=True)
class Workload:
    """`count` registries named `{label}-tNNN-NNNN`, at most PER_TARGET per target (project)."""

    label: str  # keeps different workloads in different projects of one emulator
    count: int

    @property
    def targets(self) -> int:
        return -(-self.count // PER_TARGET)

    def project_id(self, target: int) -> str:
        # 32 hex digits starting with a letter (YAML would read all-digit ids as numbers);
        # the label's digest keeps workloads that share an emulator in separate projects.
        tag = sum(ord(c) * 31**i for i, c in enumerate(self.label)) % 0xFFFFFF
        return f"b{tag:06x}{target:025x}"

    def per_target(self) -> Iterator[tuple[int, int]]:
        """(target index, how many registries in it)."""
        left = self.count
        for target in range(self.targets):
            yield target, min(PER_TARGET, left)
            left -= PER_TARGET

    def bodies(self, target: int, how_many: int) -> Iterator[dict[str, str]]:
        """AddRegistry bodies without the password."""
        for i in range(how_many):
            yield {
                "registry_name": f"{self.label}-t{target:03d}-{i:04d}",
                "registry_type": "Harbor" if i % 4 else "Jfrog",
                "api_version": "V2",
                "protocol": "https",
                "registry_addr": f"registry-{target}-{i}.example.com",
                "registry_username": f"robot-{i}",
                "connect_cluster_id": CLUSTER,
                "get_scan_image_channel": "Swr",
            }

    def write(self, directory: Path) -> list[Path]:
        """One YAML file per target, as people would keep them in git."""
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for target, how_many in self.per_target():
            lines = [
                "version: 1",
                "target:",
                f"  region: {REGION}",
                f"  project_id: {self.project_id(target)}",
                '  enterprise_project_id: "0"',
                "registries:",
            ]
            for body in self.bodies(target, how_many):
                first = True
                for key, value in body.items():
                    lines.append(f"  {'- ' if first else '  '}{key}: {value}")
                    if key == "registry_username":
                        lines.append(f"    registry_password: {{env: {PASSWORD_ENV}}}")
                    first = False
            path = directory / f"{self.label}-{target:03d}.yaml"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            files.append(path)
        return files
