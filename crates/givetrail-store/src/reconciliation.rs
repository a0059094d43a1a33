//! What the reconciliation report reads, in one consistent snapshot: the log (from the read
//! model, cut at the report's moment), the integrity checks of
//! [`crate::verify::chain::check_log_remembered`] (incremental unless a full report is asked for) and,
//! in a full report, [`crate::verify::rebuild::check`], bank lines, references on other organisations' books, complaints,
//! the needs posted for the goods this log holds or allocated (with when each was pledged and
//! delivered against), the donations linked organisations recorded of this log's disbursements,
//! and other organisations' purchases of the goods this log bought, around the dates it bought
//! them (index `lots_asset_time`).
//! The report itself is `givetrail_domain::reconciliation::reconcile`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::disclosure::{period, Directory, Ledger, Party, Policy, Record};
use givetrail_domain::entry::EntryKind;
use givetrail_domain::reconciliation::bank::BankLine;
use givetrail_domain::reconciliation::complaint::Complaint;
use givetrail_domain::reconciliation::inputs::{
    AgeingLimits, ChainBreak, CheckpointStatus, ForeignReference, Inputs, Integrity, NameDuplicate,
    NeedRecord, Period, PurchaseRecord, ReferenceKind, TransferRecord,
};
use givetrail_domain::reconciliation::sections::procurement::{purchases, PRICE_WINDOW_DAYS};

use crate::db::AnyConnection;
use crate::models::{ReceiptRow, ReferenceRow};
use crate::read::model::ReadModel;
use crate::read::{disclosure, log, needs};
use crate::registry::Recipient;
use crate::schema::*;
use crate::verify::{chain, rebuild};
use crate::{bank, complaints, from_micros, micros, registry, StoreError};

/// Most purchases of other organisations one report compares prices with.
pub const MAX_PURCHASES_COMPARED: i64 = 10_000;
/// Most donations of linked organisations recording this log's disbursements one report reads.
pub const MAX_TRANSFERS_READ: i64 = 10_000;

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
    /// Needs for the goods it holds or allocated.
    pub needs: Vec<NeedRecord>,
    /// What linked organisations recorded of its disbursements.
    pub transfers: Vec<TransferRecord>,
    /// Other organisations' purchases of the goods it bought.
    pub purchases: Vec<PurchaseRecord>,
    /// Recipients it registered or gave to that repeat an earlier recipient's name.
    pub name_duplicates: Vec<NameDuplicate>,
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
            needs: &self.needs,
            transfers: &self.transfers,
            purchases: &self.purchases,
            name_duplicates: &self.name_duplicates,
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
        let whole = match depth {
            // A full report trusts nothing an earlier read worked out: the log is replayed
            // afresh, and that one replay is both what the report reads and what the derived
            // tables are compared with (`integrity`).
            Depth::Full => Arc::new(log::replay_ledger(c, org, Party::from(o.clone()))?),
            Depth::Incremental => match model.ledger(c, org)? {
                Some(l) => l,
                None => return Ok(None),
            },
        };
        let ledger = if whole.records.last().is_some_and(|r| r.recorded_at > as_at) {
            let at = period::ledger_at(Party::from(o), &whole.records, as_at);
            Arc::new(at.map_err(StoreError::Corrupt)?)
        } else {
            whole.clone()
        };
        let directory = disclosure::directory(c, &ledger.recipient_ids())?;
        let integrity = integrity(c, model, org, public_key, depth, &whole)?;
        let (statements, lines) = bank::lines(c, org)?;
        let foreign = foreign_references(c, &ledger)?;
        let complaints = complaints::about(c, org)?;
        let needs = need_histories(c, &ledger, as_at)?;
        let transfers = transfers(c, org)?;
        let purchases = purchases_elsewhere(c, &ledger)?;
        let name_duplicates = name_duplicates(c, org, &directory, as_at)?;
        Ok(Some(Gathered {
            ledger,
            directory,
            public_fundraising_qualified: qualified,
            integrity,
            statements,
            lines,
            foreign,
            complaints,
            needs,
            transfers,
            purchases,
            name_duplicates,
            as_at,
        }))
    })
}

