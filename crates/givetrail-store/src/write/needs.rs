//! Posting a recipient's need (numbered `need-<n>` in posting order) and withdrawing it, inside
//! the writer's transaction.

use diesel::prelude::*;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::error::RuleError;
use givetrail_domain::needs::{Need, ValidNeed};

use crate::db::AnyConnection;
use crate::read::needs::{corrupt, get};
use crate::schema::*;
use crate::{StoreError, WriteError};

/// A need to insert: validated, with its recipient's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNeed {
    /// The posting recipient.
    pub recipient: String,
    /// The recipient's region code (copied so the board filters by region without a join).
    pub region_code: String,
    /// The validated request.
    pub need: ValidNeed,
}

/// Insert a need, numbering it after the last one (`need-<number>`); returns it as stored.
pub fn insert(conn: &mut AnyConnection, n: &NewNeed, posted_at: i64) -> Result<Need, StoreError> {
    let AssetKey::Goods(goods) = &n.need.asset else {
        return Err(corrupt("a need asks for goods"));
    };
    let item = &goods.item;
    let last: Option<i64> = needs::table
        .select(diesel::dsl::max(needs::number))
        .first(conn)?;
    let number = last.unwrap_or(0) + 1;
    let id = format!("need-{number}");
    diesel::insert_into(needs::table)
        .values((
            needs::id.eq(&id),
            needs::number.eq(number),
            needs::recipient.eq(&n.recipient),
            needs::region_code.eq(&n.region_code),
            needs::asset_key.eq(n.need.asset.to_key_string()),
            needs::item.eq(item),
            needs::units.eq(n.need.units),
            needs::urgency.eq(n.need.urgency.as_str()),
            needs::needed_by.eq(n.need.needed_by.map(crate::micros)),
            needs::note.eq(&n.need.note),
            needs::posted_at.eq(posted_at),
        ))
        .execute(conn)?;
    get(conn, &id)?.ok_or_else(|| corrupt(format!("{id} vanished after insert")))
}

/// A recipient withdrawing one of its needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedWithdrawal {
    /// The need (`need-17`).
    pub need: String,
    /// The recipient whose key asks.
    pub recipient: String,
    /// The validated reason.
    pub reason: String,
}

/// Withdraw a need: 404 if there is none, 403 if another recipient posted it, 409 if it is met
/// or already withdrawn (decided by `Need::check_withdrawal` on the need as it stands inside the
/// transaction); returns the need as stored.
pub fn withdraw(conn: &mut AnyConnection, w: &NeedWithdrawal, at: i64) -> Result<Need, WriteError> {
    let need = get(conn, &w.need)?.ok_or_else(|| {
        WriteError::rule(RuleError::not_found("need", format!("need {}", w.need)))
    })?;
    need.check_withdrawal(&w.recipient)
        .map_err(WriteError::rule)?;
    let changed = diesel::update(
        needs::table
            .filter(needs::id.eq(&w.need))
            .filter(needs::withdrawn_at.is_null()),
    )
    .set((
        needs::withdrawn_at.eq(at),
        needs::withdrawal_reason.eq(&w.reason),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Err(WriteError::rule(RuleError::Conflict {
            field: "need".into(),
            message: format!("need {} was already withdrawn", w.need),
        }));
    }
    Ok(get(conn, &w.need)?.ok_or_else(|| corrupt(format!("{} vanished", w.need)))?)
}
