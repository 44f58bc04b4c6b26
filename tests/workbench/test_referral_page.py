"""A referral's page for work: the forms the member may use now come first, 办结 offers
what fits the referral's kind and today's date, the acts that tell the other party ask
first with what they will send, and the whole case (1+N) shows to its parties."""

from test_workbench import act, id_number, refer


def test_the_page_puts_the_work_first_and_shows_the_whole_case(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "陈某", id_number("35058219790909123"), ["最低生活保障", "学生资助"], ["mz", "jy"])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()

    mz = desk("mz")
    mz.open("/")
    mz.page.locator("#todo tr", has_text="陈某").get_by_role("link").click()
    mz.page.wait_for_load_state()
    receive = mz.page.locator("form.act-receive")
    person = mz.page.get_by_role("heading", name="当事人")
    assert receive.bounding_box()["y"] < person.bounding_box()["y"], "the forms come before the record"
    assert receive.bounding_box()["y"] < 768, "签收 is on the first screen"

    # 1+N: 民政 sees that 教育 has the same person too, and where it stands, but
    # cannot open 教育's referral.
    siblings = mz.page.locator(".siblings")
    assert "教育 · 已移送" in siblings.inner_text(), siblings.inner_text()
    assert siblings.locator("a", has_text="教育").count() == 0

    act(mz, "receive")
    act(mz, "start")
    form = mz.page.locator("form.act-conclude")
    assert form.get_by_label("办结日期").input_value() == "2026-11-02", "today, unless changed"
    assert form.locator("input[name=refusal_grounds]").count() == 0, "Art. 6 grounds refuse 司法救助 only"
    asked = act(mz, "conclude", 办结结果="不予救助", 办理情况="经核查，家庭收入高于当地低保标准")
    assert asked.startswith("确定办结本件？将告知检察院：") and "办结结果：不予救助" in asked, asked
    assert "办结日期：2026-11-02" in asked and "经核查，家庭收入高于当地低保标准" in asked, asked
    mz.page.get_by_text("已办结。").wait_for()
    mz.shot("64-mz-referral-page-for-work")
