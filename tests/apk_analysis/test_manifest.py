"""Reading the compiled manifest: identity, labels, permissions, components, filters, and broken AXML."""

from __future__ import annotations

import struct

from fraudwall.apk_analysis.chunks import XML_TYPE, check_chunks
from fraudwall.apk_analysis.manifest import Manifest, read_manifest
from fraudwall.apk_analysis.notes import Notes
from fraudwall.apk_analysis.resources import Resources
from fraudwall.apk_analysis.string_pool import pool_strings
from tests.apk_analysis.apk_builders import Element, Hex, Reference, make_axml, manifest


def _read(axml: bytes) -> tuple[Manifest, Notes]:
    notes = Notes()
    return read_manifest(axml, Resources(None, notes), notes), notes


def test_identity_sdk_and_literal_label() -> None:
    """Package, version, SDK levels and a literal label read as written."""
    found, notes = _read(manifest("com.fanzha.center.app", label="国家反诈中心"))
    assert (found.package, found.version_code, found.version_name) == ("com.fanzha.center.app", 7, "1.2")
    assert (found.min_sdk, found.target_sdk) == (21, 33)
    assert found.labels == (("", "国家反诈中心"),)
    assert notes.result() == ()


def test_permissions_with_protection_levels() -> None:
    """AOSP permissions get AOSP's level; the app's own permission its declared level; others none."""
    root = Element("manifest", {"package": "com.x"}, [
        Element("permission", {"android:name": "com.x.PUSH", "android:protectionLevel": Hex(0x12)}),
        Element("uses-permission", {"android:name": "android.permission.READ_SMS"}),
        Element("uses-permission", {"android:name": "android.permission.BIND_ACCESSIBILITY_SERVICE"}),
        Element("uses-permission", {"android:name": "com.x.PUSH"}),
        Element("uses-permission-sdk-23", {"android:name": "com.vendor.OTHER"}),
        Element("uses-permission", {"android:name": "android.permission.READ_SMS"}),
    ])
    found, _ = _read(make_axml(root))
    assert found.permissions == (
        ("android.permission.READ_SMS", "dangerous"), ("android.permission.BIND_ACCESSIBILITY_SERVICE", "signature"),
        ("com.x.PUSH", "signature|privileged"), ("com.vendor.OTHER", ""),
    )


def test_components_exported_names_and_attributes() -> None:
    """Names are completed from the package; exported is None when unsaid; service types read as names."""
    found, _ = _read(manifest("com.x", components=(
        Element("activity", {"android:name": ".Main", "android:exported": True}),
        Element("activity-alias", {"android:name": "Alias", "android:targetActivity": ".Main"}),
        Element("service", {"android:name": "org.other.Capture", "android:exported": False,
                            "android:foregroundServiceType": Hex(0x20 | 0x80)}),
        Element("service", {"android:name": ".Guard", "android:permission":
                            "android.permission.BIND_ACCESSIBILITY_SERVICE"}, [
            Element("intent-filter", {}, [Element("action", {"android:name":
                                                             "android.accessibilityservice.AccessibilityService"})]),
            Element("meta-data", {"android:name": "android.accessibilityservice",
                                  "android:resource": Reference(0x7F0F0001)}),
        ]),
    )))
    main, alias, capture, guard = found.components
    assert (main.kind, main.name, main.exported) == ("activity", "com.x.Main", True)
    assert (alias.kind, alias.name, alias.exported) == ("activity", "com.x.Alias", None)
    assert ("targetActivity", "com.x.Main") in alias.attributes
    assert capture.exported is False
    assert ("foregroundServiceType", "mediaProjection|microphone") in capture.attributes
    assert guard.permission == "android.permission.BIND_ACCESSIBILITY_SERVICE"
    assert ("meta-data", "android.accessibilityservice") in guard.attributes
    assert guard.intent_filters[0].actions == ("android.accessibilityservice.AccessibilityService",)


