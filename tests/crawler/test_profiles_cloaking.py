"""Client profiles and the cross-profile cloaking comparison.

Every variant here is a real :class:`PageObservation` built by
:func:`fraudwall.pages.parse_page` from HTML, the way the spider builds them:
what a phone is shown against what a desktop is shown, and the noise
(timestamps, tokens, ads, whitespace) that must not count as a difference.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from fraudwall.crawler.cloaking_check import DETECTOR, SCORE, SCORE_MANY, cloaking_findings, compare_variants, shingles
from fraudwall.crawler.profiles import DEFAULT_PROFILE, PROFILES, headers_for, profile
from fraudwall.crawler.variants import (
    PAGES_META, ClientProfilesMiddleware, CloakedSeed, SeedVariants, merge_variants,
)
from fraudwall.exceptions import ConfigError
from fraudwall.models import Category, PageObservation, SubjectKind
from fraudwall.pages import parse_page

SEED = "https://shuadan-task.top/"
PHONES = ("iphone", "android", "wechat")

HARMLESS = """<html><head><title>清风茶业 - 官方网站</title></head><body>
<h1>清风茶业</h1><p>清风茶业创立于二零零八年，专注于福建高山乌龙茶的种植、加工与销售。</p>
<p>我们的茶园位于海拔八百米以上的山区，坚持生态种植，不使用化学农药。</p>
<p>联系我们：福建省安溪县茶乡路。欢迎来厂参观选购。</p>
<ul><li>铁观音</li><li>大红袍</li><li>金骏眉</li></ul></body></html>"""

SCAM = """<html><head><title>抖音点赞任务 日赚500元</title></head><body>
<h1>在家兼职 轻松日赚</h1><p>点赞关注即可领取佣金，一单一结，新人首单返利百分之三十。</p>
<p>完成三单连单任务后垫付本金全额返还，额外奖励佣金，名额有限。</p>
<p>添加导师微信 kefu888 领取任务，下载专属APP 提现秒到账。</p>
<a href="https://shuadan-task.top/app/task.apk">立即下载</a></body></html>"""

ARTICLE = """<html><head><title>{title}</title></head><body>
<nav>首页 新闻 关于我们</nav>
<article><h1>春季养生小知识</h1>
<p>春天气温回升，昼夜温差较大，专家建议注意保暖，适当增减衣物。</p>
<p>饮食方面宜清淡，多吃新鲜蔬菜水果，少吃辛辣油腻的食物。</p>
<p>坚持适量运动，例如散步、慢跑和太极拳，有助于增强体质。</p>
<p>保持充足睡眠，早睡早起，避免熬夜，对身体健康十分重要。</p>
{extra}</article>
<div class="ad">{ad}</div>
<footer>{footer}</footer></body></html>"""


def page(html: str, *, profile_name: str, url: str = SEED, final_url: str | None = None, status: int = 200,
         redirect_chain: tuple[str, ...] = ()) -> PageObservation:
    """A variant as the spider builds it: parsed from the body, tagged with the profile it was fetched as."""
    return parse_page(url, html.encode("utf-8"), final_url=final_url, status=status,
                      redirect_chain=redirect_chain, fetched_as=profile_name,
                      headers=[("Content-Type", "text/html; charset=utf-8")])


def variants(desktop: str, phone: str) -> dict[str, PageObservation]:
    """The desktop variant and the same phone page for every phone profile."""
    found = {"desktop": page(desktop, profile_name="desktop")}
    found.update({name: page(phone, profile_name=name) for name in PHONES})
    return found


# -- profiles --------------------------------------------------------------------


def test_profiles_send_consistent_browser_headers() -> None:
    """Each profile sends a whole browser's headers: Chinese first, client hints only where Chrome sends them,
    a version in sec-ch-ua that matches the User-Agent, and no Accept-Encoding (Scrapy sets what it can decode)."""
    assert list(PROFILES) == ["desktop", "iphone", "android", "wechat"]
    for name in PROFILES:
        headers = headers_for(name)
        assert headers["Accept-Language"].startswith("zh-CN"), name
        assert headers["Accept"].startswith("text/html"), name
        assert "Accept-Encoding" not in headers, name
        chrome = "Chrome/" in headers["User-Agent"] and "MicroMessenger" not in headers["User-Agent"]
        assert ("sec-ch-ua" in headers) == chrome, name
        if chrome:
            major = headers["User-Agent"].split("Chrome/")[1].split(".")[0]
            assert f'"Google Chrome";v="{major}"' in headers["sec-ch-ua"]
            assert headers["sec-ch-ua-mobile"] == ("?1" if profile(name).mobile else "?0")
    assert "Windows NT" in headers_for("desktop")["User-Agent"]
    assert "iPhone" in headers_for("iphone")["User-Agent"] and "Version/" in headers_for("iphone")["User-Agent"]
    assert headers_for("android")["sec-ch-ua-platform"] == '"Android"'
    assert "MicroMessenger/" in headers_for("wechat")["User-Agent"]
    assert headers_for("wechat")["X-Requested-With"] == "com.tencent.mm"


def test_default_profile_is_a_phone_and_followed_links_are_same_origin() -> None:
    """Pages fetched once are fetched as a phone; a followed link says it comes from the same site."""
    assert PROFILES[DEFAULT_PROFILE].mobile
    assert headers_for(DEFAULT_PROFILE)["Sec-Fetch-Site"] == "none"
    assert headers_for(DEFAULT_PROFILE, followed=True)["Sec-Fetch-Site"] == "same-origin"
    assert profile("desktop").user_agent == headers_for("desktop")["User-Agent"]


def test_unknown_profile_is_a_config_error() -> None:
    """A misspelt profile name is refused with the names that exist."""
    with pytest.raises(ConfigError, match="known: desktop, iphone, android, wechat"):
        headers_for("ipad")


# -- cloaking: what differs --------------------------------------------------------


def test_phones_get_the_scam_and_the_desktop_a_harmless_page() -> None:
    """The classic: a tea company's page for the reviewer, a task scam for the phones."""
    verdict = compare_variants(variants(HARMLESS, SCAM))
    assert verdict is not None
    assert verdict.groups == (("desktop",), PHONES)
    assert verdict.profiles == ("desktop", *PHONES)
    assert {"title", "text"} <= set(verdict.material_reasons)
    assert "app-download" in verdict.reasons  # recorded, though it never decides alone
    assert {difference.profiles for difference in verdict.differences} == {("desktop", phone) for phone in PHONES}
    assert all(difference.similarity < 0.1 for difference in verdict.differences)
    evidence = verdict.evidence()
    assert any(line.startswith('desktop: 200 "清风茶业') for line in evidence)
    assert any(line.startswith('android: 200 "抖音点赞任务') for line in evidence)


