//! `xianjie admin members …`: the directory of members changed at run time; and the
//! directory and contacts as every member lists and keeps them.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{
    connection::{explain, Connection},
    member::print_json,
    render,
};
use crate::{
    client::Client,
    domain::{
        notification::{Channel, Event},
        vocabulary::Need,
    },
    proto as pb,
};

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
    Members(Box<MembersCommand>),
    /// The messages the hub sent away from the workbench (e-mail, webhooks, SMS), newest
    /// first; exits 1 when `--failed` finds any given up on.
    Notifications {
        /// Only those given up on after their attempts.
        #[arg(long)]
        failed: bool,
        /// At most this many (up to 200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// 通知方式: by which channels, of which events; what is not given stays.
#[derive(Args, Clone, Default)]
pub struct NotifyArgs {
    /// `email`, `webhook` or `sms`; repeatable. `--channel none` for no channel.
    #[arg(long = "channel")]
    channels: Vec<String>,
    /// `new_referral`, `due_soon`, `missed`, `chased`, `returned`, `withdrawn` or
    /// `fed_back`; repeatable. `--event all` for every one.
    #[arg(long = "event")]
    events: Vec<String>,
    /// The webhook's address (http:// or https://); `""` for none.
    #[arg(long)]
    webhook_url: Option<String>,
    /// `json`, `dingtalk` or `wecom`.
    #[arg(long)]
    webhook_format: Option<String>,
}

impl NotifyArgs {
    /// `current` with what was given laid over it.
    fn over(self, current: pb::Notify) -> pb::Notify {
        let list = |given: Vec<String>, current: Vec<String>, all: &[&str]| match given.as_slice() {
            [] => current,
            [one] if one == "none" => Vec::new(),
            [one] if one == "all" => all.iter().map(|s| (*s).to_owned()).collect(),
            _ => given,
        };
        let events: Vec<&str> = Event::ALL.iter().map(|e| e.code()).collect();
        let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.code()).collect();
        pb::Notify {
            channels: list(self.channels, current.channels, &channels),
            events: list(self.events, current.events, &events),
            webhook_url: self.webhook_url.unwrap_or(current.webhook_url),
            webhook_format: self.webhook_format.unwrap_or(current.webhook_format),
        }
    }
}

/// Changes how `code` is told to what `args` gives, keeping the rest.
pub async fn set_notify(client: &Client, code: &str, args: NotifyArgs, json: bool) -> anyhow::Result<()> {
    let current = client.directory().await.map_err(explain)?.members.into_iter().find(|m| m.code == code);
    let notify = args.over(current.and_then(|m| m.notify).unwrap_or_default());
    let changed = client.set_notify(code, notify).await.map_err(explain)?;
    print_change(&changed, json);
    Ok(())
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
    /// Changes a member's 通知方式: channels, events, webhook (what is not given stays).
    Notify {
        code: String,
        #[command(flatten)]
        notify: NotifyArgs,
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
    /// The liaison's e-mail address, where the hub's e-mail goes.
    #[arg(long)]
    email: Option<String>,
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
            email: self.email.unwrap_or(current.email),
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
        let n = m.notify.clone().unwrap_or_default();
        if json {
            print_json(&serde_json::json!({
                "code": m.code, "name": m.name, "short_name": m.short_name, "needs": needs,
                "articles": m.articles, "active": m.active, "version": directory.version,
                "contacts": {"leader": c.leader, "department": c.department, "liaison": c.liaison,
                             "office_phone": c.office_phone, "mobile": c.mobile, "email": c.email},
                "notify": {"channels": n.channels, "events": n.events, "webhook_url": n.webhook_url,
                           "webhook_format": n.webhook_format},
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
                "      分管领导 {}  内设机构 {}  联络员 {}  办公电话 {}  手机 {}  电子邮箱 {}",
                c.leader, c.department, c.liaison, c.office_phone, c.mobile, c.email
            );
        }
        if !n.channels.is_empty() {
            println!("      通知渠道 {}  通知事项 {}", n.channels.join(", "), n.events.join(", "));
        }
    }
}

pub async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let client = args.connection.connect("admin").await?;
    let json = args.json;
    let command = match args.command {
        AdminCommand::Members(command) => *command,
        AdminCommand::Notifications { failed, limit } => return notifications(&client, failed, limit, json).await,
    };
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
        MembersCommand::Notify { code, notify } => set_notify(&client, &code, notify, json).await?,
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

/// The messages sent or tried, a line each (or their JSON); exit 1 when only failed
/// ones were asked for and some were found.
async fn notifications(client: &Client, failed: bool, limit: u32, json: bool) -> anyhow::Result<ExitCode> {
    let listed = client.notifications(failed, limit).await.map_err(explain)?;
    if !json {
        println!("发送失败（已放弃）的通知：{} 条", listed.failed);
    }
    for n in &listed.notifications {
        let created = render::time(&n.created_at);
        if json {
            print_json(&serde_json::json!({
                "id": n.id, "member": n.member, "event": n.event, "channel": n.channel, "state": n.state,
                "attempts": n.attempts, "last_error": n.last_error, "created_at": created,
                "next_at": render::time(&n.next_at), "subject": n.subject,
            }));
        } else {
            let error = if n.last_error.is_empty() { String::new() } else { format!("  {}", n.last_error) };
            println!(
                "{created}  {:<8} {:<8} {:<7} {:<8} 尝试{}次  {}{error}",
                n.member, n.channel, n.state, n.event, n.attempts, n.subject
            );
        }
    }
    Ok(if failed && listed.failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
