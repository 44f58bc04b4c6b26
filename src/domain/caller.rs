//! Who is calling: a member unit, the joint-meeting office or an administrator, as read
//! from the client certificate and checked against the directory.

use std::fmt;

use super::MemberCode;

/// The part a caller plays in the joint meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 人民检察院 — handles 司法救助 and refers people to the agencies.
    Procuratorate,
    /// 社会救助管理部门 — a partner agency.
    Agency,
    /// 联席会议办公室 — tracks deadlines; sees metadata, never a person's data.
    Office,
    /// County IT administrator: members and certificates, never referrals.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Procuratorate => "procuratorate",
            Role::Agency => "agency",
            Role::Office => "office",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Role::Procuratorate, Role::Agency, Role::Office, Role::Admin].into_iter().find(|role| role.as_str() == raw)
    }

    /// Whether callers of this role are members that exchange referrals.
    pub fn is_member(self) -> bool {
        matches!(self, Role::Procuratorate | Role::Agency)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub code: MemberCode,
    pub role: Role,
}
