//! `acknowledgement.recorded`: the recipient's statement of what actually arrived.

use super::super::validate::{
    check_occurred_at, collect, finish, not_before, same_asset, store, text, Res,
};
use super::super::Books;
use super::{public, recipient_disbursement, Context, Decision};
use crate::asset::AssetWire;
use crate::entry::{AcknowledgementBody, AcknowledgementRequest, Fact, MAX_TEXT};
use crate::error::{RuleError, ValidationError};

pub(super) fn decide_acknowledgement<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &AcknowledgementRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let note = collect(&mut errors, text("note", &r.note, MAX_TEXT, false));
    // "0" is a statement too: nothing arrived, and the whole disbursement is a shortfall.
    let parsed = r
        .asset
        .parse_input_or_zero()
        .map_err(|e| errors.extend(e.under("asset").0))
        .ok();
    finish(errors)?;
    let Some(parsed) = parsed else {
        return Err(ValidationError::field("asset", "invalid asset").into());
    };
    check_occurred_at(ctx.now, r.received_at, "received_at")?;
    let d = recipient_disbursement(books, ctx, &r.disbursement)?;
    if d.acknowledged.is_some() {
        return Err(RuleError::Conflict {
            field: "disbursement".into(),
            message: format!("disbursement {} is already acknowledged", d.seq),
        }
        .into());
    }
    same_asset("asset", &d.asset, &parsed)?;
    if let Some(info) = store(books.fact(d.seq))? {
        not_before(
            r.occurred_at,
            info.occurred_at,
            format_args!("disbursement {}", d.seq),
        )?;
    }
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
