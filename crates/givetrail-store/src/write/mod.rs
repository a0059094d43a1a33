//! The one path every write takes: a few writer threads, each owning a connection. Requests
//! for the same organisation always go to the same thread; a thread takes whatever requests are
//! waiting (up to [`MAX_GROUP`]) and commits them in one transaction, each request inside its
//! own savepoint, so one durable commit (one fsync) serves many requests and a refused request
//! writes nothing. Responses are sent only after the commit.
//!
//! A writer outlives its database: when a group's transaction fails, its connection is dropped
//! and the next group opens a new one (a failed reconnection answers that group at once). A
//! lost or refused connection answers every request of the group with [`StoreError::Down`], a
//! full disk with [`StoreError::Full`]; the HTTP layer makes them 503 and 507. Either aborts the
//! whole group, never only the request that met it: after such an error the backend may have
//! rolled back the transaction itself, and nothing more may run in it.
//!
//! - [`append`]: appending one command to a log (the only code that inserts log entries).
//! - [`import`]: bulk import of donations, through [`append`], from the writer or the CLI.
//! - [`needs`]: posting a recipient's need.
//! - [`pending`]: a group's appends kept in memory and written together (multi-row inserts), and
//!   each log's tip (head and Merkle frontier) kept between groups.
//! - `columns`: PostgreSQL, a group's new rows of five tables in one statement of column
//!   arrays.
//! - `disclosure`: the summary hash of a periodic disclosure, computed from the log.
//! - `lock`: the log's write lock, shared by the writer and the CLI import.

pub mod append;
mod columns;
mod disclosure;
pub mod import;
mod lock;
pub mod needs;
pub mod pending;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash as _, Hasher};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use chrono::Utc;
use diesel::connection::Connection;
use ed25519_dalek::SigningKey;
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::oneshot;

use givetrail_domain::disclosure::Policy;
use givetrail_domain::entry::{Author, Command};
use givetrail_domain::ledger::Rejection;

use crate::db::{alive, establish, AnyConnection, Backend, IDLE_CHECK};
use crate::registry::{self, IdempotentResponse, NewKey, Organization, Recipient};
use crate::verify::checkpoints::checkpoints_at;
use crate::{micros, StoreError, WriteError};

use append::append;
use lock::lock_logs;
use pending::{Lookups, Pending, Tip};

/// Most requests committed in one transaction.
pub const MAX_GROUP: usize = 512;
/// Most requests waiting per writer thread before new ones are refused (503).
pub const MAX_QUEUE: usize = 20_000;
/// Most items in one atomic batch.
pub const MAX_BATCH_ITEMS: usize = 10_000;

/// A write.
#[derive(Debug, Clone)]
pub enum Write {
    /// Append commands to one organisation's log; `atomic` batches are all-or-nothing.
    Entries {
        /// Organisation.
        org: String,
        /// Author.
        author: Author,
        /// Commands, in order.
        commands: Vec<Command>,
        /// Respond with `{"entries": [...]}` rather than the single entry.
        batch: bool,
    },
    /// Import a donations file (CSV or workbook) into one organisation's log: every row, or none.
    Import {
        /// Organisation.
        org: String,
        /// Author.
        author: Author,
        /// The file (header row first).
        file: import::ImportBody,
    },
    /// Register an organisation.
    Organization(Organization),
    /// Register a recipient.
    Recipient(Recipient),
    /// A regulator confirms a recipient a charity registered.
    RecipientConfirmation {
        /// The recipient.
        recipient: String,
        /// The confirming regulator's jurisdiction (`""`: national).
        jurisdiction: String,
    },
    /// Create a key (never replayed: a key is shown once).
    Key(NewKey),
    /// Revoke a key by its public id.
    RevokeKey(String),
    /// Post a recipient's need (numbered `need-<n>` in posting order).
    Need(needs::NewNeed),
    /// A recipient withdraws one of its needs.
    NeedWithdrawal(needs::NeedWithdrawal),
    /// Keep an uploaded bank statement's lines (append-only).
    BankStatement(crate::bank::NewStatement),
    /// File a complaint from the public.
    Complaint(givetrail_domain::reconciliation::complaint::NewComplaint),
    /// Add a regulator's event to a complaint's history.
    ComplaintEvent(givetrail_domain::reconciliation::complaint::NewComplaintEvent),
}

