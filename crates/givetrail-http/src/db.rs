//! Running blocking store reads from async handlers: each takes a pooled connection on the
//! blocking thread pool, off the async threads.

use actix_web::web;

use givetrail_store::db::{self, ReadPool};
use givetrail_store::{AnyConnection, StoreError};

use crate::problem::ApiError;
use crate::state::AppState;

/// Run `f` on a connection from `pool`, off the async threads. When no connection comes free
/// within the pool's checkout timeout (`givetrail_store::db::CHECKOUT_TIMEOUT`), the answer is
/// 503 with `Retry-After`, never 500: [`ApiError::database_down`] when the pool could not open
/// the connections it lacks (the database cannot be reached), else [`ApiError::busy`]. A
/// connection lost during `f` is also a 503 (`StoreError::Down`).
async fn on_pool<T: Send + 'static>(
    state: &AppState,
    pool: &ReadPool,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = pool.clone();
    let out = web::block(move || match pool.get() {
        Ok(mut conn) => Ok(f(&mut conn)),
        // Fewer connections than the pool keeps: it could not open the ones it lacks.
        Err(e) => Err((e, pool.state().connections < pool.max_size())),
    })
    .await?;
    match out {
        Ok(result) => Ok(result?),
        Err((e, true)) => {
            tracing::warn!(error = %e, "the database cannot be reached");
            Err(ApiError::database_down())
        }
        Err((e, false)) => {
            state.load.pool_timed_out();
            tracing::warn!(error = %e, "no read connection came free in time");
            Err(ApiError::busy(
                "no database connection came free in time; the server is busy",
            ))
        }
    }
}

/// Run a query on a pooled read connection (which a replica may serve).
pub async fn read<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_pool(state, &state.read, f).await
}

/// Run several queries on a pooled read connection inside one read snapshot, so what they
/// return fits together even while the writer commits.
pub async fn read_snapshot<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_pool(state, &state.read, move |c| db::snapshot(c, f)).await
}

/// Run a query on the primary: for what must see the latest commit (authentication).
pub async fn read_primary<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_pool(state, &state.primary, f).await
}
