//! A commit group's appends, held in memory until a read needs them or the group commits.
//!
//! The ledger rules decide each request against the books as they stand. Writing every request's
//! rows at once (entry, private values, Merkle nodes, derived rows) costs a statement each, and on
//! PostgreSQL a round trip each; most requests of a busy group (donations) read nothing that the
//! group's earlier requests changed but their receipt numbers. So appends are kept here
//! ([`Pending`]) and written together, with multi-row `INSERT`s ([`Pending::flush`]):
//!
//! - when the group commits;
//! - before a read of a table that a kept change writes ([`GroupBooks`] knows which tables each
//!   read and each change touch), so a rule never reads the database behind what the group did;
//! - before any other kind of write of the group, and every `ROWS_PER_INSERT` rows of an import.
//!
//! Each log's head and Merkle frontier ([`Tip`]) are kept here too: an append chains and hashes
//! in memory, and the nodes it completes are written with the entries. The writer keeps the tips
//! between groups and checks them against the stored head at the start of each.
//!
//! A request the rules refuse is taken back with [`Pending::rollback`] to the [`Mark`] set before
//! it. A request that can change the books before it is refused (a correction, an atomic batch,
//! an import) runs in its own savepoint after a flush, so what it flushed is rolled back with the
//! savepoint; for a single other command the rules decide before they change anything, so what a
//! flush writes during it is only earlier requests' (checked: [`Pending::rollback`] refuses if
//! not).

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use givetrail_domain::asset::AssetKey;
use givetrail_domain::canonical::Hash;
use givetrail_domain::entry::{Command, Seq, SourceDisbursement};
use givetrail_domain::ids::Slug;
use givetrail_domain::ledger::*;
use givetrail_domain::merkle::CompactTree;

use crate::books::SqlBooks;
use crate::db::{insert_rows, AnyConnection, Cached, PG_ROWS_PER_INSERT};
use crate::models::{NewEntry, NewFact, NewLot, NewNode, NewPrivate, OrgContextRow};
use crate::read::log::{head, Head};
use crate::schema::*;
use crate::verify::merkle::SqlNodes;
use crate::write::append::org_context;
use crate::write::columns::insert_group;
use crate::StoreError;

#[derive(QueryableByName)]
struct ReceiptRow {
    #[diesel(sql_type = Text)]
    organization: String,
    #[diesel(sql_type = Text)]
    receipt_number: String,
}

#[derive(QueryableByName)]
struct SizeRow {
    #[diesel(sql_type = Text)]
    organization: String,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

/// Most logs a statement of one arm per log ([`stored_sizes`], [`Pending::prefetch`]) names and
/// is still kept prepared (`Cached`): its text depends on the number of logs, and most groups
/// hold one.
const CACHED_ARMS: usize = 8;

/// `arm(1) UNION ALL … UNION ALL arm(n)`, each arm a subquery of its own (a `LIMIT` applies to
/// its arm).
fn union_all(n: usize, arm: impl Fn(usize) -> String) -> String {
    (1..=n)
        .map(|i| format!("SELECT * FROM ({}) AS a{i}", arm(i)))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// Load a statement of one arm per log, kept prepared for at most [`CACHED_ARMS`] logs.
fn load_arms<'f, R>(
    pg: &mut diesel::PgConnection,
    q: diesel::query_builder::BoxedSqlQuery<'f, diesel::pg::Pg, diesel::query_builder::SqlQuery>,
    logs: usize,
) -> QueryResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + 'static,
{
    if logs <= CACHED_ARMS {
        Cached(q).load(pg)
    } else {
        q.load(pg)
    }
}

/// How a group looks up its logs' sizes and its receipt numbers on PostgreSQL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lookups {
    /// One arm per log, each naming its organisation, in one `UNION ALL`: what Citus routes to
    /// each organisation's shard. Its text depends on the number of logs, and PostgreSQL plans
    /// it arm by arm (with four logs a group, 16% of PostgreSQL's CPU was planning).
    #[default]
    PerLog,
    /// One fixed text for any number of logs, a lateral join over arrays of them: single-node
    /// PostgreSQL only. Citus refuses it ("Limit clause is currently unsupported when a lateral
    /// subquery references a column from a table function").
    Lateral,
}