impl Write {
    fn route(&self) -> &str {
        match self {
            Write::Entries { org, .. } | Write::Import { org, .. } => org,
            // With the organisation's log writes: numbering (statements, events) stays serial.
            Write::BankStatement(s) => &s.organization,
            Write::Complaint(c) => &c.organization,
            Write::ComplaintEvent(e) => &e.organization,
            _ => "\u{0}registry",
        }
    }
}

/// The `Idempotency-Key` of a request, scoped to the caller's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// Public id of the caller's key (or a scope for anonymous callers).
    pub key_id: String,
    /// The header's value.
    pub key: String,
    /// SHA-256 of method, path and body.
    pub request_hash: String,
}

/// A successful write.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Written now; 201 with this body, serialized once by the writer (what an Idempotency-Key
    /// stores is the same text).
    Created(Box<RawValue>),
    /// A retry: the first response, as stored.
    Replayed {
        /// Status of the first response.
        status: u16,
        /// Its body.
        body: String,
    },
}

struct Job {
    write: Write,
    idempotency: Option<Idempotency>,
    /// Public id of the caller's key; the write is made only if the key is live when its group
    /// commits (checked in the group's transaction).
    key_id: Option<String>,
    reply: oneshot::Sender<Result<Outcome, WriteError>>,
}

/// Handle to the writer threads.
pub struct Writer {
    senders: Vec<SyncSender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Writer {
    /// Start `threads` writers on `backend` (SQLite always uses one: it has one writer anyway).
    /// Every commit that changes a log also stores a checkpoint of it signed with `key`.
    /// Periodic disclosures hash their period summary under `policy` (priority regions,
    /// deadlines), the one the server's reads use.
    pub fn start(
        backend: &Backend,
        threads: usize,
        key: Arc<SigningKey>,
        policy: Arc<Policy>,
    ) -> Result<Writer, StoreError> {
        let n = if backend.is_sqlite() {
            1
        } else {
            threads.max(1)
        };
        let mut senders = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let conn = establish(backend)?;
            let (tx, rx) = sync_channel::<Job>(MAX_QUEUE);
            senders.push(tx);
            let key = key.clone();
            let policy = policy.clone();
            let backend = backend.clone();
            let handle = std::thread::Builder::new()
                .name(format!("givetrail-writer-{i}"))
                .spawn(move || run(&backend, conn, rx, &key, &policy))
                .map_err(|e| StoreError::Connect(format!("cannot start writer thread: {e}")))?;
            handles.push(handle);
        }
        Ok(Writer {
            senders,
            threads: handles,
        })
    }

    /// Submit a write and wait for its durable outcome. With `key_id` (the caller's key), the
    /// write is refused with [`WriteError::Unauthenticated`] unless that key is still live in
    /// the transaction that would commit it: a revocation committed before then stops it, even
    /// when the caller was authenticated earlier (`givetrail_http` checks keys of writes
    /// against a short-lived cache before reading their bodies, and relies on this).
    pub async fn submit(
        &self,
        write: Write,
        idempotency: Option<Idempotency>,
        key_id: Option<String>,
    ) -> Result<Outcome, WriteError> {
        let mut h = DefaultHasher::new();
        write.route().hash(&mut h);
        let index = (h.finish() % self.senders.len() as u64) as usize;
        let (reply, rx) = oneshot::channel();
        match self.senders[index].try_send(Job {
            write,
            idempotency,
            key_id,
            reply,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(WriteError::Overloaded),
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::Unavailable.into()),
        }
        rx.await
            .map_err(|_| WriteError::Store(StoreError::Unavailable))?
    }

    /// Stop accepting writes, let the threads finish what is queued, and wait for them.
    pub fn shutdown(self) {
        drop(self.senders);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn run(
    backend: &Backend,
    mut conn: AnyConnection,
    rx: Receiver<Job>,
    key: &SigningKey,
    policy: &Policy,
) {
    // What the database takes does not change while the process runs: asked once.
    let lookups = Lookups::of(&mut conn);
    let mut conn = Some(conn);
    let mut last_used = Instant::now();
    // Each log's tip after this thread's last committed group (checked against the stored head
    // at the start of the next).
    let mut tips: HashMap<String, Tip> = HashMap::new();
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // A connection left idle may have been closed meanwhile (the database restarted):
        // ask before trusting it with a group, rather than fail the group.
        if last_used.elapsed() > IDLE_CHECK {
            conn = conn.and_then(|mut c| alive(&mut c).then_some(c));
        }
        last_used = Instant::now();
        let mut c = match conn.take().map_or_else(|| establish(backend), Ok) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, jobs = group.len(), "the writer cannot reconnect");
                for job in group {
                    let _ = job.reply.send(Err(StoreError::Down(e.to_string()).into()));
                }
                continue;
            }
        };
        if commit_group(&mut c, group, key, policy, &mut tips, lookups) {
            conn = Some(c);
        } else {
            tips.clear();
        }
    }
}

