//! Tables for people to open in Excel or WPS: XLSX (rust_xlsxwriter) with real date
//! and number cells, the header row frozen and filtered, columns as wide as their
//! contents, rows beyond what a sheet holds continued on the next; and CSV in UTF-8
//! with the byte-order mark Excel needs to read Chinese. Both are written a row at a
//! time to a temporary file, whatever their length.

use std::{
    fmt::Write as _,
    fs::File,
    io::{BufWriter, Seek, Write},
};

use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

use super::{DocumentError, WRITTEN_AT_ONCE};
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

/// What a table is called and made of, before its rows.
pub struct Heading<'a> {
    /// The workbook's title.
    pub title: &'a str,
    /// The sheet's name: at most 31 characters, none of `[]:*?/\`.
    pub sheet: &'a str,
    pub headers: &'a [String],
    pub made_at: NaiveDateTime,
}

/// The widest a column grows, in characters.
const MAX_WIDTH: f64 = 48.0;

/// How wide `text` shows, in the width of a Latin digit: CJK characters take two.
fn display_width(text: &str) -> f64 {
    text.chars().map(|c| if c.is_ascii() { 1.0 } else { 2.0 }).sum()
}

/// How wide a whole number of `magnitude` shows, with its sign when `negative`.
fn numeral_width(magnitude: u64, negative: bool) -> f64 {
    f64::from(magnitude.checked_ilog10().map_or(1, |d| d + 1) + u32::from(negative))
}

fn excel_time(at: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    let date = ExcelDateTime::from_ymd(at.year() as u16, at.month() as u8, at.day() as u8)?;
    date.and_hms(at.hour() as u16, at.minute() as u8, at.second())
}

/// A table written a row at a time into an unnamed temporary file, so memory does not
/// grow with it: XLSX in rust_xlsxwriter's constant-memory mode (each row goes to a
/// temporary file as it is written), or CSV.
pub struct TableWriter {
    out: Out,
}

enum Out {
    Xlsx(Box<Sheet>),
    Csv(Box<Csv>),
}

/// A CSV file being written, and the text of the cell being written.
struct Csv {
    writer: csv::Writer<BufWriter<File>>,
    cell: String,
}

/// A workbook being written: its sheets' name and headers, its formats for headers,
/// dates and yuan, each column's width so far, and the rows of each sheet so far.
struct Sheet {
    workbook: Workbook,
    name: String,
    headers: Vec<String>,
    formats: [Format; 3],
    widths: Vec<f64>,
    rows: Vec<u32>,
    /// Rows a sheet holds below its header row.
    per_sheet: u32,
}

/// Rows an Excel sheet holds below its header row (1,048,576 in all).
const SHEET_ROWS: u32 = 1_048_575;

/// Characters in a sheet's name at most.
const SHEET_NAME: usize = 31;

impl Sheet {
    /// A new sheet, its header row written (bold, frozen, filtered): the first named as
    /// the heading says, the next 「… (2)」 and so on.
    fn add(&mut self) -> Result<(), DocumentError> {
        let n = self.rows.len() + 1;
        let name = match n {
            1 => self.name.clone(),
            _ => {
                let suffix = format!(" ({n})");
                let kept: String = self.name.chars().take(SHEET_NAME - suffix.chars().count()).collect();
                kept + &suffix
            }
        };
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        for (col, text) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, text, &self.formats[0])?;
        }
        self.rows.push(0);
        Ok(())
    }
}

impl TableWriter {
    /// An XLSX workbook, its first sheet's header row written (bold, frozen, filtered).
    pub fn xlsx(heading: &Heading<'_>) -> Result<Self, DocumentError> {
        Self::xlsx_of_sheets(heading, SHEET_ROWS)
    }

    /// The same, with `per_sheet` rows on a sheet below its header.
    fn xlsx_of_sheets(heading: &Heading<'_>, per_sheet: u32) -> Result<Self, DocumentError> {
        let mut workbook = Workbook::new();
        let properties = DocProperties::new()
            .set_title(heading.title)
            .set_author("xianjie")
            .set_creation_datetime(&excel_time(heading.made_at)?);
        workbook.set_properties(&properties);
        // Zipping the sheet's XML is most of finishing a large table: the fastest level
        // takes a fraction of the default's time for a file a few percent larger.
        workbook.set_zip_compression_level(1);
        let mut sheet = Sheet {
            workbook,
            name: heading.sheet.to_owned(),
            headers: heading.headers.to_vec(),
            formats: [
                Format::new().set_bold().set_align(FormatAlign::Center).set_background_color(0xE8EEF4),
                Format::new().set_num_format("yyyy-mm-dd"),
                Format::new().set_num_format("#,##0.00"),
            ],
            widths: heading.headers.iter().map(|h| display_width(h) + 4.0).collect(),
            rows: Vec::new(),
            per_sheet,
        };
        sheet.add()?;
        Ok(Self { out: Out::Xlsx(Box::new(sheet)) })
    }

