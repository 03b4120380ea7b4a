"""The shuadan_jobs detector, run through fraudwall's real plugin host with fraudwall.testing."""

from fraudwall.testing import assert_finding, assert_no_finding, run_plugin

from fraudwall_example_plugin import shuadan_jobs

JOB_AD = """<title>急招兼职 日结</title>
<h1>招聘网店刷单员</h1><p>在家兼职，每单佣金5-20元，日结工资。先垫付后返还本金。</p>"""

JOB_BOARD = """<title>兼职招聘 - 好工作网</title>
<p>急招仓库分拣员，时薪25元，日结。</p><p>温馨提示：谨防刷单诈骗，凡要求垫付的都是骗局。</p>"""


def test_recruiting_page_offering_shuadan_is_flagged() -> None:
    """A job ad for 刷单 work that asks for advance payments is a task_rebate finding with evidence."""
    findings = run_plugin(shuadan_jobs, page=JOB_AD, url="http://jianzhi-rijie.example/")
    finding = assert_finding(findings, detector="shuadan_jobs", category="task_rebate", min_score=0.6,
                             evidence_contains="刷单员")
    assert "垫付" in finding.reason


def test_job_board_warning_about_shuadan_is_benign() -> None:
    """A real job board's warning against 刷单 and advance payments is not an offer."""
    assert_no_finding(run_plugin(shuadan_jobs, page=JOB_BOARD, url="https://jobs.example/"))


def test_shuadan_outside_recruiting_pages_is_ignored() -> None:
    """A page that is not a job ad is out of this detector's scope, whatever words it uses."""
    assert_no_finding(run_plugin(shuadan_jobs, page="<p>刷单返利，做任务赚佣金。</p>"))
