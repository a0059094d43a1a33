//! The ledger rules: deciding whether a command may be written, and what it changes.
//!
//! The rules read the current state of one organisation's books through the [`Books`] trait and
//! change it only through [`Books::apply`]. A database store implements `Books` inside a
//! transaction; [`MemoryBooks`] implements it in memory for property tests and for rebuilding the
//! derived state from the log. `execute` decides and applies a new command; `replay` applies a
//! fact already in the log, so derived tables can be rebuilt without re-running the rules.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use crate::asset::{Asset, AssetKey, AssetWire};
use crate::entry::*;
use crate::error::{FieldError, RuleError, ValidationError};
use crate::ids::{RegionCode, Slug};
use crate::needs::{check_allocation, NeedState};
use crate::privacy::{commitment, mask_person_name};

/// How far in the future an `occurred_at` may be (clock skew between client and server).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// The organisation whose log is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgContext {
    /// Slug.
    pub id: Slug,
    /// Region code.
    pub region_code: RegionCode,
    /// Qualified for public fundraising.
    pub public_fundraising_qualified: bool,
}

/// A campaign as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignState {
    /// Seq of the entry that opened it (or of the correction that replaced it).
    pub seq: Seq,
    /// Slug.
    pub id: Slug,
    /// Raises from the public.
    pub public_fundraising: bool,
    /// Emergency appeal.
    pub emergency: bool,
    /// Start and end.
    pub starts_at: DateTime<Utc>,
    /// End, if fixed.
    pub ends_at: Option<DateTime<Utc>>,
    /// Not voided.
    pub live: bool,
}

/// A donor's designation as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Designation {
    /// Region, if designated by region.
    pub region_code: Option<RegionCode>,
    /// Recipient, if designated by recipient.
    pub recipient: Option<Slug>,
}

/// A donation (lot) and what has been taken from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// Seq of the donation.
    pub seq: Seq,
    /// Receipt number.
    pub receipt_number: String,
    /// Campaign.
    pub campaign: Option<Slug>,
    /// Balance key.
    pub asset: AssetKey,
    /// Units received.
    pub received: i64,
    /// Units allocated.
    pub allocated: i64,
    /// Units spent on the charity's own expenses.
    pub expensed: i64,
    /// The designation, if any.
    pub designation: Option<Designation>,
    /// When received.
    pub occurred_at: DateTime<Utc>,
    /// Not voided.
    pub live: bool,
}

impl Lot {
    /// Units neither allocated nor expensed.
    pub fn remaining(&self) -> i64 {
        self.received - self.allocated - self.expensed
    }
}

/// An allocation and what has been disbursed of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationState {
    /// Seq.
    pub seq: Seq,
    /// Recipient.
    pub recipient: Slug,
    /// Balance key.
    pub asset: AssetKey,
    /// Units allocated.
    pub units: i64,
    /// Units disbursed so far.
    pub disbursed: i64,
    /// The need served.
    pub need: Option<Slug>,
    /// Not voided.
    pub live: bool,
}

/// A disbursement and what the recipient said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisbursementState {
    /// Seq.
    pub seq: Seq,
    /// Seq of the allocation.
    pub allocation: Seq,
    /// Recipient.
    pub recipient: Slug,
    /// Balance key.
    pub asset: AssetKey,
    /// Units sent.
    pub units: i64,
    /// Units acknowledged (None until acknowledged).
    pub acknowledged: Option<i64>,
    /// Units reported used.
    pub used: i64,
    /// Not voided.
    pub live: bool,
}

/// A recipient as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientInfo {
    /// Slug.
    pub id: Slug,
    /// Region code.
    pub region_code: RegionCode,
    /// Organisation it is linked to (a charity on Givetrail).
    pub organization: Option<Slug>,
}

/// A disbursement of another organisation, seen from a donation that names it as its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignDisbursement {
    /// Recipient of that disbursement.
    pub recipient: Slug,
    /// Balance key.
    pub asset: AssetKey,
    /// Units sent.
    pub units: i64,
}

/// What lives at a seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactInfo {
    /// The kind of the live fact (for a correction with a replacement, the replacement's kind).
    pub kind: EntryKind,
    /// Not voided.
    pub live: bool,
    /// When the fact happened (a replacement's own date).
    pub occurred_at: DateTime<Utc>,
}

/// A draw of units from a lot by an allocation or expense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawState {
    /// Seq of the allocation or expense.
    pub by: Seq,
    /// Seq of the lot.
    pub donation: Seq,
    /// Units.
    pub units: i64,
    /// An expense draw (else an allocation draw).
    pub expense: bool,
}

/// A change to the derived state of one organisation's books.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Record that a fact of `kind`, which happened at `at`, lives at `seq`.
    Fact {
        /// Seq.
        seq: Seq,
        /// Kind.
        kind: EntryKind,
        /// When it happened.
        at: DateTime<Utc>,
    },
    /// A campaign opened.
    OpenCampaign(CampaignState, CampaignBody),
    /// A new lot.
    AddLot(Lot, DonationBody),
    /// Units taken from a lot.
    Draw(DrawState),
    /// A new allocation.
    AddAllocation(AllocationState, AllocationBody),
    /// A new disbursement.
    AddDisbursement(DisbursementState, DisbursementBody),
    /// Units acknowledged on a disbursement.
    Acknowledge {
        /// Seq of the acknowledgement.
        seq: Seq,
        /// Seq of the disbursement.
        disbursement: Seq,
        /// Units that arrived.
        units: i64,
    },
    /// Units reported used on a disbursement.
    Use {
        /// Seq of the report.
        seq: Seq,
        /// Seq of the disbursement.
        disbursement: Seq,
        /// Units used.
        units: i64,
    },
    /// A new expense.
    AddExpense {
        /// Seq.
        seq: Seq,
        /// Balance key.
        asset: AssetKey,
        /// Units.
        units: i64,
    },
    /// The fact at `seq` is void from now on (corrected by `by`); its draws and disbursed units are returned.
    Void {
        /// Seq of the voided fact.
        seq: Seq,
        /// Its kind.
        kind: EntryKind,
        /// Seq of the correction.
        by: Seq,
    },
}

