//! Periodic disclosures (`disclosure.published`): the organisation's summary for a period, as
//! the public log stood at the period's end, and its SHA-256.
//!
//! The definition is exact so that anyone can recompute it from `GET /organizations/{org}/entries`
//! and the public registry (docs/API.md, "Periodic disclosures"):
//!
//! 1. **The log at `to`** is the longest prefix of the log (seq 1..N) whose entries were all
//!    recorded (`recorded_at`) at or before `period.to`.
//! 2. That prefix is replayed into a [`Ledger`] (corrections recorded in it applied).
//! 3. **Movements** are the live facts of that ledger (a replacement in place of what it
//!    replaced, voided facts left out) whose `occurred_at` lies in `[from, to)`, summed per asset
//!    by kind.
//! 4. **Position** is [`summarise`] of the whole prefix with its stock ageing as at `to` (the
//!    same object as `GET /organizations/{org}/summary?to=<to>` serves).
//! 5. `summary_sha256` is SHA-256 of the RFC 8785 form of the [`PeriodSummary`] JSON.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::asset::AssetKey;
use crate::canonical::jcs;
use crate::entry::{Fact, Period, Seq};

use super::summary::{summarise, Summary};
use super::{AssetLabel, Directory, Ledger, Policy, Record};

/// Which log the period summary was computed from: its first `tree_size` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LogAt {
    /// Entries in the log at `to` (seq 1..tree_size).
    pub tree_size: Seq,
    /// `entry_hash` of the last of them (absent for an empty log): it chains every one before.
    pub head_entry_hash: Option<String>,
}

/// What moved in one asset during the period, as decimal strings of the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Movement {
    /// The asset.
    pub asset: AssetLabel,
    /// Donations received (and, for goods, bought: see `purchased`).
    pub received: String,
    /// Goods bought with donated money (included in `received`).
    pub purchased: String,
    /// Allocated to recipients.
    pub allocated: String,
    /// Sent to recipients.
    pub disbursed: String,
    /// Acknowledged by recipients as arrived.
    pub acknowledged: String,
    /// Reported used by recipients.
    pub used: String,
    /// The charity's own costs.
    pub expenses: String,
    /// Money paid for goods.
    pub procured: String,
}

/// The organisation's summary for a period: what a `disclosure.published` entry hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PeriodSummary {
    /// Organisation slug.
    pub organization: String,
    /// The period, `from` inclusive, `to` exclusive.
    pub period: Period,
    /// The log it was computed from.
    pub log: LogAt,
    /// Entries of the log at `to` that occurred in the period (any kind, corrected or not).
    pub entries_in_period: u64,
    /// Per asset, what moved in the period (live facts that occurred in it).
    pub movements: Vec<Movement>,
    /// The organisation's summary as the log stood at `to`.
    pub position: Summary,
}

/// The records of the log at `to`: the longest prefix recorded at or before `to` (`recorded_at`
/// follows seq).
pub fn log_at<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    to: chrono::DateTime<chrono::Utc>,
) -> impl Iterator<Item = &'a Record> {
    records.into_iter().take_while(move |r| r.recorded_at <= to)
}

/// Replay the log at `to` (see [`log_at`]) of a log whose records (all of them, in seq order)
/// are `records`.
pub fn ledger_at<'a>(
    organization: super::Party,
    records: impl IntoIterator<Item = &'a Record>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Ledger, String> {
    Ledger::new(organization, log_at(records, to).cloned().collect())
}

/// The period summary of a disclosure, from a ledger of the log at any later head: the log at
/// `period.to` is replayed from its records. `directory` must name the recipients of that
/// ledger (those of the log at `to` are among them).
pub fn period_summary_from(
    ledger: &Ledger,
    directory: &Directory,
    policy: &Policy,
    period: Period,
) -> Result<PeriodSummary, String> {
    let at = ledger_at(ledger.organization.clone(), &ledger.records, period.to)?;
    Ok(period_summary(&at, directory, policy, period))
}

#[derive(Default)]
struct Sums {
    received: i64,
    purchased: i64,
    allocated: i64,
    disbursed: i64,
    acknowledged: i64,
    used: i64,
    expenses: i64,
    procured: i64,
}

