//! Background work of the hub: the deadline scanner, audit checkpoints, and reading
//! changed files again.

pub mod checkpoint;
pub mod reload;
pub mod scanner;
