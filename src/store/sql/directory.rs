//! Reading the directory of members as changed at run time.

use super::{Backend, Cells, Query, SqlStore};
use crate::{
    domain::directory::{Directory, DirectoryChange, DirectoryEntry},
    store::{rows::from_micros, StoreError},
};

fn entry(mut row: Cells) -> Result<DirectoryEntry, StoreError> {
    let version = row.int("version")?;
    let at = from_micros(row.int("at")?)?;
    let actor = row.text("actor")?;
    let change = row.text("change")?;
    let description = row.text("description")?;
    Ok(DirectoryEntry {
        version: u64::try_from(version).map_err(|_| StoreError::Corrupt(format!("directory version {version}")))?,
        at,
        actor: crate::domain::MemberCode::parse(&actor)
            .map_err(|e| StoreError::Corrupt(format!("directory version {version}: actor: {e}")))?,
        change: serde_json::from_str::<DirectoryChange>(&change)
            .map_err(|e| StoreError::Corrupt(format!("directory version {version}: {e}")))?,
        description,
    })
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn directory(&self) -> Result<Option<Directory>, StoreError> {
        let query = Query::new("SELECT version, directory FROM directory_versions ORDER BY version DESC LIMIT 1");
        let Some(mut row) = self.fetch_one(query).await? else { return Ok(None) };
        let version = row.int("version")?;
        Directory::from_json(&row.text("directory")?)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("directory version {version}: {e}")))
    }

    pub(super) async fn directory_history(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        let query =
            Query::new("SELECT version, at, actor, change, description FROM directory_versions ORDER BY version");
        self.fetch(query).await?.into_iter().map(entry).collect()
    }
}