def test_desktop_gets_a_403_block_page_and_phones_the_content() -> None:
    """A 403 "Access Denied" for the desktop while phones get the page is cloaking, not a broken site."""
    blocked = "<html><head><title>403 Forbidden</title></head><body><h1>Access Denied</h1></body></html>"
    found = {"desktop": page(blocked, profile_name="desktop", status=403)}
    found.update({name: page(SCAM, profile_name=name) for name in PHONES})
    verdict = compare_variants(found)
    assert verdict is not None
    assert verdict.material_reasons == ("blocked",)
    assert verdict.groups == (("desktop",), PHONES)
    assert verdict.variants[0].block_sign == "status 403"


def test_desktop_told_to_use_a_phone_is_a_block_page() -> None:
    """A 200 page that only says "请使用手机访问" (use a phone) is a refusal like a 403."""
    use_phone = ("<html><head><title>提示</title></head><body><div>请使用手机访问本页面</div>"
                 "<img src='qr.png' alt='二维码'></body></html>")
    verdict = compare_variants(variants(use_phone, SCAM))
    assert verdict is not None
    assert "blocked" in verdict.material_reasons
    assert verdict.variants[0].block_sign == "请使用手机访问"


def test_only_wechat_is_redirected_to_another_domain() -> None:
    """WeChat alone is sent on to another registrable domain: cloaking aimed at chat links."""
    found = {name: page(ARTICLE.format(title="春季养生", extra="", ad="", footer="版权所有"), profile_name=name)
             for name in ("desktop", "iphone", "android")}
    found["wechat"] = page(SCAM, profile_name="wechat", final_url="https://licai-vip88.cc/t/9",
                           redirect_chain=(SEED, "https://licai-vip88.cc/t/9"))
    verdict = compare_variants(found)
    assert verdict is not None
    assert verdict.groups == (("desktop", "iphone", "android"), ("wechat",))
    assert "redirect-domain" in verdict.material_reasons
    assert all("wechat" in difference.profiles for difference in verdict.differences)


