"""The crawl benchmark's site: 3,000 generated pages and the web server that serves them.

The site (:func:`write_site`) is deterministic for a seed: pages of 3-15 KB,
Chinese (a tenth of them in GBK) and English, about a third fraud-like (task
rebates, loans, a bank's lookalike login, USDT "wealth management", refund
"customer service") and the rest ordinary (news, shop items, help pages,
English articles), on one registered domain, ``bench-site.top``, and five of
its subdomains. Each page links to every page of the site's first level (the
navigation), to its children in a tree of fan-out :data:`FAN_OUT`, and to a
few pages of its children's level elsewhere in the tree, plus off-site,
``mailto:`` and ``tel:`` links that no crawler fetches. A link never points
at a page shallower than the linking page's children unless that page was
already requested when the index was read, so every page is first requested
at its depth in the tree, whatever order the crawler takes, and a crawl from
the index to depth :data:`DEPTH` reaches all of them.

The server (:func:`serve`, ``python crawl_site.py serve``) is a small asyncio
HTTP/1.1 server with keep-alive in a process of its own, answering from the
files loaded into memory at start; virtual hosts by the ``Host`` header, as
a real server is set up for a site with subdomains. :func:`load_check` fetches
the whole site from it with a given number of keep-alive connections, to show
that it outpaces the crawlers by far.

    python benchmarks/crawl_site.py write DIR --port 8080   # the site, for a look
    python benchmarks/crawl_site.py serve DIR --port 8080   # serve it (Ctrl-C stops)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import sys
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

DOMAIN = "bench-site.top"
HOSTS = [DOMAIN, f"www.{DOMAIN}", f"news.{DOMAIN}", f"shop.{DOMAIN}", f"m.{DOMAIN}", f"help.{DOMAIN}"]
PAGES = 3000
FAN_OUT = 8
#: The depth of the tree's last level: 1 + 8 + 64 + 512 pages above it, 2,415 on it.
DEPTH = 4
SEED = 20240601

# -- text -------------------------------------------------------------------------

_ZH_TASK = [
    "在家动动手指就能赚钱，点赞关注一单佣金{n}元，当天结算秒到账。",
    "新人注册即送{n}元红包，完成三单连单任务本金加佣金一起返还。",
    "垫付越多返利越高，VIP{k}会员每日可领取{n}单高佣任务。",
    "专属导师一对一带单，宝妈学生上班族都能做，零门槛零押金。",
    "会员{phone}今日提现{money}元，已到账请查收。",
    "联系导师QQ {qq}，或Telegram {tg}，备注“兼职”优先通过。",
]
_ZH_LOAN = [
    "无抵押无担保，凭身份证即可申请，最快{n}分钟放款到银行卡。",
    "黑户白户均可贷，不看征信不查流水，额度{money}元起。",
    "审核通过后需缴纳{n}元解冻金，激活账户后立即到账。",
    "年化利率低至{pct}%，随借随还，提前还款无违约金。",
    "客服提示：您的银行卡号填写错误导致资金冻结，请联系专员处理。",
]
_ZH_BANK = [
    "尊敬的客户，您的账户存在异常，请于24小时内完成身份验证，否则将冻结。",
    "请输入手机号、登录密码和短信验证码，完成安全升级。",
    "为保障资金安全，请核对银行卡号与预留手机号 {phone}。",
    "积分即将清零，可兑换现金{money}元，点击下方按钮立即领取。",
]
_ZH_INVEST = [
    "USDT稳定币理财，日收益{pct}%，三十天回本，平台担保零风险。",
    "充值地址（TRC20）：{wallet}，到账后系统自动分配收益。",
    "内部数字货币交易群，老师每日带单，胜率{pct}%以上。",
    "邀请好友充值返佣{n}%，团队收益无限级分红。",
]
_ZH_REFUND = [
    "您购买的商品存在质量问题，我司将为您办理{money}元退款，请添加客服。",
    "退款需开通备用金账户，按提示在屏幕共享中操作即可。",
    "请勿挂断，您的快递丢失，理赔专员将为您双倍赔付。",
    "官方客服电话{phone}，工作时间九点至二十三点。",
]
_ZH_NEWS = [
    "据市气象台消息，今天白天多云转晴，最高气温{n}摄氏度，夜间有零星小雨。",
    "本市地铁{k}号线延长段今日开通试运营，沿线新增车站{n}座。",
    "第{k}届读书节在市图书馆开幕，活动将持续到本月底，市民可免费参加。",
    "统计局发布数据显示，上半年社会消费品零售总额同比增长{pct}%。",
    "社区组织志愿者为独居老人上门体检，共服务居民{n}人次。",
    "警方提醒：凡是要求先交钱再办事的网络兼职都是诈骗，请勿轻信。",
    "新建的滨江公园步道全长{n}公里，周末吸引了大批市民散步骑行。",
    "学校将在暑期开放操场和图书室，具体时间请关注官方通知。",
]
_ZH_SHOP = [
    "这款保温杯采用三百零四不锈钢内胆，容量{n}毫升，保温时间长达十二小时。",
    "下单后四十八小时内发货，支持七天无理由退换货。",
    "买家评价：包装很仔细，物流很快，和描述一致，会回购。",
    "规格参数：重量{n}克，颜色可选白色、灰色和墨绿色。",
    "会员购物满{money}元包邮，积分可在下次购物时抵扣。",
]
_ZH_HELP = [
    "如何修改登录密码：进入“我的”页面，点击“账户安全”，按提示操作。",
    "订单状态显示“已签收”但未收到包裹时，请先联系快递员确认投递位置。",
    "发票会在订单完成后{n}个工作日内发送到您的邮箱。",
    "我们不会以任何理由要求您转账或提供短信验证码。",
    "如遇页面无法打开，请清除浏览器缓存后重试。",
]
_EN_NEWS = [
    "The city council approved a budget of {money} dollars for new bicycle lanes on Tuesday.",
    "Researchers at the university published a study on river water quality covering {n} sites.",
    "The weekend market will move to the harbour square while the old hall is renovated.",
    "Local libraries report that e-book loans grew {pct} percent over the last year.",
    "A volunteer group planted {n} trees along the northern ring road this spring.",
    "Officials reminded residents that no bank will ever ask for a one-time code by phone.",
]
_EN_DOCS = [
    "To reset your password, open Settings, choose Security and follow the steps on screen.",
    "Orders placed before noon ship the same day; tracking numbers are sent by email.",
    "The API returns at most {n} records per page; use the cursor field to fetch the next one.",
    "Version {k}.{n} fixes a crash when importing large spreadsheets and adds dark mode.",
    "Contact support through the form below; we usually answer within one business day.",
]
_EN_SCAM = [
    "Congratulations! Your account has been selected for a {money} dollar reward, claim it within 24 hours.",
    "Guaranteed daily profit of {pct}% on USDT staking, withdraw any time, zero risk.",
    "Your parcel could not be delivered. Pay the {n} dollar redelivery fee to avoid return to sender.",
    "Verify your identity now: enter your card number, expiry date and the SMS code we sent.",
    "Send USDT (TRC20) to {wallet} and your balance doubles in {n} hours.",
]

KINDS = {  # kind: (language, share of pages, sentences, fraud-like)
    "task": ("zh", 8, _ZH_TASK, True),
    "loan": ("zh", 6, _ZH_LOAN, True),
    "bank": ("zh", 5, _ZH_BANK, True),
    "invest": ("zh", 5, _ZH_INVEST, True),
    "refund": ("zh", 4, _ZH_REFUND, True),
    "scam-en": ("en", 4, _EN_SCAM, True),
    "news": ("zh", 22, _ZH_NEWS, False),
    "shop": ("zh", 16, _ZH_SHOP, False),
    "help": ("zh", 10, _ZH_HELP, False),
    "news-en": ("en", 12, _EN_NEWS, False),
    "docs-en": ("en", 8, _EN_DOCS, False),
}
_TITLES = {
    "task": "乐享联盟 - 手机兼职 日结佣金", "loan": "速借宝 - 无抵押极速放款", "bank": "珠江银行 - 账户安全验证",
    "invest": "链上财富 - USDT稳定理财", "refund": "售后理赔中心 - 退款办理", "scam-en": "Reward Center - Claim now",
    "news": "本地新闻", "shop": "优选商城", "help": "帮助中心", "news-en": "City News", "docs-en": "Help and Docs",
}
_PATHS = {"news": "news/2024", "news-en": "en/news", "shop": "item", "help": "help", "docs-en": "en/docs",
          "task": "task", "loan": "loan", "bank": "secure", "invest": "licai", "refund": "kefu", "scam-en": "reward"}
_OFFSITE = ["https://weibo.com/benchsite", "http://www.beian.gov.cn/portal/index", "https://github.com/example/site",
            "https://news.example.org/today", "https://t.me/bench_kefu_{n}", "https://wa.me/85290000{n:03d}"]
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_STYLE = (
    "body{margin:0;font-family:'PingFang SC','Microsoft YaHei',Arial,sans-serif;color:#333;background:#f7f7f7}"
    "header{background:#c0392b;color:#fff;padding:12px 18px}header a{color:#fff;margin-right:14px;text-decoration:none}"
    ".wrap{max-width:820px;margin:16px auto;background:#fff;padding:18px;border-radius:8px}"
    ".btn{display:inline-block;background:#e74c3c;color:#fff;padding:10px 26px;border-radius:20px}"
    ".rel li{margin:6px 0}footer{font-size:12px;color:#999;text-align:center;padding:18px}"
    "form label{display:block;margin:8px 0}input{padding:6px;border:1px solid #ccc;border-radius:4px}"
)


def _fill(sentence: str, rng: random.Random) -> str:
    return sentence.format(
        n=rng.randint(3, 999), k=rng.randint(1, 12), pct=round(rng.uniform(0.5, 38.0), 1),
        money=f"{rng.randint(100, 99999):,}", phone=f"1{rng.randint(3, 9)}{rng.randint(0, 9)}****{rng.randint(0, 9999):04d}",
        qq=rng.randint(10_000_000, 3_999_999_999), tg=f"@kefu_{rng.randint(1, 999)}",
        wallet="T" + "".join(rng.choices(_BASE58, k=33)) if "{wallet}" in sentence else "",
    )


# -- the site -----------------------------------------------------------------------


def _level(index: int) -> int:
    level, next_first = 0, 1
    while index >= next_first:
        level, next_first = level + 1, next_first * FAN_OUT + 1
    return level


def _plan(rng: random.Random) -> list[tuple[str, str, bool]]:
    """Per page: (kind, host, gbk)."""
    names, weights = list(KINDS), [KINDS[kind][1] for kind in KINDS]
    plan = [("news", DOMAIN, False)]
    for index in range(1, PAGES):
        kind = rng.choices(names, weights)[0]
        plan.append((kind, HOSTS[1 + index % (len(HOSTS) - 1)], KINDS[kind][0] == "zh" and rng.random() < 0.1))
    return plan


def page_url(index: int, plan: list[tuple[str, str, bool]], port: int) -> str:
    if index == 0:
        return f"http://{DOMAIN}:{port}/"
    kind, host, _ = plan[index]
    return f"http://{host}:{port}/{_PATHS[kind]}/{index}.html"


def _page(index: int, plan: list, port: int, by_level: dict[int, list[int]], rng: random.Random) -> bytes:
    kind, host, gbk = plan[index]
    language, _, sentences, fraud = KINDS[kind]
    encoding = "gbk" if gbk else "utf-8"
    target = rng.randint(3 * 1024, 14 * 1024)  # a paragraph adds under 1 KB: 3-15 KB
    here = page_url(index, plan, port)

    def href(other: int) -> str:  # same host: a root-relative link, as sites write them; else the full URL
        url = page_url(other, plan, port)
        split = urlsplit(url)
        return split.path if split.hostname == host else url

    title = f"{_TITLES[kind]} - {index}"
    nav = "".join(f'<a href="{href(i)}">{_TITLES[plan[i][0]].split(" - ")[0]}</a>' for i in range(0, FAN_OUT + 1))
    level = _level(index)
    children = [i for i in range(index * FAN_OUT + 1, index * FAN_OUT + FAN_OUT + 1) if i < PAGES]
    below = by_level.get(level + 1) or by_level[level]
    related = children + rng.sample(below, min(len(below), rng.randint(3, 6)))
    anchor = (lambda i: f"{_TITLES[plan[i][0]]} {i}") if language == "zh" else (lambda i: f"Read more: page {i}")
    links = "".join(f'<li><a href="{href(i)}">{anchor(i)}</a></li>' for i in related)
    offsite = "".join(f'<a href="{rng.choice(_OFFSITE).format(n=rng.randint(1, 999))}">{i}</a> ' for i in range(2))
    head = (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}">\n<head>\n'
            f'<meta charset="{"gbk" if gbk else "utf-8"}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            f'<meta name="description" content="{_fill(rng.choice(sentences), rng)}">\n'
            f'<meta name="keywords" content="{kind},{host},{index}">\n'
            f'<link rel="stylesheet" href="/static/site.css">\n<style>{_STYLE}</style>\n'
            f'<script>var _hmt=_hmt||[];(function(){{var s=document.createElement("script");'
            f's.src="https://stats.example.com/hm.js?{index:08x}";document.head.appendChild(s)}})();</script>\n'
            "</head>\n<body>\n")
    parts = [head, f"<header><b>{_TITLES[kind].split(' - ')[0]}</b> {nav}</header>\n<div class=\"wrap\">\n",
             f"<h1>{_fill(rng.choice(sentences), rng)}</h1>\n",
             f'<img src="/static/img/{index % 40}.png" alt="{_TITLES[kind]}">\n']
    if kind in ("bank", "loan") or (kind == "scam-en" and index % 2):
        parts.append('<form action="/api/verify" method="post">'
                     '<label>手机号 <input name="mobile" type="tel" placeholder="请输入手机号"></label>'
                     '<label>银行卡号 <input name="card" placeholder="请输入银行卡号"></label>'
                     '<label>登录密码 <input name="pwd" type="password"></label>'
                     '<label>短信验证码 <input name="sms" placeholder="验证码"></label>'
                     '<input type="hidden" name="t" value="%d"><button type="submit">立即验证</button></form>\n' % index)
    if fraud:
        parts.append('<p><a class="btn" href="#reg">立即注册领取红包</a> <a href="tel:4008001234">客服热线</a></p>\n')
    footer = (f'<h3>{"相关阅读" if language == "zh" else "Related"}</h3>\n<ul class="rel">{links}</ul>\n'
              f'</div>\n<footer>© 2024 {host} · <a href="mailto:service@{DOMAIN}">mail</a> · {offsite}</footer>\n'
              "</body>\n</html>\n")
    size = sum(len(part.encode(encoding, "xmlcharrefreplace")) for part in (*parts, footer))
    while size < target:
        paragraph = "<p>" + "".join(_fill(rng.choice(sentences), rng) + ("" if language == "zh" else " ")
                                    for _ in range(rng.randint(2, 6))) + "</p>\n"
        parts.append(paragraph)
        size += len(paragraph.encode(encoding, "xmlcharrefreplace"))
    text = "".join(parts) + footer
    return text.encode(encoding, "xmlcharrefreplace")


def site_pages(port: int, seed: int = SEED) -> dict[str, bytes]:
    """Every page of the site, by URL (links name ``port``): the same pages for the same seed."""
    rng = random.Random(seed)
    plan = _plan(rng)
    by_level: dict[int, list[int]] = {}
    for index in range(PAGES):
        by_level.setdefault(_level(index), []).append(index)
    assert max(by_level) == DEPTH
    return {page_url(index, plan, port): _page(index, plan, port, by_level, rng) for index in range(PAGES)}


def write_site(root: Path, port: int, seed: int = SEED) -> list[str]:
    """The site's files under ``root/HOST/PATH`` (``/`` as ``index.html``); returns the pages' URLs."""
    urls = []
    for url, body in site_pages(port, seed).items():
        split = urlsplit(url)
        path = root / split.hostname / (split.path.lstrip("/") or "index.html")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        urls.append(url)
    return urls


# -- the server ---------------------------------------------------------------------


def _responses(root: Path) -> dict[tuple[str, str], bytes]:
    """Every file as a ready HTTP response head and body, by (host, path); ``/x/`` serves ``/x/index.html``."""
    responses = {}
    for file in root.rglob("*"):
        if not file.is_file():
            continue
        host, *rest = file.relative_to(root).parts
        body = file.read_bytes()
        charset = "" if b'charset="gbk"' in body[:300] else "; charset=utf-8"  # a GBK page says so in its <meta>
        head = (f"Content-Type: text/html{charset}\r\nContent-Length: {len(body)}\r\n"
                "Cache-Control: max-age=600\r\n").encode()
        path = "/" + "/".join(rest)
        responses[(host, path)] = head + b"\r\n" + body
        if rest[-1] == "index.html":
            responses[(host, path[: -len("index.html")])] = head + b"\r\n" + body
    return responses


_NOT_FOUND = b"Content-Type: text/html\r\nContent-Length: 22\r\n\r\n<h1>404 Not Found</h1>"


async def _serve(sock: socket.socket, root: Path) -> None:
    responses = _responses(root)
    date = [b"", 0.0]

    def today() -> bytes:
        now = time.time()
        if now - date[1] >= 1:
            date[0], date[1] = formatdate(now, usegmt=True).encode(), now
        return date[0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                method, target, version = lines[0].split(b" ", 2)
                headers = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
                headers = {key.strip().lower(): value.strip() for key, value in headers.items()}
                length = int(headers.get(b"content-length", b"0"))
                if length:
                    await reader.readexactly(length)
                host = headers.get(b"host", b"").decode("latin-1").rsplit(":", 1)[0].lower()
                path = target.decode("latin-1").split("?", 1)[0]
                found = responses.get((host, path))
                status = b"200 OK" if found else b"404 Not Found"
                reply = found or _NOT_FOUND
                close = headers.get(b"connection", b"").lower() == b"close" or version == b"HTTP/1.0"
                if method == b"HEAD":
                    reply = reply[: reply.index(b"\r\n\r\n") + 4]
                writer.write(b"HTTP/1.1 " + status + b"\r\nServer: bench-site\r\nDate: " + today()
                             + (b"\r\nConnection: close\r\n" if close else b"\r\n") + reply)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=sock, backlog=512)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def serve(root: Path, *, port: int = 0, fd: int | None = None) -> None:
    """Serve ``root`` on 127.0.0.1 (a listening socket inherited as ``fd``, or bound to ``port``) until killed."""
    sock = socket.socket(fileno=fd) if fd is not None else socket.create_server(("127.0.0.1", port), backlog=512)
    try:
        asyncio.run(_serve(sock, root))
    except KeyboardInterrupt:
        pass


# -- the server alone -----------------------------------------------------------------


async def _fetch_all(port: int, urls: list[str], connections: int) -> tuple[int, int]:
    """Fetch ``urls`` from 127.0.0.1:``port`` over ``connections`` keep-alive connections; (pages, bytes)."""
    queue = list(reversed(urls))
    totals = [0, 0]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            split = urlsplit(queue.pop())
            writer.write(f"GET {split.path} HTTP/1.1\r\nHost: {split.netloc}\r\nAccept-Encoding: identity\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
            body = await reader.readexactly(length)
            totals[0] += head.startswith(b"HTTP/1.1 200")
            totals[1] += len(body)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return totals[0], totals[1]


def load_check(port: int, urls: list[str], connections: int, rounds: int = 5) -> tuple[float, int]:
    """Pages per second the server gives one asyncio client (the median of ``rounds`` passes), and pages answered 200."""
    rates, pages = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        pages, _ = asyncio.run(_fetch_all(port, urls, connections))
        rates.append(pages / (time.perf_counter() - started))
    return sorted(rates)[len(rates) // 2], pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["write", "serve"])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0, help="port (serve) or the port the links name (write)")
    parser.add_argument("--fd", type=int, help="serve: a listening socket inherited from the parent")
    args = parser.parse_args()
    if args.action == "write":
        urls = write_site(args.root, args.port or 8080)
        print(f"{len(urls)} pages under {args.root}", file=sys.stderr)
    else:
        serve(args.root, port=args.port, fd=args.fd)


if __name__ == "__main__":
    main()
