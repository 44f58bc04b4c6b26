//! `xianjie admin members …`: the directory of members changed at run time; and the
//! directory and contacts as every member lists and keeps them.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{
    connection::{explain, Connection},
    member::print_json,
    render,
};
use crate::{client::Client, domain::vocabulary::Need, proto as pb};

#[derive(Args)]
pub struct AdminArgs {
    #[command(flatten)]
    connection: Connection,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// The directory of members: list, add, rename, suspend, resume, contacts, history.
    #[command(subcommand)]
    Members(MembersCommand),
}

#[derive(Subcommand)]
enum MembersCommand {
    /// Every member, with its contacts.
    List,
    /// Adds a member unit (an agency).
    Add {
        /// 1–16 lowercase letters or digits, starting with a letter.
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        short_name: String,
        /// The articles of the opinion that set its role.
        #[arg(long, default_value = "")]
        articles: String,
        /// A need it serves, e.g. `legal_aid`; repeatable.
        #[arg(long = "need")]
        needs: Vec<String>,
        #[command(flatten)]
        contacts: ContactsArgs,
    },
    /// Renames a member unit.
    Rename {
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        short_name: String,
    },
    /// Suspends a member: its certificates are refused and nothing new reaches it.
    Suspend { code: String },
    /// Resumes a suspended member.
    Resume { code: String },
    /// Changes a member's 分管领导, 内设机构 or 联络员 (what is not given stays).
    Contacts {
        code: String,
        #[command(flatten)]
        contacts: ContactsArgs,
    },
    /// Every version of the directory: who changed what, and when.
    History,
}

/// 分管领导, 内设机构 and 联络员, each optional: what is not given stays as it is.
#[derive(Args, Clone, Default)]
pub struct ContactsArgs {
    /// 分管领导.
    #[arg(long)]
    leader: Option<String>,
    /// 内设机构 — the responsible office.
    #[arg(long)]
    department: Option<String>,
    /// 联络员.
    #[arg(long)]
    liaison: Option<String>,
    #[arg(long)]
    office_phone: Option<String>,
    #[arg(long)]
    mobile: Option<String>,
}

impl ContactsArgs {
    /// `current` with what was given laid over it.
    fn over(self, current: pb::Contacts) -> pb::Contacts {
        pb::Contacts {
            leader: self.leader.unwrap_or(current.leader),
            department: self.department.unwrap_or(current.department),
            liaison: self.liaison.unwrap_or(current.liaison),
            office_phone: self.office_phone.unwrap_or(current.office_phone),
            mobile: self.mobile.unwrap_or(current.mobile),
        }
    }
}

/// Changes the contacts of `code` to what `args` gives, keeping the rest.
pub async fn update_contacts(client: &Client, code: &str, args: ContactsArgs, json: bool) -> anyhow::Result<()> {
    let current = client.directory().await.map_err(explain)?.members.into_iter().find(|m| m.code == code);
    let contacts = args.over(current.and_then(|m| m.contacts).unwrap_or_default());
    let changed = client.update_contacts(code, contacts).await.map_err(explain)?;
    print_change(&changed, json);
    Ok(())
}

fn print_change(changed: &pb::DirectoryChangeResponse, json: bool) {
    if json {
        print_json(&serde_json::json!({"version": changed.version, "description": changed.description}));
    } else {
        println!("v{} {}", changed.version, changed.description);
    }
}

/// The directory, one member a line (or its JSON), with contacts.
pub fn print_members(directory: &pb::ListMembersResponse, json: bool) {
    if !json {
        println!("成员单位目录 第 {} 版", directory.version);
    }
    for m in &directory.members {
        let needs: Vec<_> = m.needs.iter().filter_map(|n| Need::from_number(*n)).map(|n| n.code()).collect();
        let c = m.contacts.clone().unwrap_or_default();
        if json {
            print_json(&serde_json::json!({
                "code": m.code, "name": m.name, "short_name": m.short_name, "needs": needs,
                "articles": m.articles, "active": m.active, "version": directory.version,
                "contacts": {"leader": c.leader, "department": c.department, "liaison": c.liaison,
                             "office_phone": c.office_phone, "mobile": c.mobile},
            }));
            continue;
        }
        println!(
            "{:<5} {}（{}）{}  {}",
            m.code,
            m.name,
            m.articles,
            if m.active { "" } else { " [暂停]" },
            needs.join(", ")
        );
        if !(c.leader.is_empty() && c.department.is_empty() && c.liaison.is_empty()) {
            println!(
                "      分管领导 {}  内设机构 {}  联络员 {}  办公电话 {}  手机 {}",
                c.leader, c.department, c.liaison, c.office_phone, c.mobile
            );
        }
    }
}

pub async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let client = args.connection.connect("admin").await?;
    let json = args.json;
    let AdminCommand::Members(command) = args.command;
    match command {
        MembersCommand::List => print_members(&client.directory().await.map_err(explain)?, json),
        MembersCommand::Add { code, name, short_name, articles, needs, contacts } => {
            let needs = needs
                .iter()
                .map(|n| {
                    Need::from_code(n)
                        .map(Need::number)
                        .ok_or_else(|| anyhow::anyhow!("need: {n:?} is not a known code"))
                })
                .collect::<anyhow::Result<_>>()?;
            let request = pb::AddMemberRequest {
                request_id: String::new(),
                code,
                name,
                short_name,
                articles,
                needs,
                contacts: Some(contacts.over(pb::Contacts::default())),
            };
            print_change(&client.add_member(request).await.map_err(explain)?, json);
        }
        MembersCommand::Rename { code, name, short_name } => {
            print_change(&client.rename_member(&code, &name, &short_name).await.map_err(explain)?, json);
        }
        MembersCommand::Suspend { code } => {
            print_change(&client.set_member_active(&code, false).await.map_err(explain)?, json);
        }
        MembersCommand::Resume { code } => {
            print_change(&client.set_member_active(&code, true).await.map_err(explain)?, json);
        }
        MembersCommand::Contacts { code, contacts } => update_contacts(&client, &code, contacts, json).await?,
        MembersCommand::History => {
            for c in client.directory_changes().await.map_err(explain)? {
                let at = render::time(&c.at);
                if json {
                    print_json(&serde_json::json!({
                        "version": c.version, "at": at, "actor": c.actor, "kind": c.kind,
                        "member": c.member, "description": c.description,
                    }));
                } else {
                    println!("v{:<3} {at}  {:<6} {}", c.version, c.actor, c.description);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
