"""The fraud-like fixture APKs (tests/data/apks): every planted indicator, permission, label, mark and trick is found.

``MANIFEST.toml`` lists what ``tools/build_test_apks.py`` planted in each
file. Checked here: package, labels (default and English), permissions,
URLs, hosts, IPs, wallets, chat handles, phones, intent filter actions,
foreground service types, packer and SDK/shell marks, nested APKs, hostile
members, the tamper tricks and the signer. Kinds that are no field of an
observation (paths, keywords, endpoints, assets) are not.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from fraudwall.apk_analysis import ApkRejected, observe_apk
from fraudwall.models import ApkObservation
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "data" / "apks"
MANIFEST = FIXTURES / "MANIFEST.toml"
#: The fixture builder's tamper tags, and words of the tamper note each must produce.
TAMPER_NOTES = {
    "invalid-compression-method": "invalid compression method",
    "garbage-between-cd-and-eocd": "between the central directory and its end record",
    "janus-prepended-dex": "Janus",
    "zip-bomb": "zip bomb",
    "path-traversal": "path-traversal",
}


def _entries() -> list[dict[str, Any]]:
    if not MANIFEST.is_file():
        return []
    return tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["apk"]


pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason=f"no fixture APKs at {FIXTURES}")


def _dn(subject: str) -> set[str]:
    return {part.strip() for part in re.split(r",(?=\s*[A-Za-z]+=)", subject) if part.strip()}


def _check_planted(found: list[ApkObservation], planted: dict[str, list[str]]) -> None:
    apk = found[0]
    permissions = {name for name, _ in apk.permissions}
    assert set(planted.get("permissions", ())) <= permissions
    assert set(planted.get("urls", ())) <= set(apk.urls)
    assert set(planted.get("hosts", ())) <= set(apk.hosts)
    assert set(planted.get("ips", ())) <= set(apk.ips)
    assert set(planted.get("wallets", ())) <= {address for _, address in apk.wallets}
    for handle in planted.get("handles", ()):
        assert any(value.lstrip("@").lower() in handle.lower() for _, value in apk.handles), handle
    for phone in planted.get("phones", ()):
        assert re.sub(r"[\s-]", "", phone) in apk.phones, phone
    actions = {action for component in apk.components for item in component.intent_filters for action in item.actions}
    assert set(planted.get("actions", ())) <= actions
    service_types = " ".join(value for component in apk.components for key, value in component.attributes
                             if key == "foregroundServiceType")
    for service_type in planted.get("foreground_service_types", ()):
        assert service_type in service_types
    packer_text = " ".join(f"{name} {evidence}" for name, evidence in apk.packers)
    for mark in planted.get("packer_marks", ()):
        assert mark in packer_text or mark.rsplit("/", 1)[-1] in apk.native_libraries, mark
    mark_text = " ".join(f"{name} {evidence}" for name, evidence in apk.sdks + apk.shells)
    for mark in planted.get("sdk_marks", ()):
        assert mark.replace("/", ".") in mark_text or mark in mark_text, mark
    for member in planted.get("nested", ()):
        assert any(note.startswith(f"nested APK {member}") for note in apk.tamper), member
    for member in planted.get("hostile_members", ()):
        assert any(member in note for note in apk.tamper), member


@pytest.mark.parametrize("entry", _entries(), ids=lambda entry: entry["file"])
def test_fixture(entry: dict[str, Any]) -> None:
    """The fixture is observed (or rejected) as MANIFEST.toml says, with everything planted in it found."""
    data = (FIXTURES / entry["file"]).read_bytes()
    if entry["expected"] == "rejected":
        with pytest.raises(ApkRejected):
            observe_apk(data)
        return
    found = observe_apk(data)
    apk = found[0]
    assert apk.package == entry["package"]
    assert ("", entry["label"]) in apk.labels
    if "label_en" in entry:
        assert ("en", entry["label_en"]) in apk.labels
    _check_planted(found, entry.get("planted", {}))
    for tag in entry.get("tamper", ()):
        assert any(TAMPER_NOTES[tag] in note for note in apk.tamper), tag
    if "signer" in entry:
        assert _dn(entry["signer"]) in [_dn(certificate.subject) for certificate in apk.certificates]
    if "payload" in entry and entry["class"] == "dropper":
        payload = observe_apk((FIXTURES / entry["payload"]).read_bytes())[0]
        assert payload.sha256 in apk.nested
        assert [observation.package for observation in found[1:]] == [payload.package]


def test_clean_fixtures_have_no_tamper_signs() -> None:
    """The benign fixtures, signed by apksigner, verify in every scheme and carry no tamper sign."""
    for entry in _entries():
        if entry["class"] == "benign":
            (apk,) = observe_apk((FIXTURES / entry["file"]).read_bytes())
            assert apk.tamper == (), entry["file"]
            assert all(verified for certificate in apk.certificates for _, verified in certificate.schemes)
