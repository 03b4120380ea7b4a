"""App bundles (.xapk, .apks): a zip of a base APK and its splits, with no manifest of its own, installed together.

Fake-app pages offer them as often as plain APKs; they were rejected as "no
AndroidManifest.xml and no classes.dex", so the app inside was never judged.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fraudwall.apk_analysis import ApkRejected, observe_apk
from tests.conftest import REPO

APKS = REPO / "tests" / "data" / "apks"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_bundle_is_observed_as_the_carrier_of_its_apks() -> None:
    """An .xapk (manifest.json, the base APK, a split, an icon) and an .apks (splits/ folder) are each observed as
    a bundle named after its base APK (the one with components), carrying every APK inside, each observed too."""
    loan, weather = (APKS / "loan_app.apk").read_bytes(), (APKS / "benign_weather.apk").read_bytes()
    xapk = _zip({"manifest.json": json.dumps({"package_name": "com.jisu.daikuan"}).encode(),
                 "com.jisu.daikuan.apk": loan, "config.arm64_v8a.apk": weather, "icon.png": b"\x89PNG\r\n"})
    outer, *inner = observe_apk(xapk, download_url="http://dai-kuan.top/app.xapk")
    assert (outer.package, outer.download_url, len(outer.nested)) == ("com.jisu.daikuan", "http://dai-kuan.top/app.xapk", 2)
    assert sorted((each.member, each.parent == outer.sha256) for each in inner) == [
        ("com.jisu.daikuan.apk", True), ("config.arm64_v8a.apk", True)]
    assert outer.certificates == next(each for each in inner if each.package == "com.jisu.daikuan").certificates
    apks = _zip({"toc.pb": b"\x00", "splits/base-master.apk": loan})
    assert observe_apk(apks)[0].package == "com.jisu.daikuan"


def test_a_zip_of_no_readable_apk_is_still_rejected() -> None:
    """A zip whose .apk members are no APKs is rejected with a reason, as any zip of neither manifest nor code is."""
    with pytest.raises(ApkRejected, match="bundle of no readable APK"):
        observe_apk(_zip({"app.apk": b"<html>not found</html>", "readme.txt": b"x"}))


def test_analyze_apk_judges_a_bundle_by_the_app_it_carries(tmp_path: Path) -> None:
    """`fraudwall analyze apk app.xapk`: the bundle is judged malicious because the loan app it carries is."""
    path = tmp_path / "app.xapk"
    path.write_bytes(_zip({"com.jisu.daikuan.apk": (APKS / "loan_app.apk").read_bytes()}))
    result = subprocess.run([sys.executable, "-m", "fraudwall.cli", "analyze", "apk", "--json", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    bundle, app, summary = [json.loads(line) for line in result.stdout.splitlines()]
    assert (bundle["package"], bundle["verdict"], app["verdict"]) == ("com.jisu.daikuan", "malicious", "malicious")
    assert bundle["sha256"] != app["sha256"] and summary["summary"] == {"files": 1, "rejected": 0, "malicious": 2}