def test_meta_refresh_to_another_domain_counts_as_a_redirect() -> None:
    """A page with no content that refreshes to another site lands there, as an HTTP redirect would."""
    refresh = ('<html><head><meta http-equiv="refresh" content="0;url=https://dl.fake-bank-app.vip/">'
               "</head><body></body></html>")
    found = {"desktop": page(HARMLESS, profile_name="desktop"), "android": page(refresh, profile_name="android")}
    verdict = compare_variants(found)
    assert verdict is not None
    assert verdict.variants[1].landing == "https://dl.fake-bank-app.vip/"
    assert {"redirect-domain", "empty"} <= set(verdict.material_reasons)


# -- cloaking: what does not differ ------------------------------------------------


def test_timestamps_tokens_and_a_rotating_ad_are_not_cloaking() -> None:
    """The same page twice: another timestamp, another CSRF token (hidden and shown), another ad."""
    first = ARTICLE.format(
        title="春季养生小知识 - 健康频道", ad="限时特惠：有机大米五折",
        extra='<form method="post"><input type="hidden" name="csrf" value="9f8e7d6c5b4a39281706f5e4d3c2b1a0">'
              '<input name="q" placeholder="搜索"></form><p>请求编号 a81f3c9e77d0 发布于 2026-12-06 17:16:39</p>',
        footer="页面生成于 2026-12-06 17:16:39，访问量 120345",
    )
    second = ARTICLE.format(
        title="春季养生小知识 - 健康频道", ad="新品上市：山泉矿泉水买一送一",
        extra='<form method="post"><input type="hidden" name="csrf" value="0a1b2c3d4e5f60718293a4b5c6d7e8f9">'
              '<input name="q" placeholder="搜索"></form><p>请求编号 5be20d14f6aa 发布于 2026-12-06 17:16:41</p>',
        footer="页面生成于 2026-12-06 17:16:41，访问量 120347",
    )
    assert compare_variants(variants(first, second)) is None


def test_the_same_article_with_other_whitespace_is_not_cloaking() -> None:
    """Line breaks, indentation and spaces differ between the desktop and the mobile template: not a difference."""
    english = """<html><head><title>Spring  health tips</title></head><body><article>
    <h1>Spring health tips</h1><p>As temperatures rise, experts advise dressing in layers and adjusting clothing
    to the large difference between day and night temperatures.</p><p>Eat light meals with plenty of fresh vegetables
    and fruit, and fewer spicy or greasy foods. Walking, jogging and tai chi help build strength.</p></article></body></html>"""
    squeezed = " ".join(english.split()).replace("> <", "><").replace("Spring health tips</title>", "Spring health tips </title>")
    assert compare_variants(variants(english, squeezed)) is None


def test_chinese_pages_with_small_differences_are_not_cloaking() -> None:
    """One sentence reworded, another recommended link and another counter on a Chinese page: the same page."""
    first = ARTICLE.format(title="春季养生小知识", extra="<p>相关推荐：夏季防暑指南</p>", ad="", footer="阅读 3021")
    second = ARTICLE.format(title="春季养生小知识_手机版", extra="<p>相关推荐：秋季进补须知</p>", ad="", footer="阅读 3188")
    second = second.replace("适当增减衣物", "及时增减衣服")
    assert compare_variants(variants(first, second)) is None


