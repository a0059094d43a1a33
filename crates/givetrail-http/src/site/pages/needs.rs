//! `GET /needs?region=&item=&status=`: the needs board, open needs first, most urgent first.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use givetrail_domain::disclosure::Directory;
use givetrail_domain::needs::{Need, NeedStatus};
use givetrail_store::read::disclosure as disclosure_store;
use givetrail_store::read::needs::{self as needs_store, NeedFilter};
use givetrail_store::read::Page;
use givetrail_store::{AnyConnection, StoreError};

use super::party_name;
use crate::db::read_snapshot;
use crate::link::encode;
use crate::needs::NeedParams;
use crate::site::i18n::{fill, Lang};
use crate::site::{format, html, lang_of, page, Layout};
use crate::state::AppState;

/// A need as a table row.
pub struct NeedRow {
    pub id: String,
    pub recipient: String,
    pub recipient_name: String,
    /// The recipient's region, named (`武汉市江汉区 (420103)`).
    pub region: String,
    pub item: String,
    pub note: String,
    pub urgency: &'static str,
    pub urgency_name: &'static str,
    pub quantity: String,
    pub pledged: String,
    pub delivered: String,
    pub outstanding: String,
    pub needed_by: String,
    pub status: &'static str,
    pub status_name: &'static str,
    pub meter_max: String,
    pub meter_value: String,
    pub progress: String,
    /// "Withdrawn by the recipient on …: reason", once withdrawn.
    pub withdrawn: Option<String>,
}

pub fn need_row(n: &Need, directory: &Directory, lang: Lang) -> NeedRow {
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
            NeedStatus::Withdrawn => t.status_withdrawn,
        },
        withdrawn: n.withdrawn.as_ref().map(|w| {
            fill(
                t.withdrawn_note,
                &[("date", &format::date(&w.at, lang)), ("reason", &w.reason)],
            )
        }),
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
        region: format::region(&v.region_code, lang),
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

/// What the needs board shows, read in one snapshot.
pub struct NeedsData {
    /// One page of needs.
    pub page: Page<Need>,
    /// The recipients they name.
    pub directory: Directory,
}

/// Read one page of needs matching `filter` after need number `after`, with the recipients
/// they name, inside one snapshot.
pub fn load_needs(
    c: &mut AnyConnection,
    filter: &NeedFilter,
    after: i64,
    limit: i64,
) -> Result<NeedsData, StoreError> {
    let page = needs_store::list(c, filter, after, limit)?;
    let mut ids: Vec<String> = page.items.iter().map(|n| n.recipient.to_string()).collect();
    ids.sort();
    ids.dedup();
    let directory = disclosure_store::directory(c, &ids)?;
    Ok(NeedsData { page, directory })
}

/// The rows of a loaded page, and the link to the next page keeping the filters.
fn rows(q: &NeedParams, data: NeedsData, lang: Lang) -> (Vec<NeedRow>, Option<String>) {
    let NeedsData { page, directory } = data;
    let mut items = page.items;
    // Open needs first, most urgent first, longest waiting first.
    items.sort_by_key(|n| (n.status() != NeedStatus::Open, n.urgency, n.number));
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
    (rows, next)
}

/// `GET /needs?region=&item=&status=`: the needs board; bad filters are said on the page.
pub async fn needs(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<NeedParams>,
) -> HttpResponse {
    let r = async {
        let lang = lang_of(&req);
        let t = lang.text();
        let q = q.into_inner();
        let asked = q.filter().and_then(|f| Ok((f, q.after()?, q.limit()?)));
        let (rows, next, message) = match asked {
            Ok((filter, after, limit)) => {
                let data =
                    read_snapshot(&state, move |c| load_needs(c, &filter, after, limit)).await?;
                let (rows, next) = rows(&q, data, lang);
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
