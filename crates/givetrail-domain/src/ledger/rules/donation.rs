//! `donation.received`: recording a gift, with the donor's private details kept as commitments.

use super::super::state::Designation;
use super::super::validate::{
    asset, collect, designation_change, finish, line, not_before, same_asset, store, text, Res,
};
use super::super::Books;
use super::{Context, Decision, PrivateValue, PrivateValues};
use crate::asset::{Asset, AssetWire};
use crate::entry::*;
use crate::error::{FieldError, RuleError, ValidationError};
use crate::privacy::{commitment, mask_person_name};

/// A donation request's fields, checked one by one (all field errors at once).
struct Fields {
    receipt: String,
    name: String,
    public_name: Option<String>,
    contact: Option<String>,
    parsed: Asset,
    purpose: Option<String>,
    change: Option<DesignationChange>,
}

pub(super) fn decide_donation<B: Books>(
    books: &mut B,
    ctx: &mut Context<'_>,
    r: &DonationRequest,
) -> Res<Decision, B::Error> {
    let Fields {
        receipt,
        name,
        public_name,
        contact,
        parsed,
        purpose,
        change,
    } = fields(r)?;
    check_receipt_and_campaign(books, ctx, r, &receipt)?;
    let restriction = designation(books, r, purpose)?;
    check_related_recipients(books, r)?;
    check_source(books, ctx, r, &parsed, &restriction, change.as_ref())?;
    let (donor, private) = public_donor(ctx, r, &name, public_name, contact);
    let body = DonationBody {
        receipt_number: receipt,
        donor,
        campaign: r.campaign.clone(),
        channel: r.channel,
        restriction,
        asset: AssetWire::from(&parsed),
        source_disbursement: r.source_disbursement.clone().map(Box::new),
        designation_change: change.map(Box::new),
    };
    Ok(Decision {
        fact: Fact::Donation(body),
        private,
    })
}

fn fields(r: &DonationRequest) -> Result<Fields, ValidationError> {
    let mut errors = Vec::new();
    let receipt = collect(
        &mut errors,
        line("receipt_number", &r.receipt_number, MAX_SHORT_TEXT, true),
    );
    let name = collect(
        &mut errors,
        line("donor.name", &r.donor.name, MAX_SHORT_TEXT, true),
    );
    let public_name = match &r.donor.public_name {
        Some(n) => collect(
            &mut errors,
            line("donor.public_name", n, MAX_SHORT_TEXT, true),
        ),
        None => None,
    };
    let contact = match &r.donor.contact {
        Some(c) => collect(&mut errors, text("donor.contact", c, MAX_SHORT_TEXT, false))
            .filter(|c| !c.is_empty()),
        None => None,
    };
    let parsed = asset("asset", &r.asset)
        .map_err(|e| errors.extend(e.0))
        .ok();
    if let RestrictionWire::Designated {
        region_code: None,
        recipient: None,
        ..
    } = &r.restriction
    {
        errors.push(FieldError::new(
            "restriction",
            "a designation names a region_code, a recipient, or both",
        ));
    }
    let change = designation_change(&mut errors, r.designation_change.as_ref());
    if change.is_some() && r.source_disbursement.is_none() {
        errors.push(FieldError::new(
            "designation_change",
            "only a gift passed on by another charity (source_disbursement) departs from a designation",
        ));
    }
    let purpose = match &r.restriction {
        RestrictionWire::Designated {
            purpose: Some(p), ..
        } => collect(&mut errors, text("restriction.purpose", p, MAX_TEXT, false)),
        _ => None,
    };
    finish(errors)?;
    let (Some(receipt), Some(name), Some(parsed)) = (receipt, name, parsed) else {
        return Err(ValidationError::field("", "invalid donation"));
    };
    Ok(Fields {
        receipt,
        name,
        public_name,
        contact,
        parsed,
        purpose,
        change,
    })
}

/// The receipt number is not used by a live donation, and the campaign, if named, is live.
fn check_receipt_and_campaign<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &DonationRequest,
    receipt: &str,
) -> Res<(), B::Error> {
    // A number once used is never used again, even after its donation was voided; only the
    // replacement of a donation may keep that donation's number.
    let kept = match ctx.replacing {
        Some(seq) => store(books.lot(seq))?.is_some_and(|l| l.receipt_number == receipt),
        None => false,
    };
    if !kept && store(books.receipt_in_use(receipt))? {
        return Err(RuleError::Conflict {
            field: "receipt_number".into(),
            message: format!(
                "receipt number {receipt} is already recorded by {}",
                ctx.org.id
            ),
        }
        .into());
    }
    if let Some(c) = &r.campaign {
        match store(books.campaign(c))? {
            Some(state) if state.live => {}
            _ => return Err(RuleError::not_found("campaign", format!("campaign {c}")).into()),
        }
    }
    Ok(())
}

/// The designation as recorded: a designated recipient exists, is not related to the donor, and
/// lies inside the designated region.
fn designation<B: Books>(
    books: &mut B,
    r: &DonationRequest,
    purpose: Option<String>,
) -> Res<RestrictionWire, B::Error> {
    Ok(match &r.restriction {
        RestrictionWire::None => RestrictionWire::None,
        RestrictionWire::Designated {
            region_code,
            recipient,
            costs_allowed,
            ..
        } => {
            if let Some(rid) = recipient {
                let info = store(books.recipient(rid))?.ok_or_else(|| {
                    RuleError::not_found("restriction.recipient", format!("recipient {rid}"))
                })?;
                if r.donor.related_recipients.contains(rid) {
                    return Err(RuleError::refused(
                        "restriction.recipient",
                        format!("the donor is related to recipient {rid} and may not designate it"),
                    )
                    .into());
                }
                if let Some(region) = region_code {
                    if !region.contains(&info.region_code) {
                        return Err(RuleError::refused(
                            "restriction.region_code",
                            format!(
                                "recipient {rid} ({}) lies outside the designated region {region}",
                                info.region_code
                            ),
                        )
                        .into());
                    }
                }
            }
            RestrictionWire::Designated {
                region_code: region_code.clone(),
                recipient: recipient.clone(),
                purpose,
                costs_allowed: *costs_allowed,
            }
        }
    })
}

