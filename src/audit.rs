//! `givetrail audit`: verify a deployment from the outside, with nothing but its public HTTP API.
//!
//! For each organisation: every checkpoint's signature; every entry's canonical form, entry hash,
//! chain link and leaf hash; the Merkle root at every checkpoint size (so a mismatch is pinned
//! between two checkpoints, usually to one seq); the checkpoints remembered from earlier runs
//! (a different signed root for a size seen before is a rewritten history); the key history
//! (each checkpoint checked with the key current when it was signed, each rotation signed by the
//! key it retired); and an RFC 9162
//! consistency proof from the last checkpoint seen to the current one.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use givetrail_domain::canonical::{
    canonical_entry, entry_hash, leaf_hash, parse_hash, Hash, GENESIS_HASH,
};
use givetrail_domain::checkpoint::Checkpoint;
use givetrail_domain::merkle::{verify_consistency, CompactTree};
use givetrail_domain::signing::{KeyHistory, KeyRecord};

/// Page size used to download logs (the API's maximum).
const PAGE: usize = 1000;
/// Checkpoints remembered per organisation in the state file.
const REMEMBERED: usize = 4096;

/// What the auditor remembers between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The server's public key when first seen.
    pub public_key: Option<String>,
    /// Per organisation, checkpoints seen: tree size → root hash.
    pub logs: BTreeMap<String, BTreeMap<i64, String>>,
}

/// The result for one organisation.
#[derive(Debug)]
pub struct Verdict {
    /// Entries verified.
    pub entries: u64,
    /// `None` when everything verified; otherwise the first failure.
    pub failure: Option<Failure>,
}

/// The first thing that did not verify.
#[derive(Debug)]
pub struct Failure {
    /// The first seq known to be bad, when it can be pinned.
    pub seq: Option<i64>,
    /// What is wrong.
    pub reason: String,
}

fn fail(seq: Option<i64>, reason: impl Into<String>) -> Failure {
    Failure {
        seq,
        reason: reason.into(),
    }
}

struct Api {
    base: String,
    http: reqwest::blocking::Client,
    /// Time spent waiting for the server and parsing its JSON.
    fetching: std::cell::Cell<Duration>,
}

impl Api {
    fn get(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let started = Instant::now();
        let url = format!("{}/api/v1{path}", self.base);
        let r = self
            .http
            .get(&url)
            .send()
            .with_context(|| format!("GET {url}"))?;
        let status = r.status().as_u16();
        let body = r
            .json::<Value>()
            .with_context(|| format!("GET {url}: not JSON"))?;
        self.fetching.set(self.fetching.get() + started.elapsed());
        Ok((status, body))
    }

    fn ok(&self, path: &str) -> anyhow::Result<Value> {
        match self.get(path)? {
            (200, v) => Ok(v),
            (s, v) => bail!("GET {path}: {s} {v}"),
        }
    }
}

