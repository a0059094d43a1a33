//! `SqlBooks` must behave as `MemoryBooks` does: the ledger rules (`ledger::execute`) decide on
//! whichever `Books` they are given, so two implementations that answer a read differently, or
//! apply a change differently, would make the same log mean two things.
//!
//! The domain's property test (crates/givetrail-domain/tests/ledger_properties) generates random
//! histories and checks them against `MemoryBooks` only. Here the same generator drives a [`Tee`]:
//! a `MemoryBooks` and a `SqlBooks` (SQLite, and PostgreSQL when `GIVETRAIL_TEST_POSTGRES` names a
//! server such as `postgres://postgres@127.0.0.1:5432`) side by side. Every read the rules make is
//! asked of both and the answers must be equal; every change is applied to both. A refused command
//! is rolled back in both (the memory books restored, the SQL savepoint rolled back). After every
//! step:
//!
//! - the decision is the one the domain's `World` harness takes, run in lock-step on its own
//!   `MemoryBooks` (its oracle and checks run too: the generated ops are resolved against it);
//! - the tee's `MemoryBooks` equal the `World`'s;
//! - every derived table holds what the `MemoryBooks` hold (`verify::rebuild::differences`);
//! - every read of the `Books` trait, over every seq and every name the world knows, answers the
//!   same on both.
//!
//! The writer does not hand the rules `SqlBooks` itself but `GroupBooks` (a commit group's changes
//! kept in memory and written when a read needs them): the `Grouped` tests run the same property
//! through it (see [`Mode`]).
//!
//! Each test makes a fresh database and migrates it once; each case runs on its own connection in
//! a transaction that is never committed, so every case starts from an empty ledger.
//!
//! Cases: 64 on SQLite, 16 on PostgreSQL, for each mode; `PROPTEST_CASES=N` sets all.

// The imports of crates/givetrail-domain/tests/ledger_properties/main.rs (the shared modules
// below `use super::*` them; keep the two lists in step), and this test's own.
use std::collections::BTreeMap;
use std::convert::Infallible;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use givetrail_domain::asset::{parse_units, AssetKey, AssetWire, Currency, GoodsKind};
use givetrail_domain::entry::{
    AcknowledgementRequest, AllocationBody, AllocationRequest, Author, CampaignRequest, Command,
    CorrectionRequest, DesignationChange, DisbursementChannel, DisbursementRequest,
    DonationChannel, DonationRequest, DonorKind, DonorRequest, Draw, EntryKind, EntryRef,
    ExpenseRequest, Fact, ProcurementBody, ProcurementRequest, RestrictionWire, Role, Seq,
    SourceDisbursement, Supplier, UsageRequest,
};
use givetrail_domain::error::RuleError;
use givetrail_domain::ids::{RegionCode, Slug};
use givetrail_domain::ledger::{
    designation_breach, execute, replay, AllocationState, Books, CampaignState, Change, Context,
    Decision, Dependant, DisbursementState, DrawState, FactInfo, ForeignDisbursement, Lot,
    MemoryBooks, NeedState, OrgContext, RecipientInfo, Rejection,
};
use givetrail_store::books::SqlBooks;
use givetrail_store::db::{establish, migrate};
use givetrail_store::registry::{insert_organization, insert_recipient, Organization, Recipient};
use givetrail_store::verify::rebuild::differences;
use givetrail_store::write::pending::{GroupBooks, Pending};
use givetrail_store::{AnyConnection, Backend};

// The domain's generator and `World` harness, shared as they are (their `use super::*` finds the
// imports above).
#[allow(dead_code)]
#[path = "../../givetrail-domain/tests/ledger_properties/history.rs"]
mod history;
#[allow(dead_code)]
#[path = "../../givetrail-domain/tests/ledger_properties/invariants.rs"]
mod invariants;
#[allow(dead_code)]
#[path = "../../givetrail-domain/tests/ledger_properties/oracle.rs"]
mod oracle;
#[allow(dead_code)]
#[path = "../../givetrail-domain/tests/ledger_properties/strategies.rs"]
mod strategies;
#[allow(dead_code)]
#[path = "../../givetrail-domain/tests/ledger_properties/world.rs"]
mod world;

use history::*;
use invariants::*;
use oracle::*;
use strategies::*;
use world::*;

// ---------------------------------------------------------------------------------------------
// The tee

