//! The public web site, served at the root (outside `/api`): home and receipt search, the trail
//! of a donation, organisation and recipient pages, the needs board, and the complaint form and
//! status page. Server-rendered HTML (askama templates in `templates/`, checked at compile time),
//! in Chinese and English (`?lang=` and `Accept-Language`, words from [`i18n`]). No JavaScript:
//! the flow chart and the stock-ageing chart are SVG drawn on the server ([`flow`], [`ageing`]).
//!
//! Handlers only read and render: every figure comes from the same store and domain functions
//! as the JSON API (trail, summaries, timeliness, recipient view, needs, complaints).

pub mod ageing;
pub mod complaints;
pub mod flow;
pub mod format;
pub mod i18n;
pub mod pages;
pub mod receipts;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use givetrail_store::read::MAX_PAGE;
use givetrail_store::registry::Organization;
use givetrail_store::{AnyConnection, StoreError};

use crate::db::read;
use crate::link;
use crate::problem::ApiError;
use crate::state::AppState;
use i18n::{Lang, Text};

/// The stylesheet of every page, served by the binary itself.
const SITE_CSS: &str = include_str!("../../assets/site.css");

/// Register the pages (they are not part of the OpenAPI document).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::home::home))
        .route("/assets/site.css", web::get().to(stylesheet))
        .route("/trail", web::get().to(pages::home::search))
        .route(
            "/trail/{org}/{receipt_number}",
            web::get().to(pages::trail::trail),
        )
        .route(
            "/organizations/{org}",
            web::get().to(pages::organization::organization),
        )
        .route(
            "/recipients/{recipient}",
            web::get().to(pages::recipient::recipient),
        )
        .route("/regions/{code}", web::get().to(pages::region::region_page))
        .route("/needs", web::get().to(pages::needs::needs))
        .route("/complaints/new", web::get().to(complaints::form))
        .route("/complaints/new", web::post().to(complaints::submit))
        .route("/complaints/{code}", web::get().to(complaints::status));
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(SITE_CSS)
}

/// What the layout of every page needs.
pub struct Layout {
    /// `zh` or `en`.
    pub lang: &'static str,
    /// `<html lang>`.
    pub html_lang: &'static str,
    /// The other language's code.
    pub other_lang: &'static str,
    /// The words.
    pub t: &'static Text,
    /// The page title.
    pub title: String,
    /// This page in the other language.
    pub switch_href: String,
    /// The page's Atom feed (`<link rel="alternate" type="application/atom+xml">`), if any.
    pub feed: Option<String>,
}

/// The language of a request.
pub fn lang_of(req: &HttpRequest) -> Lang {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let asked = query
        .iter()
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.as_str());
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(asked, accept)
}

impl Layout {
    /// The layout of `req`'s page, titled `title`.
    pub fn new(req: &HttpRequest, lang: Lang, title: impl Into<String>) -> Layout {
        let mut query: Vec<(String, String)> =
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| q.into_inner())
                .unwrap_or_default();
        query.retain(|(k, _)| k != "lang");
        query.push(("lang".into(), lang.other().code().into()));
        Layout {
            lang: lang.code(),
            html_lang: lang.html(),
            other_lang: lang.other().code(),
            t: lang.text(),
            title: title.into(),
            switch_href: format!("{}?{}", req.path(), link::query(&query)),
            feed: None,
        }
    }
}

/// Render a template as an HTML response with `status`.
pub fn html(status: StatusCode, t: &impl Template) -> Result<HttpResponse, ApiError> {
    let body = t.render().map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_LANGUAGE, "zh-Hans, en"))
        .body(body))
}

/// An organisation in a list or a `<select>`.
pub struct OrgItem {
    /// Slug.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind, in the page's language.
    pub kind: String,
    /// Region code.
    pub region_code: String,
    /// Region, named in the page's language (`湖北省 (420000)`).
    pub region: String,
}

/// Every registered organisation (at most one page of [`MAX_PAGE`]), for lists and forms.
pub fn registered(c: &mut AnyConnection) -> Result<Vec<Organization>, StoreError> {
    Ok(givetrail_store::read::registrations::organizations(c, None, MAX_PAGE)?.items)
}

