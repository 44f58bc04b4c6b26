"""Certificates as an administrator and a clerk meet them: a re-issued certificate
revokes the one before, every certificate ever issued stays listed and revocable, and a
browser with a revoked, expired, foreign or no certificate gets a page of its own that
says what is wrong and whom to ask."""

import os
import stat
import subprocess

from conftest import BINARY, CLERK, CLERK_NAME, INITIAL, PASSWORD, Desk


def pki(hub, *args, pki_dir=None):
    done = subprocess.run(
        [str(BINARY), "pki", *args, "--dir", str(pki_dir or hub.data / "pki")],
        env=dict(os.environ, XIANJIE_P12_PASSWORD=PASSWORD),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(browser, hub, who, p12):
    """A new browser (so a new TLS connection) with `p12`: the status and the page."""
    d = Desk(browser, hub, who, p12)
    response = d.open("/")
    return d, response.status, d.page.content()


def test_a_reissued_certificate_revokes_the_old_one_and_every_one_stays_listed(hub, desk, browser):
    old = hub.clerk_p12("fl")
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o600, "a .p12 holds a private key"
    desk("fl").close()

    # The administrator issues the clerk a new certificate on the admin page.
    admin = desk("admin")
    admin.open("/admin")
    form = admin.page.locator("form.clerk")
    form.get_by_label("所在单位").select_option("fl")
    form.get_by_label("经办人代码").fill(CLERK)
    form.get_by_label("姓名").fill(CLERK_NAME)
    form.get_by_label("证书密码").fill(PASSWORD)
    form.get_by_label("初始登录密码").fill(INITIAL)
    with admin.page.expect_download() as download:
        form.get_by_role("button", name="签发并下载").click()
    new = hub.data / "fl-new.p12"
    download.value.save_as(new)

    # The new one works (with the new initial password); the old one, on a new
    # connection, is told it was revoked.
    fl = Desk(browser, hub, "fl", new, signs_in=True)
    assert fl.page.locator(".who").inner_text() == "晋江市妇女联合会 · 测试经办人"
    fl.close()
    d, status, page = refused(browser, hub, "fl", old)
    assert status == 403 and "您的证书已被吊销" in page and "系统管理员" in page, page
    assert "不是本联席会议签发的" not in page
    d.shot("40-revoked-on-a-new-connection")
    d.close()

    # Both are listed, the old one revoked; the command line says the same.
    admin.open("/admin")
    rows = admin.page.locator("table.certificates tr", has_text="(fl) · 测试经办人")
    assert rows.count() == 2
    states = sorted(rows.nth(i).locator("td").nth(3).inner_text() for i in range(2))
    assert states == ["已吊销", "有效"], states
    listed = [line for line in hub.pki("list").splitlines() if line.startswith("fl.desk ")]
    assert len(listed) == 2 and listed[0].endswith("valid") and listed[1].endswith("revoked"), listed

    # Kept beside a newer one, an old certificate still works until it is revoked by
    # its serial number, from the list of every certificate.
    kept = hub.clerk_p12("jy")
    desk("jy").close()
    renewed = hub.data / "jy-new.p12"
    said = hub.pki("issue", "jy", "--clerk", CLERK, "--name", CLERK_NAME, "--keep-previous", "--p12", str(renewed),
                   "--initial-password", INITIAL)
    assert "stays valid until" in said, said
    hub.changed.discard(str(kept))
    jy = Desk(browser, hub, "jy", kept, signs_in=True)
    assert jy.page.locator(".who").inner_text() == "晋江市教育局 · 测试经办人"
    jy.close()
    admin.open("/admin")
    superseded = admin.page.locator("table.certificates tr", has_text="已被新证书替代")
    assert superseded.count() == 1
    admin.shot("41-admin-every-certificate")
    admin.page.once("dialog", lambda dialog: dialog.accept())
    superseded.get_by_role("button", name="吊销").click()
    admin.page.get_by_text("证书已吊销").wait_for()
    d, status, page = refused(browser, hub, "jy", kept)
    assert status == 403 and "您的证书已被吊销" in page
    d.close()
    hub.changed.add(str(renewed))  # the clerk's password goes with the clerk, not the certificate
    jy = Desk(browser, hub, "jy", renewed, signs_in=True)
    assert jy.open("/").status == 200, "the new one goes on working"
    jy.close()


def test_expired_and_foreign_certificates_each_get_their_own_page(hub, browser, tmp_path):
    # Another joint meeting's certificate: a CA of its own.
    other = tmp_path / "other-pki"
    pki(hub, "init", pki_dir=other)
    foreign = tmp_path / "foreign.p12"
    pki(hub, "export-p12", "mz", "--out", str(foreign), pki_dir=other)
    d, status, page = refused(browser, hub, "mz", foreign)
    assert status == 401 and "不是本联席会议签发的" in page, page
    d.shot("42-foreign")
    d.close()

    # Past its end: the hub's clock set after 2036-01-01.
    mz = hub.p12("mz")
    hub.restart("2036-02-01T09:00:00+08:00")
    d, status, page = refused(browser, hub, "mz", mz)
    assert status == 401 and "您的证书已过期" in page and "系统管理员" in page, page
    d.shot("43-expired")
    d.close()


def test_the_legacy_pkcs12_form_imports_into_the_browser(hub, browser):
    hub.clerk_p12("mz")
    legacy = hub.data / "mz-legacy.p12"
    pki(hub, "export-p12", "mz.desk", "--legacy", "--out", str(legacy))
    mz = Desk(browser, hub, "mz", legacy, signs_in=True)
    assert mz.open("/").status == 200
    assert mz.page.locator(".who").inner_text() == "晋江市民政局 · 测试经办人"
    mz.close()


def test_the_admin_issues_a_clerk_whose_acts_carry_their_name(hub, desk, browser):
    admin = desk("admin")
    admin.open("/admin")
    form = admin.page.locator("form.clerk")
    form.get_by_label("所在单位").select_option("mz")
    form.get_by_label("经办人代码").fill("wangfang")
    form.get_by_label("姓名").fill("王芳")
    form.get_by_label("证书密码").fill(PASSWORD)
    form.get_by_label("初始登录密码").fill(INITIAL)
    with admin.page.expect_download() as download:
        form.get_by_role("button", name="签发并下载").click()
    assert download.value.suggested_filename == "mz.wangfang.p12"
    p12 = hub.data / "wangfang.p12"
    download.value.save_as(p12)
    admin.open("/admin")
    listed = admin.page.locator("table.certificates tr", has_text="王芳")
    assert listed.count() == 1 and "有效" in listed.inner_text()

    referral = [line.split()[0] for line in submit(hub).splitlines() if "→ " in line][0]
    clerk = Desk(browser, hub, "mz", p12, signs_in=True)
    clerk.open("/")
    assert clerk.page.locator(".who").inner_text() == "晋江市民政局 · 王芳"
    clerk.open(f"/referrals/{referral}")
    clerk.page.locator("form.act-receive button[type=submit]").click()
    clerk.page.get_by_text("已签收。").wait_for()
    assert "民政 · 王芳" in clerk.page.content() and "(mz)" not in clerk.page.locator("main").inner_text(), "the history names the clerk, by name"
    clerk.page.locator("details.access summary").click()
    rows = [r.inner_text() for r in clerk.page.locator("details.access tbody tr").all()]
    assert any("王芳" in r and r.endswith("签收") for r in rows), rows
    clerk.shot("44-clerk-referral")
    clerk.close()

    admin.open("/admin")
    admin.page.once("dialog", lambda dialog: dialog.accept())
    admin.page.locator("table.certificates tr", has_text="王芳").get_by_role("button", name="吊销").click()
    admin.page.get_by_text("证书已吊销").wait_for()
    d, status, page = refused(browser, hub, "mz", p12)
    assert status == 403 and "您的证书已被吊销" in page
    d.close()


def submit(hub):
    path = hub.data / "referral.toml"
    path.write_text(
        'kind = "social_assistance"\nrecipients = ["mz"]\nsituations = ["serious_injury"]\n'
        'needs = ["subsistence_allowance"]\nnarrative = "被害人受伤"\ninvestigation_ended_on = "2026-10-30"\n'
        '[person]\nname = "陈某"\nid_number = "11010519491231002X"\n'
    )
    return hub.cli("jcy", "submit", "--file", str(path))
