//! Background work of the hub: the deadline scanner.

pub mod scanner;
