//! Stock ageing: how long what an organisation still holds has been waiting, as at a moment.
//!
//! Two stages are aged, each from its own start:
//! - **unallocated**: what remains of each live lot (a donation, or goods bought) that is neither
//!   allocated nor spent, from the lot's `occurred_at`;
//! - **undisbursed**: what each live allocation has not sent yet, from the allocation's
//!   `occurred_at` (a replacement's own date, once corrected).
//!
//! This module is the one home of "what is held, since when, and how old is it": the summaries'
//! `ageing` buckets ([`Holdings`], kept per ledger version) and the reconciliation's ageing
//! findings (`reconciliation::sections::ageing`) both select what is held with
//! [`unallocated_lots`] and [`undisbursed_allocations`] and measure it with [`age`].

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

use crate::asset::AssetKey;
use crate::entry::Seq;
use crate::ledger::{AllocationState, Lot};

use super::{flows, Ledger};

/// Lower bounds, in hours, of the buckets after the first: `[0,24h)`, `[24h,72h)`,
/// `[72h,168h)`, `[168h,720h)`, `≥720h`.
pub const BUCKET_STARTS_HOURS: [i64; 4] = [24, 72, 168, 720];

/// How long something held since `since` has waited at `as_at`. Never negative: a fact dated
/// after `as_at` (within the clock skew the rules allow, or a report as at an earlier moment)
/// has waited zero.
pub fn age(since: DateTime<Utc>, as_at: DateTime<Utc>) -> Duration {
    (as_at - since).max(Duration::zero())
}

/// Live lots with units neither allocated nor spent: what is held unallocated, each since its
/// lot's `occurred_at`.
pub fn unallocated_lots(ledger: &Ledger) -> impl Iterator<Item = &Lot> {
    ledger
        .books
        .lots
        .values()
        .map(std::sync::Arc::as_ref)
        .filter(|l| l.live && l.remaining() > 0)
}

/// Live allocations with units not yet disbursed, each with the moment it was allocated (its
/// live version's `occurred_at`): what is held undisbursed.
pub fn undisbursed_allocations(
    ledger: &Ledger,
) -> impl Iterator<Item = (&AllocationState, DateTime<Utc>)> {
    ledger
        .books
        .allocations
        .values()
        .filter(|a| a.live && a.units > a.disbursed)
        .filter_map(|a| ledger.fact(a.seq).map(|f| (a, f.occurred_at)))
}

/// Units held since each moment, oldest first, with running totals so that any moment's
/// buckets cost a binary search per bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    since: Vec<DateTime<Utc>>,
    /// `cumulative[i]`: units held since `since[0..=i]`.
    cumulative: Vec<i64>,
}

impl Held {
    fn from_parts(mut parts: Vec<Part>) -> Self {
        parts.retain(|p| p.1 > 0);
        parts.sort();
        let mut total = 0i64;
        let (since, cumulative) = parts
            .into_iter()
            .map(|(s, u)| {
                total = total.saturating_add(u);
                (s, total)
            })
            .unzip();
        Self { since, cumulative }
    }

    /// Every unit held.
    pub fn total(&self) -> i64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Units that at `as_at` have waited at least `hours`.
    fn waited_at_least(&self, hours: i64, as_at: DateTime<Utc>) -> i64 {
        let Some(cut) = as_at.checked_sub_signed(Duration::hours(hours)) else {
            return 0;
        };
        match self.since.partition_point(|s| *s <= cut) {
            0 => 0,
            n => self.cumulative[n - 1],
        }
    }

    /// The buckets as at `as_at`.
    pub fn buckets(&self, as_at: DateTime<Utc>) -> Buckets {
        let at_least = BUCKET_STARTS_HOURS.map(|h| self.waited_at_least(h, as_at));
        let total = self.total();
        Buckets {
            units: [
                total - at_least[0],
                at_least[0] - at_least[1],
                at_least[1] - at_least[2],
                at_least[2] - at_least[3],
                at_least[3],
            ],
            oldest_hours: self.since.first().map(|s| age(*s, as_at).num_hours()),
        }
    }
}

/// Units per age bucket (see [`BUCKET_STARTS_HOURS`]) and the age of the oldest unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Buckets {
    /// Units in each bucket, youngest first.
    pub units: [i64; 5],
    /// Whole hours the oldest unit has waited; `None` when nothing is held.
    pub oldest_hours: Option<i64>,
}

