//! 成员变更 — the directory changed at run time (Art. 22): members added, renamed,
//! suspended and resumed by the administrator, contacts kept by each member itself
//! (or the office, or the administrator); who may make each change, the rules it must
//! keep, and the words that announce it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{notify::Notify, Contacts, Directory, Member, RESERVED_CODES};
use crate::domain::Rule;
use crate::domain::{
    error::Violations,
    person::{phone, text},
    vocabulary::Need,
    Caller, DomainError, FieldViolation, MemberCode, Role,
};

/// One change to the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum DirectoryChange {
    /// The list a new hub started with: its configured file or the shipped default.
    Seeded,
    /// A new member unit; always an agency (the directory has one procuratorate).
    Added {
        member: Member,
    },
    Renamed {
        code: MemberCode,
        name: String,
        short_name: String,
    },
    /// It neither sends nor receives any more; its referrals stay as they are.
    Suspended {
        code: MemberCode,
    },
    Resumed {
        code: MemberCode,
    },
    /// 分管领导, 内设机构 and 联络员 replaced.
    Contacts {
        code: MemberCode,
        contacts: Contacts,
    },
    /// How the member is told, away from the workbench: channels, events, webhook.
    Notify {
        code: MemberCode,
        notify: Notify,
    },
}

/// One version of the directory: what changed, who changed it, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub version: u64,
    pub at: DateTime<Utc>,
    pub actor: MemberCode,
    pub change: DirectoryChange,
    /// The change in words, as announced when it was made.
    pub description: String,
}

/// What a change touches, for who may make it: known before the rest is read, so that
/// one who may not make it is refused whatever the request holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touches<'a> {
    /// Adding, renaming, suspending or resuming a member.
    Membership,
    /// The contacts of the member with this code.
    Contacts(&'a str),
}

impl Touches<'_> {
    /// Whether `caller` may make such a change: the administrator any; the office
    /// anyone's contacts; a member its own contacts.
    pub fn permitted(self, caller: &Caller) -> Result<(), DomainError> {
        match (self, caller.role) {
            (_, Role::Admin) | (Touches::Contacts(_), Role::Office) => Ok(()),
            (Touches::Contacts(code), _) if code == caller.code.as_str() => Ok(()),
            (Touches::Contacts(_), _) => {
                Err(DomainError::Forbidden("a member may change only its own contacts".into()))
            }
            (Touches::Membership, _) => {
                Err(DomainError::Forbidden("only an administrator adds, renames, suspends or resumes members".into()))
            }
        }
    }
}

/// Contacts as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContactsInput<'a> {
    pub leader: &'a str,
    pub department: &'a str,
    pub liaison: &'a str,
    pub office_phone: &'a str,
    pub mobile: &'a str,
    pub email: &'a str,
}

/// A new member as typed.
#[derive(Debug, Clone, Copy)]
pub struct MemberInput<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub short_name: &'a str,
    pub articles: &'a str,
    pub needs: &'a [Need],
    pub contacts: ContactsInput<'a>,
}

const MAX_NAME: usize = 64;
const MAX_SHORT_NAME: usize = 16;
const MAX_PERSON_NAME: usize = 32;

fn code(raw: &str, v: &mut Violations) -> Option<MemberCode> {
    v.check(MemberCode::parse(raw).map_err(|rule| FieldViolation::new("member.code", rule)))
}

fn names(name: &str, short_name: &str, v: &mut Violations) -> (Option<String>, Option<String>) {
    (v.check(text("member.name", name, 1, MAX_NAME)), v.check(text("member.short_name", short_name, 1, MAX_SHORT_NAME)))
}

