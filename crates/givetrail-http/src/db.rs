//! Running blocking store reads from async handlers: each takes a pooled connection on the
//! blocking thread pool, off the async threads.

use actix_web::web;

use givetrail_store::db::{self, ReadPool};
use givetrail_store::{AnyConnection, StoreError};

use crate::problem::ApiError;
use crate::state::AppState;

/// Run `f` on a connection from `pool`, off the async threads.
async fn on_pool<T: Send + 'static>(
    pool: &ReadPool,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = pool.clone();
    Ok(web::block(move || {
        let mut conn = pool.get().map_err(|e| StoreError::Connect(e.to_string()))?;
        f(&mut conn)
    })
    .await??)
}

/// Run a query on a pooled read connection (which a replica may serve).
pub async fn read<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_pool(&state.read, f).await
}

/// Run several queries on a pooled read connection inside one read snapshot, so what they
/// return fits together even while the writer commits.
pub async fn read_snapshot<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_pool(&state.read, move |c| db::snapshot(c, f)).await
}

/// Run a query on the primary: for what must see the latest commit (authentication).
pub async fn read_primary<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_pool(&state.primary, f).await
}