/// Commit a group and answer its requests; whether the connection may be used again (after a
/// failed transaction it is dropped, whatever the cause: it may be closed or its transaction
/// state broken, and a new one costs little). `tips` are the logs' tips as this thread's last
/// committed groups left them; the group takes its logs' out and puts them back when it commits.
fn commit_group(
    conn: &mut AnyConnection,
    group: Vec<Job>,
    key: &SigningKey,
    policy: &Policy,
    tips: &mut HashMap<String, Tip>,
    lookups: Lookups,
) -> bool {
    let mut orgs: Vec<&str> = group
        .iter()
        .filter_map(|j| match &j.write {
            Write::Entries { org, .. } | Write::Import { org, .. } => Some(org.as_str()),
            _ => None,
        })
        .collect();
    orgs.sort_unstable();
    orgs.dedup();
    let committed = conn.transaction::<_, WriteError, _>(|c| {
        // Whose keys are still live, for the whole group in one query.
        let mut keys: Vec<&str> = group.iter().filter_map(|j| j.key_id.as_deref()).collect();
        keys.sort_unstable();
        keys.dedup();
        let live = registry::live_keys(c, &keys)?;
        lock_logs(c, &orgs)?;
        let receipts: Vec<(&str, &str)> = group
            .iter()
            .filter_map(|j| match &j.write {
                Write::Entries { org, commands, .. } => Some((org.as_str(), commands)),
                _ => None,
            })
            .flat_map(|(org, commands)| Pending::receipts_of(commands).map(move |r| (org, r)))
            .collect();
        let mut pending = Pending::begin(c, &orgs, tips, &receipts, lookups)?;
        let mut results = Vec::with_capacity(group.len());
        for job in &group {
            if job.key_id.as_ref().is_some_and(|k| !live.contains(k)) {
                results.push(Err(WriteError::Unauthenticated));
                continue;
            }
            let r = perform_job(c, &mut pending, job, policy)?;
            // The database failed, not the request: the whole group fails with it.
            match r {
                Err(WriteError::Store(e)) if e.is_outage() => return Err(e.into()),
                r => results.push(r),
            }
        }
        pending.flush(c)?;
        // One signed checkpoint per changed log, durable with the entries it covers.
        let mut changed = Vec::new();
        for org in &orgs {
            let wrote = group.iter().zip(&results).any(|(j, r)| {
                matches!((&j.write, r), (Write::Entries { org: o, .. } | Write::Import { org: o, .. }, Ok(Outcome::Created(_))) if o == org)
            });
            if wrote {
                let tip = pending.tip(c, org)?;
                changed.push((*org, tip.head.seq, tip.tree.root()));
            }
        }
        if !changed.is_empty() {
            checkpoints_at(c, &changed, key, &crate::rfc3339(Utc::now()))?;
        }
        Ok((results, pending.into_tips()))
    });
    match committed {
        Ok((results, kept)) => {
            tips.extend(kept);
            for (job, r) in group.into_iter().zip(results) {
                let _ = job.reply.send(r);
            }
            true
        }
        // A node that cannot be reached (on Citus, the worker holding some organisation's
        // shards) fails the whole group; nothing was committed. The other organisations in the
        // group must not fail with it: each organisation's writes are tried again on their own.
        // Not when the node failed during the commit itself: then the group may have been
        // committed there, and trying it again could append its entries twice.
        Err(e) if e.is_unreachable() && !e.commit_outcome_unknown() && orgs.len() > 1 => {
            tracing::warn!(error = %e, jobs = group.len(), "write group failed on an unreachable node; trying each organisation alone");
            let mut by_org: Vec<(Option<String>, Vec<Job>)> = Vec::new();
            for job in group {
                let route = match &job.write {
                    Write::Entries { org, .. } | Write::Import { org, .. } => Some(org.clone()),
                    _ => None,
                };
                match by_org.iter_mut().find(|(r, _)| *r == route) {
                    Some((_, jobs)) => jobs.push(job),
                    None => by_org.push((route, vec![job])),
                }
            }
            tips.clear();
            by_org.into_iter().fold(true, |all, (_, jobs)| {
                commit_group(conn, jobs, key, policy, tips, lookups) && all
            })
        }
        Err(e) => {
            tips.clear();
            let e = match e {
                WriteError::Store(e) => e,
                other => StoreError::Corrupt(other.to_string()),
            };
            if e.is_outage() {
                tracing::warn!(error = %e, jobs = group.len(), "write transaction failed");
            } else {
                tracing::error!(error = %e, jobs = group.len(), "write transaction failed");
            }
            // A failure that does not say what it was (a broken transaction state) on a
            // connection that no longer answers is the database going away.
            let down = !e.is_outage() && !matches!(e, StoreError::SigningKey(_)) && !alive(conn);
            for job in group {
                let err = match &e {
                    StoreError::SigningKey(m) => StoreError::SigningKey(m.clone()),
                    StoreError::Down(m) => StoreError::Down(m.clone()),
                    StoreError::Full(m) => StoreError::Full(m.clone()),
                    other if down => StoreError::Down(other.to_string()),
                    other => StoreError::Corrupt(format!("write transaction failed: {other}")),
                };
                let _ = job.reply.send(Err(err.into()));
            }
            false
        }
    }
}

