//! Which donation every disbursed, acknowledged and used unit came from.
//!
//! An allocation draws on one donation, or on several (a pool allocation, `drawn_from` oldest
//! first). Its disbursements are attributed to those draws **oldest-first** as well: the first
//! units disbursed come from the oldest donation, exactly as the pool itself was drawn. Within a
//! disbursement, what the recipient acknowledged and reported used is attributed the same way,
//! from the start of the disbursement; anything acknowledged beyond what was sent (more arrived
//! than was recorded) goes to the last donation of the disbursement, so every unit is counted
//! exactly once. Oldest-first keeps each unit's history a single line, where proportional
//! attribution would split every unit across donors and need fractions.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use crate::entry::{Fact, Seq};
use crate::ledger::DrawState;

use super::Ledger;

/// The part of one disbursement that came from one donation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Seq of the donation (lot).
    pub lot: Seq,
    /// Seq of the allocation.
    pub allocation: Seq,
    /// Seq of the disbursement.
    pub disbursement: Seq,
    /// Units of the disbursement that came from the donation.
    pub units: i64,
    /// Units of it the recipient acknowledged; `None` while the disbursement is unacknowledged.
    pub acknowledged: Option<i64>,
    /// Units of it the recipient reported used.
    pub used: i64,
    /// The usage reports covering it: (seq of the report, units of this share).
    pub usages: Vec<(Seq, i64)>,
}

/// What recipients said about one disbursement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statements {
    /// Seq of the acknowledgement, if any.
    pub acknowledgement: Option<Seq>,
    /// Usage reports in seq order: (seq, units).
    pub usages: Vec<(Seq, i64)>,
}

/// Draws of live allocations, expenses and purchases, in log order.
pub fn live_draws(ledger: &Ledger) -> impl Iterator<Item = &DrawState> {
    ledger.books.draws.iter().filter(|d| ledger.is_live(d.by))
}

/// What a draw took units from a lot for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DrawUse {
    /// An allocation to a recipient.
    Allocation,
    /// The charity's own cost (`expense.recorded`).
    Expense,
    /// Money paid for goods (`procurement.made`), which became a lot of their own.
    Purchase,
}

/// What `draw` took its units for. A purchase draws like an expense (its units count in the
/// money lot's `expensed`), so it is told apart by the kind of the drawing fact.
pub fn draw_use(ledger: &Ledger, draw: &DrawState) -> DrawUse {
    if ledger.is_purchase(draw.by) {
        DrawUse::Purchase
    } else if draw.expense {
        DrawUse::Expense
    } else {
        DrawUse::Allocation
    }
}

/// The flows of one version of a ledger, worked out on first use and kept until the ledger is
/// extended: a ledger kept by the read model answers every request from the same ones. A copy of
/// a ledger starts with none: it is made to be extended, which would drop them anyway.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    statements: OnceLock<BTreeMap<Seq, Statements>>,
    shares: OnceLock<Vec<Share>>,
    shares_by_lot: OnceLock<HashMap<Seq, Vec<usize>>>,
    shares_by_disbursement: OnceLock<HashMap<Seq, Vec<usize>>>,
    pub(crate) derived: Derived,
}

/// Reports worked out from one version of a ledger, by name (see [`Ledger::derived`]): a cell
/// per name and type, each a `OnceLock<Arc<T>>`.
#[derive(Default)]
pub(crate) struct Derived(Mutex<HashMap<(String, TypeId), Arc<dyn Any + Send + Sync>>>);