/// Both implementations of `Books`: reads are asked of both and must agree; changes go to both.
/// A database error is a failure of the test (`MemoryBooks` cannot fail), so the error type is the
/// one `MemoryBooks` has.
struct Tee<'a, S> {
    memory: &'a mut MemoryBooks,
    sql: S,
    /// Where in the history the tee is, for failure messages.
    at: &'a str,
}

impl<S> Tee<'_, S> {
    fn sql_ok<T>(&self, what: &str, r: Result<T, givetrail_store::StoreError>) -> T {
        r.unwrap_or_else(|e| panic!("SqlBooks::{what} failed {}: {e}", self.at))
    }

    /// Ask both; they must answer the same.
    fn same<T: PartialEq + std::fmt::Debug>(&self, what: &str, memory: T, sql: T) -> T {
        assert!(
            memory == sql,
            "Books::{what} disagree {}:\n  MemoryBooks: {memory:?}\n  SqlBooks:    {sql:?}",
            self.at
        );
        memory
    }
}

macro_rules! both {
    ($tee:expr, $method:ident ( $($arg:expr),* ), $what:expr) => {{
        let what = $what;
        let Ok(m) = $tee.memory.$method($($arg),*);
        let s = $tee.sql.$method($($arg),*);
        let s = $tee.sql_ok(&what, s);
        Ok($tee.same(&what, m, s))
    }};
}

impl<S: Books<Error = givetrail_store::StoreError>> Books for Tee<'_, S> {
    type Error = Infallible;

    fn campaign(&mut self, id: &Slug) -> Result<Option<CampaignState>, Infallible> {
        both!(self, campaign(id), format!("campaign({id})"))
    }
    fn lot(&mut self, seq: Seq) -> Result<Option<Lot>, Infallible> {
        both!(self, lot(seq), format!("lot({seq})"))
    }
    fn receipt_in_use(&mut self, receipt_number: &str) -> Result<bool, Infallible> {
        both!(
            self,
            receipt_in_use(receipt_number),
            format!("receipt_in_use({receipt_number:?})")
        )
    }
    /// The contract lets the database stop early: oldest first, enough to cover `units` when the
    /// pool holds that much. So SQL must give a prefix of the memory answer (all of it unless the
    /// prefix covers `units`); the rules are handed SQL's answer.
    fn pool_lots(&mut self, asset: &AssetKey, units: i64) -> Result<Vec<Lot>, Infallible> {
        let what = format!("pool_lots({}, {units})", asset.to_key_string());
        let Ok(m) = self.memory.pool_lots(asset, units);
        let s = self.sql.pool_lots(asset, units);
        let s = self.sql_ok(&what, s);
        let covered: i64 = s.iter().map(Lot::remaining).sum();
        assert!(
            s.len() <= m.len() && m[..s.len()] == s[..] && (s.len() == m.len() || covered >= units),
            "Books::{what} disagree {} (SQL must give the memory answer or a prefix covering \
             {units}):\n  MemoryBooks: {m:?}\n  SqlBooks:    {s:?}",
            self.at
        );
        Ok(s)
    }
    fn allocation(&mut self, seq: Seq) -> Result<Option<AllocationState>, Infallible> {
        both!(self, allocation(seq), format!("allocation({seq})"))
    }
    fn disbursement(&mut self, seq: Seq) -> Result<Option<DisbursementState>, Infallible> {
        both!(self, disbursement(seq), format!("disbursement({seq})"))
    }
    fn recipient(&mut self, id: &Slug) -> Result<Option<RecipientInfo>, Infallible> {
        both!(self, recipient(id), format!("recipient({id})"))
    }
    fn fact(&mut self, seq: Seq) -> Result<Option<FactInfo>, Infallible> {
        both!(self, fact(seq), format!("fact({seq})"))
    }
    /// In no particular order: compared as sets.
    fn draws_by(&mut self, seq: Seq) -> Result<Vec<DrawState>, Infallible> {
        let what = format!("draws_by({seq})");
        let Ok(m) = self.memory.draws_by(seq);
        let s = self.sql.draws_by(seq);
        let s = self.sql_ok(&what, s);
        let sorted = |mut v: Vec<DrawState>| {
            v.sort_by_key(|d| (d.donation, d.units, d.expense));
            v
        };
        self.same(&what, sorted(m.clone()), sorted(s));
        Ok(m)
    }
    fn dependants(&mut self, seq: Seq, limit: usize) -> Result<Vec<Dependant>, Infallible> {
        both!(
            self,
            dependants(seq, limit),
            format!("dependants({seq}, {limit})")
        )
    }
    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, Infallible> {
        both!(
            self,
            foreign_disbursement(source),
            format!("foreign_disbursement({source:?})")
        )
    }
    fn source_recorded_units(&mut self, source: &SourceDisbursement) -> Result<i64, Infallible> {
        both!(
            self,
            source_recorded_units(source),
            format!("source_recorded_units({source:?})")
        )
    }
    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, Infallible> {
        both!(self, need(id), format!("need({id})"))
    }
    fn apply(&mut self, change: Change) -> Result<(), Infallible> {
        let what = format!("apply({change:?})");
        let Ok(()) = self.memory.apply(change.clone());
        let r = self.sql.apply(change);
        self.sql_ok(&what, r);
        Ok(())
    }
}

