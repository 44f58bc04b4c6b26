//! 救助对象 — the person referred, and the resident ID number that identifies them.
//!
//! All of it is sensitive personal information (Art. 24): `Debug` never prints it, so
//! it cannot reach a log by accident.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::{FieldViolation, Violations};
use super::rule::Rule;

/// 居民身份证号码 — an 18-character resident ID number whose check digit agrees with
/// GB 11643-1999 and whose birth date is a real date. Stored with an upper-case `X`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

impl IdNumber {
    pub fn parse(raw: &str) -> Result<Self, Rule> {
        let id = raw.trim().to_ascii_uppercase();
        let bytes = id.as_bytes();
        if bytes.len() != 18 {
            return Err(Rule::IdLength { count: id.chars().count() });
        }
        if !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(Rule::IdDigits);
        }
        let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| Rule::IdBirthDate)?;
        if chrono::Datelike::year(&birth) < 1900 {
            return Err(Rule::IdBefore1900);
        }
        if bytes[17] != check_char(&bytes[..17]) {
            return Err(Rule::IdCheckDigit);
        }
        Ok(Self(id))
    }

    /// The number made of 17 digits and the check digit GB 11643 gives them.
    pub fn completing(digits: &str) -> Result<Self, Rule> {
        if digits.len() != 17 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Rule::IdSeventeenDigits);
        }
        Self::parse(&format!("{digits}{}", check_char(digits.as_bytes()) as char))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 3505**********1234: the region's first four digits and the last four.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }
}

fn check_char(digits: &[u8]) -> u8 {
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(digit, weight)| u32::from(digit - b'0') * weight).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl TryFrom<String> for IdNumber {
    type Error = Rule;
    fn try_from(raw: String) -> Result<Self, Rule> {
        Self::parse(&raw)
    }
}

impl From<IdNumber> for String {
    fn from(id: IdNumber) -> String {
        id.0
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdNumber(<redacted>)")
    }
}

/// The person a referral is about.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: String,
    pub address: String,
    pub household: String,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Person(<redacted>)")
    }
}

/// The person as a client sent it, before parsing.
pub struct PersonInput<'a> {
    pub name: &'a str,
    pub id_number: &'a str,
    pub phone: &'a str,
    pub address: &'a str,
    pub household: &'a str,
}

impl Person {
    /// Parses every field, recording each one at fault under `prefix`.
    pub fn parse(input: PersonInput<'_>, prefix: &str, v: &mut Violations) -> Option<Self> {
        let field = |name: &str| format!("{prefix}.{name}");
        let name = v.check(text(&field("name"), input.name, 1, 64));
        let id_number =
            v.check(IdNumber::parse(input.id_number).map_err(|rule| FieldViolation::new(field("id_number"), rule)));
        let phone = v.check(phone(&field("phone"), input.phone));
        let address = v.check(text(&field("address"), input.address, 0, 200));
        let household = v.check(text(&field("household"), input.household, 0, 2000));
        Some(Self { name: name?, id_number: id_number?, phone: phone?, address: address?, household: household? })
    }
}

/// The person as the joint-meeting office sees them: enough to tell cases apart in a
/// meeting, not enough to find the person (张*, 3505**********1234, 138****5678).
#[derive(Clone, PartialEq, Eq)]
pub struct MaskedPerson {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
}

impl Person {
    pub fn masked(&self) -> MaskedPerson {
        MaskedPerson {
            name: mask_name(&self.name),
            id_number: self.id_number.masked(),
            phone: mask_phone(&self.phone),
            address: mask_address(&self.address),
        }
    }
}

/// 张*: the first character (the surname, mostly), a star for each other.
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|first| std::iter::once(first).chain(chars.map(|_| '*')).collect()).unwrap_or_default()
}

/// 138****5678: the first three and last four characters of a long number; short ones
/// are starred whole.
fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 11 {
        return "*".repeat(chars.len());
    }
    let middle = "*".repeat(chars.len() - 7);
    format!("{}{middle}{}", chars[..3].iter().collect::<String>(), chars[chars.len() - 4..].iter().collect::<String>())
}

/// The characters that end the name of a division down to the county (省, 自治区, 市,
/// 州, 盟, 县, 区, 旗).
const DIVISION_ENDS: [char; 7] = ['省', '市', '州', '盟', '县', '区', '旗'];
/// Longest name of one division level (新疆维吾尔自治区).
const DIVISION_NAME: usize = 8;