/// Read and change access to one organisation's books, inside one transaction.
pub trait Books {
    /// Storage error.
    type Error;
    /// A campaign of this organisation.
    fn campaign(&mut self, id: &Slug) -> Result<Option<CampaignState>, Self::Error>;
    /// A lot by the seq of its donation.
    fn lot(&mut self, seq: Seq) -> Result<Option<Lot>, Self::Error>;
    /// Whether a live donation already uses this receipt number.
    fn receipt_in_use(&mut self, receipt_number: &str) -> Result<bool, Self::Error>;
    /// Live undesignated lots of `asset` with something remaining, oldest first (by `occurred_at`,
    /// then seq), at least enough to cover `units` when the pool holds that much.
    fn pool_lots(&mut self, asset: &AssetKey, units: i64) -> Result<Vec<Lot>, Self::Error>;
    /// An allocation.
    fn allocation(&mut self, seq: Seq) -> Result<Option<AllocationState>, Self::Error>;
    /// A disbursement.
    fn disbursement(&mut self, seq: Seq) -> Result<Option<DisbursementState>, Self::Error>;
    /// A recipient (any organisation's).
    fn recipient(&mut self, id: &Slug) -> Result<Option<RecipientInfo>, Self::Error>;
    /// What lives at a seq.
    fn fact(&mut self, seq: Seq) -> Result<Option<FactInfo>, Self::Error>;
    /// Draws made by an allocation or expense.
    fn draws_by(&mut self, seq: Seq) -> Result<Vec<DrawState>, Self::Error>;
    /// How many live facts depend on the fact at `seq` (draws on a lot, disbursements of an
    /// allocation, acknowledgements or usage of a disbursement, donations of a campaign).
    fn live_dependants(&mut self, seq: Seq) -> Result<i64, Self::Error>;
    /// A disbursement in another organisation's log.
    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, Self::Error>;
    /// Whether a live donation already names this source disbursement.
    fn source_recorded(&mut self, source: &SourceDisbursement) -> Result<bool, Self::Error>;
    /// A recipient's need (any recipient's), with what has been delivered against it.
    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, Self::Error>;
    /// Apply a change.
    fn apply(&mut self, change: Change) -> Result<(), Self::Error>;
}

/// Why a command was not written.
#[derive(Debug, thiserror::Error)]
pub enum Rejection<E> {
    /// Malformed (400).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Refused by a rule (404/409/422).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The store failed.
    #[error("storage failure")]
    Store(E),
}

/// Who writes, when, and the salts for commitments.
pub struct Context<'a> {
    /// The organisation.
    pub org: &'a OrgContext,
    /// The author.
    pub author: &'a Author,
    /// Server clock.
    pub now: DateTime<Utc>,
    /// Source of fresh random salts (hex), one per commitment.
    pub salt: &'a mut dyn FnMut() -> String,
}

/// Private values of an entry, kept apart from the public log (for regulators).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PrivateValues {
    /// field path → {"value", "salt"}; the commitment in the public body is `commitment(salt, value)`.
    pub values: BTreeMap<String, PrivateValue>,
}

/// One private value and its salt.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrivateValue {
    /// The value.
    pub value: serde_json::Value,
    /// The salt (hex).
    pub salt: String,
}

/// A decided command: the public fact and the private values behind its commitments.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The public body.
    pub fact: Fact,
    /// Private values.
    pub private: PrivateValues,
}

type Res<T, E> = Result<T, Rejection<E>>;

fn store<T, E>(r: Result<T, E>) -> Res<T, E> {
    r.map_err(Rejection::Store)
}

/// Trim a text field and check its length and characters (shared by every request of this crate).
pub(crate) fn text(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_owned())
}

fn collect<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn finish(errors: Vec<FieldError>) -> Result<(), ValidationError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationError(errors))
    }
}

fn asset(field: &str, wire: &AssetWire) -> Result<Asset, ValidationError> {
    wire.parse().map_err(|e| e.under(field))
}

fn check_occurred_at(
    ctx: &Context<'_>,
    at: DateTime<Utc>,
    field: &str,
) -> Result<(), ValidationError> {
    if at > ctx.now + Duration::seconds(MAX_CLOCK_SKEW_SECONDS) {
        return Err(ValidationError::field(field, "must not be in the future"));
    }
    Ok(())
}

fn same_asset(field: &str, expected: &AssetKey, got: &Asset) -> Result<(), RuleError> {
    if &got.key() != expected {
        return Err(RuleError::refused(
            field,
            format!(
                "asset must be {expected}, the asset of the referenced entry, not {}",
                got.key()
            ),
        ));
    }
    Ok(())
}

/// Decide a command at `seq` and apply its changes to `books`.
///
/// On `Err`, `books` may hold part of the changes (a correction applies its void before deciding its
/// replacement): the caller runs this inside a transaction and rolls back on error.
pub fn execute<B: Books>(
    books: &mut B,
    ctx: &mut Context<'_>,
    seq: Seq,
    cmd: &Command,
) -> Res<Decision, B::Error> {
    check_occurred_at(ctx, cmd.occurred_at(), "occurred_at")?;
    if let Command::Correction(c) = cmd {
        return correct(books, ctx, seq, c);
    }
    let decision = decide(books, ctx, seq, cmd)?;
    for change in fact_changes(seq, cmd.occurred_at(), &decision.fact)? {
        store(books.apply(change))?;
    }
    Ok(decision)
}

fn units_of<E>(field: &str, wire: &AssetWire) -> Res<(AssetKey, i64), E> {
    let a = asset(field, wire)?;
    Ok((a.key(), a.units()))
}

fn draw_units<E>(key: &AssetKey, d: &Draw) -> Res<i64, E> {
    crate::asset::parse_units(&d.amount, key.scale())
        .map_err(|m| Rejection::Invalid(ValidationError::field("drawn_from.amount", m)))
}

