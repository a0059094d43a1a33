//! `GET /trail/{org}/{receipt_number}`: where one donation went, step by step, following gifts
//! into other charities' logs.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use givetrail_store::read::model::ReadModel;
use std::collections::BTreeMap;

use givetrail_domain::disclosure::trail::{self, Trail};
use givetrail_domain::entry::RestrictionWire;
use givetrail_store::read::disclosure as disclosure_store;
use givetrail_store::{AnyConnection, StoreError};

use super::{at, entry_no, Step};
use crate::db::read_snapshot;
use crate::link::encode;
use crate::problem::ApiError;
use crate::site::i18n::{fill, Lang};
use crate::site::{format, html, lang_of, page, positive, Layout};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "trail.html")]
struct TrailPage {
    layout: Layout,
    org_id: String,
    org_name: String,
    intro: String,
    facts: Vec<(String, String)>,
    totals: Vec<(String, String, bool)>,
    unaccounted: Vec<String>,
    steps: Vec<Step>,
    corrections: Vec<String>,
    /// The page's QR code (same origin: the CSP allows it).
    qr_src: String,
}

/// Names of what a trail's facts give by slug: the recipient a gift is designated to, the
/// organisation a transferred gift came from, the campaign it was given to (its title).
pub type Names = BTreeMap<String, String>;

/// Read the trail of the donation with receipt number `receipt` in `org`'s log (inside one
/// snapshot: the trail reads every log it follows), or the correction that voided it, and the
/// names its facts need.
pub fn load_trail(
    c: &mut AnyConnection,
    model: &ReadModel,
    org: &str,
    receipt: &str,
) -> Result<(trail::Traced, Names), StoreError> {
    let traced =
        trail::trace_receipt(&mut disclosure_store::Logs { conn: c, model }, org, receipt)?;
    let mut names = Names::new();
    if let trail::Traced::Found(tr) = &traced {
        if let RestrictionWire::Designated {
            recipient: Some(r), ..
        } = &tr.restriction
        {
            let directory = disclosure_store::directory(c, &[r.as_str().to_owned()])?;
            names.extend(directory.into_iter().map(|(id, p)| (id, p.name)));
        }
        if let Some(s) = &tr.source_disbursement {
            if let Some(o) = givetrail_store::registry::organization(c, s.organization.as_str())? {
                names.insert(o.id, o.name);
            }
        }
        if let Some(campaign) = &tr.campaign {
            if let Some(ledger) = model.ledger(c, &tr.organization)? {
                if let Some(body) = ledger.campaign_body(campaign) {
                    names.insert(campaign.clone(), body.title.clone());
                }
            }
        }
    }
    Ok((traced, names))
}

/// A correction notice in words: what it corrected, why, and what changed.
fn correction_text(c: &trail::TrailCorrection, lang: Lang) -> String {
    let t = lang.text();
    let mut out = fill(
        t.correction_notice,
        &[
            ("seq", &c.seq.to_string()),
            ("corrects", &c.corrects.to_string()),
            ("kind", t.entry_kind(c.corrected_kind)),
            ("reason", &c.reason),
        ],
    );
    let asset_of = |f: &givetrail_domain::entry::Fact| {
        serde_json::to_value(f)
            .ok()
            .and_then(|v| {
                v.get("asset")
                    .or_else(|| v.get("paid"))
                    .cloned()
                    .and_then(|a| serde_json::from_value(a).ok())
            })
            .map(|a| format::asset(&a, lang))
    };
    match (&c.after, asset_of(&c.before)) {
        (None, _) => out.push_str(&format!(" ({})", t.correction_void)),
        (Some(after), Some(before)) => {
            if let Some(after) = asset_of(after).filter(|a| *a != before) {
                out.push_str(&format!(" ({before} → {after})"));
            }
        }
        (Some(_), None) => {}
    }
    if c.author
        .as_ref()
        .is_some_and(|a| a.role == givetrail_domain::entry::Role::Recipient)
    {
        out.push_str(&format!(" · {}", t.corrected_by_recipient));
    }
    out
}

fn recipient_href(id: &str, lang: Lang) -> String {
    format!("/recipients/{}?lang={}", encode(id), lang.code())
}

