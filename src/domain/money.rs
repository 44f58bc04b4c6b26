//! Money as the hub keeps it: whole fen (分), never floating point; typed and shown in
//! yuan (元) with at most two decimals.

use super::date::half_width;
use super::rule::Rule;
use super::FieldViolation;

/// Yuan as people type them (`1234`, `1234.5`, `0.05`, `3000元`, `¥3,000`, full-width
/// digits) in fen; blank is none (0). Signs, exponents, misplaced separators and a
/// third decimal are refused by `field`'s name.
pub fn parse_yuan(field: &str, raw: &str) -> Result<i64, FieldViolation> {
    let bad = || FieldViolation::new(field, Rule::Yuan);
    let typed: String = raw.trim().chars().map(half_width).collect();
    let typed = typed.trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
    if typed.is_empty() {
        return Ok(0);
    }
    let plain = without_thousands(typed).ok_or_else(bad)?;
    let raw = plain.as_str();
    let (yuan, decimals) = match raw.split_once('.') {
        Some((_, "")) => return Err(bad()),
        Some(parts) => parts,
        None => (raw, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(yuan) || decimals.len() > 2 || (!decimals.is_empty() && !digits(decimals)) {
        return Err(bad());
    }
    let cents: i64 = format!("{decimals:0<2}").parse().map_err(|_| bad())?;
    Ok(yuan.parse::<i64>().map_err(|_| bad())? * 100 + cents)
}

/// `3,000.50` as `3000.50`: commas only between groups of three digits, before any
/// decimals; `None` when they stand elsewhere.
fn without_thousands(typed: &str) -> Option<String> {
    let (whole, decimals) = typed.split_once('.').map_or((typed, None), |(w, d)| (w, Some(d)));
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    grouped.then(|| match decimals {
        Some(d) => format!("{}.{d}", groups.concat()),
        None => groups.concat(),
    })
}

/// Fen as yuan with two decimals: `1234.50`.
pub fn yuan(fen: i64) -> String {
    let mut text = String::new();
    write_yuan(&mut text, fen);
    text
}

/// [`yuan`], written onto the end of `out`.
pub fn write_yuan(out: &mut String, fen: i64) {
    use std::fmt::Write;
    let sign = if fen < 0 { "-" } else { "" };
    // Writing into a `String` does not fail.
    let _ = write!(out, "{sign}{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_are_read_as_whole_fen_and_written_back() {
        assert_eq!(parse_yuan("amount", ""), Ok(0));
        assert_eq!(parse_yuan("amount", "1234"), Ok(123_400));
        assert_eq!(parse_yuan("amount", "1234.5"), Ok(123_450));
        assert_eq!(parse_yuan("amount", "0.05"), Ok(5));
        for (typed, fen) in
            [("3000元", 300_000), ("¥3,000", 300_000), ("３０００．５", 300_050), ("1,234,567.89 元", 123_456_789)]
        {
            assert_eq!(parse_yuan("amount", typed), Ok(fen), "{typed}");
        }
        for bad in ["1.234", "-5", "1e3", "abc", ".5", "1.", "12,00", ",300", "1,2345", "1234567890123", "三千元"] {
            assert_eq!(parse_yuan("amount", bad).unwrap_err().field, "amount", "{bad}");
        }
        assert_eq!(yuan(123_450), "1234.50");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-5), "-0.05");
    }
}
