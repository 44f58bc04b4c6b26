//! A referral's history: the append-only entries of who did what, and when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{referral::State, MemberCode};

/// The kind of an entry in a referral's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Submitted = 1,
    Received = 2,
    Started = 3,
    Concluded = 4,
    FedBack = 5,
    Returned = 6,
    Withdrawn = 7,
    Commented = 8,
    /// 回访 — a follow-up visit after aid was granted; its note is what it found.
    Visited = 9,
    /// 请求补充材料 — the recipient asks the sender for more materials before it starts;
    /// its start deadline stops running until the sender comments (supplies them).
    MaterialsAsked = 10,
}

impl EntryKind {
    pub const ALL: [EntryKind; 10] = [
        EntryKind::Submitted,
        EntryKind::Received,
        EntryKind::Started,
        EntryKind::Concluded,
        EntryKind::FedBack,
        EntryKind::Returned,
        EntryKind::Withdrawn,
        EntryKind::Commented,
        EntryKind::Visited,
        EntryKind::MaterialsAsked,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Submitted => "submitted",
            EntryKind::Received => "received",
            EntryKind::Started => "started",
            EntryKind::Concluded => "concluded",
            EntryKind::FedBack => "fed_back",
            EntryKind::Returned => "returned",
            EntryKind::Withdrawn => "withdrawn",
            EntryKind::Commented => "commented",
            EntryKind::Visited => "visited",
            EntryKind::MaterialsAsked => "materials_asked",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// One append-only entry of a referral's history: who did what, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub referral_id: Uuid,
    /// 1 for the submit, then one more for each entry.
    pub version: u32,
    pub kind: EntryKind,
    pub actor: MemberCode,
    pub at: DateTime<Utc>,
    /// The referral's state after the entry.
    pub state: State,
    pub note: String,
    /// 经办人: the name of the clerk who made it; empty for a unit's own system
    /// certificate (系统) and the hub's own work.
    pub clerk: String,
}
