"""What ``AndroidManifest.xml`` declares: identity, labels, SDKs, permissions, components.

The manifest is decoded by :mod:`.axml` and read here into plain values.
Attribute values that point into ``resources.arsc`` (the label, the version
name) are resolved through :class:`~.resources.Resources`, the label in every
locale. Components keep what detectors of fake apps ask about: whether they
are exported, the permission guarding them, their intent filters, the
foreground service types (``mediaProjection`` is screen capture), meta-data
names (``android.accessibilityservice``, ``android.app.device_admin``) and the
default-app role a filter applies for (SMS, dialer, call redirection...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from fraudwall.apk_analysis.axml import decode_axml
from fraudwall.apk_analysis.notes import Notes
from fraudwall.apk_analysis.permissions import declared_level, protection_level
from fraudwall.apk_analysis.resources import Resources
from fraudwall.models import ApkComponent, IntentFilter

ANDROID = "{http://schemas.android.com/apk/res/android}"
MANIFEST_NAME = "AndroidManifest.xml"

COMPONENT_KINDS = {
    "activity": "activity", "activity-alias": "activity", "service": "service",
    "receiver": "receiver", "provider": "provider",
}
PERMISSION_TAGS = ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m")
#: Component attributes kept for detectors, beside name, exported and permission.
KEPT_ATTRIBUTES = (
    "foregroundServiceType", "targetActivity", "authorities", "process", "enabled", "excludeFromRecents",
    "directBootAware", "taskAffinity",
)
#: ``android:foregroundServiceType`` bits (``android.content.pm.ServiceInfo``).
FOREGROUND_SERVICE_TYPES = {
    0x1: "dataSync", 0x2: "mediaPlayback", 0x4: "phoneCall", 0x8: "location", 0x10: "connectedDevice",
    0x20: "mediaProjection", 0x40: "camera", 0x80: "microphone", 0x100: "health", 0x200: "remoteMessaging",
    0x400: "systemExempted", 0x800: "shortService", 0x1000: "fileManagement", 0x2000: "mediaProcessing",
    0x40000000: "specialUse",
}
#: Filter actions and categories that make a component a candidate for one of Android's default-app roles.
ROLE_SIGNALS = {
    "android.provider.Telephony.SMS_DELIVER": "sms",
    "android.provider.Telephony.WAP_PUSH_DELIVER": "sms",
    "android.intent.action.RESPOND_VIA_MESSAGE": "sms",
    "android.intent.action.DIAL": "dialer",
    "android.telecom.InCallService": "dialer",
    "android.telecom.CallScreeningService": "call_screening",
    "android.telecom.CallRedirectionService": "call_redirection",
    "android.intent.action.ASSIST": "assistant",
    "android.intent.category.HOME": "home",
}
#: Data URIs kept per intent filter (schemes x hosts x paths can multiply).
MAX_FILTER_DATA = 64


@dataclass(frozen=True, slots=True)
class Manifest:
    """The manifest's content as plain values; empty when there is no manifest or it does not parse."""

    package: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    version_code: int | None = None
    version_name: str = ""
    min_sdk: int | None = None
    target_sdk: int | None = None
    permissions: tuple[tuple[str, str], ...] = ()
    components: tuple[ApkComponent, ...] = ()
    #: The Application class and component factory (packers put their stub there).
    application_classes: tuple[str, ...] = ()


def read_manifest(axml: bytes, resources: Resources, notes: Notes) -> Manifest:
    """Read compiled ``AndroidManifest.xml`` bytes; problems go to ``notes``, never raised."""
    root = decode_axml(axml, MANIFEST_NAME, notes)
    if root is None:
        return Manifest()
    if root.tag != "manifest":
        notes.add("axml", f"{MANIFEST_NAME}: root element is <{root.tag}>")
    package = (root.get("package") or "").strip()
    application = _first(root, "application")
    components = tuple(_components(application, package, resources)) if application is not None else ()
    uses_sdk = _first(root, "uses-sdk")
    return Manifest(
        package=package,
        labels=_labels(application, components, root, resources),
        version_code=_integer(_attribute(root, "versionCode")),
        version_name=resources.default(_attribute(root, "versionName")),
        min_sdk=_integer(_attribute(uses_sdk, "minSdkVersion")) if uses_sdk is not None else None,
        target_sdk=_integer(_attribute(uses_sdk, "targetSdkVersion")) if uses_sdk is not None else None,
        permissions=_permissions(root),
        components=components,
        application_classes=tuple(
            _class_name(value, package) for key in ("name", "appComponentFactory")
            if application is not None and (value := _attribute(application, key))
        ),
    )


# -- helpers -----------------------------------------------------------------------


def _first(element: etree._Element, tag: str) -> etree._Element | None:
    return next((child for child in element if child.tag == tag), None)


