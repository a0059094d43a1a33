//! What one log gave each recipient: totals per asset and the live disbursements in the order the
//! recipient view lists them, kept by [`Ledger::extend`](super::Ledger::extend) so the recipient
//! view costs the same at a million entries as at a hundred.
//!
//! Each record can change only a few allocations and disbursements: the one it adds (at its own
//! seq, a correction's replacement included), the one a correction voids, the disbursement a
//! recipient's statement is about, and what a voided disbursement was carried to ([`touched`]). `extend` takes what each of those gave
//! before the record is replayed ([`Gift::of`]), takes it again after, and moves the totals and
//! the ordered index by the difference: the same state machine (`ledger::replay`) decides, this
//! only watches. [`Received::recount`] works the same totals out from the books alone, for tests.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use crate::asset::AssetKey;
use crate::entry::{Fact, Seq};
use crate::ledger::MemoryBooks;

use super::Ledger;

/// Totals of one asset that one log gave one recipient, in units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GivenTotals {
    /// Live allocations to the recipient.
    pub allocations: usize,
    /// Units allocated to it.
    pub allocated: i64,
    /// Live disbursements to it.
    pub disbursements: usize,
    /// Units sent.
    pub disbursed: i64,
    /// Units it acknowledged as arrived.
    pub acknowledged: i64,
    /// Units it reported used.
    pub used: i64,
    /// Units sent and not yet acknowledged.
    pub unacknowledged: i64,
}

impl GivenTotals {
    fn is_empty(&self) -> bool {
        *self == GivenTotals::default()
    }

    /// Add `other` to these totals.
    pub fn add(&mut self, other: &GivenTotals) {
        self.allocations += other.allocations;
        self.allocated += other.allocated;
        self.disbursements += other.disbursements;
        self.disbursed += other.disbursed;
        self.acknowledged += other.acknowledged;
        self.used += other.used;
        self.unacknowledged += other.unacknowledged;
    }
}

/// What one log gave one recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// Totals per asset (assets with no live allocation or disbursement left are dropped).
    pub totals: BTreeMap<AssetKey, GivenTotals>,
    /// Live disbursements by (when they happened, seq): the recipient view's order.
    pub disbursements: imbl::OrdSet<(DateTime<Utc>, Seq)>,
}

/// What one live allocation or disbursement gives its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gift {
    Allocation {
        recipient: String,
        asset: AssetKey,
        units: i64,
    },
    Disbursement {
        recipient: String,
        asset: AssetKey,
        units: i64,
        acknowledged: Option<i64>,
        used: i64,
        at: DateTime<Utc>,
        seq: Seq,
    },
}

impl Gift {
    /// What the live allocation or disbursement at `seq` gives, if there is one there. `at` is
    /// when the fact at `seq` happened (a replacement's own date).
    pub(crate) fn of(books: &MemoryBooks, seq: Seq, at: Option<DateTime<Utc>>) -> Option<Gift> {
        if let Some(a) = books.allocations.get(&seq).filter(|a| a.live) {
            return Some(Gift::Allocation {
                recipient: a.recipient.as_str().to_owned(),
                asset: a.asset.clone(),
                units: a.units,
            });
        }
        let d = books.disbursements.get(&seq).filter(|d| d.live)?;
        Some(Gift::Disbursement {
            recipient: d.recipient.as_str().to_owned(),
            asset: d.asset.clone(),
            units: d.units,
            acknowledged: d.acknowledged,
            used: d.used,
            at: at.unwrap_or(DateTime::<Utc>::MIN_UTC),
            seq,
        })
    }
}

/// Seqs of the allocations and disbursements that replaying `fact` at `seq` into `books` may
/// change: the fact's own seq (a correction's replacement lives there), the fact a correction
/// voids, the disbursement a recipient's statement is about (as the body names it, and as the
/// books know it for a statement being corrected), and what a voided fact was carried to.
pub(crate) fn touched(books: &MemoryBooks, seq: Seq, fact: &Fact) -> Vec<Seq> {
    fn about(f: &Fact) -> Option<Seq> {
        match f {
            Fact::Acknowledgement(a) => Some(a.disbursement),
            Fact::Usage(u) => Some(u.disbursement),
            _ => None,
        }
    }
    let mut out = vec![seq];
    match fact {
        Fact::Correction(c) => {
            out.push(c.corrects);
            out.extend(books.facts.get(&c.corrects).and_then(|f| f.about));
            out.extend(c.replacement.as_deref().and_then(about));
        }
        other => out.extend(about(other)),
    }
    // A statement about a disbursement that was replaced is the replacement's now.
    let mut i = 0;
    while i < out.len() {
        if let Some(&next) = books.successors.get(&out[i]) {
            if !out.contains(&next) {
                out.push(next);
            }
        }
        i += 1;
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// [`Received`] of every recipient a log gave to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedIndex(imbl::HashMap<String, Received>);

impl ReceivedIndex {
    /// What the log gave `recipient`, if anything is live.
    pub fn get(&self, recipient: &str) -> Option<&Received> {
        self.0.get(recipient)
    }

    /// Count a gift in (`sign` 1) or out (`sign` -1).
    pub(crate) fn count(&mut self, gift: &Gift, sign: i64) {
        let (recipient, asset) = match gift {
            Gift::Allocation {
                recipient, asset, ..
            }
            | Gift::Disbursement {
                recipient, asset, ..
            } => (recipient, asset),
        };
        let r = self.0.entry(recipient.clone()).or_default();
        let t = r.totals.entry(asset.clone()).or_default();
        let n = |t: &mut usize| {
            *t = if sign > 0 {
                *t + 1
            } else {
                t.saturating_sub(1)
            }
        };
        match gift {
            Gift::Allocation { units, .. } => {
                n(&mut t.allocations);
                t.allocated += sign * units;
            }
            Gift::Disbursement {
                units,
                acknowledged,
                used,
                at,
                seq,
                ..
            } => {
                n(&mut t.disbursements);
                t.disbursed += sign * units;
                t.used += sign * used;
                match acknowledged {
                    Some(a) => t.acknowledged += sign * a,
                    None => t.unacknowledged += sign * units,
                }
                if sign > 0 {
                    r.disbursements.insert((*at, *seq));
                } else {
                    r.disbursements.remove(&(*at, *seq));
                }
            }
        }
        if t.is_empty() {
            r.totals.remove(asset);
        }
        if r.totals.is_empty() && r.disbursements.is_empty() {
            self.0.remove(recipient);
        }
    }

    /// The same index worked out from the books of `ledger` alone, walking every allocation and
    /// disbursement (what [`Ledger::extend`] keeps without walking; for tests).
    pub fn recount(ledger: &Ledger) -> ReceivedIndex {
        let books = &ledger.books;
        let mut out = ReceivedIndex::default();
        let seqs = books.allocations.keys().chain(books.disbursements.keys());
        for &seq in seqs {
            let at = ledger.fact(seq).map(|f| f.occurred_at);
            if let Some(g) = Gift::of(books, seq, at) {
                out.count(&g, 1);
            }
        }
        out
    }
}
