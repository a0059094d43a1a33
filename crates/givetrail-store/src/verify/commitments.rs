//! The regulator's check that the private values held in the database are the ones the log
//! committed to.

use diesel::prelude::*;

use givetrail_domain::ledger::PrivateValues;

use crate::db::AnyConnection;
use crate::schema::*;
use crate::StoreError;

/// An entry's private values beside its canonical form.
#[derive(Queryable)]
struct PrivateRow {
    seq: i64,
    private: String,
    canonical: String,
}

/// Regulator check: recompute every stored private value's commitment and compare it with the
/// commitment published in its entry. Returns (values checked, mismatches in words).
pub fn check_commitments(
    conn: &mut AnyConnection,
    org: &str,
) -> Result<(usize, Vec<String>), StoreError> {
    let rows: Vec<PrivateRow> = entry_private::table
        .inner_join(
            entries::table.on(entries::organization
                .eq(entry_private::organization)
                .and(entries::seq.eq(entry_private::seq))),
        )
        .filter(entry_private::organization.eq(org))
        .order(entry_private::seq.asc())
        .select((
            entry_private::seq,
            entry_private::private,
            entries::canonical,
        ))
        .load(conn)?;
    let mut checked = 0;
    let mut problems = Vec::new();
    for PrivateRow {
        seq,
        private,
        canonical,
    } in rows
    {
        let private: PrivateValues = serde_json::from_str(&private)
            .map_err(|e| StoreError::Corrupt(format!("{org}#{seq} private values: {e}")))?;
        let entry: serde_json::Value = serde_json::from_str(&canonical)
            .map_err(|e| StoreError::Corrupt(format!("{org}#{seq}: {e}")))?;
        // A replacement's private values belong to the replacement body.
        let body = match entry["body"].get("replacement") {
            Some(r) => r,
            None => &entry["body"],
        };
        for (path, v) in &private.values {
            checked += 1;
            // "donor.contact" is committed as body.donor.contact_commitment.
            let mut node = body;
            let mut parts: Vec<&str> = path.split('.').collect();
            let last = parts.pop().unwrap_or_default();
            for p in parts {
                node = &node[p];
            }
            let published = node[format!("{last}_commitment")].as_str();
            let recomputed = givetrail_domain::privacy::commitment(&v.salt, &v.value).to_string();
            if published != Some(recomputed.as_str()) {
                problems.push(format!("{org}#{seq}: the private {path} held in the database does not match its published commitment"));
            }
        }
    }
    Ok((checked, problems))
}
