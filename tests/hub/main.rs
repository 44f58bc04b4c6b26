//! Integration tests: the real hub, real TLS, the real client.
#![allow(clippy::unwrap_used)]

mod support;

mod audit;
mod authorization;
mod backup;
mod clerks;
mod cli;
mod confidentiality;
mod deadlines;
mod directory;
mod durability;
mod extensions;
mod flows;
mod hostile;
mod inbox;
mod letters;
mod limits;
mod materials;
mod metrics;
mod migration;
mod notifications;
mod python;
mod records;
mod refusals;
mod replicas;
mod supervision;
mod todo;
mod visits;