/// Every read of the trait, over every seq the world has used (and the next, and 0), every
/// campaign, receipt, asset and recipient it knows: each asks both and checks they agree.
fn probe<S: Books<Error = givetrail_store::StoreError>>(tee: &mut Tee<'_, S>, next_seq: Seq) {
    let seqs = 0..=next_seq;
    for seq in seqs.clone() {
        let _ = tee.fact(seq);
        let _ = tee.lot(seq);
        let _ = tee.allocation(seq);
        let _ = tee.disbursement(seq);
        let _ = tee.draws_by(seq);
        // Only of live facts, as the rules ask (a voided fact is refused before its dependants
        // are counted). Of a voided campaign whose replacement kept its slug the two differ:
        // MemoryBooks keeps one campaign per slug and finds none at the old seq (0), SqlBooks
        // counts the live donations naming the slug.
        if tee.memory.facts.get(&seq).is_some_and(|f| f.live) {
            let _ = tee.dependants(seq, usize::MAX);
            let _ = tee.dependants(seq, 1);
        }
    }
    for id in CAMPAIGNS.iter().chain(&["no-such-campaign"]) {
        let _ = tee.campaign(&slug(id));
    }
    let receipts: Vec<String> = tee
        .memory
        .lots
        .values()
        .map(|l| l.receipt_number.clone())
        .chain(["HBRC-NEVER".to_owned()])
        .collect();
    for receipt in &receipts {
        let _ = tee.receipt_in_use(receipt);
    }
    for i in 0..4 {
        let key = asset_key(i);
        let total = pool_total(tee.memory, &key);
        for units in [1, total / 2, total, total + 1, i64::MAX] {
            let _ = tee.pool_lots(&key, units);
        }
    }
    for (id, _) in RECIPIENTS.iter().chain(&[(GHOST, "")]) {
        let _ = tee.recipient(&slug(id));
        let _ = tee.need(&slug(id));
    }
    for seq in seqs {
        let source = SourceDisbursement {
            organization: slug("another-charity"),
            disbursement: seq,
        };
        let _ = tee.foreign_disbursement(&source);
        let _ = tee.source_recorded_units(&source);
    }
}

// ---------------------------------------------------------------------------------------------
// Databases

/// A fresh, migrated database for one test, removed when dropped.
struct Db {
    backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresDatabase { server: String, name: String },
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), rand::random::<u32>())
}

impl Db {
    fn sqlite() -> Db {
        let path = std::env::temp_dir().join(format!("{}.db", unique("givetrail-books-parity")));
        let db = Db {
            backend: Backend::Sqlite(path.to_string_lossy().into_owned()),
            cleanup: Cleanup::SqliteFile(path),
        };
        db.migrate();
        db
    }

    /// A fresh database on the server named by `GIVETRAIL_TEST_POSTGRES`, if it is set.
    fn postgres() -> Option<Db> {
        let server = std::env::var("GIVETRAIL_TEST_POSTGRES")
            .ok()
            .filter(|s| !s.is_empty())?;
        let server = server.trim_end_matches('/').to_owned();
        let name = unique("givetrail_books_parity");
        let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres"))
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {server} is required (GIVETRAIL_TEST_POSTGRES is set): {e}")
            });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the test database");
        let db = Db {
            backend: Backend::Postgres(format!("{server}/{name}")),
            cleanup: Cleanup::PostgresDatabase { server, name },
        };
        db.migrate();
        Some(db)
    }

    fn migrate(&self) {
        let mut conn = self.connect();
        migrate(&mut conn).expect("migrate the test database");
    }

    fn connect(&self) -> AnyConnection {
        establish(&self.backend).expect("connect to the test database")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::PostgresDatabase { server, name } => {
                if let Ok(mut admin) =
                    diesel::PgConnection::establish(&format!("{server}/postgres"))
                {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin);
                }
            }
        }
    }
}

