//! Background work of the hub: the deadline scanner, audit checkpoints and the
//! notifier.

pub mod checkpoint;
pub mod notifier;
pub mod scanner;
