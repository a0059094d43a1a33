//! Running blocking store reads from async handlers, off the async threads: public reads on the
//! read threads ([`crate::readers`], at a lower CPU priority), authentication (on the primary)
//! on the runtime's blocking pool at normal priority, since writes wait for it.

use actix_web::web;

use givetrail_store::db::{self, ReadPool};
use givetrail_store::{AnyConnection, StoreError};

use crate::problem::ApiError;
use crate::state::AppState;

/// What a read got: its result, or no connection in time (503 with `Retry-After`).
fn answered<T, E: std::fmt::Display>(
    state: &AppState,
    out: Result<Result<T, StoreError>, E>,
) -> Result<T, ApiError> {
    match out {
        Ok(result) => Ok(result?),
        Err(e) => {
            state.load.pool_timed_out();
            tracing::warn!(error = %e, "no read connection came free in time");
            Err(ApiError::busy(
                "no database connection came free in time; the server is busy",
            ))
        }
    }
}

/// Run `f` on a connection from the public read pool, on a read thread. When no connection
/// comes free within the pool's checkout timeout (`givetrail_store::db::CHECKOUT_TIMEOUT`), or none can be opened,
/// the answer is 503 with `Retry-After` ([`ApiError::busy`]), never 500.
async fn on_read_pool<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = state.read.clone();
    let out = state
        .readers
        .run(move || pool.get().map(|mut conn| f(&mut conn)))
        .await?;
    answered(state, out)
}

/// The same on the primary's pool, on the runtime's blocking pool at normal priority.
async fn on_primary<T: Send + 'static>(
    state: &AppState,
    pool: &ReadPool,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = pool.clone();
    let out = web::block(move || pool.get().map(|mut conn| f(&mut conn))).await?;
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
    on_primary(state, &state.primary, f).await
}
