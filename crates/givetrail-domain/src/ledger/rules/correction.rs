//! `entry.corrected`: voiding an earlier entry, optionally replacing it.
//!
//! The charity corrects its own statements; a recipient corrects its own acknowledgements and
//! usage reports (which live in the charity's log). A void needs the entry's live dependants
//! voided first. A replacement is accepted whenever every live dependant stays valid under it,
//! and then takes them over ([`Change::Carry`]): the 36,000 masks corrected to 35,000 after the
//! hospital confirmed 35,000 keep that confirmation.

use super::super::state::{Dependant, FactInfo, Lot};
use super::super::validate::{check_occurred_at, store, text, Res};
use super::super::{Books, Change};
use super::{decide, fact_changes, Context, Decision, PrivateValues, Rejection};
use crate::asset::AssetKey;
use crate::entry::{
    Command, CorrectionBody, CorrectionRequest, EntryKind, Fact, Role, Seq, SourceDisbursement,
    MAX_TEXT,
};
use crate::error::{RuleError, ValidationError};

/// How many dependants a refusal names.
const NAMED: usize = 10;

/// Who may correct an entry of `kind`: the charity its own statements, the recipient its own.
fn corrected_by(kind: EntryKind) -> Option<Role> {
    match kind {
        EntryKind::CampaignOpened
        | EntryKind::DonationReceived
        | EntryKind::AllocationMade
        | EntryKind::DisbursementMade
        | EntryKind::ExpenseRecorded
        | EntryKind::ProcurementMade => Some(Role::Charity),
        EntryKind::AcknowledgementRecorded | EntryKind::UsageReported => Some(Role::Recipient),
        // A disclosure states what the log said at the end of its period, which never changes:
        // it is never corrected (a later disclosure may cover the period again).
        EntryKind::EntryCorrected | EntryKind::DisclosurePublished => None,
    }
}

fn names(dependants: &[Dependant]) -> String {
    let shown: Vec<String> = dependants
        .iter()
        .take(NAMED)
        .map(|d| d.to_string())
        .collect();
    let more = dependants.len().saturating_sub(NAMED);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

pub(super) fn correct<B: Books>(
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
    authorise(books, ctx, c.corrects, &info)?;
    let dependants = store(books.dependants(c.corrects, usize::MAX))?;
    if c.replacement.is_none() && !dependants.is_empty() {
        return Err(RuleError::refused(
            "corrects",
            format!(
                "entry {} has live dependent entries ({}); void those first, or correct it with a replacement they stay valid under",
                c.corrects,
                names(&dependants)
            ),
        )
        .into());
    }
    // The replacement is parsed before anything changes, so a malformed one changes nothing.
    let replacement_cmd = match &c.replacement {
        None => None,
        // A replacement keeps the date of the fact it replaces unless it says otherwise, so
        // fixing a typo neither re-dates a gift nor moves it in the oldest-first queue.
        Some(body) => Some(parse_replacement(ctx, &info, body)?),
    };
    let replacement_at = replacement_cmd.as_ref().map(Command::occurred_at);
    if let Some(at) = replacement_at {
        check_occurred_at(ctx.now, at, "replacement.occurred_at")?;
    }
    let before = Snapshot::take(books, c.corrects, info.kind)?;
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
                about: None,
                units: 0,
            }))?;
            None
        }
        Some(cmd) => {
            ctx.replacing = Some(c.corrects);
            let decided = decide(books, ctx, seq, &cmd);
            ctx.replacing = None;
            let d = decided.map_err(|e| match e {
                Rejection::Invalid(v) => Rejection::Invalid(v.under("replacement")),
                Rejection::Rule(r) => Rejection::Rule(r.under("replacement")),
                other => other,
            })?;
            for change in fact_changes(seq, cmd.occurred_at(), &d.fact)? {
                store(books.apply(change))?;
            }
            before.still_valid(books, ctx, c.corrects, seq, &dependants)?;
            store(books.apply(Change::Carry {
                from: c.corrects,
                to: seq,
                kind: info.kind,
            }))?;
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

/// The charity corrects its own statements; a recipient only its own acknowledgements and usage
/// reports; nobody a correction notice.
fn authorise<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    target: Seq,
    info: &FactInfo,
) -> Res<(), B::Error> {
    match (corrected_by(info.kind), ctx.author.role) {
        (None, _) => Err(RuleError::refused(
            "corrects",
            format!("entry {target} is a correction notice; correct the entry it corrected instead"),
        )
        .into()),
        (Some(Role::Charity), Role::Charity) => Ok(()),
        (Some(Role::Recipient), Role::Recipient) => {
            let disbursement = match info.about {
                Some(d) => store(books.disbursement(d))?,
                None => None,
            };
            match disbursement {
                Some(d) if d.recipient.as_str() == ctx.author.subject => Ok(()),
                _ => Err(RuleError::Forbidden {
                    field: "corrects".into(),
                    message: format!(
                        "entry {target} is another recipient's statement; only its author corrects it"
                    ),
                }
                .into()),
            }
        }
        (Some(Role::Recipient), _) => Err(RuleError::refused(
            "corrects",
            format!(
                "a {} entry is the recipient's statement; only the recipient corrects it (POST /recipients/{{recipient}}/corrections)",
                info.kind.as_str()
            ),
        )
        .into()),
        (Some(_), _) => Err(RuleError::Forbidden {
            field: "corrects".into(),
            message: format!(
                "a {} entry is the charity's statement; a recipient corrects only its own acknowledgements and usage reports",
                info.kind.as_str()
            ),
        }
        .into()),
    }
}

