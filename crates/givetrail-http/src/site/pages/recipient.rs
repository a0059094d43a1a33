//! `GET /recipients/{recipient}`: what a recipient received, from which organisations and
//! donations, what it acknowledged and used, and the needs it posted.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use givetrail_store::read::model::ReadModel;
use serde::Deserialize;
use std::collections::BTreeMap;

use givetrail_domain::disclosure::summary::{ReceivedCursor, RecipientView};
use givetrail_domain::disclosure::Registrar;
use givetrail_domain::disclosure::{Directory, Party};
use givetrail_domain::needs::Need;
use givetrail_store::read::needs::{self as needs_store, NeedFilter};
use givetrail_store::read::{DEFAULT_PAGE, MAX_PAGE};
use givetrail_store::registry::{self, Recipient};
use givetrail_store::{AnyConnection, StoreError};

use super::needs::{need_row, NeedRow};
use super::{at, entry_no, Step};
use crate::db::read_snapshot;
use crate::link::encode;
use crate::problem::ApiError;
use crate::site::i18n::Lang;
use crate::site::{format, html, lang_of, page, positive, Layout};
use crate::state::AppState;

struct ReceivedRow {
    org: String,
    org_name: String,
    asset: String,
    count: usize,
    allocated: String,
    disbursed: String,
    acknowledged: String,
    used: String,
    unacknowledged: String,
    unacknowledged_warn: bool,
}

struct RecipientFacts {
    /// Who registered it, when a charity did and no regulator has confirmed it yet (or nobody
    /// recorded who registered it): the sentence the page shows in a warning.
    unconfirmed: Option<String>,
    name: String,
    kind: String,
    /// Its region, named (`武汉市江汉区 (420103)`).
    region: String,
    /// Its region's page and the link's words, then its province's.
    region_links: Vec<(String, String)>,
    credit_code: Option<String>,
    /// The organisation it is (a linked charity): its slug and name.
    organization: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "recipient.html")]