/// The changes a fact makes (without voids), from its public body alone.
fn fact_changes<E>(seq: Seq, at: DateTime<Utc>, fact: &Fact) -> Res<Vec<Change>, E> {
    let mut out = vec![Change::Fact {
        seq,
        kind: fact.kind(),
        at,
    }];
    match fact {
        Fact::Campaign(b) => out.push(Change::OpenCampaign(
            CampaignState {
                seq,
                id: b.id.clone(),
                public_fundraising: b.public_fundraising,
                emergency: b.emergency,
                starts_at: b.starts_at,
                ends_at: b.ends_at,
                live: true,
            },
            b.clone(),
        )),
        Fact::Donation(b) => {
            let (key, units) = units_of("asset", &b.asset)?;
            let designation = match &b.restriction {
                RestrictionWire::None => None,
                RestrictionWire::Designated {
                    region_code,
                    recipient,
                    ..
                } => Some(Designation {
                    region_code: region_code.clone(),
                    recipient: recipient.clone(),
                }),
            };
            out.push(Change::AddLot(
                Lot {
                    seq,
                    receipt_number: b.receipt_number.clone(),
                    campaign: b.campaign.clone(),
                    asset: key,
                    received: units,
                    allocated: 0,
                    expensed: 0,
                    designation,
                    occurred_at: at,
                    live: true,
                },
                b.clone(),
            ));
        }
        Fact::Allocation(b) => {
            let (key, units) = units_of("asset", &b.asset)?;
            for d in &b.drawn_from {
                out.push(Change::Draw(DrawState {
                    by: seq,
                    donation: d.donation,
                    units: draw_units(&key, d)?,
                    expense: false,
                }));
            }
            out.push(Change::AddAllocation(
                AllocationState {
                    seq,
                    recipient: b.recipient.clone(),
                    asset: key,
                    units,
                    disbursed: 0,
                    need: b.need.clone(),
                    live: true,
                },
                b.clone(),
            ));
        }
        Fact::Disbursement(b) => {
            let (key, units) = units_of("asset", &b.asset)?;
            out.push(Change::AddDisbursement(
                DisbursementState {
                    seq,
                    allocation: b.allocation,
                    recipient: b.recipient.clone(),
                    asset: key,
                    units,
                    acknowledged: None,
                    used: 0,
                    live: true,
                },
                b.clone(),
            ));
        }
        Fact::Acknowledgement(b) => {
            let (_, units) = units_of("asset", &b.asset)?;
            out.push(Change::Acknowledge {
                seq,
                disbursement: b.disbursement,
                units,
            });
        }
        Fact::Usage(b) => {
            let (_, units) = units_of("asset", &b.asset)?;
            out.push(Change::Use {
                seq,
                disbursement: b.disbursement,
                units,
            });
        }
        Fact::Expense(b) => {
            let (key, units) = units_of("asset", &b.asset)?;
            for d in &b.drawn_from {
                out.push(Change::Draw(DrawState {
                    by: seq,
                    donation: d.donation,
                    units: draw_units(&key, d)?,
                    expense: true,
                }));
            }
            out.push(Change::AddExpense {
                seq,
                asset: key,
                units,
            });
        }
        Fact::Correction(_) => {}
    }
    Ok(out)
}

/// Apply a fact already in the log, at `seq`, that happened at `at` (for rebuilding derived
/// state from the log). No rule is re-checked: the fact was decided when it was written.
pub fn replay<B: Books>(
    books: &mut B,
    seq: Seq,
    at: DateTime<Utc>,
    fact: &Fact,
) -> Res<(), B::Error> {
    let (fact, at) = match fact {
        Fact::Correction(c) => {
            void(books, c.corrects, seq)?;
            match &c.replacement {
                Some(r) => (r.as_ref(), c.replacement_occurred_at.unwrap_or(at)),
                None => {
                    let notice = Change::Fact {
                        seq,
                        kind: EntryKind::EntryCorrected,
                        at,
                    };
                    return store(books.apply(notice));
                }
            }
        }
        other => (other, at),
    };
    for change in fact_changes(seq, at, fact)? {
        store(books.apply(change))?;
    }
    Ok(())
}

fn void<B: Books>(books: &mut B, target: Seq, by: Seq) -> Res<(), B::Error> {
    let info = store(books.fact(target))?
        .ok_or_else(|| RuleError::not_found("corrects", format!("entry {target}")))?;
    store(books.apply(Change::Void {
        seq: target,
        kind: info.kind,
        by,
    }))
}

const CORRECTABLE: [EntryKind; 5] = [
    EntryKind::CampaignOpened,
    EntryKind::DonationReceived,
    EntryKind::AllocationMade,
    EntryKind::DisbursementMade,
    EntryKind::ExpenseRecorded,
];

fn correct<B: Books>(
    books: &mut B,
    ctx: &mut Context<'_>,
    seq: Seq,
    c: &CorrectionRequest,
) -> Res<Decision, B::Error> {
    let reason = text("reason", &c.reason, MAX_TEXT, true).map_err(ValidationError::from)?;
    let info = store(books.fact(c.corrects))?
        .ok_or_else(|| RuleError::not_found("corrects", format!("entry {}", c.corrects)))?;
    if !info.live {
        return Err(RuleError::refused(
            "corrects",
            format!("entry {} has already been corrected", c.corrects),
        )
        .into());
    }
    if info.kind == EntryKind::EntryCorrected {
        return Err(RuleError::refused(
            "corrects",
            format!(
                "entry {} is a correction notice; correct the entry it corrected instead",
                c.corrects
            ),
        )
        .into());
    }
    if !CORRECTABLE.contains(&info.kind) {
        return Err(RuleError::refused(
            "corrects",
            format!(
                "a {} entry is the recipient's statement and cannot be corrected by the charity",
                info.kind.as_str()
            ),
        )
        .into());
    }
    let dependants = store(books.live_dependants(c.corrects))?;
    if dependants > 0 {
        return Err(RuleError::refused(
            "corrects",
            format!(
                "entry {} has {dependants} live dependent entries; correct those first",
                c.corrects
            ),
        )
        .into());
    }
    // The replacement is parsed before anything changes, so a malformed one changes nothing.
    let replacement_cmd = match &c.replacement {
        None => None,
        // A replacement keeps the date of the fact it replaces unless it says otherwise, so
        // fixing a typo neither re-dates a gift nor moves it in the oldest-first queue.
        Some(body) => Some(parse_replacement(info.kind, body, info.occurred_at)?),
    };
    let replacement_at = replacement_cmd.as_ref().map(Command::occurred_at);
    if let Some(at) = replacement_at {
        check_occurred_at(ctx, at, "replacement.occurred_at")?;
    }
    store(books.apply(Change::Void {
        seq: c.corrects,
        kind: info.kind,
        by: seq,
    }))?;
    let mut private = PrivateValues::default();
    let replacement = match replacement_cmd {
        None => {
            store(books.apply(Change::Fact {
                seq,
                kind: EntryKind::EntryCorrected,
                at: c.occurred_at,
            }))?;
            None
        }
        Some(cmd) => {
            let d = decide(books, ctx, seq, &cmd).map_err(|e| match e {
                Rejection::Invalid(v) => Rejection::Invalid(v.under("replacement")),
                other => other,
            })?;
            for change in fact_changes(seq, cmd.occurred_at(), &d.fact)? {
                store(books.apply(change))?;
            }
            private = d.private;
            Some(Box::new(d.fact))
        }
    };
    Ok(Decision {
        fact: Fact::Correction(CorrectionBody {
            corrects: c.corrects,
            corrected_kind: info.kind,
            reason,
            replacement,
            replacement_occurred_at: replacement_at,
        }),
        private,
    })
}

