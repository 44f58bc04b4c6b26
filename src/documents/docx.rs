//! The letter as a DOCX file, filled in from a template: a DOCX whose text holds
//! placeholders in double braces (`{{文号}}`). A county edits the template in Word or
//! WPS — fonts, margins, its own header lines — and the hub fills in each letter.
//!
//! Word splits text into runs as it is edited, so a placeholder may be spread over
//! several runs. The template is therefore read a paragraph at a time: a paragraph whose
//! text holds a placeholder is written again as one run, with the paragraph's own
//! properties and the character properties of its first run. A placeholder with
//! several values (the body's paragraphs, the list of attachments) repeats its
//! paragraph once per value; with none, its paragraph is left out.

use super::{archive, archive::Archive, DocumentError};
use crate::domain::{letter::Letter, report::Report};

/// The shipped template's parts, laid out after GB/T 9704-2012 (page numbers 「— 1 —」
/// at the foot, odd pages right and even pages left, §7.5).
const SHIPPED: [(&str, &str); 8] = [
    ("[Content_Types].xml", include_str!("../../templates/letter/[Content_Types].xml")),
    ("_rels/.rels", include_str!("../../templates/letter/_rels/.rels")),
    ("word/_rels/document.xml.rels", include_str!("../../templates/letter/word/_rels/document.xml.rels")),
    ("word/styles.xml", include_str!("../../templates/letter/word/styles.xml")),
    ("word/document.xml", include_str!("../../templates/letter/word/document.xml")),
    ("word/settings.xml", include_str!("../../templates/letter/word/settings.xml")),
    ("word/footer1.xml", include_str!("../../templates/letter/word/footer1.xml")),
    ("word/footer2.xml", include_str!("../../templates/letter/word/footer2.xml")),
];

/// Placeholders a template must hold: without them a letter would not say what it is.
const REQUIRED: [&str; 4] = ["文号", "标题", "主送机关", "正文"];

const DOCUMENT: &str = "word/document.xml";

/// A letter's document smaller than this is stored, not deflated: a deflater sets up
/// some 256 KiB of state, zeroed, to save two KiB or so of a letter (the template's
/// other parts are deflated once, in its [`Frame`]). Measured in docs/benchmarks.md,
/// "A submit's letter stored, its statements' texts kept".
const DEFLATED_FROM: usize = 16 << 10;

/// The shipped template as a DOCX file, for a county to start its own from.
pub fn shipped_template() -> Vec<u8> {
    let mut archive = Archive::new(chrono::NaiveDateTime::default());
    for (name, text) in SHIPPED {
        archive.add(name, text.as_bytes(), true).expect("writing to memory");
    }
    archive.finish().expect("writing to memory")
}

/// Checks that `template` is a DOCX file the hub can fill in with every letter: it opens,
/// every placeholder it holds is known, and it holds those no letter goes without.
pub fn check(template: &[u8]) -> Result<(), DocumentError> {
    let parts = archive::entries(template).map_err(|e| DocumentError::Template(format!("not a DOCX file: {e}")))?;
    let Some((_, document)) = parts.iter().find(|(name, _)| name == DOCUMENT) else {
        return Err(DocumentError::Template(format!("no {DOCUMENT}: not a DOCX file")));
    };
    let xml = std::str::from_utf8(document).map_err(|_| DocumentError::Template(format!("{DOCUMENT} is not UTF-8")))?;
    let sample = Letter {
        issuer: String::new(),
        number: String::new(),
        title: String::new(),
        addressee: String::new(),
        body: vec![String::new()],
        attachments: vec![String::new()],
        signature: String::new(),
        date: String::new(),
        contact: String::new(),
    };
    let document = Document::of(xml)?;
    filled_in(&document, &sample.fields())?;
    // Only the paragraphs that hold a placeholder can hold the required ones.
    let text: String = document
        .pieces
        .iter()
        .filter_map(|piece| match piece {
            Piece::Placeholder(placeholder) => Some(placeholder.text.as_str()),
            Piece::Fixed(_) => None,
        })
        .collect();
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|name| !text.contains(&format!("{{{{{name}}}}}")))
        .map(|n| format!("{{{{{n}}}}}"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DocumentError::Template(format!("it lacks the placeholders {}", missing.join(" "))))
    }
}

