//! Public disclosure: reports and exports computed from an organisation's public log.
//!
//! Everything here is a pure function of what anyone can download and verify: the entries of
//! `GET /organizations/{org}/entries` (read back as [`Record`]s) and the public registry
//! ([`Party`]). A [`Ledger`] replays one log with the ledger's own [`replay`] into
//! [`MemoryBooks`], so reports see exactly the balances the write rules see, and keeps the public
//! bodies beside them for the words (purposes, references, notes).
//!
//! - [`flows`]: which donation every disbursed, acknowledged and used unit came from
//!   (oldest-first within an allocation).
//! - [`summary`]: organisation, campaign and recipient summaries per asset.
//! - [`ageing`]: how long what is still unallocated or undisbursed has waited (the summaries'
//!   `ageing`, and what the reconciliation's ageing findings measure).
//! - [`period`]: the summary of a period that a periodic disclosure hashes.
//! - [`received`]: what each recipient received from a log, kept by [`Ledger::extend`].
//! - [`trail`]: "where did my donation go", across logs.
//! - [`timeliness`]: disclosure delays, deadlines and receipt-to-disbursement times.
//! - [`table`] (feeds and reports as tables, written as CSV or, by [`xlsx`], as Excel
//!   workbooks), [`iati`], [`giving360`]: spreadsheet and standard exports.

pub mod ageing;
pub mod flows;
pub mod giving360;
pub mod iati;
pub mod period;
pub mod received;
pub mod summary;
pub mod table;
#[cfg(test)]
pub(crate) mod test_log;
pub mod timeliness;
pub mod trail;
pub mod xlsx;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::asset::{AssetKey, AssetWire};
use crate::canonical::HexDigest;
use crate::entry::{EntryKind, Fact, Seq};
use crate::ids::{parse_region_prefix, region_has_prefix};
use crate::ledger::{replay, MemoryBooks};
use crate::privacy::mask_person_name;

/// Priority regions when none are configured: Hubei (`42`).
pub const DEFAULT_PRIORITY_REGIONS: [&str; 1] = ["42"];
/// Disclosure deadline of an emergency campaign when none is configured: 24 hours.
pub const DEFAULT_EMERGENCY_DEADLINE_HOURS: i64 = 24;
/// Disclosure deadline of any other entry when none is configured: 90 days.
pub const DEFAULT_STANDARD_DEADLINE_HOURS: i64 = 90 * 24;

/// What disclosure reports are measured against: priority regions and disclosure deadlines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Region-code prefixes whose share of undesignated assets is reported (`["42"]`).
    pub priority_regions: Vec<String>,
    /// Longest acceptable `recorded_at − occurred_at` for entries of an emergency campaign.
    pub emergency_deadline: Duration,
    /// Longest acceptable `recorded_at − occurred_at` for every other entry.
    pub standard_deadline: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            priority_regions: DEFAULT_PRIORITY_REGIONS.map(String::from).to_vec(),
            emergency_deadline: Duration::hours(DEFAULT_EMERGENCY_DEADLINE_HOURS),
            standard_deadline: Duration::hours(DEFAULT_STANDARD_DEADLINE_HOURS),
        }
    }
}

impl Policy {
    /// Parse a comma-separated list of region prefixes (`42,11`); each 1 to 6 digits.
    pub fn parse_regions(text: &str) -> Result<Vec<String>, String> {
        let regions = text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| parse_region_prefix(p).map_err(|e| format!("'{p}' {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if regions.is_empty() {
            return Err("name at least one region prefix, such as 42".into());
        }
        Ok(regions)
    }

    /// Whether a region code lies in a priority region.
    pub fn is_priority(&self, region_code: &str) -> bool {
        self.priority_regions
            .iter()
            .any(|p| region_has_prefix(region_code, p))
    }

    /// The disclosure deadline of an entry of an emergency (or other) campaign.
    pub fn deadline(&self, emergency: bool) -> Duration {
        if emergency {
            self.emergency_deadline
        } else {
            self.standard_deadline
        }
    }
}

/// One entry of a public log, typed: what `GET /organizations/{org}/entries` serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Position in the log.
    pub seq: Seq,
    /// Entry kind.
    pub kind: EntryKind,
    /// When it happened (client's statement).
    pub occurred_at: DateTime<Utc>,
    /// When it became public (server clock).
    pub recorded_at: DateTime<Utc>,
    /// The public body.
    pub fact: Fact,
    /// `entry_hash` (written as lowercase hex).
    pub entry_hash: HexDigest,
    /// Who wrote it, kept for corrections only (a correction notice names its author; other
    /// entries' authors follow from their kind).
    pub author: Option<Box<crate::entry::Author>>,
}