fn parse_replacement(
    kind: EntryKind,
    body: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<Command, ValidationError> {
    let mut body = body.clone();
    let Some(obj) = body.as_object_mut() else {
        return Err(ValidationError::field("replacement", "must be an object"));
    };
    obj.entry("occurred_at")
        .or_insert_with(|| serde_json::Value::String(at.to_rfc3339()));
    let bad = |e: serde_json::Error| ValidationError::field("replacement", e.to_string());
    Ok(match kind {
        EntryKind::CampaignOpened => Command::Campaign(serde_json::from_value(body).map_err(bad)?),
        EntryKind::DonationReceived => {
            Command::Donation(serde_json::from_value(body).map_err(bad)?)
        }
        EntryKind::AllocationMade => {
            Command::Allocation(serde_json::from_value(body).map_err(bad)?)
        }
        EntryKind::DisbursementMade => {
            Command::Disbursement(serde_json::from_value(body).map_err(bad)?)
        }
        EntryKind::ExpenseRecorded => Command::Expense(serde_json::from_value(body).map_err(bad)?),
        other => {
            return Err(ValidationError::field(
                "replacement",
                format!("a {} entry cannot be replaced", other.as_str()),
            ))
        }
    })
}

fn decide<B: Books>(
    books: &mut B,
    ctx: &mut Context<'_>,
    seq: Seq,
    cmd: &Command,
) -> Res<Decision, B::Error> {
    let _ = seq;
    match cmd {
        Command::Campaign(r) => decide_campaign(books, ctx, r),
        Command::Donation(r) => decide_donation(books, ctx, r),
        Command::Allocation(r) => decide_allocation(books, r),
        Command::Disbursement(r) => decide_disbursement(books, r),
        Command::Acknowledgement(r) => decide_acknowledgement(books, ctx, r),
        Command::Usage(r) => decide_usage(books, ctx, r),
        Command::Expense(r) => decide_expense(books, r),
        Command::Correction(_) => Err(ValidationError::field(
            "replacement",
            "a correction cannot replace with a correction",
        )
        .into()),
    }
}

fn public(fact: Fact) -> Decision {
    Decision {
        fact,
        private: PrivateValues::default(),
    }
}

fn decide_campaign<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &CampaignRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let title = collect(&mut errors, text("title", &r.title, MAX_SHORT_TEXT, true));
    let purpose = collect(&mut errors, text("purpose", &r.purpose, MAX_TEXT, false));
    let record_number = match &r.record_number {
        Some(n) => collect(&mut errors, text("record_number", n, MAX_SHORT_TEXT, true)),
        None => None,
    };
    let mut targets = Vec::new();
    for (i, t) in r.targets.iter().enumerate() {
        match t.parse() {
            Ok(a) => targets.push(AssetWire::from(&a)),
            Err(e) => errors.extend(e.under(&format!("targets[{i}]")).0),
        }
    }
    if let Some(end) = r.ends_at {
        if end < r.starts_at {
            errors.push(FieldError::new("ends_at", "must not be before starts_at"));
        }
    }
    finish(errors)?;
    if r.public_fundraising {
        if record_number.is_none() {
            return Err(RuleError::refused(
                "record_number",
                "a campaign raising from the public needs its fundraising-plan record number",
            )
            .into());
        }
        if !ctx.org.public_fundraising_qualified {
            return Err(RuleError::refused(
                "public_fundraising",
                format!(
                    "organisation {} is not qualified for public fundraising",
                    ctx.org.id
                ),
            )
            .into());
        }
    }
    if let Some(c) = store(books.campaign(&r.id))? {
        if c.live {
            return Err(RuleError::Conflict {
                field: "id".into(),
                message: format!("campaign {} already exists", r.id),
            }
            .into());
        }
    }
    Ok(public(Fact::Campaign(CampaignBody {
        id: r.id.clone(),
        title: title.unwrap_or_default(),
        purpose: purpose.unwrap_or_default(),
        region_code: r.region_code.clone(),
        public_fundraising: r.public_fundraising,
        record_number,
        emergency: r.emergency,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        targets,
    })))
}