/// Run one request of a group. A single command that is not a correction or a disclosure is
/// decided against the group's kept state with no savepoint (the rules refuse it before they
/// change anything); any other request runs in its own savepoint, after what the group kept is
/// written. The outer `Err` abandons the whole group (kept state that cannot be taken back);
/// the inner result is the request's.
fn perform_job(
    c: &mut AnyConnection,
    pending: &mut Pending,
    job: &Job,
    policy: &Policy,
) -> Result<Result<Outcome, WriteError>, WriteError> {
    let simple = matches!(&job.write, Write::Entries { commands, .. }
        if commands.len() == 1
            && !matches!(commands[0], Command::Correction(_) | Command::Disclosure(_)));
    if simple {
        let mark = pending.mark(false);
        let r = perform(c, pending, &job.write, job.idempotency.as_ref(), policy);
        return match r {
            // Without a savepoint, a failed statement may have left the transaction unusable.
            Err(WriteError::Store(e)) => Err(e.into()),
            Ok(_) => {
                pending.keep();
                Ok(r)
            }
            Err(_) => {
                pending.rollback(mark)?;
                Ok(r)
            }
        };
    }
    pending.flush(c)?;
    let mark = pending.mark(true);
    let r = c.transaction::<_, WriteError, _>(|c| {
        perform(c, pending, &job.write, job.idempotency.as_ref(), policy)
    });
    match &r {
        Ok(_) if matches!(job.write, Write::Entries { .. } | Write::Import { .. }) => {}
        Ok(_) => {
            // A registration may change what the rules read of the registry.
            pending.forget_registry();
        }
        Err(_) => pending.rollback(mark)?,
    }
    Ok(r)
}