def test_a_phone_page_without_the_desktop_side_bars_is_not_cloaking() -> None:
    """A legitimate mobile template drops the navigation and side bars: its text lies inside the desktop's."""
    headlines = ("秋冬季节如何预防感冒", "老年人补钙的正确方法", "孩子近视了怎么办", "夏天喝绿茶有哪些好处",
                 "长期失眠的几种调理方式", "高血压患者饮食禁忌", "办公室久坐族的颈椎保健操", "家庭常备药品清单",
                 "春游踏青注意防晒", "科学减肥不反弹的秘诀", "糖尿病人能不能吃水果", "胃不好的人早餐吃什么",
                 "冬季泡脚的五个误区", "体检报告里的箭头怎么看")
    sidebar = "".join(f"<li>{headline}</li>" for headline in headlines)
    desktop = ARTICLE.format(title="春季养生小知识", extra="", ad=f"<ul>{sidebar}</ul>", footer="关于我们 联系方式 网站地图 友情链接")
    phone = ARTICLE.format(title="春季养生小知识", extra="", ad="", footer="")
    found = variants(desktop, phone)
    assert compare_variants(found) is None
    # The texts are far apart as sets: only the phone text lying inside the desktop's keeps them the same.
    assert shingles(found["desktop"].text) >= shingles(found["android"].text)
    assert len(shingles(found["android"].text)) / len(shingles(found["desktop"].text)) < 0.5


def test_refusals_for_everyone_or_next_to_nothing_are_not_cloaking() -> None:
    """A 403 for every client is a closed site; an empty page beside a one-line page is no hidden content."""
    blocked = "<html><head><title>403 Forbidden</title></head><body><h1>Access Denied</h1></body></html>"
    found = {name: page(blocked, profile_name=name, status=403) for name in PROFILES}
    assert compare_variants(found) is None
    found = {"desktop": page("<html><body></body></html>", profile_name="desktop"),
             "android": page("<html><body><p>网站正在升级维护中，预计今晚十点恢复访问，给您带来不便敬请谅解。</p></body></html>", profile_name="android")}
    assert compare_variants(found) is None


def test_a_one_line_download_page_shown_to_one_client_is_cloaking() -> None:
    """WeChat alone is shown a page that is one line and an app to install; the others get a 404: that is a page
    kept from them (blocked, with the app download as support), not a refusal for all."""
    missing = "<html><head><title>404</title></head><body><p>页面不存在</p></body></html>"
    found = {name: page(missing, profile_name=name, status=404) for name in ("android", "desktop", "iphone")}
    found["wechat"] = page('<html><head><title>微信专享</title></head><body><a href="/dl/wx.apk">立即安装</a></body></html>',
                           profile_name="wechat")
    verdict = compare_variants(found)
    assert verdict is not None and verdict.reasons == ("blocked", "app-download")


def test_a_phone_shown_the_desktop_page_and_a_scam_overlay_is_cloaking() -> None:
    """The desktop's text lying inside the phone's excuses nothing: a phone shown more is the cloaking direction."""
    desktop = ARTICLE.format(title="春季养生小知识", extra="", ad="", footer="")
    # The scam's pitch as a modal over the article: the article is a decoy, kept whole.
    overlay = SCAM.split("<body>")[1].split("</body>")[0] + (
        "<p>新用户注册即送体验金，无需押金，秒批秒到，征信不好也能借。</p>"
        "<p>客服在线时间为早九点到晚十点，提现失败请联系专属客服解冻账户，缴纳保证金后立即到账。</p>")
    phone = ARTICLE.format(title="春季养生小知识", extra="", ad=f"<div class='modal'>{overlay}</div>", footer="")
    found = variants(desktop, phone)
    assert shingles(found["android"].text) >= shingles(found["desktop"].text)
    verdict = compare_variants(found)
    assert verdict is not None
    assert verdict.material_reasons == ("text",)
    assert verdict.groups == (("desktop",), PHONES)


def test_server_errors_and_single_variants_decide_nothing() -> None:
    """A 503 for one profile is the server's trouble, not cloaking; one variant alone has nothing to compare."""
    found = {"desktop": page("<html><body>Service Unavailable</body></html>", profile_name="desktop", status=503),
             "android": page(SCAM, profile_name="android")}
    assert compare_variants(found) is None
    assert compare_variants({"android": page(SCAM, profile_name="android")}) is None


