//! The client-chosen id that makes a mutating call safe to retry.

use super::rule::Rule;
use super::FieldViolation;

/// 1–64 visible ASCII characters; a UUID is usual.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        if (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldViolation::new("request_id", Rule::RequestId))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_long_or_spaced_ids_are_refused() {
        assert!(RequestId::parse("0b6f1c1e-4d7a-4a0e-9a55-1f6f1a2b3c4d").is_ok());
        for bad in ["", "a b", &"x".repeat(65)] {
            assert_eq!(RequestId::parse(bad).unwrap_err().field, "request_id");
        }
    }
}
