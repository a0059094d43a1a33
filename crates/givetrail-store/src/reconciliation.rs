//! What the reconciliation report reads, in one consistent snapshot: the log (from the read
//! model, cut at the report's moment), the integrity checks of
//! [`crate::verify::chain::check_log_remembered`] (incremental unless a full report is asked for) and,
//! in a full report, [`crate::verify::rebuild::check`], bank lines, references on other organisations' books, complaints.
//! The report itself is `givetrail_domain::reconciliation::reconcile`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use givetrail_domain::disclosure::{Directory, Ledger, Party, Policy};
use givetrail_domain::reconciliation::bank::BankLine;
use givetrail_domain::reconciliation::complaint::Complaint;
use givetrail_domain::reconciliation::inputs::{
    records_as_at, AgeingLimits, ChainBreak, CheckpointStatus, ForeignReference, Inputs, Integrity,
    Period, ReferenceKind,
};

use crate::db::AnyConnection;
use crate::models::{ReceiptRow, ReferenceRow};
use crate::read::disclosure;
use crate::read::model::ReadModel;
use crate::schema::*;
use crate::verify::{chain, rebuild};
use crate::{bank, complaints, registry, StoreError};

/// Everything the report is computed from, read from the store.
#[derive(Debug, Clone)]
pub struct Gathered {
    /// The log as at the report's moment, replayed.
    pub ledger: Arc<Ledger>,
    /// Recipients the log names.
    pub directory: Directory,
    /// Whether the organisation is qualified for public fundraising.
    pub public_fundraising_qualified: bool,
    /// Integrity checks of the whole log.
    pub integrity: Integrity,
    /// Statements uploaded.
    pub statements: usize,
    /// Their lines.
    pub lines: Vec<BankLine>,
    /// Its references found on other organisations' books.
    pub foreign: Vec<ForeignReference>,
    /// Complaints about it.
    pub complaints: Vec<Complaint>,
    /// The moment the report describes.
    pub as_at: DateTime<Utc>,
}

impl Gathered {
    /// The report's inputs, measured against `policy` and `limits`, for `period`.
    pub fn inputs<'a>(
        &'a self,
        policy: &'a Policy,
        limits: AgeingLimits,
        period: Period,
        generated_at: DateTime<Utc>,
    ) -> Inputs<'a> {
        Inputs {
            ledger: &self.ledger,
            directory: &self.directory,
            policy,
            limits,
            public_fundraising_qualified: self.public_fundraising_qualified,
            integrity: &self.integrity,
            bank_statements: self.statements,
            bank_lines: &self.lines,
            foreign: &self.foreign,
            complaints: &self.complaints,
            period,
            as_at: self.as_at,
            generated_at,
        }
    }
}

/// How much of the integrity work a report redoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Recompute only the entries appended since the last clean check `model` remembers, and do
    /// not compare the derived tables with a replay.
    Incremental,
    /// Recompute every entry and compare the derived tables with a replay of the whole log.
    Full,
}

/// Read what the report on `org` needs, as at `as_at`; `None` if the organisation is not
/// registered. `public_key` (hex) checks the latest checkpoint's signature; without it the report
/// says the signature was not checked. The log comes from `model`, which also remembers what
/// earlier checks verified.
pub fn gather(
    conn: &mut AnyConnection,
    model: &ReadModel,
    org: &str,
    public_key: Option<&str>,
    as_at: DateTime<Utc>,
    depth: Depth,
) -> Result<Option<Gathered>, StoreError> {
    conn.transaction::<_, StoreError, _>(|c| {
        // One snapshot for every read below (SQLite read transactions already are one).
        if let AnyConnection::Postgresql(pg) = c {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(pg)?;
        }
        let Some(o) = registry::organization(c, org)? else {
            return Ok(None);
        };
        let qualified = o.public_fundraising_qualified;
        let Some(whole) = model.ledger(c, org)? else {
            return Ok(None);
        };
        let ledger = if whole.records.last().is_some_and(|r| r.recorded_at > as_at) {
            let records = records_as_at(whole.records.clone(), as_at);
            Arc::new(Ledger::new(Party::from(o), records).map_err(StoreError::Corrupt)?)
        } else {
            whole.clone()
        };
        let directory = disclosure::directory(c, &ledger.recipient_ids())?;
        let integrity = integrity(c, model, org, public_key, depth)?;
        let (statements, lines) = bank::lines(c, org)?;
        let foreign = foreign_references(c, &ledger)?;
        let complaints = complaints::about(c, org)?;
        Ok(Some(Gathered {
            ledger,
            directory,
            public_fundraising_qualified: qualified,
            integrity,
            statements,
            lines,
            foreign,
            complaints,
            as_at,
        }))
    })
}