/// The recipients `org` registered or its log names (`directory`), registered by `as_at`, whose
/// name (stored NFC and trimmed) an earlier registration already had: two indexed reads of the
/// registry (`recipients_registered_by`, `recipients_name`).
fn name_duplicates(
    conn: &mut AnyConnection,
    org: &str,
    directory: &Directory,
    as_at: DateTime<Utc>,
) -> Result<Vec<NameDuplicate>, StoreError> {
    let until = micros(as_at);
    let mut ids: Vec<String> = directory.keys().cloned().collect();
    ids.extend(registry::recipients_registered_by(conn, org)?);
    ids.sort();
    ids.dedup();
    let mut candidates = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Recipient> = recipients::table
            .filter(recipients::id.eq_any(chunk))
            .filter(recipients::created_at.le(until))
            .select(Recipient::as_select())
            .load(conn)?;
        candidates.extend(rows);
    }
    let mut names: Vec<String> = candidates.iter().map(|r| r.name.clone()).collect();
    names.sort();
    names.dedup();
    let same_name = registry::recipients_named(conn, &names)?;
    let mut out = Vec::new();
    for r in candidates {
        let earlier: Vec<(String, DateTime<Utc>)> = same_name
            .iter()
            .filter(|e| {
                e.id != r.id
                    && givetrail_domain::text::same(&e.name, &r.name)
                    && (e.created_at, &e.id) < (r.created_at, &r.id)
            })
            .map(|e| (e.id.clone(), from_micros(e.created_at)))
            .collect();
        if earlier.is_empty() {
            continue;
        }
        let registered_at = from_micros(r.created_at);
        out.push(NameDuplicate {
            recipient: Party::from(r),
            registered_at,
            earlier,
        });
    }
    out.sort_by(|a, b| a.recipient.id.cmp(&b.recipient.id));
    Ok(out)
}

fn integrity(
    conn: &mut AnyConnection,
    model: &ReadModel,
    org: &str,
    public_key: Option<&str>,
    depth: Depth,
    whole: &Ledger,
) -> Result<Integrity, StoreError> {
    let (log, verified_before) =
        chain::check_log_remembered(conn, model, org, depth == Depth::Full)?;
    let derived_differences = match depth {
        // `whole` is then a fresh replay of the stored log (`gather`), not the read model's.
        Depth::Full => Some(rebuild::check_against(conn, org, &whole.books)?),
        Depth::Incremental => None,
    };
    // A checkpoint signed before a rotation is checked with the key of its time, when the key
    // given is the current one of a history whose rotations each verify.
    let history = crate::verify::keys::history(conn)?;
    let trusted = history.current() == public_key && history.verify().is_ok();
    Ok(Integrity {
        entries: log.entries,
        chain_break: log
            .first_bad
            .map(|(seq, reason)| ChainBreak { seq, reason }),
        checkpoint: log.checkpoint.map(|(c, recomputed_root)| CheckpointStatus {
            tree_size: c.tree_size,
            signature_valid: public_key.map(|k| {
                if trusted {
                    history.verify_checkpoint(&c).is_ok()
                } else {
                    c.verify(k).is_ok()
                }
            }),
            root_hash: c.root_hash,
            recomputed_root,
        }),
        verified_before,
        derived_differences,
    })
}

/// Other organisations' live lots and disbursements whose receipt number or reference this
/// log also carries (as a receipt number or a disbursement reference), in (organisation, seq)
/// order. It reads whichever side is smaller: other organisations' rows are read first, at most
/// as many as this log has (`Ledger`'s reference indexes say which match); if there are more,
/// this log's receipt numbers and references are looked up on other books instead (indexes
/// `lots_receipt_number`, `disbursements_reference`). So it costs the smaller of the two, never
/// both: nothing at all where the organisation is the only one.
fn foreign_references(
    conn: &mut AnyConnection,
    ledger: &Ledger,
) -> Result<Vec<ForeignReference>, StoreError> {
    let org = ledger.organization.id.as_str();
    let ours = ledger.books.lots.len() + ledger.books.disbursements.len();
    let cap = i64::try_from(ours).unwrap_or(i64::MAX - 1);
    let (receipts, references) = match others_rows(conn, org, cap)? {
        Some((receipts, references)) => {
            let carried = |r: &str| {
                !ledger.donations_with_receipt(r).is_empty()
                    || !ledger.disbursements_with_reference(r).is_empty()
            };
            (
                receipts
                    .into_iter()
                    .filter(|r| carried(&r.receipt_number))
                    .collect(),
                references
                    .into_iter()
                    .filter(|r| carried(&r.reference))
                    .collect(),
            )
        }
        None => ours_on_other_books(conn, org)?,
    };
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
    out.sort_by(|a, b| (&a.organization, a.seq).cmp(&(&b.organization, b.seq)));
    Ok(out)
}

