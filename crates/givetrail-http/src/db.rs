//! Running blocking store reads from async handlers, off the async threads: public reads on the
//! read threads ([`crate::readers`], at a lower CPU priority), authentication (on the primary)
//! on the runtime's blocking pool at normal priority, since writes wait for it.

use actix_web::web;

use givetrail_store::db::{self, ReadPool};
use givetrail_store::{AnyConnection, StoreError};

use crate::problem::ApiError;
use crate::state::AppState;

/// Take a connection from `pool` and run `f` on it ([`db::with_pooled`]); on no connection, the
/// error and whether the pool holds fewer connections than it keeps (it could not open the ones
/// it lacks).
fn on_connection<T>(
    pool: &ReadPool,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<Result<T, StoreError>, (String, bool)> {
    db::with_pooled(pool, f)
        .map_err(|e| (e.to_string(), pool.state().connections < pool.max_size()))
}

/// What a read got. When no connection came free within the pool's checkout timeout
/// (`givetrail_store::db::CHECKOUT_TIMEOUT`), the answer is 503 with `Retry-After`, never 500:
/// [`ApiError::database_down`] when the pool could not open the connections it lacks (the
/// database cannot be reached), else [`ApiError::busy`]. A connection lost during the read is
/// also a 503 (`StoreError::Down`).
fn answered<T>(
    state: &AppState,
    out: Result<Result<T, StoreError>, (String, bool)>,
) -> Result<T, ApiError> {
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

/// Run `f` on a connection from the public read pool, on a read thread.
async fn on_read_pool<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = state.read.clone();
    let out = state.readers.run(move || on_connection(&pool, f)).await?;
    answered(state, out)
}

/// The same on the primary's pool, on the runtime's blocking pool at normal priority.
async fn on_primary<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = state.primary.clone();
    let out = web::block(move || on_connection(&pool, f)).await?;
    answered(state, out)
}

/// Run a query on a pooled read connection (which a replica may serve).
pub async fn read<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_read_pool(state, f).await
}

/// Run several queries on a pooled read connection inside one read snapshot, so what they
/// return fits together even while the writer commits.
pub async fn read_snapshot<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_read_pool(state, move |c| db::snapshot(c, f)).await
}

/// Run a query on the primary: for what must see the latest commit (authentication).
pub async fn read_primary<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    on_primary(state, f).await
}
