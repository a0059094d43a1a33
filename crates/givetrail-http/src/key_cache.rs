//! Keys recently found live, for the early check of writes (see [`KeyCache`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use givetrail_store::registry::Principal;

/// Longest a key found live is trusted by `crate::auth::caller_of_write` without asking the
/// database.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(60);
/// Most keys [`KeyCache`] holds; when full it starts again empty.
pub const KEY_CACHE_MAX: usize = 10_000;

/// Keys recently found live, by the SHA-256 of the key (the secret itself is never kept), for
/// the writes' early check (`crate::auth::caller_of_write`): a write's key is checked here
/// before its body is read, and checked again, authoritatively, by the writer in the
/// transaction that commits the write (`Writer::submit` with the key's id). So a revoked key writes nothing from the moment its
/// revocation commits, in this process or any other, while a charity's steady stream of POSTs
/// costs no key lookup each (on PostgreSQL it was one round trip per request, as many as the
/// write's own share of its commit group). A key's role, organisation and jurisdiction never
/// change, so what is cached cannot be out of date except for revocation.
#[derive(Debug, Default)]
pub struct KeyCache(Mutex<HashMap<String, (Principal, Instant)>>);

impl KeyCache {
    pub(crate) fn get(&self, hash: &str) -> Option<Principal> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(p, _)| p.clone())
    }

    pub(crate) fn put(&self, hash: String, p: Principal) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= KEY_CACHE_MAX {
            map.clear();
        }
        map.insert(hash, (p, Instant::now()));
    }
}
