//! xianjie (衔接): the gRPC hub that carries referrals and feedback between a
//! procuratorate and the partner agencies of its joint meeting.
//!
//! The binary is thin; everything lives here: [`domain`] (plain rules), [`store`]
//! (persistence), [`api`] (gRPC services), [`delivery`] (live inboxes), [`server`]
//! (TLS and serving), [`pki`] (certificates), [`client`] (the member client) and
//! [`cli`] (the command line).

pub mod api;
pub mod clock;
pub mod delivery;
pub mod domain;
pub mod pki;
pub mod proto;
pub mod store;
pub mod config;
pub mod server;
pub mod client;
pub mod telemetry;
pub mod cli;