/// Fills `template` (a DOCX file; the shipped one when `None`) in with `letter`.
pub fn render(template: Option<&[u8]>, letter: &Letter, at: chrono::NaiveDateTime) -> Result<Vec<u8>, DocumentError> {
    written(template, letter, "", at)
}

/// The 通报 on the shipped template: its letter, then on a page of its own the 附件, the
/// figures' table with its heading row repeated on every page.
pub fn report(report: &Report, at: chrono::NaiveDateTime) -> Result<Vec<u8>, DocumentError> {
    written(None, &report.letter, &annex(report), at)
}

/// `template` filled in with `letter`, and `annex` (WordprocessingML) at the end of
/// the body.
fn written(
    template: Option<&[u8]>,
    letter: &Letter,
    annex: &str,
    at: chrono::NaiveDateTime,
) -> Result<Vec<u8>, DocumentError> {
    let frame = Frame::of(template)?;
    let fields = letter.fields();
    let mut xml = fitted(filled_in(&frame.document, &fields)?, &letter.issuer);
    let end = xml.rfind("<w:sectPr").or_else(|| xml.rfind("</w:body>")).unwrap_or(xml.len());
    xml.insert_str(end, annex);
    let mut out = Archive::new(at);
    out.copy(&frame.parts, |i, out| {
        if i == frame.document_at {
            out.add(DOCUMENT, xml.as_bytes(), xml.len() >= DEFLATED_FROM)
        } else {
            Ok(())
        }
    })?;
    out.finish()
}

/// A template made ready once for every letter written with it: its parts but the
/// document, compressed as a zip archive (copied into each letter as they are), and
/// the document's XML with where it stood among them. Deflating the same styles and
/// footers again for every letter was a sixth of the hub's work on a submit.
struct Frame {
    parts: Vec<u8>,
    document: Document,
    document_at: usize,
}

/// The templates made ready, newest last, by the SHA-256 of their file (the shipped
/// one's key is all zeroes): a county has one, and keeps the last good one when it
/// changes.
static FRAMES: std::sync::Mutex<Vec<([u8; 32], std::sync::Arc<Frame>)>> = std::sync::Mutex::new(Vec::new());

impl Frame {
    fn of(template: Option<&[u8]>) -> Result<std::sync::Arc<Frame>, DocumentError> {
        use sha2::Digest;
        let key: [u8; 32] = template.map_or([0; 32], |bytes| sha2::Sha256::digest(bytes).into());
        let frames = || FRAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, frame)) = frames().iter().find(|(k, _)| *k == key) {
            return Ok(frame.clone());
        }
        let frame = std::sync::Arc::new(Frame::new(template)?);
        let mut frames = frames();
        if frames.len() >= 4 {
            frames.remove(0);
        }
        frames.push((key, frame.clone()));
        Ok(frame)
    }

    fn new(template: Option<&[u8]>) -> Result<Frame, DocumentError> {
        let parts = match template {
            Some(bytes) => archive::entries(bytes)?,
            None => SHIPPED.iter().map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec())).collect(),
        };
        let document_at = parts
            .iter()
            .position(|(name, _)| name == DOCUMENT)
            .ok_or_else(|| DocumentError::Template(format!("no {DOCUMENT}: not a DOCX file")))?;
        let mut archive = Archive::new(chrono::NaiveDateTime::default());
        let mut document = String::new();
        for (name, bytes) in parts {
            if name == DOCUMENT {
                document = String::from_utf8(bytes)
                    .map_err(|_| DocumentError::Template(format!("{DOCUMENT} is not UTF-8")))?;
            } else {
                archive.add(&name, &bytes, true)?;
            }
        }
        Ok(Frame { parts: archive.finish()?, document: Document::of(&document)?, document_at })
    }
}

/// A template's document cut once into what every letter copies as it stands and the
/// paragraphs that hold a placeholder, so that a letter is written without reading the
/// template's XML again.
struct Document {
    pieces: Vec<Piece>,
    /// The XML's length: the letter's is about as long.
    len: usize,
}

