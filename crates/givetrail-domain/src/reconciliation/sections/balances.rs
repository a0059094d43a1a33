//! Balances: per asset, received = allocated + expenses + unallocated and allocated = disbursed +
//! undisbursed, each side from its own source (lot counters, draws, allocations, disbursements).

use std::collections::BTreeMap;

use super::Findings;
use crate::asset::AssetKey;
use crate::disclosure::{flows, AssetLabel, Ledger};
use crate::reconciliation::kind::FindingKind;

/// One asset's figures, each from its own source so that the identities are real checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AssetBooks {
    /// Σ received of live lots.
    pub(crate) received: i64,
    /// Σ lot counters.
    pub(crate) lot_allocated: i64,
    pub(crate) lot_expensed: i64,
    /// Σ remaining of live lots.
    pub(crate) unallocated: i64,
    /// Σ draws of live allocations and expenses.
    pub(crate) drawn_allocated: i64,
    pub(crate) drawn_expensed: i64,
    /// Σ live allocations, and what they record as disbursed.
    pub(crate) allocations: i64,
    pub(crate) allocation_disbursed: i64,
    /// Σ live disbursements.
    pub(crate) disbursed: i64,
    /// Σ acknowledged, and Σ sent of the acknowledged disbursements.
    pub(crate) acknowledged: i64,
    pub(crate) acknowledged_sent: i64,
    /// Σ reported used.
    pub(crate) used: i64,
    /// Σ live expenses.
    pub(crate) expenses: i64,
}

/// Each asset's figures, from the lot counters, the draws, the allocations, the disbursements
/// and the expenses.
pub(crate) fn asset_books(ledger: &Ledger) -> BTreeMap<AssetKey, AssetBooks> {
    let books = &ledger.books;
    let mut out: BTreeMap<AssetKey, AssetBooks> = BTreeMap::new();
    for l in books.lots.values().filter(|l| l.live) {
        let b = out.entry(l.asset.clone()).or_default();
        b.received += l.received;
        b.lot_allocated += l.allocated;
        b.lot_expensed += l.expensed;
        b.unallocated += l.remaining();
    }
    for d in flows::live_draws(ledger) {
        let Some(l) = books.lots.get(&d.donation) else {
            continue;
        };
        let b = out.entry(l.asset.clone()).or_default();
        if d.expense {
            b.drawn_expensed += d.units;
        } else {
            b.drawn_allocated += d.units;
        }
    }
    for a in books.allocations.values().filter(|a| a.live) {
        let b = out.entry(a.asset.clone()).or_default();
        b.allocations += a.units;
        b.allocation_disbursed += a.disbursed;
    }
    for d in books.disbursements.values().filter(|d| d.live) {
        let b = out.entry(d.asset.clone()).or_default();
        b.disbursed += d.units;
        b.used += d.used;
        if let Some(a) = d.acknowledged {
            b.acknowledged += a;
            b.acknowledged_sent += d.units;
        }
    }
    for (key, units, live) in books.expenses.values() {
        if *live {
            out.entry(key.clone()).or_default().expenses += units;
        }
    }
    out
}

/// The balance identities of each asset.
pub(crate) fn findings(per_asset: &BTreeMap<AssetKey, AssetBooks>, f: &mut Findings) {
    for (key, b) in per_asset {
        let fmt = |u: i64| key.format(u);
        let mut problems = Vec::new();
        if b.received != b.drawn_allocated + b.drawn_expensed + b.unallocated {
            problems.push(format!(
                "received {} ≠ allocated {} + expenses {} + unallocated {}",
                fmt(b.received),
                fmt(b.drawn_allocated),
                fmt(b.drawn_expensed),
                fmt(b.unallocated)
            ));
        }
        if b.lot_allocated != b.drawn_allocated || b.lot_expensed != b.drawn_expensed {
            problems.push(format!(
                "the donations record {} allocated and {} expensed, but the draws on them total {} and {}",
                fmt(b.lot_allocated),
                fmt(b.lot_expensed),
                fmt(b.drawn_allocated),
                fmt(b.drawn_expensed),
            ));
        }
        if b.allocations != b.drawn_allocated {
            problems.push(format!(
                "allocations total {} but draw {} from donations",
                fmt(b.allocations),
                fmt(b.drawn_allocated)
            ));
        }
        if b.expenses != b.drawn_expensed {
            problems.push(format!(
                "expenses total {} but draw {} from donations",
                fmt(b.expenses),
                fmt(b.drawn_expensed)
            ));
        }
        if b.allocation_disbursed != b.disbursed || b.disbursed > b.allocations {
            problems.push(format!(
                "allocated {} ≠ disbursed {} + undisbursed {} (the allocations record {} disbursed)",
                fmt(b.allocations),
                fmt(b.disbursed),
                fmt(b.allocations - b.disbursed),
                fmt(b.allocation_disbursed),
            ));
        }
        if b.used > b.acknowledged {
            problems.push(format!(
                "used {} > acknowledged {}",
                fmt(b.used),
                fmt(b.acknowledged)
            ));
        }
        let label = Some(AssetLabel::from(key));
        if !problems.is_empty() {
            if let Some(x) = f.add(
                FindingKind::BalanceMismatch,
                Vec::new(),
                format!("{key}: the books do not add up: {}.", problems.join("; ")),
            ) {
                x.asset = label.clone();
            }
        }
        if b.acknowledged > b.disbursed {
            if let Some(x) = f.add(
                FindingKind::AcknowledgedExceedsDisbursed,
                Vec::new(),
                format!(
                    "{key}: recipients acknowledged {}, more than the {} disbursed.",
                    fmt(b.acknowledged),
                    fmt(b.disbursed)
                ),
            ) {
                x.asset = label.clone();
            }
        }
        if problems.is_empty() {
            let message = format!(
                "{key}: received {} = allocated {} + expenses {} + unallocated {}; allocated {} = disbursed {} + undisbursed {}; acknowledged {} of {} disbursed; used {} ≤ acknowledged {}.",
                fmt(b.received), fmt(b.drawn_allocated), fmt(b.drawn_expensed), fmt(b.unallocated),
                fmt(b.allocations), fmt(b.disbursed), fmt(b.allocations - b.disbursed),
                fmt(b.acknowledged), fmt(b.disbursed), fmt(b.used), fmt(b.acknowledged)
            );
            if let Some(x) = f.add(FindingKind::BalancesHold, Vec::new(), message) {
                x.asset = label;
            }
        }
    }
}