/// An entry's `field` (RFC 3339) as a time.
fn entry_time(seq: Seq, field: &str, text: Option<&str>) -> Result<DateTime<Utc>, String> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("entry {seq}: bad {field}"))
}

/// An entry's `entry_hash` (as stored or served) as a digest.
pub fn stored_hash(seq: Seq, text: Option<&str>) -> Result<HexDigest, String> {
    text.and_then(HexDigest::parse)
        .ok_or_else(|| format!("entry {seq}: bad entry_hash"))
}

/// The parts of a stored canonical form a [`Record`] keeps, the body left as text to be typed
/// by its kind.
#[derive(Deserialize)]
struct Stored<'a> {
    seq: Seq,
    kind: String,
    occurred_at: String,
    recorded_at: String,
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
    #[serde(default)]
    author: Option<crate::entry::Author>,
}

impl Record {
    /// Read an entry's stored canonical form (with its `entry_hash`, kept beside it) straight
    /// into a record: the body is typed from its text, never held as a `serde_json::Value`.
    /// The same record as [`Record::from_entry`] of the served object.
    pub fn from_canonical(canonical: &str, entry_hash: HexDigest) -> Result<Record, String> {
        let e: Stored<'_> = serde_json::from_str(canonical).map_err(|e| format!("entry: {e}"))?;
        let seq = e.seq;
        let kind = EntryKind::parse(&e.kind).ok_or_else(|| format!("entry {seq}: unknown kind"))?;
        let time = |field: &str, t: &str| entry_time(seq, field, Some(t));
        let fact = Fact::from_body_text(kind, e.body.get())
            .map_err(|x| format!("entry {seq}: body: {x}"))?;
        let author = match kind {
            EntryKind::EntryCorrected => Some(Box::new(
                e.author
                    .ok_or_else(|| format!("entry {seq}: author: missing"))?,
            )),
            _ => None,
        };
        Ok(Record {
            seq,
            kind,
            occurred_at: time("occurred_at", &e.occurred_at)?,
            recorded_at: time("recorded_at", &e.recorded_at)?,
            fact,
            entry_hash,
            author,
        })
    }

    /// Read a served entry object back.
    pub fn from_entry(entry: &serde_json::Value) -> Result<Record, String> {
        let seq = entry["seq"].as_i64().ok_or("entry without seq")?;
        let kind = entry["kind"]
            .as_str()
            .and_then(EntryKind::parse)
            .ok_or_else(|| format!("entry {seq}: unknown kind"))?;
        let time = |field: &str| entry_time(seq, field, entry[field].as_str());
        let fact = Fact::from_body(kind, entry["body"].clone())
            .map_err(|e| format!("entry {seq}: body: {e}"))?;
        let author = match kind {
            EntryKind::EntryCorrected => Some(Box::new(
                serde_json::from_value(entry["author"].clone())
                    .map_err(|e| format!("entry {seq}: author: {e}"))?,
            )),
            _ => None,
        };
        Ok(Record {
            seq,
            kind,
            occurred_at: time("occurred_at")?,
            recorded_at: time("recorded_at")?,
            fact,
            entry_hash: stored_hash(seq, entry["entry_hash"].as_str())?,
            author,
        })
    }
}

/// Who registered a recipient, or confirmed it: `{"role": "charity", "organization": "…"}` or
/// `{"role": "regulator", "jurisdiction": "42"}` (`""`: national).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Registrar {
    /// A charity, for its own work; unconfirmed until a regulator confirms.
    Charity {
        /// The charity's organisation slug.
        organization: String,
    },
    /// A regulator.
    Regulator {
        /// Its jurisdiction: a region-code prefix, `""` for the national regulator.
        jurisdiction: String,
    },
}

