//! `GET /regions/{code}`: where it went, by destination. What every organisation allocated,
//! sent and saw acknowledged for the recipients of a region (organisation → recipient → asset),
//! the region's totals, and its open needs with what they still lack: the JSON of
//! `GET /api/v1/regions/{code}/inflows`, read by the same functions, rendered.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use givetrail_domain::disclosure::AssetLabel;
use givetrail_domain::regions::{AssetInflow, RegionBooks, RegionInflows};

use super::needs::{need_row, NeedRow};
use crate::regions::{region, InflowParams};
use crate::site::i18n::{fill, Lang};
use crate::site::{format, html, lang_of, page, positive, Layout};
use crate::state::AppState;

/// One row of the inflows table: an asset one organisation gave one recipient.
struct InflowRow {
    /// Shown on the first row of its organisation (with the rowspan).
    org: Option<(String, String, usize)>,
    /// Shown on the first row of its recipient (with the rowspan).
    recipient: Option<(String, String, String, usize)>,
    cells: Cells,
}

/// An asset's figures in the page's language.
struct Cells {
    asset: String,
    allocations: usize,
    allocated: String,
    disbursements: usize,
    disbursed: String,
    acknowledged: String,
    unacknowledged: String,
    unacknowledged_warn: bool,
}

fn cells(a: &AssetInflow, lang: Lang) -> Cells {
    let f = |s: &str| format::amount_of(&a.asset, s, lang);
    Cells {
        asset: asset_name(&a.asset),
        allocations: a.allocations,
        allocated: f(&a.allocated),
        disbursements: a.disbursements,
        disbursed: f(&a.disbursed),
        acknowledged: f(&a.acknowledged),
        unacknowledged: f(&a.unacknowledged),
        unacknowledged_warn: positive(&a.unacknowledged),
    }
}

fn asset_name(a: &AssetLabel) -> String {
    format::label(a)
}

#[derive(Template)]
#[template(path = "region.html")]
struct RegionPage {
    layout: Layout,
    code: String,
    intro: String,
    truncated: Option<String>,
    rows: Vec<InflowRow>,
    totals: Vec<Cells>,
    needs: Vec<NeedRow>,
}

fn view(req: &HttpRequest, lang: Lang, books: &RegionBooks, doc: &RegionInflows) -> RegionPage {
    let t = lang.text();
    let code = doc.region.clone();
    let named = format::region(&code, lang);
    let mut rows = Vec::new();
    for o in &doc.organizations {
        let org_span = o.recipients.iter().map(|r| r.assets.len()).sum();
        let mut first_of_org = true;
        for r in &o.recipients {
            for (i, a) in r.assets.iter().enumerate() {
                rows.push(InflowRow {
                    org: first_of_org.then(|| {
                        (
                            o.organization.clone(),
                            o.organization_name.clone(),
                            org_span,
                        )
                    }),
                    recipient: (i == 0).then(|| {
                        (
                            r.recipient.clone(),
                            r.name.clone(),
                            format::region(&r.region_code, lang),
                            r.assets.len(),
                        )
                    }),
                    cells: cells(a, lang),
                });
                first_of_org = false;
            }
        }
    }
    RegionPage {
        layout: Layout::new(req, lang, fill(t.region_title, &[("code", &named)])),
        intro: fill(t.region_intro, &[("code", &named)]),
        truncated: doc.meta.recipients_truncated.then(|| {
            fill(
                t.region_truncated,
                &[("n", &doc.meta.max_recipients.to_string())],
            )
        }),
        rows,
        totals: doc.totals.iter().map(|a| cells(a, lang)).collect(),
        needs: books
            .open_needs
            .iter()
            .map(|n| need_row(n, &books.recipients, lang))
            .collect(),
        code,
    }
}

/// `GET /regions/{code}?from=&to=`: the page of a region; a malformed code is 400, a region
/// with no recipients an empty page.
pub async fn region_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<InflowParams>,
) -> HttpResponse {
    let r = async {
        let lang = lang_of(&req);
        let (books, doc) = region(&state, &code, &q).await?;
        html(StatusCode::OK, &view(&req, lang, &books, &doc))
    }
    .await;
    page(&req, &state, r).await
}