/// Every recipient the donor declares a relation to exists.
fn check_related_recipients<B: Books>(books: &mut B, r: &DonationRequest) -> Res<(), B::Error> {
    for (i, rid) in r.donor.related_recipients.iter().enumerate() {
        if store(books.recipient(rid))?.is_none() {
            return Err(RuleError::not_found(
                format!("donor.related_recipients[{i}]"),
                format!("recipient {rid}"),
            )
            .into());
        }
    }
    Ok(())
}

/// A gift passed on by another charity (level by level) names a disbursement of it that went to a
/// recipient linked to this organisation: in the same asset, for no more than what of it is not
/// yet recorded, not before it was sent, and keeping the designations it drew on unless the
/// donor consented to a change.
fn check_source<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &DonationRequest,
    parsed: &Asset,
    restriction: &RestrictionWire,
    change: Option<&DesignationChange>,
) -> Res<(), B::Error> {
    let Some(src) = &r.source_disbursement else {
        return Ok(());
    };
    if r.channel != DonationChannel::TransferFromCharity {
        return Err(RuleError::refused(
            "channel",
            "a gift passed on by another charity has channel transfer_from_charity",
        )
        .into());
    }
    let d = store(books.foreign_disbursement(src))?.ok_or_else(|| {
        RuleError::not_found(
            "source_disbursement",
            format!("disbursement {} of {}", src.disbursement, src.organization),
        )
    })?;
    let linked = store(books.recipient(&d.recipient))?.and_then(|r| r.organization);
    if linked.as_ref() != Some(&ctx.org.id) {
        return Err(RuleError::refused(
            "source_disbursement",
            format!(
                "that disbursement went to {}, which is not linked to {}",
                d.recipient, ctx.org.id
            ),
        )
        .into());
    }
    same_asset("asset", &d.asset, parsed)?;
    not_before(
        r.occurred_at,
        d.occurred_at,
        format_args!("disbursement {} of {}", src.disbursement, src.organization),
    )?;
    let recorded = store(books.source_recorded_units(src))?;
    let left = d.units - recorded;
    if parsed.units() > left {
        return Err(RuleError::refused(
            "asset",
            format!(
                "disbursement {} of {} sent {}, of which {} is not yet recorded; {} recorded here",
                src.disbursement,
                src.organization,
                d.asset.format(d.units),
                d.asset.format(left.max(0)),
                d.asset.format(parsed.units())
            ),
        )
        .into());
    }
    let mine = match restriction {
        RestrictionWire::None => None,
        RestrictionWire::Designated {
            region_code,
            recipient,
            costs_allowed,
            ..
        } => Some(Designation {
            region_code: region_code.clone(),
            recipient: recipient.clone(),
            costs_allowed: *costs_allowed,
        }),
    };
    let dropped = d.designations.iter().find(|s| !s.is_kept_by(mine.as_ref()));
    match (dropped, change) {
        (Some(s), None) => {
            let mut what = Vec::new();
            if let Some(region) = &s.region_code {
                what.push(format!("region {region}"));
            }
            if let Some(rid) = &s.recipient {
                what.push(format!("recipient {rid}"));
            }
            Err(RuleError::refused(
                "restriction",
                format!(
                    "disbursement {} of {} drew on a donation designated for {}; the gift passed on keeps that designation unless designation_change gives the donor's consent reference",
                    src.disbursement,
                    src.organization,
                    what.join(" and ")
                ),
            )
            .into())
        }
        (None, Some(_)) => Err(RuleError::refused(
            "designation_change",
            "this gift keeps every designation of its source disbursement; no designation change applies",
        )
        .into()),
        _ => Ok(()),
    }
}

/// The donor as the public sees it, and the private values behind its commitments.
fn public_donor(
    ctx: &mut Context<'_>,
    r: &DonationRequest,
    name: &str,
    public_name: Option<String>,
    contact: Option<String>,
) -> (PublicDonor, PrivateValues) {
    let mut private = PrivateValues::default();
    let mut commit = |path: &str, value: serde_json::Value, salt: &mut dyn FnMut() -> String| {
        let s = salt();
        let c = commitment(&s, &value);
        private
            .values
            .insert(path.to_owned(), PrivateValue { value, salt: s });
        c
    };
    let (display_name, name_shown) = match (r.donor.anonymous, r.donor.kind, &public_name) {
        (true, _, _) => (None, false),
        (false, _, Some(p)) => (Some(p.clone()), p == name),
        (false, DonorKind::Organization, None) => (Some(name.to_owned()), true),
        (false, DonorKind::Individual, None) => (Some(mask_person_name(name)), false),
    };
    let name_commitment =
        (!name_shown).then(|| commit("donor.name", serde_json::json!(name), ctx.salt));
    let contact_commitment =
        contact.map(|c| commit("donor.contact", serde_json::json!(c), ctx.salt));
    let related_recipients_commitment = (!r.donor.related_recipients.is_empty()).then(|| {
        commit(
            "donor.related_recipients",
            serde_json::json!(r.donor.related_recipients),
            ctx.salt,
        )
    });
    (
        PublicDonor {
            kind: r.donor.kind,
            anonymous: r.donor.anonymous,
            display_name,
            name_commitment,
            contact_commitment,
            related_recipients_commitment,
        },
        private,
    )
}
