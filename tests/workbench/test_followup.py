"""After the aid: the follow-up visit recorded in the browser, the next referral started
from it with the person filled in, a case marked for the joint meeting's study; and the
directory of members kept by the members themselves and the administrator."""

import socket
import time

from test_records import handle, submit


def test_a_visit_is_recorded_and_starts_the_next_referral_and_the_office_marks_the_case(hub, desk):
    hub.restart("2026-03-02T10:00:00+08:00")
    sent = submit(hub, "2026-03-02", "周某", "35058219850505123", ["mz"], ["minor"])
    handle(hub, "mz", sent["mz"], "2026-03-02", "subsistence", "1500")
    hub.restart("2026-06-03T10:00:00+08:00")
    referral = f"/referrals/{sent['mz']}"

    mz = desk("mz")
    mz.open(referral)
    form = mz.page.locator("form.act-visit")
    # A visit before the conclusion is refused beside the form, with what was typed kept.
    form.get_by_label("回访日期").fill("2026-03-01")
    form.get_by_label("回访方式").select_option(label="上门")
    form.get_by_label("回访人").fill("李明")
    form.get_by_label("回访情况").fill("低保金按月到账，子女已复学；父亲伤残后仍需法律援助追讨赔偿。")
    form.get_by_label("救助效果").select_option(label="有所改善")
    form.get_by_label("需要再次移送").check()
    form.get_by_role("button", name="回访").click()
    mz.page.wait_for_load_state()
    form = mz.page.locator("form.act-visit")
    assert form.locator("[data-refused] li").inner_text().startswith("回访日期：不能早于办结日期")
    assert form.get_by_label("回访人").input_value() == "李明"
    form.get_by_label("回访日期").fill("2026-06-02")
    form.get_by_label("回访方式").select_option(label="上门")
    form.get_by_label("救助效果").select_option(label="有所改善")
    form.get_by_label("需要再次移送").check()
    form.get_by_role("button", name="回访").click()
    mz.page.get_by_text("回访已记录。").wait_for()
    visits = mz.page.locator("table.visits").inner_text()
    assert "2026-06-02\t上门\t李明（民政）\t到位\t有所改善\t需要" in visits, visits
    deadlines = mz.page.locator("section table.compact").first.inner_text()
    assert "回访期限" in deadlines and "按期" in deadlines, deadlines
    mz.shot("50-mz-visit-recorded")

    # The procuratorate sees the visit and starts the next referral from it.
    jcy = desk("jcy")
    jcy.open(referral)
    assert "父亲伤残后仍需法律援助追讨赔偿" in jcy.page.locator("table.visits").inner_text()
    jcy.page.get_by_role("link", name="据回访再次移送").click()
    jcy.page.wait_for_load_state()
    page = jcy.page
    assert page.get_by_label("姓名").input_value() == "周某"
    assert page.get_by_label("公民身份号码").input_value().startswith("35058219850505123")
    assert page.get_by_label("未成年人", exact=True).is_checked()
    assert page.get_by_label("基本案情").input_value().startswith("2026-06-02回访发现需再次移送：低保金按月到账")
    page.get_by_label("法律援助", exact=True).check()
    assert page.locator('input[name="recipients"][value="sf"]').is_checked(), "司法局 suggested by the need"
    page.locator('input[name="recipients"][value="mz"]').uncheck()
    page.get_by_label("调查核实结束日期").fill("2026-06-02")
    jcy.shot("51-jcy-referral-from-visit")
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    assert "司法" in page.locator(".summary").inner_text()

    # The office marks the case for the joint meeting's study; an empty reason is refused.
    office = desk("office")
    office.open(referral)
    mark = office.page.locator("form.key-case")
    mark.get_by_role("button", name="标记为重点救助对象").click()
    office.page.wait_for_load_state()
    assert office.page.locator("form.key-case [data-refused] li").inner_text() == "理由：必须填写"
    office.page.locator("form.key-case").get_by_label("研究事由").fill("伤残家庭，子女年幼，需多部门持续帮扶")
    office.page.locator("form.key-case").get_by_role("button", name="标记为重点救助对象").click()
    office.page.get_by_text("已标记为重点救助对象。").wait_for()
    assert office.page.locator(".summary .tag.key").inner_text() == "重点救助对象"
    assert "周某" not in office.page.locator("h1").inner_text(), "the office sees the person masked"
    office.open("/figures")
    listed = office.page.locator("table.key-cases").inner_text()
    assert "伤残家庭，子女年幼，需多部门持续帮扶" in listed and "周某" not in listed, listed
    assert "民政" in listed and "检察院" in listed and "(mz)" not in listed, listed
    sections = office.page.locator("table.figures").all_inner_texts()
    assert any("回访（次）\t1\t0" in t for t in sections), sections
    office.shot("52-office-figures-visits-and-key-cases")


