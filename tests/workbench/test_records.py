"""The ledger (台账) from the workbench: a clerk picks a period and saves the file, which
openpyxl reads back; the office's is masked; a period that cannot be is said on the page."""

import csv
import datetime
import io

import openpyxl

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
    assert first["启动期限情况"] == "未到期" and first["启动超期工作日"] == 0

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
    assert mz.page.locator(".error").inner_text() == "截止日期：不能早于起始日期"
    assert mz.page.get_by_role("button", name="下载台账（XLSX）").is_visible(), "the form again"
