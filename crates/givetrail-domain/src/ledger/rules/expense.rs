//! `expense.recorded`: the charity's own cost, charged to a donation or the pool.

use super::super::validate::{asset, collect, designation_change, finish, text, Res};
use super::super::Books;
use super::draws::{draw, source};
use super::{public, Decision};
use crate::asset::AssetWire;
use crate::entry::{ExpenseBody, ExpenseRequest, Fact, MAX_TEXT};
use crate::error::{RuleError, ValidationError};

pub(super) fn decide_expense<B: Books>(
    books: &mut B,
    r: &ExpenseRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let description = collect(
        &mut errors,
        text("description", &r.description, MAX_TEXT, true),
    );
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    let change = designation_change(&mut errors, r.designation_change.as_ref());
    let src = source(r.donation, r.pool)
        .map_err(|e| errors.extend(e.0))
        .ok();
    finish(errors)?;
    let (Some(parsed), Some(src)) = (parsed, src) else {
        return Err(ValidationError::field("", "invalid expense").into());
    };
    let (drawn_from, lot) = draw(books, &src, &parsed)?;
    super::allocation::drawn_not_after(books, r.occurred_at, &drawn_from)?;
    let costs_barred = lot
        .as_ref()
        .and_then(|l| l.designation.as_ref())
        .is_some_and(|d| !d.costs_allowed);
    match (costs_barred, &change) {
        (true, None) => {
            return Err(RuleError::refused(
                "donation",
                format!(
                    "donation {} is designated and its donor did not allow costs to be charged to it (costs_allowed); charging it needs designation_change with the donor's consent reference",
                    r.donation.unwrap_or_default()
                ),
            )
            .into())
        }
        (false, Some(_)) => {
            return Err(RuleError::refused(
                "designation_change",
                "this expense draws on funds that allow costs; no designation change applies",
            )
            .into())
        }
        _ => {}
    }
    Ok(public(Fact::Expense(ExpenseBody {
        donation: r.donation,
        pool: r.pool,
        asset: AssetWire::from(&parsed),
        description: description.unwrap_or_default(),
        designation_change: change,
        drawn_from,
    })))
}
