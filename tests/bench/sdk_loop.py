"""What a user would write without hss-reconciler: the official SDK, one add at a time.

Run as its own process (so its interpreter start and imports are counted, as
hss-reconciler's are):

    python -m tests.bench.sdk_loop --endpoint URL --label a200 --count 200

Credentials come from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK (AK/SK signing;
the SDK has no token mode). Exit status 0 only if every add was accepted.
"""

from __future__ import annotations

import argparse
import os
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkhss.v5 import AddRegistryRequest, AddRegistryRequestBody, HssClient

from tests.bench.workload import PASSWORD, Workload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    ak, sk = os.environ["HUAWEICLOUD_SDK_AK"], os.environ["HUAWEICLOUD_SDK_SK"]
    workload = Workload(args.label, args.count)
    added = 0
    for target, how_many in workload.per_target():
        credentials = BasicCredentials(ak, sk, workload.project_id(target))
        client = HssClient.new_builder().with_credentials(credentials).with_endpoints(
            [args.endpoint]).build()
        for body in workload.bodies(target, how_many):
            request = AddRegistryRequest(
                enterprise_project_id="0",
                body=AddRegistryRequestBody(**body, registry_password=PASSWORD),
            )
            client.add_registry(request)
            added += 1
    print(f"added {added}")
    return 0 if added == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
