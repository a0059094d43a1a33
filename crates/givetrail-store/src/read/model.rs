//! The read model: each organisation's public log replayed once and kept in memory, then advanced
//! by only the entries appended since, instead of replaying the whole log on every read.
//!
//! The log is append-only, so a replayed [`Ledger`] at head `n` plus the entries `n+1..=m` is the
//! ledger at `m` ([`Ledger::extend`], property-tested against a whole replay). A read asks for the
//! ledger inside its own snapshot: the head it sees there decides what it gets.
//!
//! - cached head = snapshot head: the cached ledger, shared (`Arc`), no query beyond the head;
//! - cached head < snapshot head: the missing entries are read and applied in place (copied
//!   first only if an earlier reader still holds the old version);
//! - cached head > snapshot head (a replica behind the primary, or a reader whose snapshot began
//!   before another reader advanced the cache): a full replay at the snapshot's head, not kept.
//!
//! A read made after a write's 201 therefore sees that write: its snapshot holds the entry, and
//! the cache never answers with a head other than the snapshot's. Nothing is written to the
//! database, so a crash loses only the cache, which the next read rebuilds from the log.
//! At most [`MAX_CACHED_LOGS`] logs are kept; the least recently read is dropped first.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use givetrail_domain::disclosure::{Ledger, Party};

use crate::db::AnyConnection;
use crate::read::log::{self, records_after};
use crate::registry;
use crate::StoreError;

/// Most organisations' ledgers kept in memory at once.
pub const MAX_CACHED_LOGS: usize = 256;

/// One organisation's cached ledger; its lock is held while it is advanced, so concurrent
/// readers of the same log wait for one replay instead of each doing their own.
#[derive(Default)]
struct Slot {
    ledger: Mutex<Option<Arc<Ledger>>>,
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
        let mut cached = match slot.ledger.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                // A reader panicked while advancing it: the ledger may be half advanced.
                let mut g = poisoned.into_inner();
                *g = None;
                g
            }
        };
        match cached.as_mut() {
            Some(l) if l.organization == party && l.head() == head => Ok(Some(l.clone())),
            Some(l) if l.organization == party && l.head() < head => {
                let newer = records_after(conn, org, l.head())?;
                let advanced = Arc::make_mut(l);
                if let Err(e) = advanced.extend(newer) {
                    *cached = None;
                    return Err(StoreError::Corrupt(e));
                }
                Ok(Some(l.clone()))
            }
            Some(l) if l.organization == party => {
                let records = records_after(conn, org, 0)?;
                let at_snapshot = Ledger::new(party, records).map_err(StoreError::Corrupt)?;
                Ok(Some(Arc::new(at_snapshot)))
            }
            _ => {
                let records = records_after(conn, org, 0)?;
                let l = Arc::new(Ledger::new(party, records).map_err(StoreError::Corrupt)?);
                *cached = Some(l.clone());
                Ok(Some(l))
            }
        }
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