/// Live lots and disbursements of other organisations.
type OtherBooks = (Vec<ReceiptRow>, Vec<ReferenceRow>);

/// Every live lot and disbursement of other organisations, if they are at most `cap` rows.
fn others_rows(
    conn: &mut AnyConnection,
    org: &str,
    cap: i64,
) -> Result<Option<OtherBooks>, StoreError> {
    let receipts: Vec<ReceiptRow> = lots::table
        .filter(lots::organization.lt(org).or(lots::organization.gt(org)))
        .filter(lots::voided_by.is_null())
        .select(ReceiptRow::as_select())
        .limit(cap + 1)
        .load(conn)?;
    let Some(left) = (cap + 1)
        .checked_sub(receipts.len() as i64)
        .filter(|n| *n > 1)
    else {
        return Ok(None);
    };
    let references: Vec<ReferenceRow> = disbursements::table
        .filter(
            disbursements::organization
                .lt(org)
                .or(disbursements::organization.gt(org)),
        )
        .filter(disbursements::voided_by.is_null())
        .select(ReferenceRow::as_select())
        .limit(left)
        .load(conn)?;
    if references.len() as i64 >= left {
        return Ok(None);
    }
    Ok(Some((receipts, references)))
}

/// Other organisations' live lots and disbursements carrying one of this log's receipt numbers
/// or disbursement references, looked up one by one on the indexes.
fn ours_on_other_books(conn: &mut AnyConnection, org: &str) -> Result<OtherBooks, StoreError> {
    diesel::alias!(lots as our_lots: OurLots, disbursements as our_disbursements: OurDisbursements);
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
    Ok((receipts, references))
}

/// The needs posted (by `as_at`) for any goods this log received or allocated, each with its
/// recipient's registry entry and the dates of the live allocations naming it (pledges) and of
/// the acknowledgements of their live disbursements (deliveries), by any organisation.
fn need_histories(
    conn: &mut AnyConnection,
    ledger: &Ledger,
    as_at: DateTime<Utc>,
) -> Result<Vec<NeedRecord>, StoreError> {
    // Lots in a row mostly hold the same goods: a key equal to the one before is not looked up.
    let mut goods: BTreeSet<&AssetKey> = BTreeSet::new();
    let mut last: Option<&AssetKey> = None;
    for key in ledger
        .books
        .lots
        .values()
        .map(|l| &l.asset)
        .chain(ledger.books.allocations.values().map(|a| &a.asset))
        .filter(|k| !k.is_money())
    {
        if last != Some(key) {
            goods.insert(key);
            last = Some(key);
        }
    }
    let mut keys: Vec<String> = goods.into_iter().map(AssetKey::to_key_string).collect();
    keys.sort();
    keys.dedup();
    let posted = needs::posted_for(conn, &keys, micros(as_at))?;
    if posted.is_empty() {
        return Ok(Vec::new());
    }
    let mut recipient_ids: Vec<String> = posted.iter().map(|n| n.recipient.to_string()).collect();
    recipient_ids.sort();
    recipient_ids.dedup();
    let parties = disclosure::directory(conn, &recipient_ids)?;
    let ids: Vec<String> = posted.iter().map(|n| n.id.to_string()).collect();
    let pledges: Vec<(Option<String>, i64, i64)> = allocations::table
        .inner_join(
            facts::table.on(facts::organization
                .eq(allocations::organization)
                .and(facts::seq.eq(allocations::seq))),
        )
        .filter(allocations::need.eq_any(&ids))
        .filter(allocations::voided_by.is_null())
        .select((allocations::need, facts::occurred_at, allocations::units))
        .load(conn)?;
    let deliveries: Vec<(Option<String>, i64, i64)> = facts::table
        .inner_join(
            disbursements::table.on(disbursements::organization
                .eq(facts::organization)
                .and(disbursements::seq.nullable().eq(facts::about_seq))),
        )
        .inner_join(
            allocations::table.on(allocations::organization
                .eq(disbursements::organization)
                .and(allocations::seq.eq(disbursements::allocation_seq))),
        )
        .filter(facts::kind.eq(EntryKind::AcknowledgementRecorded.as_str()))
        .filter(facts::voided_by.is_null())
        .filter(disbursements::voided_by.is_null())
        .filter(allocations::voided_by.is_null())
        .filter(allocations::need.eq_any(&ids))
        .select((allocations::need, facts::occurred_at, facts::units))
        .load(conn)?;
    type Events = BTreeMap<String, Vec<(DateTime<Utc>, i64)>>;
    let by_need = |rows: Vec<(Option<String>, i64, i64)>| -> Events {
        let mut out = Events::new();
        for (need, at, units) in rows {
            if let Some(n) = need {
                out.entry(n).or_default().push((from_micros(at), units));
            }
        }
        out
    };
    let (mut pledges, mut deliveries) = (by_need(pledges), by_need(deliveries));
    Ok(posted
        .into_iter()
        .filter_map(|n| {
            let recipient = parties.get(n.recipient.as_str())?.clone();
            let id = n.id.to_string();
            Some(NeedRecord {
                pledges: pledges.remove(&id).unwrap_or_default(),
                deliveries: deliveries.remove(&id).unwrap_or_default(),
                asset: n.asset(),
                id,
                recipient,
                units: n.units,
                urgency: n.urgency,
                posted_at: n.posted_at,
                withdrawn_at: n.withdrawn.as_ref().map(|w| w.at),
            })
        })
        .collect())
}

