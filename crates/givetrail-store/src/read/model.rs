//! The read model: each organisation's public log replayed once and kept in memory, then advanced
//! by only the entries appended since, instead of replaying the whole log on every read.
//!
//! The log is append-only, so a replayed [`Ledger`] at head `n` plus the entries `n+1..=m` is the
//! ledger at `m` ([`Ledger::extend`], property-tested against a whole replay). A read asks for the
//! ledger inside its own snapshot: the head it sees there decides what it gets.
//!
//! - cached head = snapshot head: the cached ledger, shared (`Arc`), no query beyond the head;
//! - cached head < snapshot head: the missing entries are read and applied to a copy of the
//!   newest version (in place when no reader holds it), which becomes the newest; the lock is
//!   held meanwhile, so readers wanting the same new head wait for one copy;
//! - cached head > snapshot head (a reader whose snapshot began before another reader advanced
//!   the cache, or a replica behind the primary): the version at the snapshot's head if one is
//!   still kept, else a copy of the nearest older kept version advanced to it, else a full
//!   replay; made after the lock is released, and not kept.
//!
//! Besides the newest, a version is kept while a reader still holds it (and at most
//! [`KEPT_VERSIONS`] of them): under a steady stream of writes, a reader whose snapshot is one
//! write behind finds its version instead of replaying the whole log. Keeping only versions in
//! use bounds the memory by what readers hold anyway.
//!
//! A read made after a write's 201 therefore sees that write: its snapshot holds the entry, and
//! the cache never answers with a head other than the snapshot's. Nothing is written to the
//! database, so a crash loses only the cache, which the next read rebuilds from the log.
//! At most [`MAX_CACHED_LOGS`] logs are kept; the least recently read is dropped first.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use givetrail_domain::disclosure::{Ledger, Party};

use crate::db::AnyConnection;
use crate::read::log::{self, records_after};
use crate::registry;
use crate::StoreError;

/// Most organisations' ledgers kept in memory at once.
pub const MAX_CACHED_LOGS: usize = 256;
/// Most versions of one organisation's ledger kept at once (see the module documentation).
pub const KEPT_VERSIONS: usize = 4;

/// One organisation's cached ledger; its lock is held while it is advanced, so concurrent
/// readers of the same log wait for one replay instead of each doing their own.
#[derive(Default)]
struct Slot {
    /// Kept versions, oldest first (heads increasing); the last is the newest.
    versions: Mutex<VecDeque<Arc<Ledger>>>,
    /// What the last clean integrity check of this log verified (`verify::chain::VerifiedPrefix`,
    /// kept here without this module knowing the verifier: see [`ReadModel::with_verified`]).
    verified: Mutex<Option<Box<dyn Any + Send>>>,
    last_read: AtomicU64,
}

/// Replayed logs shared by every read of the server (see the module documentation).
#[derive(Default)]
pub struct ReadModel {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    clock: AtomicU64,
}

/// A lock whose holder panicked: the map is still sound (entries are only added and removed).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ReadModel {
    /// The organisation's ledger at the head of the connection's current snapshot; `None` if it
    /// is not registered. Call it inside the read transaction the rest of the response uses.
    pub fn ledger(
        &self,
        conn: &mut AnyConnection,
        org: &str,
    ) -> Result<Option<Arc<Ledger>>, StoreError> {
        let Some(o) = registry::organization(conn, org)? else {
            return Ok(None);
        };
        let party = Party::from(o);
        let head = log::head(conn, org)?.seq;
        let slot = self.slot(org);
        let base = {
            let mut kept = match slot.versions.lock() {
                Ok(g) => g,
                Err(poisoned) => {
                    // A reader panicked while advancing it: the newest may be half advanced.
                    let mut g = poisoned.into_inner();
                    g.clear();
                    g
                }
            };
            // A registration changed (a new name): every version is stale.
            if kept.iter().any(|l| l.organization != party) {
                kept.clear();
            }
            if let Some(l) = kept.iter().find(|l| l.head() == head) {
                return Ok(Some(l.clone()));
            }
            match kept.back().map(|l| l.head()) {
                None => {
                    let l = Arc::new(log::replay_ledger(conn, org, party)?);
                    kept.push_back(l.clone());
                    return Ok(Some(l));
                }
                Some(newest) if newest < head => {
                    let newer = records_after(conn, org, newest)?;
                    let next = advance(&mut kept, newer)?;
                    // Versions no reader holds any more go, but the newest stays.
                    let last = kept.len() - 1;
                    let mut i = 0;
                    kept.retain(|l| {
                        i += 1;
                        i - 1 == last || Arc::strong_count(l) > 1
                    });
                    while kept.len() > KEPT_VERSIONS {
                        kept.pop_front();
                    }
                    return Ok(Some(next));
                }
                // Behind the newest: the nearest older kept version, if any.
                Some(_) => kept.iter().rev().find(|l| l.head() < head).cloned(),
            }
        };
        let at = match base {
            Some(b) => {
                let mut l = Ledger::clone(&b);
                log::extend_ledger(conn, org, &mut l)?;
                l
            }
            None => log::replay_ledger(conn, org, party)?,
        };
        Ok(Some(Arc::new(at)))
    }

    /// Run `f` on what the integrity checker remembers of `org`'s log (`None` at first, or when
    /// what is kept is not a `T`), under the log's lock for it, so two checks of one log take
    /// turns. The verifier (`verify::chain::check_log_remembered`) keeps its verified prefix
    /// here, beside the ledger, so both are dropped together.
    pub fn with_verified<T: Send + 'static, R>(
        &self,
        org: &str,
        f: impl FnOnce(&mut Option<T>) -> R,
    ) -> R {
        let slot = self.slot(org);
        let mut kept = lock(&slot.verified);
        let mut value: Option<T> = kept.take().and_then(|b| b.downcast::<T>().ok()).map(|b| *b);
        let out = f(&mut value);
        *kept = value.map(|v| Box::new(v) as Box<dyn Any + Send>);
        out
    }

    /// The slot of `org`, made (and the least recently read one dropped, when full) if new.
    fn slot(&self, org: &str) -> Arc<Slot> {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = lock(&self.slots);
        if !slots.contains_key(org) && slots.len() >= MAX_CACHED_LOGS {
            let oldest = slots
                .iter()
                .min_by_key(|(_, s)| s.last_read.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                slots.remove(&k);
            }
        }
        let slot = slots.entry(org.to_owned()).or_default().clone();
        slot.last_read.store(now, Ordering::Relaxed);
        slot
    }
}

/// Make the newest version of `kept` (not empty) advanced by `newer`: in place when nothing but
/// `kept` holds it, else a copy pushed after it, so readers holding it keep it. On a failure
/// (stored entries that do not replay) every version is dropped.
fn advance(
    kept: &mut VecDeque<Arc<Ledger>>,
    newer: Vec<givetrail_domain::disclosure::Record>,
) -> Result<Arc<Ledger>, StoreError> {
    let Some(newest) = kept.back_mut() else {
        return Err(StoreError::Corrupt("no version to advance".into()));
    };
    let result = if Arc::strong_count(newest) == 1 {
        Arc::make_mut(newest).extend(newer).map(|()| None)
    } else {
        let mut copy = Ledger::clone(newest);
        copy.extend(newer).map(|()| Some(Arc::new(copy)))
    };
    match result {
        Ok(Some(copy)) => kept.push_back(copy),
        Ok(None) => {}
        Err(e) => {
            kept.clear();
            return Err(StoreError::Corrupt(e));
        }
    }
    kept.back()
        .cloned()
        .ok_or_else(|| StoreError::Corrupt("no version kept".into()))
}