/// Flatten a trail (and the onward trails inside it) into steps.
fn trail_steps(tr: &Trail, depth: usize, lang: Lang, out: &mut Vec<Step>) {
    let t = lang.text();
    let label = format::asset_label(&tr.asset);
    let amount = |s: &str| format::amount_of(&label, s, lang);
    allocation_steps(&tr.allocations, &label, depth, lang, out);
    for p in &tr.purchases {
        let goods = format::asset_label(&p.goods_total);
        let (when, when_iso) = at(&p.occurred_at, lang);
        out.push(Step {
            depth,
            class: "bought",
            heading: fill(
                t.step_bought,
                &[
                    ("goods", &format::asset(&p.goods_total, lang)),
                    ("supplier", &p.supplier.name),
                ],
            ),
            href: None,
            when,
            when_iso,
            entry: entry_no(t, p.seq),
            lines: vec![
                (
                    t.paid_from_this_donation.to_owned(),
                    amount(&p.paid_from_this_donation),
                ),
                (
                    t.goods_from_this_donation.to_owned(),
                    format::amount_of(&goods, &p.goods_from_this_donation, lang),
                ),
                (
                    t.unit_price.to_owned(),
                    format::amount_of(&label, &p.unit_price, lang),
                ),
                (t.invoice.to_owned(), p.invoice_reference.clone()),
            ],
            warn: positive(&p.goods_totals.unallocated).then(|| {
                format!(
                    "{}: {}",
                    t.unallocated,
                    format::amount_of(&goods, &p.goods_totals.unallocated, lang)
                )
            }),
        });
        allocation_steps(&p.allocations, &goods, depth + 1, lang, out);
    }
    for e in &tr.expenses {
        let (when, when_iso) = at(&e.occurred_at, lang);
        out.push(Step {
            depth,
            class: "expense",
            heading: t.expenses_heading.to_owned(),
            href: None,
            when,
            when_iso,
            entry: entry_no(t, e.seq),
            lines: vec![
                (
                    t.from_this_donation.to_owned(),
                    amount(&e.from_this_donation),
                ),
                (t.purpose.to_owned(), e.description.clone()),
            ],
            warn: None,
        });
    }
}

/// The steps of allocations drawing on a lot (`label`: the lot's asset, for amounts).
fn allocation_steps(
    allocations: &[trail::TrailAllocation],
    label: &givetrail_domain::disclosure::AssetLabel,
    depth: usize,
    lang: Lang,
    out: &mut Vec<Step>,
) {
    let t = lang.text();
    let amount = |s: &str| format::amount_of(label, s, lang);
    for a in allocations {
        let name = a
            .recipient_name
            .clone()
            .unwrap_or_else(|| a.recipient.clone());
        let (when, when_iso) = at(&a.occurred_at, lang);
        let mut lines = vec![(
            t.from_this_donation.to_owned(),
            amount(&a.from_this_donation),
        )];
        if !a.purpose.is_empty() {
            lines.push((t.purpose.to_owned(), a.purpose.clone()));
        }
        if a.pool {
            lines.push((t.allocated.to_owned(), t.pool_note.to_owned()));
        }
        if let Some(c) = &a.designation_change {
            lines.push((t.designation_change.to_owned(), c.reason.clone()));
            lines.push((
                t.consent_reference.to_owned(),
                c.donor_consent_reference.clone(),
            ));
        }
        out.push(Step {
            depth,
            class: "allocated",
            heading: fill(t.step_allocated, &[("recipient", &name)]),
            href: Some(recipient_href(&a.recipient, lang)),
            when,
            when_iso,
            entry: entry_no(t, a.seq),
            lines,
            warn: positive(&a.undisbursed_from_this_donation).then(|| {
                format!(
                    "{}: {}",
                    t.undisbursed_here,
                    amount(&a.undisbursed_from_this_donation)
                )
            }),
        });
        for d in &a.disbursements {
            let name = d
                .recipient_name
                .clone()
                .unwrap_or_else(|| d.recipient.clone());
            let (when, when_iso) = at(&d.occurred_at, lang);
            out.push(Step {
                depth,
                class: "sent",
                heading: fill(t.step_sent, &[("recipient", &name)]),
                href: Some(recipient_href(&d.recipient, lang)),
                when,
                when_iso,
                entry: entry_no(t, d.seq),
                lines: vec![
                    (
                        t.from_this_donation.to_owned(),
                        amount(&d.from_this_donation),
                    ),
                    (
                        t.reference.to_owned(),
                        format!("{} ({})", d.reference, t.channel(&channel_name(d))),
                    ),
                ],
                warn: None,
            });
            match &d.acknowledgement {
                Some(ack) => {
                    let (when, when_iso) = at(&ack.received_at, lang);
                    let mut lines = vec![(
                        t.from_this_donation.to_owned(),
                        amount(&ack.from_this_donation),
                    )];
                    if !ack.note.is_empty() {
                        lines.push((t.note.to_owned(), ack.note.clone()));
                    }
                    let whole = format::asset_label(&d.disbursement_total);
                    out.push(Step {
                        depth,
                        class: "arrived",
                        heading: fill(t.step_arrived, &[("recipient", &name)]),
                        href: None,
                        when,
                        when_iso,
                        entry: entry_no(t, ack.seq),
                        lines,
                        warn: positive(&ack.shortfall_total).then(|| {
                            fill(
                                t.short_by,
                                &[(
                                    "amount",
                                    &format::amount_of(&whole, &ack.shortfall_total, lang),
                                )],
                            )
                        }),
                    });
                }
                None => out.push(Step {
                    depth,
                    class: "unacknowledged",
                    heading: t.unacknowledged.to_owned(),
                    href: None,
                    when: String::new(),
                    when_iso: String::new(),
                    entry: String::new(),
                    lines: Vec::new(),
                    warn: Some(fill(t.not_yet_acknowledged, &[("recipient", &name)])),
                }),
            }
            for u in &d.usage_reports {
                let (when, when_iso) = at(&u.occurred_at, lang);
                let mut lines = vec![
                    (
                        t.from_this_donation.to_owned(),
                        amount(&u.from_this_donation),
                    ),
                    (t.purpose.to_owned(), u.description.clone()),
                ];
                if let Some(h) = &u.evidence_sha256 {
                    lines.push((t.evidence.to_owned(), h.clone()));
                }
                out.push(Step {
                    depth,
                    class: "used",
                    heading: t.step_used.to_owned(),
                    href: None,
                    when,
                    when_iso,
                    entry: entry_no(t, u.seq),
                    lines,
                    warn: None,
                });
            }
            if let Some(next) = &d.onward {
                let (when, when_iso) = at(&next.occurred_at, lang);
                out.push(Step {
                    depth: depth + 1,
                    class: "onward",
                    heading: fill(t.onward, &[("org", &next.organization_name)]),
                    href: Some(format!(
                        "/trail/{}/{}?lang={}",
                        encode(&next.organization),
                        encode(&next.receipt_number),
                        lang.code()
                    )),
                    when,
                    when_iso,
                    entry: entry_no(t, next.donation),
                    lines: vec![(
                        t.search_receipt_label.to_owned(),
                        next.receipt_number.clone(),
                    )],
                    warn: None,
                });
                trail_steps(next, depth + 1, lang, out);
            }
        }
    }
}

