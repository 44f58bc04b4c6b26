//! xianjie (衔接): the gRPC hub that carries referrals and feedback between a
//! procuratorate and the partner agencies of its joint meeting.
//!
//! The binary is thin; everything lives here: [`domain`] (plain rules), [`store`]
//! (persistence), [`delivery`] (live inboxes), [`app`] (the hub's operations),
//! [`api`] (gRPC services mapping to them), [`web`] (the workbench in the browser,
//! calling the same operations), [`server`] (TLS and serving), [`pki`]
//! (certificates), [`client`] (the member client) and [`cli`] (the command line).
//! docs/architecture.md shows the layers and who may call whom.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod app;
pub mod audit;
pub mod background;
pub mod bench;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod documents;
pub mod domain;
pub mod keys;
pub mod metrics;
pub mod notify;
pub mod pki;
pub mod proto;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod web;
