//! The records of the joint meeting (Art. 23, 25): each member's ledger (台账) of the
//! referrals it sent or received in a period, and the office's of all members, masked,
//! as XLSX or CSV; and the figures for the annual meeting, beside the year before.

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    identity, key_cases,
    written::{Body, Document},
    Actor, AppError, Hub,
};
use crate::{
    documents::table::{Heading, TableWriter},
    domain::{
        date::{local_date, local_time},
        figures::{Figures, Tally, Value},
        ledger::{self, Entry},
        period::Period,
        view::View,
        MemberCode, Role,
    },
    store::ListQuery,
};

/// The file a table is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Xlsx,
    Csv,
}

impl TableFormat {
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Xlsx => "xlsx",
            TableFormat::Csv => "csv",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            TableFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            TableFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    /// A table of this format with `heading`, its rows to come.
    fn writer(self, heading: &Heading<'_>) -> Result<TableWriter, AppError> {
        Ok(match self {
            TableFormat::Xlsx => TableWriter::xlsx(heading)?,
            TableFormat::Csv => TableWriter::csv(heading)?,
        })
    }

    /// `table`, complete, as a document named `name` and this format's extension;
    /// finished away from the runtime's workers (an XLSX is zipped then).
    async fn document(self, name: String, table: TableWriter) -> Result<Document, AppError> {
        let file = tokio::task::spawn_blocking(move || table.finish())
            .await
            .map_err(|e| AppError::Store(crate::store::StoreError::Corrupt(format!("writing a table: {e}"))))??;
        Ok(Document { file_name: format!("{name}.{}", self.extension()), body: Body::Spooled(file) })
    }
}

/// Whose records: the member's code, or `office` for the office's.
fn whose(member: Option<&MemberCode>) -> &str {
    member.map_or("office", |m| m.as_str())
}

/// Referrals read at a time: a page of the ledger, its parts read together.
const PAGE: u32 = 2_000;

/// Groups `items` by the referral each belongs to.
fn by_referral<T>(items: Vec<T>, id: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for item in items {
        grouped.entry(id(&item)).or_default().push(item);
    }
    grouped
}

/// The ledger of `period`: a member's referrals sent or received, its people in full,
/// or, for the office, every member's, masked; oldest first. Read a page at a time and
/// written as it is read, so memory does not grow with the period; each page audited
/// as a read of the referrals it lists.
pub async fn ledger(hub: &Hub, actor: &Actor, period: &Period, format: TableFormat) -> Result<Document, AppError> {
    identity::reader(&actor.caller)?;
    let member = (actor.caller.role != Role::Office).then(|| actor.caller.code.clone());
    let view = View::of(actor.caller.role);
    let (today, calendar) = (local_date(hub.clock.now()), hub.calendar());
    let directory = hub.directory.now();
    let name = match &member {
        Some(code) => directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone()),
        None => "联席会议".to_owned(),
    };
    let title = format!("{name}救助衔接台账（{}）", period.label());
    let sheet = format!("台账 {}", period.label());
    let headers = ledger::headers();
    let heading = Heading { title: &title, sheet: &sheet, headers: &headers, made_at: local_time(hub.clock.now()) };
    let mut table = format.writer(&heading)?;
    let (mut after, mut written) = (None, 0);
    loop {
        let query = ListQuery {
            sent: true,
            received: true,
            submitted: Some(period.instants()),
            after,
            oldest_first: true,
            limit: PAGE,
            ..ListQuery::default()
        };
        let page = hub.store.list(member.as_ref(), &query).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.submitted_at, last.id));
        let more = page.len() == PAGE as usize;
        let ids: Vec<Uuid> = page.iter().map(|r| r.id).collect();
        hub.audit_read(actor, "ExportLedger", ids.clone()).await?;
        let chunk: Vec<_> = page.into_iter().map(|r| view.referral(r)).collect();
        let cases: Vec<Uuid> = chunk.iter().map(|r| r.case_id).collect();
        // The page's parts, each read on a connection of its own.
        let (histories, deadlines, numbers, visits, keys) = tokio::join!(
            hub.store.history(&ids),
            hub.store.deadlines(&ids),
            hub.store.document_numbers(&ids),
            hub.store.visits(&ids),
            hub.store.key_cases(&cases),
        );
        let histories = by_referral(histories?, |e| e.referral_id);
        let deadlines = by_referral(deadlines?, |d| d.referral_id);
        let numbers: HashMap<_, _> = numbers?.into_iter().collect();
        let visits = by_referral(visits?, |v| v.referral_id);
        let keys: HashMap<_, _> = keys?.into_iter().map(|k| (k.case_id, k)).collect();
        for referral in &chunk {
            let entry = Entry {
                referral,
                history: histories.get(&referral.id).map_or(&[], Vec::as_slice),
                deadlines: deadlines.get(&referral.id).map_or(&[], Vec::as_slice),
                number: numbers.get(&referral.id),
                visits: visits.get(&referral.id).map_or(&[], Vec::as_slice),
                key: keys.get(&referral.case_id),
            };
            written += 1;
            table.row(&ledger::row(written, &entry, &directory, today, &calendar))?;
        }
        if !more {
            break;
        }
    }
    format.document(format!("台账-{}-{}", whose(member.as_ref()), period.slug()), table).await
}