def test_shingles_ignore_digits_and_case_and_split_chinese_by_character() -> None:
    """Tokens are words and single CJK characters; anything with a digit in it (times, tokens) is dropped."""
    assert shingles("日赚 500元 Task") == frozenset({("日", "赚"), ("赚", "元"), ("元", "task")})
    assert shingles("csrf a81f3c9e csrf") == shingles("CSRF 0b22 csrf")


# -- the finding -------------------------------------------------------------------


def test_cloaking_becomes_a_suspicious_finding_about_the_seed_host() -> None:
    """One kind of difference scores SCORE (suspicious), several SCORE_MANY; the evidence names both variants."""
    blocked = "<html><head><title>403 Forbidden</title></head><body><h1>Access Denied</h1></body></html>"
    one = compare_variants({"desktop": page(blocked, profile_name="desktop", status=403),
                            "android": page(SCAM, profile_name="android")})
    assert one is not None
    [finding] = cloaking_findings(one, "shuadan-task.top")
    assert (finding.detector, finding.category, finding.score) == (DETECTOR, Category.CLOAKING.value, SCORE)
    assert finding.subject_kind is SubjectKind.HOST
    assert any(line.startswith("desktop: 403") for line in finding.evidence)
    assert any(line.startswith("android: 200") for line in finding.evidence)
    assert ("profile", "desktop") in finding.indicators and ("profile", "android") in finding.indicators

    many = compare_variants(variants(HARMLESS, SCAM))
    assert many is not None
    assert cloaking_findings(many, "shuadan-task.top")[0].score == SCORE_MANY
    assert 0.40 <= SCORE < SCORE_MANY < 0.75  # suspicious alone, never malicious alone


def test_allowlisted_hosts_get_no_cloaking_finding() -> None:
    """A major site that serves phones another page is not reported: the allowlist vouches for it."""
    verdict = compare_variants(variants(HARMLESS, SCAM))
    assert verdict is not None
    assert cloaking_findings(verdict, "www.baidu.com") == []


# -- fetching the variants -------------------------------------------------------------


def seed_variants(profiles: tuple[str, ...] = tuple(PROFILES)) -> tuple[SeedVariants, MemoryStatsCollector, Any]:
    """A SeedVariants built from a crawler's settings, as the spider and the middleware build theirs."""
    crawler = get_crawler(scrapy.Spider, {"FRAUDWALL_PROFILES": list(profiles)})
    assert isinstance(crawler.stats, MemoryStatsCollector)
    return SeedVariants.from_crawler(crawler), crawler.stats, crawler


def callback(response: object) -> None:
    """Stands for the spider's parse method."""


def html_response(request: scrapy.Request, html: str, status: int = 200, url: str | None = None) -> HtmlResponse:
    """What the downloader answers ``request`` with."""
    return HtmlResponse(url or request.url, status=status, body=html.encode(), encoding="utf-8", request=request)


def sent(crawler: Any, request: scrapy.Request) -> dict[str, str]:
    """The headers ``request`` goes out with, once the middleware has given it its client's."""
    ClientProfilesMiddleware.from_crawler(crawler).process_request(request)
    return dict(request.headers.to_unicode_dict())


