//! What the domain refuses, and why. Each front end maps each variant to its own code.

use std::fmt;

use super::rule::Rule;

/// One field at fault and the rule it broke, named as the client named the field
/// (`draft.person.id_number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub rule: Rule,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self { field: field.into(), rule }
    }

    /// The rule as the API says it.
    pub fn description(&self) -> String {
        self.rule.english()
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule.english())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// Bad input: every field at fault, not only the first.
    #[error("invalid request: {}", join(.0))]
    Invalid(Vec<FieldViolation>),
    /// A transition from the wrong state.
    #[error("{action} is not possible: the referral is {current}")]
    WrongState { action: &'static str, current: &'static str },
    /// The caller's role or part in the referral does not allow the act.
    #[error("{0}")]
    Forbidden(String),
}

impl From<FieldViolation> for DomainError {
    fn from(violation: FieldViolation) -> Self {
        DomainError::Invalid(vec![violation])
    }
}

fn join(violations: &[FieldViolation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Collects field violations so that a request is judged as a whole.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, rule: Rule) {
        self.0.push(FieldViolation::new(field, rule));
    }

    /// Keeps the value when it parsed, records the violation when it did not.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violation) => {
                self.0.push(violation);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, DomainError> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