/// The world's organisation and recipients, registered as the store registers them.
fn register(conn: &mut AnyConnection, w: &World) {
    insert_organization(
        conn,
        &Organization {
            id: w.org.id.as_str().to_owned(),
            name: "Hubei Red Cross".into(),
            credit_code: "53420000MJ0000001".into(),
            kind: "charity".into(),
            region_code: w.org.region_code.as_str().to_owned(),
            public_fundraising_qualified: w.org.public_fundraising_qualified,
            created_at: 0,
        },
    )
    .expect("register the organisation");
    for info in w.books.recipients.values() {
        insert_recipient(
            conn,
            &Recipient {
                id: info.id.as_str().to_owned(),
                name: info.id.as_str().to_owned(),
                credit_code: None,
                kind: "hospital".into(),
                region_code: info.region_code.as_str().to_owned(),
                organization: info.organization.as_ref().map(|o| o.as_str().to_owned()),
                created_at: 0,
                ownership: None,
                designated_hospital: false,
                registered_by_role: None,
                registered_by: None,
                confirmed_by: None,
                confirmed_at: None,
            },
        )
        .expect("register a recipient");
    }
    assert!(
        w.books.foreign.is_empty() && w.books.needs.is_empty(),
        "the world now has other organisations' disbursements or needs: register them in SQL too"
    );
}

// ---------------------------------------------------------------------------------------------
// The property

/// Why a step's savepoint is rolled back.
enum Abort {
    Refused(Refusal),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Db(e)
    }
}

/// How the SQL side runs the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `SqlBooks`, each step in its own savepoint (as `rebuild` applies a log).
    Direct,
    /// `GroupBooks`, as the writer runs a commit group: changes kept in `Pending` across steps
    /// and written when a read needs them. A single command other than a correction runs with
    /// no savepoint and a refusal is taken back with `Pending::rollback` (which fails if a flush
    /// wrote any of the refused command's rows); a correction runs in its own savepoint after a
    /// flush. Every step's probe reads through `GroupBooks` (so each read must write what it
    /// depends on first); the derived tables are compared every third step, after a flush.
    Grouped,
}

/// The rules on `books` for one step, with the world's salts.
fn decide<B: Books>(
    books: &mut B,
    w: &World,
    step: &Step,
    seq: Seq,
    salts: &mut u64,
) -> Result<Decision, Rejection<B::Error>> {
    let mut salt = || {
        *salts += 1;
        format!("{salts:032x}")
    };
    let mut ctx = Context {
        org: &w.org,
        author: &step.author,
        now: w.now,
        salt: &mut salt,
        replacing: None,
    };
    execute(books, &mut ctx, seq, &step.cmd)
}

