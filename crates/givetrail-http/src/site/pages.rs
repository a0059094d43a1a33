//! The read-only pages: home, receipt search, trail, organisation, recipient, needs board.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use givetrail_domain::disclosure::summary::{self, RecipientView, TotalsWire};
use givetrail_domain::disclosure::trail::{self, Trail};
use givetrail_domain::disclosure::{AssetLabel, Directory, Record};
use givetrail_domain::entry::{Fact, RestrictionWire};
use givetrail_domain::needs::{MatchView, Need, NeedStatus};
use givetrail_store::disclosure as disclosure_store;
use givetrail_store::needs as needs_store;
use givetrail_store::read::MAX_PAGE;
use givetrail_store::registry::{self, Recipient};

use super::i18n::{fill, Lang, Text};
use super::{flow, format, html, lang_of, organizations, page, positive};
use super::{Layout, OrgItem};
use crate::db::read;
use crate::link::encode;
use crate::needs::{needs_page, NeedParams};
use crate::problem::ApiError;
use crate::state::AppState;

/// Most latest entries shown on an organisation page.
pub const LATEST_ENTRIES: i64 = 10;
/// Most matches shown on an organisation page.
pub const MATCHES_SHOWN: usize = 8;

// ---------------------------------------------------------------------------------------------
// Home and search

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    orgs: Vec<OrgItem>,
    open_needs: String,
    message: Option<String>,
    selected_org: String,
    receipt: String,
}

/// `GET /`: the receipt search, the organisations, the needs board.
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let r = async {
        let lang = lang_of(&req);
        let t = lang.text();
        let orgs = organizations(&state, t).await?;
        let open = read(&state, |c| needs_store::count(c, Some(NeedStatus::Open))).await?;
        let p = Home {
            layout: Layout::new(&req, lang, t.home_title),
            selected_org: orgs.first().map(|o| o.id.clone()).unwrap_or_default(),
            orgs,
            open_needs: format::number(&open.to_string(), false),
            message: None,
            receipt: String::new(),
        };
        html(StatusCode::OK, &p)
    }
    .await;
    page(&req, &state, r).await
}

/// The receipt search form.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    org: Option<String>,
    receipt: Option<String>,
}

/// `GET /trail?org=&receipt=`: on to the trail page (303), or back to the form.
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<SearchQuery>,
) -> HttpResponse {
    let lang = lang_of(&req);
    let org = q.org.as_deref().map(str::trim).unwrap_or("");
    let receipt = q.receipt.as_deref().map(str::trim).unwrap_or("");
    if !org.is_empty() && !receipt.is_empty() {
        return HttpResponse::SeeOther()
            .insert_header((
                actix_web::http::header::LOCATION,
                format!(
                    "/trail/{}/{}?lang={}",
                    encode(org),
                    encode(receipt),
                    lang.code()
                ),
            ))
            .finish();
    }
    let r = async {
        let t = lang.text();
        let orgs = organizations(&state, t).await?;
        let p = Home {
            layout: Layout::new(&req, lang, t.home_title),
            orgs,
            open_needs: String::from("…"),
            message: Some(t.receipt_missing.to_owned()),
            selected_org: org.to_owned(),
            receipt: receipt.to_owned(),
        };
        html(StatusCode::BAD_REQUEST, &p)
    }
    .await;
    page(&req, &state, r).await
}

// ---------------------------------------------------------------------------------------------
// The trail

/// One step of a trail or of a recipient's history.
pub struct Step {
    /// Nesting (onward trails into other charities' logs).
    pub depth: usize,
    /// CSS class: `allocated`, `sent`, `arrived`, `unacknowledged`, `used`, `onward`, `expense`.
    pub class: &'static str,
    /// What happened.
    pub heading: String,
    /// Where the heading links to.
    pub href: Option<String>,
    /// When, in words.
    pub when: String,
    /// When, machine-readable.
    pub when_iso: String,
    /// `Entry #7`.
    pub entry: String,
    /// Details.
    pub lines: Vec<(String, String)>,
    /// What is missing, highlighted.
    pub warn: Option<String>,
}

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
}

fn at(t: &chrono::DateTime<chrono::Utc>, lang: Lang) -> (String, String) {
    (format::datetime(t, lang), format::iso(t))
}

