"""The workbench in a real browser: the stories of DESIGN.md §9 and the refusals.

Every act goes through the pages as a clerk would do it (click, type, read), with the
member's PKCS#12 certificate as the only login; what a page shows is checked against
what another member's browser, or a member system's gRPC client, sees.
"""

from conftest import PASSWORD, Desk

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(digits17):
    """17 digits and the check digit GB 11643 gives them."""
    total = sum(int(d) * w for d, w in zip(digits17, WEIGHTS))
    return digits17 + "10X98765432"[total % 11]


def refer(jcy, name, id_no, needs, expect_recipients):
    """The procuratorate fills in 社会救助移送; the needs suggest the recipients."""
    jcy.open("/new/referral")
    page = jcy.page
    page.get_by_label("姓名").fill(name)
    page.get_by_label("公民身份号码").fill(id_no)
    page.get_by_label("受犯罪侵害致重伤或严重残疾", exact=True).check()
    page.get_by_label("未成年人", exact=True).check()
    for need in needs:
        page.get_by_label(need, exact=True).check()
    for code in expect_recipients:
        assert page.locator(f'input[name="recipients"][value="{code}"]').is_checked(), f"{code} suggested"
    page.get_by_label("基本案情").fill("被害人受伤致残，家庭失去主要收入来源，子女面临辍学。")
    page.get_by_label("调查核实结束日期").fill("2026-10-30")
    return page


CONFIRMED = ("conclude", "return", "withdraw")


def act(desk, button, **fields):
    """Fills in and submits the form of one act on a referral's page, saying yes to
    the question the acts that tell the other party ask first; returns the question."""
    form = desk.page.locator(f"form.act-{button}")
    for label, value in fields.items():
        if value is True:
            form.get_by_role("checkbox", name=label, exact=True).check()
            continue
        target = form.get_by_label(label)
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(label=value)
        else:
            target.fill(value)
    asked = []
    if button in CONFIRMED:
        desk.page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    form.locator("button[type=submit]").click()
    desk.page.wait_for_load_state()
    return asked[0] if asked else ""


