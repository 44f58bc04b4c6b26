//! The domain of the linkage (衔接): members, the person referred, the eligibility
//! vocabulary, referrals and their life cycle.
//!
//! Plain Rust only: no I/O, no protobuf, no SQL. Time comes in as an argument; nothing
//! here reads a clock.

pub mod audit;
pub mod awaited;
pub mod calendar;
pub mod caller;
pub mod case;
pub mod date;
pub mod deadline;
pub mod directory;
pub mod draft;
pub mod error;
pub mod extension;
pub mod figures;
pub mod hex;
pub mod history;
pub mod id;
pub mod key_case;
pub mod ledger;
pub mod letter;
pub mod lifecycle;
pub mod material;
pub mod member;
pub mod merkle;
pub mod money;
pub mod notification;
pub mod period;
pub mod person;
pub mod referral;
pub mod report;
pub mod request_id;
pub mod rule;
pub mod sign_in;
pub mod supervision;
pub mod told;
pub mod view;
pub mod visit;
pub mod vocabulary;

pub use caller::{Caller, Role};
pub use error::{DomainError, FieldViolation};
pub use member::MemberCode;
pub use rule::Rule;