fn entry_no(t: &Text, seq: i64) -> String {
    fill(t.entry_number, &[("seq", &seq.to_string())])
}

fn recipient_href(id: &str, lang: Lang) -> String {
    format!("/recipients/{}?lang={}", encode(id), lang.code())
}

/// Flatten a trail (and the onward trails inside it) into steps.
fn trail_steps(tr: &Trail, depth: usize, lang: Lang, out: &mut Vec<Step>) {
    let t = lang.text();
    let label = format::asset_label(&tr.asset);
    let amount = |s: &str| format::amount_of(&label, s, lang);
    for a in &tr.allocations {
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

fn channel_name(d: &trail::TrailDisbursement) -> String {
    serde_json::to_value(d.channel)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn restriction_text(r: &RestrictionWire, t: &Text) -> String {
    match r {
        RestrictionWire::None => t.undesignated.to_owned(),
        RestrictionWire::Designated {
            region_code,
            recipient,
            purpose,
        } => {
            let mut parts = Vec::new();
            if let Some(code) = region_code {
                parts.push(fill(t.designated_region, &[("region", code.as_str())]));
            }
            if let Some(r) = recipient {
                parts.push(fill(t.designated_recipient, &[("recipient", r.as_str())]));
            }
            if let Some(p) = purpose {
                parts.push(p.clone());
            }
            parts.join("; ")
        }
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
        let found = read(&state, move |c| {
            trail::trace(&mut disclosure_store::Logs { conn: c }, &o, &rc)
        })
        .await?;
        let Some(tr) = found else {
            return Err(ApiError::not_found(fill(
                t.receipt_not_found,
                &[("receipt", &receipt), ("org", &org)],
            )));
        };
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
                restriction_text(&tr.restriction, t),
            ),
        ];
        if let Some(c) = &tr.campaign {
            facts.push((t.campaign.to_owned(), c.clone()));
        }
        if let Some(s) = &tr.source_disbursement {
            facts.push((
                t.gift.to_owned(),
                fill(
                    t.came_from,
                    &[
                        ("org", s.organization.as_str()),
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
        trail_steps(&tr, 0, lang, &mut steps);
        let p = TrailPage {
            layout: Layout::new(
                &req,
                lang,
                fill(t.trail_title, &[("receipt", &tr.receipt_number)]),
            ),
            intro: fill(t.trail_intro, &[("org", &tr.organization_name)]),
            org_id: tr.organization.clone(),
            org_name: tr.organization_name.clone(),
            facts,
            totals,
            unaccounted,
            steps,
        };
        html(StatusCode::OK, &p)
    }
    .await;
    page(&req, &state, r).await
}

// ---------------------------------------------------------------------------------------------
// Organisation

struct OrgFacts {
    id: String,
    name: String,
    kind: String,
    region_code: String,
    credit_code: String,
    qualified: String,
}

struct EntryRow {
    seq: i64,
    what: String,
    occurred: String,
    recorded: String,
}

struct MatchRow {
    recipient: String,
    recipient_name: String,
    item: String,
    urgency: String,
    urgency_name: String,
    outstanding: String,
    available: String,
    suggested: String,
}

#[derive(Template)]
#[template(path = "organization.html")]
struct OrgPage {
    layout: Layout,
    org: OrgFacts,
    asset_names: Vec<String>,
    measures: Vec<(String, Vec<(String, bool)>)>,
    charts: Vec<flow::Chart>,
    matches: Vec<MatchRow>,
    deadlines: Vec<(String, String, String, String, bool)>,
    latency: Vec<(String, String, String)>,
    changes: Vec<String>,
    corrections: Vec<String>,
    latest: Vec<EntryRow>,
    checkpoint: Option<(String, String, String)>,
    verified: bool,
    complaints: String,
}

fn party_name(directory: &Directory, id: &str) -> String {
    directory
        .get(id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

/// One line saying what an entry records.
fn describe(r: &Record, directory: &Directory, lang: Lang) -> String {
    let t = lang.text();
    let kind = t.entry_kind(r.kind.as_str());
    let detail = match &r.fact {
        Fact::Campaign(c) => c.title.clone(),
        Fact::Donation(d) => format!(
            "{} · {} · {}",
            d.receipt_number,
            d.donor
                .display_name
                .clone()
                .unwrap_or_else(|| t.anonymous_donor.to_owned()),
            format::asset(&d.asset, lang)
        ),
        Fact::Allocation(a) => format!(
            "→ {} · {}",
            party_name(directory, a.recipient.as_str()),
            format::asset(&a.asset, lang)
        ),
        Fact::Disbursement(d) => format!(
            "→ {} · {}",
            party_name(directory, d.recipient.as_str()),
            format::asset(&d.asset, lang)
        ),
        Fact::Acknowledgement(a) => format!(
            "{} · {}",
            party_name(directory, a.recipient.as_str()),
            format::asset(&a.asset, lang)
        ),
        Fact::Usage(u) => format!(
            "{} · {}",
            party_name(directory, u.recipient.as_str()),
            format::asset(&u.asset, lang)
        ),
        Fact::Expense(e) => format!("{} · {}", e.description, format::asset(&e.asset, lang)),
        Fact::Correction(c) => format!("#{} · {}", c.corrects, c.reason),
    };
    format!("{kind}: {detail}")
}

fn label_amount(label: &AssetLabel, s: &str, lang: Lang) -> String {
    format::amount_of(label, s, lang)
}

/// `GET /organizations/{org}`.
pub async fn organization(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> HttpResponse {
    let org = org.into_inner();
    let r = async {
        let lang = lang_of(&req);
        let t = lang.text();
        let (id, key, policy) = (org.clone(), state.public_key.clone(), state.policy.clone());
        let loaded = read(&state, move |c| {
            let Some(o) = registry::organization(c, &id)? else {
                return Ok(None);
            };
            let Some((ledger, directory)) = disclosure_store::ledger_with_directory(c, &id)? else {
                return Ok(None);
            };
            let head = givetrail_store::log::head(c, &id)?.seq;
            let latest = givetrail_store::read::entries(
                c,
                &id,
                (head - LATEST_ENTRIES).max(0),
                LATEST_ENTRIES,
            )?;
            let status = crate::verification::checkpoint_status(c, &id, &key)?;
            let summary = summary::summarise(&ledger, &directory, &policy, None);
            Ok(Some((o, ledger, directory, latest.items, status, summary)))
        })
        .await?;
        let Some((o, ledger, directory, latest, status, summary)) = loaded else {
            return Err(ApiError::not_found(format!(
                "organisation {org} is not registered"
            )));
        };
        let matches: Vec<MatchView> = crate::needs::matches(&state, &org)
            .await?
            .unwrap_or_default();
        let match_ids: Vec<String> = matches.iter().map(|m| m.need.recipient.clone()).collect();
        let names = read(&state, move |c| disclosure_store::directory(c, &match_ids)).await?;
        let complaints = super::complaints::count_text(&state, &org, t).await;
        let asset_names = summary
            .assets
            .iter()
            .map(|a| format::label(&a.asset))
            .collect();
        type Measure = fn(&TotalsWire) -> &String;
        let rows: [(&str, Measure, bool); 10] = [
            (t.received, |w| &w.received, false),
            (t.allocated, |w| &w.allocated, false),
            (t.disbursed, |w| &w.disbursed, false),
            (t.acknowledged, |w| &w.acknowledged, false),
            (t.used, |w| &w.used, false),
            (t.expenses, |w| &w.expenses, false),
            (t.unallocated, |w| &w.unallocated, true),
            (t.undisbursed, |w| &w.undisbursed, true),
            (t.unacknowledged, |w| &w.unacknowledged, true),
            (t.shortfall, |w| &w.shortfall, true),
        ];
        let mut measures: Vec<(String, Vec<(String, bool)>)> = rows
            .iter()
            .map(|(name, get, flag)| {
                let cells = summary
                    .assets
                    .iter()
                    .map(|a| {
                        let v = get(&a.totals);
                        (label_amount(&a.asset, v, lang), *flag && positive(v))
                    })
                    .collect();
                ((*name).to_owned(), cells)
            })
            .collect();
        measures.push((
            t.priority_share.to_owned(),
            summary
                .assets
                .iter()
                .map(|a| {
                    let p = a.priority_regions.share_percent.as_ref();
                    (
                        p.map(|p| format!("{p}%"))
                            .unwrap_or_else(|| t.none.to_owned()),
                        false,
                    )
                })
                .collect(),
        ));
        let deadlines = summary
            .timeliness
            .deadlines
            .iter()
            .map(|d| {
                (
                    d.campaign
                        .clone()
                        .unwrap_or_else(|| t.no_campaign.to_owned()),
                    format::number(&d.deadline_hours.to_string(), false),
                    d.entries.to_string(),
                    d.missed.to_string(),
                    d.missed > 0,
                )
            })
            .collect();
        let latency = summary
            .timeliness
            .receipt_to_disbursement
            .iter()
            .map(|l| {
                (
                    format::label(&l.asset),
                    format::number(&l.median_hours, true),
                    format::number(&l.p90_hours, true),
                )
            })
            .collect();
        let changes = summary
            .designation_changes
            .iter()
            .map(|c| {
                format!(
                    "#{} → {}: {} ({}: {})",
                    c.allocation,
                    party_name(&directory, &c.recipient),
                    c.change.reason,
                    t.consent_reference,
                    c.change.donor_consent_reference
                )
            })
            .collect();
        let corrections = summary
            .corrections
            .iter()
            .map(|c| format!("#{} → #{}: {}", c.seq, c.corrects, c.reason))
            .collect();
        let mut latest_rows = Vec::new();
        for e in latest.iter().rev() {
            let r = Record::from_entry(e)
                .map_err(|m| ApiError::from(givetrail_store::StoreError::Corrupt(m)))?;
            latest_rows.push(EntryRow {
                seq: r.seq,
                what: describe(&r, &directory, lang),
                occurred: format::datetime(&r.occurred_at, lang),
                recorded: format::datetime(&r.recorded_at, lang),
            });
        }
        let checkpoint = status.checkpoint.as_ref().map(|c| {
            (
                c.tree_size.to_string(),
                c.root_hash.clone(),
                chrono::DateTime::parse_from_rfc3339(&c.timestamp)
                    .map(|d| format::datetime(&d.with_timezone(&chrono::Utc), lang))
                    .unwrap_or_default(),
            )
        });
        let matches = matches
            .into_iter()
            .take(MATCHES_SHOWN)
            .map(|m| {
                let n = &m.need;
                MatchRow {
                    recipient_name: party_name(&names, &n.recipient),
                    recipient: n.recipient.clone(),
                    item: format!("{} ({})", n.item, n.spec),
                    urgency: n.urgency.as_str().to_owned(),
                    urgency_name: t.urgency_name(n.urgency.as_str()).to_owned(),
                    outstanding: format::quantity(&n.outstanding, &n.unit, lang),
                    available: format::quantity(&m.available, &n.unit, lang),
                    suggested: format::quantity(&m.suggested, &n.unit, lang),
                }
            })
            .collect();
        let p = OrgPage {
            layout: Layout::new(&req, lang, o.name.clone()),
            charts: flow::charts(&ledger, &directory, lang),
            org: OrgFacts {
                kind: t.kind_name(&o.kind).to_owned(),
                qualified: if o.public_fundraising_qualified {
                    t.yes
                } else {
                    t.no
                }
                .to_owned(),
                id: o.id,
                name: o.name,
                region_code: o.region_code,
                credit_code: o.credit_code,
            },
            asset_names,
            measures,
            matches,
            deadlines,
            latency,
            changes,
            corrections,
            latest: latest_rows,
            verified: status.verified.unwrap_or(false),
            checkpoint,
            complaints,
        };
        html(StatusCode::OK, &p)
    }
    .await;
    page(&req, &state, r).await
}

// ---------------------------------------------------------------------------------------------
// Recipient

struct ReceivedRow {
    org: String,
    org_name: String,
    asset: String,
    count: usize,
    disbursed: String,
    acknowledged: String,
    used: String,
    unacknowledged: String,
    unacknowledged_warn: bool,
}

struct RecipientFacts {
    name: String,
    kind: String,
    region_code: String,
    credit_code: Option<String>,
    organization: Option<String>,
}

#[derive(Template)]
#[template(path = "recipient.html")]
struct RecipientPage {
    layout: Layout,
    recipient: RecipientFacts,
    received_from: Vec<ReceivedRow>,
    steps: Vec<Step>,
    needs: Vec<NeedRow>,
}

fn received_steps(view: &RecipientView, lang: Lang) -> Vec<Step> {
    let t = lang.text();
    let names: std::collections::BTreeMap<&str, &str> = view
        .received_from
        .iter()
        .map(|r| (r.organization.as_str(), r.organization_name.as_str()))
        .collect();
    view.disbursements
        .iter()
        .map(|d| {
            let org_name = names
                .get(d.organization.as_str())
                .copied()
                .unwrap_or(d.organization.as_str());
            let label = format::asset_label(&d.asset);
            let (when, when_iso) = at(&d.occurred_at, lang);
            let mut lines = vec![(t.reference.to_owned(), d.reference.clone())];
            if !d.purpose.is_empty() {
                lines.push((t.purpose.to_owned(), d.purpose.clone()));
            }
            if let Some(a) = &d.acknowledged {
                lines.push((t.acknowledged.to_owned(), format::asset(a, lang)));
            }
            if positive(&d.used) {
                lines.push((t.used.to_owned(), format::amount_of(&label, &d.used, lang)));
            }
            let from: Vec<String> = d
                .from_donations
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}): {}",
                        f.receipt_number,
                        f.donor
                            .clone()
                            .unwrap_or_else(|| t.anonymous_donor.to_owned()),
                        format::amount_of(&label, &f.amount, lang)
                    )
                })
                .collect();
            if !from.is_empty() {
                lines.push((t.from_donations.to_owned(), from.join("; ")));
            }
            Step {
                depth: 0,
                class: if d.acknowledgement.is_some() {
                    "arrived"
                } else {
                    "unacknowledged"
                },
                heading: format!("{org_name}: {}", format::asset(&d.asset, lang)),
                href: Some(format!(
                    "/organizations/{}?lang={}",
                    encode(&d.organization),
                    lang.code()
                )),
                when,
                when_iso,
                entry: entry_no(t, d.seq),
                lines,
                warn: d
                    .acknowledgement
                    .is_none()
                    .then(|| t.unacknowledged.to_owned()),
            }
        })
        .collect()
}

/// `GET /recipients/{recipient}`.
pub async fn recipient(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
) -> HttpResponse {
    let id = recipient.into_inner();
    let r = async {
        let lang = lang_of(&req);
        let t = lang.text();
        let lookup = id.clone();
        let found: Option<Recipient> =
            read(&state, move |c| registry::recipient(c, &lookup)).await?;
        let Some(rec) = found else {
            return Err(ApiError::not_found(format!(
                "recipient {id} is not registered"
            )));
        };
        let view = crate::disclosure::recipient_view(&state, &id).await?;
        let params = NeedParams {
            region: None,
            item: None,
            status: None,
            recipient: Some(id.clone()),
            after: None,
            limit: Some(MAX_PAGE),
        };
        let needs = needs_page(&state, &params).await?.items;
        let name = givetrail_domain::disclosure::Party::public_name(&rec.kind, &rec.name);
        let mut directory = Directory::new();
        directory.insert(
            rec.id.clone(),
            givetrail_domain::disclosure::Party {
                id: rec.id.clone(),
                name: name.clone(),
                credit_code: None,
                kind: rec.kind.clone(),
                region_code: rec.region_code.clone(),
                organization: None,
            },
        );
        let received_from = view
            .received_from
            .iter()
            .map(|r| {
                let f = |s: &str| format::amount_of(&r.asset, s, lang);
                ReceivedRow {
                    org: r.organization.clone(),
                    org_name: r.organization_name.clone(),
                    asset: format::label(&r.asset),
                    count: r.disbursements,
                    disbursed: f(&r.disbursed),
                    acknowledged: f(&r.acknowledged),
                    used: f(&r.used),
                    unacknowledged: f(&r.unacknowledged),
                    unacknowledged_warn: positive(&r.unacknowledged),
                }
            })
            .collect();
        let p = RecipientPage {
            layout: Layout::new(&req, lang, name.clone()),
            steps: received_steps(&view, lang),
            needs: needs
                .iter()
                .map(|n| need_row(n, &directory, lang))
                .collect(),
            recipient: RecipientFacts {
                name,
                kind: t.kind_name(&rec.kind).to_owned(),
                region_code: rec.region_code,
                credit_code: rec.credit_code,
                organization: rec.organization,
            },
            received_from,
        };
        html(StatusCode::OK, &p)
    }
    .await;
    page(&req, &state, r).await
}

// ---------------------------------------------------------------------------------------------
// Needs board

/// A need as a table row.
pub struct NeedRow {
    id: String,
    recipient: String,
    recipient_name: String,
    region_code: String,
    item: String,
    note: String,
    urgency: &'static str,
    urgency_name: &'static str,
    quantity: String,
    pledged: String,
    delivered: String,
    outstanding: String,
    needed_by: String,
    status: &'static str,
    status_name: &'static str,
    meter_max: String,
    meter_value: String,
    progress: String,
}

fn need_row(n: &Need, directory: &Directory, lang: Lang) -> NeedRow {
    let t = lang.text();
    let v = n.view();
    let q = |s: &str| format::quantity(s, &v.unit, lang);
    let status = n.status();
    NeedRow {
        recipient_name: party_name(directory, &v.recipient),
        item: if v.spec.is_empty() {
            v.item.clone()
        } else {
            format!("{} ({})", v.item, v.spec)
        },
        urgency: v.urgency.as_str(),
        urgency_name: t.urgency_name(v.urgency.as_str()),
        quantity: q(&v.quantity),
        pledged: q(&v.pledged),
        delivered: q(&v.delivered),
        outstanding: q(&v.outstanding),
        needed_by: v
            .needed_by
            .map(|d| format::date(&d, lang))
            .unwrap_or_else(|| t.none.to_owned()),
        status: status.as_str(),
        status_name: match status {
            NeedStatus::Open => t.status_open,
            NeedStatus::Met => t.status_met,
        },
        meter_max: v.quantity.clone(),
        meter_value: v.delivered.clone(),
        progress: fill(
            t.progress_label,
            &[
                ("delivered", &q(&v.delivered)),
                ("quantity", &q(&v.quantity)),
            ],
        ),
        id: v.id,
        recipient: v.recipient,
        region_code: v.region_code,
        note: v.note,
    }
}

#[derive(Template)]
#[template(path = "needs.html")]
struct NeedsPage {
    layout: Layout,
    region: String,
    item: String,
    status: String,
    needs: Vec<NeedRow>,
    next: Option<String>,
    message: Option<String>,
}

/// `GET /needs?region=&item=&status=`: the needs board.
pub async fn needs(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<NeedParams>,
) -> HttpResponse {
    let r = async {
        let lang = lang_of(&req);
        let t = lang.text();
        let q = q.into_inner();
        let (rows, next, message) = match needs_page(&state, &q).await {
            Ok(page) => {
                let mut ids: Vec<String> =
                    page.items.iter().map(|n| n.recipient.to_string()).collect();
                ids.sort();
                ids.dedup();
                let directory = read(&state, move |c| disclosure_store::directory(c, &ids)).await?;
                let mut items = page.items;
                // Open needs first, most urgent first, longest waiting first.
                items.sort_by_key(|n| (n.status() == NeedStatus::Met, n.urgency, n.number));
                let rows: Vec<NeedRow> = items
                    .iter()
                    .map(|n| need_row(n, &directory, lang))
                    .collect();
                let next = page.next.map(|n| {
                    let mut qs = vec![format!("after={n}"), format!("lang={}", lang.code())];
                    for (k, v) in [
                        ("region", &q.region),
                        ("item", &q.item),
                        ("status", &q.status),
                    ] {
                        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                            qs.push(format!("{k}={}", encode(v)));
                        }
                    }
                    format!("/needs?{}", qs.join("&"))
                });
                (rows, next, None)
            }
            Err(e) if e.0.status == 400 => (Vec::new(), None, Some(e.0.detail.clone())),
            Err(e) => return Err(e),
        };
        let p = NeedsPage {
            layout: Layout::new(&req, lang, t.needs_title),
            region: q.region.clone().unwrap_or_default(),
            item: q.item.clone().unwrap_or_default(),
            status: q.status.clone().unwrap_or_default(),
            needs: rows,
            next,
            message,
        };
        html(StatusCode::OK, &p)
    }
    .await;
    page(&req, &state, r).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_read_as_sentences() {
        let t = Lang::En.text();
        assert_eq!(
            restriction_text(&RestrictionWire::None, t),
            "None (general funds)"
        );
        let d = RestrictionWire::Designated {
            region_code: Some(givetrail_domain::ids::RegionCode::parse("420100").expect("r")),
            recipient: None,
            purpose: None,
        };
        assert_eq!(restriction_text(&d, t), "Only within region 420100");
    }
}
