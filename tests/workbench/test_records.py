"""The ledger (台账) from the workbench: a clerk picks a period and saves the file, which
openpyxl reads back; the office's is masked; a period that cannot be is said on the page."""

import csv
import datetime
import io

import docx
import openpyxl
from docx.enum.text import WD_ALIGN_PARAGRAPH

from conftest import ARTIFACTS
from test_workbench import id_number, refer


def saved(desk, button):
    with desk.page.expect_download() as download:
        desk.page.get_by_role("button", name=button).click()
    d = download.value
    assert d.failure() is None, d.failure()
    with open(d.path(), "rb") as f:
        return f.read(), d.suggested_filename


def test_a_member_and_the_office_save_the_years_ledger_from_the_page(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "冯某", id_number("35058219880808123"), ["最低生活保障"], ["mz"])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()

    mz = desk("mz")
    mz.open("/")
    mz.page.get_by_role("link", name="台账").click()
    mz.page.wait_for_load_state()
    assert mz.page.locator("select[name=year]").input_value() == "2026", "this year, by the hub's clock"
    mz.shot("40-mz-ledger")
    body, name = saved(mz, "下载台账（XLSX）")
    assert name == "台账-mz-2026.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    headers, first = rows[0], dict(zip(rows[0], rows[1]))
    assert len(rows) == 2 and headers[0] == "序号"
    assert first["当事人"] == "冯某" and first["接收单位"] == "晋江市民政局"
    assert first["移送日期"] == datetime.datetime(2026, 11, 2)
    assert first["启动期限情况"] == "未到期" and first["启动逾期工作日"] == 0

    # A quarter with nothing in it, as CSV: the headers alone.
    mz.page.locator("select[name=quarter]").select_option("1")
    body, name = saved(mz, "下载 CSV")
    assert name == "台账-mz-2026Q1.csv" and body.startswith(b"\xef\xbb\xbf")
    assert len(list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))) == 1

    office = desk("office")
    office.open("/ledger")
    assert "已脱敏" in office.page.content()
    body, name = saved(office, "下载台账（XLSX）")
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    row = dict(zip(*list(sheet.iter_rows(values_only=True))[:2]))
    assert row["当事人"] == "冯*" and "**********" in row["公民身份号码"] and row["联系电话"] is None


def test_a_period_that_cannot_be_is_said_on_the_page(hub, desk):
    mz = desk("mz")
    mz.open("/ledger")
    mz.page.get_by_label("起始日期").fill("2026-06-30")
    mz.page.get_by_label("截止日期").fill("2026-01-01")
    mz.page.get_by_role("button", name="下载台账（XLSX）").click()
    mz.page.wait_for_load_state()
    assert mz.page.locator("[data-refused] li").inner_text() == "截止日期：不能早于起始日期"
    assert mz.page.get_by_role("button", name="下载台账（XLSX）").is_visible(), "the form again"


REFERRAL = """kind = "social_assistance"
recipients = [{recipients}]
situations = ["serious_injury"]
priority_groups = [{groups}]
needs = ["subsistence_allowance"]
narrative = "被害人遭故意伤害致残，家庭生活困难。"
investigation_ended_on = "{day}"

[person]
name = "{name}"
id_number = "{id_number}"
"""


def submit(hub, day, name, digits, recipients, groups):
    """The procuratorate submits from a file; the ids of the referrals, by recipient."""
    path = hub.data / f"{name}-{day}.toml"
    path.write_text(REFERRAL.format(
        recipients=", ".join(f'"{r}"' for r in recipients),
        groups=", ".join(f'"{g}"' for g in groups),
        day=day, name=name, id_number=id_number(digits),
    ))
    out = hub.cli("jcy", "submit", "--file", str(path))
    return {line.split("→ ")[1].split()[0]: line.split()[0] for line in out.splitlines() if "→ " in line}


def handle(hub, who, referral, on, aid, yuan):
    hub.cli(who, "receive", referral)
    hub.cli(who, "start", referral)
    hub.cli(who, "conclude", referral, "--outcome", "granted", "--on", on, "--aid", f"{aid}={yuan}",
            "--summary", "已办结", "--feedback", "已办结并反馈")


