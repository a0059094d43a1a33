//! Periodic disclosures: the writer computes the SHA-256 of the period summary from the log as
//! it stands in the write transaction (the rules cannot read the log), then appends the command.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use givetrail_domain::disclosure::period::{ledger_at, period_summary, summary_sha256};
use givetrail_domain::disclosure::{Party, Policy};
use givetrail_domain::entry::Command;

use crate::db::AnyConnection;
use crate::read::disclosure::directory;
use crate::read::log::records_after;
use crate::{registry, StoreError};

/// `cmd`, with the summary hash filled in when it is a disclosure of a period that has ended
/// (the rule refuses other periods, naming the field, and a disclosure without a hash).
pub(super) fn with_summary_hash<'a>(
    conn: &mut AnyConnection,
    org: &str,
    cmd: &'a Command,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<Cow<'a, Command>, StoreError> {
    let Command::Disclosure(d) = cmd else {
        return Ok(Cow::Borrowed(cmd));
    };
    let period = d.request.period;
    if d.summary_sha256.is_some() || period.from >= period.to || period.to > now {
        return Ok(Cow::Borrowed(cmd));
    }
    let Some(o) = registry::organization(conn, org)? else {
        return Ok(Cow::Borrowed(cmd));
    };
    let records = records_after(conn, org, 0)?;
    let ledger = ledger_at(Party::from(o), &records, period.to).map_err(StoreError::Corrupt)?;
    let names = directory(conn, &ledger.recipient_ids())?;
    let summary = period_summary(&ledger, &names, policy, period);
    let mut d = d.clone();
    d.summary_sha256 = Some(summary_sha256(&summary));
    Ok(Cow::Owned(Command::Disclosure(d)))
}
