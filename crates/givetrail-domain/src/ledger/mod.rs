//! The ledger rules: deciding whether a command may be written, and what it changes.
//!
//! The rules read the current state of one organisation's books through the [`Books`] trait and
//! change it only through [`Books::apply`]. A database store implements `Books` inside a
//! transaction; [`MemoryBooks`] implements it in memory for property tests and for rebuilding the
//! derived state from the log. [`execute`] decides and applies a new command; [`replay`] applies a
//! fact already in the log, so derived tables can be rebuilt without re-running the rules.
//!
//! Layout (everything public is re-exported here; this module is the one path callers use):
//!
//! - this file: the [`Books`] trait and the [`Change`]s it applies;
//! - `state`: what the rules read of the books (campaigns, lots, allocations, disbursements,
//!   recipients, needs);
//! - `validate`: field checks shared by the rules (and by other requests of this crate), and
//!   [`Rejection`];
//! - `rules`: [`execute`] and one file per entry kind with its `decide_*` rule;
//! - `replay`: applying facts already in the log;
//! - `memory`: [`MemoryBooks`].

mod memory;
mod replay;
mod rules;
mod state;
mod validate;

pub use memory::{FactTable, MemoryBooks};
pub use replay::replay;
pub use rules::allocation::designation_breach;
pub use rules::draws::attribute_oldest_first;
pub use rules::{execute, Context, Decision, PrivateValue, PrivateValues};
pub use state::{
    AllocationState, CampaignState, Dependant, Designation, DisbursementState, DrawState, FactInfo,
    ForeignDisbursement, Lot, NeedState, OrgContext, RecipientInfo,
};
pub(crate) use validate::text;
pub use validate::{Rejection, MAX_CLOCK_SKEW_SECONDS};

use chrono::{DateTime, Utc};

use crate::asset::AssetKey;
use crate::entry::{
    AllocationBody, CampaignBody, DisbursementBody, EntryKind, Seq, SourceDisbursement,
};
use crate::ids::Slug;

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
        /// For a recipient's statement: the disbursement it is about.
        about: Option<Seq>,
        /// For a recipient's statement: the units it states.
        units: i64,
    },
    /// A campaign opened.
    OpenCampaign(CampaignState, CampaignBody),
    /// A new lot (a donation, or goods bought), with the other charity's disbursement a gift
    /// passed on came from.
    AddLot(Lot, Option<SourceDisbursement>),
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
    /// The replacement at `to` (of a fact of `kind` voided at `from`) takes over what depended on
    /// the fact at `from`: draws on a lot, disbursements of an allocation, what the recipient
    /// acknowledged and used of a disbursement. Applied after every replacement (with nothing
    /// depending on `from`, it changes nothing a live fact sees).
    Carry {
        /// Seq of the voided fact.
        from: Seq,
        /// Seq of its replacement (the correction).
        to: Seq,
        /// Kind of both.
        kind: EntryKind,
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
    /// Whether any donation, live or voided, has carried this receipt number (numbers are never
    /// used again).
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
    /// The live facts that depend on the fact at `seq`, in seq order, at most `limit` of them:
    /// allocations, expenses and procurements drawing on a lot; disbursements of an allocation;
    /// the acknowledgement and usage reports of a disbursement, and donations recording it in
    /// other organisations' logs; usage reports of an acknowledged disbursement (for an
    /// acknowledgement); donations of a campaign.
    fn dependants(&mut self, seq: Seq, limit: usize) -> Result<Vec<Dependant>, Self::Error>;
    /// A disbursement in another organisation's log.
    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, Self::Error>;
    /// Units of this source disbursement that live donations (of any organisation) already record.
    fn source_recorded_units(&mut self, source: &SourceDisbursement) -> Result<i64, Self::Error>;
    /// A recipient's need (any recipient's), with what has been delivered against it.
    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, Self::Error>;
    /// Apply a change.
    fn apply(&mut self, change: Change) -> Result<(), Self::Error>;
}
