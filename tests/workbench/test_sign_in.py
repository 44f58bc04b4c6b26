"""Two factors in the workbench: a clerk's own certificate, then a password. Wrong
passwords lock the clerk out; a session ends when idle (the hub's clock moved on), at
sign-out, and when the administrator resets the password; forms die with their session.
"""

import subprocess

from conftest import BINARY, CHOSEN, INITIAL, Desk

MONDAY_0930 = "2026-11-02T09:30:00+08:00"


def sign_in_with(d, password):
    """Types the password and presses Enter, as a clerk at the keyboard would."""
    field = d.page.get_by_label("登录密码")
    field.fill(password)
    field.press("Enter")
    d.page.wait_for_load_state()


def test_a_clerk_signs_in_is_locked_out_changes_the_password_and_the_session_ends(hub, desk, browser):
    p12 = hub.clerk_p12("mz")
    mz = Desk(browser, hub, "mz", p12, signs_in=False)
    mz.open("/")
    assert mz.page.url.endswith("/sign-in"), "no page without the password"
    assert mz.page.locator(".who").inner_text() == "晋江市民政局 · 测试经办人"
    mz.shot("50-sign-in")

    # Four wrong passwords say how many are left; the fifth locks the clerk out, and
    # then even the right one is refused.
    for left in [4, 3, 2, 1]:
        sign_in_with(mz, "wrong-password-1")
        assert f"再输错 {left} 次" in mz.page.locator(".error").inner_text()
    sign_in_with(mz, "wrong-password-1")
    assert "已锁定至 09:15" in mz.page.locator(".error").inner_text(), mz.page.locator(".error").inner_text()
    mz.shot("51-locked-out")
    sign_in_with(mz, INITIAL)
    assert "已锁定" in mz.page.locator(".error").inner_text()
    audit = subprocess.run([str(BINARY), "audit", "show", "--data-dir", str(hub.data)], capture_output=True, text=True)
    assert "SignInLocked" in audit.stdout and audit.stdout.count("SignInFailed") == 4, audit.stdout

    # Fifteen minutes on, the initial password opens a session that must first change it.
    hub.restart(MONDAY_0930)
    mz.open("/sign-in")
    sign_in_with(mz, INITIAL)
    assert mz.page.url.endswith("/password")
    cookie = next(c for c in mz.context.cookies() if c["name"] == "xianjie_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    mz.page.goto(hub.url + "/received")
    assert mz.page.url.endswith("/password"), "nothing else before the password is changed"
    mz.page.get_by_label("当前密码").fill(INITIAL)
    mz.page.get_by_label("新密码（").fill("short")
    mz.page.get_by_label("再次输入新密码").fill("short")
    mz.page.get_by_role("button", name="修改密码").click()
    mz.page.wait_for_load_state()
    # The browser's own check speaks first (minlength); the hub's, when it is bypassed.
    token = mz.page.locator("form.password input[name=token]").input_value()
    refused = mz.page.request.post(hub.url + "/password", form={
        "token": token, "current_password": INITIAL, "new_password": "1234567890", "repeat_password": "1234567890"})
    assert refused.status == 422 and "新密码：不能全是数字或全是字母" in refused.text()
    mz.page.get_by_label("当前密码").fill(INITIAL)
    mz.page.get_by_label("新密码（").fill(CHOSEN)
    mz.page.get_by_label("再次输入新密码").fill(CHOSEN)
    mz.page.get_by_role("button", name="修改密码").click()
    mz.page.wait_for_load_state()
    assert mz.page.url.split("?")[0].endswith("/")
    assert mz.page.locator(".who").inner_text() == "晋江市民政局 · 测试经办人"

    # Signing out ends the session; a form shown in it is refused afterwards, even
    # once the clerk has signed in again.
    mz.open("/received")
    token = mz.page.locator("header form.session input[name=token]").input_value()
    mz.page.get_by_role("button", name="退出登录").click()
    mz.page.wait_for_load_state()
    assert mz.page.url.endswith("/sign-in")
    assert mz.page.goto(hub.url + "/received") and mz.page.url.endswith("/sign-in")
    sign_in_with(mz, CHOSEN)
    stale = mz.page.request.post(hub.url + "/sign-out", form={"token": token})
    assert stale.status == 403, "a form of the ended session"
    assert mz.page.goto(hub.url + "/").status == 200

    # Idle for more than 30 minutes (the hub's clock set on): signed out.
    hub.restart("2026-11-02T10:05:00+08:00")
    mz.page.goto(hub.url + "/")
    assert mz.page.url.endswith("/sign-in"), "idle too long"
    sign_in_with(mz, CHOSEN)
    assert mz.page.goto(hub.url + "/").status == 200

    # The administrator resets the password: the session ends, the new one must be changed.
    admin = desk("admin")
    admin.open("/admin")
    row = admin.page.locator("table.certificates tr", has_text="(mz) · 测试经办人")
    row.get_by_placeholder("新的初始登录密码").fill("reset-pw-2026")
    row.get_by_role("button", name="重置密码").click()
    admin.page.get_by_text("已重置 mz.desk 的登录密码").wait_for()
    mz.page.goto(hub.url + "/")
    assert mz.page.url.endswith("/sign-in")
    sign_in_with(mz, CHOSEN)
    assert "密码不正确" in mz.page.locator(".error").inner_text()
    sign_in_with(mz, "reset-pw-2026")
    assert mz.page.url.endswith("/password")
    mz.close()