def test_requests_are_sent_as_the_link_profile_and_seeds_marked_for_comparison() -> None:
    """Everything scheduled goes as the default phone, with its cookie jar; a seed's first fetch also lets block
    pages through (redirects still followed) and names its seed; a followed link says it comes from the same site."""
    variants, _, crawler = seed_variants()
    first = variants.prepare(scrapy.Request(SEED, callback=callback, meta={"seed": SEED}), seed=True)
    assert first.meta["profile"] == first.meta["cookiejar"] == "android" and first.meta["seed"] == SEED
    assert variants.is_variant(first.meta)
    assert 403 in first.meta["handle_httpstatus_list"] and 302 not in first.meta["handle_httpstatus_list"]
    assert not variants.is_variant({**first.meta, "playwright": True})  # a browser re-fetch is a page of its own
    headers = sent(crawler, first)
    assert headers["User-Agent"] == headers_for("android")["User-Agent"] and headers["Sec-Fetch-Site"] == "none"

    link = variants.prepare(scrapy.Request(SEED + "about", callback=callback, headers={"Referer": SEED}))
    assert not variants.is_variant(link.meta) and sent(crawler, link)["Sec-Fetch-Site"] == "same-origin"
    again = variants.prepare(scrapy.Request(SEED, callback=callback, meta={"profile": "wechat"}), seed=True)
    assert "MicroMessenger" in sent(crawler, again)["User-Agent"] and not variants.is_variant(again.meta)
    rendered = scrapy.Request(SEED, meta={"playwright": True, "profile": "android"})
    assert "User-Agent" not in sent(crawler, rendered)  # the browser says who it is

    single, _, _ = seed_variants(("iphone",))
    alone = single.prepare(scrapy.Request(SEED, callback=callback), seed=True)
    assert not single.compared and not single.is_variant(alone.meta) and alone.meta["profile"] == "iphone"
    with pytest.raises(ConfigError, match="unknown client profile 'ipad'"):
        SeedVariants(["ipad"])


def test_outcome_is_one_page_when_alike_and_every_variant_when_cloaking() -> None:
    """Alike: the link profile's page stands for all, and a 403 for every client is the failure it always was.
    Different: every variant goes on together with the cloaking finding about the seed's host."""
    variants, stats, _ = seed_variants(("desktop", "android"))
    meta = variants.prepare(scrapy.Request(SEED, callback=callback), seed=True).meta
    android = page(SCAM, profile_name="android")
    [alike] = variants.outcome({**meta, PAGES_META: {"desktop": page(SCAM, profile_name="desktop")}}, android)
    assert alike is android

    blocked = "<title>403 Forbidden</title><h1>Access Denied</h1>"
    both_blocked = {**meta, PAGES_META: {"desktop": page(blocked, profile_name="desktop", status=403)}}
    assert list(variants.outcome(both_blocked, page(blocked, profile_name="android", status=403))) == []
    assert stats.get_value("fraudwall/fetch/failed/http-403") == 1

    [seed] = variants.outcome({**meta, PAGES_META: {"desktop": page(HARMLESS, profile_name="desktop")}}, android)
    assert isinstance(seed, CloakedSeed)
    assert [variant.fetched_as for variant in seed.pages] == ["android", "desktop"]
    assert [(finding.detector, finding.subject) for finding in seed.findings] == [(DETECTOR, "shuadan-task.top")]
    assert stats.get_value("fraudwall/cloaking/compared") == 3 and stats.get_value("fraudwall/cloaking/found") == 1
    assert [item for item in variants.outcome({"profile": "android"}, android)] == [android]  # not a seed


class FakeEngine:
    """Answers the middleware's downloads the way a cloaking site would, and records them; like the real
    downloader, it passes each request through the middleware's process_request first."""

    def __init__(self, middleware: ClientProfilesMiddleware) -> None:
        self.middleware = middleware
        self.asked: list[scrapy.Request] = []

    async def download_async(self, request: scrapy.Request) -> HtmlResponse:
        self.middleware.process_request(request)
        self.asked.append(request)
        name = request.meta["profile"]
        if name == "wechat":
            raise TimeoutError("no answer")  # a variant that fails leaves the others to compare
        return html_response(request, HARMLESS if name == "desktop" else SCAM)