def _attribute(element: etree._Element, name: str) -> str:
    """An ``android:`` attribute; also without the namespace, which some tampered manifests drop."""
    return (element.get(ANDROID + name) or element.get(name) or "").strip()


def _integer(value: str) -> int | None:
    try:
        return int(value, 0) if value.startswith("0x") else int(value)
    except ValueError:
        return None  # a codename ("Q") or a reference


def _class_name(name: str, package: str) -> str:
    """A component name as Android completes it: ``.Main`` and ``Main`` are inside the package."""
    if name.startswith("."):
        return package + name
    return name if "." in name or not package else f"{package}.{name}"


def _labels(application: etree._Element | None, components: tuple[ApkComponent, ...],
            root: etree._Element, resources: Resources) -> tuple[tuple[str, str], ...]:
    """The application's label in every locale; the launcher activity's when the application has none."""
    if application is not None and (label := _attribute(application, "label")):
        return resources.localized(label)
    for element in root.iter("activity", "activity-alias"):
        filters = [(_names(f, "action"), _names(f, "category")) for f in element.iter("intent-filter")]
        if any("android.intent.action.MAIN" in actions and "android.intent.category.LAUNCHER" in categories
               for actions, categories in filters):
            if label := _attribute(element, "label"):
                return resources.localized(label)
    return ()


def _permissions(root: etree._Element) -> tuple[tuple[str, str], ...]:
    declared = {
        name: declared_level(_attribute(element, "protectionLevel") or "0")
        for element in root.iter("permission") if (name := _attribute(element, "name"))
    }
    requested = dict.fromkeys(
        name for tag in PERMISSION_TAGS for element in root.iter(tag) if (name := _attribute(element, "name"))
    )
    return tuple((name, protection_level(name, declared)) for name in requested)


def _names(element: etree._Element, tag: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for child in element.iter(tag) if (name := _attribute(child, "name"))))


def _components(application: etree._Element, package: str, resources: Resources) -> Iterable[ApkComponent]:
    for element in application:
        kind = COMPONENT_KINDS.get(element.tag) if isinstance(element.tag, str) else None
        if kind is None:
            continue
        exported = _attribute(element, "exported")
        filters = tuple(_intent_filter(child) for child in element.iter("intent-filter"))
        yield ApkComponent(
            kind=kind,
            name=_class_name(_attribute(element, "name"), package),
            exported={"true": True, "false": False}.get(exported),
            permission=_attribute(element, "permission"),
            intent_filters=filters,
            attributes=tuple(_component_attributes(element, filters, package)),
        )


def _component_attributes(element: etree._Element, filters: tuple[IntentFilter, ...],
                          package: str) -> Iterable[tuple[str, str]]:
    for key in KEPT_ATTRIBUTES:
        if value := _attribute(element, key):
            if key == "foregroundServiceType":
                value = _flag_names(value, FOREGROUND_SERVICE_TYPES)
            elif key == "targetActivity":
                value = _class_name(value, package)
            yield key, value
    for name in _names(element, "meta-data"):
        yield "meta-data", name
    roles = {ROLE_SIGNALS[signal] for item in filters for signal in item.actions + item.categories
             if signal in ROLE_SIGNALS}
    if element.tag == "service":
        roles.update(ROLE_SIGNALS[action] for action in _names(element, "action") if action in ROLE_SIGNALS)
    for role in sorted(roles):
        yield "role", role


def _flag_names(value: str, names: dict[int, str]) -> str:
    try:
        number = int(value, 0)
    except ValueError:
        return value
    return "|".join(name for bit, name in names.items() if number & bit) or value


def _intent_filter(element: etree._Element) -> IntentFilter:
    schemes, hosts, paths, types = [], [], [], []
    for data in element.iter("data"):
        if scheme := _attribute(data, "scheme"):
            schemes.append(scheme)
        if host := _attribute(data, "host"):
            port = _attribute(data, "port")
            hosts.append(f"{host}:{port}" if port else host)
        for key, template in (("path", "{}"), ("pathPrefix", "{}*"), ("pathPattern", "{}"),
                              ("pathAdvancedPattern", "{}"), ("pathSuffix", "*{}")):
            if value := _attribute(data, key):
                paths.append(template.format(value))
        if mime := _attribute(data, "mimeType"):
            types.append(mime)
    uris: list[str] = []
    for scheme in dict.fromkeys(schemes):
        if not hosts:
            uris.append(f"{scheme}:")
        for host in dict.fromkeys(hosts):
            uris.extend(f"{scheme}://{host}{path}" for path in dict.fromkeys(paths or [""]))
    uris.extend(dict.fromkeys(types))
    return IntentFilter(
        actions=_names(element, "action"),
        categories=_names(element, "category"),
        data=tuple(dict.fromkeys(uris))[:MAX_FILTER_DATA],
        priority=_integer(_attribute(element, "priority")) or 0,
    )