/// What the dependants of the corrected fact relied on, taken before it is voided.
enum Snapshot {
    Lot(Box<Lot>),
    Allocation {
        disbursed: i64,
    },
    Disbursement {
        acknowledged: Option<i64>,
        asset: AssetKey,
    },
    Acknowledgement {
        used: i64,
        disbursement: Seq,
    },
    Campaign,
    Nothing,
}

impl Snapshot {
    fn take<B: Books>(books: &mut B, seq: Seq, kind: EntryKind) -> Res<Snapshot, B::Error> {
        Ok(match kind {
            EntryKind::DonationReceived | EntryKind::ProcurementMade => {
                match store(books.lot(seq))? {
                    Some(l) => Snapshot::Lot(Box::new(l)),
                    None => Snapshot::Nothing,
                }
            }
            EntryKind::AllocationMade => match store(books.allocation(seq))? {
                Some(a) => Snapshot::Allocation {
                    disbursed: a.disbursed,
                },
                None => Snapshot::Nothing,
            },
            EntryKind::DisbursementMade => match store(books.disbursement(seq))? {
                Some(d) => Snapshot::Disbursement {
                    acknowledged: d.acknowledged,
                    asset: d.asset,
                },
                None => Snapshot::Nothing,
            },
            EntryKind::AcknowledgementRecorded => {
                let about = store(books.fact(seq))?.and_then(|f| f.about);
                match about {
                    Some(d) => Snapshot::Acknowledgement {
                        used: store(books.disbursement(d))?.map_or(0, |d| d.used),
                        disbursement: d,
                    },
                    None => Snapshot::Nothing,
                }
            }
            EntryKind::CampaignOpened => Snapshot::Campaign,
            _ => Snapshot::Nothing,
        })
    }

