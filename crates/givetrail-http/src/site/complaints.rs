//! The complaint form and the complaint status page. Filing goes through the same validation
//! (`ComplaintRequest::validate`) and the same write as `POST /api/v1/complaints`; the status
//! page reads the same store function as `GET /api/v1/complaints/{code}` and never shows the
//! complainant's contact.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use givetrail_domain::ids::Slug;
use givetrail_domain::reconciliation::complaint::{ComplaintCategory, ComplaintRequest};
use givetrail_store::complaints as store;
use givetrail_store::write::Write;
use givetrail_store::AnyConnection;

use super::i18n::{fill, Text};
use super::{error_page, format, html, lang_of, organizations, page, same_origin, Layout, OrgItem};
use crate::db::read;
use crate::link::encode;
use crate::middleware::limit_complaint;
use crate::problem::ApiError;
use crate::state::AppState;

/// Largest form body accepted (the description is at most 2,000 characters).
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// What the form holds (echoed back when it must be corrected).
#[derive(Debug, Default, Deserialize)]
pub struct ComplaintForm {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    entry: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact: String,
}

#[derive(Template)]
#[template(path = "complaint_new.html")]
struct FormPage {
    layout: Layout,
    orgs: Vec<OrgItem>,
    categories: Vec<(&'static str, &'static str)>,
    form: ComplaintForm,
    errors: Vec<String>,
}

fn categories(t: &Text) -> Vec<(&'static str, &'static str)> {
    [
        ComplaintCategory::Misallocation,
        ComplaintCategory::FraudulentFundraising,
        ComplaintCategory::DisclosureError,
        ComplaintCategory::Other,
    ]
    .into_iter()
    .map(|c| (c.as_str(), t.category(c.as_str())))
    .collect()
}

/// Query of the form page: the organisation to preselect.
#[derive(Debug, Deserialize)]
pub struct FormQuery {
    org: Option<String>,
}

async fn render_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    form: ComplaintForm,
    errors: Vec<String>,
) -> Result<HttpResponse, ApiError> {
    let lang = lang_of(req);
    let t = lang.text();
    let p = FormPage {
        layout: Layout::new(req, lang, t.complaint_new_title),
        orgs: organizations(state, lang).await?,
        categories: categories(t),
        form,
        errors,
    };
    html(status, &p)
}

/// `GET /complaints/new`.
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<FormQuery>,
) -> HttpResponse {
    let form = ComplaintForm {
        organization: q.org.clone().unwrap_or_default(),
        ..ComplaintForm::default()
    };
    let r = render_form(&req, &state, StatusCode::OK, form, Vec::new()).await;
    page(&req, &state, r).await
}

/// The API request this form describes, or the messages to show.
fn request(f: &ComplaintForm) -> Result<ComplaintRequest, Vec<String>> {
    let mut errors = Vec::new();
    let organization = Slug::parse(f.organization.trim())
        .map_err(|e| errors.push(format!("organization: {e}")))
        .ok();
    let entry = match f.entry.trim() {
        "" => None,
        s => s
            .parse::<i64>()
            .map_err(|_| errors.push("entry: must be a whole number".to_owned()))
            .ok(),
    };
    let category = ComplaintCategory::parse(&f.category);
    if category.is_none() {
        errors.push("category: choose one".to_owned());
    }
    match (organization, category) {
        (Some(organization), Some(category)) if errors.is_empty() => Ok(ComplaintRequest {
            organization,
            entry,
            category,
            description: f.description.clone(),
            contact: Some(f.contact.clone()).filter(|c| !c.trim().is_empty()),
        }),
        _ => Err(errors),
    }
}