impl Lookups {
    /// What this connection's database takes: [`Lookups::Lateral`] on PostgreSQL without
    /// Citus, else (and if it cannot tell) [`Lookups::PerLog`].
    pub fn of(conn: &mut AnyConnection) -> Lookups {
        let postgres = matches!(conn, AnyConnection::Postgresql(_));
        if postgres && matches!(crate::db::is_distributed(conn), Ok(false)) {
            Lookups::Lateral
        } else {
            Lookups::PerLog
        }
    }
}

/// The last seq of each of these logs (absent: empty). PostgreSQL: one statement of one
/// index probe per log; SQLite: a query each (no round trips to save).
fn stored_sizes(
    conn: &mut AnyConnection,
    orgs: &[&str],
    lookups: Lookups,
) -> Result<HashMap<String, i64>, StoreError> {
    match conn {
        AnyConnection::Postgresql(pg) if lookups == Lookups::Lateral => Ok(Cached(
            diesel::sql_query(
                "SELECT o.organization, h.seq FROM unnest($1::text[]) AS o(organization), \
                 LATERAL (SELECT seq FROM entries WHERE entries.organization = o.organization \
                 ORDER BY seq DESC LIMIT 1) AS h",
            )
            .bind::<Array<Text>, _>(orgs),
        )
        .load::<SizeRow>(pg)?
        .into_iter()
        .map(|r| (r.organization, r.seq))
        .collect()),
        AnyConnection::Postgresql(pg) => {
            let sql = union_all(orgs.len(), |i| {
                format!(
                    "SELECT organization, seq FROM entries \
                     WHERE organization = ${i} ORDER BY seq DESC LIMIT 1"
                )
            });
            let mut q = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
            for org in orgs {
                q = q.bind::<Text, _>(*org);
            }
            Ok(load_arms::<SizeRow>(pg, q, orgs.len())?
                .into_iter()
                .map(|r| (r.organization, r.seq))
                .collect())
        }
        AnyConnection::Sqlite(_) => orgs
            .iter()
            .map(|org| Ok(((*org).to_owned(), head(conn, org)?.seq)))
            .collect(),
    }
}

/// Where a log stands: its head and its Merkle tree's frontier (the peaks), enough to append.
#[derive(Debug, Clone, PartialEq)]
pub struct Tip {
    /// The last entry.
    pub head: Head,
    /// The tree of the log's leaf hashes, as its peaks.
    pub tree: CompactTree,
}

impl Tip {
    /// The stored log's tip: its head and `O(log n)` stored nodes.
    pub fn load(conn: &mut AnyConnection, org: &str) -> Result<Tip, StoreError> {
        let head = head(conn, org)?;
        let size =
            u64::try_from(head.seq).map_err(|_| StoreError::Corrupt(format!("{org} head")))?;
        let tree = CompactTree::from_store(&SqlNodes::new(conn, org), size)?;
        Ok(Tip { head, tree })
    }
}

/// The derived tables, as bits: which a change writes and which a read reads.
mod tables {
    pub const FACTS: u8 = 1;
    pub const LOTS: u8 = 1 << 1;
    pub const DRAWS: u8 = 1 << 2;
    pub const CAMPAIGNS: u8 = 1 << 3;
    pub const ALLOCATIONS: u8 = 1 << 4;
    pub const DISBURSEMENTS: u8 = 1 << 5;
    pub const EXPENSES: u8 = 1 << 6;
    pub const ALL: u8 = u8::MAX;
}

/// The tables `SqlBooks::apply` writes for a change.
fn writes(change: &Change) -> u8 {
    use tables::*;
    match change {
        Change::Fact { .. } => FACTS,
        Change::OpenCampaign(..) => CAMPAIGNS,
        Change::AddLot(..) => LOTS,
        Change::Draw(_) => DRAWS | LOTS,
        Change::AddAllocation(..) => ALLOCATIONS,
        Change::AddDisbursement(..) => DISBURSEMENTS | ALLOCATIONS,
        Change::Acknowledge { .. } | Change::Use { .. } => DISBURSEMENTS,
        Change::AddExpense { .. } => EXPENSES,
        Change::Void { .. } | Change::Carry { .. } => ALL,
    }
}

