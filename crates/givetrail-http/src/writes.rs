//! Write endpoints. Every write goes through [`submit`]: authorise, parse, then the writer.

use actix_web::{delete, post, web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use givetrail_domain::entry::*;
use givetrail_domain::error::FieldError;
use givetrail_domain::ids::{region_has_prefix, CreditCode, RegionCode, Slug};
use givetrail_store::registry::{self, NewKey, Organization, Principal, Recipient};
use givetrail_store::write::{Outcome, Write, MAX_BATCH_ITEMS};

use crate::auth::{author, charity_of, recipient_of, regulator_covers, required};
use crate::body::{idempotency, parse, MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES};
use crate::db::read;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

pub(crate) fn limit_body(body: &[u8], max: usize) -> Result<(), ApiError> {
    if body.len() > max {
        return Err(ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request body too large",
            format!(
                "the body is {} bytes; this endpoint takes at most {max}",
                body.len()
            ),
        ));
    }
    Ok(())
}

/// A body the writer already serialized, sent as it is.
fn json_text(
    mut response: actix_web::HttpResponseBuilder,
    body: Box<serde_json::value::RawValue>,
) -> HttpResponse {
    response
        .content_type("application/json")
        .body(String::from(Box::<str>::from(body)))
}

pub(crate) fn respond(outcome: Outcome) -> HttpResponse {
    match outcome {
        Outcome::Created(v) => json_text(HttpResponse::Created(), v),
        Outcome::Replayed { status, body } => {
            let status = actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::OK);
            HttpResponse::build(status)
                .content_type("application/json")
                .insert_header(("Idempotent-Replayed", "true"))
                .body(body)
        }
    }
}

/// Submit a write for an authorised caller, honouring its Idempotency-Key.
pub(crate) async fn submit(
    req: &HttpRequest,
    state: &AppState,
    p: &Principal,
    body: &[u8],
    write: Write,
) -> Result<HttpResponse, ApiError> {
    let idem = idempotency(req, &p.key_id, body)?;
    Ok(respond(
        state
            .writer
            .submit(write, idem, Some(p.key_id.clone()))
            .await?,
    ))
}

/// The one handler body behind every charity log write.
async fn charity_entry<T: DeserializeOwned>(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: String,
    body: web::Bytes,
    command: fn(T) -> Command,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    charity_of(&p, &org)?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let cmd = command(parse::<T>(&body)?);
    let write = Write::Entries {
        org,
        author: author(&p),
        commands: vec![cmd],
        batch: false,
    };
    submit(&req, &state, &p, &body, write).await
}

/// The one handler body behind every recipient write (appended to the disbursing organisation's log).
async fn recipient_entry<T: DeserializeOwned>(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: String,
    body: web::Bytes,
    command: fn(T) -> Command,
    org_of: fn(&T) -> String,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    recipient_of(&p, &recipient)?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let parsed = parse::<T>(&body)?;
    let org = org_of(&parsed);
    let write = Write::Entries {
        org,
        author: author(&p),
        commands: vec![command(parsed)],
        batch: false,
    };
    submit(&req, &state, &p, &body, write).await
}

/// Open a campaign.
#[utoipa::path(tag = "charity writes", request_body = CampaignRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `campaign.opened` entry", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/campaigns")]
pub async fn post_campaign(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, Command::Campaign).await
}

/// Record a donation received (money or goods).
#[utoipa::path(tag = "charity writes", request_body = DonationRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `donation.received` entry (public form)", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/donations")]
pub async fn post_donation(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, Command::Donation).await
}

/// A batch of donations: all are written, or none.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DonationBatch {
    /// At most 10,000 donations.
    pub donations: Vec<DonationRequest>,
}