fn decide_donation<B: Books>(
    books: &mut B,
    ctx: &mut Context<'_>,
    r: &DonationRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let receipt = collect(
        &mut errors,
        text("receipt_number", &r.receipt_number, MAX_SHORT_TEXT, true),
    );
    let name = collect(
        &mut errors,
        text("donor.name", &r.donor.name, MAX_SHORT_TEXT, true),
    );
    let public_name = match &r.donor.public_name {
        Some(n) => collect(
            &mut errors,
            text("donor.public_name", n, MAX_SHORT_TEXT, true),
        ),
        None => None,
    };
    let contact = match &r.donor.contact {
        Some(c) => collect(&mut errors, text("donor.contact", c, MAX_SHORT_TEXT, false))
            .filter(|c| !c.is_empty()),
        None => None,
    };
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    if let RestrictionWire::Designated {
        region_code: None,
        recipient: None,
        ..
    } = &r.restriction
    {
        errors.push(FieldError::new(
            "restriction",
            "a designation names a region_code, a recipient, or both",
        ));
    }
    let purpose = match &r.restriction {
        RestrictionWire::Designated {
            purpose: Some(p), ..
        } => collect(&mut errors, text("restriction.purpose", p, MAX_TEXT, false)),
        _ => None,
    };
    finish(errors)?;
    let (Some(receipt), Some(name), Some(parsed)) = (receipt, name, parsed) else {
        return Err(ValidationError::field("", "invalid donation").into());
    };
    if store(books.receipt_in_use(&receipt))? {
        return Err(RuleError::Conflict {
            field: "receipt_number".into(),
            message: format!(
                "receipt number {receipt} is already recorded by {}",
                ctx.org.id
            ),
        }
        .into());
    }
    if let Some(c) = &r.campaign {
        match store(books.campaign(c))? {
            Some(state) if state.live => {}
            _ => return Err(RuleError::not_found("campaign", format!("campaign {c}")).into()),
        }
    }
    let restriction = match &r.restriction {
        RestrictionWire::None => RestrictionWire::None,
        RestrictionWire::Designated {
            region_code,
            recipient,
            ..
        } => {
            if let Some(rid) = recipient {
                let info = store(books.recipient(rid))?.ok_or_else(|| {
                    RuleError::not_found("restriction.recipient", format!("recipient {rid}"))
                })?;
                if r.donor.related_recipients.contains(rid) {
                    return Err(RuleError::refused(
                        "restriction.recipient",
                        format!("the donor is related to recipient {rid} and may not designate it"),
                    )
                    .into());
                }
                if let Some(region) = region_code {
                    if !region.contains(&info.region_code) {
                        return Err(RuleError::refused(
                            "restriction.region_code",
                            format!(
                                "recipient {rid} ({}) lies outside the designated region {region}",
                                info.region_code
                            ),
                        )
                        .into());
                    }
                }
            }
            RestrictionWire::Designated {
                region_code: region_code.clone(),
                recipient: recipient.clone(),
                purpose,
            }
        }
    };
    for (i, rid) in r.donor.related_recipients.iter().enumerate() {
        if store(books.recipient(rid))?.is_none() {
            return Err(RuleError::not_found(
                format!("donor.related_recipients[{i}]"),
                format!("recipient {rid}"),
            )
            .into());
        }
    }
    if let Some(src) = &r.source_disbursement {
        let d = store(books.foreign_disbursement(src))?.ok_or_else(|| {
            RuleError::not_found(
                "source_disbursement",
                format!("disbursement {} of {}", src.disbursement, src.organization),
            )
        })?;
        let linked = store(books.recipient(&d.recipient))?.and_then(|r| r.organization);
        if linked.as_ref() != Some(&ctx.org.id) {
            return Err(RuleError::refused(
                "source_disbursement",
                format!(
                    "that disbursement went to {}, which is not linked to {}",
                    d.recipient, ctx.org.id
                ),
            )
            .into());
        }
        same_asset("asset", &d.asset, &parsed)?;
        if store(books.source_recorded(src))? {
            return Err(RuleError::Conflict {
                field: "source_disbursement".into(),
                message: "that disbursement is already recorded as a donation".into(),
            }
            .into());
        }
    }
    let mut private = PrivateValues::default();
    let mut commit = |path: &str, value: serde_json::Value, salt: &mut dyn FnMut() -> String| {
        let s = salt();
        let c = commitment(&s, &value);
        private
            .values
            .insert(path.to_owned(), PrivateValue { value, salt: s });
        c
    };
    let (display_name, name_shown) = match (r.donor.anonymous, r.donor.kind, &public_name) {
        (true, _, _) => (None, false),
        (false, _, Some(p)) => (Some(p.clone()), p == &name),
        (false, DonorKind::Organization, None) => (Some(name.clone()), true),
        (false, DonorKind::Individual, None) => (Some(mask_person_name(&name)), false),
    };
    let name_commitment =
        (!name_shown).then(|| commit("donor.name", serde_json::json!(name), ctx.salt));
    let contact_commitment =
        contact.map(|c| commit("donor.contact", serde_json::json!(c), ctx.salt));
    let related_recipients_commitment = (!r.donor.related_recipients.is_empty()).then(|| {
        commit(
            "donor.related_recipients",
            serde_json::json!(r.donor.related_recipients),
            ctx.salt,
        )
    });
    let body = DonationBody {
        receipt_number: receipt,
        donor: PublicDonor {
            kind: r.donor.kind,
            anonymous: r.donor.anonymous,
            display_name,
            name_commitment,
            contact_commitment,
            related_recipients_commitment,
        },
        campaign: r.campaign.clone(),
        channel: r.channel,
        restriction,
        asset: AssetWire::from(&parsed),
        source_disbursement: r.source_disbursement.clone(),
    };
    Ok(Decision {
        fact: Fact::Donation(body),
        private,
    })
}

/// Whether allocating `lot` to `recipient` honours the donor's designation; the reason when not.
pub fn designation_breach(lot: &Lot, recipient: &RecipientInfo) -> Option<String> {
    let d = lot.designation.as_ref()?;
    if let Some(region) = &d.region_code {
        if !region.contains(&recipient.region_code) {
            return Some(format!(
                "donation {} is designated for region {region}; recipient {} is in {}",
                lot.seq, recipient.id, recipient.region_code
            ));
        }
    }
    if let Some(rid) = &d.recipient {
        if rid != &recipient.id {
            return Some(format!(
                "donation {} is designated for recipient {rid}, not {}",
                lot.seq, recipient.id
            ));
        }
    }
    None
}