/// What one asset holds unallocated and undisbursed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stock {
    /// Unallocated, since each lot's date.
    pub unallocated: Held,
    /// Allocated and not sent, since each allocation's date.
    pub undisbursed: Held,
}

/// Per asset, what a log (or the lots of one campaign, and everything drawn on them) holds.
pub type Holdings = BTreeMap<AssetKey, Stock>;

/// What the whole log (`campaign: None`) or one campaign's lots hold, per asset, worked out once
/// per ledger version. An allocation drawing on several lots counts, for each lot, what it drew
/// from that lot less what its disbursements took from it (oldest-first, [`flows::shares`]), so
/// a campaign's undisbursed stock is exactly its summary's `undisbursed`.
pub fn holdings(ledger: &Ledger, campaign: Option<&str>) -> std::sync::Arc<Holdings> {
    ledger.derived(&format!("holdings {campaign:?}"), || {
        compute(ledger, campaign)
    })
}

/// Units held since a moment.
type Part = (DateTime<Utc>, i64);

fn compute(ledger: &Ledger, campaign: Option<&str>) -> Holdings {
    let lots = &ledger.books.lots;
    let in_scope = |lot: &Lot| {
        lot.live && (campaign.is_none() || lot.campaign.as_ref().map(|c| c.as_str()) == campaign)
    };
    // Per asset: the unallocated parts, then the undisbursed ones.
    let mut parts: BTreeMap<AssetKey, [Vec<Part>; 2]> = BTreeMap::new();
    for lot in unallocated_lots(ledger).filter(|l| in_scope(l)) {
        parts.entry(lot.asset.clone()).or_default()[0].push((lot.occurred_at, lot.remaining()));
    }
    let mut drawn: HashMap<Seq, Vec<(Seq, i64)>> = HashMap::new();
    for d in flows::live_draws(ledger).filter(|d| !d.expense) {
        drawn.entry(d.by).or_default().push((d.donation, d.units));
    }
    let mut sent: HashMap<(Seq, Seq), i64> = HashMap::new();
    for s in flows::shares(ledger) {
        *sent.entry((s.allocation, s.lot)).or_default() += s.units;
    }
    for (a, since) in undisbursed_allocations(ledger) {
        for (lot, units) in drawn.get(&a.seq).into_iter().flatten() {
            let Some(l) = lots.get(lot).filter(|l| in_scope(l)) else {
                continue;
            };
            let left = units - sent.get(&(a.seq, *lot)).copied().unwrap_or(0);
            parts.entry(l.asset.clone()).or_default()[1].push((since, left));
        }
    }
    parts
        .into_iter()
        .map(|(key, [unallocated, undisbursed])| {
            (
                key,
                Stock {
                    unallocated: Held::from_parts(unallocated),
                    undisbursed: Held::from_parts(undisbursed),
                },
            )
        })
        .collect()
}

/// One stage's buckets as decimal strings of the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgeBuckets {
    /// Waiting less than 24 hours.
    pub under_24h: String,
    /// Waiting 24 hours or more, less than 72.
    #[serde(rename = "1d_to_3d")]
    pub d1_to_3d: String,
    /// Waiting 72 hours or more, less than 168.
    #[serde(rename = "3d_to_7d")]
    pub d3_to_7d: String,
    /// Waiting 168 hours or more, less than 720.
    #[serde(rename = "7d_to_30d")]
    pub d7_to_30d: String,
    /// Waiting 720 hours (30 days) or more.
    pub over_30d: String,
    /// Whole hours the oldest unit has waited; `null` when nothing is held.
    pub oldest_hours: Option<i64>,
}

impl AgeBuckets {
    /// `b` in the units of `key`.
    pub fn new(key: &AssetKey, b: &Buckets) -> Self {
        let [under_24h, d1_to_3d, d3_to_7d, d7_to_30d, over_30d] = b.units.map(|u| key.format(u));
        Self {
            under_24h,
            d1_to_3d,
            d3_to_7d,
            d7_to_30d,
            over_30d,
            oldest_hours: b.oldest_hours,
        }
    }

    /// The buckets, youngest first.
    pub fn amounts(&self) -> [&str; 5] {
        [
            &self.under_24h,
            &self.d1_to_3d,
            &self.d3_to_7d,
            &self.d7_to_30d,
            &self.over_30d,
        ]
    }
}

/// Stock ageing of one asset as at the summary's moment: what is unallocated and what is
/// allocated but not sent, by how long it has waited. Each stage's buckets add up to the
/// asset's `unallocated` and `undisbursed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ageing {
    /// Unallocated, aged from each lot's `occurred_at`.
    pub unallocated: AgeBuckets,
    /// Allocated and not yet disbursed, aged from each allocation's `occurred_at`.
    pub undisbursed: AgeBuckets,
}