def test_members_keep_their_liaison_and_the_administrator_adds_and_suspends(hub, desk, monkeypatch):
    mz = desk("mz")
    mz.open("/")
    mz.page.get_by_role("link", name="成员单位").click()
    mz.page.wait_for_load_state()
    form = mz.page.locator("form.contacts")
    assert "晋江市民政局" in form.inner_text(), "a member edits its own"
    form.get_by_label("分管领导").fill("王副局长")
    form.get_by_label("内设机构").fill("社会救助科")
    form.get_by_label("联络员").fill("李明")
    form.get_by_label("办公电话").fill("0595-85680000")
    form.get_by_label("手机").fill("1390595")
    form.get_by_role("button", name="保存联络信息").click()
    mz.page.wait_for_load_state()
    form = mz.page.locator("form.contacts")
    assert form.locator("[data-refused] li").inner_text() == "手机：应为以 1 开头的 11 位手机号码"
    assert form.get_by_label("联络员").input_value() == "李明", "what was typed is kept"
    form.get_by_label("手机").fill("13905950000")
    form.get_by_role("button", name="保存联络信息").click()
    mz.page.get_by_text("已更新，并已通知各成员单位和联席会议办公室。").wait_for()

    # How 民政 is told away from the workbench: by e-mail by default, which needs the
    # liaison's address; a robot needs its address.
    notify = mz.page.locator("form.notify")
    assert notify.get_by_label("电子邮件").is_checked(), "e-mail by default"
    assert all(box.is_checked() for box in notify.locator("fieldset", has_text="通知事项").get_by_role("checkbox").all())
    assert mz.page.get_by_text("已选电子邮件，但联络信息中未填写电子邮箱").count() == 1
    notify.get_by_label("短信").check()
    notify.get_by_label("工作群机器人或本单位系统", exact=True).check()
    notify.get_by_label("催办").uncheck()
    notify.get_by_role("button", name="保存通知方式").click()
    mz.page.wait_for_load_state()
    notify = mz.page.locator("form.notify")
    assert notify.locator("[data-refused] li").inner_text() == (
        "工作群机器人或本单位系统的网址：选择工作群机器人或本单位系统时须填写其网址"
    )
    assert notify.get_by_label("短信").is_checked() and not notify.get_by_label("催办").is_checked(), "kept"
    notify.get_by_label("工作群机器人或本单位系统的网址").fill("https://oapi.dingtalk.com/robot/send?access_token=T0KEN")
    notify.get_by_label("格式").select_option(label="钉钉群机器人")
    notify.get_by_role("button", name="保存通知方式").click()
    mz.page.get_by_text("已更新，并已通知各成员单位和联席会议办公室。").wait_for()
    form = mz.page.locator("form.contacts")
    form.get_by_label("电子邮箱").fill("liming@mz")
    form.get_by_role("button", name="保存联络信息").click()
    mz.page.wait_for_load_state()
    assert mz.page.locator("form.contacts [data-refused] li").inner_text().startswith("电子邮箱：应为电子邮箱地址")
    mz.page.locator("form.contacts").get_by_label("电子邮箱").fill("liming@mz.jinjiang.gov.cn")
    mz.page.locator("form.contacts").get_by_role("button", name="保存联络信息").click()
    mz.page.get_by_text("已更新，并已通知各成员单位和联席会议办公室。").wait_for()
    assert mz.page.get_by_text("已选电子邮件，但联络信息中未填写电子邮箱").count() == 0
    notify = mz.page.locator("form.notify")
    assert notify.get_by_label("工作群机器人或本单位系统的网址").input_value().endswith("access_token=T0KEN")
    mz.shot("53-mz-directory")
    told = hub.cli("jcy", "members", "--json")
    assert '"email":"liming@mz.jinjiang.gov.cn"' in told.replace(" ", ""), told

    # Another member reads it; the change came to its inbox too.
    jy = desk("jy")
    jy.open("/directory")
    row = jy.page.locator("table.directory tr", has_text="晋江市民政局").inner_text()
    assert "王副局长\t社会救助科\t李明\t0595-85680000\t13905950000" in row, row
    assert jy.page.locator("form.contacts").get_by_text("晋江市教育局").count() == 1, "its own form, not 民政's"
    inbox = hub.cli("jy", "inbox")
    assert "民政 更新了成员单位名录" in inbox and "晋江市民政局 更新联络信息" in inbox and "联络员 李明" in inbox, inbox

    # The administrator adds a member and suspends it.
    admin = desk("admin")
    admin.open("/directory")
    add = admin.page.locator("form.add-member")
    add.get_by_label("单位代码（小写字母或数字，也是证书名）").fill("mz")
    add.get_by_label("单位名称").fill("晋江市住房和城乡建设局")
    add.get_by_label("简称").fill("住建")
    add.get_by_role("button", name="新增").click()
    admin.page.wait_for_load_state()
    assert admin.page.locator("form.add-member [data-refused] li").inner_text() == "单位代码：该代码已有成员单位使用"
    admin.page.locator("form.add-member").get_by_label("单位代码（小写字母或数字，也是证书名）").fill("zj")
    admin.page.locator("form.add-member").get_by_role("button", name="新增").click()
    admin.page.get_by_text("已更新，并已通知各成员单位和联席会议办公室。").wait_for()
    row = admin.page.locator("table.directory tr", has_text="晋江市住房和城乡建设局")
    admin.page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="暂停").click()
    admin.page.get_by_text("已更新，并已通知各成员单位和联席会议办公室。").wait_for()
    row = admin.page.locator("table.directory tr", has_text="晋江市住房和城乡建设局")
    assert "已暂停" in row.inner_text() and row.get_by_role("button", name="恢复").count() == 1
    admin.shot("54-admin-directory")
    listed = hub.cli("jcy", "members")
    assert "zj    晋江市住房和城乡建设局（） [暂停]" in listed, listed
    assert "联络员 李明" in listed, listed

    # Messages the hub cannot send (no SMTP server answers; the robot's host is out of
    # reach) are shown to the administrator once given up on.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setenv("XIANJIE_SMTP_URL", f"smtp://127.0.0.1:{dead}")
    monkeypatch.setenv("XIANJIE_NOTIFY_ATTEMPTS", "1")
    monkeypatch.setenv("XIANJIE_NOTIFY_INTERVAL_MS", "50")
    hub.restart(hub.clock)
    submit(hub, "2026-09-10", "吴某", "35058219860606123", ["mz"], ["minor"])
    admin = desk("admin")
    for _ in range(100):
        admin.open("/admin")
        if admin.page.locator("table.notifications").count():
            break
        time.sleep(0.1)
    for _ in range(100):
        if "有 2 条通知多次重试后仍未发出" in admin.page.locator("main").inner_text():
            break
        time.sleep(0.1)
        admin.open("/admin")
    assert "有 2 条通知多次重试后仍未发出" in admin.page.locator("main").inner_text()
    rows = admin.page.locator("table.notifications tbody").inner_text()
    assert "民政\t电子邮件\t【衔接】待签收：社会救助移送\t1\tSMTP" in rows, rows
    assert "民政\t工作群机器人或本单位系统\t【衔接】待签收：社会救助移送\t1\tconnecting" in rows, rows
    assert "吴某" not in rows
    admin.shot("55-admin-notifications")
