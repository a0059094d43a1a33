//! What the disclosure reports read: whole public logs (as typed records), registry entries and
//! a few indexes. The reports themselves are pure functions in `givetrail_domain::disclosure`.

use std::sync::Arc;

use diesel::prelude::*;

use givetrail_domain::disclosure::{trail, Directory, Ledger, Party};

use crate::db::AnyConnection;

use crate::read::model::ReadModel;
use crate::registry::{self, Organization, Recipient};
use crate::schema::*;
use crate::StoreError;

/// Most recipients looked up in one query.
const LOOKUP_CHUNK: usize = 500;

impl From<Organization> for Party {
    fn from(o: Organization) -> Party {
        Party {
            id: o.id,
            name: o.name,
            credit_code: Some(o.credit_code),
            kind: o.kind,
            region_code: o.region_code,
            organization: None,
            ownership: None,
            designated_hospital: false,
            registered_by: None,
            confirmed_at: None,
        }
    }
}

impl From<Recipient> for Party {
    fn from(r: Recipient) -> Party {
        let registered_by = r.registrar();
        let confirmed_at = r.confirmed_time();
        Party {
            name: Party::public_name(&r.kind, &r.name),
            id: r.id,
            credit_code: r.credit_code,
            kind: r.kind,
            region_code: r.region_code,
            organization: r.organization,
            ownership: r.ownership,
            designated_hospital: r.designated_hospital,
            registered_by,
            confirmed_at,
        }
    }
}

/// Registry entries of these recipients (unknown ids are left out).
pub fn directory(conn: &mut AnyConnection, ids: &[String]) -> Result<Directory, StoreError> {
    let mut out = Directory::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let rows: Vec<Recipient> = recipients::table
            .filter(recipients::id.eq_any(chunk))
            .select(Recipient::as_select())
            .load(conn)?;
        out.extend(rows.into_iter().map(|r| (r.id.clone(), Party::from(r))));
    }
    Ok(out)
}

/// A ledger (from the read model) and the registry entries of every recipient it names.
pub fn ledger_with_directory(
    conn: &mut AnyConnection,
    model: &ReadModel,
    org: &str,
) -> Result<Option<(Arc<Ledger>, Directory)>, StoreError> {
    let Some(l) = model.ledger(conn, org)? else {
        return Ok(None);
    };
    let d = directory(conn, &l.recipient_ids())?;
    Ok(Some((l, d)))
}

/// Organisations with a live allocation or disbursement to a recipient, in slug order.
///
/// Each registered organisation is one probe of the `(recipient, organization, seq)` indexes
/// that stops at the first live row, so the cost follows how many organisations are registered,
/// never how many times they gave to the recipient. The probes are scalar subqueries with
/// `LIMIT 1`: PostgreSQL may turn an `EXISTS` into one hash of every row of the recipient (it
/// does on a database without statistics, as right after a bulk load), and asking the
/// recipient's rows for their distinct organisations reads every one of them.
///
/// Citus plans no correlated subquery over a reference table (`organizations`): there the
/// recipient's live rows are asked for their distinct organisations, on every shard in parallel
/// (each on its `(recipient, organization, seq)` index).
pub fn organizations_giving_to(
    conn: &mut AnyConnection,
    recipient: &str,
) -> Result<Vec<String>, StoreError> {
    if crate::db::is_distributed(conn)? {
        let allocated = allocations::table
            .filter(allocations::recipient.eq(recipient.to_owned()))
            .filter(allocations::voided_by.is_null())
            .select(allocations::organization)
            .distinct();
        let disbursed = disbursements::table
            .filter(disbursements::recipient.eq(recipient.to_owned()))
            .filter(disbursements::voided_by.is_null())
            .select(disbursements::organization)
            .distinct();
        let mut orgs: Vec<String> = allocated.load(conn)?;
        orgs.extend(disbursed.load::<String>(conn)?);
        orgs.sort_unstable();
        orgs.dedup();
        return Ok(orgs);
    }
    let allocated = allocations::table
        .filter(allocations::recipient.eq(recipient.to_owned()))
        .filter(allocations::organization.eq(organizations::id))
        .filter(allocations::voided_by.is_null())
        .select(allocations::organization)
        .single_value();
    let disbursed = disbursements::table
        .filter(disbursements::recipient.eq(recipient.to_owned()))
        .filter(disbursements::organization.eq(organizations::id))
        .filter(disbursements::voided_by.is_null())
        .select(disbursements::organization)
        .single_value();
    Ok(organizations::table
        .filter(disbursed.is_not_null().or(allocated.is_not_null()))
        .select(organizations::id)
        .order(organizations::id.asc())
        .load(conn)?)
}

/// Entries written per organisation (the last seq of each log; logs are gapless).
pub fn entries_per_organization(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows: Vec<(String, Option<i64>)> = entries::table
        .group_by(entries::organization)
        .select((entries::organization, diesel::dsl::max(entries::seq)))
        .order(entries::organization.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(o, n)| (o, n.unwrap_or(0))).collect())
}

/// Logs and registry entries for [`trail::trace`], read on demand.
pub struct Logs<'a> {
    /// The connection.
    pub conn: &'a mut AnyConnection,
    /// Where replayed logs are kept.
    pub model: &'a ReadModel,
}

impl trail::Source for Logs<'_> {
    type Error = StoreError;

    fn ledger(&mut self, organization: &str) -> Result<Option<Arc<Ledger>>, StoreError> {
        self.model.ledger(self.conn, organization)
    }

    fn recipient(&mut self, id: &str) -> Result<Option<Party>, StoreError> {
        Ok(registry::recipient(self.conn, id)?.map(Party::from))
    }
}
