//! `entry.corrected`: voiding an earlier entry of the charity, optionally replacing it.

use chrono::{DateTime, Utc};

use super::super::validate::{check_occurred_at, store, text, Res};
use super::super::{Books, Change};
use super::{decide, fact_changes, Context, Decision, PrivateValues, Rejection};
use crate::entry::{Command, CorrectionBody, CorrectionRequest, EntryKind, Fact, Seq, MAX_TEXT};
use crate::error::{RuleError, ValidationError};

/// Whether the charity may correct an entry of `kind`: its own statements, yes; the recipient's
/// statements (acknowledgement, usage) and correction notices, no.
fn correctable(kind: EntryKind) -> bool {
    match kind {
        EntryKind::CampaignOpened
        | EntryKind::DonationReceived
        | EntryKind::AllocationMade
        | EntryKind::DisbursementMade
        | EntryKind::ExpenseRecorded => true,
        EntryKind::AcknowledgementRecorded
        | EntryKind::UsageReported
        | EntryKind::EntryCorrected => false,
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
    if !correctable(info.kind) {
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
        check_occurred_at(ctx.now, at, "replacement.occurred_at")?;
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
        other @ (EntryKind::AcknowledgementRecorded
        | EntryKind::UsageReported
        | EntryKind::EntryCorrected) => {
            return Err(ValidationError::field(
                "replacement",
                format!("a {} entry cannot be replaced", other.as_str()),
            ))
        }
    })
}