/// Live donations of other organisations naming a disbursement of `org` as their source
/// (index `lots_source`), as typed records read from their logs.
fn transfers(conn: &mut AnyConnection, org: &str) -> Result<Vec<TransferRecord>, StoreError> {
    let rows: Vec<(String, i64)> = lots::table
        .filter(lots::source_organization.eq(org))
        .filter(lots::organization.ne(org))
        .filter(lots::voided_by.is_null())
        .order((lots::organization.asc(), lots::seq.asc()))
        .limit(MAX_TRANSFERS_READ)
        .select((lots::organization, lots::seq))
        .load(conn)?;
    let mut out = Vec::new();
    for (receiver, records) in records_of(conn, rows)? {
        out.extend(
            records
                .iter()
                .filter_map(|r| TransferRecord::from_record(&receiver, org, r)),
        );
    }
    Ok(out)
}

/// Live purchases by other organisations of the goods this log bought, within
/// [`PRICE_WINDOW_DAYS`] of the first and last of its purchases (index `lots_asset_time`: the
/// goods lot a purchase creates lives at the purchase's seq).
fn purchases_elsewhere(
    conn: &mut AnyConnection,
    ledger: &Ledger,
) -> Result<Vec<PurchaseRecord>, StoreError> {
    let ours = purchases(ledger);
    let (Some(first), Some(last)) = (
        ours.iter().map(|p| p.occurred_at).min(),
        ours.iter().map(|p| p.occurred_at).max(),
    ) else {
        return Ok(Vec::new());
    };
    let window = Duration::days(PRICE_WINDOW_DAYS);
    let keys: BTreeSet<String> = ours.iter().map(|p| p.goods.to_key_string()).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let org = ledger.organization.id.as_str();
    let rows: Vec<(String, i64)> = lots::table
        .inner_join(
            facts::table.on(facts::organization
                .eq(lots::organization)
                .and(facts::seq.eq(lots::seq))),
        )
        .filter(lots::asset_key.eq_any(&keys))
        .filter(lots::occurred_at.ge(micros(first - window)))
        .filter(lots::occurred_at.le(micros(last + window)))
        .filter(lots::organization.ne(org))
        .filter(lots::voided_by.is_null())
        .filter(facts::kind.eq(EntryKind::ProcurementMade.as_str()))
        .order((lots::organization.asc(), lots::seq.asc()))
        .limit(MAX_PURCHASES_COMPARED)
        .select((lots::organization, lots::seq))
        .load(conn)?;
    let mut out = Vec::new();
    for (buyer, records) in records_of(conn, rows)? {
        out.extend(
            records
                .iter()
                .filter_map(|r| PurchaseRecord::from_record(&buyer, r)),
        );
    }
    Ok(out)
}

/// The entries at these (organisation, seq) pairs, typed, grouped by organisation.
fn records_of(
    conn: &mut AnyConnection,
    at: Vec<(String, i64)>,
) -> Result<BTreeMap<String, Vec<Record>>, StoreError> {
    let mut seqs: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (o, s) in at {
        seqs.entry(o).or_default().push(s);
    }
    let mut out = BTreeMap::new();
    for (o, seqs) in seqs {
        let mut records = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(500) {
            for e in log::entries_at(conn, &o, chunk)? {
                records.push(Record::from_entry(&e).map_err(StoreError::Corrupt)?);
            }
        }
        out.insert(o, records);
    }
    Ok(out)
}
