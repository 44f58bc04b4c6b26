"""Reads ledgers (台账) the hub exported with readers independent of it — openpyxl for
XLSX, Python's csv for CSV — and checks them against what the hub's API said.

Usage: ledger_check.py EXPECTED.json
EXPECTED names the files and, for each, the rows expected in order with the value of
each named column (dates as YYYY-MM-DD, numbers as numbers). Prints one JSON line
with what it saw; exits non-zero naming the first difference.
"""

import csv
import datetime
import json
import sys

import openpyxl


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def cell_value(value):
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def check_xlsx(path, expected, masked):
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    if sheet.freeze_panes != "A2":
        fail(f"{path}: header row not frozen ({sheet.freeze_panes})")
    if not sheet.auto_filter.ref or not sheet.auto_filter.ref.startswith("A1:"):
        fail(f"{path}: no auto-filter on the header row ({sheet.auto_filter.ref})")
    headers = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    if len(rows) != len(expected):
        fail(f"{path}: {len(rows)} rows, expected {len(expected)}")
    for n, (row, want) in enumerate(zip(rows, expected), start=1):
        got = dict(zip(headers, row))
        if got["序号"] != n:
            fail(f"{path}: row {n} numbered {got['序号']}")
        for column, value in want.items():
            if column not in got:
                fail(f"{path}: no column {column}")
            if cell_value(got[column]) != value:
                fail(f"{path}: row {n} {column}: {got[column]!r}, expected {value!r}")
    date_columns = [h for h in headers if h.endswith("日期") or h.endswith("到期日")]
    for row in rows:
        got = dict(zip(headers, row))
        for column in date_columns:
            value = got[column]
            if value is not None and not isinstance(value, datetime.datetime):
                fail(f"{path}: {column} is {type(value).__name__}, not a date cell")
    for letter, dimension in sheet.column_dimensions.items():
        if dimension.width is None or dimension.width < 4:
            fail(f"{path}: column {letter} has no width ({dimension.width})")
    if masked:
        for row in rows:
            got = dict(zip(headers, row))
            if "*" not in (got["当事人"] or "") or "**********" not in (got["公民身份号码"] or ""):
                fail(f"{path}: the office's ledger shows a person unmasked")
            if got["联系电话"]:
                fail(f"{path}: the office's ledger shows a phone")
    return {"headers": headers, "rows": len(rows), "title": book.properties.title}


def check_csv(path, expected):
    raw = open(path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        fail(f"{path}: no UTF-8 byte-order mark")
    rows = list(csv.DictReader(raw[3:].decode("utf-8").splitlines()))
    if len(rows) != len(expected):
        fail(f"{path}: {len(rows)} rows, expected {len(expected)}")
    for n, (row, want) in enumerate(zip(rows, expected), start=1):
        for column, value in want.items():
            text = row[column]
            if isinstance(value, float):
                value = f"{value:.2f}"
            elif value is None:
                value = ""
            else:
                value = str(value)
            if text != value:
                fail(f"{path}: row {n} {column}: {text!r}, expected {value!r}")
    return {"rows": len(rows)}


def main():
    expected = json.load(open(sys.argv[1], encoding="utf-8"))
    seen = {}
    for ledger in expected["ledgers"]:
        if ledger["path"].endswith(".csv"):
            seen[ledger["path"]] = check_csv(ledger["path"], ledger["rows"])
        else:
            seen[ledger["path"]] = check_xlsx(ledger["path"], ledger["rows"], ledger.get("masked", False))
    print(json.dumps(seen, ensure_ascii=False))


main()