fn perform(
    conn: &mut AnyConnection,
    pending: &mut Pending,
    write: &Write,
    idem: Option<&Idempotency>,
    policy: &Policy,
) -> Result<Outcome, WriteError> {
    // Microsecond precision: what the canonical form says is exactly what the column holds.
    let now = chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
        .unwrap_or_else(Utc::now);
    if let Some(i) = idem {
        if let Some(first) = registry::idempotent(conn, &i.key_id, &i.key)? {
            if first.request_hash != i.request_hash {
                return Err(WriteError::IdempotencyMismatch);
            }
            if matches!(write, Write::Key(_)) {
                return Err(WriteError::KeyNotReplayable);
            }
            return Ok(Outcome::Replayed {
                status: first.status,
                body: first.response,
            });
        }
    }
    let body = match write {
        Write::Entries {
            org,
            author,
            commands,
            batch,
        } => {
            let ctx = pending
                .org_context(conn, org)?
                .ok_or_else(|| WriteError::UnknownOrganization(org.clone()))?;
            let mut written = Vec::with_capacity(commands.len());
            for (i, cmd) in commands.iter().enumerate() {
                if matches!(cmd, Command::Disclosure(_)) {
                    // The summary is computed from the log as stored.
                    pending.flush(conn)?;
                }
                let cmd = disclosure::with_summary_hash(conn, org, cmd, now, policy)?;
                let entry =
                    append(conn, pending, &ctx, author, &cmd, now).map_err(|rejection| {
                        match rejection {
                            Rejection::Store(e) => WriteError::Store(e),
                            other => WriteError::Rejected {
                                index: batch.then_some(i),
                                rejection: other,
                            },
                        }
                    })?;
                // Kept as text at once: a batch holds 10,000 of these until it commits, and
                // the tree is several times the size of its text.
                written.push(raw(&entry)?);
            }
            if *batch {
                batch_body(&written)?
            } else {
                written.pop().ok_or_else(|| {
                    StoreError::Corrupt("a write of no entries was accepted".into())
                })?
            }
        }
        Write::Import { org, author, file } => {
            raw(&import::append_file(conn, pending, org, author, file)?)?
        }
        Write::Organization(o) => {
            let mut o = o.clone();
            o.created_at = micros(now);
            registry::insert_organization(conn, &o).map_err(|e| {
                duplicate(
                    e,
                    "an organisation with this id or credit code already exists",
                )
            })?;
            raw(&o)?
        }
        Write::Recipient(r) => {
            let mut r = r.clone();
            r.created_at = micros(now);
            // A regulator's registration is its own confirmation.
            if r.registered_by_role.as_deref() == Some("regulator") {
                r.confirmed_by = r.registered_by.clone();
                r.confirmed_at = Some(r.created_at);
            }
            registry::insert_recipient(conn, &r)
                .map_err(|e| duplicate(e, "a recipient with this id already exists"))?;
            raw(&r)?
        }
        Write::RecipientConfirmation {
            recipient,
            jurisdiction,
        } => {
            if !registry::confirm_recipient(conn, recipient, jurisdiction, micros(now))? {
                return Err(WriteError::Duplicate(format!(
                    "recipient {recipient} is already confirmed"
                )));
            }
            let r = registry::recipient(conn, recipient)?
                .ok_or_else(|| StoreError::Corrupt(format!("recipient {recipient} vanished")))?;
            raw(&r)?
        }
        Write::BankStatement(s) => raw(&crate::bank::insert(conn, s, micros(now))?)?,
        Write::Complaint(c) => raw(&crate::complaints::insert(conn, c, micros(now))?)?,
        Write::ComplaintEvent(e) => raw(&crate::complaints::add_event(conn, e, micros(now))?)?,
        Write::Need(n) => {
            let need = needs::insert(conn, n, micros(now))
                .map_err(|e| duplicate(e, "another need was posted at the same moment; retry"))?;
            raw(&need.view())?
        }
        Write::NeedWithdrawal(w) => {
            let need = needs::withdraw(conn, w, micros(now))?;
            raw(&need.view())?
        }
        Write::RevokeKey(key_id) => {
            registry::revoke_key(conn, key_id, micros(now))?;
            raw(&json!({ "key_id": key_id, "revoked": true }))?
        }
        Write::Key(k) => {
            let key_id = registry::insert_key(conn, k, micros(now))?;
            raw(&json!({
                "key": k.key,
                "key_id": key_id,
                "role": k.role,
                "organization": k.organization,
                "recipient": k.recipient,
                "jurisdiction": k.jurisdiction,
            }))?
        }
    };
    if let Some(i) = idem {
        // A key is never stored in clear: remember only that this Idempotency-Key was used.
        let stored = match write {
            Write::Key(_) => String::new(),
            _ => body.get().to_owned(),
        };
        let r = IdempotentResponse {
            request_hash: i.request_hash.clone(),
            status: 201,
            response: stored,
        };
        registry::remember(conn, &i.key_id, &i.key, &r, micros(now))?;
    }
    Ok(Outcome::Created(body))
}

/// A response body as JSON text.
fn raw<T: serde::Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, WriteError> {
    serde_json::value::to_raw_value(value).map_err(|e| StoreError::Corrupt(e.to_string()).into())
}

/// `{"entries": [...]}` from the served entries, each already text: a batch of 10,000 is copied
/// once, not built again as a tree.
fn batch_body(entries: &[Box<RawValue>]) -> Result<Box<RawValue>, WriteError> {
    let len = entries.iter().map(|e| e.get().len() + 1).sum::<usize>();
    let mut text = String::with_capacity(len + 16);
    text.push_str("{\"entries\":[");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(e.get());
    }
    text.push_str("]}");
    RawValue::from_string(text).map_err(|e| StoreError::Corrupt(e.to_string()).into())
}

fn duplicate(e: StoreError, message: &str) -> WriteError {
    if e.is_unique_violation() {
        WriteError::Duplicate(message.to_owned())
    } else {
        WriteError::Store(e)
    }
}
