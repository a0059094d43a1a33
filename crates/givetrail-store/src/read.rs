//! Queries behind the reads. Everything returned here is public unless the function says so.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::AnyConnection;
use crate::log::with_hashes;
use crate::registry::{Organization, Recipient};
use crate::schema::*;
use crate::StoreError;

/// Largest page of any list.
pub const MAX_PAGE: i64 = 1_000;
/// Page size when the client gives none.
pub const DEFAULT_PAGE: i64 = 100;

/// A page of items and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// Cursor for the next page, if there may be more.
    pub next: Option<String>,
}

fn next_cursor<T>(items: &[T], limit: i64, cursor: impl Fn(&T) -> String) -> Option<String> {
    (items.len() as i64 == limit)
        .then(|| items.last().map(cursor))
        .flatten()
}

/// Organisations in id order, after `after`.
pub fn organizations(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<Organization>, StoreError> {
    let mut q = organizations::table
        .order(organizations::id.asc())
        .limit(limit)
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
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(recipients::id.gt(a.to_owned()));
    }
    let items: Vec<Recipient> = q.load(conn)?;
    let next = next_cursor(&items, limit, |r| r.id.clone());
    Ok(Page { items, next })
}

/// An entry as stored: seq, canonical form, entry hash, previous entry hash, leaf hash.
pub type EntryRow = (i64, String, String, String, String);

fn entry_value(org: &str, row: EntryRow) -> Result<Value, StoreError> {
    let (seq, canonical, hash, prev, leaf) = row;
    let object: Value = serde_json::from_str(&canonical)
        .map_err(|e| StoreError::Corrupt(format!("{org}#{seq} canonical form: {e}")))?;
    Ok(with_hashes(object, &hash, &prev, &leaf))
}

/// Up to `limit` stored entries of an organisation with seq > `after`, in seq order, as stored
/// (the canonical form as text, exactly what was hashed).
pub fn entry_rows(
    conn: &mut AnyConnection,
    org: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<EntryRow>, StoreError> {
    Ok(entries::table
        .filter(entries::organization.eq(org))
        .filter(entries::seq.gt(after))
        .order(entries::seq.asc())
        .limit(limit)
        .select((
            entries::seq,
            entries::canonical,
            entries::entry_hash,
            entries::prev_entry_hash,
            entries::leaf_hash,
        ))
        .load(conn)?)
}

/// The public log of an organisation, entries with seq > `after`.
pub fn entries(
    conn: &mut AnyConnection,
    org: &str,
    after: i64,
    limit: i64,
) -> Result<Page<Value>, StoreError> {
    let rows = entry_rows(conn, org, after, limit)?;
    let next = next_cursor(&rows, limit, |r| r.0.to_string());
    let items = rows
        .into_iter()
        .map(|r| entry_value(org, r))
        .collect::<Result<_, _>>()?;
    Ok(Page { items, next })
}

/// Entries of an organisation at the given seqs, in seq order.
pub fn entries_at(
    conn: &mut AnyConnection,
    org: &str,
    seqs: &[i64],
) -> Result<Vec<Value>, StoreError> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<EntryRow> = entries::table
        .filter(entries::organization.eq(org))
        .filter(entries::seq.eq_any(seqs))
        .order(entries::seq.asc())
        .select((
            entries::seq,
            entries::canonical,
            entries::entry_hash,
            entries::prev_entry_hash,
            entries::leaf_hash,
        ))
        .load(conn)?;
    rows.into_iter().map(|r| entry_value(org, r)).collect()
}

/// One entry.
pub fn entry(conn: &mut AnyConnection, org: &str, seq: i64) -> Result<Option<Value>, StoreError> {
    Ok(entries_at(conn, org, &[seq])?.into_iter().next())
}

/// Filters of the donation, allocation and disbursement feeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// Campaign slug (donations).
    pub campaign: Option<String>,
    /// Recipient slug (allocations, disbursements; designated recipient for donations).
    pub recipient: Option<String>,
    /// Region-code prefix: of the recipient (allocations, disbursements), of the designated
    /// region or recipient (donations).
    pub region: Option<String>,
    /// Asset key (`CNY`, or the goods key).
    pub asset: Option<String>,
    /// Entries that happened at or after (µs).
    pub from: Option<i64>,
    /// Entries that happened before (µs).
    pub to: Option<i64>,
    /// Include voided (corrected) entries.
    pub include_voided: bool,
}

/// Ids of recipients whose region code starts with a prefix (a subquery; boxed subqueries do not
/// run on the multi-backend connection).
macro_rules! recipients_in {
    ($prefix:expr, $column:expr) => {
        recipients::table
            .filter(recipients::region_code.like(format!("{}%", $prefix)))
            .select($column)
    };
}

/// The subquery type of [`drawing_on_campaign`].
type CampaignDraws = diesel::dsl::Select<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            diesel::dsl::InnerJoinOn<
                draws::table,
                lots::table,
                diesel::dsl::And<
                    diesel::dsl::Eq<lots::organization, draws::organization>,
                    diesel::dsl::Eq<lots::seq, draws::donation_seq>,
                >,
            >,
            diesel::dsl::Eq<draws::organization, String>,
        >,
        diesel::dsl::Eq<lots::campaign, String>,
    >,
    draws::by_seq,
>;

