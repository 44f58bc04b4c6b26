//! Reading the holiday schedules loaded at run time.

use super::{Backend, Query, SqlStore};
use crate::store::{rows::ScheduleRow, ScheduleRecord, StoreError};

impl<B: Backend> SqlStore<B> {
    /// The newest version of every schedule loaded at run time.
    pub(super) async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        let query = Query::new(
            "SELECT year, version, schedule, source, loaded_by, loaded_at FROM calendar_schedules s \
             WHERE version = (SELECT MAX(version) FROM calendar_schedules WHERE year = s.year) ORDER BY year",
        );
        let rows = self.fetch(query).await?;
        rows.into_iter().map(|mut row| ScheduleRecord::try_from(ScheduleRow::from_cells(&mut row)?)).collect()
    }
}