impl Registrar {
    /// From the two registry columns (`role`, and the organisation or jurisdiction).
    pub fn from_columns(role: Option<&str>, by: Option<&str>) -> Option<Registrar> {
        match (role, by) {
            (Some("charity"), Some(org)) => Some(Registrar::Charity {
                organization: org.to_owned(),
            }),
            (Some("regulator"), by) => Some(Registrar::Regulator {
                jurisdiction: by.unwrap_or_default().to_owned(),
            }),
            _ => None,
        }
    }

    /// The registering charity, if a charity registered it.
    pub fn charity(&self) -> Option<&str> {
        match self {
            Registrar::Charity { organization } => Some(organization),
            Registrar::Regulator { .. } => None,
        }
    }
}

/// A registered organisation or recipient, as the public registry shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Slug.
    pub id: String,
    /// Registered name (already masked for aid to an individual, see [`Party::public_name`]).
    pub name: String,
    /// Unified social credit code, if any.
    pub credit_code: Option<String>,
    /// Kind (`red_cross`, `hospital`, …).
    pub kind: String,
    /// 6-digit region code.
    pub region_code: String,
    /// For a recipient: the organisation on Givetrail it is linked to.
    pub organization: Option<String>,
    /// For a recipient: `public`, `private` or `nonprofit`, if registered.
    pub ownership: Option<String>,
    /// For a recipient: named by the health authority to treat the emergency's patients.
    pub designated_hospital: bool,
    /// For a recipient: who registered it (`None`: not recorded, or an organisation).
    pub registered_by: Option<Registrar>,
    /// For a recipient: when a regulator confirmed it (a regulator's registration confirms it).
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl Party {
    /// The name the public may see: a person receiving individual aid appears masked.
    pub fn public_name(kind: &str, name: &str) -> String {
        if kind == "individual_aid" {
            mask_person_name(name)
        } else {
            name.to_owned()
        }
    }
}

/// Public registry entries that reports name: recipients by slug.
pub type Directory = BTreeMap<String, Party>;

/// A fact of a log with its dates, as corrections leave it: a view into the [`Ledger`]'s one
/// stored copy of the entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveFact<'a> {
    /// Seq where it lives (for a replacement, the correction's seq).
    pub seq: Seq,
    /// The fact (a replacement is unwrapped).
    pub fact: &'a Fact,
    /// When it happened (a replacement's own date).
    pub occurred_at: DateTime<Utc>,
    /// When it was published.
    pub recorded_at: DateTime<Utc>,
}

/// The key of a receipt number in [`Ledger`]'s index of donations by receipt: a 64-bit hash,
/// the same in every process (`DefaultHasher::new` has fixed keys). A collision costs a longer
/// list to filter, never a wrong answer.
fn receipt_key(receipt_number: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    receipt_number.hash(&mut h);
    h.finish()
}

/// The books' fact at `seq`, found by stepping `facts` (in seq order) forward to it: a walk in
/// seq order beside the facts costs a step per item, not a search of the facts' tree.
fn fact_at<'a>(
    facts: &mut std::iter::Peekable<impl Iterator<Item = (Seq, &'a crate::ledger::FactInfo)>>,
    seq: Seq,
) -> Option<&'a crate::ledger::FactInfo> {
    while facts.next_if(|(s, _)| *s < seq).is_some() {}
    facts.peek().filter(|(s, _)| *s == seq).map(|(_, f)| *f)
}