def test_the_story_of_a_referral_from_the_procuratorates_browser_to_two_agencies(hub, desk):
    jcy, mz, jy = desk("jcy"), desk("mz"), desk("jy")
    mz.open("/")
    mz.page.get_by_text("目前没有需要本单位办理的事项").wait_for()
    mz.shot("01-mz-todo-empty")

    page = refer(jcy, "李某", id_number("35058219900101123"), ["最低生活保障", "学生资助"], ["mz", "jy"])
    jcy.shot("02-jcy-new-referral")
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    assert "同案移送" in page.content()
    jcy.shot("03-jcy-referral-sent")

    # 民政's 待办 shows it without a reload.
    row = mz.page.locator("#todo tr", has_text="李某")
    row.wait_for(timeout=10_000)
    assert "启动期限" in row.inner_text() and "剩 5 个工作日" in row.inner_text()
    assert "绿色通道" in row.inner_text()
    mz.shot("04-mz-todo-live")

    row.get_by_role("link").click()
    mz.page.wait_for_load_state()
    assert mz.page.locator("form.act").count() == 4, "签收, 退回, 补充材料, 请求补充材料 only"
    mz.shot("05-mz-referral")
    act(mz, "receive")
    mz.page.get_by_text("已签收。").wait_for()
    act(mz, "start")
    mz.page.get_by_text("已启动程序。").wait_for()
    asked = act(
        mz,
        "conclude",
        办结结果="予以救助",
        办结日期="2026-11-02",
        # Two kinds of aid: one ticked with its amount, one given by its amount alone.
        **{"纳入低保": True, "纳入低保金额（元）": "3000", "临时救助金额（元）": "500元", "办理情况": "已纳入最低生活保障", "反馈意见（同时反馈，可不填）": "已办结并反馈"},
    )
    mz.page.get_by_text("已办结。").wait_for()
    assert asked.startswith("确定办结本件？将告知检察院："), asked
    assert "办结结果：予以救助" in asked and "☑ 纳入低保" in asked and "纳入低保金额（元）：3000" in asked, asked
    assert "临时救助金额（元）：500元" in asked and "已办结并反馈" in asked, asked
    outcome = mz.page.locator("dl.outcome").inner_text()
    assert "纳入低保 3000.00 元；临时救助 500.00 元" in outcome, outcome
    assert "3500.00 元" in outcome, outcome
    assert mz.page.locator("form.act").count() == 1, "only the follow-up visit is left"
    assert mz.page.locator("form.act-visit").is_visible()
    mz.shot("06-mz-concluded")

    # 教育 returns its referral with a reason.
    jy.open("/")
    jy.page.locator("#todo tr", has_text="李某").get_by_role("link").click()
    act(jy, "return", 理由="该学生已由户籍地教育局资助，请转户籍地")
    jy.page.get_by_text("已退回。").wait_for()

    # The procuratorate sees the loop closed, and the return with its reason.
    jcy.open("/sent")
    jcy.shot("07-jcy-sent")
    sent = jcy.page.locator("table").inner_text()
    assert "民政" in sent and "已反馈" in sent and "教育" in sent and "已退回" in sent
    jcy.page.locator("tr", has_text="民政").get_by_role("link").click()
    jcy.page.wait_for_load_state()
    content = jcy.page.content()
    assert "已纳入最低生活保障" in content and "已办结并反馈" in content
    jcy.shot("08-jcy-loop-closed")
    jcy.page.locator(".siblings a", has_text="教育").click()
    jcy.page.wait_for_load_state()
    assert "该学生已由户籍地教育局资助" in jcy.page.content()
    # …and refers the person on to another agency in the same case.
    jcy.page.locator("form[action$='/reroute']").get_by_label("妇联", exact=True).check()
    jcy.page.get_by_label("改送说明（告知新的接收单位为何改送，可不填）").fill("该生随母居住，母亲系困难妇女，请妇联协助")
    asked = []
    jcy.page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    jcy.page.get_by_role("button", name="改送").click()
    jcy.page.get_by_text("已改送其他单位。").wait_for()
    assert "妇联" in jcy.page.locator(".summary").inner_text()
    assert "改送给所选单位" in asked[0] and "☑ 妇联" in asked[0] and "改送说明" in asked[0], asked
    assert "该生随母居住" in jcy.page.locator(".timeline").inner_text(), "the note goes with the new referral"
    jcy.shot("09-jcy-rerouted")

    # No personal data ever went into an address.
    for d in (jcy, mz, jy):
        for url in d.urls:
            assert "李某" not in url and "%E6%9D%8E" not in url and "350582" not in url, url


def test_an_urgent_clue_from_the_womens_federation_reaches_the_procuratorate_flagged(hub, desk):
    fl, jcy = desk("fl"), desk("jcy")
    jcy.open("/")
    fl.open("/new/clue")
    page = fl.page
    page.get_by_label("姓名").fill("王某")
    page.get_by_label("公民身份号码").fill(id_number("35058219850505224"))
    page.get_by_label("受犯罪侵害致重伤或严重残疾", exact=True).check()
    page.get_by_label("困难妇女", exact=True).check()
    page.get_by_label("国家司法救助金", exact=True).check()
    page.get_by_label("基本案情").fill("遭受家庭暴力致重伤，无力支付医疗费用。")
    page.get_by_label("发现日期").fill("2026-11-01")
    page.get_by_label("紧急（需立即告知检察院）").check()
    assert page.locator('input[name="recipients"][value="jcy"]').is_checked()
    fl.shot("10-fl-urgent-clue")
    page.get_by_role("button", name="移送线索").click()
    page.get_by_text("已移送。").wait_for()

    rows = jcy.page.locator("#todo tr", has_text="王某")
    rows.first.wait_for(timeout=10_000)
    first = rows.first.inner_text()
    assert "紧急签收期限" in first and "紧急" in first.replace("紧急签收期限", ""), "first, and flagged"
    jcy.shot("11-jcy-urgent-clue")


