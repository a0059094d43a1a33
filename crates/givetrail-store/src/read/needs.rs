//! The queries behind the needs board and a charity's matches (needs are posted through
//! `crate::write::needs`).
//!
//! A need's progress is never stored: pledged is the sum of live allocations naming it, delivered
//! the sum of what recipients acknowledged on live disbursements of those allocations. Both come
//! from derived tables that are rebuilt from the logs, so a need can never disagree with them.

use std::collections::BTreeMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::ids::Slug;
use givetrail_domain::ledger::{Lot, NeedState, RecipientInfo};
use givetrail_domain::needs::{Need, NeedStatus, Urgency, Withdrawal};

use crate::db::{is_distributed, AnyConnection};
use crate::models::{LotRow, NeedRow, RecipientInfoRow};
use crate::read::Page;
use crate::schema::*;
use crate::{from_micros, StoreError};

/// Most open needs of one kind of goods a charity's matches consider.
pub const MAX_NEEDS_SCANNED: i64 = 5_000;
/// Most unallocated lots of goods a charity's matches consider.
pub const MAX_LOTS_SCANNED: i64 = 5_000;

/// Units acknowledged against a need, as a correlated subquery over the derived tables (the
/// same text runs on SQLite and PostgreSQL; the cast keeps PostgreSQL's SUM a BIGINT).
const DELIVERED_SQL: &str = "(SELECT CAST(COALESCE(SUM(d.acknowledged), 0) AS BIGINT) \
     FROM disbursements d INNER JOIN allocations a \
     ON a.organization = d.organization AND a.seq = d.allocation_seq \
     WHERE a.need = needs.id AND a.voided_by IS NULL AND d.voided_by IS NULL)";

/// Which needs a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeedFilter {
    /// Region-code prefix of the recipient.
    pub region: Option<String>,
    /// Exact item name (`N95 respirator`).
    pub item: Option<String>,
    /// Open or met.
    pub status: Option<NeedStatus>,
    /// Only this recipient's.
    pub recipient: Option<String>,
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("stored need: {what}"))
}

fn need_from(row: NeedRow, progress: (i64, i64)) -> Result<Need, StoreError> {
    let goods = match AssetKey::from_key_string(&row.asset_key) {
        Some(AssetKey::Goods(g)) => g,
        _ => return Err(corrupt(format!("{} asset {:?}", row.id, row.asset_key))),
    };
    Ok(Need {
        id: Slug::parse(&row.id).map_err(corrupt)?,
        number: row.number,
        recipient: Slug::parse(&row.recipient).map_err(corrupt)?,
        region_code: row.region_code,
        goods: *goods,
        units: row.units,
        urgency: Urgency::parse(&row.urgency)
            .ok_or_else(|| corrupt(format!("urgency {}", row.urgency)))?,
        needed_by: row.needed_by.map(from_micros),
        note: row.note,
        posted_at: from_micros(row.posted_at),
        pledged: progress.0,
        delivered: progress.1,
        withdrawn: match (row.withdrawn_at, row.withdrawal_reason) {
            (Some(at), Some(reason)) => Some(Withdrawal {
                at: from_micros(at),
                reason,
            }),
            (None, None) => None,
            _ => return Err(corrupt(format!("{} half withdrawn", row.id))),
        },
    })
}

/// Pledged and delivered units of each of these needs.
fn progress(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<BTreeMap<String, (i64, i64)>, StoreError> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let pledges: Vec<(Option<String>, i64)> = allocations::table
        .filter(allocations::need.eq_any(ids))
        .filter(allocations::voided_by.is_null())
        .select((allocations::need, allocations::units))
        .load(conn)?;
    for (need, units) in pledges {
        if let Some(n) = need {
            out.entry(n).or_default().0 += units;
        }
    }
    let deliveries: Vec<(Option<String>, Option<i64>)> = disbursements::table
        .inner_join(
            allocations::table.on(allocations::organization
                .eq(disbursements::organization)
                .and(allocations::seq.eq(disbursements::allocation_seq))),
        )
        .filter(allocations::need.eq_any(ids))
        .filter(allocations::voided_by.is_null())
        .filter(disbursements::voided_by.is_null())
        .select((allocations::need, disbursements::acknowledged))
        .load(conn)?;
    for (need, units) in deliveries {
        if let (Some(n), Some(u)) = (need, units) {
            out.entry(n).or_default().1 += u;
        }
    }
    Ok(out)
}