/// Lengths of what is kept, and the tips, before a request: what [`Pending::rollback`] returns to.
#[derive(Debug, Clone)]
pub struct Mark {
    entries: usize,
    private: usize,
    nodes: usize,
    changes: usize,
    receipts: usize,
    flushes: u64,
    tips: HashMap<String, Tip>,
    savepoint: bool,
}

/// A commit group's appends not yet written, and what the group knows of its logs.
#[derive(Debug, Default)]
pub struct Pending {
    /// How the sizes and receipt numbers are looked up.
    lookups: Lookups,
    tips: HashMap<String, Tip>,
    entries: Vec<NewEntry>,
    private: Vec<NewPrivate>,
    nodes: Vec<NewNode>,
    changes: Vec<(String, Change)>,
    /// Tables the kept changes write.
    touched: u8,
    /// Flushes so far.
    flushes: u64,
    /// The open mark of a request without a savepoint, and whether a flush wrote its rows.
    open: Option<Mark>,
    flushed_open: bool,
    /// Receipt numbers of the lots added since the last flush, by organisation, and the order
    /// they were added in (for rollback).
    receipts: HashMap<String, HashSet<String>>,
    receipt_log: Vec<(String, String)>,
    /// Receipt numbers looked up ahead ([`Pending::prefetch_receipts`]) since the last flush, by
    /// organisation: whether a stored lot carries each.
    known: HashMap<String, HashMap<String, bool>>,
    /// Campaigns, recipients and organisations read in this group.
    campaigns: HashMap<(String, Slug), Option<CampaignState>>,
    recipients: HashMap<Slug, Option<RecipientInfo>>,
    contexts: HashMap<String, Option<OrgContext>>,
}

impl Pending {
    /// Nothing kept; the writer's tips from earlier groups are offered with [`Pending::adopt`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A group's start, with the logs' write locks held: for each of `orgs`, its tip (the one
    /// taken out of `cached` if the stored log has not grown since the writer kept it, else
    /// loaded)
    /// and what the rules need of the organisation; and whether stored lots carry the receipt
    /// numbers of `receipts` (organisation, number). A few queries for all the organisations.
    pub fn begin(
        conn: &mut AnyConnection,
        orgs: &[&str],
        cached: &mut HashMap<String, Tip>,
        receipts: &[(&str, &str)],
        lookups: Lookups,
    ) -> Result<Pending, StoreError> {
        let mut pending = Pending {
            lookups,
            ..Pending::new()
        };
        if orgs.is_empty() {
            return Ok(pending);
        }
        let sizes = stored_sizes(conn, orgs, lookups)?;
        for org in orgs {
            let size = sizes.get(*org).copied().unwrap_or(0);
            let tip = match cached.remove(*org) {
                Some(t) if t.head.seq == size => t,
                _ => Tip::load(conn, org)?,
            };
            pending.tips.insert((*org).to_owned(), tip);
        }
        let rows: Vec<OrgContextRow> = organizations::table
            .filter(organizations::id.eq_any(orgs))
            .select(OrgContextRow::as_select())
            .load(conn)?;
        for org in orgs {
            pending.contexts.insert((*org).to_owned(), None);
        }
        for row in rows {
            let id = row.id.clone();
            pending.contexts.insert(id, Some(row.into_context()?));
        }
        pending.prefetch(conn, receipts)?;
        Ok(pending)
    }

    /// `org`'s tip, loaded from the store the first time.
    pub fn tip(&mut self, conn: &mut AnyConnection, org: &str) -> Result<&Tip, StoreError> {
        if !self.tips.contains_key(org) {
            let tip = Tip::load(conn, org)?;
            self.tips.insert(org.to_owned(), tip);
        }
        self.tips
            .get(org)
            .ok_or_else(|| StoreError::Corrupt(format!("{org}: tip vanished")))
    }

    /// The tips, to keep for later groups (only after this group committed).
    pub fn into_tips(self) -> HashMap<String, Tip> {
        self.tips
    }

