"""A deterministic synthetic blocklist shaped like national fraud blocking.

Throw-away names built from fraud words, pinyin, brand-like tokens, digits and
cheap TLDs, some with subdomains, some duplicated, some hostile: the same
seed always gives the same file, so runs compare like with like.
"""

from __future__ import annotations

import random
from pathlib import Path

WORDS = (
    "kefu tuikuan daikuan licai touzi jiedong anquan shuadan fanli app vip download xiazai pay bank "
    "usdt trc wallet secure login verify service help refund loan cash bonus task earn gov police "
    "icbc ccb boc abc cmb alipay wechat jd taobao meituan pdd unionpay 95588 10086 online global"
).split()
TLDS = "top xyz vip cyou icu shop online site club live fun buzz cn com net com.cn cc info biz asia".split()
HOSTILE = (
    "evil.top\n$INCLUDE /etc/passwd", "server=/x.com/1.2.3.4", 'local-zone: "x.com" static', "||*^",
    "bad..name.top", "-lead.top", "a" * 64 + ".top", "1.2.3.4", "com.cn", "github.io", "nul\x00byte.top",
)


def synthetic_names(count: int, seed: int = 20261125) -> list[str]:
    """``count`` lines: mostly valid fraud-like names, ~1% duplicates, ~0.1% hostile lines."""
    rng = random.Random(seed)
    names: list[str] = []
    for index in range(count):
        roll = rng.random()
        if roll < 0.001:
            names.append(HOSTILE[index % len(HOSTILE)].replace("\n", " "))
            continue
        if roll < 0.011 and names:
            names.append(names[rng.randrange(len(names))])
            continue
        label = "-".join(rng.sample(WORDS, rng.randint(1, 3))) + str(rng.randint(0, 9999))
        name = f"{label}.{rng.choice(TLDS)}"
        if rng.random() < 0.2:
            name = f"{rng.choice(('www', 'm', 'h5', 'api', 'dl'))}.{name}"
        names.append(name)
    return names


def write_synthetic(path: Path, count: int) -> Path:
    """Write the synthetic list as a plain one-name-per-line file (cached by size)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(synthetic_names(count)) + "\n", encoding="utf-8")
        tmp.replace(path)
    return path
