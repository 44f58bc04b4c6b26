//! The records of the joint meeting (Art. 23, 25): each member's ledger (台账) of the
//! referrals it sent or received in a period, and the office's of all members, masked,
//! as XLSX or CSV; and the figures for the annual meeting, beside the year before.

use chrono::{DateTime, Utc};
use tokio::{sync::mpsc, task::JoinHandle};
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
        deadline::Deadline,
        figures::{Figures, Tally, Value},
        history::HistoryEntry,
        key_case::KeyCase,
        ledger::{self, Entry},
        letter::DocumentNumber,
        period::Period,
        person::text,
        referral::Referral,
        view::{Seen, View},
        visit::VisitRecord,
        MemberCode, Role,
    },
    store::{ListQuery, Opening, StoreError},
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

/// Pages listed ahead of the one being written, their parts being read meanwhile.
const AHEAD: usize = 2;

/// Referrals a ledger's audit entry names at most: each entry is a commit, and every
/// commit makes the readers' page caches start again.
const AUDITED_AT_ONCE: usize = 20_000;

/// A page's parts of one kind in the order of the id each belongs to (a referral's, or
/// its case's), each id's found by halving: grouped without a map or a vector per id.
struct Grouped<T> {
    items: Vec<T>,
    id: fn(&T) -> Uuid,
}

impl<T> Grouped<T> {
    /// `items` grouped by `id`, each group in the order it came in.
    fn new(mut items: Vec<T>, id: fn(&T) -> Uuid) -> Self {
        items.sort_by_key(id);
        Self { items, id }
    }

    fn of(&self, wanted: Uuid) -> &[T] {
        let start = self.items.partition_point(|item| (self.id)(item) < wanted);
        let rest = &self.items[start..];
        &rest[..rest.partition_point(|item| (self.id)(item) == wanted)]
    }
}

/// Where a ledger's reading stands: the reader, whose ledger and of what period.
#[derive(Clone)]
struct Reading {
    hub: Hub,
    view: View,
    member: Option<MemberCode>,
    period: Period,
}

impl Reading {
    /// The referrals of the page after `after`, as the reader sees them; only what a
    /// ledger shows is opened. With where the next page starts, if there may be one.
    async fn list(
        &self,
        after: Option<(DateTime<Utc>, Uuid)>,
    ) -> Result<(Vec<Referral<Seen>>, Option<(DateTime<Utc>, Uuid)>), AppError> {
        let query = ListQuery {
            sent: true,
            received: true,
            submitted: Some(self.period.instants()),
            after,
            oldest_first: true,
            limit: PAGE,
            opening: Opening::Listed,
            ..ListQuery::default()
        };
        let page = self.hub.store.list(self.member.as_ref(), &query).await?;
        let next = page.last().filter(|_| page.len() == PAGE as usize).map(|last| (last.submitted_at, last.id));
        Ok((page.into_iter().map(|r| self.view.referral(r)).collect(), next))
    }

    /// The pages of the ledger in order, each listed as soon as the one before is (its
    /// parts then read while later pages are listed), at most [`AHEAD`] waiting to be
    /// written. A page that failed to read is the last.
    fn pages(self) -> mpsc::Receiver<JoinHandle<Result<Page, AppError>>> {
        let (pages, received) = mpsc::channel(AHEAD);
        tokio::spawn(async move {
            let mut after = None;
            loop {
                let listed = self.list(after).await;
                let next = listed.as_ref().ok().and_then(|(_, next)| *next);
                let hub = self.hub.clone();
                let page = tokio::spawn(async move { Page::read(&hub, listed?.0).await });
                if pages.send(page).await.is_err() {
                    return;
                }
                match next {
                    Some(next) => after = Some(next),
                    None => return,
                }
            }
        });
        received
    }
}

/// A page of a ledger: its referrals as the reader sees them, with their parts.
struct Page {
    referrals: Vec<Referral<Seen>>,
    histories: Grouped<HistoryEntry>,
    deadlines: Grouped<Deadline>,
    numbers: Grouped<(Uuid, DocumentNumber)>,
    visits: Grouped<VisitRecord>,
    keys: Grouped<KeyCase>,
}

impl Page {
    /// The parts of `referrals`, each read on a connection of its own.
    async fn read(hub: &Hub, referrals: Vec<Referral<Seen>>) -> Result<Self, AppError> {
        let ids: Vec<Uuid> = referrals.iter().map(|r| r.id).collect();
        let cases: Vec<Uuid> = referrals.iter().map(|r| r.case_id).collect();
        let (histories, deadlines, numbers, visits, keys) = tokio::join!(
            hub.store.history(&ids, Opening::Listed),
            hub.store.deadlines(&ids),
            hub.store.document_numbers(&ids),
            hub.store.visits(&ids),
            hub.store.key_cases(&cases),
        );
        Ok(Self {
            referrals,
            histories: Grouped::new(histories?, |e| e.referral_id),
            deadlines: Grouped::new(deadlines?, |d| d.referral_id),
            numbers: Grouped::new(numbers?, |(id, _)| *id),
            visits: Grouped::new(visits?, |v| v.referral_id),
            keys: Grouped::new(keys?, |k| k.case_id),
        })
    }

    fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.referrals.iter().map(|referral| Entry {
            referral,
            history: self.histories.of(referral.id),
            deadlines: self.deadlines.of(referral.id),
            number: self.numbers.of(referral.id).first().map(|(_, number)| number),
            visits: self.visits.of(referral.id),
            key: self.keys.of(referral.case_id).first(),
        })
    }
}

/// The ledger of `period` as it will be made (a whole period is read for it), or the
/// refusal, at once, of a caller who may not read ledgers.
pub fn ledger(
    hub: &Hub,
    actor: &Actor,
    period: &Period,
    format: TableFormat,
) -> Result<impl std::future::Future<Output = Result<Document, AppError>> + Send + 'static, AppError> {
    identity::reader(&actor.caller)?;
    let (hub, actor, period) = (hub.clone(), actor.clone(), *period);
    Ok(async move { make_ledger(&hub, &actor, &period, format).await })
}

/// The ledger of `period`: a member's referrals sent or received, its people in full,
/// or, for the office, every member's, masked; oldest first. Read a page at a time,
/// later pages read while one is written, so memory does not grow with the period. The
/// referrals are audited as read every [`AUDITED_AT_ONCE`] and at the end, before the
/// ledger is handed over.
async fn make_ledger(hub: &Hub, actor: &Actor, period: &Period, format: TableFormat) -> Result<Document, AppError> {
    let member = (actor.caller.role != Role::Office).then(|| actor.caller.code.clone());
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
    let file_name = format!("台账-{}-{}", whose(member.as_ref()), period.slug());
    let mut pages = Reading { hub: hub.clone(), view: View::of(actor.caller.role), member, period: *period }.pages();
    let (mut written, mut unaudited) = (0, Vec::new());
    while let Some(page) = pages.recv().await {
        let page = page.await.map_err(|e| AppError::Store(StoreError::Corrupt(format!("reading a ledger: {e}"))))??;
        for entry in page.entries() {
            written += 1;
            table.row(&ledger::row(written, &entry, &directory, today, &calendar))?;
        }
        unaudited.extend(page.referrals.iter().map(|r| r.id));
        if unaudited.len() >= AUDITED_AT_ONCE {
            hub.audit_read(actor, "ExportLedger", std::mem::take(&mut unaudited)).await?;
        }
    }
    if !unaudited.is_empty() {
        hub.audit_read(actor, "ExportLedger", unaudited).await?;
    }
    format.document(file_name, table).await
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

/// The media type of a DOCX file.
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The 通报 of `figures` as a DOCX draft the office edits before it signs, numbered
/// `number` (its 文号, at most 50 characters; empty for it to fill in), dated today;
/// issued by the joint meeting's office, or by the member whose figures they are.
pub fn report(hub: &Hub, figures: &Figures, number: &str) -> Result<Document, AppError> {
    let number = text("number", number, 0, 50).map_err(|v| AppError::Domain(v.into()))?;
    let directory = hub.directory.now();
    let issuer = match &figures.member {
        None => directory.office_name(),
        Some(code) => directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone()),
    };
    let now = hub.clock.now();
    let report = crate::domain::report::compose(figures, &directory, &issuer, &number, local_date(now));
    let bytes = crate::documents::docx::report(&report, local_time(now))?;
    Ok(Document {
        file_name: format!("通报-{}-{}.docx", whose(figures.member.as_ref()), figures.period.slug()),
        body: Body::Bytes(bytes),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_parts_are_found_by_their_id_each_group_in_the_order_it_came() {
        let id = |n: u128| Uuid::from_u128(n);
        let parts = vec![(id(3), "c1"), (id(1), "a1"), (id(3), "c2"), (id(1), "a2"), (id(5), "e1")];
        let grouped = Grouped::new(parts, |(id, _)| *id);
        let of = |n| grouped.of(id(n)).iter().map(|(_, v)| *v).collect::<Vec<_>>();
        assert_eq!(of(1), ["a1", "a2"]);
        assert_eq!(of(3), ["c1", "c2"]);
        assert_eq!(of(5), ["e1"]);
        assert!(of(0).is_empty() && of(2).is_empty() && of(6).is_empty());
    }
}