    /// Look up, in one query, whether stored lots carry these receipt numbers (organisation,
    /// number): the donations a group or an import's next rows are about to decide.
    pub fn prefetch(
        &mut self,
        conn: &mut AnyConnection,
        receipts: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let (orgs, numbers): (Vec<&str>, Vec<&str>) = receipts.iter().copied().unzip();
        let found: Vec<(String, String)> = match conn {
            // Each number one probe of `lots_receipt` (organisation, number), whatever the
            // planner knows of `lots`: per organisation, a lateral subquery with `LIMIT 1` per
            // number, which can only run as a nested loop of index probes (0.08 ms for 16
            // numbers), so its plan is safe to keep prepared (`Cached`). Written
            // `receipt_number = ANY($2)`, the plan made while an import fills `lots` in its
            // transaction (no statistics yet) scanned the table, comparing every row with every
            // number: 68 ms a call at 20,000 rows; written `receipt_number IN (SELECT
            // unnest($2))`, statistics older than the table's growth (35 rows estimated, 16,445
            // there) made a hash semi-join over all the organisation's lots: 6 ms a call, and
            // the longer an import, the slower each of its chunks. Several organisations: one
            // such arm each, in one statement, or, on single-node PostgreSQL, one lateral join
            // over arrays of the pairs (`Lookups`). Each arm names its organisation
            // (`organization = $n`), so Citus sends it to that organisation's shard alone; if
            // the worker of one of them is down, the group fails and is retried one
            // organisation at a time.
            AnyConnection::Postgresql(pg) if self.lookups == Lookups::Lateral => Cached(
                diesel::sql_query(
                    "SELECT l.organization, l.receipt_number \
                     FROM unnest($1::text[], $2::text[]) AS r(o, n), \
                     LATERAL (SELECT organization, receipt_number FROM lots \
                     WHERE organization = r.o AND receipt_number = r.n LIMIT 1) AS l",
                )
                .bind::<Array<Text>, _>(&orgs)
                .bind::<Array<Text>, _>(&numbers),
            )
            .load::<ReceiptRow>(pg)?
            .into_iter()
            .map(|r| (r.organization, r.receipt_number))
            .collect(),
            AnyConnection::Postgresql(pg) => {
                let mut by_org: Vec<(&str, Vec<&str>)> = Vec::new();
                for (org, number) in receipts {
                    match by_org.iter_mut().find(|(o, _)| o == org) {
                        Some((_, numbers)) => numbers.push(number),
                        None => by_org.push((org, vec![number])),
                    }
                }
                let sql = union_all(by_org.len(), |i| {
                    format!(
                        "SELECT l.organization, l.receipt_number \
                         FROM unnest(${}::text[]) AS r(n), \
                         LATERAL (SELECT organization, receipt_number FROM lots \
                         WHERE organization = ${} AND receipt_number = r.n LIMIT 1) AS l",
                        2 * i,
                        2 * i - 1
                    )
                });
                let mut q = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
                for (org, numbers) in &by_org {
                    q = q.bind::<Text, _>(*org).bind::<Array<Text>, _>(numbers);
                }
                load_arms::<ReceiptRow>(pg, q, by_org.len())?
                    .into_iter()
                    .map(|r| (r.organization, r.receipt_number))
                    .collect()
            }
            AnyConnection::Sqlite(c) => {
                let mut distinct = orgs.clone();
                distinct.sort_unstable();
                distinct.dedup();
                lots::table
                    .filter(lots::organization.eq_any(&distinct))
                    .filter(lots::receipt_number.eq_any(&numbers))
                    .select((lots::organization, lots::receipt_number))
                    .load(c)?
            }
        };
        let found: HashSet<(String, String)> = found.into_iter().collect();
        for (org, r) in receipts {
            let stored = found.contains(&((*org).to_owned(), (*r).to_owned()));
            self.known
                .entry((*org).to_owned())
                .or_default()
                .insert((*r).to_owned(), stored);
        }
        Ok(())
    }

    /// The receipt numbers of the donations among `commands`.
    pub fn receipts_of(commands: &[Command]) -> impl Iterator<Item = &str> {
        commands.iter().filter_map(|c| match c {
            Command::Donation(d) => Some(d.receipt_number.as_str()),
            _ => None,
        })
    }

