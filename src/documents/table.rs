//! Tables for people to open in Excel or WPS: XLSX (rust_xlsxwriter) with real date
//! and number cells, the header row frozen and filtered, columns as wide as their
//! contents; and CSV in UTF-8 with the byte-order mark Excel needs to read Chinese.

use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

use super::DocumentError;
use crate::domain::{ledger::Cell, money};

impl From<XlsxError> for DocumentError {
    fn from(error: XlsxError) -> Self {
        DocumentError::Write(error.to_string())
    }
}

impl From<csv::Error> for DocumentError {
    fn from(error: csv::Error) -> Self {
        DocumentError::Write(error.to_string())
    }
}

/// A table with its title (the sheet's and the file's) and the moment it was made.
pub struct Table<'a> {
    pub title: &'a str,
    /// The sheet's name: at most 31 characters, none of `[]:*?/\`.
    pub sheet: &'a str,
    pub headers: &'a [String],
    pub rows: &'a [Vec<Cell>],
    pub made_at: NaiveDateTime,
}

/// The widest a column grows, in characters.
const MAX_WIDTH: f64 = 48.0;

/// How wide `text` shows, in the width of a Latin digit: CJK characters take two.
fn display_width(text: &str) -> f64 {
    text.chars().map(|c| if c.is_ascii() { 1.0 } else { 2.0 }).sum()
}

fn excel_time(at: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    let date = ExcelDateTime::from_ymd(at.year() as u16, at.month() as u8, at.day() as u8)?;
    date.and_hms(at.hour() as u16, at.minute() as u8, at.second())
}

/// The table as an XLSX workbook of one sheet.
pub fn xlsx(table: &Table<'_>) -> Result<Vec<u8>, DocumentError> {
    let mut workbook = Workbook::new();
    let properties = DocProperties::new()
        .set_title(table.title)
        .set_author("xianjie")
        .set_creation_datetime(&excel_time(table.made_at)?);
    workbook.set_properties(&properties);
    let header = Format::new().set_bold().set_align(FormatAlign::Center).set_background_color(0xE8EEF4);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let yuan = Format::new().set_num_format("#,##0.00");
    let sheet = workbook.add_worksheet();
    sheet.set_name(table.sheet)?;
    let mut widths: Vec<f64> = table.headers.iter().map(|h| display_width(h) + 4.0).collect();
    for (col, text) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, text, &header)?;
    }
    for (i, cells) in table.rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (col, cell) in cells.iter().enumerate() {
            let c = col as u16;
            let width = match cell {
                Cell::Text(text) => {
                    sheet.write_string(row, c, text)?;
                    display_width(text)
                }
                Cell::Date(day) => {
                    let day = ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)?;
                    sheet.write_datetime_with_format(row, c, &day, &date)?;
                    10.0
                }
                Cell::Number(n) => {
                    sheet.write_number(row, c, *n as f64)?;
                    display_width(&n.to_string())
                }
                // Fen to yuan: exact in a double up to 2⁵³ fen.
                Cell::Yuan(fen) => {
                    sheet.write_number_with_format(row, c, *fen as f64 / 100.0, &yuan)?;
                    display_width(&money::yuan(*fen)) + 2.0
                }
                Cell::Empty => 0.0,
            };
            if let Some(w) = widths.get_mut(col) {
                *w = w.max(width + 1.0);
            }
        }
    }
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, width.min(MAX_WIDTH))?;
    }
    let last_col = table.headers.len().saturating_sub(1) as u16;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, table.rows.len() as u32, last_col)?;
    Ok(workbook.save_to_buffer()?)
}

/// Text as a CSV cell: one that a spreadsheet would take for a formula (`=`, `+`, `-`,
/// `@` first) is kept as text by a leading apostrophe.
fn csv_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The table as CSV: UTF-8 with a byte-order mark, dates `YYYY-MM-DD`, yuan with two
/// decimals.
pub fn csv(table: &Table<'_>) -> Result<Vec<u8>, DocumentError> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(table.headers)?;
    for cells in table.rows {
        writer.write_record(cells.iter().map(|cell| match cell {
            Cell::Text(text) => csv_text(text),
            Cell::Date(day) => day.to_string(),
            Cell::Number(n) => n.to_string(),
            Cell::Yuan(fen) => money::yuan(*fen),
            Cell::Empty => String::new(),
        }))?;
    }
    writer.into_inner().map_err(|e| DocumentError::Write(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (Vec<String>, Vec<Vec<Cell>>) {
        let headers = vec!["序号".to_owned(), "当事人".to_owned(), "移送日期".to_owned(), "救助金额（元）".to_owned()];
        let rows = vec![vec![
            Cell::Number(1),
            Cell::Text("李某，\"小李\"".into()),
            Cell::Date("2026-02-03".parse().unwrap()),
            Cell::Yuan(123_450),
        ]];
        (headers, rows)
    }

    #[test]
    fn csv_starts_with_the_mark_excel_needs_and_quotes_what_must_be() {
        let (headers, rows) = table();
        let made_at = "2026-11-02T09:00:00".parse().unwrap();
        let bytes = csv(&Table { title: "台账", sheet: "台账", headers: &headers, rows: &rows, made_at }).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text, "\u{feff}序号,当事人,移送日期,救助金额（元）\n1,\"李某，\"\"小李\"\"\",2026-02-03,1234.50\n");
    }

    #[test]
    fn text_that_looks_like_a_formula_stays_text() {
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("李某"), "李某");
    }

    #[test]
    fn an_xlsx_is_a_workbook_with_its_sheet() {
        let (headers, rows) = table();
        let made_at = "2026-11-02T09:00:00".parse().unwrap();
        let bytes =
            xlsx(&Table { title: "台账", sheet: "台账 2026年", headers: &headers, rows: &rows, made_at }).unwrap();
        let parts = super::super::archive::entries(&bytes).unwrap();
        let workbook = parts.iter().find(|(n, _)| n == "xl/workbook.xml").unwrap();
        assert!(String::from_utf8_lossy(&workbook.1).contains("台账 2026年"));
        let core = parts.iter().find(|(n, _)| n == "docProps/core.xml").unwrap();
        assert!(String::from_utf8_lossy(&core.1).contains("2026-11-02T09:00:00Z"), "made at the hub's time");
    }
}
