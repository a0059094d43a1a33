//! `allocation.made`: pledging part of a donation, or of the undesignated pool, to a recipient,
//! honouring the donor's designation and, when named, the recipient's need.

use super::super::state::{Lot, RecipientInfo};
use super::super::validate::{
    asset, collect, designation_change, finish, not_before, store, text, Res,
};
use super::super::Books;
use super::draws::{draw, source};
use super::{public, Decision};
use crate::asset::AssetWire;
use crate::entry::{AllocationBody, AllocationRequest, Fact, MAX_TEXT};
use crate::error::{RuleError, ValidationError};

pub(super) fn decide_allocation<B: Books>(
    books: &mut B,
    r: &AllocationRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let purpose = collect(&mut errors, text("purpose", &r.purpose, MAX_TEXT, false));
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    let change = designation_change(&mut errors, r.designation_change.as_ref());
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
        need.check_allocation(&r.recipient, &parsed.key())?;
    }
    let (drawn_from, lot) = draw(books, &src, &parsed)?;
    drawn_not_after(books, r.occurred_at, &drawn_from)?;
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

/// Nothing is allocated, spent or bought before the donations (or purchases) it draws on arrived.
pub(super) fn drawn_not_after<B: Books>(
    books: &mut B,
    at: chrono::DateTime<chrono::Utc>,
    drawn_from: &[crate::entry::Draw],
) -> Res<(), B::Error> {
    for d in drawn_from {
        if let Some(info) = store(books.fact(d.donation))? {
            not_before(at, info.occurred_at, format_args!("entry {}", d.donation))?;
        }
    }
    Ok(())
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