def test_the_office_sees_an_overdue_start_and_its_reminder_reaches_the_member(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "赵某", id_number("35058220100202331"), ["最低生活保障"], ["mz"])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    jcy.close()

    # Start was due on Monday 9 November; on Thursday the 12th it is 3 working days late.
    hub.restart("2026-11-12T10:00:00+08:00")
    office, mz = desk("office"), desk("mz")
    office.open("/")
    assert office.page.url.endswith("/office")
    line = office.page.locator("tr", has_text="民政")
    cells = line.locator("td").all_inner_texts()
    assert cells[1:] == ["1", "0", "1", "0%", "0", "0"], "open, due soon, overdue, on time this year; no visit owed"
    jcy_cells = office.page.locator("tr", has_text="检察院").locator("td").all_inner_texts()
    assert jcy_cells[1:5] == ["0", "0", "0", "100%"], "the referral was made in time"
    office.shot("12-office-overview")
    line.get_by_role("link", name="1").last.click()
    office.page.wait_for_load_state()
    row = office.page.locator("tbody tr", has_text="启动期限")
    assert "逾期 3 个工作日" in row.inner_text()
    assert "赵" not in office.page.content(), "the office never sees the person"
    office.shot("13-office-overdue")

    mz.open("/")
    row.get_by_label("催办说明").fill("请于本周内启动程序并反馈")
    row.get_by_role("button", name="催办").click()
    office.page.get_by_text("催办已发送。").wait_for()
    reminder = mz.page.locator(".messages li.reminder", has_text="请于本周内启动程序并反馈")
    reminder.wait_for(timeout=10_000)
    assert "联席会议办公室" in reminder.inner_text()
    mz.shot("14-mz-reminded")
    office.open("/office")
    said = office.page.locator("#office").inner_text()
    assert "民政 办理的一件社会救助移送的启动期限（11月9日）已逾期" in said, said
    assert "联席会议办公室 催办 民政 办理的一件社会救助移送：请于本周内启动程序并反馈" in said, said
    assert "已逾期未办" not in said, "said once, not again as a note"
    office.open("/office/deadlines")
    assert "已催办 1 次" in office.page.locator("#statutory + table").inner_text()


def test_a_bad_id_number_is_shown_beside_its_field_and_nothing_typed_is_lost(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "钱某", "35058219900101123X", ["法律援助"], ["sf"])
    error = page.locator("#id_number_error")
    assert "校验位不正确" in error.inner_text(), "checked as it is typed"
    page.get_by_role("button", name="移送").click()
    assert page.url.endswith("/new/referral") and "已移送" not in page.content(), "not sent"

    # A number with a right check digit but no such birth date: the hub refuses it.
    bad_birth = id_number("35058219901331123")
    page.get_by_label("公民身份号码").fill(bad_birth)
    assert error.inner_text() == ""
    page.get_by_role("button", name="移送").click()
    page.wait_for_load_state()
    assert "出生日期" in page.locator("#id_number_error").inner_text()
    assert page.get_by_label("公民身份号码").input_value() == bad_birth
    assert page.get_by_label("姓名").input_value() == "钱某"
    assert page.get_by_label("基本案情").input_value().startswith("被害人受伤致残")
    assert page.get_by_label("法律援助", exact=True).is_checked()
    assert page.locator('input[name="recipients"][value="sf"]').is_checked()
    jcy.shot("15-jcy-bad-id-number")
    # Corrected, it goes.
    page.get_by_label("公民身份号码").fill(id_number("35058219900131123"))
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()


