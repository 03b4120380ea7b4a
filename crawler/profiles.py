"""Client profiles: the browsers a seed is fetched as, with the headers each really sends.

Fraud kits decide what to show from the request: a phone gets the scam, a
desktop (the reviewer, the crawler, the blocklist builder) gets a harmless page
or "请使用手机访问", and pages meant to be opened from a chat link check for
WeChat's in-app browser. So a seed is fetched once per profile, each with the
whole set of headers its browser sends, not just a User-Agent: kits test
``sec-ch-ua-mobile``, ``Accept-Language`` and ``X-Requested-With`` as well, and
a Chrome User-Agent without Chrome's client hints is itself a crawler's mark.

The profiles, and what they were copied from (refresh them together: a kit
that sees an old major version may serve an "update your browser" page):

* ``desktop``: Chrome 138 on Windows 10/11 x64, the most common desktop in
  China. Chrome's reduced User-Agent (frozen ``Windows NT 10.0``, ``.0.0.0``
  minor version) with its low-entropy client hints.
* ``iphone``: Safari on iOS 18.5. Safari sends no client hints; its
  ``Accept-Language`` for a simplified-Chinese phone is ``zh-CN,zh-Hans``.
* ``android``: Chrome 138 on Android, reduced User-Agent (``Android 10; K`` is
  what every Chrome on Android now says), ``sec-ch-ua-mobile: ?1``.
* ``wechat``: WeChat 8.0 on Android (XWEB, its Chromium-based web view), the
  in-app browser a link sent in a chat opens in. Kits look for
  ``MicroMessenger`` in the User-Agent; the web view also names the app in
  ``X-Requested-With``. No client hints: XWEB builds differ in sending them,
  and a kit that tests them tests the User-Agent first.

No profile sets ``Accept-Encoding``: Scrapy's compression middleware sets it to
the encodings this installation can decode, and a browser's ``br, zstd`` without
the decoders would bring back bodies nobody can read. Header order is Scrapy's,
not the browser's; no kit seen so far looks at it.

The default profile, for pages followed from a seed and for anything fetched
once, is ``android``: the scams this project hunts are built for phones (task
scams, loans and fake apps are all sold through mobile links), the desktop
variant is the one most often disguised, and Android is most of China's phones.
Not ``wechat``, though it is where many victims click: kits also send WeChat
visitors to "open in your browser" pages, and a phone browser is what the
victim ends up in. It keeps what the crawler said before profiles existed
(Chrome on Android), so a crawl with one profile sees the same pages as before.

How a seed's variants are fetched and compared: :mod:`fraudwall.crawler.variants`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fraudwall.exceptions import ConfigError

#: The Chrome major version both Chrome profiles claim; the client hints below must name the same one.
CHROME_MAJOR = 138

_CHROME_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
    "application/signed-exchange;v=b3;q=0.7"
)
_SAFARI_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# The brand list Chrome 138 sends, its GREASE entry included (the GREASE brand changes with the major version).
_CHROME_BRANDS = f'"Not)A;Brand";v="8", "Chromium";v="{CHROME_MAJOR}", "Google Chrome";v="{CHROME_MAJOR}"'
# A top-level navigation typed or opened from outside the site: what a victim's first click on a link looks like.
_NAVIGATION = (
    ("Upgrade-Insecure-Requests", "1"),
    ("Sec-Fetch-Site", "none"),
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-Fetch-User", "?1"),
    ("Sec-Fetch-Dest", "document"),
)


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """One client a page is fetched as: its name (``PageObservation.fetched_as``) and its request headers."""

    name: str
    #: Headers in the order the browser sends them, ``Accept-Encoding`` left to Scrapy.
    headers: tuple[tuple[str, str], ...]
    #: True for phones: what a kit shows its victims rather than its reviewers.
    mobile: bool
    #: What the profile stands for, for logs and ``--help``.
    description: str = ""

    @property
    def user_agent(self) -> str:
        """The profile's User-Agent header."""
        return dict(self.headers)["User-Agent"]


DESKTOP = ClientProfile(
    name="desktop",
    mobile=False,
    description=f"Chrome {CHROME_MAJOR} on Windows",
    headers=(
        ("sec-ch-ua", _CHROME_BRANDS),
        ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", '"Windows"'),
        ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       f"Chrome/{CHROME_MAJOR}.0.0.0 Safari/537.36"),
        ("Accept", _CHROME_ACCEPT),
        *_NAVIGATION,
        ("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"),
    ),
)

IPHONE = ClientProfile(
    name="iphone",
    mobile=True,
    description="Safari on iOS 18.5",
    headers=(
        ("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"),
        ("Accept", _SAFARI_ACCEPT),
        *_NAVIGATION,
        ("Accept-Language", "zh-CN,zh-Hans;q=0.9"),
    ),
)

ANDROID = ClientProfile(
    name="android",
    mobile=True,
    description=f"Chrome {CHROME_MAJOR} on Android",
    headers=(
        ("sec-ch-ua", _CHROME_BRANDS),
        ("sec-ch-ua-mobile", "?1"),
        ("sec-ch-ua-platform", '"Android"'),
        ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
                       f"Chrome/{CHROME_MAJOR}.0.0.0 Mobile Safari/537.36"),
        ("Accept", _CHROME_ACCEPT),
        *_NAVIGATION,
        ("Accept-Language", "zh-CN,zh;q=0.9"),
    ),
)

WECHAT = ClientProfile(
    name="wechat",
    mobile=True,
    description="WeChat 8.0 in-app browser (XWEB) on Android",
    headers=(
        ("User-Agent", "Mozilla/5.0 (Linux; Android 14; V2309A Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
                       "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300409 "
                       "MMWEBSDK/20240801 MMWEBID/2365 MicroMessenger/8.0.50.2701(0x2800325B) WeChat/arm64 "
                       "Weixin NetType/WIFI Language/zh_CN ABI/arm64"),
        ("Accept", _CHROME_ACCEPT),
        ("Upgrade-Insecure-Requests", "1"),
        # The Android web view names the app that hosts it.
        ("X-Requested-With", "com.tencent.mm"),
        *_NAVIGATION[1:],
        ("Accept-Language", "zh-CN,zh;q=0.9,en-US;q=0.8,en;q=0.7"),
    ),
)

#: Every profile by name, in the order a seed's variants are requested.
PROFILES: Mapping[str, ClientProfile] = MappingProxyType(
    {profile.name: profile for profile in (DESKTOP, IPHONE, ANDROID, WECHAT)}
)
#: The profile of pages fetched once (followed links): see the module's docstring for why a phone.
DEFAULT_PROFILE = "android"


def profile(name: str) -> ClientProfile:
    """The profile called ``name``; a :class:`~fraudwall.exceptions.ConfigError` naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown client profile {name!r}; known: {', '.join(PROFILES)}") from None


def headers_for(name: str, *, followed: bool = False) -> dict[str, str]:
    """The request headers of profile ``name``, for Scrapy's ``Request(headers=...)``.

    ``followed`` is for a link followed inside a site: the browser then says
    the request comes from the same site (Scrapy's referer middleware adds the
    ``Referer`` that goes with it), where a seed is a navigation from outside.
    """
    headers = dict(profile(name).headers)
    if followed:
        headers["Sec-Fetch-Site"] = "same-origin"
    return headers