def test_the_office_prints_the_years_report_beside_the_year_before(hub, desk):
    # 2025: two people helped.
    hub.restart("2025-06-02T10:00:00+08:00")
    a = submit(hub, "2025-06-02", "甲某", "35058219800101123", ["mz"], ["woman"])
    handle(hub, "mz", a["mz"], "2025-06-02", "subsistence", "2000")
    b = submit(hub, "2025-06-02", "乙某", "35058219810101123", ["jy"], ["minor"])
    handle(hub, "jy", b["jy"], "2025-06-02", "schooling", "800")
    # 2026: more, and one 1+N case.
    hub.restart("2026-03-02T10:00:00+08:00")
    c = submit(hub, "2026-03-02", "丙某", "35058219820101123", ["mz", "jy", "cl"], ["minor", "disabled"])
    handle(hub, "mz", c["mz"], "2026-03-02", "temporary", "1500.50")
    handle(hub, "jy", c["jy"], "2026-03-02", "schooling", "1000")
    handle(hub, "cl", c["cl"], "2026-03-02", "rehabilitation", "3000")
    d = submit(hub, "2026-03-02", "丁某", "35058219830101123", ["sf"], ["woman"])
    handle(hub, "sf", d["sf"], "2026-03-02", "legal_aid", "0")
    submit(hub, "2026-03-02", "戊某", "35058219840101123", ["rs"], [])
    hub.restart("2026-11-20T10:00:00+08:00")

    office = desk("office")
    office.open("/")
    office.page.get_by_role("link", name="统计通报").click()
    office.page.wait_for_load_state()
    page = office.page
    assert page.locator("h1").inner_text() == "关于2026年司法救助与社会救助衔接工作情况的通报"
    headlines = page.locator(".headlines").inner_text()
    assert "社会救助移送（件）\n5\n同比上升 150.0%" in headlines, headlines
    assert "救助金额\n5500.50 元\n同比上升 96.4%" in headlines, headlines
    assert "目前逾期未办的法定期限\n1" in headlines, "rs never started"
    assert "目前逾期未回访\n6" in headlines, "the visits owed since 2025 and 2026, apart"
    assert page.locator("figure.chart").count() == 3
    assert page.locator("figure.chart rect.this").count() >= 5
    table = page.locator("table.figures").all_inner_texts()
    assert any("“1+N”案件（件）\t1\t0" in t for t in table), table
    assert all("丙某" not in t and "3505" not in t for t in table), "no person in the figures"
    office.shot("41-office-figures")
    # As printed (打印通报): the report alone, on A4.
    page.emulate_media(media="print")
    page.pdf(path=str(ARTIFACTS / "41-office-figures.pdf"), format="A4", print_background=True,
             margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
    assert page.locator("header.top").is_hidden(), "the menu is not printed"
    page.emulate_media(media="screen")

    # The same figures as a table, read by openpyxl.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载数据（XLSX）").click()
    assert download.value.suggested_filename == "数据-office-2026.xlsx"
    with open(download.value.path(), "rb") as f:
        sheet = openpyxl.load_workbook(io.BytesIO(f.read())).worksheets[0]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["社会救助移送（件）"][2:] == (5, 2, "上升 150.0%")

    # The 通报 as a 公文 to edit before issuing, read by python-docx.
    page.get_by_label("文号（可留空，在文档中填写）").fill("晋救衔办〔2026〕3号")
    with page.expect_download() as download:
        page.get_by_role("button", name="生成通报文稿（DOCX，可在 WPS 中修改）").click()
    assert download.value.suggested_filename == "通报-office-2026.docx"
    download.value.save_as(ARTIFACTS / "42-office-report.docx")
    report = docx.Document(download.value.path())
    text = [p.text for p in report.paragraphs]
    assert text[0] == "晋江市司法救助与社会救助衔接工作联席会议办公室", text[:3]
    assert "晋救衔办〔2026〕3号" in text
    assert "关于2026年司法救助与社会救助衔接工作情况的通报" in text
    assert "联席会议各成员单位：" in text
    body = "\n".join(text)
    assert "检察机关向各成员单位移送社会救助5件，同比上升 150.0%" in body, body
    assert "发放救助金额合计5500.50元，同比上升 96.4%" in body, body
    assert "临时救助1件1500.50元" in body and "法律援助1件" in body, body
    assert "附件：2026年司法救助与社会救助衔接工作主要数据" in body
    assert "2026年11月20日" in body
    assert "丙某" not in body and "3505" not in body, "no person in the report"
    table = report.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["指标", "2026年", "2025年", "同比"]
    lines = {row.cells[0].text: row for row in table.rows}
    sent = lines["社会救助移送（件）"]
    assert [c.text for c in sent.cells] == ["社会救助移送（件）", "5", "2", "上升 150.0%"]
    assert sent.cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT, "figures right-aligned"
    assert lines["救助金额合计"].cells[1].text == "5500.50 元"

    # A member sees its own figures only.
    mz = desk("mz")
    mz.open("/figures")
    assert mz.page.locator("h1").inner_text() == "晋江市民政局2026年司法救助与社会救助衔接工作情况"
    assert "社会救助移送（件）\n1\n同比持平" in mz.page.locator(".headlines").inner_text()