/// `POST /complaints/new` (form-encoded): file it, then go to its status page (303).
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let lang = lang_of(&req);
    if !same_origin(&req) {
        let e = ApiError::forbidden(
            "this form is filed from this site's own complaint page; a form posted from another \
             site is refused",
        );
        return error_page(&req, &state, e).await;
    }
    if let Err(e) = limit_complaint(&req) {
        return error_page(&req, &state, e).await;
    }
    if body.len() > MAX_FORM_BYTES {
        return error_page(
            &req,
            &state,
            ApiError::field(
                "",
                format!("the form may hold at most {MAX_FORM_BYTES} bytes"),
            ),
        )
        .await;
    }
    let form: ComplaintForm = serde_urlencoded_form(&body);
    let outcome = match request(&form) {
        Err(errors) => Err(errors),
        Ok(r) => match file(&state, &r).await {
            Ok(code) => Ok(code),
            Err(e) if e.0.status < 500 => {
                let mut errors: Vec<String> =
                    e.0.errors
                        .iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect();
                if errors.is_empty() {
                    errors.push(e.0.detail.clone());
                }
                Err(errors)
            }
            Err(e) => return error_page(&req, &state, e).await,
        },
    };
    match outcome {
        Ok(code) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/complaints/{}?lang={}", encode(&code), lang.code()),
            ))
            .finish(),
        Err(errors) => {
            let r = render_form(&req, &state, StatusCode::BAD_REQUEST, form, errors).await;
            page(&req, &state, r).await
        }
    }
}

/// File through the writer exactly as `POST /api/v1/complaints` does; the tracking code.
async fn file(state: &AppState, r: &ComplaintRequest) -> Result<String, ApiError> {
    let new = r.validate(store::new_code()).map_err(ApiError::invalid)?;
    let code = new.code.clone();
    state
        .writer
        .submit(Write::Complaint(new), None, None)
        .await?;
    Ok(code)
}

/// Decode `application/x-www-form-urlencoded` into the form (unknown fields ignored).
fn serde_urlencoded_form(body: &[u8]) -> ComplaintForm {
    let text = String::from_utf8_lossy(body);
    web::Query::<ComplaintForm>::from_query(&text)
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "complaint.html")]
struct StatusPage {
    layout: Layout,
    code: String,
    facts: Vec<(String, String)>,
    history: Vec<(String, String, String)>,
}

/// `GET /complaints/{code}`: where a complaint stands (public to whoever holds the code).
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> HttpResponse {
    let code = code.into_inner();
    let r = async {
        let lang = lang_of(&req);
        let t = lang.text();
        let lookup = code.clone();
        let found = read(&state, move |c| {
            let Some(found) = store::get(c, &lookup)? else {
                return Ok(None);
            };
            let org = givetrail_store::registry::organization(c, &found.complaint.organization)?;
            Ok(Some((found, org.map(|o| o.name))))
        })
        .await?;
        let Some((found, org_name)) = found else {
            return Err(ApiError::not_found(format!("no complaint {code}")));
        };
        let c = found.complaint;
        let mut facts = vec![
            (
                t.status.to_owned(),
                t.complaint_status(c.status.as_str()).to_owned(),
            ),
            (
                t.complaint_org.to_owned(),
                org_name.unwrap_or_else(|| c.organization.clone()),
            ),
            (
                t.complaint_category.to_owned(),
                t.category(c.category.as_str()).to_owned(),
            ),
            (t.filed_at.to_owned(), format::datetime(&c.filed_at, lang)),
            (t.complaint_description.to_owned(), c.description.clone()),
        ];
        if let Some(e) = c.entry {
            facts.insert(
                2,
                (
                    t.entry_label.to_owned(),
                    fill(t.entry_number, &[("seq", &e.to_string())]),
                ),
            );
        }
        let history = c
            .history
            .iter()
            .map(|h| {
                (
                    t.complaint_status(h.status.as_str()).to_owned(),
                    format::datetime(&h.recorded_at, lang),
                    h.note.clone(),
                )
            })
            .collect();
        let p = StatusPage {
            layout: Layout::new(&req, lang, fill(t.complaint_title, &[("code", &c.code)])),
            code: c.code,
            facts,
            history,
        };
        html(StatusCode::OK, &p)
    }
    .await;
    page(&req, &state, r).await
}

/// How many complaints were filed about an organisation (open and closed), for its page; `None`
/// if they could not be read (the page then says so instead of failing).
pub fn count(c: &mut AnyConnection, org: &str) -> Option<usize> {
    store::about(c, org).ok().map(|list| list.len())
}

/// "Complaints filed about this organisation: N", or that the count is unavailable.
pub fn count_text(count: Option<usize>, t: &Text) -> String {
    match count {
        Some(n) => fill(t.complaints_count, &[("n", &n.to_string())]),
        None => t.complaints_unavailable.to_owned(),
    }
}