/// Run the audit; prints a verdict per organisation and returns whether all passed.
pub fn run(base: &str, only: Option<&str>, state_path: Option<&Path>) -> anyhow::Result<bool> {
    let api = Api {
        base: base.trim_end_matches('/').to_owned(),
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?,
        fetching: std::cell::Cell::new(Duration::ZERO),
    };
    let mut state: State = match state_path {
        Some(p) if p.exists() => serde_json::from_str(&std::fs::read_to_string(p)?)
            .with_context(|| format!("state file {}", p.display()))?,
        _ => State::default(),
    };
    let key = api.ok("/public_key")?;
    let public_key = key["public_key"]
        .as_str()
        .context("public_key missing")?
        .to_owned();
    let mut all_ok = true;
    let history = key_history(&api, &public_key)?;
    let history_ok = match history.verify() {
        Ok(()) => true,
        Err(e) => {
            println!("FAIL  server: the key history does not verify: {e}");
            false
        }
    };
    if history.current() != Some(public_key.as_str()) {
        println!(
            "FAIL  server: GET /public_key gives {public_key}, but the key history ends with {}",
            history.current().unwrap_or("no key")
        );
        all_ok = false;
    }
    all_ok &= history_ok;
    if let Some(seen) = &state.public_key {
        if seen != &public_key {
            if history_ok && history.contains(seen) {
                println!("NOTE  server: the key rotated from {seen} to {public_key} since the last audit; every rotation is signed by the key it retired");
            } else {
                println!("FAIL  server: its public key changed from {seen} to {public_key} with no rotation record signed by {seen}: an unsigned change of key; earlier checkpoints can no longer be trusted");
                all_ok = false;
            }
        }
    }
    if all_ok {
        state.public_key = Some(public_key.clone());
    } else {
        state.public_key.get_or_insert(public_key.clone());
    }
    let orgs = match only {
        Some(o) => vec![o.to_owned()],
        None => organizations(&api)?,
    };
    let started = Instant::now();
    let mut total = 0u64;
    for org in orgs {
        let remembered = state.logs.get(&org).cloned().unwrap_or_default();
        let (verdict, seen) = audit_org(&api, &org, &history, &remembered)?;
        total += verdict.entries;
        match &verdict.failure {
            None => {
                println!(
                    "OK    {org}: {} entries, chain, Merkle root and checkpoints verify",
                    verdict.entries
                );
                let log = state.logs.entry(org.clone()).or_default();
                log.extend(seen);
                while log.len() > REMEMBERED {
                    let Some(first) = log.keys().next().copied() else {
                        break;
                    };
                    log.remove(&first);
                }
            }
            Some(f) => {
                all_ok = false;
                match f.seq {
                    Some(s) => println!("FAIL  {org}: first bad seq {s}: {}", f.reason),
                    None => println!("FAIL  {org}: {}", f.reason),
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let fetch = api.fetching.get().as_secs_f64();
    let verify = (secs - fetch).max(1e-9);
    eprintln!(
        "audited {total} entries in {secs:.3} s ({:.0} entries/s); verifying took {verify:.3} s ({:.0} entries/s), downloading {fetch:.3} s",
        total as f64 / secs.max(1e-9),
        total as f64 / verify
    );
    if let Some(p) = state_path {
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&state)?)?;
        std::fs::rename(&tmp, p)?;
    }
    Ok(all_ok)
}

/// The server's key history (`GET /public_keys`); a server without one has only its current key.
fn key_history(api: &Api, public_key: &str) -> anyhow::Result<KeyHistory> {
    match api.get("/public_keys")? {
        (200, v) => {
            let keys: Vec<KeyRecord> = serde_json::from_value(v["keys"].clone())
                .context("GET /public_keys: keys is not a key history")?;
            Ok(KeyHistory { keys })
        }
        (404, _) => Ok(KeyHistory {
            keys: vec![KeyRecord {
                public_key: public_key.to_owned(),
                from: String::new(),
                rotation: None,
            }],
        }),
        (s, v) => bail!("GET /public_keys: {s} {v}"),
    }
}

fn organizations(api: &Api) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/organizations?limit=1000&after={a}"),
            None => "/organizations?limit=1000".to_owned(),
        };
        let v = api.ok(&path)?;
        for o in v["organizations"].as_array().into_iter().flatten() {
            out.extend(o["id"].as_str().map(str::to_owned));
        }
        match v["meta"]["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => return Ok(out),
        }
    }
}

fn checkpoints(api: &Api, org: &str) -> anyhow::Result<Vec<Checkpoint>> {
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let v = api.ok(&format!(
            "/organizations/{org}/checkpoints?limit=1000&after={after}"
        ))?;
        let page: Vec<Checkpoint> = serde_json::from_value(v["checkpoints"].clone())?;
        if let Some(last) = page.last() {
            after = last.tree_size;
        }
        out.extend(page);
        if v["meta"]["next"].is_null() {
            return Ok(out);
        }
    }
}

