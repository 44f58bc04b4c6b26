"""Materials in the workbench: files chosen in the browser travel with a referral and a
comment, come down byte for byte, and the letter (移送函) and the dossier (案卷) are
saved from the referral's page. The letter is read back with python-docx, a reader
independent of the hub's own."""

import hashlib
import io
import zipfile

import docx

from test_workbench import id_number, refer

# A PDF with a string found nowhere else, a PNG, and an ELF binary named like a PDF.
REPORT = b"%PDF-1.4\n% investigation report of the workbench test\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
ELF = b"\x7fELF\x02\x01\x01" + bytes(500)


def chosen(name, data, mime):
    return {"name": name, "mimeType": mime, "buffer": data}


def saved(desk, link):
    """Clicks a download link; the bytes the browser saved and the name it chose."""
    with desk.page.expect_download() as download:
        link.click()
    d = download.value
    assert d.failure() is None, d.failure()
    with open(d.path(), "rb") as f:
        return f.read(), d.suggested_filename


def test_files_chosen_in_the_browser_travel_with_the_referral_and_the_letter_lists_them(hub, desk):
    jcy, mz = desk("jcy"), desk("mz")
    page = refer(jcy, "周某", id_number("35058219850505123"), ["最低生活保障"], ["mz"])
    files = page.locator('input[type=file][name="files"]')

    # A binary named .pdf is refused by its content; the good file and what was typed stay.
    files.set_input_files(
        [chosen("调查核实报告.pdf", REPORT, "application/pdf"), chosen("伤情鉴定.pdf", ELF, "application/pdf")]
    )
    page.get_by_role("button", name="移送").click()
    page.wait_for_load_state()
    assert page.url.endswith("/new/referral")
    refusal = page.locator("#files_error").inner_text()
    assert refusal.startswith("所选第 2 个文件：不是 PDF") and "按文件内容判断" in refusal, refusal
    assert page.get_by_label("姓名").input_value() == "周某"
    kept = page.locator('fieldset.files input[name="attachments"]')
    assert kept.count() == 1 and kept.is_checked()
    assert "调查核实报告.pdf" in page.locator("fieldset.files").inner_text()
    jcy.shot("30-jcy-file-refused")

    # With a photo in its place, it goes: the kept report and the photo.
    page.locator('input[type=file][name="files"]').set_input_files([chosen("身份证照片.png", PHOTO, "image/png")])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    table = page.locator("table.files").inner_text()
    assert "调查核实报告.pdf" in table and "身份证照片.png" in table and "PDF" in table and "PNG" in table
    details = page.locator("details.details").first
    assert "SHA-256" not in table and not details.locator("code").first.is_visible(), "the digests wait behind 详细信息"
    details.locator("summary").click()
    assert hashlib.sha256(REPORT).hexdigest() in details.inner_text(), "the digest the recipient checks"
    jcy.shot("31-jcy-referral-with-files")
    referral = page.url.split("/referrals/")[1].split("?")[0]

    # The agency downloads the report byte for byte, and the letter.
    mz.open(f"/referrals/{referral}")
    body, name = saved(mz, mz.page.get_by_role("link", name="调查核实报告.pdf"))
    assert body == REPORT and name == "调查核实报告.pdf"
    letter_bytes, letter_name = saved(mz, mz.page.get_by_role("link", name="检察院移〔2026〕1号", exact=True))
    assert letter_name == "检察院移〔2026〕1号-社会救助移送函.docx", letter_name
    letter = docx.Document(io.BytesIO(letter_bytes))
    text = "\n".join(p.text for p in letter.paragraphs)
    for expected in ["晋江市人民检察院", "检察院移〔2026〕1号", "社会救助移送函", "晋江市民政局：", "周某"]:
        assert expected in text, f"{expected} not in the letter"
    listed = [p.text.strip() for p in letter.paragraphs if "调查核实报告.pdf" in p.text or "身份证照片.png" in p.text]
    assert listed == ["附件：1. 调查核实报告.pdf", "2. 身份证照片.png"], listed
    assert hashlib.sha256(letter_bytes).hexdigest() in mz.page.locator("table.letters + details").text_content()
    assert mz.page.get_by_role("button", name="印发更正函").count() == 0, "only the sender corrects"
    # The sender downloads the same letter, then issues a correction beside it.
    jcy.open(f"/referrals/{referral}")
    assert saved(jcy, jcy.page.get_by_role("link", name="检察院移〔2026〕1号", exact=True))[0] == letter_bytes
    jcy.page.once("dialog", lambda dialog: dialog.accept())
    jcy.page.get_by_role("button", name="印发更正函").click()
    jcy.page.get_by_text("更正函已印发，原函保留。").wait_for()
    corrected, corrected_name = saved(jcy, jcy.page.get_by_role("link", name="检察院移〔2026〕1号（更正1）"))
    assert corrected_name == "检察院移〔2026〕1号（更正1）-社会救助移送函.docx", corrected_name
    assert "检察院移〔2026〕1号（更正1）" in "\n".join(p.text for p in docx.Document(io.BytesIO(corrected)).paragraphs)
    assert saved(jcy, jcy.page.get_by_role("link", name="检察院移〔2026〕1号", exact=True))[0] == letter_bytes
    jcy.shot("31b-jcy-letter-corrected")

    # A comment's refused file is said in its form, the text kept; then it goes.
    form = mz.page.locator("form.act-comment")
    form.get_by_label("补充说明").fill("已收到材料，附低保审批表")
    form.locator("input[type=file]").set_input_files([chosen("审批表.docx", ELF, "application/octet-stream")])
    form.locator("button[type=submit]").click()
    mz.page.wait_for_load_state()
    form = mz.page.locator("form.act-comment")
    assert "所选第 1 个文件：不是 PDF" in form.locator("label:has(input[name=files]) + p.error").inner_text()
    assert form.get_by_label("补充说明").input_value() == "已收到材料，附低保审批表"
    assert "补充材料已发送" not in mz.page.content()

    # The agency answers with a comment carrying a document of its own.
    buffer = io.BytesIO()
    reply = docx.Document()
    reply.add_paragraph("低保审批表")
    reply.save(buffer)
    form = mz.page.locator("form.act-comment")
    form.get_by_label("补充说明").fill("已收到材料，附低保审批表")
    form.locator('input[type=file]').set_input_files([chosen("低保审批表.docx", buffer.getvalue(), "application/octet-stream")])
    form.locator("button[type=submit]").click()
    mz.page.get_by_text("补充材料已发送。").wait_for()
    assert "附件：低保审批表.docx" in mz.page.locator(".timeline").inner_text()
    jcy.open(f"/referrals/{referral}")
    assert saved(jcy, jcy.page.get_by_role("link", name="低保审批表.docx"))[0] == buffer.getvalue()
    mz.shot("32-mz-referral-files-and-comment")

    # The dossier: the letter, every file, the record and the audit entries.
    archive, archive_name = saved(jcy, jcy.page.get_by_role("link", name="导出案卷（ZIP）"))
    assert archive_name.startswith("案卷-") and archive_name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        names = z.namelist()
        assert any(n.startswith("移送函/") and n.endswith(".docx") for n in names), names
        assert "办理经过.txt" in names and "审计/entries.jsonl" in names, names
        contents = [z.read(n) for n in names]
    assert REPORT in contents and PHOTO in contents and buffer.getvalue() in contents


