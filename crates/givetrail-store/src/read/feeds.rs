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