/// The administrative divisions the address starts with, down to the county (福建省晋江市),
/// then `***`; never more than half of the address, and nothing of a street, a
/// building or a number.
fn mask_address(address: &str) -> String {
    if address.is_empty() {
        return String::new();
    }
    let chars: Vec<char> = address.chars().collect();
    let mut kept = 0;
    for _ in 0..3 {
        let level = chars[kept..].iter().take(DIVISION_NAME).position(|c| DIVISION_ENDS.contains(c));
        match level {
            Some(end) if end > 0 && 2 * (kept + end + 1) <= chars.len() => kept += end + 1,
            _ => break,
        }
    }
    format!("{}***", chars[..kept].iter().collect::<String>())
}

pub fn phone(field: &str, raw: &str) -> Result<String, FieldViolation> {
    let raw = raw.trim();
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    let allowed = raw.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '));
    if raw.is_empty() || (allowed && (5..=20).contains(&digits) && raw.len() <= 24) {
        Ok(raw.to_owned())
    } else {
        Err(FieldViolation::new(field, Rule::Phone))
    }
}

/// Free text of `min..=max` characters (Unicode scalar values) with no control
/// characters other than line breaks and tabs; surrounding white space is trimmed.
pub fn text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldViolation> {
    let trimmed = raw.trim();
    let count = trimmed.chars().count();
    if count < min {
        let rule = if min == 1 { Rule::Required } else { Rule::AtLeastChars { min } };
        return Err(FieldViolation::new(field, rule));
    }
    if count > max {
        return Err(FieldViolation::new(field, Rule::TooLong { max, count }));
    }
    if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldViolation::new(field, Rule::ControlCharacters));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Check digits computed by hand with the GB 11643 weights.
    const VALID: &str = "11010519491231002X";

    #[test]
    fn a_number_with_the_right_check_digit_is_accepted() {
        assert_eq!(IdNumber::parse(VALID).unwrap().as_str(), VALID);
        assert_eq!(IdNumber::parse("11010519491231002x").unwrap().as_str(), VALID);
        assert_eq!(IdNumber::parse("350582199001011231").unwrap().birth_date().unwrap().to_string(), "1990-01-01");
    }

    #[test]
    fn a_bad_number_is_refused_without_repeating_any_of_it() {
        let err = IdNumber::parse("110105194912310021").unwrap_err().to_string();
        assert!(err.contains("check digit") && !err.contains('X') && !err.contains("0021"), "{err}");
        let err = IdNumber::parse("110105194913310021").unwrap_err().to_string();
        assert!(err.contains("birth date") && !err.contains("1949"), "{err}");
        let err = IdNumber::parse("110105184912310021").unwrap_err().to_string();
        assert!(err.contains("1900") && !err.contains("1849"), "{err}");
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in ["", "1101051949123100", "11010519491331002X", "1101051949123100AX", "11010518991231002X"] {
            assert!(IdNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_number_can_be_completed_and_masked() {
        assert_eq!(IdNumber::completing("11010519491231002").unwrap().as_str(), VALID);
        assert!(IdNumber::completing("1101051949123100").is_err());
        assert_eq!(IdNumber::parse(VALID).unwrap().masked(), "1101**********002X");
    }

    #[test]
    fn the_office_view_keeps_too_little_to_find_the_person() {
        let person = Person {
            name: "欧阳娜娜".into(),
            id_number: IdNumber::parse("350582199001011231").unwrap(),
            phone: "13812345678".into(),
            address: "福建省晋江市青阳街道某某路8号".into(),
            household: "独居".into(),
        };
        let masked = person.masked();
        assert_eq!(masked.name, "欧***");
        assert_eq!(masked.id_number, "3505**********1231");
        assert_eq!(masked.phone, "138****5678");
        assert_eq!(masked.address, "福建省晋江市***");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_phone("5551234"), "*******");
        assert_eq!(mask_address(""), "");
        // Nothing but divisions, never more than half: short addresses keep nothing.
        assert_eq!(mask_address("某某路99号"), "***");
        assert_eq!(mask_address("晋江市某某路99号"), "晋江市***");
        assert_eq!(mask_address("晋江市区"), "***");
        assert_eq!(mask_address("新疆维吾尔自治区乌鲁木齐市天山区某某路1号"), "新疆维吾尔自治区***");
        assert_eq!(mask_address("福建省晋江市某某工业区3号"), "福建省晋江市***");
    }

    #[test]
    fn debug_output_hides_personal_data() {
        let id = IdNumber::parse(VALID).unwrap();
        assert!(!format!("{id:?}").contains("1101"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut v = Violations::default();
        let input = PersonInput { name: " ", id_number: "123", phone: "call me", address: "", household: "" };
        assert!(Person::parse(input, "draft.person", &mut v).is_none());
        let Err(crate::domain::DomainError::Invalid(all)) = v.finish(|| ()) else { panic!() };
        let fields: Vec<_> = all.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["draft.person.name", "draft.person.id_number", "draft.person.phone"]);
    }
}
