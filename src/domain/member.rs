//! 成员单位代码 — the short code that names a member of the joint meeting (`jcy`, `mz`).

use std::fmt;

use super::rule::Rule;
use serde::{Deserialize, Serialize};

/// A member code: 1–16 lowercase ASCII letters or digits, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberCode(String);

impl MemberCode {
    pub fn parse(raw: &str) -> Result<Self, Rule> {
        let ok = (1..=16).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Rule::MemberCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 联席会议办公室 — the joint-meeting office: its inbox and its acts.
    pub fn office() -> Self {
        Self("office".to_owned())
    }

    /// The county IT administrator.
    pub fn admin() -> Self {
        Self("admin".to_owned())
    }

    /// The hub itself, as the actor of the events it makes (reminders, missed deadlines).
    pub fn hub() -> Self {
        Self("hub".to_owned())
    }
}

impl TryFrom<String> for MemberCode {
    type Error = Rule;
    fn try_from(raw: String) -> Result<Self, Rule> {
        Self::parse(&raw)
    }
}

impl From<MemberCode> for String {
    fn from(code: MemberCode) -> String {
        code.0
    }
}

impl fmt::Display for MemberCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_lowercase_words() {
        assert!(MemberCode::parse("mz").is_ok());
        assert!(MemberCode::parse("tyjr").is_ok());
        for bad in ["", "MZ", "1mz", "m-z", "abcdefghijklmnopq"] {
            assert!(MemberCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