/// Organisations as list items, kinds in the page's language.
pub fn org_items(orgs: Vec<Organization>, lang: Lang) -> Vec<OrgItem> {
    let t = lang.text();
    orgs.into_iter()
        .map(|o| OrgItem {
            kind: t.kind_name(&o.kind).to_owned(),
            region: format::region(&o.region_code, lang),
            id: o.id,
            name: o.name,
            region_code: o.region_code,
        })
        .collect()
}

/// Every registered organisation as list items (one read), for lists and forms.
pub async fn organizations(state: &AppState, lang: Lang) -> Result<Vec<OrgItem>, ApiError> {
    Ok(org_items(read(state, registered).await?, lang))
}

/// The error page: a message, and the receipt search again.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    layout: Layout,
    message: String,
    orgs: Vec<OrgItem>,
    selected_org: String,
    receipt: String,
}

/// Whether a form post comes from a page of this site (the CSRF defence of every HTML form):
/// `Sec-Fetch-Site` when the browser sends it, else `Origin`, else `Referer`, compared with the
/// `Host` the request was sent to. A post with none of them is refused.
pub fn same_origin(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("Sec-Fetch-Site") {
        return site == "same-origin";
    }
    let Some(host) = header("Host") else {
        return false;
    };
    let authority = |url: &str| {
        url.split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_owned())
    };
    match header("Origin").or_else(|| header("Referer")) {
        Some(from) => authority(from).is_some_and(|a| a.eq_ignore_ascii_case(host)),
        None => false,
    }
}

/// Render `error` as a page in the request's language (404 and 400 say what was wrong; 503 that
/// the server is busy, with the error's `Retry-After`, and without reading the database again;
/// 500 says only that the server failed).
pub async fn error_page(req: &HttpRequest, state: &AppState, error: ApiError) -> HttpResponse {
    let lang = lang_of(req);
    let t = lang.text();
    let status = StatusCode::from_u16(error.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (title, message) = match status.as_u16() {
        404 => (t.not_found_title, error.0.detail.clone()),
        400..=499 => (t.error_title, error.0.detail.clone()),
        503 => (t.busy_title, t.busy_body.to_owned()),
        _ => (t.error_title, t.error_body.to_owned()),
    };
    // Busy, or a client over its rate: answered without touching the database.
    let orgs = if matches!(status.as_u16(), 429 | 503) {
        Vec::new()
    } else {
        organizations(state, lang).await.unwrap_or_default()
    };
    let page = ErrorPage {
        layout: Layout::new(req, lang, title),
        message,
        orgs,
        selected_org: String::new(),
        receipt: String::new(),
    };
    let mut r = html(status, &page).unwrap_or_else(|e| {
        HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body(e.to_string())
    });
    for (name, value) in error.headers() {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            header::HeaderValue::from_str(value),
        ) {
            r.headers_mut().insert(n, v);
        }
    }
    r
}

/// A page's response, or its error rendered as a page.
pub async fn page(
    req: &HttpRequest,
    state: &AppState,
    r: Result<HttpResponse, ApiError>,
) -> HttpResponse {
    match r {
        Ok(resp) => resp,
        Err(e) => error_page(req, state, e).await,
    }
}

/// The link to a region's page (`/regions/{prefix}`) for a 6-digit region code, and its words:
/// `420000` links to `/regions/42` (all of Hubei), `420103` to `/regions/420103`.
pub fn region_link(code: &str, lang: i18n::Lang) -> (String, String) {
    let prefix = givetrail_domain::ids::RegionCode::parse(code)
        .map(|r| r.prefix().to_owned())
        .unwrap_or_else(|_| code.to_owned());
    let href = format!("/regions/{}?lang={}", link::encode(&prefix), lang.code());
    (
        href,
        i18n::fill(
            lang.text().region_link,
            &[("code", &format::region(&prefix, lang))],
        ),
    )
}

/// Whether a decimal string is above zero.
pub fn positive(decimal: &str) -> bool {
    !decimal.starts_with('-') && decimal.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_decimals_are_recognised_without_parsing() {
        assert!(positive("1000.000"));
        assert!(positive("0.01"));
        assert!(!positive("0.000"));
        assert!(!positive("-5.00"));
    }
}