impl Derived {
    fn map(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, TypeId), Arc<dyn Any + Send + Sync>>> {
        // A panic while inserting leaves the map whole (inserts are single calls): keep using it.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept under `key`, or `make()`, kept. The map's lock is held only to find the
    /// key's cell; `make` runs in the cell ([`OnceLock::get_or_init`]), so the many requests that
    /// arrive together for a new version's report compute it once, the others waiting for it
    /// (before, each computed its own and the first kept won: under a stream of writes, every
    /// reader of a popular report did the whole work for each new version). `make` may ask for
    /// other keys.
    pub(crate) fn get_or<T: Any + Send + Sync>(
        &self,
        key: &str,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let cell = self
            .map()
            .entry((key.to_owned(), TypeId::of::<T>()))
            .or_insert_with(|| Arc::new(OnceLock::<Arc<T>>::new()))
            .clone();
        match cell.downcast::<OnceLock<Arc<T>>>() {
            Ok(cell) => cell.get_or_init(|| Arc::new(make())).clone(),
            // Not reached: the cell was made for `T`.
            Err(_) => Arc::new(make()),
        }
    }
}

impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.map().keys().map(|(name, _)| name.clone()))
            .finish()
    }
}

/// Acknowledgement and usage reports per disbursement seq.
pub fn statements(ledger: &Ledger) -> &BTreeMap<Seq, Statements> {
    ledger
        .memo
        .statements
        .get_or_init(|| compute_statements(ledger))
}

/// Every disbursement split by the donations it came from (oldest-first, see the module doc).
pub fn shares(ledger: &Ledger) -> &[Share] {
    ledger.memo.shares.get_or_init(|| compute_shares(ledger))
}

/// The shares of [`shares`] that came from the lot at `lot`, in the same order.
pub fn shares_of(ledger: &Ledger, lot: Seq) -> impl Iterator<Item = &Share> {
    shares_by(ledger, &ledger.memo.shares_by_lot, |s| s.lot, lot)
}

/// The shares of [`shares`] of the disbursement at `disbursement`, in the same order.
pub fn shares_of_disbursement(ledger: &Ledger, disbursement: Seq) -> impl Iterator<Item = &Share> {
    shares_by(
        ledger,
        &ledger.memo.shares_by_disbursement,
        |s| s.disbursement,
        disbursement,
    )
}

/// The shares whose `key` is `value`, through an index of [`shares`] built once in `index`.
fn shares_by<'a>(
    ledger: &'a Ledger,
    index: &'a OnceLock<HashMap<Seq, Vec<usize>>>,
    key: impl Fn(&Share) -> Seq,
    value: Seq,
) -> impl Iterator<Item = &'a Share> {
    let all = shares(ledger);
    let index = index.get_or_init(|| {
        let mut by: HashMap<Seq, Vec<usize>> = HashMap::new();
        for (i, s) in all.iter().enumerate() {
            by.entry(key(s)).or_default().push(i);
        }
        by
    });
    index
        .get(&value)
        .into_iter()
        .flatten()
        .filter_map(move |&i| all.get(i))
}

fn compute_statements(ledger: &Ledger) -> BTreeMap<Seq, Statements> {
    let mut out: BTreeMap<Seq, Statements> = BTreeMap::new();
    for f in ledger.live_facts() {
        match &f.fact {
            // A statement names the disbursement as it was when made; a correction of the
            // disbursement may since have replaced it (and taken the statement over).
            Fact::Acknowledgement(a) => {
                out.entry(ledger.current(a.disbursement))
                    .or_default()
                    .acknowledgement = Some(f.seq);
            }
            Fact::Usage(u) => {
                let units = u.asset.parse().map(|a| a.units()).unwrap_or(0);
                out.entry(ledger.current(u.disbursement))
                    .or_default()
                    .usages
                    .push((f.seq, units));
            }
            _ => {}
        }
    }
    out
}

fn overlap(a: (i64, i64), b: (i64, i64)) -> i64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0)
}

