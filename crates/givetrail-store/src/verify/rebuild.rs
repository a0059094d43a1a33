//! Derived state against the log: the log is the truth, derived tables a cache of it. Checking
//! compares the tables with a replay; rebuilding replaces an organisation's derived tables (and
//! its Merkle subtrees) with a replay, the one place they are deleted and rewritten.

use diesel::prelude::*;

use givetrail_domain::disclosure::Record;
use givetrail_domain::entry::Fact;
use givetrail_domain::entry::Seq;
use givetrail_domain::ledger::{replay, DrawState, FactInfo, FactTable, MemoryBooks, Rejection};

use crate::books::SqlBooks;
use crate::db::AnyConnection;
use crate::models::{
    AllocationRow, CampaignRow, DisbursementRow, DrawRow, ExpenseRow, FactEntryRow, FactSeqRow,
    LotRow,
};
use crate::schema::*;
use crate::verify::merkle::check_tree;
use crate::{from_micros, StoreError};

fn replay_err(e: Rejection<impl std::fmt::Debug>) -> StoreError {
    StoreError::Corrupt(format!("log does not replay: {e:?}"))
}

/// Walk an organisation's log in order, calling `f(seq, occurred_at, fact)`.
fn each_fact(
    conn: &mut AnyConnection,
    org: &str,
    mut f: impl FnMut(i64, chrono::DateTime<chrono::Utc>, Fact) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    const PAGE: i64 = 5_000;
    let mut after = 0i64;
    loop {
        let rows: Vec<FactEntryRow> = entries::table
            .filter(entries::organization.eq(org))
            .filter(entries::seq.gt(after))
            .order(entries::seq.asc())
            .limit(PAGE)
            .select(FactEntryRow::as_select())
            .load(conn)?;
        let n = rows.len() as i64;
        for FactEntryRow {
            seq,
            kind,
            occurred_at: at,
            canonical,
        } in rows
        {
            after = seq;
            // Typed from the text, as the read model does (never a `serde_json::Value` first);
            // only the fact is kept, so the entry's hash is not read.
            let record = Record::from_canonical(&canonical, Default::default())
                .map_err(|e| StoreError::Corrupt(format!("{org}: {e}")))?;
            if record.kind.as_str() != kind {
                return Err(StoreError::Corrupt(format!("{org}#{seq} kind {kind}")));
            }
            let fact = record.fact;
            f(seq, from_micros(at), fact)?;
        }
        if n < PAGE {
            return Ok(());
        }
    }
}

/// The derived state an organisation's log implies.
pub fn replayed(conn: &mut AnyConnection, org: &str) -> Result<MemoryBooks, StoreError> {
    let mut books = MemoryBooks::default();
    each_fact(conn, org, |seq, at, fact| {
        replay(&mut books, seq, at, &fact).map_err(replay_err)
    })?;
    Ok(normalised(books))
}

/// Draws in (drawing entry, donation) order, equal keys kept in log order (a stable sort).
fn by_draw_key(draws: &imbl::Vector<DrawState>) -> imbl::Vector<DrawState> {
    let mut v: Vec<DrawState> = draws.iter().cloned().collect();
    v.sort_by_key(|d| (d.by, d.donation));
    v.into_iter().collect()
}

fn normalised(mut b: MemoryBooks) -> MemoryBooks {
    b.draws = by_draw_key(&b.draws);
    b.sources.clear();
    b.recipients.clear();
    b.foreign.clear();
    b
}

/// Rows read per query when loading a derived table.
const TABLE_PAGE: i64 = 5_000;

/// Load every row of one organisation's derived table keyed by seq, a page at a time, in seq
/// order, and hand each to `$each`.
macro_rules! each_row {
    ($conn:expr, $org:expr, $table:ident, $row:ty, |$r:ident| $each:expr) => {{
        let mut after = 0i64;
        loop {
            let rows: Vec<$row> = $table::table
                .filter($table::organization.eq($org))
                .filter($table::seq.gt(after))
                .order($table::seq.asc())
                .limit(TABLE_PAGE)
                .select(<$row>::as_select())
                .load($conn)?;
            let n = rows.len() as i64;
            for $r in rows {
                after = $r.seq;
                $each;
            }
            if n < TABLE_PAGE {
                break;
            }
        }
    }};
}

