"""Page detector: 刷单 (order-brushing) job ads on recruiting-looking pages.

Task scams recruit through fake part-time job ads: "招聘刷单员，日结工资，
无需垫付". A page is flagged when it reads like a job ad (two or more
recruiting words) and offers one of the scam's jobs. An occurrence preceded in
its sentence by a warning ("谨防刷单诈骗", "拒绝刷单") does not count: real job
boards carry exactly those warnings.
"""

from __future__ import annotations

import re

from fraudwall import Finding, PageObservation, hookimpl

name = "shuadan_jobs"
version = "0.1.0"

RECRUITING = ("招聘", "兼职", "岗位", "职位", "薪资", "日结", "工资", "求职", "应聘", "急招", "报名", "时薪")
SCAM_JOBS = re.compile(r"刷单|刷信誉|刷好评|刷销量|点赞员|打单员|垫付|做任务")
WARNING = re.compile(r"谨防|警惕|拒绝|严禁|不要|诈骗|骗局|违法")
SENTENCE_END = re.compile(r"[。！？!?；;\n]")

BASE_SCORE = 0.5
PER_EXTRA_TERM = 0.1
MAX_SCORE = 0.7


def _warned(text: str, start: int) -> bool:
    """True when a warning word precedes ``start`` in the same sentence."""
    ends = list(SENTENCE_END.finditer(text, 0, start))
    sentence_start = ends[-1].end() if ends else 0
    return WARNING.search(text, sentence_start, start) is not None


@hookimpl
def analyze_page(page: PageObservation) -> list[Finding]:
    """One task_rebate finding when a recruiting page offers 刷单 jobs."""
    text = f"{page.title}\n{page.text}"
    if sum(word in text for word in RECRUITING) < 2:
        return []
    offers = [match for match in SCAM_JOBS.finditer(text) if not _warned(text, match.start())]
    if not offers:
        return []
    terms = sorted({match.group() for match in offers})
    first = offers[0]
    snippet = text[max(0, first.start() - 15):first.end() + 15].replace("\n", " ")
    return [Finding(
        subject=page.final_url, detector=name, detector_version=version, category="task_rebate",
        score=min(MAX_SCORE, BASE_SCORE + PER_EXTRA_TERM * (len(terms) - 1)),
        reason=f"A recruiting page offers order-brushing work ({', '.join(terms)}).",
        evidence=(snippet,),
    )]
