//! `usage.reported`: the recipient's statement of how it used what arrived.

use super::super::validate::{asset, collect, finish, not_before, same_asset, store, text, Res};
use super::super::Books;
use super::{public, recipient_disbursement, Context, Decision};
use crate::asset::AssetWire;
use crate::entry::{Fact, UsageBody, UsageRequest, MAX_TEXT};
use crate::error::{FieldError, RuleError, ValidationError};

pub(super) fn decide_usage<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &UsageRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let description = collect(
        &mut errors,
        text("description", &r.description, MAX_TEXT, true),
    );
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    if let Some(h) = &r.evidence_sha256 {
        if h.len() != 64
            || !h
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            errors.push(FieldError::new(
                "evidence_sha256",
                "must be 64 lowercase hex characters",
            ));
        }
    }
    finish(errors)?;
    let Some(parsed) = parsed else {
        return Err(ValidationError::field("asset", "invalid asset").into());
    };
    let d = recipient_disbursement(books, ctx, &r.disbursement)?;
    same_asset("asset", &d.asset, &parsed)?;
    if let Some(info) = store(books.fact(d.seq))? {
        not_before(
            r.occurred_at,
            info.occurred_at,
            format_args!("disbursement {}", d.seq),
        )?;
    }
    for dep in store(books.dependants(d.seq, 64))? {
        if dep.organization.is_none()
            && dep.kind == crate::entry::EntryKind::AcknowledgementRecorded
        {
            if let Some(info) = store(books.fact(dep.seq))? {
                not_before(
                    r.occurred_at,
                    info.occurred_at,
                    format_args!("acknowledgement {}", dep.seq),
                )?;
            }
        }
    }
    let acknowledged = d.acknowledged.unwrap_or(0);
    if parsed.units() > acknowledged - d.used {
        return Err(RuleError::refused(
            "asset",
            format!(
                "disbursement {} has {} acknowledged and not yet reported used; {} reported",
                d.seq,
                d.asset.format(acknowledged - d.used),
                d.asset.format(parsed.units())
            ),
        )
        .into());
    }
    Ok(public(Fact::Usage(UsageBody {
        disbursement: d.seq,
        recipient: d.recipient,
        asset: AssetWire::from(&parsed),
        description: description.unwrap_or_default(),
        evidence_sha256: r.evidence_sha256.clone(),
    })))
}
