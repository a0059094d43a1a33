//! The one path every write takes: a few writer threads, each owning a connection. Requests
//! for the same organisation always go to the same thread; a thread takes whatever requests are
//! waiting (up to [`MAX_GROUP`]) and commits them in one transaction, each request inside its
//! own savepoint, so one durable commit (one fsync) serves many requests and a refused request
//! writes nothing. Responses are sent only after the commit.
//!
//! - [`append`]: appending one command to a log (the only code that inserts log entries).
//! - [`import`]: bulk import of donations, through [`append`], from the writer or the CLI.
//! - [`needs`]: posting a recipient's need.
//! - `disclosure`: the summary hash of a periodic disclosure, computed from the log.
//! - `lock`: the log's write lock, shared by the writer and the CLI import.

pub mod append;
mod disclosure;
pub mod import;
mod lock;
pub mod needs;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::Utc;
use diesel::connection::Connection;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use givetrail_domain::disclosure::Policy;
use givetrail_domain::entry::{Author, Command};
use givetrail_domain::ledger::Rejection;

use crate::db::{establish, AnyConnection, Backend};
use crate::read::log::head;
use crate::registry::{self, IdempotentResponse, NewKey, Organization, Recipient};
use crate::verify::checkpoints::checkpoint;
use crate::{micros, StoreError, WriteError};

use append::{append, org_context};
use lock::lock_log;

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
    /// Import a donations CSV into one organisation's log: every row, or none.
    Import {
        /// Organisation.
        org: String,
        /// Author.
        author: Author,
        /// The CSV (header row first).
        csv: import::CsvBody,
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
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written now; 201 with this body.
    Created(Value),
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
            let handle = std::thread::Builder::new()
                .name(format!("givetrail-writer-{i}"))
                .spawn(move || run(conn, rx, &key, &policy))
                .map_err(|e| StoreError::Connect(format!("cannot start writer thread: {e}")))?;
            handles.push(handle);
        }
        Ok(Writer {
            senders,
            threads: handles,
        })
    }

    /// Submit a write and wait for its durable outcome.
    pub async fn submit(
        &self,
        write: Write,
        idempotency: Option<Idempotency>,
    ) -> Result<Outcome, WriteError> {
        let mut h = DefaultHasher::new();
        write.route().hash(&mut h);
        let index = (h.finish() % self.senders.len() as u64) as usize;
        let (reply, rx) = oneshot::channel();
        match self.senders[index].try_send(Job {
            write,
            idempotency,
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

fn run(mut conn: AnyConnection, rx: Receiver<Job>, key: &SigningKey, policy: &Policy) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group, key, policy);
    }
}

fn commit_group(conn: &mut AnyConnection, group: Vec<Job>, key: &SigningKey, policy: &Policy) {
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
        for org in &orgs {
            lock_log(c, org)?;
        }
        let mut results = Vec::with_capacity(group.len());
        for job in &group {
            // Each job in its own savepoint: a refusal rolls back only its own changes.
            let r = c.transaction::<_, WriteError, _>(|c| {
                perform(c, &job.write, job.idempotency.as_ref(), policy)
            });
            results.push(r);
        }
        // One signed checkpoint per changed log, durable with the entries it covers.
        let timestamp = crate::rfc3339(Utc::now());
        for org in &orgs {
            let wrote = group.iter().zip(&results).any(|(j, r)| {
                matches!((&j.write, r), (Write::Entries { org: o, .. } | Write::Import { org: o, .. }, Ok(Outcome::Created(_))) if o == org)
            });
            if wrote {
                let size = head(c, org)?.seq;
                checkpoint(c, org, size, key, &timestamp)?;
            }
        }
        Ok(results)
    });
    match committed {
        Ok(results) => {
            for (job, r) in group.into_iter().zip(results) {
                let _ = job.reply.send(r);
            }
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
            for (_, jobs) in by_org {
                commit_group(conn, jobs, key, policy);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            let unreachable = e.is_unreachable();
            if unreachable {
                tracing::warn!(error = %e, jobs = group.len(), "write transaction failed: a database node is unreachable");
            } else {
                tracing::error!(error = %e, jobs = group.len(), "write transaction failed");
            }
            let rotated = match &e {
                WriteError::Store(StoreError::SigningKey(m)) => Some(m.clone()),
                _ => None,
            };
            for job in group {
                let err = match &rotated {
                    Some(m) => StoreError::SigningKey(m.clone()),
                    None if unreachable => StoreError::Unreachable(msg.clone()),
                    None => StoreError::Corrupt(format!("write transaction failed: {msg}")),
                };
                let _ = job.reply.send(Err(err.into()));
            }
        }
    }
}

