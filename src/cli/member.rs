//! `xianjie member <code> …`: a member's operations through the hub.

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, Subcommand};

use super::{
    connection::{explain, Connection},
    directory,
    render::{self, Names},
    submit_file::{PersonFile, SubmitFile},
};
use crate::{
    client::Cursor,
    domain::{
        case::CaseState,
        deadline::DeadlineKind,
        money,
        referral::State,
        vocabulary::{AidKind, Need, Outcome, RefusalGround, VisitEffect, VisitMethod},
    },
    proto as pb,
};

#[derive(Args)]
pub struct MemberArgs {
    /// Member code (`jcy`, `mz`, …), `office` or `admin`.
    identity: String,
    #[command(flatten)]
    connection: Connection,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: MemberCommand,
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Who the hub says you are.
    Whoami,
    /// The members of the joint meeting, with their contacts.
    Members,
    /// Changes your own 分管领导, 内设机构 or 联络员 (what is not given stays).
    Contacts(directory::ContactsArgs),
    /// Changes your own 通知方式: channels, events, webhook (what is not given stays).
    Notify(directory::NotifyArgs),
    /// Members that serve the given needs.
    Suggest {
        /// A need code, e.g. `legal_aid`; repeatable.
        #[arg(long = "need", required = true)]
        needs: Vec<String>,
    },
    /// Submits a referral (procuratorate) or a clue (agency).
    Submit(Box<SubmitArgs>),
    /// Your referrals, newest first.
    List {
        #[arg(long, conflicts_with = "received")]
        sent: bool,
        #[arg(long)]
        received: bool,
        /// A state code (`submitted`, `received`, …); repeatable.
        #[arg(long = "state")]
        states: Vec<String>,
        #[arg(long)]
        counterpart: Option<String>,
        #[arg(long)]
        case: Option<String>,
        #[command(flatten)]
        search: SearchArgs,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// 待办: every referral awaiting this member's act, one line each, the most urgent
    /// first, with the total.
    Todo {
        #[command(flatten)]
        search: SearchArgs,
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// How many of the most urgent to pass over (the next page: --offset 50).
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// One referral with its history.
    Show {
        id: String,
        /// How each deadline's date was reached, day by day.
        #[arg(long)]
        explain: bool,
    },
    /// The referrals of a case.
    Case { id: String },
    /// 签收.
    Receive { id: String },
    /// 启动程序.
    Start { id: String },
    /// 办结.
    Conclude {
        id: String,
        /// `granted`, `partially_granted` or `not_granted`.
        #[arg(long)]
        outcome: String,
        /// The conclusion date, YYYY-MM-DD.
        #[arg(long)]
        on: String,
        #[arg(long)]
        summary: String,
        /// A kind of aid granted, with its amount in yuan when it is money:
        /// `--aid subsistence=3000元 --aid temporary=500`; repeatable, at least one unless
        /// not granted. Kinds: judicial_assistance, subsistence, temporary, medical,
        /// legal_aid, employment, schooling, rehabilitation, other.
        #[arg(long = "aid", value_name = "KIND[=AMOUNT]")]
        aids: Vec<String>,
        /// Art. 6 ground code for a refused clue; repeatable.
        #[arg(long = "refusal")]
        refusals: Vec<String>,
        /// Feed back in the same step.
        #[arg(long)]
        feedback: Option<String>,
    },
    /// 反馈.
    Feedback { id: String, text: String },
    /// 退回.
    Return {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// 撤回.
    Withdraw {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// 补充材料, with files if any.
    Comment {
        id: String,
        text: String,
        /// A file to attach (PDF, OFD, JPEG, PNG, DOCX, XLSX); repeatable.
        #[arg(long = "attach")]
        attach: Vec<PathBuf>,
        /// The recipient, before it starts: asks the sender for more materials (请求补充
        /// 材料); the start deadline stands still until the sender comments.
        #[arg(long, conflicts_with = "attach")]
        ask_materials: bool,
    },
    /// 延期 — asks the office to extend a deadline you owe, before it falls due.
    Extend {
        id: String,
        /// `start`, `feedback`, `urgent` or `visit`.
        #[arg(long)]
        kind: String,
        /// Working days asked for (1–30).
        #[arg(long)]
        days: u32,
        /// Why (no personal data: the office reads it).
        #[arg(long)]
        reason: String,
    },
    /// The requests to extend a referral's deadlines, and the office's answers.
    Extensions { id: String },
    /// 回访 — records a follow-up visit of a referral you granted aid on.
    Visit {
        id: String,
        /// The day of the visit, YYYY-MM-DD.
        #[arg(long)]
        on: String,
        /// `phone` (电话), `home` (上门) or `at_unit` (到单位).
        #[arg(long)]
        method: String,
        /// 回访人.
        #[arg(long)]
        visitor: String,
        /// 回访情况: what the visit found.
        #[arg(long)]
        findings: String,
        /// The aid is not (yet) in place.
        #[arg(long)]
        aid_not_in_place: bool,
        /// `marked` (明显改善), `some` (有所改善) or `none` (未改善).
        #[arg(long)]
        effect: String,
        /// The person needs another referral.
        #[arg(long)]
        another_referral: bool,
    },
    /// The files a referral carries.
    Attachments { id: String },
    /// Downloads a file of a referral; written only if it arrives whole and matches its
    /// recorded SHA-256.
    Download {
        id: String,
        attachment: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// The referral's letter (移送函) as DOCX, exactly as issued: the newest version, or
    /// `--version N`; `--list` lists the versions with their SHA-256, `--correct`
    /// (its sender) issues a correction (更正) and keeps the earlier ones.
    Letter {
        id: String,
        /// A file, or a directory to save it in under its own name.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        #[arg(long, conflicts_with_all = ["list", "correct"])]
        version: Option<u32>,
        #[arg(long, conflicts_with = "correct")]
        list: bool,
        #[arg(long)]
        correct: bool,
    },
    /// The office's 督办函 to you, newest first; `--save ID` saves one as issued.
    Supervisions(super::supervision::SupervisionsArgs),
    /// Your ledger (台账) of a period as XLSX or CSV: every referral sent or received.
    Ledger(super::records::LedgerArgs),
    /// Your figures of a period beside the year before; `--out` saves them as a table.
    Figures(super::records::FiguresArgs),
    /// The procuratorate: marks a case for the joint meeting's study (重点救助对象), or
    /// removes the mark (`--unmark`).
    KeyCase(super::records::KeyCaseArgs),
    /// A case's dossier for 归档 (zip): letters, files, history, audit excerpt.
    Dossier {
        case: String,
        /// A file, or a directory to save it in under its own name.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Checks that the hub's audit log extends the one a checkpoint you kept signed
    /// (the `checkpoint` of an inbox event in `--json`): asks the hub for its newest
    /// checkpoint and a consistency proof, and checks both here with the hub's public
    /// key. Exits 1 if the log was changed, cut short or restored.
    AuditConsistency {
        #[arg(long)]
        checkpoint: PathBuf,
        /// The hub's audit public key (`audit-signing.pub`).
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Your inbox: what came after your last acknowledgement (or `--after N`).
    Inbox {
        #[arg(long)]
        after: Option<u64>,
        /// The inbox epoch `--after` was read in (`epoch` of an event in `--json`): after
        /// a restore of the hub, the inbox resyncs from your acknowledgement instead.
        #[arg(long, requires = "after")]
        epoch: Option<String>,
        /// Keep streaming live events.
        #[arg(long)]
        follow: bool,
        /// Acknowledge what was shown.
        #[arg(long)]
        ack: bool,
    },
    /// Acknowledges the inbox up to a sequence number.
    Ack {
        seq: u64,
        /// The inbox epoch `seq` was read in; refused when the hub's is another.
        #[arg(long)]
        epoch: Option<String>,
    },
}

#[derive(Args)]
struct SubmitArgs {
    /// A TOML or JSON file with the referral (see README); flags below override it.
    #[arg(long)]
    file: Option<PathBuf>,
    /// A file to attach (PDF, OFD, JPEG, PNG, DOCX, XLSX); repeatable. Each is
    /// uploaded first, then carried by every referral of the submit.
    #[arg(long = "attach")]
    attach: Vec<PathBuf>,
    /// `social_assistance` or `judicial_clue`.
    #[arg(long)]
    kind: Option<String>,
    /// Recipient member code; repeatable.
    #[arg(long = "to")]
    recipients: Vec<String>,
    #[arg(long)]
    case: Option<String>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    id_number: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    household: Option<String>,
    /// Situation code (Art. 4); repeatable.
    #[arg(long = "situation")]
    situations: Vec<String>,
    /// Priority group code (Art. 5); repeatable.
    #[arg(long = "priority")]
    priority_groups: Vec<String>,
    /// Need code; repeatable.
    #[arg(long = "need")]
    needs: Vec<String>,
    #[arg(long)]
    narrative: Option<String>,
    #[arg(long)]
    case_reference: Option<String>,
    #[arg(long)]
    investigation_ended_on: Option<String>,
    #[arg(long)]
    advance_reason: Option<String>,
    #[arg(long)]
    discovered_on: Option<String>,
    #[arg(long)]
    urgent: bool,
}

impl SubmitArgs {
    fn into_file(self) -> anyhow::Result<SubmitFile> {
        let mut f = match &self.file {
            Some(path) => SubmitFile::parse(path)?,
            None => SubmitFile { person: PersonFile::default(), ..SubmitFile::default() },
        };
        let set = |target: &mut String, value: Option<String>| {
            if let Some(v) = value {
                *target = v;
            }
        };
        set(&mut f.kind, self.kind);
        set(&mut f.person.name, self.name);
        set(&mut f.person.id_number, self.id_number);
        set(&mut f.person.phone, self.phone);
        set(&mut f.person.address, self.address);
        set(&mut f.person.household, self.household);
        set(&mut f.narrative, self.narrative);
        set(&mut f.case_reference, self.case_reference);
        set(&mut f.investigation_ended_on, self.investigation_ended_on);
        set(&mut f.discovered_on, self.discovered_on);
        if let Some(reason) = self.advance_reason {
            f.advance = true;
            f.advance_reason = reason;
        }
        f.urgent |= self.urgent;
        for (target, extra) in [
            (&mut f.recipients, self.recipients),
            (&mut f.situations, self.situations),
            (&mut f.priority_groups, self.priority_groups),
            (&mut f.needs, self.needs),
        ] {
            if !extra.is_empty() {
                *target = extra;
            }
        }
        if self.case.is_some() {
            f.case_id = self.case;
        }
        Ok(f)
    }
}

pub fn print_json(value: &serde_json::Value) {
    println!("{value:#}");
}

fn code_of<T: Copy>(what: &str, raw: &str, from_code: fn(&str) -> Option<T>) -> anyhow::Result<T> {
    from_code(raw).ok_or_else(|| anyhow::anyhow!("{what}: {raw:?} is not a known code"))
}

/// Which referrals to find: a person or a case, and the days submitted.
#[derive(clap::Args, Debug, Default)]
pub struct SearchArgs {
    /// A full name, ID number or case reference (案号), matched whole.
    #[arg(long)]
    search: Option<String>,
    /// Submitted from this day (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Submitted up to this day, included.
    #[arg(long)]
    to: Option<String>,
}

/// One `--aid KIND[=AMOUNT]`: `subsistence=3000元`, or `legal_aid` for aid that is not
/// money. The amount is read as the workbench reads it.
fn aid(raw: &str) -> anyhow::Result<pb::Aid> {
    let (kind, amount) = raw.split_once('=').unwrap_or((raw, ""));
    let fen = money::parse_yuan("aid", amount).map_err(|v| anyhow::anyhow!("--{}: {}", v.field, v.description()))?;
    Ok(pb::Aid { kind: code_of("aid", kind.trim(), AidKind::from_code)?.number(), fen })
}

pub async fn run(args: MemberArgs) -> anyhow::Result<ExitCode> {
    let client = args.connection.connect(&args.identity).await?;
    let json = args.json;
    let names = match &args.command {
        MemberCommand::Whoami | MemberCommand::Ack { .. } => Names::default(),
        _ if json => Names::default(),
        _ => Names::new(&client.members().await.map_err(explain)?),
    };
    let show = |r: &pb::Referral| {
        if json {
            print_json(&render::referral_json(r));
        } else {
            println!("{}", render::referral_line(r, &names));
        }
    };
    match args.command {
        MemberCommand::Whoami => {
            let me = client.who_am_i().await.map_err(explain)?;
            if json {
                print_json(&serde_json::json!({"code": me.code, "name": me.name, "role": me.role}));
            } else {
                println!("{} {} ({})", me.code, me.name, me.role);
            }
        }
        MemberCommand::Members => directory::print_members(&client.directory().await.map_err(explain)?, json),
        MemberCommand::Contacts(contacts) => {
            directory::update_contacts(&client, &args.identity, contacts, json).await?
        }
        MemberCommand::Notify(notify) => directory::set_notify(&client, &args.identity, notify, json).await?,
        MemberCommand::Suggest { needs } => {
            let numbers = needs
                .iter()
                .map(|n| code_of("need", n, Need::from_code).map(Need::number))
                .collect::<anyhow::Result<_>>()?;
            for s in client.suggest(numbers).await.map_err(explain)? {
                let m = s.member.unwrap_or_default();
                let matched: Vec<_> =
                    s.matched.iter().filter_map(|n| Need::from_number(*n)).map(|n| n.code()).collect();
                if json {
                    print_json(&serde_json::json!({"code": m.code, "name": m.name, "matched": matched}));
                } else {
                    println!("{}  {}", names.member(&m.code), matched.join(", "));
                }
            }
        }
        MemberCommand::Submit(submit) => {
            let attach = submit.attach.clone();
            let file = submit.into_file()?;
            let attachments = upload_all(&client, &attach).await?;
            let answer = client
                .submit_with(file.draft()?, file.recipients.clone(), file.case_id.clone(), attachments)
                .await
                .map_err(explain)?;
            if json {
                print_json(
                    &serde_json::json!({"case_id": answer.case_id, "referrals": answer.referrals.iter().map(render::referral_json).collect::<Vec<_>>()}),
                );
            } else {
                println!("case {}", answer.case_id);
                answer.referrals.iter().for_each(show);
            }
        }
        MemberCommand::List { sent, received, states, counterpart, case, search, limit } => {
            let direction = match (sent, received) {
                (true, _) => pb::Direction::Sent,
                (_, true) => pb::Direction::Received,
                _ => pb::Direction::Unspecified,
            };
            let states = states
                .iter()
                .map(|s| code_of("state", s, State::from_code).map(|s| s as i32))
                .collect::<anyhow::Result<_>>()?;
            let request = pb::ListReferralsRequest {
                direction: direction as i32,
                states,
                counterpart: counterpart.unwrap_or_default(),
                case_id: case.unwrap_or_default(),
                page_size: limit,
                page_token: String::new(),
                search: search.search.unwrap_or_default(),
                submitted_from: search.from.unwrap_or_default(),
                submitted_to: search.to.unwrap_or_default(),
            };
            client.list(request).await.map_err(explain)?.referrals.iter().for_each(show);
        }
        MemberCommand::Todo { search, limit, offset } => {
            let request = pb::ToDoRequest {
                search: search.search.unwrap_or_default(),
                submitted_from: search.from.unwrap_or_default(),
                submitted_to: search.to.unwrap_or_default(),
                page_size: limit,
                offset,
            };
            let to_do = client.to_do(request).await.map_err(explain)?;
            if json {
                print_json(&serde_json::json!({
                    "total": to_do.total,
                    "items": to_do.items.iter().map(render::to_do_json).collect::<Vec<_>>(),
                }));
            } else {
                let shown = to_do.items.len() as u32;
                match shown {
                    0 => println!("共 {} 件待办", to_do.total),
                    _ => println!("共 {} 件待办，以下为第 {}–{} 件", to_do.total, offset + 1, offset + shown),
                }
                for item in &to_do.items {
                    println!("{}", render::to_do_line(item, &names));
                }
            }
        }
        MemberCommand::Show { id, explain: explained } => {
            let found = client.get(&id).await.map_err(explain)?;
            if json {
                print_json(&render::referral_json(&found.referral.clone().unwrap_or_default()));
            } else {
                print!("{}", render::referral_details(&found, &names, explained));
            }
        }
        MemberCommand::Case { id } => {
            let case = client.case(&id).await.map_err(explain)?;
            if !json {
                let state = CaseState::from_number(case.state).map_or("", CaseState::label);
                println!("case {} {state}", case.case_id);
            }
            case.referrals.iter().for_each(show);
        }
        MemberCommand::Receive { id } => show(&client.receive(&id).await.map_err(explain)?),
        MemberCommand::Start { id } => show(&client.start(&id).await.map_err(explain)?),
        MemberCommand::Conclude { id, outcome, on, summary, aids, refusals, feedback } => {
            let conclusion = pb::Conclusion {
                outcome: code_of("outcome", &outcome, Outcome::from_code)?.number(),
                concluded_on: on,
                summary,
                aids: aids.iter().map(|a| aid(a)).collect::<anyhow::Result<_>>()?,
                refusal_grounds: refusals
                    .iter()
                    .map(|g| code_of("refusal", g, RefusalGround::from_code).map(RefusalGround::number))
                    .collect::<anyhow::Result<_>>()?,
                ..Default::default()
            };
            show(&client.conclude(&id, conclusion, feedback).await.map_err(explain)?);
        }
        MemberCommand::Feedback { id, text } => show(&client.feedback(&id, &text).await.map_err(explain)?),
        MemberCommand::Return { id, reason } => show(&client.return_referral(&id, &reason).await.map_err(explain)?),
        MemberCommand::Withdraw { id, reason } => show(&client.withdraw(&id, &reason).await.map_err(explain)?),
        MemberCommand::Comment { id, text, attach, ask_materials: true } => {
            debug_assert!(attach.is_empty());
            show(&client.ask_materials(&id, &text).await.map_err(explain)?)
        }
        MemberCommand::Comment { id, text, attach, ask_materials: false } => {
            let attachments = upload_all(&client, &attach).await?;
            show(&client.comment_with(&id, &text, attachments).await.map_err(explain)?)
        }
        MemberCommand::Extend { id, kind, days, reason } => {
            let kind = code_of("kind", &kind, DeadlineKind::from_code)?;
            let kind = pb::DeadlineKind::try_from(kind as i32).unwrap_or_default();
            let asked = client.ask_extension(&id, kind, days, &reason).await.map_err(explain)?;
            super::render::print_extension(&asked, json);
        }
        MemberCommand::Extensions { id } => {
            for e in client.extensions(&id).await.map_err(explain)? {
                super::render::print_extension(&e, json);
            }
        }
        MemberCommand::Visit { id, on, method, visitor, findings, aid_not_in_place, effect, another_referral } => {
            let visit = pb::Visit {
                visited_on: on,
                method: code_of("method", &method, VisitMethod::from_code)?.number(),
                visitor,
                findings,
                aid_in_place: !aid_not_in_place,
                effect: code_of("effect", &effect, VisitEffect::from_code)?.number(),
                another_referral,
                ..Default::default()
            };
            show(&client.visit(&id, visit).await.map_err(explain)?)
        }
        MemberCommand::Attachments { id } => {
            let files = client.attachments(&id).await.map_err(explain)?;
            if json {
                print_json(&serde_json::Value::Array(files.iter().map(render::attachment_json).collect()));
            } else {
                files.iter().for_each(|a| println!("{}", render::attachment_line(a)));
            }
        }
        MemberCommand::Download { id, attachment, out } => {
            let file = client.download(&id, &attachment, &out).await.map_err(explain)?;
            println!("{}  {} bytes  sha256 {}  checked", out.display(), file.size, file.sha256);
        }
        MemberCommand::Letter { id, out, version, list, correct } => {
            if correct {
                let issued = client.correct_letter(&id).await.map_err(explain)?;
                println!("{}  version {}  sha256 {}", issued.number, issued.version, issued.sha256);
            } else if list {
                for l in client.letters(&id).await.map_err(explain)? {
                    let clerk = if l.clerk.is_empty() { "系统" } else { l.clerk.as_str() };
                    let at = super::render::time(&l.issued_at);
                    println!("{}  {}  {at}  {} · {clerk}  sha256 {}", l.version, l.number, l.issued_by, l.sha256);
                }
            } else {
                let saved = client.save_letter_version(&id, version.unwrap_or(0), &out).await.map_err(explain)?;
                println!("{}  {} bytes", saved.path.display(), saved.bytes);
            }
        }
        MemberCommand::Supervisions(args) => super::supervision::run(&client, args, json, &names).await?,
        MemberCommand::Ledger(args) => super::records::save_ledger(&client, args).await?,
        MemberCommand::Figures(args) => super::records::show_figures(&client, args, json).await?,
        MemberCommand::KeyCase(args) => super::records::key_case(&client, args, json).await?,
        MemberCommand::Dossier { case, out } => {
            let saved = client.save_dossier(&case, &out).await.map_err(explain)?;
            println!("{}  {} bytes", saved.path.display(), saved.bytes);
        }
        MemberCommand::AuditConsistency { checkpoint, public_key } => {
            let text = anyhow::Context::with_context(std::fs::read_to_string(&checkpoint), || {
                format!("reading {}", checkpoint.display())
            })?;
            let kept: crate::domain::audit::Checkpoint =
                anyhow::Context::with_context(serde_json::from_str(&text), || {
                    format!("{}: not a checkpoint", checkpoint.display())
                })?;
            let public_key = crate::audit::read_public_key(&public_key)?;
            let (newest, proof) = client.prove_consistency(&kept).await.map_err(explain)?;
            match crate::audit::consistent(&kept, &newest, &proof, &public_key) {
                Ok(report) => println!("audit log consistent: {report}"),
                Err(broken) => {
                    println!("audit log broken: {broken}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        MemberCommand::Inbox { after, epoch, follow, ack } => {
            // Acknowledging 0 never lowers the acknowledgement: it reads the position.
            let position = client.ack(0).await.map_err(explain)?;
            // Numbers from before a restore: what came after the acknowledgement instead.
            let after = match after {
                Some(seq) if seq > position.head_seq => {
                    eprintln!(
                        "--after {seq} is beyond the inbox's end ({}): the hub's database was restored; showing what came after your acknowledgement ({}) instead",
                        position.head_seq, position.acked_seq
                    );
                    None
                }
                after => after,
            };
            let mut inbox = client.follow(Cursor::new(epoch.unwrap_or_default(), after));
            let mut last = None;
            if follow || after.unwrap_or(position.acked_seq) < position.head_seq {
                let mut told = 0;
                while let Some(event) = inbox.next().await {
                    let event = event.map_err(explain)?;
                    if inbox.renumbered() > told {
                        told = inbox.renumbered();
                        eprintln!("the hub's inbox was renumbered (its database was restored); resyncing from your acknowledgement, events already shown are left out");
                    }
                    render::print_event(&event, json, &names);
                    last = Some(event.seq);
                    if follow && ack {
                        client.ack_in(event.seq, &event.epoch).await.map_err(explain)?;
                    }
                    if !follow && event.seq >= position.head_seq {
                        break;
                    }
                }
            }
            if let (Some(seq), true) = (last, ack && !follow) {
                client.ack_in(seq, &inbox.cursor().epoch).await.map_err(explain)?;
            }
        }
        MemberCommand::Ack { seq, epoch } => {
            let position = client.ack_in(seq, epoch.as_deref().unwrap_or_default()).await.map_err(explain)?;
            if json {
                print_json(&serde_json::json!({
                    "acked_seq": position.acked_seq,
                    "head_seq": position.head_seq,
                    "epoch": position.epoch,
                }));
            } else {
                println!("acknowledged up to #{} (newest #{})", position.acked_seq, position.head_seq);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Uploads each file, saying so, and returns their ids.
async fn upload_all(client: &crate::client::Client, files: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(files.len());
    for path in files {
        let stored = client.upload_file(path).await.map_err(explain)?;
        eprintln!("uploaded {}  {}", path.display(), render::attachment_line(&stored));
        ids.push(stored.id);
    }
    Ok(ids)
}