fn integrity(
    conn: &mut AnyConnection,
    model: &ReadModel,
    org: &str,
    public_key: Option<&str>,
    depth: Depth,
) -> Result<Integrity, StoreError> {
    let (log, verified_before) =
        chain::check_log_remembered(conn, model, org, depth == Depth::Full)?;
    let derived_differences = match depth {
        // A fresh replay of the stored log, not the read model's: a full report trusts nothing
        // an earlier read worked out.
        Depth::Full => Some(rebuild::check(conn, org)?),
        Depth::Incremental => None,
    };
    Ok(Integrity {
        entries: log.entries,
        chain_break: log
            .first_bad
            .map(|(seq, reason)| ChainBreak { seq, reason }),
        checkpoint: log.checkpoint.map(|(c, recomputed_root)| CheckpointStatus {
            tree_size: c.tree_size,
            signature_valid: public_key.map(|k| c.verify(k).is_ok()),
            root_hash: c.root_hash,
            recomputed_root,
        }),
        verified_before,
        derived_differences,
    })
}

/// Live donations and disbursements of other organisations whose receipt number or reference
/// equals a receipt number or disbursement reference of this log: two set queries, so the
/// database matches the references rather than this process sending them in chunks. Every
/// donation and disbursement this log ever recorded counts (a superset of what the ledger as at
/// the report's moment holds; the report only flags references it finds in that ledger).
fn foreign_references(
    conn: &mut AnyConnection,
    ledger: &Ledger,
) -> Result<Vec<ForeignReference>, StoreError> {
    diesel::alias!(lots as our_lots: OurLots, disbursements as our_disbursements: OurDisbursements);
    let org = ledger.organization.id.as_str();
    let our_receipts = our_lots
        .filter(our_lots.field(lots::organization).eq(org))
        .select(our_lots.field(lots::receipt_number));
    let our_references = our_disbursements
        .filter(our_disbursements.field(disbursements::organization).eq(org))
        .select(our_disbursements.field(disbursements::reference));
    let receipts: Vec<ReceiptRow> = lots::table
        .filter(lots::organization.ne(org))
        .filter(lots::voided_by.is_null())
        .filter(
            lots::receipt_number
                .eq_any(our_receipts)
                .or(lots::receipt_number.eq_any(our_references)),
        )
        .select(ReceiptRow::as_select())
        .load(conn)?;
    let references: Vec<ReferenceRow> = disbursements::table
        .filter(disbursements::organization.ne(org))
        .filter(disbursements::voided_by.is_null())
        .filter(
            disbursements::reference
                .eq_any(our_receipts)
                .or(disbursements::reference.eq_any(our_references)),
        )
        .select(ReferenceRow::as_select())
        .load(conn)?;
    let mut out: Vec<ForeignReference> = receipts
        .into_iter()
        .map(|r| ForeignReference {
            reference: r.receipt_number,
            organization: r.organization,
            seq: r.seq,
            kind: ReferenceKind::ReceiptNumber,
            source: r.source_organization.zip(r.source_seq),
        })
        .collect();
    out.extend(references.into_iter().map(|r| ForeignReference {
        reference: r.reference,
        organization: r.organization,
        seq: r.seq,
        kind: ReferenceKind::DisbursementReference,
        source: None,
    }));
    Ok(out)
}
