//! `expense.recorded`: the charity's own cost, charged to a donation or the pool.

use super::super::validate::{asset, collect, finish, text, Res};
use super::super::Books;
use super::draws::{draw, source};
use super::{public, Decision};
use crate::asset::AssetWire;
use crate::entry::{ExpenseBody, ExpenseRequest, Fact, MAX_TEXT};
use crate::error::ValidationError;

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