    /// What the rules need of `org`, read once a group.
    pub fn org_context(
        &mut self,
        conn: &mut AnyConnection,
        org: &str,
    ) -> Result<Option<OrgContext>, StoreError> {
        if let Some(c) = self.contexts.get(org) {
            return Ok(c.clone());
        }
        let c = org_context(conn, org)?;
        self.contexts.insert(org.to_owned(), c.clone());
        Ok(c)
    }

    /// Forget the registry rows read in this group (after a write that may change them).
    pub fn forget_registry(&mut self) {
        self.recipients.clear();
        self.contexts.clear();
    }

    /// Keep an appended entry: its row, its private values, and the Merkle nodes its leaf
    /// completes; `org`'s tip moves to it.
    pub(crate) fn push_entry(
        &mut self,
        entry: NewEntry,
        private: Option<NewPrivate>,
        hash: Hash,
        leaf: Hash,
    ) -> Result<(), StoreError> {
        let org = entry.organization.clone();
        let tip = self
            .tips
            .get_mut(&org)
            .ok_or_else(|| StoreError::Corrupt(format!("{org}: append without a tip")))?;
        if entry.seq != tip.head.seq + 1 {
            return Err(StoreError::Corrupt(format!(
                "{org}: append at {} after {}",
                entry.seq, tip.head.seq
            )));
        }
        tip.head = Head {
            seq: entry.seq,
            hash,
        };
        for (level, idx, hash) in tip.tree.push_completed(leaf) {
            self.nodes.push(NewNode {
                organization: org.clone(),
                level: i32::try_from(level)
                    .map_err(|_| StoreError::Corrupt(format!("merkle level {level}")))?,
                idx: i64::try_from(idx)
                    .map_err(|_| StoreError::Corrupt(format!("merkle index {idx}")))?,
                hash: hex::encode(hash),
            });
        }
        self.entries.push(entry);
        self.private.extend(private);
        Ok(())
    }

    fn push_change(&mut self, org: &str, change: Change) {
        let w = writes(&change);
        self.touched |= w;
        if w & tables::CAMPAIGNS != 0 {
            self.campaigns.clear();
        }
        if let Change::AddLot(lot, _) = &change {
            self.receipts
                .entry(org.to_owned())
                .or_default()
                .insert(lot.receipt_number.clone());
            self.receipt_log
                .push((org.to_owned(), lot.receipt_number.clone()));
        }
        self.changes.push((org.to_owned(), change));
    }

    /// Where things stand before a request. With `savepoint`, the caller runs the request in
    /// its own savepoint (after a flush), which takes back whatever a flush writes during it.
    pub fn mark(&mut self, savepoint: bool) -> Mark {
        let mark = Mark {
            entries: self.entries.len(),
            private: self.private.len(),
            nodes: self.nodes.len(),
            changes: self.changes.len(),
            receipts: self.receipt_log.len(),
            flushes: self.flushes,
            tips: self.tips.clone(),
            savepoint,
        };
        if !savepoint {
            self.open = Some(mark.clone());
            self.flushed_open = false;
        }
        mark
    }

    /// The request after `mark` succeeded: keep what it did.
    pub fn keep(&mut self) {
        self.open = None;
        self.flushed_open = false;
    }

    /// Take back what was kept after `mark`. An error means a flush wrote rows of the request
    /// without a savepoint to take them back: the caller must abandon the transaction.
    pub fn rollback(&mut self, mark: Mark) -> Result<(), StoreError> {
        let written = self.flushed_open && !mark.savepoint;
        self.open = None;
        self.flushed_open = false;
        if written {
            return Err(StoreError::Corrupt(
                "a refused request's rows were written before it was refused".into(),
            ));
        }
        // After a flush, everything still kept came after it, so after the mark.
        let flushed = self.flushes != mark.flushes;
        let at = |n: usize| if flushed { 0 } else { n };
        self.entries.truncate(at(mark.entries));
        self.private.truncate(at(mark.private));
        self.nodes.truncate(at(mark.nodes));
        self.changes.truncate(at(mark.changes));
        for (org, r) in self.receipt_log.drain(at(mark.receipts)..) {
            if let Some(set) = self.receipts.get_mut(&org) {
                set.remove(&r);
            }
        }
        self.tips = mark.tips;
        self.campaigns.clear();
        Ok(())
    }