/// Record up to 10,000 donations atomically.
#[utoipa::path(tag = "charity writes", request_body = DonationBatch, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "`{\"entries\": [...]}`", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/donations/batch")]
pub async fn post_donation_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let p = required(&req, &state).await?;
    charity_of(&p, &org)?;
    limit_body(&body, MAX_BATCH_BODY_BYTES)?;
    let batch: DonationBatch = parse(&body)?;
    if batch.donations.is_empty() || batch.donations.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::field(
            "donations",
            format!("must hold 1 to {MAX_BATCH_ITEMS} donations"),
        ));
    }
    let commands = batch.donations.into_iter().map(Command::Donation).collect();
    submit(
        &req,
        &state,
        &p,
        &body,
        Write::Entries {
            org,
            author: author(&p),
            commands,
            batch: true,
        },
    )
    .await
}

/// Allocate from a donation or from the undesignated pool.
#[utoipa::path(tag = "charity writes", request_body = AllocationRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `allocation.made` entry, with `drawn_from`", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/allocations")]
pub async fn post_allocation(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, Command::Allocation).await
}

/// Disburse (part of) an allocation.
#[utoipa::path(tag = "charity writes", request_body = DisbursementRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `disbursement.made` entry", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/disbursements")]
pub async fn post_disbursement(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, Command::Disbursement).await
}

/// Record the charity's own expense.
#[utoipa::path(tag = "charity writes", request_body = ExpenseRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `expense.recorded` entry", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/expenses")]
pub async fn post_expense(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, Command::Expense).await
}

/// Buy goods with donated money: the money is drawn from one donation or the undesignated pool
/// (oldest first), and the goods become a new lot at this entry's seq, carrying the money's
/// restriction; allocations, expenses and further procurements draw on it by that seq.
#[utoipa::path(tag = "charity writes", request_body = ProcurementRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `procurement.made` entry", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/procurements")]
pub async fn post_procurement(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, Command::Procurement).await
}

/// Publish a periodic disclosure of a period that has ended: the server stores in the entry's
/// body `summary_sha256`, the SHA-256 of the RFC 8785 form of the organisation's summary for the
/// period as computed from the public log at `period.to` (docs/API.md defines it exactly;
/// `GET /organizations/{org}/disclosures/{seq}` serves it). A disclosure is never corrected.
#[utoipa::path(tag = "charity writes", request_body = DisclosureRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `disclosure.published` entry", body = Object), (status = 400, description = "a bad period (`period.to` not after `period.from`, or in the future)", body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/disclosures")]
pub async fn post_disclosure(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, |request| {
        Command::Disclosure(DisclosureCommand {
            request,
            summary_sha256: None,
        })
    })
    .await
}

/// Correct an entry (a public correction notice; the original stays in the log).
#[utoipa::path(tag = "charity writes", request_body = CorrectionRequest, params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `entry.corrected` entry", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/corrections")]
pub async fn post_correction(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    charity_entry(req, state, org.into_inner(), body, Command::Correction).await
}

/// Acknowledge what actually arrived (recipient key). A shortfall is recorded, not refused.
#[utoipa::path(tag = "recipient writes", request_body = AcknowledgementRequest, params(("recipient" = String, Path, description = "recipient slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `acknowledgement.recorded` entry, in the disbursing organisation's log", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, description = "the organisation named in the body is not registered", body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients/{recipient}/acknowledgements")]
pub async fn post_acknowledgement(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    recipient_entry(
        req,
        state,
        recipient.into_inner(),
        body,
        Command::Acknowledgement,
        |r: &AcknowledgementRequest| r.disbursement.organization.to_string(),
    )
    .await
}

/// Correct the recipient's own acknowledgement or usage report (recipient key): a void, or a
/// replacement (an acknowledgement of `"0"` says nothing arrived). The `entry.corrected` entry
/// goes into the organisation's log; nobody else may correct these statements.
#[utoipa::path(tag = "recipient writes", request_body = RecipientCorrectionRequest, params(("recipient" = String, Path, description = "recipient slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `entry.corrected` entry, in the organisation's log", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, description = "the organisation named in the body is not registered", body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients/{recipient}/corrections")]
pub async fn post_recipient_correction(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    recipient_entry(
        req,
        state,
        recipient.into_inner(),
        body,
        |r: RecipientCorrectionRequest| Command::Correction(r.into_correction()),
        |r: &RecipientCorrectionRequest| r.corrects.organization.to_string(),
    )
    .await
}