fn compute_shares(ledger: &Ledger) -> Vec<Share> {
    let statements = statements(ledger);
    let books = &ledger.books;
    let mut disbursements_of: BTreeMap<Seq, Vec<Seq>> = BTreeMap::new();
    for d in books.disbursements.values().filter(|d| d.live) {
        disbursements_of
            .entry(d.allocation)
            .or_default()
            .push(d.seq);
    }
    let mut draws_of: HashMap<Seq, Vec<&DrawState>> = HashMap::new();
    for d in books.draws.iter().filter(|d| !d.expense) {
        draws_of.entry(d.by).or_default().push(d);
    }
    let mut out = Vec::new();
    for a in books.allocations.values().filter(|a| a.live) {
        let mut slices: Vec<&DrawState> = draws_of.remove(&a.seq).unwrap_or_default();
        slices.sort_by_key(|d| {
            let lot = books.lots.get(&d.donation);
            (lot.map(|l| l.occurred_at), d.donation)
        });
        let mut start = 0i64;
        let slices: Vec<(Seq, i64, i64)> = slices
            .into_iter()
            .map(|d| {
                start += d.units;
                (d.donation, start - d.units, start)
            })
            .collect();
        let mut sent = 0i64;
        for dseq in disbursements_of.get(&a.seq).into_iter().flatten() {
            let Some(d) = books.disbursements.get(dseq) else {
                continue;
            };
            let (from, to) = (sent, sent + d.units);
            sent = to;
            let said = statements.get(dseq).cloned().unwrap_or_default();
            for &(lot, s, e) in &slices {
                let units = overlap((s, e), (from, to));
                if units == 0 {
                    continue;
                }
                // This share's place inside the disbursement; the last one also takes any excess.
                let p = s.max(from) - from;
                let q = if p + units == d.units {
                    i64::MAX
                } else {
                    p + units
                };
                let mut used_from = 0i64;
                let usages = said
                    .usages
                    .iter()
                    .filter_map(|&(useq, u)| {
                        let part = overlap((p, q), (used_from, used_from + u));
                        used_from += u;
                        (part > 0).then_some((useq, part))
                    })
                    .collect();
                out.push(Share {
                    lot,
                    allocation: a.seq,
                    disbursement: d.seq,
                    units,
                    acknowledged: d.acknowledged.map(|ack| overlap((p, q), (0, ack))),
                    used: overlap((p, q), (0, d.used)),
                    usages,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod purchase_tests {
    use super::*;
    use crate::disclosure::test_log::{self, seq};

    #[test]
    fn draws_are_told_apart_by_what_drew_them() {
        let ledger = test_log::ledger();
        let uses: BTreeMap<Seq, DrawUse> = live_draws(&ledger)
            .map(|d| (d.by, draw_use(&ledger, d)))
            .collect();
        assert_eq!(
            uses,
            BTreeMap::from([
                (seq::PURCHASE, DrawUse::Purchase),
                (seq::GOODS_ALLOCATION, DrawUse::Allocation),
                (seq::EXPENSE, DrawUse::Expense),
                (seq::MONEY_ALLOCATION, DrawUse::Allocation),
                (seq::POOL_PURCHASE, DrawUse::Purchase),
            ])
        );
        // The voided purchase still drew, but is no longer live.
        assert!(ledger
            .books
            .draws
            .iter()
            .any(|d| d.by == seq::VOIDED_PURCHASE));
        assert!(ledger.is_purchase(seq::PURCHASE));
        assert!(!ledger.is_purchase(seq::EXPENSE));
    }
}

#[cfg(test)]
mod derived_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    #[test]
    fn readers_arriving_together_compute_a_report_once() {
        let derived = Derived::default();
        let made = AtomicUsize::new(0);
        let start = Barrier::new(8);
        let values: Vec<Arc<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        derived.get_or("summary", || {
                            made.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            42_u64
                        })
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        assert_eq!(values.len(), 8);
        assert!(values.iter().all(|v| **v == 42));
        assert_eq!(
            made.load(Ordering::SeqCst),
            1,
            "made once, the others waited"
        );
        // Another key, and the same key with another type, are their own values.
        assert_eq!(*derived.get_or("page", || 7_u64), 7);
        assert_eq!(*derived.get_or("summary", || "text"), "text");
        assert_eq!(*derived.get_or("summary", || 0_u64), 42);
    }
}
