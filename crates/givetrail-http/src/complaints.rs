//! Complaints: anyone files one and follows it by its tracking code; regulators list those in
//! their jurisdiction and record what they did. Rules are
//! `givetrail_domain::reconciliation::complaint`, storage `givetrail_store::complaints`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use givetrail_domain::entry::Role;
use givetrail_domain::reconciliation::complaint::{
    parse_tracking_code, Complaint, ComplaintEventRequest, ComplaintRequest, RegulatorComplaint,
};
use givetrail_store::complaints as store;
use givetrail_store::registry::Principal;
use givetrail_store::write::Write;

use crate::auth::{author, caller, regulator_covers, required};
use crate::body::{parse, MAX_BODY_BYTES};
use crate::db::read;
use crate::middleware::limit_complaint;
use crate::paging::page_limit;
use crate::problem::{ApiError, Problem};
use crate::reconciliation::organization;
use crate::state::AppState;
use crate::writes::{limit_body, respond, submit};

fn code(text: &str) -> Result<String, ApiError> {
    parse_tracking_code(text).map_err(|m| ApiError::field("code", m))
}

/// The complaint with this tracking code, contact included (callers decide who sees it), or 404.
async fn complaint(state: &AppState, code: &str) -> Result<RegulatorComplaint, ApiError> {
    let lookup = code.to_owned();
    read(state, move |c| store::get(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no complaint has tracking code {code}")))
}

fn regulator(p: &Principal) -> Result<&str, ApiError> {
    if p.role == Role::Regulator {
        Ok(p.jurisdiction.as_deref().unwrap_or(""))
    } else {
        Err(ApiError::forbidden(
            "complaints are listed and handled by regulators",
        ))
    }
}

/// File a complaint about an organisation, and optionally one entry of its log (no key needed).
/// The response carries the tracking code: keep it to follow the complaint. The contact, if
/// given, is seen by regulators only.
#[utoipa::path(tag = "complaints", request_body = ComplaintRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key, only with an Authorization key: a complaint filed without a key takes none (400)")),
    responses((status = 201, description = "the complaint, with its `code`", body = Complaint), (status = 400, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
        (status = 429, description = "more than 10 complaints in 60 seconds from one address", body = Problem, headers(("Retry-After" = u64, description = "seconds to wait")))))]
#[post("/complaints")]
pub async fn post_complaint(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = caller(&req, &state).await?;
    limit_complaint(&req)?;
    limit_body(&body, MAX_BODY_BYTES)?;
    if p.is_none() && req.headers().contains_key("Idempotency-Key") {
        // One scope shared by every anonymous caller would hand one complainant's tracking code
        // to another who sent the same key and text, and let anyone block a key for others.
        return Err(ApiError::field(
            "Idempotency-Key",
            "a complaint filed without a key takes no Idempotency-Key (anonymous callers share no \
             retry scope); file it again if no tracking code came back",
        ));
    }
    let new = parse::<ComplaintRequest>(&body)?
        .validate(store::new_code())
        .map_err(ApiError::invalid)?;
    let write = Write::Complaint(new);
    match &p {
        Some(p) => submit(&req, &state, p, &body, write).await,
        None => Ok(respond(state.writer.submit(write, None, None).await?)),
    }
}

/// A complaint's public status and history, by tracking code (never the complainant's contact).
#[utoipa::path(tag = "complaints", params(("code" = String, Path, description = "tracking code, e.g. 7KQ2-M9XD-4HPT-V1CN-B8RW")),
    responses((status = 200, body = Complaint), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/complaints/{code}")]
pub async fn get_complaint(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let c = complaint(&state, &code(&path)?).await?;
    Ok(HttpResponse::Ok().json(c.complaint))
}

/// Query of the regulator's list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ComplaintListParams {
    /// Only complaints about this organisation.
    pub organization: Option<String>,
    /// Cursor from `meta.next`.
    pub after: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Complaints about organisations in the regulator's jurisdiction, oldest first, with the
/// complainants' contacts (regulator key).
#[utoipa::path(tag = "complaints", params(ComplaintListParams),
    security(("bearer" = [])),
    responses((status = 200, description = "`{\"complaints\": [...], \"meta\": {\"next\"}}`; each complaint with `contact`", body = Object),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/complaints")]
pub async fn list_complaints(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ComplaintListParams>,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    let jurisdiction = regulator(&p)?.to_owned();
    let limit = page_limit(q.limit)?;
    let after = q
        .after
        .as_deref()
        .map(|a| {
            store::parse_cursor(a)
                .ok_or_else(|| ApiError::field("after", "must be a cursor from meta.next"))
        })
        .transpose()?;
    let organization = q.organization.clone();
    let page = read(&state, move |c| {
        store::list(c, &jurisdiction, organization.as_deref(), after, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"complaints": page.items, "meta": {"next": page.next}})))
}

/// Record what a regulator did about a complaint: `investigating` (again, to add a note),
/// then `resolved` or `dismissed`, which close it. The history is append-only and public.
#[utoipa::path(tag = "complaints", request_body = ComplaintEventRequest,
    params(("code" = String, Path, description = "tracking code"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    security(("bearer" = [])),
    responses((status = 201, description = "the complaint with its new history", body = Complaint), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem)))]
#[post("/complaints/{code}/events")]
pub async fn post_complaint_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    regulator(&p)?;
    let code = code(&path)?;
    let c = complaint(&state, &code).await?;
    let o = organization(&state, &c.complaint.organization).await?;
    if !regulator_covers(&p, &o.region_code) {
        return Err(ApiError::forbidden(format!(
            "complaint {code} is about {}, outside this regulator's jurisdiction",
            o.id
        )));
    }
    limit_body(&body, MAX_BODY_BYTES)?;
    let event = parse::<ComplaintEventRequest>(&body)?
        .validate(&o.id, &code, &author(&p).subject)
        .map_err(ApiError::invalid)?;
    submit(&req, &state, &p, &body, Write::ComplaintEvent(event)).await
}