def test_refusals_no_certificate_revoked_forged_posts_and_another_members_referral(hub, desk, browser):
    stranger = desk(None)
    response = stranger.open("/")
    assert response.status == 401
    assert "浏览器没有出示数字证书" in stranger.page.content()
    assert "待办" not in stranger.page.content()
    stranger.shot("16-no-certificate")

    jcy = desk("jcy")
    page = refer(jcy, "孙某", id_number("35058219700303441"), ["最低生活保障"], ["mz"])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    referral = page.url.split("?")[0]
    path = referral[len(hub.url):]

    # Another agency: not found, and nothing of the person.
    jy = desk("jy")
    response = jy.open(path)
    assert response.status == 404
    assert "孙某" not in jy.page.content()
    response = jy.open("/referrals/not-a-referral")
    assert response.status == 404 and "未找到" in jy.page.content()

    # A form without the token, and one from another origin.
    mz = desk("mz")
    mz.open(path)
    token = mz.page.locator("form.act-receive input[name=token]").input_value()
    no_token = mz.page.request.post(hub.url + path + "/act", form={"act": "receive", "request_id": "a1"})
    assert no_token.status == 403
    forged = mz.page.request.post(
        hub.url + path + "/act",
        form={"act": "receive", "request_id": "a2", "token": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status == 403
    mz.open(path)
    assert "已移送" in mz.page.locator(".summary").inner_text(), "neither post did anything"

    # Security headers on a page with a person.
    response = mz.open(path)
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"

    # The admin issues 妇联 a new certificate as PKCS#12, then revokes 民政's.
    admin = desk("admin")
    admin.open("/admin")
    admin.shot("17-admin")
    assert "孙某" not in admin.page.content()
    line = admin.page.locator("tr", has_text="(fl)").first
    line.get_by_placeholder("新证书密码").fill(PASSWORD)
    with admin.page.expect_download() as download:
        line.get_by_role("button", name="签发并下载").click()
    p12 = hub.data / "fl-new.p12"
    download.value.save_as(p12)
    # A unit's system certificate is for its case system: the workbench says to ask
    # for a clerk's.
    fl = Desk(browser, hub, "fl", p12)
    response = fl.open("/")
    assert response.status == 403 and "系统证书" in fl.page.content() and "经办人证书" in fl.page.content()
    fl.shot("17b-system-certificate")
    fl.close()

    admin.page.once("dialog", lambda dialog: dialog.accept())
    admin.page.locator("table.certificates tr", has_text="(mz) · 测试经办人").get_by_role("button", name="吊销").click()
    admin.page.get_by_text("证书已吊销").wait_for()
    response = mz.open("/")
    assert response.status == 403
    assert "您的证书已被吊销" in mz.page.content()
    mz.shot("18-revoked")


def test_what_a_browser_does_a_grpc_client_sees_and_the_other_way_round(hub, desk):
    mz = desk("mz")
    mz.open("/")
    # A member system submits over gRPC; 民政's browser shows it live.
    out = hub.cli(
        "jcy", "submit", "--kind", "social_assistance", "--to", "mz", "--name", "周某", "--id-number", id_number("35058219800808111"),
        "--situation", "serious_injury", "--need", "subsistence_allowance", "--narrative", "经调查核实，生活困难。",
        "--investigation-ended-on", "2026-10-30",
    )
    row = mz.page.locator("#todo tr", has_text="周某")
    row.wait_for(timeout=10_000)

    # 民政 asks for materials in the browser; the procuratorate's gRPC inbox has it.
    row.get_by_role("link").click()
    mz.page.wait_for_load_state()
    referral = mz.page.url.rsplit("/", 1)[1]
    assert referral[:8] in out, "the referral the gRPC client made"
    act(mz, "comment", 补充说明="请补充伤情鉴定书")
    mz.page.get_by_text("补充材料已发送。").wait_for()
    inbox = hub.cli("jcy", "inbox")
    assert "民政 为 一件社会救助移送补充了材料" in inbox and referral[:8] in inbox, inbox
    shown = hub.cli("jcy", "show", referral)
    assert "请补充伤情鉴定书" in shown


def test_the_calendar_shows_a_year_and_an_admin_loads_the_next(hub, desk):
    admin = desk("admin")
    admin.open("/calendar?year=2026")
    assert "已载入" in admin.page.content()
    national_day = admin.page.locator("td.holiday[title^='2026-10-01']")
    assert national_day.count() == 1
    admin.shot("19-calendar")
    admin.open("/calendar?year=2027")
    assert "尚未载入" in admin.page.content()
    schedule = '{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}'
    admin.page.get_by_label("或粘贴内容").fill(schedule)
    admin.page.get_by_role("button", name="载入").click()
    admin.page.wait_for_load_state()
    assert "已载入" in admin.page.content()
    assert admin.page.locator("td.holiday[title^='2027-01-01']").count() == 1
    admin.page.get_by_label("或粘贴内容").fill("not a schedule")
    admin.page.get_by_role("button", name="载入").click()
    admin.page.wait_for_load_state()
    assert admin.page.locator("[data-refused] li").count() == 1
