//! 成员单位目录 — the members of the joint meeting, loaded from data (the Jinjiang list
//! ships as the default; a county loads its own), and recipient suggestions by need.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::{vocabulary::Need, MemberCode, Role};

/// The shipped default: the 13 member units of the Jinjiang opinion (Art. 26).
pub const JINJIANG: &str = include_str!("../../data/members.toml");

/// A member unit of the joint meeting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub code: MemberCode,
    pub name: String,
    pub short_name: String,
    #[serde(deserialize_with = "member_role")]
    pub role: Role,
    #[serde(default)]
    pub articles: String,
    #[serde(default)]
    pub needs: Vec<Need>,
    /// A suspended member can neither send nor receive; its history stays.
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
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

#[derive(Debug, Clone)]
pub struct Directory {
    members: Vec<Member>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    member: Vec<Member>,
}

impl Directory {
    /// Parses a directory in the format of `data/members.toml`: unique codes, none of
    /// them reserved, exactly one procuratorate.
    pub fn parse(toml_text: &str) -> Result<Self, String> {
        let file: DirectoryFile = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        let mut seen = BTreeSet::new();
        for member in &file.member {
            if !seen.insert(member.code.clone()) {
                return Err(format!("member code {} appears twice", member.code));
            }
            if RESERVED_CODES.contains(&member.code.as_str()) {
                return Err(format!("{} is reserved for a role, not a member", member.code));
            }
        }
        let procuratorates = file.member.iter().filter(|m| m.role == Role::Procuratorate).count();
        if procuratorates != 1 {
            return Err(format!("the directory needs exactly one procuratorate, not {procuratorates}"));
        }
        Ok(Self { members: file.member })
    }

    pub fn jinjiang() -> Self {
        // The shipped file is checked by a unit test below.
        Self::parse(JINJIANG).unwrap_or_else(|e| panic!("data/members.toml: {e}"))
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn get(&self, code: &MemberCode) -> Option<&Member> {
        self.members.iter().find(|m| &m.code == code)
    }

    /// The procuratorate, the one recipient of every clue.
    pub fn procuratorate(&self) -> &Member {
        // `parse` guarantees exactly one.
        self.members.iter().find(|m| m.role == Role::Procuratorate).unwrap_or_else(|| unreachable!())
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
