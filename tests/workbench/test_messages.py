"""Messages that say who did what to whose referral, the person masked as a message
shows one, on each side of a referral."""

from test_workbench import act, id_number, refer


def test_each_message_says_who_did_what_to_whose_referral(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "吴某某", id_number("35058219920202123"), ["最低生活保障"], ["mz"])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()

    mz = desk("mz")
    mz.open("/")
    arrived = mz.page.locator(".messages li", has_text="检察院 发来 吴** 的社会救助移送")
    arrived.wait_for()
    assert "吴某某" not in mz.page.locator(".messages").inner_text(), "a message shows the person masked"
    mz.page.locator("#todo tr", has_text="吴某某").get_by_role("link").click()
    mz.page.wait_for_load_state()
    act(mz, "receive")
    mz.page.get_by_text("已签收。").wait_for()
    act(mz, "start")
    mz.page.get_by_text("已启动程序。").wait_for()

    jcy.open("/")
    messages = jcy.page.locator(".messages")
    messages.get_by_text("民政 签收了 吴** 的社会救助移送").wait_for()
    messages.get_by_text("民政 启动了 吴** 的社会救助移送的办理程序").wait_for()
    assert "状态变化" not in messages.inner_text()
    jcy.shot("62-jcy-messages")
