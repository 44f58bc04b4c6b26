"""待办 as the work, in the browser: every referral awaiting the member's act, one row
each and the most urgent first, including a returned one to re-route and materials asked
for; found by full name, ID number or case reference; and the same search in 已发送 and on
the command line.
"""

import json

from test_workbench import id_number

REFERRAL = """
kind = "social_assistance"
recipients = ["{to}"]
situations = ["serious_injury"]
needs = ["subsistence_allowance"]
narrative = "被害人受伤致残，家庭生活困难"
case_reference = "{case}"
investigation_ended_on = "2026-10-30"

[person]
name = "{name}"
id_number = "{id_number}"
"""


def submit(hub, name, digits, to, case):
    path = hub.data / f"{name}.toml"
    path.write_text(REFERRAL.format(to=to, name=name, id_number=id_number(digits), case=case))
    out = hub.cli("jcy", "submit", "--file", str(path))
    return next(line.split()[0] for line in out.splitlines() if "→ " in line)


def test_the_procuratorates_to_do_holds_a_return_and_materials_asked_and_finds_a_person(hub, desk):
    returned = submit(hub, "赵六", "35058219700101123", "jy", "晋检刑诉〔2026〕21号")
    asked = submit(hub, "钱七", "35058219700202123", "mz", "晋检刑诉〔2026〕22号")
    submit(hub, "孙八", "35058219700303123", "mz", "晋检刑诉〔2026〕23号")
    hub.cli("jy", "return", returned, "--reason", "不属于本单位职责")
    hub.cli("mz", "comment", asked, "请补充伤情鉴定书")

    jcy = desk("jcy")
    jcy.open("/")
    page = jcy.page
    rows = page.locator("#todo tbody tr")
    assert "共 2 件待办" in page.locator("#todo .count").inner_text()
    assert rows.count() == 2
    assert "已退回，待改送" in rows.nth(0).inner_text() and "赵六" in rows.nth(0).inner_text()
    assert "待补充材料" in rows.nth(1).inner_text() and "钱七" in rows.nth(1).inner_text()
    jcy.shot("70-jcy-todo-the-work")

    # Through the keyboard: the case reference, then Enter.
    search = page.get_by_label("姓名、公民身份号码或案号")
    search.fill("晋检刑诉〔2026〕22号")
    search.press("Enter")
    page.wait_for_load_state()
    assert "查找到 1 件待办" in page.locator("#todo .count").inner_text()
    assert "钱七" in page.locator("#todo tbody").inner_text()
    assert page.get_by_label("姓名、公民身份号码或案号").input_value() == "晋检刑诉〔2026〕22号", "kept"

    # A part of a name finds nothing, and says so.
    search = page.get_by_label("姓名、公民身份号码或案号")
    search.fill("赵")
    search.press("Enter")
    page.wait_for_load_state()
    page.get_by_text("没有符合条件的待办事项。").wait_for()

    # 已发送 finds 孙八 by ID number, among three sent.
    jcy.open("/sent")
    page.get_by_label("姓名、公民身份号码或案号").fill(id_number("35058219700303123"))
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    body = page.locator("table tbody").inner_text()
    assert "孙八" in body and "钱七" not in body and "赵六" not in body, body

    # Days refused: the summary at the search, each field named.
    page.get_by_label("移送日期 从").fill("2026-12-31")
    page.get_by_label("至", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    summary = page.locator("[data-refused]")
    assert "移送日期（至）：不能早于起始日期" in summary.inner_text()
    jcy.shot("71-jcy-sent-search-refused")

    # 民政's 待办 on the command line: both to receive, the total said.
    out = hub.cli("mz", "todo")
    assert out.startswith("共 2 件待办"), out
    assert out.count("待签收") == 2, out
    listed = json.loads(hub.cli("mz", "todo", "--json", "--search", "钱七"))
    assert listed["total"] == 1 and listed["items"][0]["awaits"] == "receive", listed
    found = hub.cli("mz", "list", "--search", "晋检刑诉〔2026〕22号")
    assert found.splitlines() == [line for line in found.splitlines() if line.startswith(asked)], found
    assert len(found.splitlines()) == 1, found


def test_the_office_finds_a_cases_deadlines_by_its_case_reference_and_no_person(hub, desk):
    submit(hub, "周九", "35058219700404123", "mz", "晋检刑诉〔2026〕31号")
    submit(hub, "吴十", "35058219700505123", "jy", "晋检刑诉〔2026〕32号")
    office = desk("office")
    office.open("/office/deadlines?view=outstanding")
    page = office.page
    assert page.locator("#statutory + table tbody tr").count() == 2
    page.get_by_label("案号").fill("晋检刑诉〔2026〕32号")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    rows = page.locator("#statutory + table tbody tr")
    assert rows.count() == 1 and "教育" in rows.inner_text(), rows.all_inner_texts()
    # A due day that is no date is refused, said at the top of the form.
    page.get_by_label("到期日 从").fill("2026-02-30")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert "到期日（从）" in page.locator("[data-refused]").inner_text()
