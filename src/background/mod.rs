//! Background work of the hub: the deadline scanner, and reading changed files again.

pub mod reload;
pub mod scanner;
