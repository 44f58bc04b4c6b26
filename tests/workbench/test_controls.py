"""The page's own controls speak Chinese whatever the browser's language (this
Chromium draws its own date and file controls in English), dates are read as people
type them, the 暂定 banner goes only to those whose deadlines it concerns, and the
workbench has an icon."""

from test_materials import REPORT, chosen
from test_workbench import id_number, refer


def test_dates_and_files_are_chosen_in_chinese_and_dates_read_as_typed(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "郑某", id_number("35058219800303123"), ["最低生活保障"], ["mz"])
    assert page.locator("input[type=date]").count() == 0, "no control of the browser's own language"
    ended = page.get_by_label("调查核实结束日期")
    assert "2026-03-05" in ended.get_attribute("placeholder")
    ended.fill("2026年10月30日")

    choice = page.locator(".file-choice")
    assert "选择文件…" in choice.inner_text() and "未选择文件" in choice.inner_text()
    page.locator('input[type=file][name="files"]').set_input_files([chosen("困难证明.pdf", REPORT, "application/pdf")])
    assert "已选 1 个：困难证明.pdf" in choice.inner_text()
    jcy.shot("63-jcy-controls-in-chinese")
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    case = page.locator("dl").nth(1).inner_text()
    assert "2026-10-30" in case, case
    assert "困难证明.pdf" in page.locator("table.files").inner_text()

    assert page.locator("input[type=date]").count() == 0, "nor on a referral's page"


def test_the_provisional_banner_is_shown_to_those_it_concerns(hub, desk):
    # Monday 28 December: a start deadline five working days on falls in 2027, whose
    # holidays are not loaded.
    hub.restart("2026-12-28T10:00:00+08:00")
    jcy = desk("jcy")
    page = refer(jcy, "冯某", id_number("35058219810404123"), ["最低生活保障"], ["mz"])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()

    mz, jy, office = desk("mz"), desk("jy"), desk("office")
    for who in (mz, jy, office):
        who.open("/")
    assert "暂定" in mz.page.locator(".banner").inner_text(), "民政's start deadline is provisional"
    assert "暂定" in office.page.locator(".banner").inner_text(), "the office follows every deadline"
    assert jy.page.locator(".banner").count() == 0, "教育 has no deadline in 2027"


def test_the_workbench_has_an_icon(hub, desk):
    mz = desk("mz")
    response = mz.page.request.get(hub.url + "/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/svg+xml"
    assert response.body().startswith(b"<svg")
    mz.open("/")
    assert mz.page.locator('link[rel=icon]').get_attribute("href") == "/assets/favicon.svg"