/// The derived state as the tables hold it, in the same shape: each table read in pages, a few
/// queries per 5,000 rows.
pub fn stored(conn: &mut AnyConnection, org: &str) -> Result<MemoryBooks, StoreError> {
    let mut b = MemoryBooks::default();
    each_row!(conn, org, facts, FactSeqRow, |r| {
        if !b.facts.insert(r.seq, r.info.into_info()?) {
            return Err(StoreError::Corrupt(format!(
                "{org}: a fact at seq {} is far past the facts before it",
                r.seq
            )));
        }
    });
    each_row!(conn, org, lots, LotRow, |r| {
        b.lots.insert(r.seq, r.into_lot()?.into())
    });
    each_row!(conn, org, allocations, AllocationRow, |r| {
        b.allocations.insert(r.seq, r.into_state()?)
    });
    each_row!(conn, org, disbursements, DisbursementRow, |r| {
        b.disbursements.insert(r.seq, r.into_state()?)
    });
    each_row!(conn, org, expenses, ExpenseRow, |e| {
        let key = givetrail_domain::asset::AssetKey::from_key_string(&e.asset_key)
            .ok_or_else(|| StoreError::Corrupt(format!("expense asset {}", e.asset_key)))?;
        b.expenses
            .insert(e.seq, (key, e.units, e.voided_by.is_none()))
    });
    // Campaigns by slug: a later seq (a replacement) wins, as `SqlBooks::campaign` reads it.
    each_row!(conn, org, campaigns, CampaignRow, |r| {
        let c = r.into_state()?;
        b.campaigns.insert(c.id.clone(), c)
    });
    let mut after = (0i64, 0i64);
    loop {
        let rows: Vec<DrawRow> = draws::table
            .filter(draws::organization.eq(org))
            .filter(
                draws::by_seq.gt(after.0).or(draws::by_seq
                    .eq(after.0)
                    .and(draws::donation_seq.gt(after.1))),
            )
            .order((draws::by_seq.asc(), draws::donation_seq.asc()))
            .limit(TABLE_PAGE)
            .select(DrawRow::as_select())
            .load(conn)?;
        let n = rows.len() as i64;
        for r in rows {
            after = (r.by_seq, r.donation_seq);
            b.draws.push_back(DrawState::from(r));
        }
        if n < TABLE_PAGE {
            break;
        }
    }
    Ok(normalised(b))
}

/// Differences between the derived tables and a replay of the log, and between the stored Merkle
/// subtrees and the log, in words (empty = consistent).
pub fn check(conn: &mut AnyConnection, org: &str) -> Result<Vec<String>, StoreError> {
    let want = replayed(conn, org)?;
    compare(conn, org, &want)
}

/// [`check`] against `books`, a replay of the whole stored log made by the caller (the ledger a
/// full reconciliation report reads), so the log is not replayed twice.
pub fn check_against(
    conn: &mut AnyConnection,
    org: &str,
    books: &MemoryBooks,
) -> Result<Vec<String>, StoreError> {
    compare(conn, org, &normalised(books.clone()))
}

fn compare(
    conn: &mut AnyConnection,
    org: &str,
    want: &MemoryBooks,
) -> Result<Vec<String>, StoreError> {
    let mut diffs = differences(conn, org, want)?;
    diffs.extend(check_tree(conn, org, false)?);
    Ok(diffs)
}

/// Differences between an organisation's derived tables and `books`, derived state held in
/// memory (a replay of the log, or books the rules ran on in step with the tables), in words
/// (empty = the same). Compared: facts, campaigns, lots, draws (in any order), allocations,
/// disbursements and expenses. Not compared: what is registered rather than derived from this
/// log (recipients, needs, other organisations' disbursements), the index of source
/// disbursements, and the Merkle subtrees ([`check`] covers those).
pub fn differences(
    conn: &mut AnyConnection,
    org: &str,
    books: &MemoryBooks,
) -> Result<Vec<String>, StoreError> {
    let want = books;
    let have = stored(conn, org)?;
    let mut diffs = Vec::new();
    diff_maps(&mut diffs, org, "lot", &want.lots, &have.lots);
    diff_maps(
        &mut diffs,
        org,
        "allocation",
        &want.allocations,
        &have.allocations,
    );
    diff_maps(
        &mut diffs,
        org,
        "disbursement",
        &want.disbursements,
        &have.disbursements,
    );
    diff_maps(&mut diffs, org, "expense", &want.expenses, &have.expenses);
    diff_maps(&mut diffs, org, "fact", &want.facts, &have.facts);
    diff_maps(
        &mut diffs,
        org,
        "campaign",
        &want.campaigns,
        &have.campaigns,
    );
    let want_draws = by_draw_key(&want.draws);
    if want_draws != have.draws {
        let at = want_draws
            .iter()
            .zip(&have.draws)
            .position(|(w, h)| w != h)
            .unwrap_or(want_draws.len().min(have.draws.len()));
        diffs.push(format!(
            "{org}: draws differ from position {at}: log implies {:?}, tables hold {:?} \
             ({} against {} draws)",
            want_draws.get(at),
            have.draws.get(at),
            want_draws.len(),
            have.draws.len()
        ));
    }
    Ok(diffs)
}