    /// Write everything kept, in order, with multi-row `INSERT`s: entries, private values and
    /// Merkle nodes; then the derived rows, the facts and lots of each run of pure inserts
    /// together and every other change through [`SqlBooks::apply`] in its place.
    pub fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        if self.entries.is_empty() && self.changes.is_empty() && self.nodes.is_empty() {
            return Ok(());
        }
        if let Some(open) = &self.open {
            self.flushed_open |= self.entries.len() > open.entries
                || self.changes.len() > open.changes
                || self.flushes != open.flushes;
        }
        if self.flush_in_one_statement(conn)? {
            return Ok(());
        }
        insert_rows!(conn, entries::table, &self.entries)?;
        insert_rows!(conn, entry_private::table, &self.private)?;
        insert_rows!(conn, merkle_nodes::table, &self.nodes)?;
        self.entries.clear();
        self.private.clear();
        self.nodes.clear();
        let mut facts: Vec<NewFact> = Vec::new();
        let mut lots: Vec<NewLot> = Vec::new();
        let write_inserts = |conn: &mut AnyConnection,
                             facts: &mut Vec<NewFact>,
                             lots: &mut Vec<NewLot>|
         -> Result<(), StoreError> {
            insert_rows!(conn, facts::table, &*facts)?;
            insert_rows!(conn, lots::table, &*lots)?;
            facts.clear();
            lots.clear();
            Ok(())
        };
        for (org, change) in std::mem::take(&mut self.changes) {
            if push_new_row(&org, &change, &mut facts, &mut lots) {
                continue;
            }
            match change {
                // Inserts of their own rows, which nothing kept reads or updates: any order.
                pure @ (Change::OpenCampaign(..)
                | Change::AddAllocation(..)
                | Change::AddExpense { .. }) => SqlBooks {
                    conn: &mut *conn,
                    org: &org,
                }
                .apply(pure)?,
                // Updates (and reads) of rows earlier changes may have inserted: after them.
                other => {
                    write_inserts(conn, &mut facts, &mut lots)?;
                    SqlBooks {
                        conn: &mut *conn,
                        org: &org,
                    }
                    .apply(other)?;
                }
            }
        }
        write_inserts(conn, &mut facts, &mut lots)?;
        self.flushed();
        Ok(())
    }

    /// PostgreSQL, when everything kept is new rows (a group of donations) and no table has
    /// more than [`PG_ROWS_PER_INSERT`] of them: write them all in one statement
    /// (`columns::insert_group`); whether it did. Larger sets (an import's chunks) go by `COPY`.
    fn flush_in_one_statement(&mut self, conn: &mut AnyConnection) -> Result<bool, StoreError> {
        let AnyConnection::Postgresql(pg) = conn else {
            return Ok(false);
        };
        let small = [
            self.entries.len(),
            self.private.len(),
            self.nodes.len(),
            self.changes.len(),
        ]
        .iter()
        .all(|n| *n <= PG_ROWS_PER_INSERT);
        if !small {
            return Ok(false);
        }
        let mut facts = Vec::new();
        let mut lots = Vec::new();
        for (org, change) in &self.changes {
            if !push_new_row(org, change, &mut facts, &mut lots) {
                return Ok(false);
            }
        }
        insert_group(pg, &self.entries, &self.private, &self.nodes, &facts, &lots)?;
        self.entries.clear();
        self.private.clear();
        self.nodes.clear();
        self.changes.clear();
        self.flushed();
        Ok(true)
    }

    /// What follows every flush.
    fn flushed(&mut self) {
        self.touched = 0;
        self.flushes += 1;
        // What is written, the database answers: the receipt numbers kept for this group (and
        // those looked up ahead, now stale) are dropped, so an import's memory stays flat.
        self.receipts.clear();
        self.receipt_log.clear();
        self.known.clear();
    }
}

/// The row a change adds to `facts` or `lots`, pushed there; whether it was one (any other
/// change updates rows or writes other tables).
fn push_new_row(
    org: &str,
    change: &Change,
    facts: &mut Vec<NewFact>,
    lots: &mut Vec<NewLot>,
) -> bool {
    match change {
        Change::Fact {
            seq,
            kind,
            at,
            about,
            units,
        } => facts.push(NewFact::new(org, *seq, *kind, *at, *about, *units)),
        Change::AddLot(lot, source) => lots.push(NewLot::new(org, lot, source.as_ref())),
        _ => return false,
    }
    true
}