fn with_progress(conn: &mut AnyConnection, rows: Vec<NeedRow>) -> Result<Vec<Need>, StoreError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let p = progress(conn, &ids)?;
    rows.into_iter()
        .map(|r| {
            let pr = p.get(&r.id).copied().unwrap_or((0, 0));
            need_from(r, pr)
        })
        .collect()
}

/// One need, with its progress.
pub fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Need>, StoreError> {
    let row: Option<NeedRow> = needs::table
        .filter(needs::id.eq(id))
        .select(NeedRow::as_select())
        .first(conn)
        .optional()?;
    Ok(with_progress(conn, row.into_iter().collect())?.pop())
}

/// What the allocation rules need of a need.
pub fn state(conn: &mut AnyConnection, id: &str) -> Result<Option<NeedState>, StoreError> {
    Ok(get(conn, id)?.map(|n| n.state()))
}

/// The needs whose acknowledged deliveries cover them, as one uncorrelated subquery: Citus
/// plans no correlated subquery from a reference table (`needs`) into distributed ones, so on
/// Citus the deliveries are summed per need on the workers and matched on the coordinator.
const MET_SQL: &str = "(SELECT n2.id FROM needs n2 INNER JOIN \
     (SELECT a.need, SUM(d.acknowledged) AS delivered \
      FROM disbursements d INNER JOIN allocations a \
      ON a.organization = d.organization AND a.seq = d.allocation_seq \
      WHERE a.need IS NOT NULL AND a.voided_by IS NULL AND d.voided_by IS NULL \
      GROUP BY a.need) m ON m.need = n2.id \
     WHERE m.delivered >= n2.units)";

/// The condition for needs of `status`; `distributed` on Citus (see [`MET_SQL`]).
fn status_sql(status: NeedStatus, distributed: bool) -> String {
    match (status, distributed) {
        (NeedStatus::Open, false) => {
            format!("needs.withdrawn_at IS NULL AND {DELIVERED_SQL} < needs.units")
        }
        (NeedStatus::Met, false) => {
            format!("needs.withdrawn_at IS NULL AND {DELIVERED_SQL} >= needs.units")
        }
        (NeedStatus::Open, true) => {
            format!("needs.withdrawn_at IS NULL AND needs.id NOT IN {MET_SQL}")
        }
        (NeedStatus::Met, true) => format!("needs.withdrawn_at IS NULL AND needs.id IN {MET_SQL}"),
        (NeedStatus::Withdrawn, _) => "needs.withdrawn_at IS NOT NULL".to_owned(),
    }
}

/// Needs in the order they were posted, after serial number `after`.
pub fn list(
    conn: &mut AnyConnection,
    f: &NeedFilter,
    after: i64,
    limit: i64,
) -> Result<Page<Need>, StoreError> {
    let mut q = needs::table
        .filter(needs::number.gt(after))
        .order(needs::number.asc())
        .limit(limit)
        .select(NeedRow::as_select())
        .into_boxed();
    if let Some(p) = &f.region {
        q = q.filter(needs::region_code.like(format!("{p}%")));
    }
    if let Some(i) = &f.item {
        q = q.filter(needs::item.eq(i.clone()));
    }
    if let Some(r) = &f.recipient {
        q = q.filter(needs::recipient.eq(r.clone()));
    }
    if let Some(s) = f.status {
        q = q.filter(sql::<Bool>(&status_sql(s, is_distributed(conn)?)));
    }
    let rows: Vec<NeedRow> = q.load(conn)?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.number.to_string()))
        .flatten();
    Ok(Page {
        items: with_progress(conn, rows)?,
        next,
    })
}

