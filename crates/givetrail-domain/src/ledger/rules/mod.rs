//! Deciding commands: [`execute`] checks a command against the books, builds its public fact and
//! private values, and applies the fact's changes. Each entry kind's rule lives in its own file.

pub(super) mod acknowledgement;
pub(super) mod allocation;
pub(super) mod campaign;
pub(super) mod correction;
pub(super) mod disbursement;
pub(super) mod disclosure;
pub(super) mod donation;
pub(super) mod draws;
pub(super) mod expense;
pub(super) mod procurement;
pub(super) mod usage;

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use super::state::{
    AllocationState, CampaignState, Designation, DisbursementState, DrawState, Lot, OrgContext,
};
use super::validate::{check_occurred_at, store, Rejection, Res};
use super::{Books, Change};
use crate::asset::{AssetKey, AssetWire};
use crate::entry::*;
use crate::error::{RuleError, ValidationError};

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
    /// While a correction decides its replacement: the seq of the fact being replaced (a
    /// replacement donation may keep the receipt number of the donation it replaces).
    pub replacing: Option<Seq>,
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
    check_occurred_at(ctx.now, cmd.occurred_at(), "occurred_at")?;
    if let Command::Correction(c) = cmd {
        return correction::correct(books, ctx, seq, c);
    }
    let decision = decide(books, ctx, seq, cmd)?;
    for change in fact_changes(seq, cmd.occurred_at(), &decision.fact)? {
        store(books.apply(change))?;
    }
    Ok(decision)
}

fn decide<B: Books>(
    books: &mut B,
    ctx: &mut Context<'_>,
    seq: Seq,
    cmd: &Command,
) -> Res<Decision, B::Error> {
    let _ = seq;
    match cmd {
        Command::Campaign(r) => campaign::decide_campaign(books, ctx, r),
        Command::Donation(r) => donation::decide_donation(books, ctx, r),
        Command::Allocation(r) => allocation::decide_allocation(books, r),
        Command::Disbursement(r) => disbursement::decide_disbursement(books, r),
        Command::Acknowledgement(r) => acknowledgement::decide_acknowledgement(books, ctx, r),
        Command::Usage(r) => usage::decide_usage(books, ctx, r),
        Command::Expense(r) => expense::decide_expense(books, r),
        Command::Procurement(r) => procurement::decide_procurement(books, r),
        Command::Disclosure(c) => disclosure::decide_disclosure(ctx, c),
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

fn units_of<E>(field: &str, wire: &AssetWire) -> Res<(AssetKey, i64), E> {
    // A stored body: its amounts are canonical and its text is read as it was written.
    let a = wire.parse().map_err(|e| e.under(field))?;
    Ok((a.key(), a.units()))
}

fn units_of_or_zero<E>(field: &str, wire: &AssetWire) -> Res<i64, E> {
    let a = wire.parse_or_zero().map_err(|e| e.under(field))?;
    Ok(a.units())
}

fn draw_units<E>(key: &AssetKey, d: &Draw) -> Res<i64, E> {
    crate::asset::parse_units(&d.amount, key.scale())
        .map_err(|m| Rejection::Invalid(ValidationError::field("drawn_from.amount", m)))
}

/// A restriction as the rules keep it.
pub(super) fn designation_of(r: &RestrictionWire) -> Option<Designation> {
    match r {
        RestrictionWire::None => None,
        RestrictionWire::Designated {
            region_code,
            recipient,
            costs_allowed,
            ..
        } => Some(Designation {
            region_code: region_code.clone(),
            recipient: recipient.clone(),
            costs_allowed: *costs_allowed,
        }),
    }
}

/// The changes a fact makes (without voids), from its public body alone.
pub(super) fn fact_changes<E>(seq: Seq, at: DateTime<Utc>, fact: &Fact) -> Res<Vec<Change>, E> {
    let (about, stated) = match fact {
        Fact::Acknowledgement(b) => (Some(b.disbursement), units_of_or_zero("asset", &b.asset)?),
        Fact::Usage(b) => (Some(b.disbursement), units_of("asset", &b.asset)?.1),
        _ => (None, 0),
    };
    let mut out = vec![Change::Fact {
        seq,
        kind: fact.kind(),
        at,
        about,
        units: stated,
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
            let designation = designation_of(&b.restriction);
            out.push(Change::AddLot(
                Lot {
                    seq,
                    receipt_number: b.receipt_number.clone(),
                    campaign: b.campaign.clone(),
                    asset: key,
                    received: units,
                    allocated: 0,
                    expensed: 0,
                    designation: designation.map(Box::new),
                    occurred_at: at,
                    live: true,
                },
                b.source_disbursement.as_deref().cloned(),
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
            let units = units_of_or_zero("asset", &b.asset)?;
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
        Fact::Procurement(b) => {
            let (money, paid) = units_of("paid", &b.paid)?;
            let _ = paid;
            for d in &b.drawn_from {
                out.push(Change::Draw(DrawState {
                    by: seq,
                    donation: d.donation,
                    units: draw_units(&money, d)?,
                    expense: true,
                }));
            }
            let (key, units) = units_of("goods", &b.goods)?;
            out.push(Change::AddLot(
                Lot {
                    seq,
                    // A purchase has no receipt number; its lot is found by seq.
                    receipt_number: String::new(),
                    campaign: b.campaign.clone(),
                    asset: key,
                    received: units,
                    allocated: 0,
                    expensed: 0,
                    designation: designation_of(&b.restriction).map(Box::new),
                    occurred_at: at,
                    live: true,
                },
                None,
            ));
        }
        // A correction's changes are made by `correction::correct`; a disclosure changes no
        // balance.
        Fact::Correction(_) | Fact::Disclosure(_) => {}
    }
    Ok(out)
}
