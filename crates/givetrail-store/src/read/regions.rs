//! Where it went, by destination: what every organisation allocated and disbursed to the
//! recipients of one region, summed in SQL from the derived tables, and the region's open needs.
//! The document is `givetrail_domain::regions::inflows`.
//!
//! No log is replayed. The region's recipients (at most
//! [`MAX_REGION_RECIPIENTS`]) are read from the registry, then, a chunk of recipients at a time,
//! their live allocations and disbursements on the `(recipient, organization, seq)` indexes
//! (migration `recipient_indexes`), each joined by primary key to its `facts` row for when it
//! happened (a replacement's own date), grouped by organisation, recipient and asset. The cost
//! follows the region's rows, not the size of the logs. Open needs are the needs board's query
//! (`read::needs::list`), so what each still lacks is computed in one place.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::disclosure::received::GivenTotals;
use givetrail_domain::disclosure::Party;
use givetrail_domain::ids::region_has_prefix;
use givetrail_domain::needs::NeedStatus;
use givetrail_domain::regions::{Given, RegionBooks, MAX_REGION_NEEDS, MAX_REGION_RECIPIENTS};

use crate::db::AnyConnection;
use crate::read::needs::{self, NeedFilter};
use crate::registry::Recipient;
use crate::schema::*;
use crate::{micros, StoreError};

/// Most recipients named in one query.
const CHUNK: usize = 500;

/// Sums of one asset of one organisation to one recipient: organisation, recipient, asset key,
/// then the counts and sums.
type AllocationSums = (String, String, String, i64, i64);
type DisbursementSums = (String, String, String, i64, i64, i64, i64, i64);

fn asset(key: &str) -> Result<AssetKey, StoreError> {
    AssetKey::from_key_string(key)
        .ok_or_else(|| StoreError::Corrupt(format!("stored asset key {key:?}")))
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Read what the inflows of region `prefix` (digits, validated by the caller) show: live
/// allocations and disbursements that happened in `[from, to)` (either end open). Call it inside
/// a read snapshot so the sums and the needs describe one moment.
pub fn region_books(
    conn: &mut AnyConnection,
    prefix: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<RegionBooks, StoreError> {
    let mut found: Vec<Recipient> = recipients::table
        .filter(recipients::region_code.like(format!("{prefix}%")))
        .order(recipients::id.asc())
        .limit(MAX_REGION_RECIPIENTS as i64 + 1)
        .select(Recipient::as_select())
        .load(conn)?;
    found.retain(|r| region_has_prefix(&r.region_code, prefix));
    let recipients_truncated = found.len() > MAX_REGION_RECIPIENTS;
    found.truncate(MAX_REGION_RECIPIENTS);
    let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
    let (lo, hi) = (
        from.map(micros).unwrap_or(i64::MIN),
        to.map(micros).unwrap_or(i64::MAX),
    );
    let mut sums: BTreeMap<(String, String, String), GivenTotals> = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let allocated: Vec<AllocationSums> = allocations::table
            .inner_join(
                facts::table.on(facts::organization
                    .eq(allocations::organization)
                    .and(facts::seq.eq(allocations::seq))),
            )
            .filter(allocations::recipient.eq_any(chunk))
            .filter(allocations::voided_by.is_null())
            .filter(facts::occurred_at.ge(lo))
            .filter(facts::occurred_at.lt(hi))
            .group_by((
                allocations::organization,
                allocations::recipient,
                allocations::asset_key,
            ))
            .select((
                allocations::organization,
                allocations::recipient,
                allocations::asset_key,
                count_star(),
                sql::<BigInt>("CAST(COALESCE(SUM(allocations.units), 0) AS BIGINT)"),
            ))
            .load(conn)?;
        for (o, r, k, n, units) in allocated {
            let t = sums.entry((o, r, k)).or_default();
            t.allocations += count(n);
            t.allocated += units;
        }
        let disbursed: Vec<DisbursementSums> = disbursements::table
            .inner_join(
                facts::table.on(facts::organization
                    .eq(disbursements::organization)
                    .and(facts::seq.eq(disbursements::seq))),
            )
            .filter(disbursements::recipient.eq_any(chunk))
            .filter(disbursements::voided_by.is_null())
            .filter(facts::occurred_at.ge(lo))
            .filter(facts::occurred_at.lt(hi))
            .group_by((
                disbursements::organization,
                disbursements::recipient,
                disbursements::asset_key,
            ))
            .select((
                disbursements::organization,
                disbursements::recipient,
                disbursements::asset_key,
                count_star(),
                sql::<BigInt>("CAST(COALESCE(SUM(disbursements.units), 0) AS BIGINT)"),
                sql::<BigInt>("CAST(COALESCE(SUM(disbursements.acknowledged), 0) AS BIGINT)"),
                sql::<BigInt>(
                    "CAST(COALESCE(SUM(CASE WHEN disbursements.acknowledged IS NULL \
                     THEN disbursements.units ELSE 0 END), 0) AS BIGINT)",
                ),
                sql::<BigInt>("CAST(COALESCE(SUM(disbursements.used), 0) AS BIGINT)"),
            ))
            .load(conn)?;
        for (o, r, k, n, units, acknowledged, unacknowledged, used) in disbursed {
            let t = sums.entry((o, r, k)).or_default();
            t.disbursements += count(n);
            t.disbursed += units;
            t.acknowledged += acknowledged;
            t.unacknowledged += unacknowledged;
            t.used += used;
        }
    }
    let given = sums
        .into_iter()
        .map(|((organization, recipient, key), totals)| {
            Ok(Given {
                organization,
                recipient,
                asset: asset(&key)?,
                totals,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut org_ids: Vec<String> = given.iter().map(|g| g.organization.clone()).collect();
    org_ids.dedup();
    let organizations: BTreeMap<String, String> = organizations::table
        .filter(organizations::id.eq_any(&org_ids))
        .select((organizations::id, organizations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let filter = NeedFilter {
        region: Some(prefix.to_owned()),
        status: Some(NeedStatus::Open),
        ..NeedFilter::default()
    };
    let mut open_needs = needs::list(conn, &filter, 0, MAX_REGION_NEEDS as i64 + 1)?.items;
    let open_needs_truncated = open_needs.len() > MAX_REGION_NEEDS;
    open_needs.truncate(MAX_REGION_NEEDS);
    Ok(RegionBooks {
        region: prefix.to_owned(),
        from,
        to,
        recipients: found
            .into_iter()
            .map(|r| (r.id.clone(), Party::from(r)))
            .collect(),
        recipients_truncated,
        organizations,
        given,
        open_needs,
        open_needs_truncated,
    })
}