/// The period summary of `ledger`, which must be the replay of the log at `period.to` (see
/// [`log_at`]); `directory` the recipients it names.
pub fn period_summary(
    ledger: &Ledger,
    directory: &Directory,
    policy: &Policy,
    period: Period,
) -> PeriodSummary {
    let mut sums: BTreeMap<AssetKey, Sums> = BTreeMap::new();
    let mut add = |wire: &crate::asset::AssetWire, f: fn(&mut Sums, i64)| {
        if let Ok(a) = wire.parse_or_zero() {
            f(sums.entry(a.key()).or_default(), a.units());
        }
    };
    for f in ledger
        .live_facts()
        .filter(|f| period.contains(f.occurred_at))
    {
        match f.fact {
            Fact::Donation(d) => add(&d.asset, |s, u| s.received += u),
            Fact::Allocation(a) => add(&a.asset, |s, u| s.allocated += u),
            Fact::Disbursement(d) => add(&d.asset, |s, u| s.disbursed += u),
            Fact::Acknowledgement(a) => add(&a.asset, |s, u| s.acknowledged += u),
            Fact::Usage(u) => add(&u.asset, |s, n| s.used += n),
            Fact::Expense(e) => add(&e.asset, |s, u| s.expenses += u),
            Fact::Procurement(p) => {
                add(&p.paid, |s, u| s.procured += u);
                add(&p.goods, |s, u| {
                    s.received += u;
                    s.purchased += u;
                });
            }
            Fact::Campaign(_) | Fact::Correction(_) | Fact::Disclosure(_) => {}
        }
    }
    let movements = sums
        .iter()
        .map(|(key, s)| Movement {
            asset: AssetLabel::from(key),
            received: key.format(s.received),
            purchased: key.format(s.purchased),
            allocated: key.format(s.allocated),
            disbursed: key.format(s.disbursed),
            acknowledged: key.format(s.acknowledged),
            used: key.format(s.used),
            expenses: key.format(s.expenses),
            procured: key.format(s.procured),
        })
        .collect();
    PeriodSummary {
        organization: ledger.organization.id.clone(),
        period,
        log: LogAt {
            tree_size: ledger.head(),
            head_entry_hash: ledger.records.last().map(|r| r.entry_hash.to_string()),
        },
        entries_in_period: ledger
            .records
            .iter()
            .filter(|r| period.contains(r.occurred_at))
            .count() as u64,
        movements,
        position: summarise(ledger, directory, policy, None, period.to),
    }
}

/// SHA-256 (lowercase hex) of the RFC 8785 form of a period summary.
pub fn summary_sha256(summary: &PeriodSummary) -> String {
    let value = serde_json::to_value(summary).unwrap_or(serde_json::Value::Null);
    hex::encode(Sha256::digest(jcs(&value).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::test_log;

    #[test]
    fn the_log_at_to_is_the_prefix_recorded_by_then() {
        let records = test_log::ledger().records;
        let last = records.last().map(|r| r.recorded_at).expect("entries");
        assert_eq!(log_at(&records, last).count(), records.len());
        let before = records[0].recorded_at - chrono::Duration::seconds(1);
        assert!(log_at(&records, before).next().is_none());
        let second = records[1].recorded_at;
        assert!(log_at(&records, second).count() >= 2);
    }

    #[test]
    fn movements_count_live_facts_that_occurred_in_the_period() {
        let ledger = test_log::ledger();
        let all = Period {
            from: ledger.records[0].occurred_at,
            to: ledger.records.last().expect("entries").occurred_at + chrono::Duration::days(1),
        };
        let s = period_summary(&ledger, &test_log::directory(), &Policy::default(), all);
        assert_eq!(s.log.tree_size, ledger.head());
        assert_eq!(s.entries_in_period, ledger.records.len() as u64);
        // Everything received in the period is what the position says was received.
        for m in &s.movements {
            let p = s
                .position
                .assets
                .iter()
                .find(|a| a.asset == m.asset)
                .expect("the asset is in the position");
            assert_eq!(m.received, p.totals.received, "{:?}", m.asset);
        }
        let none = Period {
            from: all.to,
            to: all.to + chrono::Duration::days(1),
        };
        let empty = period_summary(&ledger, &test_log::directory(), &Policy::default(), none);
        assert!(empty.movements.is_empty());
        assert_eq!(empty.entries_in_period, 0);
        assert_ne!(summary_sha256(&s), summary_sha256(&empty));
        assert_eq!(summary_sha256(&s), summary_sha256(&s.clone()));
        assert_eq!(summary_sha256(&s).len(), 64);
    }
}