fn channel_name(d: &trail::TrailDisbursement) -> String {
    serde_json::to_value(d.channel)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn restriction_text(r: &RestrictionWire, names: &Names, lang: Lang) -> String {
    let t = lang.text();
    match r {
        RestrictionWire::None => t.undesignated.to_owned(),
        RestrictionWire::Designated {
            region_code,
            recipient,
            purpose,
            ..
        } => {
            let mut parts = Vec::new();
            if let Some(code) = region_code {
                let region = format::region(code.as_str(), lang);
                parts.push(fill(t.designated_region, &[("region", &region)]));
            }
            if let Some(r) = recipient {
                let name = names.get(r.as_str()).map_or(r.as_str(), String::as_str);
                parts.push(fill(t.designated_recipient, &[("recipient", name)]));
            }
            if let Some(p) = purpose {
                parts.push(p.clone());
            }
            parts.join("; ")
        }
    }
}

/// The trail page of a loaded trail.
fn view(req: &HttpRequest, lang: Lang, tr: &Trail, names: &Names) -> TrailPage {
    let t = lang.text();
    let label = format::asset_label(&tr.asset);
    let amount = |s: &str| format::amount_of(&label, s, lang);
    let mut facts = vec![
        (
            t.donor.to_owned(),
            tr.donor
                .display_name
                .clone()
                .unwrap_or_else(|| t.anonymous_donor.to_owned()),
        ),
        (t.gift.to_owned(), format::asset(&tr.asset, lang)),
        (
            t.received_on.to_owned(),
            format::datetime(&tr.occurred_at, lang),
        ),
        (
            t.published_on.to_owned(),
            format::datetime(&tr.recorded_at, lang),
        ),
        (
            t.restriction.to_owned(),
            restriction_text(&tr.restriction, names, lang),
        ),
    ];
    if let Some(c) = &tr.campaign {
        facts.push((
            t.campaign.to_owned(),
            names.get(c).cloned().unwrap_or_else(|| c.clone()),
        ));
    }
    if let Some(s) = &tr.source_disbursement {
        facts.push((
            t.gift.to_owned(),
            fill(
                t.came_from,
                &[
                    (
                        "org",
                        names
                            .get(s.organization.as_str())
                            .map_or(s.organization.as_str(), String::as_str),
                    ),
                    ("seq", &s.disbursement.to_string()),
                ],
            ),
        ));
    }
    let tw = &tr.totals;
    let totals = vec![
        (t.received.to_owned(), amount(&tw.received), false),
        (t.allocated.to_owned(), amount(&tw.allocated), false),
        (t.disbursed.to_owned(), amount(&tw.disbursed), false),
        (t.acknowledged.to_owned(), amount(&tw.acknowledged), false),
        (t.used.to_owned(), amount(&tw.used), false),
        (t.expenses.to_owned(), amount(&tw.expenses), false),
        (
            t.unallocated.to_owned(),
            amount(&tw.unallocated),
            positive(&tw.unallocated),
        ),
        (
            t.undisbursed.to_owned(),
            amount(&tw.undisbursed),
            positive(&tw.undisbursed),
        ),
        (
            t.unacknowledged.to_owned(),
            amount(&tw.unacknowledged),
            positive(&tw.unacknowledged),
        ),
        (
            t.shortfall.to_owned(),
            amount(&tw.shortfall),
            positive(&tw.shortfall),
        ),
    ];
    let unaccounted = totals
        .iter()
        .filter(|r| r.2)
        .map(|r| format!("{}: {}", r.0, r.1))
        .collect();
    let mut steps = Vec::new();
    trail_steps(tr, 0, lang, &mut steps);
    let corrections = tr
        .corrections
        .iter()
        .map(|c| correction_text(c, lang))
        .collect();
    let mut layout = Layout::new(
        req,
        lang,
        fill(t.trail_title, &[("receipt", &tr.receipt_number)]),
    );
    layout.feed = Some(format!(
        "/api/v1/organizations/{}/donations/{}/trail.atom?lang={}",
        crate::link::encode(&tr.organization),
        crate::link::encode(&tr.receipt_number),
        lang.code()
    ));
    TrailPage {
        layout,
        intro: fill(t.trail_intro, &[("org", &tr.organization_name)]),
        org_id: tr.organization.clone(),
        org_name: tr.organization_name.clone(),
        facts,
        totals,
        unaccounted,
        steps,
        corrections,
        qr_src: format!(
            "/api/v1/organizations/{}/donations/{}/qr.svg",
            crate::link::encode(&tr.organization),
            crate::link::encode(&tr.receipt_number)
        ),
    }
}

/// `GET /trail/{org}/{receipt_number}`: where the donation went, step by step.
pub async fn trail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (org, receipt) = path.into_inner();
    let r = async {
        let lang = lang_of(&req);
        let t = lang.text();
        let (o, rc) = (org.clone(), receipt.clone());
        let model = state.read_model.clone();
        let found = read_snapshot(&state, move |c| load_trail(c, &model, &o, &rc)).await?;
        match found {
            (trail::Traced::Found(tr), names) => {
                html(StatusCode::OK, &view(&req, lang, &tr, &names))
            }
            (trail::Traced::Voided { correction }, _) => Err(ApiError::gone(
                fill(
                    t.receipt_voided,
                    &[
                        ("receipt", &receipt),
                        ("org", &org),
                        ("seq", &correction.to_string()),
                    ],
                ),
                correction,
            )),
            (trail::Traced::NotFound, _) => Err(ApiError::not_found(fill(
                t.receipt_not_found,
                &[("receipt", &receipt), ("org", &org)],
            ))),
        }
    }
    .await;
    page(&req, &state, r).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_read_as_sentences() {
        let names = Names::from([(
            "wuhan-union-hospital".to_owned(),
            "华中科技大学同济医学院附属协和医院".to_owned(),
        )]);
        assert_eq!(
            restriction_text(&RestrictionWire::None, &names, Lang::En),
            "None (general funds)"
        );
        let d = RestrictionWire::Designated {
            region_code: Some(givetrail_domain::ids::RegionCode::parse("420100").expect("r")),
            recipient: None,
            purpose: None,
            costs_allowed: false,
        };
        assert_eq!(
            restriction_text(&d, &names, Lang::En),
            "Only within 武汉市, Hubei Province (420100)"
        );
        assert_eq!(
            restriction_text(&d, &names, Lang::Zh),
            "仅限地区 武汉市 (420100)"
        );
        let to_hospital = RestrictionWire::Designated {
            region_code: None,
            recipient: Some(
                givetrail_domain::ids::Slug::parse("wuhan-union-hospital").expect("slug"),
            ),
            purpose: None,
            costs_allowed: false,
        };
        assert_eq!(
            restriction_text(&to_hospital, &names, Lang::Zh),
            "仅限 华中科技大学同济医学院附属协和医院"
        );
    }
}