fn contacts(c: ContactsInput<'_>, v: &mut Violations) -> Option<Contacts> {
    let leader = v.check(text("contacts.leader", c.leader, 0, MAX_PERSON_NAME));
    let department = v.check(text("contacts.department", c.department, 0, MAX_NAME));
    let liaison = v.check(text("contacts.liaison", c.liaison, 0, MAX_PERSON_NAME));
    let office_phone = v.check(phone("contacts.office_phone", c.office_phone.trim()));
    let mobile = c.mobile.trim();
    let mobile_ok = mobile.is_empty()
        || (mobile.len() == 11 && mobile.starts_with('1') && mobile.chars().all(|c| c.is_ascii_digit()));
    if !mobile_ok {
        v.add("contacts.mobile", Rule::Mobile);
    }
    let email = c.email.trim();
    let email_ok = email.is_empty() || is_email(email);
    if !email_ok {
        v.add("contacts.email", Rule::Email);
    }
    Some(Contacts {
        leader: leader?,
        department: department?,
        liaison: liaison?,
        office_phone: office_phone?,
        mobile: mobile_ok.then(|| mobile.to_owned())?,
        email: email_ok.then(|| email.to_owned())?,
    })
}

/// An address `local@domain.tld`, plain ASCII without spaces, at most 128 characters:
/// what an SMTP server takes without quoting.
fn is_email(raw: &str) -> bool {
    let Some((local, domain)) = raw.split_once('@') else { return false };
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic() && !"@<>()[]\\,;:\"".contains(c));
    raw.len() <= 128
        && plain(local)
        && plain(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

impl DirectoryChange {
    /// 新增成员单位.
    pub fn add(input: MemberInput<'_>) -> Result<Self, DomainError> {
        let mut v = Violations::default();
        let code = code(input.code, &mut v);
        let (name, short_name) = names(input.name, input.short_name, &mut v);
        let articles = v.check(text("member.articles", input.articles, 0, MAX_NAME));
        let contacts = contacts(input.contacts, &mut v);
        match (code, name, short_name, articles, contacts) {
            (Some(code), Some(name), Some(short_name), Some(articles), Some(contacts)) if v.is_empty() => {
                let member = Member {
                    code,
                    name,
                    short_name,
                    role: Role::Agency,
                    articles,
                    needs: input.needs.to_vec(),
                    active: true,
                    contacts,
                    notify: Notify::default(),
                };
                Ok(DirectoryChange::Added { member })
            }
            _ => v.finish(|| unreachable!("violations were recorded")),
        }
    }

    /// 更名.
    pub fn rename(raw_code: &str, name: &str, short_name: &str) -> Result<Self, DomainError> {
        let mut v = Violations::default();
        let code = code(raw_code, &mut v);
        let (name, short_name) = names(name, short_name, &mut v);
        match (code, name, short_name) {
            (Some(code), Some(name), Some(short_name)) => Ok(DirectoryChange::Renamed { code, name, short_name }),
            _ => v.finish(|| unreachable!("violations were recorded")),
        }
    }

    /// 暂停 (`active` false) or 恢复 (`active` true).
    pub fn activity(raw_code: &str, active: bool) -> Result<Self, DomainError> {
        let code = MemberCode::parse(raw_code).map_err(|rule| FieldViolation::new("member.code", rule))?;
        Ok(if active { DirectoryChange::Resumed { code } } else { DirectoryChange::Suspended { code } })
    }

    /// 分管领导, 内设机构 and 联络员, replaced whole.
    pub fn contacts(raw_code: &str, input: ContactsInput<'_>) -> Result<Self, DomainError> {
        let mut v = Violations::default();
        let code = code(raw_code, &mut v);
        let contacts = contacts(input, &mut v);
        match (code, contacts) {
            (Some(code), Some(contacts)) if v.is_empty() => Ok(DirectoryChange::Contacts { code, contacts }),
            _ => v.finish(|| unreachable!("violations were recorded")),
        }
    }

    /// 通知方式: how `raw_code` is told, away from the workbench.
    pub fn notify(raw_code: &str, notify: Notify) -> Result<Self, DomainError> {
        let code = MemberCode::parse(raw_code).map_err(|rule| FieldViolation::new("member.code", rule))?;
        Ok(DirectoryChange::Notify { code, notify })
    }

    /// The member the change is about; none for the seeding.
    pub fn member(&self) -> Option<&MemberCode> {
        match self {
            DirectoryChange::Seeded => None,
            DirectoryChange::Added { member } => Some(&member.code),
            DirectoryChange::Renamed { code, .. }
            | DirectoryChange::Suspended { code }
            | DirectoryChange::Resumed { code }
            | DirectoryChange::Contacts { code, .. }
            | DirectoryChange::Notify { code, .. } => Some(code),
        }
    }

    /// What the change touches, for who may make it.
    fn touches(&self) -> Touches<'_> {
        match self {
            DirectoryChange::Contacts { code, .. } | DirectoryChange::Notify { code, .. } => {
                Touches::Contacts(code.as_str())
            }
            _ => Touches::Membership,
        }
    }

    /// Announces the change to the members, as read against `before`.
    pub fn describe(&self, before: &Directory) -> String {
        let name = |code: &MemberCode| before.get(code).map_or_else(|| code.to_string(), |m| m.name.clone());
        match self {
            DirectoryChange::Seeded => format!("成员单位目录启用（{} 家成员单位）", before.members().len()),
            DirectoryChange::Added { member } => format!("新增成员单位：{}（{}）", member.name, member.code),
            DirectoryChange::Renamed { code, name: new, short_name } => {
                format!("{} 更名为 {}（简称“{}”）", name(code), new, short_name)
            }
            DirectoryChange::Suspended { code } => format!("{} 暂停参与衔接，不再收发移送", name(code)),
            DirectoryChange::Resumed { code } => format!("{} 恢复参与衔接", name(code)),
            DirectoryChange::Contacts { code, contacts: c } => {
                let or_none = |s: &str| if s.is_empty() { "未填".to_owned() } else { s.to_owned() };
                format!(
                    "{} 更新联络信息：分管领导 {}，内设机构 {}，联络员 {}（办公电话 {}，手机 {}，电子邮箱 {}）",
                    name(code),
                    or_none(&c.leader),
                    or_none(&c.department),
                    or_none(&c.liaison),
                    or_none(&c.office_phone),
                    or_none(&c.mobile),
                    or_none(&c.email)
                )
            }
            DirectoryChange::Notify { code, notify } => format!("{} 更新{}", name(code), notify.describe()),
        }
    }
}

