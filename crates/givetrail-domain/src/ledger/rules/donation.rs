//! `donation.received`: recording a gift, with the donor's private details kept as commitments.

use super::super::validate::{asset, collect, finish, same_asset, store, text, Res};
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
    } = fields(r)?;
    check_receipt_and_campaign(books, ctx, r, &receipt)?;
    let restriction = designation(books, r, purpose)?;
    check_related_recipients(books, r)?;
    check_source(books, ctx, r, &parsed)?;
    let (donor, private) = public_donor(ctx, r, &name, public_name, contact);
    let body = DonationBody {
        receipt_number: receipt,
        donor,
        campaign: r.campaign.clone(),
        channel: r.channel,
        restriction,
        asset: AssetWire::from(&parsed),
        source_disbursement: r.source_disbursement.clone(),
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
        text("receipt_number", &r.receipt_number, MAX_SHORT_TEXT, true),
    );
    let name = collect(
        &mut errors,
        text("donor.name", &r.donor.name, MAX_SHORT_TEXT, true),
    );
    let public_name = match &r.donor.public_name {
        Some(n) => collect(
            &mut errors,
            text("donor.public_name", n, MAX_SHORT_TEXT, true),
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
    })
}

/// The receipt number is not used by a live donation, and the campaign, if named, is live.
fn check_receipt_and_campaign<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &DonationRequest,
    receipt: &str,
) -> Res<(), B::Error> {
    if store(books.receipt_in_use(receipt))? {
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

/// A gift passed on by another charity names a disbursement of it that went to a recipient linked
/// to this organisation, in the same asset, not recorded before.
fn check_source<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &DonationRequest,
    parsed: &Asset,
) -> Res<(), B::Error> {
    let Some(src) = &r.source_disbursement else {
        return Ok(());
    };
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
    if store(books.source_recorded(src))? {
        return Err(RuleError::Conflict {
            field: "source_disbursement".into(),
            message: "that disbursement is already recorded as a donation".into(),
        }
        .into());
    }
    Ok(())
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
