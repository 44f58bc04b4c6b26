//! Background work of the hub: the deadline scanner and audit checkpoints.

pub mod checkpoint;
pub mod scanner;
