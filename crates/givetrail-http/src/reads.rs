//! Public reads: registrations, campaigns, the raw log, and the three feeds (donations,
//! allocations, disbursements).

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use givetrail_domain::asset::{AssetKey, Currency, GoodsKind};
use givetrail_domain::ids::parse_region_prefix;
use givetrail_store::read::feeds::{self, Feed, FeedFilter};
use givetrail_store::read::log::{self as q};
use givetrail_store::read::registrations;
use givetrail_store::registry;

use crate::caching;
use crate::db::{read, read_snapshot};
use crate::paging::{page_limit, seq_cursor, PageParams};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

fn list(name: &str, items: Value, next: Option<String>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ name: items, "meta": { "next": next } }))
}

/// Liveness and database reachability.
#[utoipa::path(tag = "operations", responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object), (status = 500, body = Problem)))]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    read(&state, |c| {
        registrations::organizations(c, None, 1).map(|_| ())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

/// Registered organisations.
#[utoipa::path(tag = "public reads", params(PageParams), responses((status = 200, description = "`{\"organizations\": [...], \"meta\": {\"next\"}}`", body = Object), (status = 400, body = Problem)))]
#[get("/organizations")]
pub async fn list_organizations(
    state: web::Data<AppState>,
    p: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(p.limit)?;
    let after = p.after.clone();
    let page = read(&state, move |c| {
        registrations::organizations(c, after.as_deref(), limit)
    })
    .await?;
    Ok(list("organizations", json!(page.items), page.next))
}

/// One organisation.
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug")), responses((status = 200, description = "the organisation", body = Object), (status = 404, body = Problem)))]
#[get("/organizations/{org}")]
pub async fn get_organization(
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = org.into_inner();
    let lookup = id.clone();
    let public_key = state.public_key.clone();
    let (o, status) = read_snapshot(&state, move |c| {
        let o = registry::organization(c, &lookup)?;
        let status = crate::verification::checkpoint_status(c, &lookup, &public_key)?;
        Ok((o, status))
    })
    .await?;
    let o = o.ok_or_else(|| ApiError::not_found(format!("organisation {id} is not registered")))?;
    let mut v = json!(o);
    v["latest_checkpoint"] = json!(status.checkpoint);
    v["checkpoint_verified"] = json!(status.verified);
    Ok(HttpResponse::Ok().json(v))
}

/// Pagination and format of a registry list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RegistryParams {
    /// Cursor from `meta.next` of the previous page.
    pub after: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// `json` (default), `csv` or `xlsx` (also chosen by `Accept`: `text/csv`, or the workbook's
    /// media type).
    pub format: Option<String>,
}

/// Registered recipients (JSON, CSV or an Excel workbook).
#[utoipa::path(tag = "public reads", params(RegistryParams), responses((status = 200, description = "`{\"recipients\": [...], \"meta\": {\"next\"}}`, or CSV, or a workbook", content((Object = "application/json"), (String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = Problem)))]
#[get("/recipients")]
pub async fn list_recipients(
    req: HttpRequest,
    state: web::Data<AppState>,
    p: web::Query<RegistryParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(p.limit)?;
    let table = crate::disclosure::wanted(&req, p.format.as_deref())?;
    let after = p.after.clone();
    let mut page = read(&state, move |c| {
        registrations::recipients(c, after.as_deref(), limit)
    })
    .await?;
    page.items = page.items.into_iter().map(public_recipient).collect();
    if let Some(f) = table {
        let parties: Vec<givetrail_domain::disclosure::Party> =
            page.items.into_iter().map(Into::into).collect();
        let t = givetrail_domain::disclosure::table::parties(&parties);
        return crate::disclosure::table_response(&req, "recipients", f, &t, page.next);
    }
    Ok(list("recipients", json!(page.items), page.next))
}

/// A recipient as the public sees it: aid to an individual never shows the person's name.
fn public_recipient(mut r: registry::Recipient) -> registry::Recipient {
    r.name = givetrail_domain::disclosure::Party::public_name(&r.kind, &r.name);
    r
}

/// One recipient.
#[utoipa::path(tag = "public reads", params(("recipient" = String, Path, description = "recipient slug"), PageParams), responses((status = 200, description = "the recipient, what it received (`received_from`: totals per organisation and asset over everything it was allocated and sent), one page of `disbursements` (oldest first, each with the donations it came from, what it acknowledged and used), and `meta.next`, the cursor of the next page (`null` on the last)", body = Object), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/recipients/{recipient}")]
pub async fn get_recipient(
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    p: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(p.limit)?;
    let after = crate::disclosure::received_cursor(p.after.as_deref())?;
    let id = recipient.into_inner();
    let lookup = id.clone();
    let model = state.read_model.clone();
    let (r, view) = read_snapshot(&state, move |c| {
        let Some(r) = registry::recipient(c, &lookup)? else {
            return Ok(None);
        };
        let view = crate::disclosure::recipient_view(c, &model, &lookup, after.as_ref(), limit)?;
        Ok(Some((r, view)))
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("recipient {id} is not registered")))?;
    let mut v = json!(public_recipient(r));
    v["received_from"] = json!(view.received_from);
    v["disbursements"] = json!(view.disbursements);
    v["meta"] = json!({"next": view.next.map(|n| n.to_string())});
    Ok(HttpResponse::Ok().json(v))
}

