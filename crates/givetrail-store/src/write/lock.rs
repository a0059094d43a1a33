//! The write lock of an organisation's log, so that writers in different processes (the server's
//! writer threads, `givetrail import`) never interleave appends to one log.

use diesel::result::QueryResult;
use diesel::RunQueryDsl;

use crate::db::{AnyConnection, Cached};

/// Serialise writers of `org`'s log across processes until the transaction ends: [`lock_logs`]
/// of one log.
pub(crate) fn lock_log(conn: &mut AnyConnection, org: &str) -> QueryResult<()> {
    lock_logs(conn, &[org])
}

/// Serialise writers of these logs across processes until the transaction ends. PostgreSQL: a
/// transaction-scoped advisory lock keyed by each log, all taken by one statement in the order
/// given; callers give them sorted, so two writers cannot deadlock. SQLite: nothing; it has one
/// writer at a time (see [`lock_sqlite_database`]).
pub(crate) fn lock_logs(conn: &mut AnyConnection, orgs: &[&str]) -> QueryResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        if orgs.is_empty() {
            return Ok(());
        }
        // A function scan returns the array's elements in order, and the projection locks them
        // one row at a time as they come.
        Cached(
            diesel::sql_query(
                "SELECT pg_advisory_xact_lock(hashtext('givetrail-log:' || o)) \
                 FROM unnest($1::text[]) AS o",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(orgs),
        )
        .run(pg)?;
    }
    Ok(())
}

/// SQLite: take the database's write lock now, before reading a log's head, with a write
/// statement that changes nothing (so the busy timeout applies while another process holds it).
/// PostgreSQL: nothing.
pub(crate) fn lock_sqlite_database(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Sqlite(c) = conn {
        diesel::sql_query("UPDATE organizations SET id = id WHERE 0").execute(c)?;
    }
    Ok(())
}
