//! The store's two failures: [`StoreError`] (the database or its data) and [`WriteError`] (why a
//! write was not made; what the writer hands back to the caller).

use givetrail_domain::error::RuleError;
use givetrail_domain::ledger::Rejection;

/// A failure of the store (not of the request).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Could not connect.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    /// The database cannot be reached: the connection was refused, closed or lost, or the
    /// server is shutting down. Nothing the caller asked for was acknowledged; a retry may
    /// succeed once the database is back.
    #[error("the database is unavailable: {0}")]
    Down(String),
    /// The database has no room left (SQLite: the disk is full). Nothing was written.
    #[error("the database has no room left: {0}")]
    Full(String),
    /// Stored data does not parse: a bug or tampering.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The key this process signs with is no longer the current key of the key history (a
    /// rotation was made while it ran), or a rotation does not follow the history.
    #[error("signing key: {0}")]
    SigningKey(String),
    /// The writer is gone (shutting down).
    #[error("the writer is shutting down")]
    Unavailable,
}

/// What Citus says when a worker failed while the transaction was committing on it alone (a
/// one-phase commit): the worker may or may not have committed it.
const COMMIT_UNKNOWN: &str = "could not commit transaction";

/// What the backends say when the server or one of its nodes went away (PostgreSQL messages of a
/// connection lost or refused, of a server shutting down or starting up; Citus's of a worker that
/// cannot be reached; a statement past its timeout). diesel does not expose the SQLSTATE, so the
/// class 08 and 57 messages are matched.
const DOWN_MESSAGES: &[&str] = &[
    COMMIT_UNKNOWN,
    "connection to the remote node",
    "connection establishment for node",
    "failure on connection marked as essential",
    "could not establish any connections to the node",
    "could not establish connection",
    "could not connect",
    "connection not open",
    "canceling statement due to statement timeout",
    "server closed the connection unexpectedly",
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "connection to server",
    "SSL SYSCALL error",
];

/// What SQLite says when the disk is full (`SQLITE_FULL`).
const FULL_MESSAGES: &[&str] = &["database or disk is full"];

impl From<diesel::result::Error> for StoreError {
    /// A query's failure, classified: a lost or refused connection is [`StoreError::Down`], a
    /// full disk [`StoreError::Full`] (both looked through a failed commit's rollback), anything
    /// else [`StoreError::Query`].
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error as E};
        match e {
            E::RollbackErrorOnCommit { commit_error, .. } => Self::from(*commit_error),
            E::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, info) => {
                StoreError::Down(info.message().to_owned())
            }
            E::DatabaseError(kind, info) => {
                let message = info.message();
                if FULL_MESSAGES.iter().any(|m| message.contains(m)) {
                    StoreError::Full(message.to_owned())
                } else if DOWN_MESSAGES.iter().any(|m| message.contains(m)) {
                    StoreError::Down(message.to_owned())
                } else {
                    StoreError::Query(E::DatabaseError(kind, info))
                }
            }
            other => StoreError::Query(other),
        }
    }
}

impl StoreError {
    /// Whether the database, not the request, failed in a way that passes: it cannot be
    /// reached ([`StoreError::Down`]) or has no room ([`StoreError::Full`]).
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Down(_) | StoreError::Full(_))
    }

    /// Whether a database node could not be reached: the server gone, a Citus worker that is
    /// down, a lost connection, a statement timeout.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Down(_))
    }

    /// Whether a node failed during the commit itself, so the write may have been made on it
    /// (Citus commits a transaction that touched one worker with a one-phase commit there).
    pub fn commit_outcome_unknown(&self) -> bool {
        matches!(self, StoreError::Down(m) if m.contains(COMMIT_UNKNOWN))
    }

    /// Whether this is a unique-constraint violation (a concurrent duplicate).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Why a write was not made.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Refused (item index within a batch, when a batch).
    #[error("refused")]
    Rejected {
        /// Index of the refused item in a batch.
        index: Option<usize>,
        /// Why.
        rejection: Rejection<StoreError>,
    },
    /// The organisation named in the path does not exist.
    #[error("organisation {0} not found")]
    UnknownOrganization(String),
    /// A registration repeats an existing id or code.
    #[error("{0}")]
    Duplicate(String),
    /// The Idempotency-Key was used before with another request.
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyMismatch,
    /// A key creation cannot be replayed (the key is shown once).
    #[error("a key was already created with this Idempotency-Key; keys are shown only once")]
    KeyNotReplayable,
    /// Too many writes are waiting.
    #[error("too many writes are waiting; retry later")]
    Overloaded,
    /// The caller's key was revoked (or is unknown) when the write would have committed.
    #[error("the key is unknown or revoked")]
    Unauthenticated,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for WriteError {
    fn from(e: diesel::result::Error) -> Self {
        WriteError::Store(e.into())
    }
}

impl WriteError {
    /// Whether the write failed because a database node could not be reached.
    pub fn is_unreachable(&self) -> bool {
        self.store().is_some_and(StoreError::is_unreachable)
    }

    /// Whether a node failed during the commit itself (see [`StoreError::commit_outcome_unknown`]).
    pub fn commit_outcome_unknown(&self) -> bool {
        self.store().is_some_and(StoreError::commit_outcome_unknown)
    }

    fn store(&self) -> Option<&StoreError> {
        match self {
            WriteError::Store(e)
            | WriteError::Rejected {
                rejection: Rejection::Store(e),
                ..
            } => Some(e),
            _ => None,
        }
    }

    /// A single (non-batch) write refused by a rule.
    pub(crate) fn rule(e: RuleError) -> WriteError {
        WriteError::Rejected {
            index: None,
            rejection: Rejection::Rule(e),
        }
    }

    /// Another process numbered the same event or statement first: the client may retry.
    pub(crate) fn concurrent(e: StoreError) -> WriteError {
        if e.is_unique_violation() {
            WriteError::rule(RuleError::Conflict {
                field: String::new(),
                message: "another write for this organisation took the same number; retry".into(),
            })
        } else {
            e.into()
        }
    }
}
