//! Timeliness of disclosure: how long each entry took to become public, which entries missed
//! their campaign's deadline, and how long donations waited before they were disbursed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::asset::AssetKey;
use crate::entry::Seq;

use super::flows::Share;
use super::{hours, AssetLabel, Ledger, Policy, Record};

/// Longest list of entry seqs a summary names per campaign (the count is always complete; the
/// per-entry feed lists them all).
pub const MAX_LISTED: usize = 1_000;

/// How long one entry took to become public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EntryTimeliness {
    /// Seq.
    pub seq: Seq,
    /// Entry kind.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it became public.
    pub recorded_at: DateTime<Utc>,
    /// `recorded_at − occurred_at`, in hours with two decimals.
    pub delay_hours: String,
    /// Campaigns the entry belongs to (through the donations it draws on).
    pub campaigns: Vec<String>,
    /// The deadline that applies: the strictest of its campaigns' (hours).
    pub deadline_hours: i64,
    /// Whether it became public after the deadline.
    pub missed: bool,
}

/// The timeliness of the entry at `seq` (`None` past the log's end).
pub fn entry(ledger: &Ledger, policy: &Policy, seq: Seq) -> Option<EntryTimeliness> {
    ledger.record(seq).map(|r| row(ledger, policy, r))
}

fn row(ledger: &Ledger, policy: &Policy, r: &Record) -> EntryTimeliness {
    let campaigns = ledger.campaigns_of(r.seq);
    let deadline = deadline_of(ledger, policy, &campaigns);
    let delay = r.recorded_at - r.occurred_at;
    EntryTimeliness {
        seq: r.seq,
        kind: r.kind.as_str().to_owned(),
        occurred_at: r.occurred_at,
        recorded_at: r.recorded_at,
        delay_hours: hours(delay.num_seconds()),
        campaigns,
        deadline_hours: deadline.num_hours(),
        missed: delay > deadline,
    }
}

/// Whether the entry `r` became public after its deadline.
fn missed(ledger: &Ledger, policy: &Policy, r: &Record) -> bool {
    r.recorded_at - r.occurred_at > deadline_of(ledger, policy, &ledger.campaigns_of(r.seq))
}

/// Up to `limit` entries after seq `after`, in seq order, only those that missed their deadline
/// when `missed_only`. A page costs its own rows: the seqs that missed are worked out once per
/// version ([`missed_of`]) and kept as seqs, not as a row per entry of the log (a row is about
/// 120 bytes; at a million entries the rows were a tenth of the server's memory).
pub fn page(
    ledger: &Ledger,
    policy: &Policy,
    after: Seq,
    limit: usize,
    missed_only: bool,
) -> Vec<EntryTimeliness> {
    if missed_only {
        let missed = missed_of(ledger, policy);
        let start = missed.partition_point(|s| *s <= after);
        missed[start..]
            .iter()
            .take(limit)
            .filter_map(|s| entry(ledger, policy, *s))
            .collect()
    } else {
        // Bounded by the last seq: an open range from a cursor near `Seq::MAX` would overflow.
        (after.max(0).saturating_add(1)..=ledger.head())
            .filter_map(|s| entry(ledger, policy, s))
            .take(limit)
            .collect()
    }
}

/// The seqs of the entries that missed their deadline, in seq order, worked out once per version
/// of the ledger (see [`Ledger::derived`]).
pub fn missed_of(ledger: &Ledger, policy: &Policy) -> std::sync::Arc<Vec<Seq>> {
    ledger.derived(&format!("timeliness missed {policy:?}"), || {
        ledger
            .records
            .iter()
            .filter(|r| missed(ledger, policy, r))
            .map(|r| r.seq)
            .collect()
    })
}

/// Every entry of the log with its disclosure delay, in seq order.
pub fn entries<'a>(
    ledger: &'a Ledger,
    policy: &'a Policy,
) -> impl Iterator<Item = EntryTimeliness> + 'a {
    ledger.records.iter().map(move |r| row(ledger, policy, r))
}

/// The deadline of an entry belonging to `campaigns`: the emergency one if any of them is an
/// emergency appeal.
fn deadline_of(ledger: &Ledger, policy: &Policy, campaigns: &[String]) -> chrono::Duration {
    policy.deadline(campaigns.iter().any(|c| ledger.is_emergency(c)))
}

/// A campaign's disclosure deadline and the entries that missed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CampaignDeadline {
    /// Campaign slug; `null` for entries outside any campaign.
    pub campaign: Option<String>,
    /// Whether it is an emergency appeal.
    pub emergency: bool,
    /// Deadline in hours.
    pub deadline_hours: i64,
    /// Entries belonging to it.
    pub entries: usize,
    /// Entries that became public after the deadline.
    pub missed: usize,
    /// Seqs of those entries (at most [`MAX_LISTED`]).
    pub missed_entries: Vec<Seq>,
}

/// Hours from receipt of a donation to its disbursement, per asset, weighted by units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DisbursementLatency {
    /// The asset.
    pub asset: AssetLabel,
    /// Units disbursed that were measured.
    pub disbursed: String,
    /// Median hours a disbursed unit waited after its donation was received.
    pub median_hours: String,
    /// 90th percentile of the same.
    pub p90_hours: String,
}