def test_middleware_fetches_the_other_clients_once_the_first_answered() -> None:
    """The seed's other variants are downloaded straight through the downloader, each as its own client with its
    own cookie jar, and handed to the spider in the response's meta; a failed one is counted, not fatal."""
    variants, stats, crawler = seed_variants()
    middleware = ClientProfilesMiddleware.from_crawler(crawler)
    crawler.engine = FakeEngine(middleware)
    first = variants.prepare(scrapy.Request(SEED, callback=callback), seed=True)
    response = asyncio.run(middleware.process_response(first, html_response(first, SCAM)))
    assert [request.meta["profile"] for request in crawler.engine.asked] == ["desktop", "iphone", "wechat"]
    for request in crawler.engine.asked:
        assert request.url == SEED and request.dont_filter and request.meta["cookiejar"] == request.meta["profile"]
        assert request.headers["User-Agent"].decode() == headers_for(request.meta["profile"])["User-Agent"]
    assert {name: variant.fetched_as for name, variant in first.meta[PAGES_META].items()} == {
        "desktop": "desktop", "iphone": "iphone"}
    assert response.meta is first.meta
    assert stats.get_value("fraudwall/cloaking/variant_failed/TimeoutError") == 1
    assert stats.get_value("fraudwall/cloaking/variants_fetched") == 2

    crawler.engine.asked.clear()
    link = variants.prepare(scrapy.Request(SEED + "about", callback=callback))
    asyncio.run(middleware.process_response(link, html_response(link, SCAM)))
    broken = variants.prepare(scrapy.Request("https://down.top/", callback=callback), seed=True)
    asyncio.run(middleware.process_response(broken, html_response(broken, "<p>Bad gateway</p>", status=502)))
    assert crawler.engine.asked == []  # neither a followed link nor a failing host is asked again

    single = seed_variants(("android",))[2]
    single.engine = crawler.engine
    alone = SeedVariants.from_crawler(single).prepare(scrapy.Request(SEED, callback=callback), seed=True)
    asyncio.run(ClientProfilesMiddleware.from_crawler(single).process_response(alone, html_response(alone, SCAM)))
    assert crawler.engine.asked == []  # one profile: nothing to compare


def test_variants_of_a_url_are_scored_together() -> None:
    """Judged apart, the desktop's harmless page and the phones' scam would each give the URL a verdict, and the
    store keeps the last; scored together, every variant carries the verdict of what any client was shown."""
    from fraudwall.blocklists.scoring import score_findings
    from fraudwall.judging import judge
    from fraudwall.models import VerdictStatus
    from fraudwall.plugin_host import PluginHost
    from fraudwall.settings import Settings

    settings = Settings()
    host = PluginHost.from_settings(settings)
    verdict = compare_variants(variants(HARMLESS, SCAM))
    assert verdict is not None
    findings = cloaking_findings(verdict, "shuadan-task.top")
    # kept= counts the cloaking finding in the verdict as the proposed extra= will (which also stores it).
    judged = [judge(host, page(html, profile_name=name), kept=findings)
              for name, html in (("android", SCAM), ("desktop", HARMLESS))]
    scam, harmless = judged
    assert harmless.verdict.status is not scam.verdict.status is VerdictStatus.MALICIOUS
    assert any(finding.detector == DETECTOR for finding in harmless.verdict.findings)

    merged = merge_variants(judged, lambda subject, found, kind: score_findings(subject, found, settings, kind=kind))
    assert [judgement.observation for judgement in merged] == [scam.observation, harmless.observation]
    assert merged[0].verdict == merged[1].verdict
    assert merged[1].verdict.status is VerdictStatus.MALICIOUS
    assert merged[1].findings == harmless.findings  # each keeps what was found in its own page