fn perform(
    conn: &mut AnyConnection,
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
            let ctx = org_context(conn, org)?
                .ok_or_else(|| WriteError::UnknownOrganization(org.clone()))?;
            let mut h = head(conn, org)?;
            let mut written = Vec::with_capacity(commands.len());
            for (i, cmd) in commands.iter().enumerate() {
                let cmd = disclosure::with_summary_hash(conn, org, cmd, now, policy)?;
                let (entry, next) = append(conn, &ctx, h, author, &cmd, now).map_err(
                    |rejection| match rejection {
                        Rejection::Store(e) => WriteError::Store(e),
                        other => WriteError::Rejected {
                            index: batch.then_some(i),
                            rejection: other,
                        },
                    },
                )?;
                h = next;
                written.push(entry);
            }
            if *batch {
                json!({ "entries": written })
            } else {
                written.pop().unwrap_or(Value::Null)
            }
        }
        Write::Import { org, author, csv } => import::append_csv(conn, org, author, csv)?,
        Write::Organization(o) => {
            let mut o = o.clone();
            o.created_at = micros(now);
            registry::insert_organization(conn, &o).map_err(|e| {
                duplicate(
                    e,
                    "an organisation with this id or credit code already exists",
                )
            })?;
            serde_json::to_value(&o).map_err(|e| StoreError::Corrupt(e.to_string()))?
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
            serde_json::to_value(&r).map_err(|e| StoreError::Corrupt(e.to_string()))?
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
            serde_json::to_value(&r).map_err(|e| StoreError::Corrupt(e.to_string()))?
        }
        Write::BankStatement(s) => crate::bank::insert(conn, s, micros(now))?,
        Write::Complaint(c) => crate::complaints::insert(conn, c, micros(now))?,
        Write::ComplaintEvent(e) => crate::complaints::add_event(conn, e, micros(now))?,
        Write::Need(n) => {
            let need = needs::insert(conn, n, micros(now))
                .map_err(|e| duplicate(e, "another need was posted at the same moment; retry"))?;
            serde_json::to_value(need.view()).map_err(|e| StoreError::Corrupt(e.to_string()))?
        }
        Write::NeedWithdrawal(w) => {
            let need = needs::withdraw(conn, w, micros(now))?;
            serde_json::to_value(need.view()).map_err(|e| StoreError::Corrupt(e.to_string()))?
        }
        Write::RevokeKey(key_id) => {
            registry::revoke_key(conn, key_id, micros(now))?;
            json!({ "key_id": key_id, "revoked": true })
        }
        Write::Key(k) => {
            let key_id = registry::insert_key(conn, k, micros(now))?;
            json!({
                "key": k.key,
                "key_id": key_id,
                "role": k.role,
                "organization": k.organization,
                "recipient": k.recipient,
                "jurisdiction": k.jurisdiction,
            })
        }
    };
    if let Some(i) = idem {
        // A key is never stored in clear: remember only that this Idempotency-Key was used.
        let stored = match write {
            Write::Key(_) => String::new(),
            _ => body.to_string(),
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

fn duplicate(e: StoreError, message: &str) -> WriteError {
    if e.is_unique_violation() {
        WriteError::Duplicate(message.to_owned())
    } else {
        WriteError::Store(e)
    }
}