/// A derived table in memory, as [`diff_maps`] compares it: its rows by key, in key order.
trait Keyed<K, V: 'static> {
    fn rows(&self) -> impl Iterator<Item = (K, &V)>;
    fn row(&self, key: &K) -> Option<&V>;
}

impl<K: Ord + Clone, V: Clone + 'static> Keyed<K, V> for imbl::OrdMap<K, V> {
    fn rows(&self) -> impl Iterator<Item = (K, &V)> {
        self.iter().map(|(k, v)| (k.clone(), v))
    }
    fn row(&self, key: &K) -> Option<&V> {
        self.get(key)
    }
}

impl Keyed<Seq, FactInfo> for FactTable {
    fn rows(&self) -> impl Iterator<Item = (Seq, &FactInfo)> {
        self.iter()
    }
    fn row(&self, key: &Seq) -> Option<&FactInfo> {
        self.get(key)
    }
}

fn diff_maps<K: std::fmt::Debug, V: PartialEq + std::fmt::Debug + 'static>(
    out: &mut Vec<String>,
    org: &str,
    what: &str,
    want: &impl Keyed<K, V>,
    have: &impl Keyed<K, V>,
) {
    for (k, w) in want.rows() {
        match have.row(&k) {
            None => out.push(format!("{org}: {what} {k:?} is missing from the tables")),
            Some(h) if h != w => out.push(format!(
                "{org}: {what} {k:?}: log implies {w:?}, tables hold {h:?}"
            )),
            _ => {}
        }
    }
    for (k, _) in have.rows().filter(|(k, _)| want.row(k).is_none()) {
        out.push(format!(
            "{org}: {what} {k:?} is in the tables but not implied by the log"
        ));
    }
}

/// Migrations after which derived tables written before them must be rebuilt from the logs (a
/// new derived column is filled by replaying).
const REBUILD_AFTER: &[&str] = &["20261129000001"];

/// Run the pending migrations; when one of them adds derived state that older rows lack, rebuild
/// every organisation's derived tables from its log. Returns how many organisations were rebuilt.
pub fn migrate_and_rebuild(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    let applied = crate::db::migrate(conn)?;
    if !applied.iter().any(|v| REBUILD_AFTER.contains(&v.as_str())) {
        return Ok(0);
    }
    let orgs: Vec<String> = organizations::table
        .select(organizations::id)
        .order(organizations::id.asc())
        .load(conn)?;
    for org in &orgs {
        tracing::info!(organization = %org, "rebuilding derived tables after a migration");
        rebuild(conn, org)?;
    }
    Ok(orgs.len())
}

/// Replace an organisation's derived tables with a replay of its log, in one transaction.
pub fn rebuild(conn: &mut AnyConnection, org: &str) -> Result<(), StoreError> {
    conn.transaction::<_, StoreError, _>(|c| {
        diesel::delete(facts::table.filter(facts::organization.eq(org))).execute(c)?;
        diesel::delete(campaigns::table.filter(campaigns::organization.eq(org))).execute(c)?;
        diesel::delete(lots::table.filter(lots::organization.eq(org))).execute(c)?;
        diesel::delete(draws::table.filter(draws::organization.eq(org))).execute(c)?;
        diesel::delete(allocations::table.filter(allocations::organization.eq(org))).execute(c)?;
        diesel::delete(disbursements::table.filter(disbursements::organization.eq(org)))
            .execute(c)?;
        diesel::delete(expenses::table.filter(expenses::organization.eq(org))).execute(c)?;
        let mut facts = Vec::new();
        each_fact(c, org, |seq, at, fact| {
            facts.push((seq, at, fact));
            Ok(())
        })?;
        let mut books = SqlBooks { conn: &mut *c, org };
        for (seq, at, fact) in facts {
            replay(&mut books, seq, at, &fact).map_err(replay_err)?;
        }
        check_tree(c, org, true)?;
        Ok(())
    })
}
