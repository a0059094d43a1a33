//! Where an allocation or expense takes its units from: one named donation, or the undesignated
//! pool, oldest lots first.

use super::super::state::Lot;
use super::super::validate::{same_asset, store, Res};
use super::super::Books;
use crate::asset::Asset;
use crate::entry::{Draw, Seq};
use crate::error::{RuleError, ValidationError};

/// Take `units` from the pool of `key`, oldest lots first.
pub fn attribute_oldest_first(lots: &[Lot], units: i64) -> Option<Vec<(Seq, i64)>> {
    let mut left = units;
    let mut out = Vec::new();
    for lot in lots {
        if left == 0 {
            break;
        }
        let take = lot.remaining().min(left);
        if take > 0 {
            out.push((lot.seq, take));
            left -= take;
        }
    }
    (left == 0).then_some(out)
}

/// Where an allocation or expense takes its units from.
pub(super) enum Source {
    Lot(Seq),
    Pool,
}

pub(super) fn source(donation: Option<Seq>, pool: bool) -> Result<Source, ValidationError> {
    match (donation, pool) {
        (Some(s), false) => Ok(Source::Lot(s)),
        (None, true) => Ok(Source::Pool),
        (Some(_), true) => Err(ValidationError::field(
            "pool",
            "give either donation or pool, not both",
        )),
        (None, false) => Err(ValidationError::field(
            "donation",
            "give the donation's seq, or pool: true",
        )),
    }
}

pub(super) fn draw<B: Books>(
    books: &mut B,
    src: &Source,
    parsed: &Asset,
) -> Res<(Vec<Draw>, Option<Lot>), B::Error> {
    let key = parsed.key();
    let units = parsed.units();
    match src {
        Source::Lot(seq) => {
            let lot = match store(books.lot(*seq))? {
                Some(l) if l.live => l,
                _ => return Err(RuleError::not_found("donation", format!("donation {seq}")).into()),
            };
            same_asset("asset", &lot.asset, parsed)?;
            if units > lot.remaining() {
                return Err(RuleError::refused(
                    "asset",
                    format!(
                        "donation {seq} has {} left; {} asked",
                        key.format(lot.remaining()),
                        key.format(units)
                    ),
                )
                .into());
            }
            Ok((
                vec![Draw {
                    donation: *seq,
                    amount: key.format(units),
                }],
                Some(lot),
            ))
        }
        Source::Pool => {
            let lots = store(books.pool_lots(&key, units))?;
            let taken = attribute_oldest_first(&lots, units).ok_or_else(|| {
                let available: i64 = lots.iter().map(Lot::remaining).sum();
                RuleError::refused(
                    "asset",
                    format!(
                        "the undesignated pool of {key} has {} left; {} asked",
                        key.format(available),
                        key.format(units)
                    ),
                )
            })?;
            Ok((
                taken
                    .into_iter()
                    .map(|(donation, u)| Draw {
                        donation,
                        amount: key.format(u),
                    })
                    .collect(),
                None,
            ))
        }
    }
}