def test_intent_filters_data_priority_and_roles() -> None:
    """Filters keep actions, categories, data URIs and priority; default-app roles are named."""
    found, _ = _read(manifest("com.x", components=(
        Element("receiver", {"android:name": ".Sms", "android:permission": "android.permission.BROADCAST_SMS"}, [
            Element("intent-filter", {"android:priority": 999}, [
                Element("action", {"android:name": "android.provider.Telephony.SMS_DELIVER"}),
                Element("category", {"android:name": "android.intent.category.DEFAULT"}),
                Element("data", {"android:scheme": "sms"}),
            ]),
        ]),
        Element("activity", {"android:name": ".Pay"}, [
            Element("intent-filter", {}, [
                Element("action", {"android:name": "android.intent.action.VIEW"}),
                Element("data", {"android:scheme": "https", "android:host": "pay.fraud.top", "android:port": "8443",
                                 "android:pathPrefix": "/order"}),
                Element("data", {"android:mimeType": "image/*"}),
            ]),
        ]),
    )))
    sms, pay = found.components
    (sms_filter,) = sms.intent_filters
    assert sms_filter.priority == 999
    assert sms_filter.categories == ("android.intent.category.DEFAULT",)
    assert sms_filter.data == ("sms:",)
    assert ("role", "sms") in sms.attributes
    assert pay.intent_filters[0].data == ("https://pay.fraud.top:8443/order*", "image/*")


def test_launcher_label_when_the_application_has_none() -> None:
    """Without an application label, the launcher activity's label is the app's name."""
    found, _ = _read(manifest("com.x", label="", components=(
        Element("activity", {"android:name": ".Main", "android:label": "客服中心"}, [
            Element("intent-filter", {}, [
                Element("action", {"android:name": "android.intent.action.MAIN"}),
                Element("category", {"android:name": "android.intent.category.LAUNCHER"}),
            ]),
        ]),
    )))
    assert found.labels == (("", "客服中心"),)


def test_unresolvable_reference_label() -> None:
    """A label pointing into a resources.arsc the APK does not have gives no label, not a raw ID."""
    found, _ = _read(manifest("com.x", label=Reference(0x7F0B0001)))
    assert found.labels == ()


def test_packer_application_classes() -> None:
    """The Application class and component factory are kept, completed from the package."""
    found, _ = _read(manifest("com.x", application={"android:name": "com.stub.StubApp",
                                                     "android:appComponentFactory": ".Factory"}))
    assert found.application_classes == ("com.stub.StubApp", "com.x.Factory")


def test_zero_size_chunk_is_a_tamper_sign_and_still_parses() -> None:
    """A zero-size END_NAMESPACE chunk (a packer trick) is reported; the manifest still reads."""
    axml = bytearray(manifest("com.x"))
    struct.pack_into("<I", axml, len(axml) - 24 + 4, 0)
    found, notes = _read(bytes(axml))
    assert found.package == "com.x"
    assert any("bogus chunk 0x0101 of size 0" in note for note in notes.result())


def test_string_pool_claiming_billions_is_not_parsed() -> None:
    """A string pool whose count cannot fit its chunk is never handed to androguard (it would loop for hours)."""
    axml = bytearray(manifest("com.x"))
    struct.pack_into("<I", axml, 8 + 8, 0x3FFFFFFF)
    struct.pack_into("<I", axml, 8 + 20, 0xFFFFFFF0)
    check = check_chunks(bytes(axml), XML_TYPE)
    assert not check.safe
    found, notes = _read(bytes(axml))
    assert found == Manifest()
    assert any("not parsed" in note for note in notes.result())


def test_garbage_is_no_manifest() -> None:
    """Random bytes as a manifest give an empty manifest and notes, never an exception."""
    found, notes = _read(b"\x03\x00\x08\x00" + b"\xff" * 64)
    assert found == Manifest()
    assert notes.result()


def test_string_pool_reader() -> None:
    """The AXML string pool gives every string of the file, the fast way indicators read res/xml."""
    strings = pool_strings(manifest("com.fraud.app", label="https://fraud.top/"))
    assert "com.fraud.app" in strings and "https://fraud.top/" in strings
    assert pool_strings(b"\x03\x00\x08\x00\x10\x00\x00\x00") == []