/// The timeliness part of a summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TimelinessSummary {
    /// Deadlines per campaign, with the entries that missed them.
    pub deadlines: Vec<CampaignDeadline>,
    /// Receipt-to-disbursement times per asset.
    pub receipt_to_disbursement: Vec<DisbursementLatency>,
}

/// The smallest sample value at or above percentile `p` of the total weight (nearest rank).
fn weighted_percentile(sorted: &[(i64, i64)], total: i64, p: i64) -> i64 {
    let mut cumulative = 0i128;
    for &(value, weight) in sorted {
        cumulative += i128::from(weight);
        if cumulative * 100 >= i128::from(p) * i128::from(total) {
            return value;
        }
    }
    sorted.last().map_or(0, |s| s.0)
}

/// Deadlines and latencies of the whole log (`campaign: None`) or of one campaign.
pub fn summarise(
    ledger: &Ledger,
    policy: &Policy,
    campaign: Option<&str>,
    shares: &[Share],
) -> TimelinessSummary {
    let mut per: BTreeMap<Option<String>, CampaignDeadline> = BTreeMap::new();
    // What [`entries`] says of each entry, without the words: only whether it missed.
    for r in &ledger.records {
        let campaigns = ledger.campaigns_of(r.seq);
        let missed = r.recorded_at - r.occurred_at > deadline_of(ledger, policy, &campaigns);
        let keys: Vec<Option<String>> = if campaigns.is_empty() {
            vec![None]
        } else {
            campaigns.into_iter().map(Some).collect()
        };
        for key in keys {
            if campaign.is_some() && key.as_deref() != campaign {
                continue;
            }
            let row = per.entry(key).or_insert_with_key(|key| {
                let emergency = key.as_deref().is_some_and(|c| ledger.is_emergency(c));
                CampaignDeadline {
                    campaign: key.clone(),
                    emergency,
                    deadline_hours: policy.deadline(emergency).num_hours(),
                    entries: 0,
                    missed: 0,
                    missed_entries: Vec::new(),
                }
            });
            row.entries += 1;
            if missed {
                row.missed += 1;
                if row.missed_entries.len() < MAX_LISTED {
                    row.missed_entries.push(r.seq);
                }
            }
        }
    }
    let mut samples: BTreeMap<AssetKey, Vec<(i64, i64)>> = BTreeMap::new();
    for s in shares {
        let (Some(lot), Some(d)) = (ledger.books.lots.get(&s.lot), ledger.fact(s.disbursement))
        else {
            continue;
        };
        if campaign.is_some() && lot.campaign.as_ref().map(|c| c.as_str()) != campaign {
            continue;
        }
        let waited = (d.occurred_at - lot.occurred_at).num_seconds();
        samples
            .entry(lot.asset.clone())
            .or_default()
            .push((waited, s.units));
    }
    let receipt_to_disbursement = samples
        .into_iter()
        .map(|(key, mut v)| {
            v.sort_unstable();
            let total: i64 = v.iter().map(|s| s.1).sum();
            DisbursementLatency {
                asset: AssetLabel::from(&key),
                disbursed: key.format(total),
                median_hours: hours(weighted_percentile(&v, total, 50)),
                p90_hours: hours(weighted_percentile(&v, total, 90)),
            }
        })
        .collect();
    TimelinessSummary {
        deadlines: per.into_values().collect(),
        receipt_to_disbursement,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::test_log;

    #[test]
    fn pages_are_the_entries_after_the_cursor() {
        let ledger = test_log::ledger();
        // The test log's entries were recorded when they happened: none is late under the
        // default deadlines, every one under deadlines of an hour before it happened.
        for (policy, late) in [(Policy::default(), false), (impossible(), true)] {
            let all: Vec<EntryTimeliness> = entries(&ledger, &policy).collect();
            assert_eq!(all.len(), ledger.records.len());
            assert!(all.iter().all(|e| e.missed == late), "{all:?}");
            let near_max = [Seq::MAX - 1, Seq::MAX];
            let cursors = [-3, 0, 1, 4, all.len() as Seq - 1, all.len() as Seq, 1_000];
            for after in cursors.into_iter().chain(near_max) {
                for limit in [1, 3, 1_000] {
                    let want = |missed_only: bool| -> Vec<EntryTimeliness> {
                        all.iter()
                            .filter(|e| e.seq > after && (!missed_only || e.missed))
                            .take(limit)
                            .cloned()
                            .collect()
                    };
                    for missed_only in [false, true] {
                        assert_eq!(
                            page(&ledger, &policy, after, limit, missed_only),
                            want(missed_only),
                            "after {after}, limit {limit}, missed only {missed_only}"
                        );
                    }
                }
            }
        }
    }

    fn impossible() -> Policy {
        Policy {
            emergency_deadline: chrono::Duration::hours(-1),
            standard_deadline: chrono::Duration::hours(-1),
            ..Policy::default()
        }
    }

    #[test]
    fn percentiles_are_weighted_by_units() {
        // 10 units waited 1 h, 90 units waited 10 h: the median unit waited 10 h.
        let v = [(3600, 10), (36_000, 90)];
        assert_eq!(weighted_percentile(&v, 100, 50), 36_000);
        assert_eq!(weighted_percentile(&v, 100, 10), 3600);
        assert_eq!(weighted_percentile(&v, 100, 90), 36_000);
    }
}
