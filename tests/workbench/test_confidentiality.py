"""Art. 24 in the browser: a story of one person is told in full, then every page and
download of the workbench is opened as the joint-meeting office, as a member party to
none of it and as the administrator, and none of them shows anything of the person.
"""

import json
import subprocess

from conftest import BINARY

from test_workbench import id_number

# What could name the person: their fields, and every text people wrote about them.
SECRETS = [
    "秀英",  # the name, beyond its surname
    "19850315",  # the birth date inside the ID number
    "13912348765",  # the phone
    "梅岭路",  # the address, beyond the county
    "丈夫因伤去世",  # the household
    "驾车撞伤",  # the case summary
    "急需手术费",  # the advance reason
    "补充秀英的病历",  # a comment
    "纳入低保每月",  # the conclusion's summary
    "领取低保金",  # the feedback
    "户籍不在本县",  # a return's reason
    "仍需心理疏导",  # what the visit found
    "伤情鉴定秀英",  # a file's name
]

REFERRAL = """
kind = "social_assistance"
recipients = ["mz", "jy"]
situations = ["serious_injury"]
priority_groups = ["woman"]
needs = ["subsistence_allowance", "student_aid"]
narrative = "被告人驾车撞伤被害人后逃逸"
case_reference = "晋检刑诉〔2026〕7号"
advance = true
advance_reason = "被害人急需手术费"

[person]
name = "欧阳秀英"
id_number = "{id_number}"
phone = "13912348765"
address = "福建省晋江市青阳街道梅岭路18号"
household = "丈夫因伤去世，独自抚养两名子女"
"""


def story(hub):
    """jcy refers the person with a file to mz and jy; mz comments, concludes with aid,
    feeds back and visits; jy returns it. The ids of the case, both referrals and the file."""
    path = hub.data / "referral.toml"
    path.write_text(REFERRAL.format(id_number=id_number("35058219850315123")))
    pdf = hub.data / "伤情鉴定秀英.pdf"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj\n")
    out = hub.cli("jcy", "submit", "--file", str(path), "--attach", str(pdf))
    ids = {line.split("→ ")[1].split()[0]: line.split()[0] for line in out.splitlines() if "→ " in line}
    case = out.split()[1]
    mz, jy = ids["mz"], ids["jy"]
    hub.cli("mz", "comment", mz, "请补充秀英的病历")
    hub.cli("mz", "receive", mz)
    hub.cli("mz", "start", mz)
    hub.cli("mz", "conclude", mz, "--outcome", "granted", "--on", "2026-11-02", "--aid", "subsistence=3000",
            "--summary", "纳入低保每月发放", "--feedback", "领取低保金自十二月起")
    hub.cli("mz", "visit", mz, "--on", "2026-11-02", "--method", "home", "--visitor", "李明",
            "--findings", "低保到位，仍需心理疏导", "--effect", "some")
    hub.cli("jy", "return", jy, "--reason", "户籍不在本县")
    attachment = json.loads(hub.cli("mz", "attachments", mz, "--json"))[0]["id"]
    return case, mz, jy, attachment


def shown(desk, path):
    """What the workbench answers `path` with, to this browser's certificate: the page as
    the browser drew it, or a download's bytes read as text."""
    response = desk.context.request.get(desk.hub.url + path, max_redirects=0)
    body = response.body()
    if body.startswith(b"PK"):
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return response.status, "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    if "text/html" in response.headers.get("content-type", ""):
        desk.open(path)
        return response.status, desk.page.content()
    return response.status, body.decode("utf-8", "replace")


def test_no_page_shows_the_office_an_outsider_or_the_admin_anything_of_a_person(hub, desk):
    case, mz_id, jy_id, attachment = story(hub)
    sender = desk("jcy")
    status, page = shown(sender, f"/referrals/{mz_id}")
    assert status == 200 and "欧阳秀英" in page and "仍需心理疏导" in page, "the parties read it all"

    pages = [
        "/", "/received", "/sent", "/received?state=fed_back", "/sent?counterpart=mz",
        f"/referrals/{mz_id}", f"/referrals/{jy_id}",
        f"/referrals/{mz_id}/files/{attachment}", f"/referrals/{mz_id}/letter", f"/cases/{case}/dossier",
        f"/new/referral?from={mz_id}", f"/new/clue?from={mz_id}",
        "/ledger", "/ledger/download?year=2026", "/ledger/download?year=2026&format=csv",
        "/figures", "/figures?year=2026", "/figures/download?year=2026", "/figures/download?year=2026&format=csv",
        "/office", "/office/deadlines", "/office/deadlines?view=outstanding",
        "/calendar", "/directory", "/admin", "/assets/app.js",
    ]
    for who in ["office", "sf", "admin"]:
        d = desk(who)
        answered = {}
        for path in pages:
            status, text = shown(d, path)
            answered[path] = status
            for secret in SECRETS:
                assert secret not in text, f"{who} sees {secret} at {path}"
        if who == "office":
            # The office reads the referral, masked, and the lists of every member.
            assert answered[f"/referrals/{mz_id}"] == 200
            _, page = shown(d, f"/referrals/{mz_id}")
            assert "欧***" in page and "（不向办公室显示）" in page
            _, page = shown(d, "/received")
            assert "欧***" in page
            _, ledger = shown(d, "/ledger/download?year=2026&format=csv")
            assert "欧***" in ledger
            d.open(f"/referrals/{mz_id}")
            d.shot("80-office-referral-masked")
        else:
            assert answered[f"/referrals/{mz_id}"] in (403, 404), f"{who}: {answered}"
        assert answered[f"/referrals/{mz_id}/files/{attachment}"] in (403, 404), f"{who}: {answered}"
        assert answered[f"/referrals/{mz_id}/letter"] in (403, 404), f"{who}: {answered}"
        assert answered[f"/cases/{case}/dossier"] in (403, 404), f"{who}: {answered}"


def test_the_parties_read_who_has_seen_the_person(hub, desk):
    case, mz_id, jy_id, attachment = story(hub)
    office = desk("office")
    office.open(f"/referrals/{mz_id}")
    jcy = desk("jcy")
    jcy.open(f"/referrals/{mz_id}")
    record = jcy.page.locator("details.access")
    record.locator("summary").click()
    rows = [r.inner_text() for r in record.locator("tbody tr").all()]
    # Newest first: this very look, the office's masked read, then 民政's acts.
    assert "查看访问记录" in rows[0] and "检察院" in rows[0], rows
    assert any("联席会议办公室" in r and "查看（已脱敏）" in r for r in rows), rows
    for act in ["签收", "启动程序", "办结", "回访", "补充材料"]:
        assert any("民政" in r and r.endswith(act) for r in rows), (act, rows)
    assert any("检察院" in r and r.endswith("移送") for r in rows), rows
    # The browsers' reads name their clerk; the acts made from the command line with a
    # unit's system certificate are 系统's.
    assert "测试经办人" in rows[0], rows
    assert all("系统" in r for r in rows if "民政" in r), rows
    jcy.shot("81-access-record")
    # The office reads the referral, not who else did.
    assert office.page.locator("details.access").count() == 0

    out = subprocess.run(
        [str(BINARY), "audit", "access", mz_id, "--data-dir", str(hub.data)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[2] == "jcy" and lines[0].endswith("移送"), lines
    assert any(" office " in f" {l} " and "查看（已脱敏）" in l for l in lines), lines
    assert not any(secret in out.stdout for secret in SECRETS)