struct RecipientPage {
    layout: Layout,
    recipient: RecipientFacts,
    received_from: Vec<ReceivedRow>,
    steps: Vec<Step>,
    /// The page after this one, when more disbursements follow.
    more: Option<String>,
    /// Whether this is a later page (the list does not start with the oldest).
    later_page: bool,
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

/// What the recipient page shows, read in one snapshot.
pub struct RecipientData {
    /// The recipient as registered.
    pub recipient: Recipient,
    /// What it received and what became of it (one page of its disbursements).
    pub view: RecipientView,
    /// The needs it posted (at most [`MAX_PAGE`]), oldest first.
    pub needs: Vec<Need>,
    /// The names of the organisations the page names by slug (the one it is, the one that
    /// registered it).
    pub org_names: BTreeMap<String, String>,
}

/// Read everything the page of recipient `id` shows inside one snapshot, with the page of its
/// disbursements that follows `after` ([`DEFAULT_PAGE`] of them); `None` if it is not
/// registered.
pub fn load_recipient(
    c: &mut AnyConnection,
    model: &ReadModel,
    id: &str,
    after: Option<&ReceivedCursor>,
) -> Result<Option<RecipientData>, StoreError> {
    let Some(recipient) = registry::recipient(c, id)? else {
        return Ok(None);
    };
    let view = crate::disclosure::recipient_view(c, model, id, after, DEFAULT_PAGE)?;
    let filter = NeedFilter {
        recipient: Some(id.to_owned()),
        ..NeedFilter::default()
    };
    let needs = needs_store::list(c, &filter, 0, MAX_PAGE)?.items;
    let mut org_names = BTreeMap::new();
    let registrar = match recipient.registrar() {
        Some(Registrar::Charity { organization }) => Some(organization),
        _ => None,
    };
    for org in recipient.organization.iter().cloned().chain(registrar) {
        if let Some(o) = registry::organization(c, &org)? {
            org_names.insert(org, o.name);
        }
    }
    Ok(Some(RecipientData {
        recipient,
        view,
        needs,
        org_names,
    }))
}

/// The recipient page of loaded data (an individual's name never shows); `later_page` when it
/// does not start with the oldest disbursement.
fn view(req: &HttpRequest, lang: Lang, data: RecipientData, later_page: bool) -> RecipientPage {
    let t = lang.text();
    let RecipientData {
        recipient: rec,
        view,
        needs,
        org_names,
    } = data;
    let org_name = |id: &str| org_names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let name = Party::public_name(&rec.kind, &rec.name);
    let mut directory = Directory::new();
    directory.insert(
        rec.id.clone(),
        Party {
            id: rec.id.clone(),
            name: name.clone(),
            credit_code: None,
            kind: rec.kind.clone(),
            region_code: rec.region_code.clone(),
            organization: None,
            ownership: rec.ownership.clone(),
            designated_hospital: rec.designated_hospital,
            registered_by: None,
            confirmed_at: None,
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
                allocated: f(&r.allocated),
                disbursed: f(&r.disbursed),
                acknowledged: f(&r.acknowledged),
                used: f(&r.used),
                unacknowledged: f(&r.unacknowledged),
                unacknowledged_warn: positive(&r.unacknowledged),
            }
        })
        .collect();
    let unconfirmed = match (rec.registrar(), rec.confirmed_at) {
        (_, Some(_)) => None,
        (Some(Registrar::Charity { organization }), None) => Some(
            t.registered_by_charity
                .replace("{organization}", &org_name(&organization)),
        ),
        (Some(Registrar::Regulator { .. }) | None, None) => Some(t.not_confirmed.to_owned()),
    };
    let more = view.next.as_ref().map(|n| {
        format!(
            "/recipients/{}?after={}&lang={}#all-heading",
            encode(&rec.id),
            encode(&n.to_string()),
            lang.code()
        )
    });
    RecipientPage {
        layout: Layout::new(req, lang, name.clone()),
        steps: received_steps(&view, lang),
        more,
        later_page,
        needs: needs
            .iter()
            .map(|n| need_row(n, &directory, lang))
            .collect(),
        recipient: RecipientFacts {
            unconfirmed,
            name,
            kind: t.kind_name(&rec.kind).to_owned(),
            region_links: {
                let mut links = vec![crate::site::region_link(&rec.region_code, lang)];
                let province = format!("{}0000", rec.region_code.get(..2).unwrap_or_default());
                let wider = crate::site::region_link(&province, lang);
                if !links.contains(&wider) {
                    links.push(wider);
                }
                links
            },
            region: format::region(&rec.region_code, lang),
            credit_code: rec.credit_code,
            organization: rec.organization.map(|o| {
                let name = org_name(&o);
                (o, name)
            }),
        },
        received_from,
    }
}

/// The query of the recipient page.
#[derive(Debug, Default, Deserialize)]
pub struct RecipientParams {
    /// Cursor of the page of disbursements to show (the "more" link's), absent for the first.
    pub after: Option<String>,
}

/// `GET /recipients/{recipient}?after=`: the totals, and a page of disbursements with a link to
/// the next.
pub async fn recipient(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    q: web::Query<RecipientParams>,
) -> HttpResponse {
    let id = recipient.into_inner();
    let r = async {
        let lang = lang_of(&req);
        let after = crate::disclosure::received_cursor(q.after.as_deref())?;
        let later_page = after.is_some();
        let lookup = id.clone();
        let model = state.read_model.clone();
        let loaded = read_snapshot(&state, move |c| {
            load_recipient(c, &model, &lookup, after.as_ref())
        })
        .await?;
        let Some(data) = loaded else {
            return Err(ApiError::not_found(format!(
                "recipient {id} is not registered"
            )));
        };
        html(StatusCode::OK, &view(&req, lang, data, later_page))
    }
    .await;
    page(&req, &state, r).await
}