/// One organisation's books for the rules during a group: reads from the database, after
/// writing what the group kept if the read needs it; changes kept in [`Pending`].
pub struct GroupBooks<'a> {
    /// The connection, inside the group's transaction.
    pub conn: &'a mut AnyConnection,
    /// The organisation.
    pub org: &'a str,
    /// What the group kept.
    pub pending: &'a mut Pending,
}

impl GroupBooks<'_> {
    /// The database's books, once the kept changes to any of `reads` are written.
    fn sql(&mut self, reads: u8) -> Result<SqlBooks<'_>, StoreError> {
        if self.pending.touched & reads != 0 {
            self.pending.flush(self.conn)?;
        }
        Ok(SqlBooks {
            conn: &mut *self.conn,
            org: self.org,
        })
    }
}

impl Books for GroupBooks<'_> {
    type Error = StoreError;

    fn campaign(&mut self, id: &Slug) -> Result<Option<CampaignState>, StoreError> {
        let key = (self.org.to_owned(), id.clone());
        if let Some(c) = self.pending.campaigns.get(&key) {
            return Ok(c.clone());
        }
        let c = self.sql(tables::CAMPAIGNS)?.campaign(id)?;
        self.pending.campaigns.insert(key, c.clone());
        Ok(c)
    }
    fn lot(&mut self, seq: Seq) -> Result<Option<Lot>, StoreError> {
        self.sql(tables::LOTS)?.lot(seq)
    }
    fn receipt_in_use(&mut self, receipt_number: &str) -> Result<bool, StoreError> {
        if self
            .pending
            .receipts
            .get(self.org)
            .is_some_and(|s| s.contains(receipt_number))
        {
            return Ok(true);
        }
        if let Some(&stored) = self
            .pending
            .known
            .get(self.org)
            .and_then(|k| k.get(receipt_number))
        {
            return Ok(stored);
        }
        self.sql(tables::LOTS)?.receipt_in_use(receipt_number)
    }
    fn pool_lots(&mut self, asset: &AssetKey, units: i64) -> Result<Vec<Lot>, StoreError> {
        self.sql(tables::LOTS)?.pool_lots(asset, units)
    }
    fn allocation(&mut self, seq: Seq) -> Result<Option<AllocationState>, StoreError> {
        self.sql(tables::ALLOCATIONS)?.allocation(seq)
    }
    fn disbursement(&mut self, seq: Seq) -> Result<Option<DisbursementState>, StoreError> {
        self.sql(tables::DISBURSEMENTS)?.disbursement(seq)
    }
    fn recipient(&mut self, id: &Slug) -> Result<Option<RecipientInfo>, StoreError> {
        if let Some(r) = self.pending.recipients.get(id) {
            return Ok(r.clone());
        }
        // The registry: no derived table, so nothing kept needs writing first.
        let r = self.sql(0)?.recipient(id)?;
        self.pending.recipients.insert(id.clone(), r.clone());
        Ok(r)
    }
    fn fact(&mut self, seq: Seq) -> Result<Option<FactInfo>, StoreError> {
        self.sql(tables::FACTS)?.fact(seq)
    }
    fn draws_by(&mut self, seq: Seq) -> Result<Vec<DrawState>, StoreError> {
        self.sql(tables::DRAWS)?.draws_by(seq)
    }
    fn dependants(&mut self, seq: Seq, limit: usize) -> Result<Vec<Dependant>, StoreError> {
        self.sql(tables::ALL)?.dependants(seq, limit)
    }
    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, StoreError> {
        self.sql(tables::ALL)?.foreign_disbursement(source)
    }
    fn source_recorded_units(&mut self, source: &SourceDisbursement) -> Result<i64, StoreError> {
        self.sql(tables::ALL)?.source_recorded_units(source)
    }
    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, StoreError> {
        self.sql(tables::ALL)?.need(id)
    }
    fn apply(&mut self, change: Change) -> Result<(), StoreError> {
        self.pending.push_change(self.org, change);
        Ok(())
    }
}