async fn existing_org(state: &AppState, org: &str) -> Result<(), ApiError> {
    let lookup = org.to_owned();
    match read(state, move |c| registry::organization(c, &lookup)).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!(
            "organisation {org} is not registered"
        ))),
    }
}

/// The live campaign body from its entry (or from the correction that replaced it).
fn campaign_of(entry: &Value) -> Value {
    let body = &entry["body"];
    let campaign = if entry["kind"] == "entry.corrected" {
        &body["replacement"]
    } else {
        body
    };
    let mut c = campaign.clone();
    if let Some(o) = c.as_object_mut() {
        o.insert("seq".into(), entry["seq"].clone());
    }
    c
}

/// The response format of a list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FormatParams {
    /// `json` (default), `csv` or `xlsx` (also chosen by `Accept`: `text/csv`, or the workbook's
    /// media type).
    pub format: Option<String>,
}

/// An organisation's campaigns (JSON, CSV or an Excel workbook).
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), FormatParams), responses((status = 200, description = "`{\"campaigns\": [...], \"meta\"}`, or CSV, or a workbook", content((Object = "application/json"), (String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/campaigns")]
pub async fn list_campaigns(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<FormatParams>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let table = crate::disclosure::wanted(&req, p.format.as_deref())?;
    existing_org(&state, &org).await?;
    let o = org.clone();
    let entries = read(&state, move |c| {
        let seqs: Vec<i64> = feeds::campaign_seqs(c, &o)?
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        q::entries_at(c, &o, &seqs)
    })
    .await?;
    if let Some(f) = table {
        let t = crate::disclosure::campaigns_table(&org, &entries)?;
        return crate::disclosure::table_response(&req, &format!("{org}-campaigns"), f, &t, None);
    }
    let campaigns: Vec<Value> = entries.iter().map(campaign_of).collect();
    Ok(list("campaigns", json!(campaigns), None))
}

/// One campaign.
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), ("campaign" = String, Path, description = "campaign slug")), responses((status = 200, description = "the campaign", body = Object), (status = 404, body = Problem)))]
#[get("/organizations/{org}/campaigns/{campaign}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, campaign) = path.into_inner();
    let (o, c2) = (org.clone(), campaign.clone());
    let entry = read(&state, move |c| {
        let seq = feeds::campaign_seqs(c, &o)?
            .into_iter()
            .find(|(id, _)| *id == c2)
            .map(|(_, s)| s);
        seq.map(|s| q::entry(c, &o, s))
            .transpose()
            .map(Option::flatten)
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("campaign {campaign} of {org} not found")))?;
    Ok(HttpResponse::Ok().json(campaign_of(&entry)))
}

/// The raw public log with hashes, in seq order.
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), PageParams), responses((status = 200, description = "`{\"entries\": [...], \"meta\": {\"next\"}}`", body = Object), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/entries")]
pub async fn list_entries(
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let limit = page_limit(p.limit)?;
    let after = seq_cursor(p.after.as_deref())?;
    existing_org(&state, &org).await?;
    let (page, full) = read(&state, move |c| {
        givetrail_store::read::log::page_json(c, &org, after, limit)
    })
    .await?;
    let res = HttpResponse::Ok()
        .content_type("application/json")
        .body(page);
    Ok(if full { caching::immutable(res) } else { res })
}

/// Periodic disclosures (`disclosure.published` entries), oldest first: each with its period
/// and the `summary_sha256` of the summary `GET /organizations/{org}/disclosures/{seq}` serves.
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), PageParams), responses((status = 200, description = "`{\"disclosures\": [...], \"meta\": {\"next\"}}`", body = Object), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/disclosures")]
pub async fn list_disclosures(
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let limit = page_limit(p.limit)?;
    let after = seq_cursor(p.after.as_deref())?;
    existing_org(&state, &org).await?;
    let page = read(&state, move |c| feeds::disclosures(c, &org, after, limit)).await?;
    Ok(list("disclosures", json!(page.items), page.next))
}

/// Filters of the feeds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FeedParams {
    /// Cursor from `meta.next`.
    pub after: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Campaign slug.
    pub campaign: Option<String>,
    /// Recipient slug.
    pub recipient: Option<String>,
    /// Currency code (`CNY`) or goods as `item|spec|unit`.
    pub asset: Option<String>,
    /// Region-code prefix (`42`, `4201`): of the recipient, or of a donation's designation.
    pub region: Option<String>,
    /// Happened at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Happened before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// `json` (default), `csv` or `xlsx` (also chosen by `Accept`: `text/csv`, or the workbook's
    /// media type).
    pub format: Option<String>,
}

