//! 督办函 on the command line: the office issues one (`office supervise`); the office and
//! the member it went to list them and save one as issued (`… supervisions`).

use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Value};

use super::{
    connection::explain,
    member::print_json,
    render::{self, Names},
};
use crate::{client::Client, domain::deadline::DeadlineKind, proto as pb};

#[derive(Args)]
pub struct SupervisionsArgs {
    /// Save this one (its id) as DOCX, exactly as issued, instead of listing.
    #[arg(long)]
    save: Option<String>,
    /// A file, or a directory to save it in under its own name.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// The office: only those to this member.
    #[arg(long)]
    member: Option<String>,
}

/// One 督办函 on a line, then the deadlines it listed.
pub fn line(s: &pb::Supervision, names: &Names) -> String {
    let clerk = if s.clerk.is_empty() { String::new() } else { format!(" · {}", s.clerk) };
    let mut text = format!(
        "{}  {}  → {}  {}{clerk}  {} 件逾期事项  sha256 {}",
        s.id,
        s.number,
        names.member(&s.member),
        render::time(&s.issued_at),
        s.deadlines.len(),
        s.sha256
    );
    for d in &s.deadlines {
        let kind = DeadlineKind::from_number(d.kind).map_or("", |k| k.label());
        text.push_str(&format!("\n    {}  {kind}", d.referral_id));
    }
    text
}

pub fn json(s: &pb::Supervision) -> Value {
    json!({
        "id": s.id,
        "member": s.member,
        "number": s.number,
        "issued_at": render::time(&s.issued_at),
        "clerk": s.clerk,
        "deadlines": s.deadlines.iter().map(|d| json!({
            "referral_id": d.referral_id,
            "kind": DeadlineKind::from_number(d.kind).map(|k| k.code()),
        })).collect::<Vec<_>>(),
        "file_name": s.file_name,
        "sha256": s.sha256,
    })
}

/// Lists the 督办函, or saves one.
pub async fn run(client: &Client, args: SupervisionsArgs, json_out: bool, names: &Names) -> anyhow::Result<()> {
    if let Some(id) = args.save {
        let saved = client.save_supervision(&id, &args.out).await.map_err(explain)?;
        println!("{}  {} bytes", saved.path.display(), saved.bytes);
        return Ok(());
    }
    let found = client.supervisions(args.member.as_deref().unwrap_or_default()).await.map_err(explain)?;
    if found.is_empty() && !json_out {
        println!("没有督办函");
    }
    for s in &found {
        if json_out {
            print_json(&json(s));
        } else {
            println!("{}", line(s, names));
        }
    }
    Ok(())
}
