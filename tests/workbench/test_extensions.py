"""Deadlines that stand still and deadlines extended, in the browser: the recipient asks
for materials and its start deadline stands still until the sender supplies them; it asks
the office to extend, the office grants from its overview, and the referral's page says
how the date moved."""

from test_todo import submit


def test_the_recipient_pauses_asks_to_extend_and_the_office_grants(hub, desk):
    referral = submit(hub, "郑某", "35058219700707123", "mz", "晋检刑诉〔2026〕51号")

    mz = desk("mz")
    mz.open(f"/referrals/{referral}")
    page = mz.page
    ask = page.locator("form.act-ask_materials")
    assert "暂停计时" in ask.inner_text() and "已用 0 次" in ask.inner_text(), ask.inner_text()
    ask.get_by_label("需补充的材料").fill("请补充伤情鉴定意见书")
    ask.get_by_role("button", name="请求补充材料").click()
    page.get_by_text("已请求对方补充材料。").wait_for()
    assert "暂停计时（待对方补充材料）" in page.locator("table.compact").inner_text()

    # Two working days on, the sender finds it in its 待办 and supplies them.
    hub.restart("2026-11-04T10:00:00+08:00")
    jcy = desk("jcy")
    jcy.open("/")
    assert "郑某" in jcy.page.locator("#todo tbody").first.inner_text()
    hub.cli("jcy", "comment", referral, "已补充伤情鉴定意见书")

    # 民政 asks to extend; a number of days that is none is refused at its field.
    mz.open(f"/referrals/{referral}")
    form = page.locator("form.extend")
    form.get_by_label("延长工作日").fill("三")
    form.get_by_label("理由（勿写当事人姓名等个人信息）").fill("需入户核查家庭经济状况")
    form.get_by_role("button", name="提交延期申请").click()
    page.wait_for_load_state()
    assert "应为 1 至 30 个工作日" in page.locator("form.extend").inner_text()
    assert page.locator("form.extend").get_by_label("理由（勿写当事人姓名等个人信息）").input_value() == "需入户核查家庭经济状况"
    page.locator("form.extend").get_by_label("延长工作日").fill("2")
    page.locator("form.extend").get_by_role("button", name="提交延期申请").click()
    page.get_by_text("延期申请已提交联席会议办公室。").wait_for()
    assert "待批复" in page.locator("ul.extensions").inner_text()
    assert page.locator("form.extend").count() == 0, "one request waits at a time"

    office = desk("office")
    office.open("/office")
    waiting = office.page.locator("ul.extensions > li")
    assert waiting.count() == 1 and "民政" in waiting.inner_text() and "郑某" not in waiting.inner_text()
    # Refusing without an answer is refused where the office typed it.
    waiting.get_by_role("button", name="不同意").click()
    office.page.wait_for_load_state()
    waiting = office.page.locator("ul.extensions > li")
    assert "答复：必须填写" in waiting.locator("[data-refused]").inner_text(), waiting.inner_text()
    waiting.get_by_label("延长工作日").fill("2")
    waiting.get_by_role("button", name="同意延期").click()
    office.page.get_by_text("已同意延期。").wait_for()
    assert office.page.get_by_text("暂无待批复的延期申请。").is_visible()
    office.shot("74-office-extension-granted")

    mz.open(f"/referrals/{referral}")
    row = page.locator("table.compact tbody tr").filter(has_text="启动期限")
    assert "补充材料暂停计时 2 个工作日；延期 2 个工作日" in row.inner_text(), row.inner_text()
    assert "2026-11-13" in row.inner_text(), "11-09, two days paused, two granted"
    assert "已同意" in page.locator("ul.extensions").inner_text()
    page.get_by_text("启动期限是怎样算出的").click()
    explained = page.locator("details.explain").filter(has_text="启动期限是怎样算出的")
    assert "经联席会议办公室批准延期2个工作日" in explained.inner_text(), explained.inner_text()
    mz.shot("75-mz-deadline-extended")
