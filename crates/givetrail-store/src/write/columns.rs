//! PostgreSQL: a commit group's new rows in one statement of one fixed text.
//!
//! A group of single donations writes rows to five tables (entries, private values, Merkle
//! nodes, facts, lots); a statement per table was five of a group's fourteen round trips, and
//! the writer spends most of a group waiting on round trips (under single POSTs, half the
//! machine idle). Here each table's rows go as one array per column, inserted by
//! `INSERT … SELECT * FROM unnest(…)`, the five chained as data-modifying CTEs: one round trip,
//! and one text whatever the number of rows, so it is prepared once per connection
//! ([`Cached`]). Each field is bound under its own name as the column's, so the column list and
//! the values cannot drift apart. The CTEs run with one snapshot and insert independent rows (no
//! table here reads another), and constraints are checked as for separate statements.

use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text};

use crate::db::Cached;
use crate::models::{NewEntry, NewFact, NewLot, NewNode, NewPrivate};

/// PostgreSQL's name of a column type, for the cast of its array parameter.
trait PgName {
    const NAME: &'static str;
}
impl PgName for Text {
    const NAME: &'static str = "text";
}
impl PgName for BigInt {
    const NAME: &'static str = "int8";
}
impl PgName for Integer {
    const NAME: &'static str = "int4";
}
impl PgName for Bool {
    const NAME: &'static str = "bool";
}
impl<T: PgName> PgName for Nullable<T> {
    const NAME: &'static str = T::NAME;
}

/// Append `INSERT INTO $table (field, …) SELECT * FROM unnest($k::type[], …)` to `$q`, binding
/// each field of `$rows` (named as its column) as one array, numbered on from `$n`.
macro_rules! insert_columns {
    ($q:ident, $n:ident, $table:literal, $rows:expr, $($field:ident: $st:ty),+ $(,)?) => {{
        let mut arrays: Vec<String> = Vec::new();
        $(
            $n += 1;
            arrays.push(format!("${}::{}[]", $n, <$st as PgName>::NAME));
            $q = $q.bind::<Array<$st>, _>($rows.iter().map(|r| &r.$field).collect::<Vec<_>>());
        )+
        let columns: &[&str] = &[$(stringify!($field)),+];
        $q = $q.sql(format!(
            "INSERT INTO {} ({}) SELECT * FROM unnest({})",
            $table,
            columns.join(", "),
            arrays.join(", ")
        ));
    }};
}

/// Insert these rows in one statement.
pub(crate) fn insert_group(
    pg: &mut PgConnection,
    entries: &[NewEntry],
    private: &[NewPrivate],
    nodes: &[NewNode],
    facts: &[NewFact],
    lots: &[NewLot],
) -> QueryResult<()> {
    let mut q: BoxedSqlQuery<'_, Pg, SqlQuery> = diesel::sql_query("WITH e AS (").into_boxed();
    let mut n = 0;
    insert_columns!(q, n, "entries", entries,
        organization: Text, seq: BigInt, kind: Text, occurred_at: BigInt, recorded_at: BigInt,
        canonical: Text, entry_hash: Text, prev_entry_hash: Text, leaf_hash: Text);
    q = q.sql("), p AS (");
    insert_columns!(q, n, "entry_private", private, organization: Text, seq: BigInt, private: Text);
    q = q.sql("), m AS (");
    insert_columns!(q, n, "merkle_nodes", nodes,
        organization: Text, level: Integer, idx: BigInt, hash: Text);
    q = q.sql("), f AS (");
    insert_columns!(q, n, "facts", facts,
        organization: Text, seq: BigInt, kind: Text, occurred_at: BigInt,
        voided_by: Nullable<BigInt>, about_seq: Nullable<BigInt>, units: BigInt);
    q = q.sql(") ");
    insert_columns!(q, n, "lots", lots,
        organization: Text, seq: BigInt, receipt_number: Text, campaign: Nullable<Text>,
        asset_key: Text, received: BigInt, allocated: BigInt, expensed: BigInt,
        designated: Bool, designated_region: Nullable<Text>, designated_recipient: Nullable<Text>,
        source_organization: Nullable<Text>, source_seq: Nullable<BigInt>, occurred_at: BigInt,
        voided_by: Nullable<BigInt>, costs_allowed: Bool);
    Cached(q).run(pg)
}