/// The figures of `period` beside the same period a year before: the office's over
/// every member, a member's over its own referrals and deadlines. They hold no person,
/// so reading them is not audited.
pub async fn figures(hub: &Hub, actor: &Actor, period: &Period) -> Result<Figures, AppError> {
    identity::reader(&actor.caller)?;
    let member = (actor.caller.role != Role::Office).then(|| actor.caller.code.clone());
    let (today, calendar) = (local_date(hub.clock.now()), hub.calendar());
    let before = period.a_year_before();
    // The four are read at once, each on a connection of its own.
    let (this, earlier, overdue, key_cases) = tokio::join!(
        hub.store.figure_counts(member.as_ref(), period, today),
        hub.store.figure_counts(member.as_ref(), &before, today),
        hub.store.overdue(member.as_ref(), today),
        key_cases::lines(hub, period, member.as_ref()),
    );
    Ok(Figures {
        period: *period,
        member: member.clone(),
        this: Tally::of(&this?, &calendar),
        before: Tally::of(&earlier?, &calendar),
        overdue: overdue?,
        today,
        key_cases: key_cases?,
    })
}

/// The figures as a table of one sheet: each line with this period, the year before
/// and the change.
pub async fn figures_table(hub: &Hub, figures: &Figures, format: TableFormat) -> Result<Document, AppError> {
    let directory = hub.directory.now();
    let (this, before) = (figures.period.label(), figures.period.a_year_before().label());
    let headers = ["类别", "指标", &this, &before, "同比"].map(str::to_owned).to_vec();
    let name = |m: &MemberCode| directory.get(m).map_or_else(|| m.to_string(), |d| d.short_name.clone());
    let key_cases = figures.key_cases.iter().enumerate().map(|(n, k)| {
        let members = k.members.iter().map(name).collect::<Vec<_>>().join("、");
        vec![
            ledger::Cell::Text("重点救助对象名单".to_owned()),
            ledger::Cell::Text(format!("{}. {members}：{}", n + 1, k.mark.reason)),
            ledger::Cell::Text(format!("移送 {} 件，{}", k.referrals, k.state.label())),
            ledger::Cell::Empty,
            ledger::Cell::Text(format!("{} {} 标记", name(&k.mark.marked_by), local_date(k.mark.marked_at))),
        ]
    });
    let rows: Vec<Vec<ledger::Cell>> = figures
        .lines(&directory)
        .iter()
        .map(|line| {
            let value = |v: &Value| match v {
                Value::Count(n) => ledger::Cell::Number(*n as i64),
                Value::Yuan(fen) => ledger::Cell::Yuan(*fen),
                other => ledger::Cell::Text(other.text()),
            };
            vec![
                ledger::Cell::Text(line.section.to_owned()),
                ledger::Cell::Text(line.label.clone()),
                value(&line.this),
                value(&line.before),
                ledger::Cell::Text(line.change_text()),
            ]
        })
        .chain(key_cases)
        .collect();
    let title = report_title(figures, &directory);
    let heading = Heading {
        title: &title,
        sheet: &format!("数据 {}", figures.period.label()),
        headers: &headers,
        made_at: local_time(hub.clock.now()),
    };
    let mut table = format.writer(&heading)?;
    for row in &rows {
        table.row(row)?;
    }
    format.document(format!("数据-{}-{}", whose(figures.member.as_ref()), figures.period.slug()), table).await
}

/// How the office titles its 通报 to the annual meeting, or a member its own figures.
pub fn report_title(figures: &Figures, directory: &crate::domain::directory::Directory) -> String {
    match &figures.member {
        None => format!("关于{}司法救助与社会救助衔接工作情况的通报", figures.period.label()),
        Some(code) => format!(
            "{}{}司法救助与社会救助衔接工作情况",
            directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone()),
            figures.period.label()
        ),
    }
}