/// Seqs of allocations (live or not) drawing on donations of a campaign.
fn drawing_on_campaign(org: &str, campaign: &str) -> CampaignDraws {
    draws::table
        .inner_join(
            lots::table.on(lots::organization
                .eq(draws::organization)
                .and(lots::seq.eq(draws::donation_seq))),
        )
        .filter(draws::organization.eq(org.to_owned()))
        .filter(lots::campaign.eq(campaign.to_owned()))
        .select(draws::by_seq)
}

/// Which feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Donations received.
    Donations,
    /// Allocations made.
    Allocations,
    /// Disbursements made.
    Disbursements,
}

/// A page of a feed: the public entries, oldest first, after seq `after`.
pub fn feed(
    conn: &mut AnyConnection,
    org: &str,
    feed: Feed,
    f: &FeedFilter,
    after: i64,
    limit: i64,
) -> Result<Page<Value>, StoreError> {
    let seqs: Vec<i64> = match feed {
        Feed::Donations => {
            let mut q = lots::table
                .inner_join(
                    entries::table.on(entries::organization
                        .eq(lots::organization)
                        .and(entries::seq.eq(lots::seq))),
                )
                .filter(lots::organization.eq(org))
                .filter(lots::seq.gt(after))
                .select(lots::seq)
                .order(lots::seq.asc())
                .limit(limit)
                .into_boxed();
            if let Some(c) = &f.campaign {
                q = q.filter(lots::campaign.eq(c.clone()));
            }
            if let Some(r) = &f.recipient {
                q = q.filter(lots::designated_recipient.eq(r.clone()));
            }
            if let Some(p) = &f.region {
                q = q.filter(lots::designated_region.like(format!("{p}%")).or(
                    lots::designated_recipient.eq_any(recipients_in!(p, recipients::id.nullable())),
                ));
            }
            if let Some(a) = &f.asset {
                q = q.filter(lots::asset_key.eq(a.clone()));
            }
            if let Some(t) = f.from {
                q = q.filter(entries::occurred_at.ge(t));
            }
            if let Some(t) = f.to {
                q = q.filter(entries::occurred_at.lt(t));
            }
            if !f.include_voided {
                q = q.filter(lots::voided_by.is_null());
            }
            q.load(conn)?
        }
        Feed::Allocations => {
            let mut q = allocations::table
                .inner_join(
                    entries::table.on(entries::organization
                        .eq(allocations::organization)
                        .and(entries::seq.eq(allocations::seq))),
                )
                .filter(allocations::organization.eq(org))
                .filter(allocations::seq.gt(after))
                .select(allocations::seq)
                .order(allocations::seq.asc())
                .limit(limit)
                .into_boxed();
            if let Some(r) = &f.recipient {
                q = q.filter(allocations::recipient.eq(r.clone()));
            }
            if let Some(p) = &f.region {
                q = q.filter(allocations::recipient.eq_any(recipients_in!(p, recipients::id)));
            }
            if let Some(c) = &f.campaign {
                q = q.filter(allocations::seq.eq_any(drawing_on_campaign(org, c)));
            }
            if let Some(a) = &f.asset {
                q = q.filter(allocations::asset_key.eq(a.clone()));
            }
            if let Some(t) = f.from {
                q = q.filter(entries::occurred_at.ge(t));
            }
            if let Some(t) = f.to {
                q = q.filter(entries::occurred_at.lt(t));
            }
            if !f.include_voided {
                q = q.filter(allocations::voided_by.is_null());
            }
            q.load(conn)?
        }
        Feed::Disbursements => {
            let mut q = disbursements::table
                .inner_join(
                    entries::table.on(entries::organization
                        .eq(disbursements::organization)
                        .and(entries::seq.eq(disbursements::seq))),
                )
                .filter(disbursements::organization.eq(org))
                .filter(disbursements::seq.gt(after))
                .select(disbursements::seq)
                .order(disbursements::seq.asc())
                .limit(limit)
                .into_boxed();
            if let Some(r) = &f.recipient {
                q = q.filter(disbursements::recipient.eq(r.clone()));
            }
            if let Some(p) = &f.region {
                q = q.filter(disbursements::recipient.eq_any(recipients_in!(p, recipients::id)));
            }
            if let Some(c) = &f.campaign {
                q = q.filter(disbursements::allocation_seq.eq_any(drawing_on_campaign(org, c)));
            }
            if let Some(a) = &f.asset {
                q = q.filter(disbursements::asset_key.eq(a.clone()));
            }
            if let Some(t) = f.from {
                q = q.filter(entries::occurred_at.ge(t));
            }
            if let Some(t) = f.to {
                q = q.filter(entries::occurred_at.lt(t));
            }
            if !f.include_voided {
                q = q.filter(disbursements::voided_by.is_null());
            }
            q.load(conn)?
        }
    };
    let next = next_cursor(&seqs, limit, |s| s.to_string());
    let items = entries_at(conn, org, &seqs)?;
    Ok(Page { items, next })
}

/// Campaign entries of an organisation (the live ones).
pub fn campaign_seqs(
    conn: &mut AnyConnection,
    org: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(campaigns::table
        .filter(campaigns::organization.eq(org))
        .filter(campaigns::voided_by.is_null())
        .order(campaigns::seq.asc())
        .select((campaigns::id, campaigns::seq))
        .load(conn)?)
}

/// The private values of an entry (regulators only).
pub fn private_values(
    conn: &mut AnyConnection,
    org: &str,
    seq: i64,
) -> Result<Option<Value>, StoreError> {
    let row: Option<String> = entry_private::table
        .filter(entry_private::organization.eq(org))
        .filter(entry_private::seq.eq(seq))
        .select(entry_private::private)
        .first(conn)
        .optional()?;
    row.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}
