"""The regions HSS serves and their endpoints, as the official SDK ships them.

The table is the SDK's built-in one (``huaweicloudsdkhss/v5/region/hss_region.py``,
``HssRegion``, 3.1.219); a test holds the two equal, so a region Huawei adds
shows up as a failing test when the SDK is upgraded. It is the last step of
the SDK's resolution, after ``HUAWEICLOUD_SDK_REGION_HSS_<REGION>`` and the
regions file (``config/endpoints.py`` reads those). Bottom layer: imports
nothing from ``reconciler``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# The SDK's environment variable for one service and region: HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_1.
REGION_ENV_PREFIX = "HUAWEICLOUD_SDK_REGION_HSS_"
SERVICE = "HSS"

_DOMAIN = "myhuaweicloud.com"
_ENDPOINTS = {region: f"https://hss.{region}.{_DOMAIN}" for region in (
    "ae-ad-1", "af-north-1", "af-south-1",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5",
    "cn-north-1", "cn-north-2", "cn-north-4", "cn-north-9", "cn-north-11", "cn-north-12",
    "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2", "cn-southwest-3",
    "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1", "na-mexico-1",
    "ru-moscow-1", "sa-brazil-1", "tr-west-1",
)}
_ENDPOINTS["eu-west-101"] = "https://hss.eu-west-101.myhuaweicloud.eu"  # the one region outside .com

BUILTIN_ENDPOINTS: Mapping[str, str] = MappingProxyType(dict(sorted(_ENDPOINTS.items())))


def builtin_endpoint(region: str) -> str | None:
    """The SDK's built-in endpoint for ``region``; None when HSS is not known there."""
    return BUILTIN_ENDPOINTS.get(region)


def region_env_name(region: str) -> str:
    """The variable the SDK reads for ``region``: upper case, '-' as '_' (EnvRegionProvider)."""
    return REGION_ENV_PREFIX + region.replace("-", "_").upper()


def known_regions() -> list[str]:
    return list(BUILTIN_ENDPOINTS)