/// Take `units` from the pool of `key`, oldest lots first.
pub fn attribute_oldest_first(lots: &[Lot], units: i64) -> Option<Vec<(Seq, i64)>> {
    let mut left = units;
    let mut out = Vec::new();
    for lot in lots {
        if left == 0 {
            break;
        }
        let take = lot.remaining().min(left);
        if take > 0 {
            out.push((lot.seq, take));
            left -= take;
        }
    }
    (left == 0).then_some(out)
}

/// Where an allocation or expense takes its units from.
enum Source {
    Lot(Seq),
    Pool,
}

fn source(donation: Option<Seq>, pool: bool) -> Result<Source, ValidationError> {
    match (donation, pool) {
        (Some(s), false) => Ok(Source::Lot(s)),
        (None, true) => Ok(Source::Pool),
        (Some(_), true) => Err(ValidationError::field(
            "pool",
            "give either donation or pool, not both",
        )),
        (None, false) => Err(ValidationError::field(
            "donation",
            "give the donation's seq, or pool: true",
        )),
    }
}

fn draw<B: Books>(
    books: &mut B,
    src: &Source,
    parsed: &Asset,
) -> Res<(Vec<Draw>, Option<Lot>), B::Error> {
    let key = parsed.key();
    let units = parsed.units();
    match src {
        Source::Lot(seq) => {
            let lot = match store(books.lot(*seq))? {
                Some(l) if l.live => l,
                _ => return Err(RuleError::not_found("donation", format!("donation {seq}")).into()),
            };
            same_asset("asset", &lot.asset, parsed)?;
            if units > lot.remaining() {
                return Err(RuleError::refused(
                    "asset",
                    format!(
                        "donation {seq} has {} left; {} asked",
                        key.format(lot.remaining()),
                        key.format(units)
                    ),
                )
                .into());
            }
            Ok((
                vec![Draw {
                    donation: *seq,
                    amount: key.format(units),
                }],
                Some(lot),
            ))
        }
        Source::Pool => {
            let lots = store(books.pool_lots(&key, units))?;
            let taken = attribute_oldest_first(&lots, units).ok_or_else(|| {
                let available: i64 = lots.iter().map(Lot::remaining).sum();
                RuleError::refused(
                    "asset",
                    format!(
                        "the undesignated pool of {key} has {} left; {} asked",
                        key.format(available),
                        key.format(units)
                    ),
                )
            })?;
            Ok((
                taken
                    .into_iter()
                    .map(|(donation, u)| Draw {
                        donation,
                        amount: key.format(u),
                    })
                    .collect(),
                None,
            ))
        }
    }
}

fn decide_allocation<B: Books>(books: &mut B, r: &AllocationRequest) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let purpose = collect(&mut errors, text("purpose", &r.purpose, MAX_TEXT, false));
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    let change = match &r.designation_change {
        Some(c) => {
            let reason = collect(
                &mut errors,
                text("designation_change.reason", &c.reason, MAX_TEXT, true),
            );
            let consent = collect(
                &mut errors,
                text(
                    "designation_change.donor_consent_reference",
                    &c.donor_consent_reference,
                    MAX_SHORT_TEXT,
                    true,
                ),
            );
            reason
                .zip(consent)
                .map(|(reason, donor_consent_reference)| DesignationChange {
                    reason,
                    donor_consent_reference,
                })
        }
        None => None,
    };
    let src = source(r.donation, r.pool)
        .map_err(|e| errors.extend(e.0))
        .ok();
    finish(errors)?;
    let (Some(parsed), Some(src)) = (parsed, src) else {
        return Err(ValidationError::field("", "invalid allocation").into());
    };
    let recipient = store(books.recipient(&r.recipient))?
        .ok_or_else(|| RuleError::not_found("recipient", format!("recipient {}", r.recipient)))?;
    if let Some(id) = &r.need {
        let need = store(books.need(id))?
            .ok_or_else(|| RuleError::not_found("need", format!("need {id}")))?;
        check_allocation(&need, &r.recipient, &parsed.key())?;
    }
    let (drawn_from, lot) = draw(books, &src, &parsed)?;
    let breach = lot.as_ref().and_then(|l| designation_breach(l, &recipient));
    match (&breach, &change) {
        (Some(why), None) => {
            return Err(RuleError::refused(
                "recipient",
                format!("{why}; a departure needs designation_change with the donor's consent reference"),
            )
            .into())
        }
        (None, Some(_)) => {
            return Err(RuleError::refused(
                "designation_change",
                "this allocation honours the donation's designation (or draws on undesignated funds); no designation change applies",
            )
            .into())
        }
        _ => {}
    }
    Ok(public(Fact::Allocation(AllocationBody {
        donation: r.donation,
        pool: r.pool,
        recipient: r.recipient.clone(),
        purpose: purpose.unwrap_or_default(),
        asset: AssetWire::from(&parsed),
        need: r.need.clone(),
        designation_change: change,
        drawn_from,
    })))
}

fn decide_disbursement<B: Books>(
    books: &mut B,
    r: &DisbursementRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let reference = collect(
        &mut errors,
        text("reference", &r.reference, MAX_SHORT_TEXT, true),
    );
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    finish(errors)?;
    let (Some(reference), Some(parsed)) = (reference, parsed) else {
        return Err(ValidationError::field("", "invalid disbursement").into());
    };
    let alloc = match store(books.allocation(r.allocation))? {
        Some(a) if a.live => a,
        _ => {
            return Err(
                RuleError::not_found("allocation", format!("allocation {}", r.allocation)).into(),
            )
        }
    };
    same_asset("asset", &alloc.asset, &parsed)?;
    let left = alloc.units - alloc.disbursed;
    if parsed.units() > left {
        return Err(RuleError::refused(
            "asset",
            format!(
                "allocation {} has {} left to disburse; {} asked",
                alloc.seq,
                alloc.asset.format(left),
                alloc.asset.format(parsed.units())
            ),
        )
        .into());
    }
    Ok(public(Fact::Disbursement(DisbursementBody {
        allocation: alloc.seq,
        recipient: alloc.recipient,
        asset: AssetWire::from(&parsed),
        channel: r.channel,
        reference,
    })))
}

