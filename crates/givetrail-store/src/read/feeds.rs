//! The donation, allocation, disbursement and procurement feeds of an organisation, its
//! periodic disclosures, and its campaigns.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::AnyConnection;
use crate::read::log::entries_at;
use crate::read::{next_cursor, Page};
use crate::schema::*;
use crate::StoreError;

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

/// One page of seqs of the allocation or disbursement feed (`$table`), `$allocation` being the
/// column that names the allocation (for the campaign filter). The log is joined only when a date
/// filter needs `entries.occurred_at`: every allocation and disbursement has its entry, and
/// without the join both databases walk the table's own indexes in seq order and stop at the
/// page (with it, SQLite may walk the whole log to join first and sort after).
macro_rules! gifts_page {
    ($conn:expr, $table:ident, $allocation:expr, $org:expr, $f:expr, $region:expr, $after:expr, $limit:expr) => {{
        let (org, f, region): (&str, &FeedFilter, Option<Region<'_>>) = ($org, $f, $region);
        macro_rules! filtered {
            ($q:expr) => {{
                let mut q = $q
                    .filter($table::organization.eq(org))
                    .filter($table::seq.gt($after))
                    .select($table::seq)
                    .order($table::seq.asc())
                    .limit($limit)
                    .into_boxed();
                if let Some(r) = &f.recipient {
                    q = q.filter($table::recipient.eq(r.clone()));
                }
                match region {
                    // Correlated, so that SQLite walks the table in seq order instead of
                    // reading each recipient's rows from the recipient index and sorting them.
                    Some(Region::Prefix(p)) => {
                        q = q.filter(diesel::dsl::exists(
                            recipients::table
                                .filter(recipients::id.eq($table::recipient))
                                .filter(recipients::region_code.like(format!("{p}%"))),
                        ));
                    }
                    Some(Region::Recipient(id)) => {
                        q = q.filter($table::recipient.eq(id.to_owned()));
                    }
                    None => {}
                }
                if let Some(c) = &f.campaign {
                    q = q.filter($allocation.eq_any(drawing_on_campaign(org, c)));
                }
                if let Some(a) = &f.asset {
                    q = q.filter($table::asset_key.eq(a.clone()));
                }
                if !f.include_voided {
                    q = q.filter($table::voided_by.is_null());
                }
                q
            }};
        }
        if f.from.is_none() && f.to.is_none() {
            let q = filtered!($table::table);
            q.load::<i64>($conn)?
        } else {
            let mut q = filtered!($table::table.inner_join(
                entries::table.on(entries::organization
                    .eq($table::organization)
                    .and(entries::seq.eq($table::seq))),
            ));
            if let Some(t) = f.from {
                q = q.filter(entries::occurred_at.ge(t));
            }
            if let Some(t) = f.to {
                q = q.filter(entries::occurred_at.lt(t));
            }
            q.load::<i64>($conn)?
        }
    }};
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
    /// Goods bought with donated money.
    Procurements,
}

/// A region with at most this many recipients is read one recipient at a time (see [`feed`]).
const REGION_ONE_BY_ONE: i64 = 32;

/// How the allocation and disbursement feeds apply a region filter.
#[derive(Clone, Copy)]
enum Region<'a> {
    /// Every recipient whose region code starts with the prefix (a subquery).
    Prefix(&'a str),
    /// One recipient of the region.
    Recipient(&'a str),
}

/// A page of a feed: the public entries, oldest first, after seq `after`.
///
/// The allocation and disbursement feeds filtered by a region with few recipients (at most
/// [`REGION_ONE_BY_ONE`], as a city's hospitals) ask for each recipient's page on the
/// `(recipient, organization, seq)` index, which yields seq order and stops at the page, and merge
/// them: the cost follows the page, whatever share of the log the region has and whether or not
/// the database has statistics. A region with more recipients is one query with the region as a
/// subquery.
pub fn feed(
    conn: &mut AnyConnection,
    org: &str,
    feed: Feed,
    f: &FeedFilter,
    after: i64,
    limit: i64,
) -> Result<Page<Value>, StoreError> {
    let seqs = match (&f.region, feed) {
        (Some(p), Feed::Allocations | Feed::Disbursements) => {
            let ids: Vec<String> = recipients_in!(p, recipients::id)
                .order(recipients::id.asc())
                .limit(REGION_ONE_BY_ONE + 1)
                .load(conn)?;
            if ids.len() as i64 <= REGION_ONE_BY_ONE {
                let mut all = Vec::new();
                for id in &ids {
                    all.extend(seqs(
                        conn,
                        org,
                        feed,
                        f,
                        Some(Region::Recipient(id)),
                        after,
                        limit,
                    )?);
                }
                all.sort_unstable();
                all.truncate(usize::try_from(limit).unwrap_or(0));
                all
            } else {
                seqs(conn, org, feed, f, Some(Region::Prefix(p)), after, limit)?
            }
        }
        (p, _) => seqs(
            conn,
            org,
            feed,
            f,
            p.as_deref().map(Region::Prefix),
            after,
            limit,
        )?,
    };
    let next = next_cursor(&seqs, limit, |s| s.to_string());
    let items = entries_at(conn, org, &seqs)?;
    Ok(Page { items, next })
}

/// Seqs of one page of a feed, with the region filter as given.
fn seqs(
    conn: &mut AnyConnection,
    org: &str,
    feed: Feed,
    f: &FeedFilter,
    region: Option<Region<'_>>,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(match feed {
        Feed::Donations | Feed::Procurements => {
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
            // Goods bought are lots too, without a receipt number: donations have one.
            q = match feed {
                Feed::Procurements => q.filter(lots::receipt_number.eq("")),
                _ => q.filter(lots::receipt_number.ne("")),
            };
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
        Feed::Allocations => gifts_page!(
            conn,
            allocations,
            allocations::seq,
            org,
            f,
            region,
            after,
            limit
        ),
        Feed::Disbursements => gifts_page!(
            conn,
            disbursements,
            disbursements::allocation_seq,
            org,
            f,
            region,
            after,
            limit
        ),
    })
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

/// A page of an organisation's periodic disclosures (`disclosure.published` entries, which are
/// never corrected), oldest first, after seq `after`.
pub fn disclosures(
    conn: &mut AnyConnection,
    org: &str,
    after: i64,
    limit: i64,
) -> Result<Page<Value>, StoreError> {
    let seqs: Vec<i64> = entries::table
        .filter(entries::organization.eq(org))
        .filter(entries::kind.eq(givetrail_domain::entry::EntryKind::DisclosurePublished.as_str()))
        .filter(entries::seq.gt(after))
        .select(entries::seq)
        .order(entries::seq.asc())
        .limit(limit)
        .load(conn)?;
    let next = next_cursor(&seqs, limit, |s| s.to_string());
    let items = entries_at(conn, org, &seqs)?;
    Ok(Page { items, next })
}