# A real Scrapy crawl (in a subprocess: the reactor runs once per process) of a loopback site that cloaks, with a
# small spider that uses SeedVariants and the middleware as the seed spider does. It prints what it kept as JSON.
CRAWL = textwrap.dedent('''
    import json, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from fraudwall.crawler.variants import CloakedSeed, SeedVariants

    SCAM, HARMLESS = sys.argv[1], sys.argv[2]
    asked = []

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            agent = self.headers.get("User-Agent", "")
            client = next(name for mark, name in (("MicroMessenger", "wechat"), ("iPhone", "iphone"),
                                                  ("Windows", "desktop"), ("", "android")) if mark in agent)
            asked.append([self.path, client, self.headers.get("Cookie") or ""])
            if self.path == "/wechat-only/" and "MicroMessenger" in agent:
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{PORT}/landing")
                self.end_headers()
                return
            status, body = 200, SCAM
            if "Windows" in agent and self.path == "/blocked/":
                status, body = 403, "<title>403 Forbidden</title><h1>Access Denied</h1>"
            elif "Windows" in agent and self.path == "/cloak/":
                body = HARMLESS
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Set-Cookie", "jar=" + client)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    PORT = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kept = []

    class Seeds(scrapy.Spider):
        name = "seeds"

        async def start(self):
            self.variants = SeedVariants.from_crawler(self.crawler)
            for path in ("cloak", "blocked", "same", "wechat-only", "same"):
                yield self.variants.prepare(scrapy.Request(f"http://127.0.0.1:{PORT}/{path}/", dont_filter=True),
                                            seed=True)

        def parse(self, response):
            page = __import__("fraudwall.crawler.variants").crawler.variants.page_from_response(
                response, self.variants.profile_of(response.meta))
            for item in self.variants.outcome(response.meta, page):
                pages = item.pages if isinstance(item, CloakedSeed) else (item,)
                kept.append({"seed": response.url, "cloaking": isinstance(item, CloakedSeed),
                             "pages": [[p.fetched_as, p.status, p.final_url] for p in pages]})

    process = CrawlerProcess({
        "FRAUDWALL_PROFILES": ["desktop", "iphone", "android", "wechat"],
        "DOWNLOADER_MIDDLEWARES": {"fraudwall.crawler.variants.ClientProfilesMiddleware": 390},
        # One request at a time: the variants are downloaded from inside the middleware even so, and each
        # client's later visits carry the cookie its earlier ones were given.
        "CONCURRENT_REQUESTS": 1, "LOG_LEVEL": "ERROR", "RETRY_ENABLED": False, "COOKIES_ENABLED": True,
    })
    crawler = process.create_crawler(Seeds)
    process.crawl(crawler)
    process.start()
    stats = {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("fraudwall/")}
    print(json.dumps({"kept": kept, "asked": asked, "stats": stats}))
''')


def test_a_real_crawl_compares_each_seed_as_four_clients() -> None:
    """Through Scrapy's engine: each seed is asked once per client, cookies stay in each client's jar, redirects are
    followed for a variant, and the cloaking seeds (another page, a 403 for desktops, WeChat sent elsewhere) are
    kept whole while the honest one gives one page."""
    result = subprocess.run([sys.executable, "-c", CRAWL, SCAM, HARMLESS], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kept = {item["seed"].split("/")[3]: item for item in report["kept"]}
    assert kept["cloak"]["cloaking"] and kept["blocked"]["cloaking"] and kept["wechat-only"]["cloaking"]
    assert not kept["same"]["cloaking"] and kept["same"]["pages"] == [["android", 200, kept["same"]["seed"]]]
    assert ["desktop", 403, kept["blocked"]["seed"]] in kept["blocked"]["pages"]
    assert any(name == "wechat" and url.startswith("http://localhost:") for name, _, url in kept["wechat-only"]["pages"])
    assert report["stats"]["fraudwall/cloaking/found"] == 3
    assert report["stats"]["fraudwall/cloaking/reasons/redirect-domain"] == 1
    assert sorted(client for path, client, _ in report["asked"] if path == "/cloak/") == sorted(PROFILES)
    # Each client's later visits carry the cookie it was given, never another client's.
    cookies = {(client, cookie) for _, client, cookie in report["asked"] if cookie}
    assert cookies == {(name, f"jar={name}") for name in PROFILES}


def test_a_user_agent_of_ones_own_replaces_the_link_profiles() -> None:
    """CRAWL_USER_AGENT, when set, is what everything scheduled says it is, without Chrome's client hints beside it;
    the other clients a seed is compared as keep their own."""
    crawler = get_crawler(scrapy.Spider, {"FRAUDWALL_PROFILES": list(PROFILES), "FRAUDWALL_USER_AGENT": "victim"})
    variants = SeedVariants.from_crawler(crawler)
    headers = sent(crawler, variants.prepare(scrapy.Request(SEED, callback=callback), seed=True))
    assert headers["User-Agent"] == "victim" and not any(key.lower().startswith("sec-ch-ua") for key in headers)
    assert headers["Accept-Language"].startswith("zh-CN")
    assert variants.headers("desktop") == headers_for("desktop")