fn asset_filter(s: &str) -> Result<String, ApiError> {
    if let Ok(c) = Currency::parse(s) {
        return Ok(AssetKey::Money(c).to_key_string());
    }
    let parts: Vec<&str> = s.split('|').collect();
    match parts.as_slice() {
        [item, spec, unit] => Ok(AssetKey::Goods(Box::new(GoodsKind {
            item: (*item).into(),
            spec: (*spec).into(),
            unit: (*unit).into(),
        }))
        .to_key_string()),
        _ => Err(ApiError::field(
            "asset",
            "must be a currency code such as CNY, or goods as item|spec|unit",
        )),
    }
}

async fn feed(
    req: &HttpRequest,
    state: web::Data<AppState>,
    org: String,
    which: Feed,
    name: &str,
    p: FeedParams,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(p.limit)?;
    let after = seq_cursor(p.after.as_deref())?;
    let table = crate::disclosure::wanted(req, p.format.as_deref())?;
    let region = p
        .region
        .as_deref()
        .map(|r| parse_region_prefix(r).map_err(|e| ApiError::field("region", e)))
        .transpose()?;
    let filter = FeedFilter {
        campaign: p.campaign,
        recipient: p.recipient,
        region,
        asset: p.asset.as_deref().map(asset_filter).transpose()?,
        from: p.from.map(|t| t.timestamp_micros()),
        to: p.to.map(|t| t.timestamp_micros()),
        include_voided: false,
    };
    existing_org(&state, &org).await?;
    let o = org.clone();
    let (page, directory) = read(&state, move |c| {
        let page = feeds::feed(c, &o, which, &filter, after, limit)?;
        let ids: Vec<String> = page
            .items
            .iter()
            .filter_map(|e| e["body"]["recipient"].as_str().map(str::to_owned))
            .collect();
        let directory = if table.is_some() {
            givetrail_store::read::disclosure::directory(c, &ids)?
        } else {
            Default::default()
        };
        Ok((page, directory))
    })
    .await?;
    if let Some(f) = table {
        let t = crate::disclosure::feed_table(&org, which, &page.items, &directory)?;
        return crate::disclosure::table_response(req, &format!("{org}-{name}"), f, &t, page.next);
    }
    Ok(list(name, json!(page.items), page.next))
}

/// Donations received (public form: donors masked, private fields as commitments).
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), FeedParams), responses((status = 200, description = "`{\"donations\": [...], \"meta\"}`, or CSV, or an Excel workbook (`format`)", content((Object = "application/json"), (String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/donations")]
pub async fn list_donations(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    feed(
        &req,
        state,
        org.into_inner(),
        Feed::Donations,
        "donations",
        p.into_inner(),
    )
    .await
}

/// Allocations made.
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), FeedParams), responses((status = 200, description = "`{\"allocations\": [...], \"meta\"}`, or CSV, or an Excel workbook (`format`)", content((Object = "application/json"), (String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/allocations")]
pub async fn list_allocations(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    feed(
        &req,
        state,
        org.into_inner(),
        Feed::Allocations,
        "allocations",
        p.into_inner(),
    )
    .await
}

/// Goods bought with donated money: supplier, invoice, what was paid from which donations, the
/// goods (a new lot at the entry's seq) and the unit price. Filters apply to the goods lot
/// (campaign, designated recipient or region, goods asset key, dates).
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), FeedParams), responses((status = 200, description = "`{\"procurements\": [...], \"meta\"}`, or CSV, or an Excel workbook (`format`)", content((Object = "application/json"), (String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/procurements")]
pub async fn list_procurements(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    feed(
        &req,
        state,
        org.into_inner(),
        Feed::Procurements,
        "procurements",
        p.into_inner(),
    )
    .await
}

/// Disbursements made: each names its receiving unit and amount (level-by-level publication).
#[utoipa::path(tag = "public reads", params(("org" = String, Path, description = "organisation slug"), FeedParams), responses((status = 200, description = "`{\"disbursements\": [...], \"meta\"}`, or CSV, or an Excel workbook (`format`)", content((Object = "application/json"), (String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/disbursements")]
pub async fn list_disbursements(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    feed(
        &req,
        state,
        org.into_inner(),
        Feed::Disbursements,
        "disbursements",
        p.into_inner(),
    )
    .await
}