def test_the_office_sees_the_files_masked_and_cannot_open_them_nor_can_another_member(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "吴某", id_number("35058219750606123"), ["最低生活保障"], ["mz"])
    page.locator('input[type=file][name="files"]').set_input_files([chosen("吴某困难证明.pdf", REPORT, "application/pdf")])
    page.get_by_role("button", name="移送").click()
    page.get_by_text("已移送。").wait_for()
    referral = page.url.split("/referrals/")[1].split("?")[0]
    link = page.get_by_role("link", name="吴某困难证明.pdf").get_attribute("href")

    office = desk("office")
    office.open(f"/referrals/{referral}")
    table = office.page.locator("table.files").inner_text()
    assert "吴***.pdf" in table and "困难证明" not in table
    assert office.page.locator("table.files a").count() == 0, "no link for the office"
    assert office.page.locator("table.letters").count() == 0, "no letters for the office"
    office.shot("33-office-files-masked")
    for path in (link, f"/referrals/{referral}/letter"):
        response = office.open(path)
        assert response.status == 403, (path, response.status)
        assert REPORT[:40] not in response.body()

    jy = desk("jy")
    response = jy.open(link)
    assert response.status == 404 and REPORT[:40] not in response.body()

    # A form with a file but without the form's token (another site's) is refused
    # before the file is read.
    forged = jy.context.request.post(
        hub.url + "/new/clue",
        multipart={"request_id": "forged-1", "files": chosen("a.pdf", REPORT, "application/pdf")},
    )
    assert forged.status == 403 and "表单已失效" in forged.text()


def test_a_file_over_the_limit_is_refused_and_nothing_of_it_is_carried(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "郑某", id_number("35058219950707123"), ["最低生活保障"], ["mz"])
    big = b"%PDF-1.7\n" + bytes(21 * 1024 * 1024)
    page.locator('input[type=file][name="files"]').set_input_files([chosen("大文件.pdf", big, "application/pdf")])
    page.get_by_role("button", name="移送").click()
    page.wait_for_load_state()
    assert page.locator("#files_error").inner_text() == "所选第 1 个文件：单个文件不能超过 20 MB"
    assert page.locator('fieldset.files input[name="attachments"]').count() == 0, "nothing of it kept"
    assert page.get_by_label("姓名").input_value() == "郑某"


def test_a_file_name_that_reads_otherwise_than_it_is_is_refused_at_its_place(hub, desk):
    jcy = desk("jcy")
    page = refer(jcy, "冯某", id_number("35058219960808123"), ["最低生活保障"], ["mz"])
    # Shown as 阿exe.pdf, an .exe underneath; a zero-width space hides its end.
    page.locator('input[type=file][name="files"]').set_input_files(
        [chosen("阿\u202efdp.exe\u200b", REPORT, "application/pdf"), chosen("调查核实报告.pdf", REPORT, "application/pdf")]
    )
    page.get_by_role("button", name="移送").click()
    page.wait_for_load_state()
    refusal = page.locator("#files_error").inner_text()
    assert refusal.startswith("所选第 1 个文件：") and "不可见字符" in refusal, refusal
    assert page.locator('fieldset.files input[name="attachments"]').count() == 1, "the good file is kept"
    assert page.get_by_label("姓名").input_value() == "冯某"