fn recipient_disbursement<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &EntryRef,
) -> Res<DisbursementState, B::Error> {
    if r.organization != ctx.org.id {
        return Err(RuleError::not_found(
            "disbursement.organization",
            format!("disbursement in {}", r.organization),
        )
        .into());
    }
    let d = match store(books.disbursement(r.seq))? {
        Some(d) if d.live => d,
        _ => {
            return Err(RuleError::not_found(
                "disbursement.seq",
                format!("disbursement {} of {}", r.seq, r.organization),
            )
            .into())
        }
    };
    if ctx.author.role != Role::Recipient || ctx.author.subject != d.recipient.as_str() {
        return Err(RuleError::refused(
            "disbursement",
            format!(
                "disbursement {} was made to {}, not {}",
                d.seq, d.recipient, ctx.author.subject
            ),
        )
        .into());
    }
    Ok(d)
}

fn decide_acknowledgement<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &AcknowledgementRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let note = collect(&mut errors, text("note", &r.note, MAX_TEXT, false));
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    finish(errors)?;
    let Some(parsed) = parsed else {
        return Err(ValidationError::field("asset", "invalid asset").into());
    };
    check_occurred_at(ctx, r.received_at, "received_at")?;
    let d = recipient_disbursement(books, ctx, &r.disbursement)?;
    if d.acknowledged.is_some() {
        return Err(RuleError::Conflict {
            field: "disbursement".into(),
            message: format!("disbursement {} is already acknowledged", d.seq),
        }
        .into());
    }
    same_asset("asset", &d.asset, &parsed)?;
    Ok(public(Fact::Acknowledgement(AcknowledgementBody {
        disbursement: d.seq,
        recipient: d.recipient.clone(),
        asset: AssetWire::from(&parsed),
        disbursed: AssetWire::from(&d.asset.asset(d.units)),
        shortfall: d.asset.format(d.units - parsed.units()),
        received_at: r.received_at,
        note: note.unwrap_or_default(),
    })))
}

fn decide_usage<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &UsageRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let description = collect(
        &mut errors,
        text("description", &r.description, MAX_TEXT, true),
    );
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    if let Some(h) = &r.evidence_sha256 {
        if h.len() != 64
            || !h
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            errors.push(FieldError::new(
                "evidence_sha256",
                "must be 64 lowercase hex characters",
            ));
        }
    }
    finish(errors)?;
    let Some(parsed) = parsed else {
        return Err(ValidationError::field("asset", "invalid asset").into());
    };
    let d = recipient_disbursement(books, ctx, &r.disbursement)?;
    same_asset("asset", &d.asset, &parsed)?;
    let acknowledged = d.acknowledged.unwrap_or(0);
    if parsed.units() > acknowledged - d.used {
        return Err(RuleError::refused(
            "asset",
            format!(
                "disbursement {} has {} acknowledged and not yet reported used; {} reported",
                d.seq,
                d.asset.format(acknowledged - d.used),
                d.asset.format(parsed.units())
            ),
        )
        .into());
    }
    Ok(public(Fact::Usage(UsageBody {
        disbursement: d.seq,
        recipient: d.recipient,
        asset: AssetWire::from(&parsed),
        description: description.unwrap_or_default(),
        evidence_sha256: r.evidence_sha256.clone(),
    })))
}

fn decide_expense<B: Books>(books: &mut B, r: &ExpenseRequest) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let description = collect(
        &mut errors,
        text("description", &r.description, MAX_TEXT, true),
    );
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    let src = source(r.donation, r.pool)
        .map_err(|e| errors.extend(e.0))
        .ok();
    finish(errors)?;
    let (Some(parsed), Some(src)) = (parsed, src) else {
        return Err(ValidationError::field("", "invalid expense").into());
    };
    let (drawn_from, _) = draw(books, &src, &parsed)?;
    Ok(public(Fact::Expense(ExpenseBody {
        donation: r.donation,
        pool: r.pool,
        asset: AssetWire::from(&parsed),
        description: description.unwrap_or_default(),
        drawn_from,
    })))
}

// ---------------------------------------------------------------------------------------------
// In-memory books

/// The derived state of one organisation's books, in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryBooks {
    /// Campaigns by slug (the live one, or the last voided).
    pub campaigns: BTreeMap<Slug, CampaignState>,
    /// Lots by seq.
    pub lots: BTreeMap<Seq, Lot>,
    /// Allocations by seq.
    pub allocations: BTreeMap<Seq, AllocationState>,
    /// Disbursements by seq.
    pub disbursements: BTreeMap<Seq, DisbursementState>,
    /// Expenses by seq: (asset, units, live).
    pub expenses: BTreeMap<Seq, (AssetKey, i64, bool)>,
    /// Draws in order.
    pub draws: Vec<DrawState>,
    /// Facts by seq.
    pub facts: BTreeMap<Seq, FactInfo>,
    /// Source disbursements recorded by live donations: (organisation, seq) → donation seq.
    pub sources: BTreeMap<(Slug, Seq), Seq>,
    /// Recipients known (shared across organisations).
    pub recipients: BTreeMap<Slug, RecipientInfo>,
    /// Disbursements of other organisations.
    pub foreign: BTreeMap<(Slug, Seq), ForeignDisbursement>,
    /// Recipients' needs (shared across organisations).
    pub needs: BTreeMap<Slug, NeedState>,
}

impl Books for MemoryBooks {
    type Error = std::convert::Infallible;

