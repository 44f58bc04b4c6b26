//! What the hub refused of a form, as the clerk reads it: every message at its field,
//! and all of them in a summary at the top of the form, which the page focuses (and so
//! scrolls to) when it opens. A message whose field the form does not show is in the
//! summary all the same.

use super::words;
use crate::domain::FieldViolation;

/// One refused field: the form's name of it, the message at it, and the line of the
/// summary.
struct Refused {
    field: String,
    message: String,
    line: String,
}

/// The refusals of one form; none when the form was not refused.
#[derive(Default)]
pub struct Refusals(Vec<Refused>);

impl Refusals {
    pub fn of(violations: &[FieldViolation]) -> Self {
        Self(
            violations
                .iter()
                .map(|v| {
                    let rule = v.rule.chinese();
                    let named = words::chosen_file(&v.field).or_else(|| words::aid_amount(&v.field));
                    let (message, line) = match named {
                        Some(what) => (format!("{what}：{rule}"), format!("{what}：{rule}")),
                        None => (rule.clone(), format!("{}：{rule}", words::field(&v.field))),
                    };
                    Refused { field: words::form_field(&v.field), message, line }
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The messages of `field` (the API's name without `draft.` or an index), joined.
    pub fn at(&self, field: &str) -> String {
        let messages: Vec<&str> = self.0.iter().filter(|r| r.field == field).map(|r| r.message.as_str()).collect();
        messages.join("；")
    }

    /// Each message with its field's label, for the summary: 「救助金额：以元为单位…」.
    pub fn summary(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|r| r.line.as_str())
    }
}
