//! The search of the workbench's lists (待办, 已接收, 已发送): a full name, ID number or
//! case reference, and the days submitted, read by the application's one filter.

use super::{guard::Fields, refusals::Refusals};
use crate::{
    app::{self, AppError},
    domain::DomainError,
    store::Filter,
};

/// The search as typed, and what was refused of it.
#[derive(Default)]
pub struct Search {
    pub text: String,
    pub from: String,
    pub to: String,
    pub refusals: Refusals,
}

impl Search {
    /// The search a page's query asks for, and the filter it makes; a refused one
    /// finds nothing and says why.
    pub fn of(fields: &Fields) -> Result<(Search, Option<Filter>), AppError> {
        let (text, from, to) = (fields.get("search"), fields.get("submitted_from"), fields.get("submitted_to"));
        let typed = |refusals| Search { text: text.into(), from: from.into(), to: to.into(), refusals };
        match app::referrals::filter(text, from, to) {
            Ok(filter) => Ok((typed(Refusals::default()), Some(filter))),
            Err(AppError::Domain(DomainError::Invalid(violations))) => Ok((typed(Refusals::of(&violations)), None)),
            Err(e) => Err(e),
        }
    }

    /// Whether anything is searched for.
    pub fn is_on(&self) -> bool {
        !(self.text.is_empty() && self.from.is_empty() && self.to.is_empty())
    }

    /// The search as a query string, for the links to other pages.
    pub fn query(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("search", &self.text)
            .append_pair("submitted_from", &self.from)
            .append_pair("submitted_to", &self.to)
            .finish()
    }
}