    fn campaign(&mut self, id: &Slug) -> Result<Option<CampaignState>, Self::Error> {
        Ok(self.campaigns.get(id).cloned())
    }
    fn lot(&mut self, seq: Seq) -> Result<Option<Lot>, Self::Error> {
        Ok(self.lots.get(&seq).cloned())
    }
    fn receipt_in_use(&mut self, receipt_number: &str) -> Result<bool, Self::Error> {
        Ok(self
            .lots
            .values()
            .any(|l| l.live && l.receipt_number == receipt_number))
    }
    fn pool_lots(&mut self, asset: &AssetKey, _units: i64) -> Result<Vec<Lot>, Self::Error> {
        let mut lots: Vec<Lot> = self
            .lots
            .values()
            .filter(|l| l.live && l.designation.is_none() && &l.asset == asset && l.remaining() > 0)
            .cloned()
            .collect();
        lots.sort_by_key(|l| (l.occurred_at, l.seq));
        Ok(lots)
    }
    fn allocation(&mut self, seq: Seq) -> Result<Option<AllocationState>, Self::Error> {
        Ok(self.allocations.get(&seq).cloned())
    }
    fn disbursement(&mut self, seq: Seq) -> Result<Option<DisbursementState>, Self::Error> {
        Ok(self.disbursements.get(&seq).cloned())
    }
    fn recipient(&mut self, id: &Slug) -> Result<Option<RecipientInfo>, Self::Error> {
        Ok(self.recipients.get(id).cloned())
    }
    fn fact(&mut self, seq: Seq) -> Result<Option<FactInfo>, Self::Error> {
        Ok(self.facts.get(&seq).copied())
    }
    fn draws_by(&mut self, seq: Seq) -> Result<Vec<DrawState>, Self::Error> {
        Ok(self.draws.iter().filter(|d| d.by == seq).copied().collect())
    }
    fn live_dependants(&mut self, seq: Seq) -> Result<i64, Self::Error> {
        let Some(info) = self.facts.get(&seq).copied() else {
            return Ok(0);
        };
        let n = match info.kind {
            EntryKind::DonationReceived => self
                .draws
                .iter()
                .filter(|d| d.donation == seq && self.facts.get(&d.by).is_some_and(|f| f.live))
                .count(),
            EntryKind::AllocationMade => self
                .disbursements
                .values()
                .filter(|d| d.live && d.allocation == seq)
                .count(),
            EntryKind::DisbursementMade => self.disbursements.get(&seq).map_or(0, |d| {
                usize::from(d.acknowledged.is_some()) + usize::from(d.used > 0)
            }),
            EntryKind::CampaignOpened => {
                let id = self
                    .campaigns
                    .values()
                    .find(|c| c.seq == seq)
                    .map(|c| c.id.clone());
                self.lots
                    .values()
                    .filter(|l| l.live && l.campaign.is_some() && l.campaign == id)
                    .count()
            }
            _ => 0,
        };
        Ok(n as i64)
    }
    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, Self::Error> {
        Ok(self
            .foreign
            .get(&(source.organization.clone(), source.disbursement))
            .cloned())
    }
    fn source_recorded(&mut self, source: &SourceDisbursement) -> Result<bool, Self::Error> {
        Ok(self
            .sources
            .contains_key(&(source.organization.clone(), source.disbursement)))
    }
    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, Self::Error> {
        Ok(self.needs.get(id).cloned())
    }
    fn apply(&mut self, change: Change) -> Result<(), Self::Error> {
        match change {
            Change::Fact { seq, kind, at } => {
                self.facts.insert(
                    seq,
                    FactInfo {
                        kind,
                        live: true,
                        occurred_at: at,
                    },
                );
            }
            Change::OpenCampaign(c, _) => {
                self.campaigns.insert(c.id.clone(), c);
            }
            Change::AddLot(lot, body) => {
                if let Some(src) = &body.source_disbursement {
                    self.sources
                        .insert((src.organization.clone(), src.disbursement), lot.seq);
                }
                self.lots.insert(lot.seq, lot);
            }
            Change::Draw(d) => {
                if let Some(lot) = self.lots.get_mut(&d.donation) {
                    if d.expense {
                        lot.expensed += d.units;
                    } else {
                        lot.allocated += d.units;
                    }
                    assert!(lot.remaining() >= 0, "lot {} over-drawn", lot.seq);
                }
                self.draws.push(d);
            }
            Change::AddAllocation(a, _) => {
                self.allocations.insert(a.seq, a);
            }
            Change::AddDisbursement(d, _) => {
                if let Some(a) = self.allocations.get_mut(&d.allocation) {
                    a.disbursed += d.units;
                    assert!(
                        a.disbursed <= a.units,
                        "allocation {} over-disbursed",
                        a.seq
                    );
                }
                self.disbursements.insert(d.seq, d);
            }
            Change::Acknowledge {
                disbursement,
                units,
                ..
            } => {
                if let Some(d) = self.disbursements.get_mut(&disbursement) {
                    d.acknowledged = Some(d.acknowledged.unwrap_or(0) + units);
                }
            }
            Change::Use {
                disbursement,
                units,
                ..
            } => {
                if let Some(d) = self.disbursements.get_mut(&disbursement) {
                    d.used += units;
                    assert!(
                        d.used <= d.acknowledged.unwrap_or(0),
                        "disbursement {} over-used",
                        d.seq
                    );
                }
            }
            Change::AddExpense { seq, asset, units } => {
                self.expenses.insert(seq, (asset, units, true));
            }
            Change::Void { seq, kind, .. } => {
                if let Some(f) = self.facts.get_mut(&seq) {
                    f.live = false;
                }
                match kind {
                    EntryKind::CampaignOpened => {
                        if let Some(c) = self.campaigns.values_mut().find(|c| c.seq == seq) {
                            c.live = false;
                        }
                    }
                    EntryKind::DonationReceived => {
                        if let Some(l) = self.lots.get_mut(&seq) {
                            l.live = false;
                        }
                        self.sources.retain(|_, v| *v != seq);
                    }
                    EntryKind::AllocationMade | EntryKind::ExpenseRecorded => {
                        for d in self.draws.iter().filter(|d| d.by == seq) {
                            if let Some(lot) = self.lots.get_mut(&d.donation) {
                                if d.expense {
                                    lot.expensed -= d.units;
                                } else {
                                    lot.allocated -= d.units;
                                }
                            }
                        }
                        if let Some(a) = self.allocations.get_mut(&seq) {
                            a.live = false;
                        }
                        if let Some(e) = self.expenses.get_mut(&seq) {
                            e.2 = false;
                        }
                    }
                    EntryKind::DisbursementMade => {
                        if let Some(d) = self.disbursements.get_mut(&seq) {
                            d.live = false;
                            let (alloc, units) = (d.allocation, d.units);
                            if let Some(a) = self.allocations.get_mut(&alloc) {
                                a.disbursed -= units;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
