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


def test_a_deadline_says_how_its_date_was_reached_on_the_page_and_the_command_line(hub, desk):
    from test_todo import submit

    referral = submit(hub, "冯某", "35058219700606123", "mz", "晋检刑诉〔2026〕41号")
    mz = desk("mz")
    mz.open(f"/referrals/{referral}")
    explained = mz.page.locator("details.explain", has_text="启动期限是怎样算出的")
    explained.locator("summary").click()
    lines = explained.locator("li").all_inner_texts()
    assert lines[0] == "收到移送：11月2日（周一）", lines
    assert lines[1] == "自次日起算（《民法典》第二百零一条），计5个工作日", lines
    assert "计入：11月3日（周二）、11月4日（周三）、11月5日（周四）、11月6日（周五）、11月9日（周一）" in lines
    assert "不计：11月7日（周六）至11月8日（周日），周末" in lines
    assert lines[-1] == "期限届满：11月9日（周一） 24时", lines
    mz.shot("65-mz-deadline-explained")
    said = hub.cli("mz", "show", referral, "--explain")
    assert "      不计：11月7日（周六）至11月8日（周日），周末" in said, said
    assert "计入：" not in hub.cli("mz", "show", referral), "only when asked"