impl Directory {
    /// The directory after `change` by `caller`: the next version.
    pub fn apply(&self, change: &DirectoryChange, caller: &Caller) -> Result<Directory, DomainError> {
        if *change == DirectoryChange::Seeded {
            return Err(DomainError::Forbidden("the directory is seeded by the hub".into()));
        }
        change.touches().permitted(caller)?;
        let mut members = self.members.clone();
        let existing = |code: &MemberCode| {
            self.members
                .iter()
                .position(|m| &m.code == code)
                .ok_or_else(|| DomainError::from(FieldViolation::new("member.code", Rule::NotAMember)))
        };
        match change {
            DirectoryChange::Seeded => unreachable!("refused above"),
            DirectoryChange::Added { member } => {
                if RESERVED_CODES.contains(&member.code.as_str()) {
                    return Err(FieldViolation::new("member.code", Rule::ReservedCode).into());
                }
                if self.get(&member.code).is_some() {
                    return Err(FieldViolation::new("member.code", Rule::AlreadyMember).into());
                }
                members.push(member.clone());
            }
            DirectoryChange::Renamed { code, name, short_name } => {
                let at = existing(code)?;
                members[at].name.clone_from(name);
                members[at].short_name.clone_from(short_name);
            }
            DirectoryChange::Suspended { code } | DirectoryChange::Resumed { code } => {
                let at = existing(code)?;
                let active = matches!(change, DirectoryChange::Resumed { .. });
                if members[at].role == Role::Procuratorate && !active {
                    return Err(FieldViolation::new("member.code", Rule::ProcuratorateStays).into());
                }
                if members[at].active == active {
                    let rule = if active { Rule::NotSuspended } else { Rule::SuspendedAlready };
                    return Err(FieldViolation::new("member.code", rule).into());
                }
                members[at].active = active;
            }
            DirectoryChange::Contacts { code, contacts } => {
                let at = existing(code)?;
                members[at].contacts = contacts.clone();
            }
            DirectoryChange::Notify { code, notify } => {
                let at = existing(code)?;
                members[at].notify = notify.clone();
            }
        }
        Ok(Directory { version: self.version + 1, members })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(code: &str, role: Role) -> Caller {
        Caller { code: MemberCode::parse(code).unwrap(), role }
    }

    fn admin() -> Caller {
        Caller { code: MemberCode::admin(), role: Role::Admin }
    }

    const LIAISON: ContactsInput<'static> = ContactsInput {
        leader: "王副局长",
        department: "社会救助科",
        liaison: "李明",
        office_phone: "0595-85680000",
        mobile: "13905950000",
        email: "liming@mz.jinjiang.gov.cn",
    };

