"""A refused form as the clerk meets it: a summary at the top of the form that was
refused, focused and on the screen, each message at its field, everything typed kept;
and the rules in Chinese, whatever the hub says to its API clients.
"""

from test_workbench import act, id_number, refer

VIEWPORT_HEIGHT = 768


def on_screen(locator):
    """The element lies within the 1366×768 window as it is scrolled now."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 200) <= VIEWPORT_HEIGHT


def focused(page, selector):
    return page.evaluate(f"() => document.activeElement !== null && document.activeElement.matches({selector!r})")


def received_and_started(desk, name, digits):
    """A referral from the procuratorate to 民政, received and started by 民政."""
    jcy = desk("jcy")
    page = refer(jcy, name, id_number(digits), ["最低生活保障"], ["mz"])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    mz = desk("mz")
    mz.open("/")
    mz.page.locator("#todo tr", has_text=name).get_by_role("link").click()
    mz.page.wait_for_load_state()
    act(mz, "receive")
    mz.page.get_by_text("已签收。").wait_for()
    act(mz, "start")
    mz.page.get_by_text("已启动程序。").wait_for()
    return mz


def test_a_refused_conclusion_is_summarised_where_the_clerk_looks_and_said_at_its_field(hub, desk):
    mz = received_and_started(desk, "孙某", "35058219880808123")
    page = mz.page
    form = page.locator("form.act-conclude")
    # Typed through the keyboard, sent with Enter from the amount.
    form.get_by_label("办结结果").select_option(label="予以救助")
    form.get_by_label("办结日期").fill("2026-11-02")
    form.get_by_role("checkbox", name="纳入低保", exact=True).check()
    form.get_by_label("办理情况").fill("已纳入最低生活保障")
    amount = form.get_by_label("纳入低保金额（元）")
    amount.fill("3000.125")
    page.once("dialog", lambda dialog: dialog.accept())
    amount.press("Enter")
    page.wait_for_load_state()

    form = page.locator("form.act-conclude")
    summary = form.locator("[data-refused]")
    summary.wait_for()
    assert "有 1 处需要修改" in summary.inner_text()
    assert "纳入低保金额：以元为单位，最多两位小数" in summary.inner_text()
    assert focused(page, "form.act-conclude [data-refused]"), "the summary has the focus"
    assert on_screen(summary), "and the page is scrolled to it"
    at_field = form.locator("fieldset.aids p.error")
    assert "纳入低保金额：以元为单位" in at_field.inner_text(), "the message is at its field too"
    amount = form.locator("input[name=amount_subsistence]")
    assert amount.get_attribute("aria-invalid") == "true"
    assert amount.input_value() == "3000.125", "what was typed is kept"
    assert form.get_by_role("checkbox", name="纳入低保", exact=True).is_checked(), "and what was ticked"
    assert form.get_by_label("办理情况").input_value() == "已纳入最低生活保障"
    assert "yuan" not in page.content(), "the rule in Chinese, not as the API says it"
    mz.shot("60-mz-conclusion-refused")

    # One Tab from the summary reaches the form's first field.
    page.keyboard.press("Tab")
    assert focused(page, "form.act-conclude select[name=outcome]")

    # Corrected with the mouse, as people write amounts, it goes.
    amount = page.locator("form.act-conclude input[name=amount_subsistence]")
    amount.fill("3,000元")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form.act-conclude button[type=submit]").click()
    page.get_by_text("已办结。").wait_for()
    assert "3000.00 元" in page.content()
    assert page.locator("[data-refused]").count() == 0


def test_every_field_of_a_new_referral_has_a_place_for_its_refusal(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "周某", id_number("35058219770707123"), ["法律援助"], ["sf"])
    page.get_by_label("住址").fill("福建省晋江市" + "某" * 250)
    page.get_by_label("家庭情况").fill("困难" * 1001)
    page.get_by_label("案号").fill("晋检刑诉〔2026〕" + "1" * 60 + "号")
    page.get_by_role("button", name="移送").click()
    page.wait_for_load_state()

    summary = page.locator("[data-refused]")
    summary.wait_for()
    text = summary.inner_text()
    assert "有 3 处需要修改" in text, text
    for said in ("住址：不能超过 200 个字", "家庭情况：不能超过 2000 个字", "案号：不能超过 64 个字"):
        assert said in text, said
    assert focused(page, "[data-refused]") and on_screen(summary)
    assert "不能超过 200 个字" in page.locator("#address_error").inner_text()
    assert "不能超过 2000 个字" in page.locator("#household_error").inner_text()
    assert "不能超过 64 个字" in page.locator("#case_reference_error").inner_text()
    assert page.get_by_label("住址").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("姓名").get_attribute("aria-invalid") is None, "only the refused fields are marked"
    jcy.shot("61-jcy-referral-refused")
    # Shortened, it goes.
    page.get_by_label("住址").fill("福建省晋江市青阳街道")
    page.get_by_label("家庭情况").fill("父母双亡，随祖母生活")
    page.get_by_label("案号").fill("晋检刑诉〔2026〕123号")
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()


def test_a_refused_contact_of_the_directory_is_said_at_its_field(hub, desk):
    mz = desk("mz")
    mz.open("/directory")
    form = mz.page.locator("form.contacts")
    form.get_by_label("手机").fill("12345")
    form.get_by_role("button", name="保存联络信息").click()
    mz.page.wait_for_load_state()
    form = mz.page.locator("form.contacts")
    summary = form.locator("[data-refused]")
    assert "手机：应为以 1 开头的 11 位手机号码" in summary.inner_text()
    assert focused(mz.page, "form.contacts [data-refused]") and on_screen(summary)
    assert "11 位手机号码" in form.locator("label:has(input[name=mobile]) + p.error").inner_text()
