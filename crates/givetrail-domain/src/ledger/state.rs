//! What the rules read of one organisation's books: campaigns, lots and what was drawn from them,
//! allocations, disbursements, recipients and their needs.

use chrono::{DateTime, Utc};

use crate::asset::AssetKey;
use crate::entry::{EntryKind, Seq};
use crate::error::RuleError;
use crate::ids::{RegionCode, Slug};

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
    /// The donor allows the charity's own costs to be charged to it.
    pub costs_allowed: bool,
}

impl Designation {
    /// Whether `other` is at least as strict as this designation: its region lies inside this
    /// one's and it names the same recipient, where this one names them.
    pub fn is_kept_by(&self, other: Option<&Designation>) -> bool {
        let Some(other) = other else {
            return false;
        };
        let region_kept = match (&self.region_code, &other.region_code) {
            (None, _) => true,
            (Some(_), None) => other.recipient.is_some() && self.recipient == other.recipient,
            (Some(mine), Some(theirs)) => mine.contains(theirs),
        };
        let recipient_kept = self.recipient.is_none() || self.recipient == other.recipient;
        region_kept && recipient_kept
    }
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
    /// The designation, if any (boxed: most gifts have none, and every lot of the books in memory
    /// would carry its size).
    pub designation: Option<Box<Designation>>,
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
    /// When it was sent.
    pub occurred_at: DateTime<Utc>,
    /// The donors' designations of the lots its allocation drew on (those the allocation kept,
    /// not those it departed from with consent).
    pub designations: Vec<Designation>,
}

/// An entry that depends on another (draws on it, disburses it, states what arrived of it, or,
/// in another organisation's log, records it as a gift received).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dependant {
    /// The organisation whose log holds it, when not this one.
    pub organization: Option<Slug>,
    /// Its seq.
    pub seq: Seq,
    /// Its kind.
    pub kind: EntryKind,
}

impl std::fmt::Display for Dependant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.organization {
            None => write!(f, "{} {}", self.kind.as_str(), self.seq),
            Some(o) => write!(f, "{} {} of {o}", self.kind.as_str(), self.seq),
        }
    }
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
    /// For a recipient's statement (acknowledgement, usage report): the disbursement it is about.
    pub about: Option<Seq>,
    /// For a recipient's statement: the units it states.
    pub units: i64,
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

/// What the allocation rules need to know of a recipient's need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedState {
    /// Slug.
    pub id: Slug,
    /// The recipient that posted it.
    pub recipient: Slug,
    /// The goods asked for.
    pub asset: AssetKey,
    /// Units asked for.
    pub units: i64,
    /// Units acknowledged by the recipient so far, over every charity's allocations to it.
    pub delivered: i64,
    /// Its recipient withdrew it.
    pub withdrawn: bool,
}

impl NeedState {
    /// Met (closed) once what was delivered covers what was asked.
    pub fn is_met(&self) -> bool {
        self.delivered >= self.units
    }

    /// Whether an allocation of `asset` to `recipient` may say it serves this need: the need is
    /// the recipient's own, asks for exactly these goods, and is still open.
    pub fn check_allocation(&self, recipient: &Slug, asset: &AssetKey) -> Result<(), RuleError> {
        if &self.recipient != recipient {
            return Err(RuleError::refused(
                "need",
                format!(
                    "need {} was posted by {}, not by {recipient}",
                    self.id, self.recipient
                ),
            ));
        }
        if &self.asset != asset {
            return Err(RuleError::refused(
                "need",
                format!("need {} asks for {}, not {asset}", self.id, self.asset),
            ));
        }
        if self.withdrawn {
            return Err(RuleError::refused(
                "need",
                format!("need {} was withdrawn by {}", self.id, self.recipient),
            ));
        }
        if self.is_met() {
            return Err(RuleError::refused(
                "need",
                format!("need {} is already met", self.id),
            ));
        }
        Ok(())
    }
}