enum Piece {
    Fixed(String),
    Placeholder(Placeholder),
}

/// A paragraph that holds a placeholder: the parts of it its filled-in copies keep.
struct Placeholder {
    /// Its start tag, `<w:p …>`.
    open: String,
    /// Its `w:pPr`, if any.
    properties: String,
    /// The `w:rPr` of its first run with text, if any.
    run_properties: String,
    text: String,
}

impl Document {
    fn of(xml: &str) -> Result<Self, DocumentError> {
        let mut pieces = Vec::new();
        let mut fixed = String::new();
        let mut rest = xml;
        while let Some(start) = paragraph_start(rest) {
            fixed.push_str(&rest[..start]);
            let tail = &rest[start..];
            let end =
                paragraph_end(tail).ok_or_else(|| DocumentError::Template("a paragraph (w:p) is not closed".into()))?;
            let paragraph = &tail[..end];
            let text = text_of(paragraph);
            if text.contains("{{") {
                pieces.push(Piece::Fixed(std::mem::take(&mut fixed)));
                pieces.push(Piece::Placeholder(Placeholder::of(paragraph, text)));
            } else {
                fixed.push_str(paragraph);
            }
            rest = &tail[end..];
        }
        fixed.push_str(rest);
        pieces.push(Piece::Fixed(fixed));
        Ok(Document { pieces, len: xml.len() })
    }
}

/// `document` with its placeholders filled in from `fields`.
fn filled_in(document: &Document, fields: &[(&str, Vec<String>)]) -> Result<String, DocumentError> {
    let mut out = String::with_capacity(document.len * 2);
    for piece in &document.pieces {
        match piece {
            Piece::Fixed(xml) => out.push_str(xml),
            Piece::Placeholder(placeholder) => placeholder.fill(fields, &mut out)?,
        }
    }
    Ok(out)
}