    /// CSV: UTF-8 with a byte-order mark, its header row written.
    pub fn csv(heading: &Heading<'_>) -> Result<Self, DocumentError> {
        let mut file = BufWriter::with_capacity(WRITTEN_AT_ONCE, tempfile::tempfile()?);
        file.write_all(b"\xEF\xBB\xBF")?;
        let mut writer = csv::Writer::from_writer(file);
        writer.write_record(heading.headers)?;
        Ok(Self { out: Out::Csv(Box::new(Csv { writer, cell: String::new() })) })
    }

    /// The next row.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), DocumentError> {
        match &mut self.out {
            Out::Xlsx(xlsx) => {
                if xlsx.rows.last().is_some_and(|&rows| rows >= xlsx.per_sheet) {
                    xlsx.add()?;
                }
                let Sheet { workbook, formats: [_, date, yuan], widths, rows, .. } = xlsx.as_mut();
                // `add` has made the first sheet: there is always a last one.
                let index = rows.len() - 1;
                rows[index] += 1;
                let (sheet, row) = (workbook.worksheet_from_index(index)?, rows[index]);
                for (col, cell) in cells.iter().enumerate() {
                    let c = col as u16;
                    let width = match cell {
                        Cell::Text(text) => {
                            sheet.write_string(row, c, text)?;
                            display_width(text)
                        }
                        Cell::Date(day) => {
                            let day = ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)?;
                            sheet.write_datetime_with_format(row, c, &day, date)?;
                            10.0
                        }
                        Cell::Number(n) => {
                            sheet.write_number(row, c, *n as f64)?;
                            numeral_width(n.unsigned_abs(), *n < 0)
                        }
                        // Fen to yuan: exact in a double up to 2⁵³ fen.
                        Cell::Yuan(fen) => {
                            sheet.write_number_with_format(row, c, *fen as f64 / 100.0, yuan)?;
                            // As `money::yuan` writes it: the whole yuan, a point and the fen.
                            numeral_width(fen.unsigned_abs() / 100, *fen < 0) + 3.0 + 2.0
                        }
                        Cell::Empty => 0.0,
                    };
                    if let Some(w) = widths.get_mut(col) {
                        *w = w.max(width + 1.0);
                    }
                }
            }
            Out::Csv(csv) => {
                let Csv { writer, cell } = csv.as_mut();
                for value in cells {
                    cell.clear();
                    match value {
                        Cell::Text(text) => csv_text(cell, text),
                        // Writing into a `String` does not fail.
                        Cell::Date(day) => drop(write!(cell, "{day}")),
                        Cell::Number(n) => drop(write!(cell, "{n}")),
                        Cell::Yuan(fen) => money::write_yuan(cell, *fen),
                        Cell::Empty => {}
                    }
                    writer.write_field(cell.as_bytes())?;
                }
                writer.write_record(None::<&[u8]>)?;
            }
        }
        Ok(())
    }

    /// The table, complete, in an unnamed temporary file (read from its start).
    pub fn finish(self) -> Result<File, DocumentError> {
        let mut file = match self.out {
            Out::Xlsx(xlsx) => {
                let Sheet { mut workbook, widths, rows, .. } = *xlsx;
                for (index, rows) in rows.into_iter().enumerate() {
                    let sheet = workbook.worksheet_from_index(index)?;
                    for (col, width) in widths.iter().enumerate() {
                        sheet.set_column_width(col as u16, width.min(MAX_WIDTH))?;
                    }
                    let last_col = widths.len().saturating_sub(1) as u16;
                    sheet.set_freeze_panes(1, 0)?;
                    sheet.autofilter(0, 0, rows, last_col)?;
                }
                let mut file = BufWriter::with_capacity(WRITTEN_AT_ONCE, tempfile::tempfile()?);
                workbook.save_to_writer(&mut file)?;
                file.into_inner().map_err(|e| DocumentError::Write(e.into_error().to_string()))?
            }
            Out::Csv(csv) => csv
                .writer
                .into_inner()
                .map_err(|e| DocumentError::Write(e.to_string()))?
                .into_inner()
                .map_err(|e| DocumentError::Write(e.into_error().to_string()))?,
        };
        file.rewind()?;
        Ok(file)
    }
}

