//! `GET /`: the receipt search, the organisations, the needs board; and `GET /trail?org=&receipt=`,
//! which goes on to the trail page or back to the form.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use givetrail_domain::needs::NeedStatus;
use givetrail_store::read::needs as needs_store;
use givetrail_store::registry::Organization;
use givetrail_store::{AnyConnection, StoreError};

use crate::db::read_snapshot;
use crate::link::encode;
use crate::site::i18n::Lang;
use crate::site::{
    format, html, lang_of, org_items, organizations, page, registered, Layout, OrgItem,
};
use crate::state::AppState;

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

/// What the home page shows.
pub struct HomeData {
    /// Every registered organisation.
    pub orgs: Vec<Organization>,
    /// Needs still open.
    pub open_needs: i64,
}

/// Read the home page's data (inside one snapshot).
pub fn load_home(c: &mut AnyConnection) -> Result<HomeData, StoreError> {
    Ok(HomeData {
        orgs: registered(c)?,
        open_needs: needs_store::count(c, Some(NeedStatus::Open))?,
    })
}

fn view(req: &HttpRequest, lang: Lang, data: HomeData) -> Home {
    let t = lang.text();
    let orgs = org_items(data.orgs, lang);
    Home {
        layout: Layout::new(req, lang, t.home_title),
        selected_org: orgs.first().map(|o| o.id.clone()).unwrap_or_default(),
        orgs,
        open_needs: format::number(&data.open_needs.to_string(), false),
        message: None,
        receipt: String::new(),
    }
}

/// `GET /`.
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let r = async {
        let lang = lang_of(&req);
        let data = read_snapshot(&state, load_home).await?;
        html(StatusCode::OK, &view(&req, lang, data))
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
        let orgs = organizations(&state, lang).await?;
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