/// The totals kept for `key` in a per-asset map, the key copied only the first time it is met
/// (a report adding up every lot would otherwise copy a key per lot).
pub(crate) fn per_asset<'a, V: Default>(
    map: &'a mut BTreeMap<AssetKey, V>,
    key: &AssetKey,
) -> &'a mut V {
    if !map.contains_key(key) {
        map.insert(key.clone(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

/// One organisation's public log, replayed: balances and bodies, ready for reports.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// The organisation.
    pub organization: Party,
    /// Every entry, in seq order: the entry at seq `s` is `records[s - 1]` (a log's seqs run
    /// from 1 without gaps, which [`Ledger::extend`] checks). Bodies are kept once, here.
    pub records: imbl::Vector<Record>,
    /// Derived state, exactly as the write rules see it.
    pub books: MemoryBooks,
    /// Donations (lots) by receipt number, in seq order, live or not.
    ///
    /// Keyed by a hash of the number ([`receipt_key`]), not the number: the number is kept once,
    /// in its lot, not again as the key, and a list of one seq is held inline (at 205,000
    /// donations the index with its string keys and seq lists was 38 MB of the ledger's 248).
    /// Numbers with the same hash share a list; a lookup keeps the seqs whose lot carries its
    /// number.
    by_receipt: imbl::HashMap<u64, smallvec::SmallVec<[Seq; 1]>>,
    /// Receipt numbers that more than one donation has carried (live or not).
    receipts_reused: imbl::OrdSet<String>,
    /// Disbursements by reference, in seq order, live or not.
    by_reference: imbl::HashMap<String, Vec<Seq>>,
    /// Recipients any allocation or disbursement named (live or not).
    recipients: imbl::OrdSet<String>,
    /// What each recipient received: totals per asset, live disbursements in view order.
    received: received::ReceivedIndex,
    /// Positions in `books.draws` of the draws on each lot, in log order.
    draws_by_lot: imbl::HashMap<Seq, Vec<usize>>,
    /// How many of `books.draws` are in `draws_by_lot` (draws are only ever appended).
    draws_indexed: usize,
    /// Disbursements (live or not, seq order) by the allocation they now belong to.
    disbursements_by_allocation: imbl::HashMap<Seq, Vec<Seq>>,
    /// Corrected entries: seq → seq of the correction.
    corrected_by: imbl::HashMap<Seq, Seq>,
    /// Replaced entries whose replacement took over their dependants: replacement → replaced.
    replaced: imbl::HashMap<Seq, Seq>,
    /// Seqs by the kind of the fact they hold (a correction's replacement's kind), live or not,
    /// in seq order: a seq's kind never changes, so this is only appended to.
    of_kind: BTreeMap<EntryKind, imbl::Vector<Seq>>,
    /// Seqs of the corrections, in seq order.
    corrections: imbl::Vector<Seq>,
    /// Flows worked out from this version (see [`flows::statements`], [`flows::shares`]).
    memo: flows::Memo,
}

impl Ledger {
    /// Replay `records` (all of one log, in seq order).
    ///
    /// Fails when the log does not replay, which would mean stored data is corrupt.
    pub fn new(organization: Party, records: Vec<Record>) -> Result<Ledger, String> {
        let mut ledger = Ledger {
            organization,
            records: imbl::Vector::new(),
            books: MemoryBooks::default(),
            by_receipt: imbl::HashMap::new(),
            receipts_reused: imbl::OrdSet::new(),
            by_reference: imbl::HashMap::new(),
            recipients: imbl::OrdSet::new(),
            received: received::ReceivedIndex::default(),
            draws_by_lot: imbl::HashMap::new(),
            draws_indexed: 0,
            disbursements_by_allocation: imbl::HashMap::new(),
            corrected_by: imbl::HashMap::new(),
            replaced: imbl::HashMap::new(),
            of_kind: BTreeMap::new(),
            corrections: imbl::Vector::new(),
            memo: flows::Memo::default(),
        };
        ledger.extend(records)?;
        Ok(ledger)
    }

    /// The last seq replayed (0 for an empty log).
    pub fn head(&self) -> Seq {
        self.records.last().map_or(0, |r| r.seq)
    }

    /// Replay the entries that follow [`Ledger::head`], in seq order: the log is append-only, so
    /// this leaves the ledger exactly as [`Ledger::new`] over the whole log would.
    ///
    /// Fails when a record does not follow on or does not replay; the ledger is then half
    /// advanced and must be dropped.
    pub fn extend(&mut self, records: Vec<Record>) -> Result<(), String> {
        self.memo = flows::Memo::default();
        for r in records {
            if r.seq != self.head() + 1 {
                return Err(format!(
                    "{}: seq {} is out of order",
                    self.organization.id, r.seq
                ));
            }
            let touched = received::touched(&self.books, r.seq, &r.fact);
            let gave: Vec<Option<received::Gift>> = touched
                .iter()
                .map(|&s| {
                    let at = self.fact(s).map(|f| f.occurred_at);
                    received::Gift::of(&self.books, s, at)
                })
                .collect();
            replay(&mut self.books, r.seq, r.occurred_at, &r.fact).map_err(|e| {
                format!("{}#{} does not replay: {e:?}", self.organization.id, r.seq)
            })?;
            // Goods bought are lots too, but carry no receipt number.
            if let Some(lot) = self
                .books
                .lots
                .get(&r.seq)
                .filter(|l| !l.receipt_number.is_empty())
            {
                let number = lot.receipt_number.as_str();
                let reused = self.receipt_seqs(number).next().is_some();
                if reused && !self.receipts_reused.contains(number) {
                    self.receipts_reused.insert(number.to_owned());
                }
                self.by_receipt
                    .entry(receipt_key(number))
                    .or_default()
                    .push(r.seq);
            }
            let named = match (
                self.books.allocations.get(&r.seq),
                self.books.disbursements.get(&r.seq),
            ) {
                (Some(a), _) => Some(&a.recipient),
                (None, Some(d)) => Some(&d.recipient),
                (None, None) => None,
            };
            if let Some(id) = named {
                if !self.recipients.contains(id.as_str()) {
                    self.recipients.insert(id.to_string());
                }
            }
            if let Fact::Disbursement(d) = Self::unwrapped(&r).fact {
                self.by_reference
                    .entry(d.reference.clone())
                    .or_default()
                    .push(r.seq);
            }
            if let Some(d) = self.books.disbursements.get(&r.seq) {
                self.disbursements_by_allocation
                    .entry(d.allocation)
                    .or_default()
                    .push(r.seq);
            }
            if let Fact::Correction(c) = &r.fact {
                self.corrections.push_back(r.seq);
                self.corrected_by.insert(c.corrects, r.seq);
                if c.replacement.is_some() {
                    self.replaced.insert(r.seq, c.corrects);
                    self.carry_indexes(c.corrects, r.seq);
                }
            }
            if let Some(f) = self.books.facts.get(&r.seq) {
                self.of_kind.entry(f.kind).or_default().push_back(r.seq);
            }
            self.records.push_back(r);
            for (&s, before) in touched.iter().zip(gave) {
                let at = self.fact(s).map(|f| f.occurred_at);
                let after = received::Gift::of(&self.books, s, at);
                if before != after {
                    before.iter().for_each(|g| self.received.count(g, -1));
                    after.iter().for_each(|g| self.received.count(g, 1));
                }
            }
        }
        for (i, d) in self.books.draws.iter().enumerate().skip(self.draws_indexed) {
            self.draws_by_lot.entry(d.donation).or_default().push(i);
        }
        self.draws_indexed = self.books.draws.len();
        Ok(())
    }

    /// A replacement took over what depended on the fact at `from`: move the indexes kept by
    /// dependant (draws on a lot, disbursements of an allocation) to `to`, as `Change::Carry`
    /// moved the books.
    fn carry_indexes(&mut self, from: Seq, to: Seq) {
        if let Some(moved) = self.draws_by_lot.remove(&from) {
            let all = self.draws_by_lot.entry(to).or_default();
            all.extend(moved);
            all.sort_unstable();
        }
        if let Some(moved) = self.disbursements_by_allocation.remove(&from) {
            let all = self.disbursements_by_allocation.entry(to).or_default();
            all.extend(moved);
            all.sort_unstable();
        }
    }

    /// Whether the fact at `seq` is a purchase (`procurement.made`, or a correction replacing one):
    /// its draws spend money on goods, and its lot holds the goods bought.
    pub fn is_purchase(&self, seq: Seq) -> bool {
        self.books
            .facts
            .get(&seq)
            .is_some_and(|f| f.kind == EntryKind::ProcurementMade)
    }

    /// The seq of the correction that corrected the entry at `seq`, if any.
    pub fn correction_of(&self, seq: Seq) -> Option<Seq> {
        self.corrected_by.get(&seq).copied()
    }

    /// `seq` and every earlier version it replaced (newest first): the entries that were, in
    /// turn, this fact.
    pub fn versions(&self, seq: Seq) -> Vec<Seq> {
        let mut out = vec![seq];
        let mut at = seq;
        while let Some(&earlier) = self.replaced.get(&at) {
            if out.len() > 64 {
                break;
            }
            out.push(earlier);
            at = earlier;
        }
        out
    }

    /// The live version of the fact first written at `seq` (following replacements that took
    /// over its dependants), or `seq` itself.
    pub fn current(&self, seq: Seq) -> Seq {
        let mut at = seq;
        for _ in 0..64 {
            match self.books.successors.get(&at) {
                Some(&next) => at = next,
                None => break,
            }
        }
        at
    }

    /// Disbursements (live or not, in seq order) of the allocation at `seq`.
    pub fn disbursements_of(&self, allocation: Seq) -> &[Seq] {
        self.disbursements_by_allocation
            .get(&allocation)
            .map_or(&[][..], Vec::as_slice)
    }

    /// Draws of every allocation, expense or procurement on the lot at `lot`, live or not, in
    /// log order.
    pub fn all_draws_on(&self, lot: Seq) -> impl Iterator<Item = &crate::ledger::DrawState> {
        self.draws_by_lot
            .get(&lot)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.books.draws.get(i))
    }

    /// The fact at `seq` (a replacement unwrapped), whether or not it is still live.
    pub fn fact(&self, seq: Seq) -> Option<LiveFact<'_>> {
        self.record(seq).map(Self::unwrapped)
    }

    /// The record at `seq`, as written.
    pub fn record(&self, seq: Seq) -> Option<&Record> {
        let index = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.records.get(index)
    }

    fn unwrapped(r: &Record) -> LiveFact<'_> {
        let (fact, occurred_at) = match &r.fact {
            Fact::Correction(c) => match &c.replacement {
                Some(f) => (
                    f.as_ref(),
                    c.replacement_occurred_at.unwrap_or(r.occurred_at),
                ),
                None => (&r.fact, r.occurred_at),
            },
            other => (other, r.occurred_at),
        };
        LiveFact {
            seq: r.seq,
            fact,
            occurred_at,
            recorded_at: r.recorded_at,
        }
    }

    /// A report worked out from this version of the ledger once, by `key`, and kept until
    /// [`Ledger::extend`] changes it: a ledger kept by the read model answers every request for
    /// the same report from one computation. `key` names everything besides the ledger that the
    /// report depends on (a policy, a language); a value kept under `key` with another type is
    /// recomputed.
    pub fn derived<T: std::any::Any + Send + Sync>(
        &self,
        key: &str,
        make: impl FnOnce() -> T,
    ) -> std::sync::Arc<T> {
        self.memo.derived.get_or(key, make)
    }

    /// Whether the fact at `seq` has not been corrected away.
    pub fn is_live(&self, seq: Seq) -> bool {
        self.books.facts.get(&seq).is_some_and(|f| f.live)
    }

    /// Live facts, in seq order. The records and the books' facts are walked side by side (both
    /// are in seq order), not looked up one by one: a walk of the whole log costs a step per
    /// entry, not a search of the facts' tree per entry.
    pub fn live_facts(&self) -> impl Iterator<Item = LiveFact<'_>> {
        let mut facts = self.books.facts.iter().peekable();
        self.records
            .iter()
            .filter(move |r| fact_at(&mut facts, r.seq).is_some_and(|f| f.live))
            .map(Self::unwrapped)
    }

    /// Live lots in seq order, each with whether it was bought (a procurement's goods): lots and
    /// the books' facts are walked side by side, not searched per lot.
    pub fn live_lots(&self) -> impl Iterator<Item = (&crate::ledger::Lot, bool)> {
        let mut facts = self.books.facts.iter().peekable();
        self.books.lots.values().filter(|l| l.live).map(move |l| {
            let l = l.as_ref();
            let bought =
                fact_at(&mut facts, l.seq).is_some_and(|f| f.kind == EntryKind::ProcurementMade);
            (l, bought)
        })
    }

    /// Live facts of one kind (for a correction with a replacement, the replacement's kind), in
    /// seq order, found through the index of seqs by kind: a report about allocations reads the
    /// allocations, not every donation before them.
    pub fn live_facts_of(&self, kind: EntryKind) -> impl Iterator<Item = LiveFact<'_>> {
        self.of_kind
            .get(&kind)
            .into_iter()
            .flat_map(|seqs| seqs.iter())
            .filter(|seq| self.is_live(**seq))
            .filter_map(|seq| self.fact(*seq))
    }

    /// Live facts of any of `kinds`, in seq order (see [`Ledger::live_facts_of`]).
    pub fn live_facts_of_any(&self, kinds: &[EntryKind]) -> Vec<LiveFact<'_>> {
        let mut seqs: Vec<Seq> = kinds
            .iter()
            .filter_map(|k| self.of_kind.get(k))
            .flat_map(|seqs| seqs.iter().copied())
            .collect();
        seqs.sort_unstable();
        seqs.into_iter()
            .filter(|seq| self.is_live(*seq))
            .filter_map(|seq| self.fact(seq))
            .collect()
    }

    /// The corrections, live or not, in seq order, as written.
    pub fn correction_records(&self) -> impl Iterator<Item = &Record> {
        self.corrections.iter().filter_map(|seq| self.record(*seq))
    }

    /// Donations (live or not, seq order) by receipt number, for the numbers more than one
    /// donation has carried.
    pub fn reused_receipts(&self) -> impl Iterator<Item = (&str, Vec<Seq>)> {
        self.receipts_reused
            .iter()
            .map(|r| (r.as_str(), self.donations_with_receipt(r)))
    }

    /// Seqs of the donations (live or not, seq order) that carried this receipt number.
    pub fn donations_with_receipt(&self, receipt_number: &str) -> Vec<Seq> {
        self.receipt_seqs(receipt_number).collect()
    }

    /// The seqs of [`Ledger::donations_with_receipt`], without collecting them.
    fn receipt_seqs<'a>(&'a self, receipt_number: &'a str) -> impl Iterator<Item = Seq> + 'a {
        self.by_receipt
            .get(&receipt_key(receipt_number))
            .into_iter()
            .flatten()
            .copied()
            .filter(move |s| {
                self.books
                    .lots
                    .get(s)
                    .is_some_and(|l| l.receipt_number == receipt_number)
            })
    }

    /// Seqs of the disbursements (live or not, seq order) that carried this reference.
    pub fn disbursements_with_reference(&self, reference: &str) -> &[Seq] {
        self.by_reference
            .get(reference)
            .map_or(&[][..], Vec::as_slice)
    }

    /// The live donation with this receipt number.
    pub fn donation_by_receipt(&self, receipt_number: &str) -> Option<Seq> {
        self.receipt_seqs(receipt_number)
            .find(|seq| self.books.lots.get(seq).is_some_and(|l| l.live))
    }

    /// The live donations recording another organisation's disbursement (level by level: the
    /// receiver may record it in parts), in seq order.
    pub fn donations_from(&self, organization: &str, disbursement: Seq) -> Vec<Seq> {
        let Ok(organization) = crate::ids::Slug::parse(organization) else {
            return Vec::new();
        };
        self.books
            .sources
            .get(&(organization, disbursement))
            .into_iter()
            .flatten()
            .copied()
            .filter(|seq| self.is_live(*seq))
            .collect()
    }

    /// Draws of live allocations and expenses on the lot at `lot`, in log order.
    pub fn live_draws_on(&self, lot: Seq) -> impl Iterator<Item = &crate::ledger::DrawState> {
        self.draws_by_lot
            .get(&lot)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.books.draws.get(i))
            .filter(|d| self.is_live(d.by))
    }

    /// Campaign slugs of the donations a fact draws on (the fact's own campaign for a donation
    /// or campaign), following disbursements and recipients' statements back to their lots.
    pub fn campaigns_of(&self, seq: Seq) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_campaigns(seq, &mut out, 0);
        out.sort();
        out.dedup();
        out
    }

    fn collect_campaigns(&self, seq: Seq, out: &mut Vec<String>, depth: usize) {
        // References point strictly backwards in the log, so this terminates; the depth bound
        // only guards against a corrupt log.
        let Some(f) = self.fact(seq).filter(|_| depth < 8) else {
            return;
        };
        let mut back = |s: Seq| self.collect_campaigns(s, out, depth + 1);
        match &f.fact {
            Fact::Campaign(c) => out.push(c.id.to_string()),
            Fact::Donation(d) => out.extend(d.campaign.iter().map(|c| c.to_string())),
            Fact::Allocation(a) => a.drawn_from.iter().for_each(|d| back(d.donation)),
            Fact::Expense(e) => e.drawn_from.iter().for_each(|d| back(d.donation)),
            Fact::Procurement(p) => p.drawn_from.iter().for_each(|d| back(d.donation)),
            Fact::Disbursement(d) => back(d.allocation),
            Fact::Acknowledgement(a) => back(a.disbursement),
            Fact::Usage(u) => back(u.disbursement),
            Fact::Correction(c) => back(c.corrects),
            Fact::Disclosure(_) => {}
        }
    }

    /// The live body of a campaign (by slug), if any.
    pub fn campaign_body(&self, campaign: &str) -> Option<&crate::entry::CampaignBody> {
        let state = self
            .books
            .campaigns
            .iter()
            .find(|(id, c)| id.as_str() == campaign && c.live)?
            .1;
        match self.fact(state.seq)?.fact {
            Fact::Campaign(b) => Some(b),
            _ => None,
        }
    }

    /// Whether a campaign (by slug) was opened as an emergency appeal.
    pub fn is_emergency(&self, campaign: &str) -> bool {
        self.books
            .campaigns
            .iter()
            .any(|(id, c)| id.as_str() == campaign && c.emergency)
    }

    /// What this log gave `recipient` (live allocations and disbursements), kept by
    /// [`Ledger::extend`]: totals per asset, and the live disbursements oldest first.
    pub fn received(&self, recipient: &str) -> Option<&received::Received> {
        self.received.get(recipient)
    }

    /// Every recipient's [`received::Received`], as kept by [`Ledger::extend`] (tests compare it
    /// with [`received::ReceivedIndex::recount`]).
    pub fn received_index(&self) -> &received::ReceivedIndex {
        &self.received
    }

    /// Slugs of every recipient the log names (for loading a [`Directory`]).
    pub fn recipient_ids(&self) -> Vec<String> {
        // Kept by `extend`: allocations and disbursements stay in the books once added (voided
        // ones too), so the set only grows.
        self.recipients.iter().cloned().collect()
    }
}