/// Text as a CSV cell, written into `cell`: one that a spreadsheet would take for a
/// formula (`=`, `+`, `-`, `@` first) is kept as text by a leading apostrophe.
fn csv_text(cell: &mut String, text: &str) {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    cell.push_str(text);
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn table(writer: impl Fn(&Heading<'_>) -> Result<TableWriter, DocumentError>) -> Vec<u8> {
        rows(writer, "台账 2026年", 1)
    }

    /// A table named `sheet` of `count` rows, as `writer` writes it.
    fn rows(writer: impl Fn(&Heading<'_>) -> Result<TableWriter, DocumentError>, sheet: &str, count: i64) -> Vec<u8> {
        let headers = vec!["序号".to_owned(), "当事人".to_owned(), "移送日期".to_owned(), "救助金额（元）".to_owned()];
        let made_at = "2026-11-02T09:00:00".parse().unwrap();
        let heading = Heading { title: "台账", sheet, headers: &headers, made_at };
        let mut table = writer(&heading).unwrap();
        for n in 1..=count {
            table
                .row(&[
                    Cell::Number(n),
                    Cell::Text("李某，\"小李\"".into()),
                    Cell::Date("2026-02-03".parse().unwrap()),
                    Cell::Yuan(123_450),
                ])
                .unwrap();
        }
        let mut bytes = Vec::new();
        table.finish().unwrap().read_to_end(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn csv_starts_with_the_mark_excel_needs_and_quotes_what_must_be() {
        let text = String::from_utf8(table(TableWriter::csv)).unwrap();
        assert_eq!(text, "\u{feff}序号,当事人,移送日期,救助金额（元）\n1,\"李某，\"\"小李\"\"\",2026-02-03,1234.50\n");
    }

    #[test]
    fn a_numbers_width_is_that_of_its_text() {
        for n in [0_i64, 7, -7, 10, 99, 100, -12_345, i64::MAX, i64::MIN] {
            assert_eq!(numeral_width(n.unsigned_abs(), n < 0), display_width(&n.to_string()), "{n}");
        }
        for fen in [0_i64, 5, -5, 123_450, -99_999_999] {
            let yuan = numeral_width(fen.unsigned_abs() / 100, fen < 0) + 3.0;
            assert_eq!(yuan, display_width(&money::yuan(fen)), "{fen}");
        }
    }

    #[test]
    fn text_that_looks_like_a_formula_stays_text() {
        let cell = |text: &str| {
            let mut cell = String::new();
            csv_text(&mut cell, text);
            cell
        };
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("李某"), "李某");
    }

    #[test]
    fn an_xlsx_is_a_workbook_with_its_sheet_its_widths_and_its_filter() {
        let parts = super::super::archive::entries(&table(TableWriter::xlsx)).unwrap();
        let part = |name: &str| String::from_utf8_lossy(&parts.iter().find(|(n, _)| n == name).unwrap().1).into_owned();
        assert!(part("xl/workbook.xml").contains("台账 2026年"));
        assert!(part("docProps/core.xml").contains("2026-11-02T09:00:00Z"), "made at the hub's time");
        let sheet = part("xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<cols>") && sheet.contains("<autoFilter ref=\"A1:D2\"/>"), "{sheet}");
        assert!(sheet.contains("李某") && sheet.contains("1234.5"), "{sheet}");
    }

    #[test]
    fn rows_beyond_what_a_sheet_holds_go_on_the_next_sheet_under_the_same_headers() {
        let parts =
            super::super::archive::entries(&rows(|h| TableWriter::xlsx_of_sheets(h, 2), "台账 2026年", 5)).unwrap();
        let part = |name: &str| String::from_utf8_lossy(&parts.iter().find(|(n, _)| n == name).unwrap().1).into_owned();
        let workbook = part("xl/workbook.xml");
        assert!(
            ["台账 2026年\"", "台账 2026年 (2)\"", "台账 2026年 (3)\""].iter().all(|s| workbook.contains(s)),
            "{workbook}"
        );
        for (sheet, filter, first) in [(1, "A1:D3", 1), (2, "A1:D3", 3), (3, "A1:D2", 5)] {
            let xml = part(&format!("xl/worksheets/sheet{sheet}.xml"));
            assert!(xml.contains(&format!("<autoFilter ref=\"{filter}\"/>")), "{xml}");
            assert!(xml.contains("序号") && xml.contains(&format!("<c r=\"A2\"><v>{first}</v>")), "{xml}");
        }
        assert!(!parts.iter().any(|(n, _)| n == "xl/worksheets/sheet4.xml"));
        // A name too long for its number is shortened to Excel's 31 characters.
        let long = "台账".repeat(15) + "年";
        let parts = super::super::archive::entries(&rows(|h| TableWriter::xlsx_of_sheets(h, 1), &long, 2)).unwrap();
        let workbook =
            String::from_utf8_lossy(&parts.iter().find(|(n, _)| n == "xl/workbook.xml").unwrap().1).into_owned();
        let second = "台账".repeat(13) + "台 (2)";
        assert!(workbook.contains(&format!("name=\"{second}\"")), "{workbook}");
    }
}
