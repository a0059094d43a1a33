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
    Query(#[from] diesel::result::Error),
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
    /// A database node could not be reached (a Citus worker is down, the connection was lost,
    /// or a statement ran past its timeout): nothing was written, and the same request may be
    /// sent again later.
    #[error("a database node is unreachable: {0}")]
    Unreachable(String),
}

/// What Citus says when a worker failed while the transaction was committing on it alone (a
/// one-phase commit): the worker may or may not have committed it.
const COMMIT_UNKNOWN: &str = "could not commit transaction";

/// What PostgreSQL and Citus say when a node cannot be reached or a connection is lost (diesel
/// does not expose the SQLSTATE, so the class 08 and 57 messages are matched here).
const UNREACHABLE_MESSAGES: [&str; 12] = [
    COMMIT_UNKNOWN,
    "connection to the remote node",
    "connection establishment for node",
    "failure on connection marked as essential",
    "could not establish any connections to the node",
    "could not establish connection",
    "could not connect",
    "connection not open",
    "server closed the connection",
    "terminating connection",
    "canceling statement due to statement timeout",
    "no connection to the server",
];

impl StoreError {
    /// Whether a database node could not be reached: a Citus worker that is down, a lost
    /// connection, a statement timeout. The HTTP layer answers 503; nothing was written.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable_message().is_some()
    }

    /// Whether a node failed during the commit itself, so the write may have been made on it
    /// (Citus commits a transaction that touched one worker with a one-phase commit there).
    pub fn commit_outcome_unknown(&self) -> bool {
        self.unreachable_message()
            .is_some_and(|m| m.contains(COMMIT_UNKNOWN))
    }

    fn unreachable_message(&self) -> Option<&str> {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Unreachable(m) => Some(m),
            StoreError::Query(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            )) => Some(info.message()),
            StoreError::Query(Error::DatabaseError(_, info)) => {
                let message = info.message();
                UNREACHABLE_MESSAGES
                    .iter()
                    .any(|m| message.contains(m))
                    .then_some(message)
            }
            _ => None,
        }
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