impl Ageing {
    /// Nothing held, in the units of `key`.
    pub fn nothing(key: &AssetKey) -> Self {
        Self {
            unallocated: AgeBuckets::new(key, &Buckets::default()),
            undisbursed: AgeBuckets::new(key, &Buckets::default()),
        }
    }

    /// The ageing of `stock` (of asset `key`) as at `as_at`.
    pub fn new(key: &AssetKey, stock: &Stock, as_at: DateTime<Utc>) -> Self {
        Self {
            unallocated: AgeBuckets::new(key, &stock.unallocated.buckets(as_at)),
            undisbursed: AgeBuckets::new(key, &stock.undisbursed.buckets(as_at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::summary::{summarise, TotalsWire};
    use crate::disclosure::{test_log, Policy};
    use rust_decimal::Decimal;

    fn sum(b: &AgeBuckets) -> Decimal {
        b.amounts()
            .iter()
            .map(|a| a.parse::<Decimal>().expect("a decimal"))
            .sum()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().expect("a decimal")
    }

    #[test]
    fn every_summarys_buckets_add_up_to_its_unallocated_and_undisbursed() {
        let ledger = test_log::ledger();
        let first = ledger.records[0].occurred_at;
        let mut held_somewhere = false;
        for campaign in [None, Some(test_log::CAMPAIGN)] {
            for as_at in [
                first - Duration::days(1),
                first + Duration::hours(1),
                first + Duration::days(5),
                first + Duration::days(400),
            ] {
                let s = summarise(
                    &ledger,
                    &test_log::directory(),
                    &Policy::default(),
                    campaign,
                    as_at,
                );
                for a in &s.assets {
                    let t: &TotalsWire = &a.totals;
                    assert_eq!(sum(&a.ageing.unallocated), dec(&t.unallocated), "{a:?}");
                    assert_eq!(sum(&a.ageing.undisbursed), dec(&t.undisbursed), "{a:?}");
                    held_somewhere |= a.ageing.unallocated.oldest_hours.is_some();
                    assert_eq!(
                        a.ageing.unallocated.oldest_hours.is_some(),
                        dec(&t.unallocated) > Decimal::ZERO
                    );
                }
            }
        }
        assert!(held_somewhere, "the test log holds something unallocated");
    }

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_580_000_000, 0).expect("a time") + Duration::hours(h)
    }

    #[test]
    fn buckets_split_at_24_72_168_and_720_hours_and_sum_to_the_total() {
        // Held since hours 0, 10, 100, 500 and 1000, seen at hour 1000.
        let held = Held::from_parts(vec![
            (at(1000), 1),
            (at(0), 10_000),
            (at(500), 100),
            (at(10), 1_000),
            (at(900), 10),
            (at(1001), 0),
        ]);
        assert_eq!(held.total(), 11_111);
        let b = held.buckets(at(1000));
        // Ages 0 (1 unit), 100 h (10), 500 h (100), 990 h (1,000), 1,000 h (10,000).
        assert_eq!(b.units, [1, 0, 10, 100, 11_000]);
        assert_eq!(b.oldest_hours, Some(1000));
        assert_eq!(b.units.iter().sum::<i64>(), held.total());
        // Exactly at a boundary a unit moves up: 24 h is no longer under 24 h.
        let one = Held::from_parts(vec![(at(0), 5)]);
        assert_eq!(one.buckets(at(24)).units, [0, 5, 0, 0, 0]);
        assert_eq!(
            one.buckets(at(24) - Duration::microseconds(1)).units,
            [5, 0, 0, 0, 0]
        );
        assert_eq!(one.buckets(at(72)).units, [0, 0, 5, 0, 0]);
        assert_eq!(one.buckets(at(168)).units, [0, 0, 0, 5, 0]);
        assert_eq!(one.buckets(at(720)).units, [0, 0, 0, 0, 5]);
        // Seen before it was held: zero hours old.
        assert_eq!(one.buckets(at(-3)).units, [5, 0, 0, 0, 0]);
        assert_eq!(one.buckets(at(-3)).oldest_hours, Some(0));
        assert_eq!(one.buckets(at(30)).oldest_hours, Some(30));
        let none = Held::default().buckets(at(0));
        assert_eq!(none.units, [0; 5]);
        assert_eq!(none.oldest_hours, None);
    }
}