/// Report how what arrived was used (recipient key).
#[utoipa::path(tag = "recipient writes", request_body = UsageRequest, params(("recipient" = String, Path, description = "recipient slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the `usage.reported` entry", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, description = "the organisation named in the body is not registered", body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients/{recipient}/usage_reports")]
pub async fn post_usage(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    recipient_entry(
        req,
        state,
        recipient.into_inner(),
        body,
        Command::Usage,
        |r: &UsageRequest| r.disbursement.organization.to_string(),
    )
    .await
}

/// `POST /organizations` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRequest {
    /// Slug.
    #[schema(value_type = String)]
    pub id: Slug,
    /// Name.
    pub name: String,
    /// 18-character unified social credit code (check character verified).
    #[schema(value_type = String)]
    pub credit_code: CreditCode,
    /// Kind.
    pub kind: OrganizationKind,
    /// 6-digit region code.
    #[schema(value_type = String)]
    pub region_code: RegionCode,
    /// Qualified for public fundraising.
    #[serde(default)]
    pub public_fundraising_qualified: bool,
}

/// A registered name: one line of text as [`givetrail_domain::text::clean_line`] makes it (NFC,
/// trimmed, 1 to 200 characters, nothing invisible).
fn name(field: &str, s: &str) -> Result<String, ApiError> {
    givetrail_domain::text::clean_line(field, s, MAX_SHORT_TEXT, true)
        .map_err(|e| ApiError::field(&e.field, e.message))
}

fn enum_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Register an organisation (regulator, inside its jurisdiction).
#[utoipa::path(tag = "registration", request_body = OrganizationRequest, params(("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the organisation", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations")]
pub async fn post_organization(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let r: OrganizationRequest = parse(&body)?;
    if !regulator_covers(&p, r.region_code.as_str()) {
        return Err(ApiError::forbidden(
            "only a regulator whose jurisdiction covers the organisation's region may register it",
        ));
    }
    let o = Organization {
        id: r.id.to_string(),
        name: name("name", &r.name)?,
        credit_code: r.credit_code.as_str().to_owned(),
        kind: enum_text(&r.kind),
        region_code: r.region_code.to_string(),
        public_fundraising_qualified: r.public_fundraising_qualified,
        created_at: 0,
    };
    submit(&req, &state, &p, &body, Write::Organization(o)).await
}

/// `POST /recipients` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientRequest {
    /// Slug.
    #[schema(value_type = String)]
    pub id: Slug,
    /// Name (for `individual_aid`, a private person's name is never published; use a description).
    pub name: String,
    /// Credit code, if it has one.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub credit_code: Option<CreditCode>,
    /// Kind.
    pub kind: RecipientKind,
    /// 6-digit region code.
    #[schema(value_type = String)]
    pub region_code: RegionCode,
    /// The organisation on Givetrail this recipient is (kind `charity`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub organization: Option<Slug>,
    /// Who owns it: `public`, `private` or `nonprofit` (optional; public).
    #[serde(default)]
    pub ownership: Option<Ownership>,
    /// Named by the health authority to treat the emergency's patients (default false; public).
    #[serde(default)]
    pub designated_hospital: bool,
}

