//! Posting a recipient's need: numbered `need-<n>` in posting order, inside the writer's
//! transaction.

use diesel::prelude::*;

use givetrail_domain::asset::{AssetKey, GoodsKind};
use givetrail_domain::needs::{Need, ValidNeed};

use crate::db::AnyConnection;
use crate::read::needs::{corrupt, get};
use crate::schema::*;
use crate::StoreError;

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
    let AssetKey::Goods(GoodsKind { item, .. }) = &n.need.asset else {
        return Err(corrupt("a need asks for goods"));
    };
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