/// Run one generated history through the tee and the `World` in lock-step, checking after
/// every step.
fn run_case(db: &Db, ops: &[Op], mode: Mode) {
    let mut conn = db.connect();
    // Never committed: dropping the connection (at the end, or while unwinding) rolls it back.
    conn.begin_test_transaction()
        .expect("begin the case's transaction");
    let mut w = World::new();
    register(&mut conn, &w);
    let mut memory = w.books.clone();
    let mut salts = w.salts;
    let mut pending = Pending::new();
    for (i, op) in ops.iter().enumerate() {
        let step = w.resolve(op);
        let seq = w.next_seq;
        let before = memory.clone();
        let here = format!(
            "step {i} (seq {seq}): {:?}\n  by {:?}",
            step.cmd, step.author
        );
        let during = format!("while executing {here}\n ");
        let outcome = match mode {
            Mode::Direct => conn.transaction::<Decision, Abort, _>(|c| {
                let mut tee = Tee {
                    memory: &mut memory,
                    sql: SqlBooks { conn: c, org: ORG },
                    at: &during,
                };
                decide(&mut tee, &w, &step, seq, &mut salts).map_err(Abort::Refused)
            }),
            Mode::Grouped if !matches!(step.cmd, Command::Correction(_)) => {
                let mark = pending.mark(false);
                let mut tee = Tee {
                    memory: &mut memory,
                    sql: GroupBooks {
                        conn: &mut conn,
                        org: ORG,
                        pending: &mut pending,
                    },
                    at: &during,
                };
                let r = decide(&mut tee, &w, &step, seq, &mut salts);
                match r {
                    Ok(d) => {
                        pending.keep();
                        Ok(d)
                    }
                    Err(e) => {
                        pending.rollback(mark).unwrap_or_else(|e| {
                            panic!("a refused command could not be taken back at {here}: {e}")
                        });
                        Err(Abort::Refused(e))
                    }
                }
            }
            Mode::Grouped => {
                pending.flush(&mut conn).expect("write what the group kept");
                let mark = pending.mark(true);
                let r = conn.transaction::<Decision, Abort, _>(|c| {
                    let mut tee = Tee {
                        memory: &mut memory,
                        sql: GroupBooks {
                            conn: c,
                            org: ORG,
                            pending: &mut pending,
                        },
                        at: &during,
                    };
                    decide(&mut tee, &w, &step, seq, &mut salts).map_err(Abort::Refused)
                });
                if r.is_err() {
                    pending
                        .rollback(mark)
                        .expect("take back a correction kept in a savepoint");
                }
                r
            }
        };
        let decided = match outcome {
            Ok(decision) => Ok(decision),
            Err(Abort::Refused(e)) => {
                memory = before;
                Err(e)
            }
            Err(Abort::Db(e)) => panic!("savepoint failed at {here}: {e}"),
        };
        w.step(&step);
        let accepted = w.next_seq == seq + 1;
        match (&decided, accepted) {
            (Ok(d), true) => assert_eq!(
                Some(&d.fact),
                w.log.last().map(|(_, _, f)| f),
                "the tee and the World decided differently at {here}"
            ),
            (Err(_), false) => {}
            (Ok(_), false) => panic!("the tee accepted what the World refused at {here}"),
            (Err(e), true) => panic!("the tee refused ({e:?}) what the World accepted at {here}"),
        }
        assert_eq!(salts, w.salts, "salts drawn differ at {here}");
        assert!(
            memory == w.books,
            "the tee's MemoryBooks differ from the World's after {here}"
        );
        let at = format!("in the probe of every read after step {i} (seq {seq})");
        let compare = match mode {
            Mode::Direct => {
                let mut tee = Tee {
                    memory: &mut memory,
                    sql: SqlBooks {
                        conn: &mut conn,
                        org: ORG,
                    },
                    at: &at,
                };
                probe(&mut tee, w.next_seq);
                true
            }
            Mode::Grouped => {
                let mut tee = Tee {
                    memory: &mut memory,
                    sql: GroupBooks {
                        conn: &mut conn,
                        org: ORG,
                        pending: &mut pending,
                    },
                    at: &at,
                };
                probe(&mut tee, w.next_seq);
                let compare = i % 3 == 2 || i + 1 == ops.len();
                if compare {
                    pending.flush(&mut conn).expect("write what the group kept");
                }
                compare
            }
        };
        if compare {
            let diffs = differences(&mut conn, ORG, &memory).expect("read the derived tables");
            assert!(
                diffs.is_empty(),
                "SQL derived tables differ from MemoryBooks after {here}\n \
                 (\"log implies\" = MemoryBooks, \"tables hold\" = SqlBooks):\n  {}",
                diffs.join("\n  ")
            );
        }
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn run_property(db: &Db, cases: u32, mode: Mode) {
    let config = ProptestConfig {
        cases,
        // A failure found here belongs in an example test; no regression file is written.
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&history(), |ops| {
        run_case(db, &ops, mode);
        Ok(())
    }) {
        panic!("{e}");
    }
}

#[test]
fn sqlite_books_match_memory_books_over_random_histories() {
    run_property(&Db::sqlite(), cases(64), Mode::Direct);
}

#[test]
fn sqlite_group_books_match_memory_books_over_random_histories() {
    run_property(&Db::sqlite(), cases(64), Mode::Grouped);
}

#[test]
fn postgres_group_books_match_memory_books_over_random_histories() {
    let Some(db) = Db::postgres() else {
        eprintln!("GIVETRAIL_TEST_POSTGRES is not set: PostgreSQL not checked");
        return;
    };
    run_property(&db, cases(16), Mode::Grouped);
}

#[test]
fn postgres_books_match_memory_books_over_random_histories() {
    let Some(db) = Db::postgres() else {
        eprintln!("GIVETRAIL_TEST_POSTGRES is not set: PostgreSQL not checked");
        return;
    };
    run_property(&db, cases(16), Mode::Direct);
}
