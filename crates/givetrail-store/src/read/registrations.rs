//! Registrations (organisations, recipients) listed page by page.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::read::{next_cursor, Page};
use crate::registry::{Organization, Recipient};
use crate::schema::*;
use crate::StoreError;

/// Organisations in id order, after `after`.
pub fn organizations(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<Organization>, StoreError> {
    let mut q = organizations::table
        .order(organizations::id.asc())
        .limit(limit)
        .select(Organization::as_select())
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(organizations::id.gt(a.to_owned()));
    }
    let items: Vec<Organization> = q.load(conn)?;
    let next = next_cursor(&items, limit, |o| o.id.clone());
    Ok(Page { items, next })
}

/// Recipients in id order, after `after`.
pub fn recipients(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<Recipient>, StoreError> {
    let mut q = recipients::table
        .order(recipients::id.asc())
        .limit(limit)
        .select(Recipient::as_select())
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(recipients::id.gt(a.to_owned()));
    }
    let items: Vec<Recipient> = q.load(conn)?;
    let next = next_cursor(&items, limit, |r| r.id.clone());
    Ok(Page { items, next })
}