/// An asset key on the wire, without an amount: `{"kind": "money", "currency": "CNY"}` or
/// `{"kind": "goods", "item", "spec", "unit"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssetLabel {
    /// Money in one currency.
    Money {
        /// ISO 4217 code.
        currency: String,
    },
    /// One kind of goods.
    Goods {
        /// What it is.
        item: String,
        /// Standard or model.
        spec: String,
        /// Counting unit.
        unit: String,
    },
}

impl From<&AssetKey> for AssetLabel {
    fn from(k: &AssetKey) -> Self {
        match k {
            AssetKey::Money(c) => AssetLabel::Money {
                currency: c.code().to_owned(),
            },
            AssetKey::Goods(g) => AssetLabel::Goods {
                item: g.item.clone(),
                spec: g.spec.clone(),
                unit: g.unit.clone(),
            },
        }
    }
}

/// Units of `key` as the wire asset object (`{"kind": "money", "amount": …}`).
pub fn asset_wire(key: &AssetKey, units: i64) -> AssetWire {
    AssetWire::from(&key.asset(units))
}

/// `part / whole` as a percentage with two decimals (`"87.50"`), in exact integer arithmetic;
/// `None` when `whole` is zero.
pub fn percent(part: i64, whole: i64) -> Option<String> {
    if whole == 0 {
        return None;
    }
    let basis_points = i128::from(part) * 10_000 / i128::from(whole);
    Some(format!(
        "{}.{:02}",
        basis_points / 100,
        (basis_points % 100).abs()
    ))
}