    /// Every live dependant of the voided fact stays valid under the replacement now at `new`.
    fn still_valid<B: Books>(
        &self,
        books: &mut B,
        ctx: &Context<'_>,
        old_seq: Seq,
        new: Seq,
        dependants: &[Dependant],
    ) -> Res<(), B::Error> {
        if dependants.is_empty() {
            return Ok(());
        }
        let old = |kind: EntryKind| -> Vec<Dependant> {
            dependants
                .iter()
                .filter(|d| d.kind == kind)
                .cloned()
                .collect()
        };
        let refuse = |field: &str, broken: &[Dependant], why: String| -> Rejection<B::Error> {
            RuleError::refused(
                format!("replacement.{field}"),
                format!("the replacement would break {}: {why}", names(broken)),
            )
            .into()
        };
        // Dates in order (§9.4): no dependant may have happened before the replacement it now
        // draws on, is sent from or states of (a donation names a campaign whatever their dates).
        if !matches!(self, Snapshot::Campaign) {
            if let Some(at) = store(books.fact(new))?.map(|f| f.occurred_at) {
                let mut earlier = Vec::new();
                for dep in dependants.iter().filter(|d| d.organization.is_none()) {
                    if store(books.fact(dep.seq))?.is_some_and(|f| f.occurred_at < at) {
                        earlier.push(dep.clone());
                    }
                }
                if !earlier.is_empty() {
                    return Err(refuse(
                        "occurred_at",
                        &earlier,
                        format!(
                            "they happened before {}, the replacement's date",
                            at.to_rfc3339()
                        ),
                    ));
                }
            }
        }
        match self {
            Snapshot::Lot(old_lot) => {
                let Some(lot) = store(books.lot(new))? else {
                    return Ok(());
                };
                if lot.asset != old_lot.asset {
                    return Err(refuse(
                        "asset",
                        dependants,
                        format!("they draw {}, not {}", old_lot.asset, lot.asset),
                    ));
                }
                let drawn = old_lot.allocated + old_lot.expensed;
                if lot.received < drawn {
                    return Err(refuse(
                        "asset",
                        dependants,
                        format!(
                            "they draw {} and the replacement receives {}",
                            lot.asset.format(drawn),
                            lot.asset.format(lot.received)
                        ),
                    ));
                }
                // Every allocation drawing on it still honours the (new) designation, unless it
                // already departed from the old one (which took the donor's consent); no expense
                // is charged to it unless costs are allowed or were consented to.
                for dep in dependants {
                    match dep.kind {
                        EntryKind::AllocationMade => {
                            let Some(a) = store(books.allocation(dep.seq))? else {
                                continue;
                            };
                            let Some(r) = store(books.recipient(&a.recipient))? else {
                                continue;
                            };
                            let consented =
                                super::allocation::designation_breach(old_lot, &r).is_some();
                            if let Some(why) = super::allocation::designation_breach(&lot, &r) {
                                if !consented {
                                    return Err(refuse(
                                        "restriction",
                                        std::slice::from_ref(dep),
                                        why,
                                    ));
                                }
                            }
                        }
                        // Goods bought with this money carry the designation it had (§9.2):
                        // they must keep the replacement's, no looser in region, recipient or
                        // costs, or the donor's designation would not reach the goods.
                        EntryKind::ProcurementMade => {
                            let Some(d) = &lot.designation else {
                                continue;
                            };
                            let goods = store(books.lot(dep.seq))?.and_then(|g| g.designation);
                            let kept = d.is_kept_by(goods.as_deref())
                                && (d.costs_allowed
                                    || goods.as_ref().is_some_and(|g| !g.costs_allowed));
                            if !kept {
                                return Err(refuse(
                                    "restriction",
                                    std::slice::from_ref(dep),
                                    "the goods bought with this money would not carry the replacement's designation".into(),
                                ));
                            }
                        }
                        EntryKind::ExpenseRecorded => {
                            let barred =
                                |l: &Lot| l.designation.as_ref().is_some_and(|d| !d.costs_allowed);
                            if barred(&lot) && !barred(old_lot) {
                                return Err(refuse(
                                    "restriction",
                                    std::slice::from_ref(dep),
                                    "the replacement is designated without costs_allowed and this expense is charged to it".into(),
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Snapshot::Allocation { disbursed } => {
                let Some(a) = store(books.allocation(new))? else {
                    return Ok(());
                };
                let broken = old(EntryKind::DisbursementMade);
                let was = store(books.disbursement(broken[0].seq))?;
                if let Some(d) = was {
                    if d.recipient != a.recipient {
                        return Err(refuse(
                            "recipient",
                            &broken,
                            format!("they were sent to {}, not {}", d.recipient, a.recipient),
                        ));
                    }
                    if d.asset != a.asset {
                        return Err(refuse(
                            "asset",
                            &broken,
                            format!("they sent {}, not {}", d.asset, a.asset),
                        ));
                    }
                }
                if a.units < *disbursed {
                    return Err(refuse(
                        "asset",
                        &broken,
                        format!(
                            "they disbursed {} and the replacement allocates {}",
                            a.asset.format(*disbursed),
                            a.asset.format(a.units)
                        ),
                    ));
                }
            }
            Snapshot::Disbursement {
                acknowledged,
                asset,
            } => {
                let Some(d) = store(books.disbursement(new))? else {
                    return Ok(());
                };
                let statements: Vec<Dependant> = dependants
                    .iter()
                    .filter(|x| x.organization.is_none())
                    .cloned()
                    .collect();
                let transfers: Vec<Dependant> = dependants
                    .iter()
                    .filter(|x| x.organization.is_some())
                    .cloned()
                    .collect();
                let recipient = old_recipient(books, dependants)?;
                if let Some(r) = recipient {
                    if r != d.recipient.as_str() {
                        return Err(refuse(
                            "allocation",
                            dependants,
                            format!(
                                "they are statements of {r}, and the replacement sends to {}",
                                d.recipient
                            ),
                        ));
                    }
                }
                // What the recipient stated arrived (and what a receiving charity recorded) is
                // in the asset that was sent.
                if &d.asset != asset {
                    return Err(refuse(
                        "asset",
                        dependants,
                        format!(
                            "they speak of {asset}, and the replacement sends {}",
                            d.asset
                        ),
                    ));
                }
                if let Some(k) = acknowledged {
                    if d.units < *k {
                        return Err(refuse(
                            "asset",
                            &statements,
                            format!(
                                "{} was acknowledged as arrived and the replacement disburses {}",
                                d.asset.format(*k),
                                d.asset.format(d.units)
                            ),
                        ));
                    }
                }
                if !transfers.is_empty() {
                    let source = SourceDisbursement {
                        organization: ctx.org.id.clone(),
                        disbursement: old_seq,
                    };
                    let recorded = store(books.source_recorded_units(&source))?;
                    if d.units < recorded {
                        return Err(refuse(
                            "asset",
                            &transfers,
                            format!(
                                "they record {} received and the replacement disburses {}",
                                d.asset.format(recorded),
                                d.asset.format(d.units)
                            ),
                        ));
                    }
                }
            }
            Snapshot::Acknowledgement { used, disbursement } => {
                let fact = store(books.fact(new))?;
                // The usage reports stay with the disbursement they are about.
                if let Some(other) = fact.and_then(|f| f.about).filter(|d| d != disbursement) {
                    return Err(refuse(
                        "disbursement",
                        dependants,
                        format!("they report use of disbursement {disbursement}, and the replacement acknowledges disbursement {other}"),
                    ));
                }
                let about = fact.map_or(0, |f| f.units);
                if about < *used {
                    return Err(refuse(
                        "asset",
                        dependants,
                        format!("they report {used} units used and the replacement acknowledges {about}"),
                    ));
                }
            }
            Snapshot::Campaign => {
                // Donations name the campaign by slug: the replacement must keep it.
                let live = store(books.lot(dependants[0].seq))?;
                if let Some(lot) = live {
                    let kept = match &lot.campaign {
                        Some(id) => {
                            store(books.campaign(id))?.is_some_and(|c| c.live && c.seq == new)
                        }
                        None => true,
                    };
                    if !kept {
                        return Err(refuse(
                            "id",
                            dependants,
                            "they name the campaign by its id, which the replacement must keep"
                                .into(),
                        ));
                    }
                }
            }
            Snapshot::Nothing => {}
        }
        Ok(())
    }
}

/// The recipient whose statements depend on a disbursement (the author of its acknowledgement or
/// usage reports), if any.
fn old_recipient<B: Books>(
    books: &mut B,
    dependants: &[Dependant],
) -> Res<Option<String>, B::Error> {
    for dep in dependants.iter().filter(|d| d.organization.is_none()) {
        if let Some(d) = store(books.fact(dep.seq))?.and_then(|f| f.about) {
            if let Some(state) = store(books.disbursement(d))? {
                return Ok(Some(state.recipient.to_string()));
            }
        }
    }
    Ok(None)
}

fn parse_replacement(
    ctx: &Context<'_>,
    info: &FactInfo,
    body: &serde_json::Value,
) -> Result<Command, ValidationError> {
    let mut body = body.clone();
    let Some(obj) = body.as_object_mut() else {
        return Err(ValidationError::field("replacement", "must be an object"));
    };
    obj.entry("occurred_at")
        .or_insert_with(|| serde_json::Value::String(info.occurred_at.to_rfc3339()));
    if let Some(d) = info.about {
        obj.entry("disbursement")
            .or_insert_with(|| serde_json::json!({"organization": ctx.org.id, "seq": d}));
    }
    let bad = |e: serde_json::Error| ValidationError::field("replacement", e.to_string());
    Ok(match info.kind {
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
        EntryKind::ProcurementMade => {
            Command::Procurement(serde_json::from_value(body).map_err(bad)?)
        }
        EntryKind::AcknowledgementRecorded => {
            Command::Acknowledgement(serde_json::from_value(body).map_err(bad)?)
        }
        EntryKind::UsageReported => Command::Usage(serde_json::from_value(body).map_err(bad)?),
        EntryKind::EntryCorrected => {
            return Err(ValidationError::field(
                "replacement",
                "a correction notice cannot be replaced",
            ))
        }
        EntryKind::DisclosurePublished => {
            return Err(ValidationError::field(
                "replacement",
                "a disclosure cannot be replaced",
            ))
        }
    })
}
