//! 成员单位目录 — the members of the joint meeting, loaded from data (the Jinjiang list
//! ships as the default; a county loads its own) and changed at run time (Art. 22), with
//! each member's leader, responsible office and liaison, and recipient suggestions by need.

mod change;
pub mod notify;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use change::{ContactsInput, DirectoryChange, DirectoryEntry, MemberInput, Touches};

use super::{vocabulary::Need, MemberCode, Role};
use notify::Notify;

/// The shipped default: the 13 member units of the Jinjiang opinion (Art. 26).
pub const JINJIANG: &str = include_str!("../../../data/members.toml");

/// A member unit of the joint meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub code: MemberCode,
    pub name: String,
    pub short_name: String,
    #[serde(deserialize_with = "member_role", serialize_with = "role_name")]
    pub role: Role,
    #[serde(default)]
    pub articles: String,
    #[serde(default)]
    pub needs: Vec<Need>,
    /// A suspended member can neither send nor receive; its history stays.
    #[serde(default = "active")]
    pub active: bool,
    /// 分管领导, 内设机构 and 联络员 (Art. 22).
    #[serde(default)]
    pub contacts: Contacts,
    /// How the member is told of what waits for it, away from the workbench.
    #[serde(default)]
    pub notify: Notify,
}

/// Who answers for a member in the joint meeting (Art. 22): the leader in charge, the
/// responsible office and the liaison with the liaison's phones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Contacts {
    /// 分管领导.
    pub leader: String,
    /// 内设机构 — the responsible office.
    pub department: String,
    /// 联络员.
    pub liaison: String,
    /// The liaison's office phone.
    pub office_phone: String,
    /// The liaison's mobile: where text messages go.
    pub mobile: String,
    /// The liaison's e-mail address: where e-mail goes.
    pub email: String,
}

fn active() -> bool {
    true
}

fn role_name<S: serde::Serializer>(role: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(role.as_str())
}

fn member_role<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
    let raw = String::deserialize(d)?;
    match Role::parse(&raw) {
        Some(role) if role.is_member() => Ok(role),
        _ => Err(serde::de::Error::custom(format!("role {raw:?} must be \"procuratorate\" or \"agency\""))),
    }
}

/// Codes that name roles or the hub itself, not members.
pub const RESERVED_CODES: [&str; 3] = ["office", "admin", "hub"];

/// The members as of one version of the directory: 0 for a list read from a file,
/// then one more for each change made at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    #[serde(default)]
    version: u64,
    #[serde(rename = "member")]
    members: Vec<Member>,
}

impl Directory {
    /// Parses a directory in the format of `data/members.toml`: unique codes, none of
    /// them reserved, exactly one procuratorate.
    pub fn parse(toml_text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            member: Vec<Member>,
        }
        let file: File = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        Self::checked(0, file.member)
    }

    /// `members` as version `version`, if they make a directory: unique codes, none
    /// of them reserved, exactly one procuratorate.
    fn checked(version: u64, members: Vec<Member>) -> Result<Self, String> {
        let mut seen = BTreeSet::new();
        for member in &members {
            if !seen.insert(member.code.clone()) {
                return Err(format!("member code {} appears twice", member.code));
            }
            if RESERVED_CODES.contains(&member.code.as_str()) {
                return Err(format!("{} is reserved for a role, not a member", member.code));
            }
        }
        let procuratorates = members.iter().filter(|m| m.role == Role::Procuratorate).count();
        if procuratorates != 1 {
            return Err(format!("the directory needs exactly one procuratorate, not {procuratorates}"));
        }
        Ok(Self { version, members })
    }

    /// A directory as stored (JSON), checked as a file is.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let stored: Directory = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Self::checked(stored.version, stored.members)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("a directory serializes: {e}"))
    }

    /// Which version of the directory this is.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn jinjiang() -> Self {
        // The shipped file is checked by a unit test below.
        Self::parse(JINJIANG).unwrap_or_else(|e| panic!("data/members.toml: {e}"))
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Where `code` stands in the directory's order (the procuratorate first); after
    /// every member when it is none.
    pub fn place(&self, code: &MemberCode) -> usize {
        self.members.iter().position(|m| &m.code == code).unwrap_or(usize::MAX)
    }

    pub fn get(&self, code: &MemberCode) -> Option<&Member> {
        self.members.iter().find(|m| &m.code == code)
    }

    /// The procuratorate, the one recipient of every clue.
    pub fn procuratorate(&self) -> &Member {
        // `parse` guarantees exactly one.
        self.members.iter().find(|m| m.role == Role::Procuratorate).unwrap_or_else(|| unreachable!())
    }

    /// The county, as the procuratorate's name says it (晋江市人民检察院: 晋江).
    pub fn county(&self) -> &str {
        let name = self.procuratorate().name.trim_end_matches("人民检察院");
        name.strip_suffix('市').or_else(|| name.strip_suffix('县')).or_else(|| name.strip_suffix('区')).unwrap_or(name)
    }

    /// The joint meeting's office, by its full name, as it signs what it issues.
    pub fn office_name(&self) -> String {
        let county = self.procuratorate().name.trim_end_matches("人民检察院");
        format!("{county}司法救助与社会救助衔接工作联席会议办公室")
    }

    /// Active members serving any of `needs`, those matching most first, then in
    /// directory order; each with the needs it matched.
    pub fn suggest(&self, needs: &[Need]) -> Vec<(&Member, Vec<Need>)> {
        let mut found: Vec<_> = self
            .members
            .iter()
            .filter(|m| m.active)
            .map(|m| {
                let matched: Vec<Need> = needs.iter().copied().filter(|n| m.needs.contains(n)).collect();
                (m, matched)
            })
            .filter(|(_, matched)| !matched.is_empty())
            .collect();
        found.sort_by_key(|(_, matched)| std::cmp::Reverse(matched.len()));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jinjiang_list_has_thirteen_members_and_one_procuratorate() {
        let directory = Directory::jinjiang();
        assert_eq!(directory.members().len(), 13);
        assert_eq!(directory.procuratorate().code.as_str(), "jcy");
        let mz = directory.get(&MemberCode::parse("mz").unwrap()).unwrap();
        assert_eq!((mz.name.as_str(), mz.role), ("晋江市民政局", Role::Agency));
    }

    #[test]
    fn suggestions_follow_the_needs() {
        let directory = Directory::jinjiang();
        let codes = |needs: &[Need]| -> Vec<String> {
            directory.suggest(needs).iter().map(|(m, _)| m.code.to_string()).collect()
        };
        assert_eq!(codes(&[Need::MinorCare]), ["tw", "ggw"]);
        assert_eq!(codes(&[Need::LegalAid, Need::SubsistenceAllowance, Need::TemporaryAssistance]), ["mz", "sf"]);
        assert!(codes(&[]).is_empty());
    }

    #[test]
    fn bad_directories_are_refused() {
        let two = JINJIANG
            .replace("role = \"agency\"\narticles = \"第十条\"", "role = \"procuratorate\"\narticles = \"第十条\"");
        assert!(Directory::parse(&two).unwrap_err().contains("exactly one procuratorate"));
        let dup = JINJIANG.replace("code = \"jy\"", "code = \"mz\"");
        assert!(Directory::parse(&dup).unwrap_err().contains("appears twice"));
        let office = JINJIANG.replace("code = \"jy\"", "code = \"office\"");
        assert!(Directory::parse(&office).unwrap_err().contains("reserved"));
        let role = JINJIANG.replace("role = \"agency\"", "role = \"office\"");
        assert!(Directory::parse(&role).is_err());
    }
}
