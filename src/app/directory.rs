//! 成员单位目录 at run time (Art. 22): the directory each hub serves, kept in the store
//! version by version; changes checked by the domain, written with an event for every
//! member and the office, and taken up at once by this hub and by the others on the same
//! database when they next look.

use std::sync::Arc;

use tokio::sync::watch;

use super::{Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey, ATTEMPTS};
use crate::{
    domain::{
        directory::{Directory, DirectoryChange, DirectoryEntry},
        lifecycle::Notice,
        MemberCode,
    },
    store::{Commit, DirectoryRecord, Store, StoreError},
};

/// The directory as this hub serves it. Whoever watches it (the live streams, which
/// end for a member suspended) hears of each newer version.
#[derive(Clone)]
pub struct SharedDirectory(Arc<watch::Sender<Arc<Directory>>>);

impl SharedDirectory {
    pub fn new(directory: Directory) -> Self {
        Self(Arc::new(watch::Sender::new(Arc::new(directory))))
    }

    /// The directory as it is now.
    pub fn now(&self) -> Arc<Directory> {
        self.0.borrow().clone()
    }

    /// Each version as it is taken up.
    pub fn watch(&self) -> watch::Receiver<Arc<Directory>> {
        self.0.subscribe()
    }

    /// Serves `directory` if it is newer than the one served; says whether it was.
    fn take_up(&self, directory: Arc<Directory>) -> bool {
        self.0.send_if_modified(|current| {
            let newer = directory.version() > current.version();
            if newer {
                *current = directory;
            }
            newer
        })
    }
}

/// The directory in the store; a store that has none gets `seed` (the configured file
/// or the shipped list) as its version 0. Another hub seeding at the same moment wins.
pub async fn load(
    store: &dyn Store,
    seed: Directory,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Directory, StoreError> {
    for _ in 0..ATTEMPTS {
        if let Some(stored) = store.directory().await? {
            return Ok(stored);
        }
        let change = DirectoryChange::Seeded;
        let entry = DirectoryEntry {
            version: seed.version(),
            at,
            actor: MemberCode::hub(),
            description: change.describe(&seed),
            change,
        };
        let record = DirectoryRecord { entry, directory: seed.clone() };
        match store.commit(Commit { directory: Some(record), at, ..Commit::default() }).await {
            Ok(_) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

/// Takes up a version another hub stored since; says whether there was one.
pub async fn refresh(hub: &Hub) -> Result<bool, StoreError> {
    Ok(match hub.store.directory().await? {
        Some(stored) => hub.directory.take_up(Arc::new(stored)),
        None => false,
    })
}

/// A change made: the directory after it, and the change in words.
#[derive(Debug, Clone)]
pub struct Changed {
    pub directory: Arc<Directory>,
    pub description: String,
}

impl Answer for Changed {
    fn record(&self) -> Recorded {
        Recorded { directory: Some(self.directory.version()), ..Recorded::default() }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let corrupt = || AppError::Store(StoreError::Corrupt("a directory change's record".into()));
        let version = record.directory.ok_or_else(corrupt)?;
        let history = hub.store.directory_history().await?;
        let description = history.into_iter().find(|e| e.version == version).ok_or_else(corrupt)?.description;
        let directory = hub.store.directory().await?.map_or_else(|| hub.directory.now(), Arc::new);
        Ok(Changed { directory, description })
    }
}

/// The name of a change in the audit log, as the API's method that makes it.
pub fn method(change: &DirectoryChange) -> &'static str {
    match change {
        DirectoryChange::Seeded => "SeedDirectory",
        DirectoryChange::Added { .. } => "AddMember",
        DirectoryChange::Renamed { .. } => "RenameMember",
        DirectoryChange::Suspended { .. } | DirectoryChange::Resumed { .. } => "SetMemberActive",
        DirectoryChange::Contacts { .. } => "UpdateContacts",
        DirectoryChange::Notify { .. } => "SetNotify",
    }
}

/// Makes `change` as `actor`, once per request id: checked against the newest stored
/// version, written as the next with an event for the office and every active member
/// (and the member changed), audited, and served at once.
pub async fn change(hub: &Hub, actor: &Actor, key: &RequestKey, change: DirectoryChange) -> Result<Changed, AppError> {
    let change = &change;
    let changed = hub
        .once(actor, method(change), key, move || {
            Box::pin(async move {
                let before = hub.store.directory().await?.unwrap_or_else(|| (*hub.directory.now()).clone());
                let after = before.apply(change, &actor.caller)?;
                let at = hub.clock.now();
                let description = change.describe(&before);
                let mut to: Vec<MemberCode> = after
                    .members()
                    .iter()
                    .filter(|m| m.active || Some(&m.code) == change.member())
                    .map(|m| m.code.clone())
                    .collect();
                to.push(MemberCode::office());
                let notices = to
                    .iter()
                    .map(|member| Notice::for_directory(member, &actor.caller.code, at, &description))
                    .collect();
                let entry = DirectoryEntry {
                    version: after.version(),
                    at,
                    actor: actor.caller.code.clone(),
                    change: change.clone(),
                    description: description.clone(),
                };
                let detail = format!("v{} {}", after.version(), change.member().map_or("", MemberCode::as_str));
                let after = Arc::new(after);
                let commit = Commit {
                    directory: Some(DirectoryRecord { entry, directory: (*after).clone() }),
                    notices,
                    ..Commit::default()
                };
                Ok(Plan { detail, ..Plan::new(commit, Changed { directory: after, description }) })
            })
        })
        .await?;
    hub.directory.take_up(changed.directory.clone());
    Ok(changed)
}

/// Every change to the directory, oldest first: for anyone the hub knows.
pub async fn history(hub: &Hub) -> Result<Vec<DirectoryEntry>, AppError> {
    Ok(hub.store.directory_history().await?)
}
