//! What every handler shares.

use std::sync::Arc;

use givetrail_store::db::ReadPool;
use givetrail_store::writer::Writer;

/// Shared state of the HTTP service.
#[derive(Clone)]
pub struct AppState {
    /// Pool for reads (a replica may back it).
    pub read: ReadPool,
    /// The single write path.
    pub writer: Arc<Writer>,
    /// Hex of the Ed25519 key checkpoints are signed with.
    pub public_key: String,
    /// Priority regions and disclosure deadlines the reports measure against.
    pub policy: Arc<givetrail_domain::disclosure::Policy>,
}