/// Register a recipient (regulator inside its jurisdiction, or any charity).
#[utoipa::path(tag = "registration", request_body = RecipientRequest, params(("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the recipient", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients")]
pub async fn post_recipient(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let r: RecipientRequest = parse(&body)?;
    let regulator = regulator_covers(&p, r.region_code.as_str());
    if !(regulator || p.role == Role::Charity) {
        return Err(ApiError::forbidden("recipients are registered by a charity or by a regulator whose jurisdiction covers their region"));
    }
    if let Some(org) = &r.organization {
        if r.kind != RecipientKind::Charity {
            return Err(ApiError::field(
                "organization",
                "only a recipient of kind charity may be linked to an organisation",
            ));
        }
        // A charity speaks for itself only: linking a recipient to another organisation would
        // let it pass goods off as going to that organisation.
        if !regulator && p.organization.as_deref() != Some(org.as_str()) {
            return Err(ApiError::forbidden(format!(
                "a charity may link a recipient only to itself; only a regulator covering the recipient's region may link it to {org}"
            ))
            .with_errors(vec![FieldError::new(
                "organization",
                "must be the registering charity's own organisation",
            )]));
        }
        let id = org.to_string();
        if read(&state, move |c| registry::organization(c, &id))
            .await?
            .is_none()
        {
            return Err(ApiError::field(
                "organization",
                format!("organisation {org} is not registered"),
            ));
        }
    }
    let (role, by) = if regulator {
        ("regulator", p.jurisdiction.clone().unwrap_or_default())
    } else {
        ("charity", p.organization.clone().unwrap_or_default())
    };
    let rec = Recipient {
        id: r.id.to_string(),
        name: name("name", &r.name)?,
        credit_code: r.credit_code.map(|c| c.as_str().to_owned()),
        kind: enum_text(&r.kind),
        region_code: r.region_code.to_string(),
        organization: r.organization.map(|o| o.to_string()),
        created_at: 0,
        ownership: r.ownership.map(|o| o.as_str().to_owned()),
        designated_hospital: r.designated_hospital,
        registered_by_role: Some(role.to_owned()),
        registered_by: Some(by),
        confirmed_by: None,
        confirmed_at: None,
    };
    submit(&req, &state, &p, &body, Write::Recipient(rec)).await
}

/// The registered recipient `id`, if `p` is a regulator covering its region (404 if it is not
/// registered, 403 with `refusal` if `p` does not cover it).
async fn covering_regulator(
    state: &AppState,
    p: &Principal,
    id: &str,
    refusal: &str,
) -> Result<Recipient, ApiError> {
    let lookup = id.to_owned();
    let r = read(state, move |c| registry::recipient(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("recipient {id} is not registered")))?;
    if !regulator_covers(p, &r.region_code) {
        return Err(ApiError::forbidden(refusal));
    }
    Ok(r)
}

/// Confirm a recipient a charity registered (a regulator covering the recipient's region). Its
/// `registered_by` stays; `confirmed_by` and `confirmed_at` are set. 409 when already confirmed
/// (a regulator's own registration is confirmed from the start).
#[utoipa::path(tag = "registration", request_body(content = Object, description = "`{}`: no fields"), params(("recipient" = String, Path, description = "recipient slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the recipient, confirmed", body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients/{recipient}/confirmations")]
pub async fn post_recipient_confirmation(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let id = recipient.into_inner();
    covering_regulator(
        &state,
        &p,
        &id,
        "recipients are confirmed by a regulator covering the recipient's region",
    )
    .await?;
    let write = Write::RecipientConfirmation {
        recipient: id,
        jurisdiction: p.jurisdiction.clone().unwrap_or_default(),
    };
    submit(&req, &state, &p, &body, write).await
}

