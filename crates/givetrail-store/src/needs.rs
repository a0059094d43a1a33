//! Needs posted by recipients, and the queries behind the needs board and a charity's matches.
//!
//! A need's progress is never stored: pledged is the sum of live allocations naming it, delivered
//! the sum of what recipients acknowledged on live disbursements of those allocations. Both come
//! from derived tables that are rebuilt from the logs, so a need can never disagree with them.

use std::collections::BTreeMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use givetrail_domain::asset::{AssetKey, GoodsKind};
use givetrail_domain::ids::{RegionCode, Slug};
use givetrail_domain::ledger::{Lot, NeedState, RecipientInfo};
use givetrail_domain::needs::{Need, NeedStatus, Urgency, ValidNeed};

use crate::books::{lot_from, time, LotRow};
use crate::db::AnyConnection;
use crate::read::Page;
use crate::schema::*;
use crate::StoreError;

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

/// A need to insert: validated, with its recipient's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNeed {
    /// The posting recipient.
    pub recipient: String,
    /// The recipient's region code (copied so the board filters by region without a join).
    pub region_code: String,
    /// The validated request.
    pub need: ValidNeed,
}

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

type NeedRow = (
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    String,
    i64,
);

macro_rules! need_columns {
    () => {
        (
            needs::id,
            needs::number,
            needs::recipient,
            needs::region_code,
            needs::asset_key,
            needs::units,
            needs::urgency,
            needs::needed_by,
            needs::note,
            needs::posted_at,
        )
    };
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("stored need: {what}"))
}

fn need_from(row: NeedRow, progress: (i64, i64)) -> Result<Need, StoreError> {
    let (id, number, recipient, region_code, asset_key, units, urgency, needed_by, note, posted) =
        row;
    let goods = match AssetKey::from_key_string(&asset_key) {
        Some(AssetKey::Goods(g)) => g,
        _ => return Err(corrupt(format!("{id} asset {asset_key:?}"))),
    };
    Ok(Need {
        id: Slug::parse(&id).map_err(corrupt)?,
        number,
        recipient: Slug::parse(&recipient).map_err(corrupt)?,
        region_code,
        goods,
        units,
        urgency: Urgency::parse(&urgency).ok_or_else(|| corrupt(format!("urgency {urgency}")))?,
        needed_by: needed_by.map(time),
        note,
        posted_at: time(posted),
        pledged: progress.0,
        delivered: progress.1,
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
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let p = progress(conn, &ids)?;
    rows.into_iter()
        .map(|r| {
            let pr = p.get(&r.0).copied().unwrap_or((0, 0));
            need_from(r, pr)
        })
        .collect()
}

/// Insert a need, numbering it after the last one (`need-<number>`); returns it as stored.
pub fn insert(conn: &mut AnyConnection, n: &NewNeed, posted_at: i64) -> Result<Need, StoreError> {
    let AssetKey::Goods(GoodsKind { item, .. }) = &n.need.asset else {
        return Err(corrupt("a need asks for goods"));
    };
    let last: Option<i64> = needs::table
        .select(diesel::dsl::max(needs::number))
        .first(conn)?;
    let number = last.unwrap_or(0) + 1;
    let id = format!("need-{number}");
    diesel::insert_into(needs::table)
        .values((
            needs::id.eq(&id),
            needs::number.eq(number),
            needs::recipient.eq(&n.recipient),
            needs::region_code.eq(&n.region_code),
            needs::asset_key.eq(n.need.asset.to_key_string()),
            needs::item.eq(item),
            needs::units.eq(n.need.units),
            needs::urgency.eq(n.need.urgency.as_str()),
            needs::needed_by.eq(n.need.needed_by.map(crate::micros)),
            needs::note.eq(&n.need.note),
            needs::posted_at.eq(posted_at),
        ))
        .execute(conn)?;
    get(conn, &id)?.ok_or_else(|| corrupt(format!("{id} vanished after insert")))
}

/// One need, with its progress.
pub fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Need>, StoreError> {
    let row: Option<NeedRow> = needs::table
        .filter(needs::id.eq(id))
        .select(need_columns!())
        .first(conn)
        .optional()?;
    Ok(with_progress(conn, row.into_iter().collect())?.pop())
}

/// What the allocation rules need of a need.
pub fn state(conn: &mut AnyConnection, id: &str) -> Result<Option<NeedState>, StoreError> {
    Ok(get(conn, id)?.map(|n| n.state()))
}

fn status_sql(status: NeedStatus) -> String {
    match status {
        NeedStatus::Open => format!("{DELIVERED_SQL} < needs.units"),
        NeedStatus::Met => format!("{DELIVERED_SQL} >= needs.units"),
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
        .select(need_columns!())
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
        q = q.filter(sql::<Bool>(&status_sql(s)));
    }
    let rows: Vec<NeedRow> = q.load(conn)?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.1.to_string()))
        .flatten();
    Ok(Page {
        items: with_progress(conn, rows)?,
        next,
    })
}

/// An organisation's live lots of goods with something left to allocate, oldest first.
pub fn unallocated_goods(conn: &mut AnyConnection, org: &str) -> Result<Vec<Lot>, StoreError> {
    let rows: Vec<LotRow> = lots::table
        .filter(lots::organization.eq(org))
        .filter(lots::asset_key.like("goods:%"))
        .filter(lots::voided_by.is_null())
        .filter((lots::allocated + lots::expensed).lt(lots::received))
        .order((lots::occurred_at.asc(), lots::seq.asc()))
        .limit(MAX_LOTS_SCANNED)
        .select((
            lots::seq,
            lots::receipt_number,
            lots::campaign,
            lots::asset_key,
            lots::received,
            lots::allocated,
            lots::expensed,
            lots::designated,
            lots::designated_region,
            lots::designated_recipient,
            lots::occurred_at,
            lots::voided_by,
        ))
        .load(conn)?;
    rows.into_iter().map(lot_from).collect()
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
        .filter(sql::<Bool>(&status_sql(NeedStatus::Open)))
        .order(needs::number.asc())
        .limit(MAX_NEEDS_SCANNED)
        .select(need_columns!())
        .load(conn)?;
    let needs = with_progress(conn, rows)?;
    let mut ids: Vec<String> = needs.iter().map(|n| n.recipient.to_string()).collect();
    ids.sort();
    ids.dedup();
    let infos: Vec<(String, String, Option<String>)> = recipients::table
        .filter(recipients::id.eq_any(&ids))
        .select((
            recipients::id,
            recipients::region_code,
            recipients::organization,
        ))
        .load(conn)?;
    let mut by_id = BTreeMap::new();
    for (id, region, org) in infos {
        let info = RecipientInfo {
            id: Slug::parse(&id).map_err(corrupt)?,
            region_code: RegionCode::parse(&region).map_err(corrupt)?,
            organization: org.map(|o| Slug::parse(&o)).transpose().map_err(corrupt)?,
        };
        by_id.insert(id, info);
    }
    Ok(needs
        .into_iter()
        .filter_map(|n| {
            let info = by_id.get(n.recipient.as_str()).cloned()?;
            Some((n, info))
        })
        .collect())
}

/// How many needs there are with this status (all when `None`).
pub fn count(conn: &mut AnyConnection, status: Option<NeedStatus>) -> Result<i64, StoreError> {
    let mut q = needs::table.count().into_boxed();
    if let Some(s) = status {
        q = q.filter(sql::<Bool>(&status_sql(s)));
    }
    Ok(q.get_result(conn)?)
}
