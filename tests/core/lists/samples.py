"""Sample feeds in the layouts their publishers use, and the helpers the list-reading tests share."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

from fraudwall.lists import ListRead, read_lists

UTC = timezone.utc
JST = timezone(timedelta(hours=9))

# The layout of the URLhaus CSV dumps (csv_recent, csv_online): a banner of comments,
# the header as the last comment, every field quoted.
URLHAUS_CSV = """\
################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #
# Last updated: 2025-11-20 06:06:09 (UTC)                      #
#                                                              #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3821497","2025-11-20 06:02:21","http://shuadan-fanli.top/bin.sh","online","2025-11-20 06:02:21","malware_download","32-bit,elf,mips,Mozi","https://urlhaus.abuse.ch/url/3821497/","geenensp"
"3821496","2025-11-20 06:02:19","https://app-xiazai-vip.top/apk/kefu.apk","online","2025-11-20 06:02:19","malware_download","apk","https://urlhaus.abuse.ch/url/3821496/","anonymous"
"3821495","2025-11-20 06:00:19","","online","","malware_download","","https://urlhaus.abuse.ch/url/3821495/","geenensp"
"3821494","2025-11-20 05:59:01","http://61.54.253.89:37352/i","online","2025-11-20 05:59:01","malware_download","elf","https://urlhaus.abuse.ch/url/3821494/","geenensp"
"""

PHISHTANK_RECORD = {
    "phish_id": 8512345,
    "url": "https://usdt-licai.vip/login.php?id=1",
    "phish_detail_url": "http://www.phishtank.com/phish_detail.php?phish_id=8512345",
    "submission_time": "2025-11-19T22:14:03+00:00",
    "verified": "yes",
    "verification_time": "2025-11-19T22:30:11+00:00",
    "online": "yes",
    "details": [{"ip_address": "203.0.113.7", "cidr_block": "203.0.113.0/24", "country": "CN"}],
    "target": "Industrial and Commercial Bank of China",
}

JPCERT_CSV = """\
date,URL,description
2025/03/03 10:47:00,https://suill.cn/aeondsjkJKFD9834jkhKJ/,イオンカード
2019/10/03 11:55:00,"http://arrow.razor.jp/special/,v/crypt/crypt/index.php",OneDrive
 ,https://www.etc-noreply.aibnwfgcdu.com/,ETC利用照会サービス
2025/04/01 07:47:00,https://47.238.159.31/,マネックス証券
2021/12/16 09:22:00,ttps://www.jaccss.co.jp-service.gotobed.cn/,Amazon
date,URL,description
2019/07/03 14:42:00,http://marikitpark.com/chameleon page/hotmail/,Microsoft
"""


def write_file(path: Path, text: str) -> Path:
    """``text`` written to ``path`` as UTF-8; ``path``."""
    path.write_text(text, encoding="utf-8")
    return path


def read_one(path: Path, *, trusted: bool = False) -> ListRead:
    """Read a single file (trusted for exceptions if ``trusted``), checking the summary agrees with what was returned."""
    read = read_lists([path], trusted_exceptions=[path] if trusted else ())
    (summary,) = read.files
    assert summary.accepted == len(read.names)
    assert summary.rejected == read.rejected.total
    return read
