"""督办 in the browser: the office sends a 督办函 from a member's overdue deadlines, the
DOCX (read back by python-docx) is addressed to the member's leader in charge and lists
the items by their numbers, never the person; the member finds it on its 待办 page, and the
deadline stands at 已督办 on every page and on the command line."""

import json
import subprocess

import docx

from conftest import ARTIFACTS, BINARY
from test_todo import submit


def office_cli(hub, *args):
    """`xianjie office …` against this hub."""
    done = subprocess.run(
        [str(BINARY), "office", "--endpoint", hub.grpc, "--pki-dir", str(hub.data / "pki"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_office_sends_a_supervision_letter_the_member_reads(hub, desk):
    referral = submit(hub, "周某", "35058219700606123", "mz", "晋检刑诉〔2026〕41号")
    hub.cli("mz", "contacts", "--leader", "王副局长")
    # Received on Monday 11-02, to start by 11-09; on 11-12 it is three working days late.
    hub.restart("2026-11-12T10:00:00+08:00")

    office = desk("office")
    office.open("/office/deadlines?view=overdue&member=mz")
    page = office.page
    form = page.locator("form.supervise")
    assert "民政" in form.inner_text() and "1 件法定期限逾期未办" in form.inner_text(), form.inner_text()
    form.get_by_label("督办意见（可不填）").fill("请于11月16日前办结并书面反馈。")
    form.get_by_role("button", name="发督办函").click()
    page.get_by_text("督办函已发出").wait_for()
    row = page.locator("#statutory + table tbody tr")
    assert "已督办 1 次" in row.inner_text(), row.inner_text()
    office.shot("72-office-supervised")

    office.open("/office")
    listed = page.locator("table.supervisions tbody tr")
    assert listed.count() == 1 and "晋江衔接办督〔2026〕1号" in listed.inner_text(), listed.inner_text()
    assert "发出督办函：晋江衔接办督〔2026〕1号，致民政（1件逾期事项）" in page.locator(".messages").inner_text()
    with page.expect_download() as download:
        listed.get_by_role("link", name="下载").click()
    assert download.value.suggested_filename == "晋江衔接办督〔2026〕1号-督办函-民政.docx"
    download.value.save_as(ARTIFACTS / "72-office-supervision.docx")
    letter = docx.Document(download.value.path())
    text = "\n".join(p.text for p in letter.paragraphs)
    assert "晋江市民政局王副局长：" in text, text
    assert "关于督促办理逾期衔接事项的函" in text, text
    assert "1. 检察院11月2日发出的社会救助移送" in text and "案号晋检刑诉〔2026〕41号" in text, text
    assert "启动期限于11月9日届满，已逾期3个工作日" in text, text
    assert "请于11月16日前办结并书面反馈。" in text, text
    assert "周某" not in text and "350582" not in text, "the letter names no person"

    # 民政 finds it on its 待办, downloads the same letter, and sees the row pressed.
    mz = desk("mz")
    mz.open("/")
    assert "晋江衔接办督〔2026〕1号" in mz.page.locator("table.supervisions").inner_text()
    assert "已被督办" in mz.page.locator("#todo tbody").first.inner_text()
    assert "联席会议办公室 发出督办函" in mz.page.locator(".messages").inner_text()
    with mz.page.expect_download() as again:
        mz.page.locator("table.supervisions").get_by_role("link", name="下载").click()
    with open(again.value.path(), "rb") as a, open(download.value.path(), "rb") as b:
        assert a.read() == b.read(), "the same bytes as issued"
    mz.shot("73-mz-todo-supervised")
    mz.open(f"/referrals/{referral}")
    assert "已督办 1 次" in mz.page.locator("body").inner_text()

    # The command line: the deadline's level and count; the member lists its letter.
    overdue = json.loads(office_cli(hub, "--json", "overdue"))["deadlines"]
    mine = next(d for d in overdue if d["referral_id"] == referral)
    assert (mine["level"], mine["supervisions"]) == ("supervised", 1), mine
    assert "晋江衔接办督〔2026〕1号" in hub.cli("mz", "supervisions")
