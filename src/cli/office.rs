//! `xianjie office …`: the joint-meeting office's view of the deadlines, and its ledger.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use tokio_stream::StreamExt;

use super::{
    connection::{explain, Connection},
    member::print_json,
    render::{self, Names},
};
use crate::{domain::deadline::DeadlineKind, proto as pb};

#[derive(Args)]
pub struct OfficeArgs {
    #[command(flatten)]
    connection: Connection,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: OfficeCommand,
}

#[derive(Args)]
struct Filter {
    /// Only this member's deadlines.
    #[arg(long)]
    member: Option<String>,
    /// Only this kind: `send`, `start`, `feedback`, `urgent` or `visit` (the follow-up
    /// visits, listed apart from the statutory periods).
    #[arg(long)]
    kind: Option<String>,
    /// Only those due on or after this day (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Only those due on or before this day.
    #[arg(long)]
    to: Option<String>,
    /// Only those of the referrals with this case reference (案号), whole.
    #[arg(long)]
    case_reference: Option<String>,
    #[arg(long, default_value_t = 200)]
    limit: u32,
}

#[derive(Subcommand)]
enum OfficeCommand {
    /// Deadlines passed unmet, with how many working days each is late.
    Overdue(Filter),
    /// Open deadlines with at most one working day left.
    DueSoon(Filter),
    /// Every pending deadline, or with `--all` every deadline in any state.
    Deadlines {
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        filter: Filter,
    },
    /// 催办 — reminds the member responsible for a deadline.
    Remind {
        referral_id: String,
        /// `send`, `start`, `feedback`, `urgent` or `visit`.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        note: String,
    },
    /// 督办 — issues a 督办函 to a member's leader in charge, listing the member's overdue
    /// deadlines; `--out` saves the DOCX as issued.
    Supervise {
        member: String,
        /// Added to the letter above its closing request.
        #[arg(long, default_value = "")]
        note: String,
        /// A file, or a directory to save it in under its own name.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The 督办函 issued, newest first; `--save ID` saves one as issued.
    Supervisions(super::supervision::SupervisionsArgs),
    /// Requests to extend (延期) waiting for an answer, or a referral's (`--referral`).
    Extensions {
        #[arg(long)]
        referral: Option<String>,
    },
    /// Grants a request to extend by `--days` working days.
    Grant {
        extension_id: String,
        #[arg(long)]
        days: u32,
        #[arg(long, default_value = "")]
        answer: String,
    },
    /// Refuses a request to extend, saying why.
    Refuse {
        extension_id: String,
        #[arg(long)]
        answer: String,
    },
    /// Lets a referral's recipient pause its start deadline once more (补充材料).
    AllowPause { referral_id: String },
    /// The ledger (台账) of every member for a period, masked, as XLSX or CSV.
    Ledger(super::records::LedgerArgs),
    /// The figures for the joint meeting (Art. 23) of a period beside the year before,
    /// as a readable table, `--json`, or a file with `--out`.
    Figures(super::records::FiguresArgs),
    /// Marks a case for the joint meeting's study (重点救助对象), or removes the mark
    /// (`--unmark`).
    KeyCase(super::records::KeyCaseArgs),
    /// Streams the office's deadline events (missed, moved), from `--after N` or the
    /// last acknowledgement.
    Watch {
        #[arg(long)]
        after: Option<u64>,
    },
}

fn kind(raw: &str) -> anyhow::Result<DeadlineKind> {
    DeadlineKind::from_code(raw)
        .ok_or_else(|| anyhow::anyhow!("kind: {raw:?} is not send, start, feedback, urgent or visit"))
}

impl Filter {
    fn request(self, view: pb::DeadlineView) -> anyhow::Result<pb::ListDeadlinesRequest> {
        Ok(pb::ListDeadlinesRequest {
            view: view as i32,
            responsible: self.member.unwrap_or_default(),
            kind: self.kind.as_deref().map(kind).transpose()?.map_or(0, |k| k as i32),
            due_from: self.from.unwrap_or_default(),
            due_to: self.to.unwrap_or_default(),
            case_reference: self.case_reference.unwrap_or_default(),
            limit: self.limit,
        })
    }
}

pub async fn run(args: OfficeArgs) -> anyhow::Result<ExitCode> {
    let client = args.connection.connect("office").await?;
    let json = args.json;
    let names = if json { Names::default() } else { Names::new(&client.members().await.map_err(explain)?) };
    let request = match args.command {
        OfficeCommand::Overdue(filter) => filter.request(pb::DeadlineView::Overdue)?,
        OfficeCommand::DueSoon(filter) => filter.request(pb::DeadlineView::DueSoon)?,
        OfficeCommand::Deadlines { all, filter } => {
            filter.request(if all { pb::DeadlineView::All } else { pb::DeadlineView::Unspecified })?
        }
        OfficeCommand::Remind { referral_id, kind: raw, note } => {
            let kind = pb::DeadlineKind::try_from(kind(&raw)? as i32).unwrap_or_default();
            let deadline = client.remind(&referral_id, kind, &note).await.map_err(explain)?;
            if json {
                print_json(&render::deadline_json(&deadline));
            } else {
                println!("催办已发送 → {}", render::deadline_line(&deadline, &names));
            }
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Supervise { member, note, out } => {
            let issued = client.supervise(&member, &note).await.map_err(explain)?;
            if json {
                print_json(&super::supervision::json(&issued));
            } else {
                println!("督办函已发出 → {}", super::supervision::line(&issued, &names));
            }
            if let Some(out) = out {
                let saved = client.save_supervision(&issued.id, &out).await.map_err(explain)?;
                println!("{}  {} bytes", saved.path.display(), saved.bytes);
            }
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Extensions { referral } => {
            for e in client.extensions(referral.as_deref().unwrap_or_default()).await.map_err(explain)? {
                render::print_extension(&e, json);
            }
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Grant { extension_id, days, answer } => {
            let decided = client.decide_extension(&extension_id, Some(days), &answer).await.map_err(explain)?;
            render::print_extension(&decided, json);
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Refuse { extension_id, answer } => {
            let decided = client.decide_extension(&extension_id, None, &answer).await.map_err(explain)?;
            render::print_extension(&decided, json);
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::AllowPause { referral_id } => {
            let deadline = client.allow_pause(&referral_id).await.map_err(explain)?;
            if json {
                print_json(&render::deadline_json(&deadline));
            } else {
                println!("已允许再次暂停计时 → {}", render::deadline_line(&deadline, &names));
            }
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Supervisions(args) => {
            super::supervision::run(&client, args, json, &names).await?;
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Ledger(args) => {
            super::records::save_ledger(&client, args).await?;
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Figures(args) => {
            super::records::show_figures(&client, args, json).await?;
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::KeyCase(args) => {
            super::records::key_case(&client, args, json).await?;
            return Ok(ExitCode::SUCCESS);
        }
        OfficeCommand::Watch { after } => {
            let mut stream = client.watch(after).await.map_err(explain)?;
            while let Some(event) = stream.next().await {
                let event = event.map_err(explain)?;
                render::print_event(&event, json, &names);
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let listed = client.list_deadlines(request).await.map_err(explain)?;
    if json {
        print_json(&serde_json::json!({
            "today": listed.today,
            "deadlines": listed.deadlines.iter().map(render::deadline_json).collect::<Vec<_>>(),
        }));
    } else {
        // The follow-up visits are the opinion's practice, not a statutory period: apart.
        let visit = pb::DeadlineKind::Visit as i32;
        let (visits, statutory): (Vec<_>, Vec<_>) = listed.deadlines.iter().partition(|d| d.kind == visit);
        println!("今日 {}，共 {} 项", listed.today, listed.deadlines.len());
        for d in &statutory {
            println!("{}", render::deadline_line(d, &names));
        }
        if !visits.is_empty() {
            println!("回访（非法定期限）{} 项", visits.len());
            for d in &visits {
                println!("{}", render::deadline_line(d, &names));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