/// Seconds as hours with two decimals (`5400` → `"1.50"`), rounded half away from zero.
pub fn hours(seconds: i64) -> String {
    let d = rust_decimal::Decimal::from(seconds) / rust_decimal::Decimal::from(3600);
    format!(
        "{:.2}",
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_regions_parse_and_match_by_prefix() {
        assert_eq!(
            Policy::parse_regions("42, 11"),
            Ok(vec!["42".into(), "11".into()])
        );
        assert!(Policy::parse_regions("4a").is_err());
        assert!(Policy::parse_regions("").is_err());
        let p = Policy::default();
        assert!(p.is_priority("420103"));
        assert!(!p.is_priority("330102"));
        assert_eq!(p.deadline(true), Duration::hours(24));
        assert_eq!(p.deadline(false), Duration::days(90));
    }

    #[test]
    fn percentages_and_hours_are_exact_strings() {
        assert_eq!(percent(7, 8), Some("87.50".into()));
        assert_eq!(percent(1, 3), Some("33.33".into()));
        assert_eq!(percent(0, 5), Some("0.00".into()));
        assert_eq!(percent(1, 0), None);
        assert_eq!(hours(5400), "1.50");
        assert_eq!(hours(-18), "-0.01");
        assert_eq!(hours(86_400), "24.00");
    }
}
