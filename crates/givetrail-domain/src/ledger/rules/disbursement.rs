//! `disbursement.made`: sending part of an allocation to its recipient.

use super::super::validate::{asset, collect, finish, line, not_before, same_asset, store, Res};
use super::super::Books;
use super::{public, Decision};
use crate::asset::AssetWire;
use crate::entry::{DisbursementBody, DisbursementRequest, Fact, MAX_SHORT_TEXT};
use crate::error::{RuleError, ValidationError};

pub(super) fn decide_disbursement<B: Books>(
    books: &mut B,
    r: &DisbursementRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let reference = collect(
        &mut errors,
        line("reference", &r.reference, MAX_SHORT_TEXT, true),
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
    if let Some(info) = store(books.fact(alloc.seq))? {
        not_before(
            r.occurred_at,
            info.occurred_at,
            format_args!("allocation {}", alloc.seq),
        )?;
    }
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