/// Issue a charity key for an organisation (a regulator covering it, or the charity itself). Shown once.
#[utoipa::path(tag = "registration", request_body(content = Object, description = "`{}`: no fields"), params(("org" = String, Path, description = "organisation slug")),
    responses((status = 201, description = "`{\"key\": \"…\", \"key_id\", \"role\": \"charity\", …}`; the key is shown only here", body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/keys")]
pub async fn post_organization_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let id = org.into_inner();
    let lookup = id.clone();
    let o = read(&state, move |c| registry::organization(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("organisation {id} is not registered")))?;
    let own = p.role == Role::Charity && p.organization.as_deref() == Some(id.as_str());
    if !(own || regulator_covers(&p, &o.region_code)) {
        return Err(ApiError::forbidden("keys of an organisation are issued by a regulator covering it or by the organisation itself"));
    }
    let key = NewKey {
        key: registry::generate_key(),
        role: Role::Charity,
        organization: Some(id),
        recipient: None,
        jurisdiction: None,
    };
    submit(&req, &state, &p, &body, Write::Key(key)).await
}

/// Issue a recipient key (a regulator covering the recipient's region). Shown once.
#[utoipa::path(tag = "registration", request_body(content = Object, description = "`{}`: no fields"), params(("recipient" = String, Path, description = "recipient slug")),
    responses((status = 201, description = "`{\"key\": \"…\", \"role\": \"recipient\", …}`; the key is shown only here", body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients/{recipient}/keys")]
pub async fn post_recipient_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let id = recipient.into_inner();
    covering_regulator(
        &state,
        &p,
        &id,
        "recipient keys are issued by a regulator covering the recipient's region",
    )
    .await?;
    let key = NewKey {
        key: registry::generate_key(),
        role: Role::Recipient,
        organization: None,
        recipient: Some(id),
        jurisdiction: None,
    };
    submit(&req, &state, &p, &body, Write::Key(key)).await
}

/// Whether jurisdiction `broader` strictly contains `narrower` (`""`, national, contains every
/// other; `42` contains `4201`; nothing contains itself).
fn strictly_broader(broader: &str, narrower: &str) -> bool {
    narrower.len() > broader.len() && region_has_prefix(narrower, broader)
}

/// Revoke a key (by its public `key_id`): the key itself, a charity key of the same organisation,
/// or a regulator whose jurisdiction covers the key's subject; a regulator's key only by itself or
/// by a regulator with a strictly broader jurisdiction (peers may not revoke each other). A
/// revoked key is refused with 401.
#[utoipa::path(tag = "registration", params(("key_id" = String, Path, description = "public id of the key (`key_…`)")),
    responses((status = 200, description = "`{\"key_id\", \"revoked\": true}`", body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
#[delete("/keys/{key_id}")]
pub async fn revoke_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    key_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = required(&req, &state).await?;
    let id = key_id.into_inner();
    let lookup = id.clone();
    let (target, subject_region) = read(&state, move |c| {
        let Some((target, _)) = registry::key_by_id(c, &lookup)? else {
            return Ok((None, None));
        };
        let region = match (&target.organization, &target.recipient) {
            (Some(o), _) => registry::organization(c, o)?.map(|o| o.region_code),
            (_, Some(r)) => registry::recipient(c, r)?.map(|r| r.region_code),
            _ => target.jurisdiction.clone(),
        };
        Ok((Some(target), region))
    })
    .await?;
    let target = target.ok_or_else(|| ApiError::not_found(format!("no key {id}")))?;
    let own = p.key_id == target.key_id;
    let same_org = p.role == Role::Charity
        && target.organization.is_some()
        && p.organization == target.organization;
    let regulator = if target.role == Role::Regulator {
        // Peers may not revoke each other: only a strictly broader jurisdiction may.
        p.role == Role::Regulator
            && strictly_broader(
                p.jurisdiction.as_deref().unwrap_or(""),
                target.jurisdiction.as_deref().unwrap_or(""),
            )
    } else {
        regulator_covers(&p, subject_region.as_deref().unwrap_or(""))
    };
    if !(own || same_org || regulator) {
        return Err(ApiError::forbidden(
            "a key is revoked by itself, by its organisation, by a regulator covering it, or \
             (a regulator's key) by a regulator with a strictly broader jurisdiction",
        ));
    }
    match state
        .writer
        .submit(Write::RevokeKey(id), None, Some(p.key_id.clone()))
        .await?
    {
        Outcome::Created(v) => Ok(json_text(HttpResponse::Ok(), v)),
        Outcome::Replayed { .. } => Err(ApiError::internal(&"a revocation is never replayed")),
    }
}