/// Balance keys of the goods that open needs ask for (at most [`MAX_NEEDS_SCANNED`] needs).
pub fn open_need_assets(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let mut keys: Vec<String> = needs::table
        .filter(sql::<Bool>(&status_sql(
            NeedStatus::Open,
            is_distributed(conn)?,
        )))
        .order(needs::number.asc())
        .limit(MAX_NEEDS_SCANNED)
        .select(needs::asset_key)
        .load(conn)?;
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// An organisation's live lots of these goods (balance keys) with something left to allocate,
/// oldest first. Only the lots of the keys asked for are read (index `lots_pool`), so an
/// organisation whose goods nobody needs costs nothing however large its log.
pub fn unallocated_goods(
    conn: &mut AnyConnection,
    org: &str,
    asset_keys: &[String],
) -> Result<Vec<Lot>, StoreError> {
    if asset_keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<LotRow> = lots::table
        .filter(lots::organization.eq(org))
        .filter(lots::asset_key.eq_any(asset_keys))
        .filter(lots::voided_by.is_null())
        .filter((lots::allocated + lots::expensed).lt(lots::received))
        .order((lots::occurred_at.asc(), lots::seq.asc()))
        .limit(MAX_LOTS_SCANNED)
        .select(LotRow::as_select())
        .load(conn)?;
    rows.into_iter().map(LotRow::into_lot).collect()
}

/// Open needs asking for any of these goods, oldest first, each with its recipient's registry
/// entry (for the designation check).
pub fn open_needs_for(
    conn: &mut AnyConnection,
    assets: &[AssetKey],
) -> Result<Vec<(Need, RecipientInfo)>, StoreError> {
    if assets.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = assets.iter().map(AssetKey::to_key_string).collect();
    let rows: Vec<NeedRow> = needs::table
        .filter(needs::asset_key.eq_any(&keys))
        .filter(sql::<Bool>(&status_sql(
            NeedStatus::Open,
            is_distributed(conn)?,
        )))
        .order(needs::number.asc())
        .limit(MAX_NEEDS_SCANNED)
        .select(NeedRow::as_select())
        .load(conn)?;
    let needs = with_progress(conn, rows)?;
    let mut ids: Vec<String> = needs.iter().map(|n| n.recipient.to_string()).collect();
    ids.sort();
    ids.dedup();
    let infos: Vec<RecipientInfoRow> = recipients::table
        .filter(recipients::id.eq_any(&ids))
        .select(RecipientInfoRow::as_select())
        .load(conn)?;
    let mut by_id = BTreeMap::new();
    for row in infos {
        let id = row.id.clone();
        by_id.insert(id, row.into_info()?);
    }
    Ok(needs
        .into_iter()
        .filter_map(|n| {
            let info = by_id.get(n.recipient.as_str()).cloned()?;
            Some((n, info))
        })
        .collect())
}

/// Needs for any of these goods (balance keys) posted at or before `posted_by` (µs), in the
/// order they were posted, at most [`MAX_NEEDS_SCANNED`] (index `needs_asset`), with their
/// progress now.
pub fn posted_for(
    conn: &mut AnyConnection,
    asset_keys: &[String],
    posted_by: i64,
) -> Result<Vec<Need>, StoreError> {
    if asset_keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<NeedRow> = needs::table
        .filter(needs::asset_key.eq_any(asset_keys))
        .filter(needs::posted_at.le(posted_by))
        .order(needs::number.asc())
        .limit(MAX_NEEDS_SCANNED)
        .select(NeedRow::as_select())
        .load(conn)?;
    with_progress(conn, rows)
}

/// How many needs there are with this status (all when `None`).
pub fn count(conn: &mut AnyConnection, status: Option<NeedStatus>) -> Result<i64, StoreError> {
    let mut q = needs::table.count().into_boxed();
    if let Some(s) = status {
        q = q.filter(sql::<Bool>(&status_sql(s, is_distributed(conn)?)));
    }
    Ok(q.get_result(conn)?)
}
