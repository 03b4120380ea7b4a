"""Protection levels of Android permissions: what granting one gives an app.

AOSP's own levels (``dangerous``, ``signature|privileged``, ``normal``...)
come from the permission lists androguard ships, extracted from AOSP for each
API level; the newest level it has is used. A permission the app declares
itself (``<permission android:protectionLevel=...>``) takes the level it
declares, unless AOSP defines that name (Android ignores an app redefining
a platform permission). Anything else (another vendor's permission) has no known level: "".
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import androguard.core.api_specific_resources as aosp_resources

#: ``android:protectionLevel`` bits, as in ``android.content.pm.PermissionInfo``.
BASE_LEVELS = {0: "normal", 1: "dangerous", 2: "signature", 3: "signatureOrSystem", 4: "internal"}
LEVEL_FLAGS = {
    0x10: "privileged", 0x20: "development", 0x40: "appop", 0x80: "pre23", 0x100: "installer",
    0x200: "verifier", 0x400: "preinstalled", 0x800: "setup", 0x1000: "instant", 0x2000: "runtime",
    0x4000: "oem", 0x8000: "vendorPrivileged", 0x10000: "textClassifier", 0x80000: "retailDemo",
    0x100000: "recents", 0x200000: "role", 0x400000: "knownSigner", 0x800000: "module",
}
BASE_MASK = 0xF


@functools.cache
def aosp_levels() -> dict[str, str]:
    """Permission name -> protection level, for every permission of the newest AOSP level androguard knows."""
    folder = Path(aosp_resources.__file__).parent / "aosp_permissions"
    newest = max(folder.glob("permissions_*.json"), key=lambda path: int(path.stem.rpartition("_")[2]))
    permissions = json.loads(newest.read_text(encoding="utf-8"))["permissions"]
    return {name: info.get("protectionLevel", "") for name, info in permissions.items()}


def declared_level(value: str) -> str:
    """A manifest's ``android:protectionLevel`` value (``0x00000012``, ``18`` or a name) as Android writes it."""
    try:
        number = int(value, 0)
    except ValueError:
        return value  # already a name, as aapt keeps it in some builds
    names = [BASE_LEVELS.get(number & BASE_MASK, str(number & BASE_MASK))]
    names += [name for bit, name in LEVEL_FLAGS.items() if number & bit]
    return "|".join(names)


def protection_level(name: str, declared: dict[str, str]) -> str:
    """The protection level of permission ``name``: AOSP's, else the app's own declaration, else ""."""
    return aosp_levels().get(name) or declared.get(name, "")