/// Verify one organisation. Returns the verdict and the checkpoints seen (to remember).
fn audit_org(
    api: &Api,
    org: &str,
    history: &KeyHistory,
    remembered: &BTreeMap<i64, String>,
) -> anyhow::Result<(Verdict, BTreeMap<i64, String>)> {
    let verdict = |entries, failure| Verdict { entries, failure };
    let served = checkpoints(api, org)?;
    let mut expected: BTreeMap<i64, (String, &'static str)> = BTreeMap::new();
    for c in &served {
        if c.organization != org {
            return Ok((
                verdict(
                    0,
                    Some(fail(
                        None,
                        format!(
                            "checkpoint at size {} names {}",
                            c.tree_size, c.organization
                        ),
                    )),
                ),
                BTreeMap::new(),
            ));
        }
        if let Err(e) = history.verify_checkpoint(c) {
            let key = history.key_for(org, c.tree_size).unwrap_or("no key");
            return Ok((
                verdict(
                    0,
                    Some(fail(
                        None,
                        format!(
                            "checkpoint at size {}: {e} with {key}, the key the key history gives for it",
                            c.tree_size
                        ),
                    )),
                ),
                BTreeMap::new(),
            ));
        }
        expected.insert(c.tree_size, (c.root_hash.clone(), "signed checkpoint"));
    }
    // A size the server signed a different root for than it did before: a rewritten history.
    // The first such size, with the agreeing size just below it, pins the first bad seq.
    let mut agreed = 0i64;
    for (size, root) in remembered {
        match expected.get(size) {
            Some((r, _)) if r != root => {
                let seq = (agreed == size - 1).then_some(*size);
                let range = if agreed == size - 1 {
                    String::new()
                } else {
                    format!(" (first bad seq between {} and {size})", agreed + 1)
                };
                return Ok((
                    verdict(0, Some(fail(seq, format!("the server now signs root {r} for size {size}, but signed {root} when last audited: the history was rewritten{range}")))),
                    BTreeMap::new(),
                ));
            }
            Some(_) => agreed = *size,
            None => {
                expected.insert(
                    *size,
                    (root.clone(), "checkpoint remembered from an earlier audit"),
                );
            }
        }
    }
    let Some(latest) = served.last().cloned() else {
        return match remembered.keys().last() {
            Some(n) => Ok((
                verdict(
                    0,
                    Some(fail(
                        Some(1),
                        format!(
                            "the log had {n} entries when last audited and now has no checkpoint"
                        ),
                    )),
                ),
                BTreeMap::new(),
            )),
            None => Ok((verdict(0, None), BTreeMap::new())),
        };
    };
    if let Some((&old, _)) = remembered.iter().next_back() {
        if old > latest.tree_size {
            return Ok((
                verdict(
                    0,
                    Some(fail(
                        Some(latest.tree_size + 1),
                        format!("the log shrank from {old} to {} entries", latest.tree_size),
                    )),
                ),
                BTreeMap::new(),
            ));
        }
    }

    // Stream the log up to the latest checkpoint.
    let target = latest.tree_size;
    let mut tree = CompactTree::new();
    let mut prev: Hash = GENESIS_HASH;
    let mut next_seq = 1i64;
    let mut last_good = 0i64;
    let mut pending = expected.iter().filter(|(s, _)| **s <= target).peekable();
    while next_seq <= target {
        let mut v = api.ok(&format!(
            "/organizations/{org}/entries?after={}&limit={PAGE}",
            next_seq - 1
        ))?;
        // Take the page out of the response rather than copying it.
        let page = match v["entries"].take() {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        if page.is_empty() {
            return Ok((
                verdict(
                    (next_seq - 1) as u64,
                    Some(fail(
                        Some(next_seq),
                        format!(
                            "the log ends at {} but the checkpoint covers {target}",
                            next_seq - 1
                        ),
                    )),
                ),
                BTreeMap::new(),
            ));
        }
        // Canonical forms and leaf hashes are independent per entry: compute them on every
        // core; only the chain itself is walked in order.
        let prepared = prepare(&page);
        for (e, (canonical, leaf)) in page.iter().zip(&prepared) {
            if next_seq > target {
                break;
            }
            match check_entry(e, org, next_seq, &prev, canonical, leaf) {
                Ok((h, leaf)) => {
                    prev = h;
                    tree.push(leaf);
                }
                Err(f) => return Ok((verdict((next_seq - 1) as u64, Some(f)), BTreeMap::new())),
            }
            while let Some((&size, (root, what))) = pending.peek() {
                if size != next_seq {
                    break;
                }
                if hex::encode(tree.root()) != *root {
                    let first = last_good + 1;
                    let seq = (first == size).then_some(size);
                    let where_ = if first == size {
                        String::new()
                    } else {
                        format!(" (first bad seq between {first} and {size})")
                    };
                    return Ok((verdict(size as u64, Some(fail(seq, format!("the Merkle root of entries 1..={size} differs from the {what}{where_}")))), BTreeMap::new()));
                }
                last_good = size;
                pending.next();
            }
            next_seq += 1;
        }
    }
    // Consistency from the last checkpoint remembered to the current one, as RFC 9162 proves it.
    if let Some((&old, old_root)) = remembered.iter().rfind(|(s, _)| **s < target) {
        let p = api.ok(&format!(
            "/organizations/{org}/proofs/consistency?from={old}&to={target}"
        ))?;
        let proof: Vec<Hash> = p["proof"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().and_then(parse_hash))
            .collect();
        let (Some(a), Some(b)) = (parse_hash(old_root), parse_hash(&latest.root_hash)) else {
            bail!("malformed root hash")
        };
        if let Err(e) = verify_consistency(old as u64, target as u64, &proof, &a, &b) {
            return Ok((verdict(target as u64, Some(fail(None, format!("no consistency between the checkpoint seen at size {old} and the current one at {target}: {e}")))), BTreeMap::new()));
        }
    }
    let seen = served
        .iter()
        .map(|c| (c.tree_size, c.root_hash.clone()))
        .collect();
    Ok((verdict(target as u64, None), seen))
}

/// Check one served entry against the chain so far; returns its entry hash and leaf hash.
fn check_entry(
    e: &Value,
    org: &str,
    seq: i64,
    prev: &Hash,
    canonical: &str,
    leaf: &Hash,
) -> Result<(Hash, Hash), Failure> {
    let got = e["seq"].as_i64();
    if got != Some(seq) {
        return Err(fail(
            Some(seq),
            match got {
                Some(g) if g > seq => {
                    format!("entry {seq} is missing (the next served entry is {g})")
                }
                Some(g) => format!("entries are out of order: {g} is served where {seq} belongs"),
                None => "an entry without a seq".to_owned(),
            },
        ));
    }
    if e["organization"].as_str() != Some(org) {
        return Err(fail(Some(seq), "the entry names another organisation"));
    }
    if e["prev_entry_hash"].as_str() != Some(hex::encode(prev).as_str()) {
        return Err(fail(
            Some(seq),
            "prev_entry_hash does not link to the previous entry",
        ));
    }
    let h = entry_hash(prev, canonical.as_bytes());
    if e["entry_hash"].as_str() != Some(hex::encode(h).as_str()) {
        return Err(fail(
            Some(seq),
            "entry_hash does not recompute from its content: the entry was altered",
        ));
    }
    if e["leaf_hash"].as_str() != Some(hex::encode(leaf).as_str()) {
        return Err(fail(
            Some(seq),
            "leaf_hash does not recompute from its content",
        ));
    }
    Ok((h, *leaf))
}

/// Canonical form and leaf hash of every entry of a page, spread over the available cores.
fn prepare(page: &[Value]) -> Vec<(String, Hash)> {
    let one = |e: &Value| {
        let c = canonical_entry(e);
        let leaf = leaf_hash(c.as_bytes());
        (c, leaf)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || page.len() < 64 {
        return page.iter().map(one).collect();
    }
    let chunk = page.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = page
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