/// Where the next paragraph starts: `<w:p>` or `<w:p …>` (not `<w:pPr>` and the like).
fn paragraph_start(xml: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = xml[from..].find("<w:p") {
        let at = from + i;
        if matches!(xml.as_bytes().get(at + 4), Some(b'>' | b' ' | b'/')) {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// The length of the paragraph at the start of `xml`, through its end tag.
fn paragraph_end(xml: &str) -> Option<usize> {
    let open_end = xml.find('>')?;
    if xml[..open_end].ends_with('/') {
        return Some(open_end + 1);
    }
    xml.find("</w:p>").map(|i| i + "</w:p>".len())
}

/// The text of a paragraph: its `w:t` elements' content, unescaped.
fn text_of(paragraph: &str) -> String {
    let mut text = String::new();
    let mut rest = paragraph;
    while let Some(i) = rest.find("<w:t") {
        let after = &rest[i + 4..];
        // `<w:t>` or `<w:t xml:space=…>`, not `<w:tab/>` or `<w:tbl>`.
        if !matches!(after.as_bytes().first(), Some(b'>' | b' ')) {
            rest = after;
            continue;
        }
        let Some(open) = after.find('>') else { break };
        if after[..open].ends_with('/') {
            rest = &after[open + 1..];
            continue;
        }
        let body = &after[open + 1..];
        let Some(close) = body.find("</w:t>") else { break };
        text.push_str(&unescape(&body[..close]));
        rest = &body[close..];
    }
    text
}

/// The element `<tag>…</tag>` (or `<tag …>`) first found in `xml`, whole.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}");
    let mut from = 0;
    loop {
        let at = from + xml[from..].find(&open)?;
        let next = xml.as_bytes().get(at + open.len());
        if !matches!(next, Some(b'>' | b' ' | b'/')) {
            from = at + open.len();
            continue;
        }
        let open_end = at + xml[at..].find('>')?;
        if xml[..open_end].ends_with('/') {
            return Some(&xml[at..=open_end]);
        }
        let close = format!("</{tag}>");
        let end = open_end + xml[open_end..].find(&close)? + close.len();
        return Some(&xml[at..end]);
    }
}

impl Placeholder {
    fn of(paragraph: &str, text: String) -> Self {
        let open = &paragraph[..paragraph.find('>').map_or(0, |i| i + 1)];
        let properties = element(paragraph, "w:pPr").unwrap_or_default();
        let run_properties = paragraph
            .match_indices("<w:r")
            .filter_map(|(i, _)| element(&paragraph[i..], "w:r"))
            .find(|run| run.contains("<w:t"))
            .and_then(|run| element(run, "w:rPr"))
            .unwrap_or_default();
        Placeholder {
            open: open.to_owned(),
            properties: properties.to_owned(),
            run_properties: run_properties.to_owned(),
            text,
        }
    }

    /// The paragraph written again to `out` with its placeholders filled in: once per
    /// value of its placeholder with several values, not at all for one with none.
    fn fill(&self, fields: &[(&str, Vec<String>)], out: &mut String) -> Result<(), DocumentError> {
        let mut lines: Vec<String> = vec![self.text.clone()];
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else { break };
            let name = &rest[start + 2..start + len];
            let placeholder = &rest[start..start + len + 2];
            let values = fields
                .iter()
                .find(|(field, _)| *field == name.trim())
                .map(|(_, values)| values)
                .ok_or_else(|| DocumentError::Template(format!("unknown placeholder {placeholder}")))?;
            lines = match values.len() {
                0 => return Ok(()),
                1 => lines.iter().map(|line| line.replace(placeholder, &values[0])).collect(),
                _ if lines.len() == 1 => values.iter().map(|value| lines[0].replace(placeholder, value)).collect(),
                _ => return Err(DocumentError::Template("a paragraph with two placeholders of several values".into())),
            };
            rest = &rest[start + len + 2..];
        }
        for line in &lines {
            let Placeholder { open, properties, run_properties, .. } = self;
            out.push_str(open);
            out.push_str(properties);
            out.push_str("<w:r>");
            out.push_str(run_properties);
            out.push_str("<w:t xml:space=\"preserve\">");
            escape_into(out, line);
            out.push_str("</w:t></w:r></w:p>");
        }
        Ok(())
    }
}

/// The shipped template's 发文机关标志 made smaller when the issuer's name would not fit
/// on one line at its size (GB/T 9704 §7.2.1: no wider than the text); another
/// template's stays as its county made it.
fn fitted(xml: String, issuer: &str) -> String {
    const SHIPPED_SIZE: &str = "<w:sz w:val=\"72\"/><w:szCs w:val=\"72\"/>";
    // Half-points per character that fill the line, less the letter spacing.
    let chars = issuer.chars().count().max(1) as u32;
    let fits = (TEXT_WIDTH / 10 / chars).saturating_sub(2);
    if fits >= 72 {
        return xml;
    }
    let size = fits.max(28);
    xml.replacen(SHIPPED_SIZE, &format!("<w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/>"), 1)
}

/// The width of the shipped template's text, in twentieths of a point: A4 less its margins.
const TEXT_WIDTH: u32 = 11906 - 1588 - 1474;

/// The report's 附件: a page break, 「附件」, the table's title and the table, the
/// figures right-aligned, a row of its own for each section.
fn annex(report: &Report) -> String {
    let widths = [TEXT_WIDTH - 3 * 1700, 1700, 1700, 1700];
    let cell = |text: &str, width: u32, right: bool, bold: bool| {
        format!(
            "<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/></w:tcPr><w:p><w:pPr><w:spacing w:line=\"320\" \
             w:lineRule=\"exact\"/>{}</w:pPr><w:r><w:rPr>{}<w:sz w:val=\"24\"/><w:szCs w:val=\"24\"/></w:rPr>\
             <w:t xml:space=\"preserve\">{}</w:t></w:r></w:p></w:tc>",
            if right { "<w:jc w:val=\"right\"/>" } else { "" },
            if bold { "<w:b/><w:rFonts w:eastAsia=\"黑体\"/>" } else { "" },
            escape(text)
        )
    };
    let [this, before] = &report.periods;
    let mut rows = format!(
        "<w:tr><w:trPr><w:tblHeader/></w:trPr>{}{}{}{}</w:tr>",
        cell("指标", widths[0], false, true),
        cell(this, widths[1], true, true),
        cell(before, widths[2], true, true),
        cell("同比", widths[3], true, true)
    );
    let mut section = "";
    for line in &report.lines {
        if line.section != section {
            section = line.section;
            rows.push_str(&format!(
                "<w:tr><w:tc><w:tcPr><w:tcW w:w=\"{TEXT_WIDTH}\" w:type=\"dxa\"/><w:gridSpan w:val=\"4\"/>\
                 <w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"F2F2F2\"/></w:tcPr><w:p><w:r><w:rPr>\
                 <w:rFonts w:eastAsia=\"黑体\"/><w:sz w:val=\"24\"/></w:rPr><w:t>{}</w:t></w:r></w:p></w:tc></w:tr>",
                escape(section)
            ));
        }
        rows.push_str(&format!(
            "<w:tr>{}{}{}{}</w:tr>",
            cell(&line.label, widths[0], false, false),
            cell(&line.this.text(), widths[1], true, false),
            cell(&line.before.text(), widths[2], true, false),
            cell(&line.change_text(), widths[3], true, false)
        ));
    }
    let border = |side: &str| format!("<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>");
    format!(
        "<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>\
         <w:p><w:r><w:rPr><w:rFonts w:eastAsia=\"黑体\"/></w:rPr><w:t>附件</w:t></w:r></w:p>\
         <w:p><w:pPr><w:spacing w:before=\"240\" w:after=\"240\"/><w:jc w:val=\"center\"/></w:pPr><w:r><w:rPr>\
         <w:rFonts w:eastAsia=\"方正小标宋简体\"/><w:sz w:val=\"36\"/><w:szCs w:val=\"36\"/></w:rPr><w:t>{}</w:t></w:r></w:p>\
         <w:tbl><w:tblPr><w:tblW w:w=\"{TEXT_WIDTH}\" w:type=\"dxa\"/><w:tblBorders>{}{}{}{}{}{}</w:tblBorders>\
         <w:tblLayout w:type=\"fixed\"/><w:tblCellMar><w:left w:w=\"80\" w:type=\"dxa\"/><w:right w:w=\"80\" \
         w:type=\"dxa\"/></w:tblCellMar></w:tblPr><w:tblGrid>{}</w:tblGrid>{rows}</w:tbl><w:p/>",
        escape(&report.table_title),
        border("top"),
        border("left"),
        border("bottom"),
        border("right"),
        border("insideH"),
        border("insideV"),
        widths.iter().map(|w| format!("<w:gridCol w:w=\"{w}\"/>")).collect::<String>(),
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// `text` with `&`, `<`, `>` and `"` escaped, added to `out`.
fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document's XML with every paragraph holding a placeholder filled in.
    fn fill(xml: &str, fields: &[(&str, Vec<String>)]) -> Result<String, DocumentError> {
        filled_in(&Document::of(xml)?, fields)
    }

    fn letter() -> Letter {
        Letter {
            issuer: "晋江市人民检察院".into(),
            number: "晋检八部社救移〔2026〕12号".into(),
            title: "社会救助移送函".into(),
            addressee: "晋江市民政局：".into(),
            body: vec!["第一段 <甲> & 乙".into(), "第二段".into()],
            attachments: vec![],
            signature: "晋江市人民检察院".into(),
            date: "2026年11月2日".into(),
            contact: "（联系人：李明，联系电话：0595-85601234）".into(),
        }
    }

    #[test]
    fn placeholders_split_over_runs_are_filled_in_with_the_first_runs_format() {
        let xml = "<w:body><w:p w:rsidR=\"1\"><w:pPr><w:jc w:val=\"center\"/></w:pPr>\
            <w:r><w:rPr><w:b/></w:rPr><w:t>文号：{{</w:t></w:r><w:proofErr/><w:r><w:t>文号}}</w:t></w:r></w:p>\
            <w:p><w:r><w:t xml:space=\"preserve\">no field</w:t></w:r></w:p><w:p/></w:body>";
        let filled = fill(xml, &letter().fields()).unwrap();
        assert_eq!(
            filled,
            "<w:body><w:p w:rsidR=\"1\"><w:pPr><w:jc w:val=\"center\"/></w:pPr><w:r><w:rPr><w:b/></w:rPr>\
             <w:t xml:space=\"preserve\">文号：晋检八部社救移〔2026〕12号</w:t></w:r></w:p>\
             <w:p><w:r><w:t xml:space=\"preserve\">no field</w:t></w:r></w:p><w:p/></w:body>"
        );
    }

    #[test]
    fn a_field_of_several_values_repeats_its_paragraph_and_one_of_none_drops_it() {
        let xml = "<w:p><w:r><w:t>{{正文}}</w:t></w:r></w:p><w:p><w:r><w:t>{{附件}}</w:t></w:r></w:p>";
        let filled = fill(xml, &letter().fields()).unwrap();
        assert_eq!(
            filled,
            "<w:p><w:r><w:t xml:space=\"preserve\">第一段 &lt;甲&gt; &amp; 乙</w:t></w:r></w:p>\
             <w:p><w:r><w:t xml:space=\"preserve\">第二段</w:t></w:r></w:p>"
        );
    }

    #[test]
    fn an_unknown_placeholder_or_a_broken_template_is_named() {
        let unknown = fill("<w:p><w:r><w:t>{{签发人}}</w:t></w:r></w:p>", &letter().fields());
        assert!(matches!(unknown, Err(DocumentError::Template(m)) if m.contains("{{签发人}}")));
        assert!(render(Some(b"not a zip"), &letter(), chrono::NaiveDateTime::default()).is_err());
    }

    #[test]
    fn a_template_is_checked_before_any_letter_is_written_with_it() {
        assert!(check(&shipped_template()).is_ok());
        let error = |bytes: &[u8]| match check(bytes) {
            Err(DocumentError::Template(why)) => why,
            other => panic!("{other:?}"),
        };
        assert!(error(b"not a zip").starts_with("not a DOCX file"));
        let with = |xml: &str| {
            let mut archive = Archive::new(chrono::NaiveDateTime::default());
            archive.add(DOCUMENT, xml.as_bytes(), true).unwrap();
            archive.finish().unwrap()
        };
        assert!(error(&with("<w:p><w:r><w:t>{{签发人}}</w:t></w:r></w:p>")).contains("{{签发人}}"));
        let without_body = with("<w:p><w:r><w:t>{{文号}}{{标题}}{{主送机关}}</w:t></w:r></w:p>");
        assert_eq!(error(&without_body), "it lacks the placeholders {{正文}}");
        assert!(check(&with(
            "<w:p><w:r><w:t>{{文号}}{{标题}}{{主送机关}}</w:t></w:r></w:p><w:p><w:r><w:t>{{正文}}</w:t></w:r></w:p>"
        ))
        .is_ok());
    }

    #[test]
    fn the_shipped_template_renders_a_docx_with_every_field() {
        let bytes = render(Some(&shipped_template()), &letter(), chrono::NaiveDateTime::default()).unwrap();
        let parts = archive::entries(&bytes).unwrap();
        let document = parts.iter().find(|(name, _)| name == DOCUMENT).unwrap();
        let text = String::from_utf8(document.1.clone()).unwrap();
        for expected in [
            "晋检八部社救移〔2026〕12号",
            "社会救助移送函",
            "晋江市民政局：",
            "第二段",
            "2026年11月2日",
            "联系人：李明",
        ] {
            assert!(text.contains(expected), "{expected} missing");
        }
        assert!(!text.contains("{{"));
        let footer = parts.iter().find(|(name, _)| name == "word/footer1.xml").unwrap();
        assert!(String::from_utf8_lossy(&footer.1).contains(" PAGE "), "page numbers at the foot");
    }

    #[test]
    fn a_letters_document_is_stored_and_a_long_one_deflated() {
        let method = |letter: &Letter| {
            let bytes = render(None, letter, chrono::NaiveDateTime::default()).unwrap();
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            let document = zip.by_name(DOCUMENT).unwrap();
            (document.compression(), document.size())
        };
        let (short, size) = method(&letter());
        assert_eq!(short, zip::CompressionMethod::Stored, "{size} bytes");
        let long = Letter { body: vec!["救助".repeat(3000)], ..letter() };
        let (long, size) = method(&long);
        assert_eq!(long, zip::CompressionMethod::Deflated, "{size} bytes");
    }
}