    #[test]
    fn the_administrator_adds_renames_suspends_and_resumes() {
        let d = Directory::jinjiang();
        let added = DirectoryChange::add(MemberInput {
            code: "zj",
            name: "晋江市住房和城乡建设局",
            short_name: "住建",
            articles: "",
            needs: &[],
            contacts: LIAISON,
        })
        .unwrap();
        let d = d.apply(&added, &admin()).unwrap();
        assert_eq!((d.version(), d.members().len()), (1, 14));
        let zj = MemberCode::parse("zj").unwrap();
        assert_eq!(d.get(&zj).unwrap().role, Role::Agency);
        let d = d.apply(&DirectoryChange::rename("zj", "晋江市住建局", "住建").unwrap(), &admin()).unwrap();
        assert_eq!(d.get(&zj).unwrap().name, "晋江市住建局");
        let d = d.apply(&DirectoryChange::activity("zj", false).unwrap(), &admin()).unwrap();
        assert!(!d.get(&zj).unwrap().active);
        let again = d.apply(&DirectoryChange::activity("zj", false).unwrap(), &admin()).unwrap_err();
        assert!(again.to_string().contains("member.code: is suspended already"), "{again}");
        let d = d.apply(&DirectoryChange::activity("zj", true).unwrap(), &admin()).unwrap();
        assert!(d.get(&zj).unwrap().active);
        assert_eq!(d.version(), 4);
        assert_eq!(Directory::from_json(&d.to_json()).unwrap(), d);
    }

    #[test]
    fn a_member_keeps_its_own_contacts_and_no_one_elses() {
        let d = Directory::jinjiang();
        let change = DirectoryChange::contacts("mz", LIAISON).unwrap();
        let d2 = d.apply(&change, &caller("mz", Role::Agency)).unwrap();
        let mz = d2.get(&MemberCode::parse("mz").unwrap()).unwrap();
        assert_eq!((mz.contacts.liaison.as_str(), mz.contacts.mobile.as_str()), ("李明", "13905950000"));
        let err = d.apply(&change, &caller("sf", Role::Agency)).unwrap_err();
        assert!(matches!(err, DomainError::Forbidden(_)), "{err}");
        let err = d.apply(&DirectoryChange::activity("sf", false).unwrap(), &caller("sf", Role::Agency)).unwrap_err();
        assert!(matches!(err, DomainError::Forbidden(_)), "{err}");
        assert!(d.apply(&change, &Caller { code: MemberCode::office(), role: Role::Office }).is_ok());
        assert!(change.describe(&d).starts_with("晋江市民政局 更新联络信息：分管领导 王副局长"));
    }

    #[test]
    fn bad_changes_name_the_field_and_not_the_value() {
        let err = DirectoryChange::contacts(
            "mz",
            ContactsInput { mobile: "1390595000x", office_phone: "call me", ..LIAISON },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("contacts.mobile") && err.contains("contacts.office_phone"), "{err}");
        assert!(!err.contains("1390595000x") && !err.contains("call me"), "{err}");
        let err = DirectoryChange::rename("MZ!", "", "").unwrap_err().to_string();
        assert!(err.contains("member.code") && err.contains("member.name: required"), "{err}");
        let d = Directory::jinjiang();
        let jcy = d.apply(&DirectoryChange::activity("jcy", false).unwrap(), &admin()).unwrap_err();
        assert!(jcy.to_string().contains("cannot be suspended"), "{jcy}");
        let unknown = d.apply(&DirectoryChange::activity("zz", false).unwrap(), &admin()).unwrap_err();
        assert!(unknown.to_string().contains("not a member"), "{unknown}");
        let twice = DirectoryChange::add(MemberInput {
            code: "mz",
            name: "民政",
            short_name: "民政",
            articles: "",
            needs: &[],
            contacts: ContactsInput::default(),
        })
        .unwrap();
        assert!(d.apply(&twice, &admin()).unwrap_err().to_string().contains("already a member"));
    }
}
