//! What every handler shares.

use std::sync::Arc;

use givetrail_store::db::ReadPool;
use givetrail_store::write::Writer;

/// Shared state of the HTTP service.
#[derive(Clone)]
pub struct AppState {
    /// Pool for public reads (a streaming replica may back it: `--read-database-url`).
    pub read: ReadPool,
    /// The threads public reads run on, at a lower CPU priority (`crate::readers::ReadThreads`).
    pub readers: Arc<crate::readers::ReadThreads>,
    /// Pool on the primary, for what must see the latest commit: authentication.
    pub primary: ReadPool,
    /// The single write path.
    pub writer: Arc<Writer>,
    /// Keys of recent writes found live (`crate::key_cache`).
    pub keys: Arc<crate::key_cache::KeyCache>,
    /// Hex of the Ed25519 key checkpoints are signed with.
    pub public_key: String,
    /// Replayed logs, kept and advanced by new entries (`givetrail_store::read::model`).
    pub read_model: Arc<givetrail_store::read::model::ReadModel>,
    /// Priority regions and disclosure deadlines the reports measure against.
    pub policy: Arc<givetrail_domain::disclosure::Policy>,
    /// The limits of the expensive reads and their counts (`crate::load`).
    pub load: Arc<crate::load::Load>,
    /// Where the public reaches this deployment, for absolute links (feeds, QR codes).
    pub public_url: crate::link::PublicUrl,
}
