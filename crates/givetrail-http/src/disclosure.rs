//! Public disclosure: summaries, the donation trail, timeliness, standard exports, CSV
//! negotiation, and the regulator's view of private values. Handlers parse and format; the
//! reports are `givetrail_domain::disclosure`, the reads `givetrail_store::read::disclosure`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use givetrail_store::read::model::ReadModel;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use givetrail_domain::disclosure::summary::{self, ReceivedCursor, RecipientView, Summary};
use givetrail_domain::disclosure::table::{self, Table};
use givetrail_domain::disclosure::timeliness::{self, EntryTimeliness};
use givetrail_domain::disclosure::trail::{self, Trail};
use givetrail_domain::disclosure::{giving360, iati, period, xlsx, Directory, Ledger, Record};
use givetrail_domain::entry::Role;
use givetrail_store::read::disclosure as store;
use givetrail_store::read::feeds::Feed;
use givetrail_store::read::log::{self as q};
use givetrail_store::{registry, AnyConnection, StoreError};

use crate::auth;
use crate::caching;
use crate::db::{read, read_snapshot};
use crate::link;
use crate::paging::{page_limit, seq_cursor};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::streamed;

/// A table form of a read: CSV or an Excel workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// `text/csv` (`?format=csv`).
    Csv,
    /// An Excel workbook (`?format=xlsx`).
    Xlsx,
}

/// An Excel workbook (`.xlsx`), as the OpenAPI document names a response or request body.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Workbook(#[allow(dead_code)] Vec<u8>);

/// The media type of a CSV read.
pub const CSV: &str = "text/csv";

/// The table form the client asked for (`None`: JSON): `?format=csv|xlsx|json`, or without
/// `?format` the `Accept` header (the workbook's media type, else `text/csv`).
pub fn wanted(req: &HttpRequest, format: Option<&str>) -> Result<Option<TableFormat>, ApiError> {
    match format {
        Some("csv") => Ok(Some(TableFormat::Csv)),
        Some("xlsx") => Ok(Some(TableFormat::Xlsx)),
        Some("json") => Ok(None),
        Some(_) => Err(ApiError::field("format", "must be json, csv or xlsx")),
        None => {
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            Ok(if accept.contains(xlsx::MEDIA_TYPE) {
                Some(TableFormat::Xlsx)
            } else if accept.contains(CSV) {
                Some(TableFormat::Csv)
            } else {
                None
            })
        }
    }
}

/// A table as a CSV document or a workbook named `name`; the next page's cursor, if any, in
/// `Link` and `X-Next-Cursor`.
pub fn table_response(
    req: &HttpRequest,
    name: &str,
    format: TableFormat,
    table: &Table,
    next: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let mut r = HttpResponse::Ok();
    let (body, media, extension) = match format {
        TableFormat::Csv => (table.csv().into_bytes(), "text/csv; charset=utf-8", "csv"),
        TableFormat::Xlsx => (
            table.xlsx().map_err(|e| ApiError::internal(&e))?,
            xlsx::MEDIA_TYPE,
            "xlsx",
        ),
    };
    let disposition = match format {
        TableFormat::Csv => "inline",
        TableFormat::Xlsx => "attachment",
    };
    r.content_type(media).insert_header((
        header::CONTENT_DISPOSITION,
        format!("{disposition}; filename=\"{name}.{extension}\""),
    ));
    if let Some(n) = next {
        let mut query: Vec<(String, String)> =
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| q.into_inner())
                .unwrap_or_default();
        query.retain(|(k, _)| k != "after");
        query.push(("after".into(), n.clone()));
        r.insert_header((
            header::LINK,
            format!("<{}?{}>; rel=\"next\"", req.path(), link::query(&query)),
        ));
        r.insert_header(("X-Next-Cursor", n));
    }
    Ok(r.body(body))
}

fn records(entries: &[serde_json::Value]) -> Result<Vec<Record>, ApiError> {
    entries
        .iter()
        .map(|e| Record::from_entry(e).map_err(|m| ApiError::from(StoreError::Corrupt(m))))
        .collect()
}

/// The table of one page of a feed.
pub fn feed_table(
    org: &str,
    which: Feed,
    entries: &[serde_json::Value],
    directory: &Directory,
) -> Result<Table, ApiError> {
    let records = records(entries)?;
    Ok(match which {
        Feed::Donations => table::donations(org, &records),
        Feed::Allocations => table::allocations(org, &records, directory),
        Feed::Disbursements => table::disbursements(org, &records, directory),
        Feed::Procurements => table::procurements(org, &records),
    })
}

/// The table of an organisation's campaigns (their opening entries, or replacing corrections).
pub fn campaigns_table(org: &str, entries: &[serde_json::Value]) -> Result<Table, ApiError> {
    Ok(table::campaigns(org, &records(entries)?))
}

/// An organisation's replayed log and directory, or 404.
pub(crate) async fn ledger(
    state: &AppState,
    org: &str,
) -> Result<(Arc<Ledger>, Directory), ApiError> {
    let lookup = org.to_owned();
    let model = state.read_model.clone();
    read_snapshot(state, move |c| {
        store::ledger_with_directory(c, &model, &lookup)
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("organisation {org} is not registered")))
}

/// Query of a summary.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SummaryParams {
    /// The moment the summary is as at (RFC 3339; default now): the log as published by then
    /// (entries with `recorded_at` ≤ `to`), its stock ageing measured at `to`. A `to` in the
    /// future ages what is held now to that moment, as if nothing moved.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
    /// `json` (default), `csv` or `xlsx` (also chosen by `Accept`): one row per asset.
    pub format: Option<String>,
}

impl SummaryParams {
    /// `to`, or now.
    fn as_at(&self) -> Result<DateTime<Utc>, ApiError> {
        match &self.to {
            None => Ok(Utc::now()),
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| ApiError::field("to", "must be an RFC 3339 date-time")),
        }
    }
}

/// An organisation's replayed log as published by `as_at` (the log at `as_at`,
/// `disclosure::period::log_at`), with its directory, or 404. The read model's ledger when
/// nothing was recorded after `as_at`; otherwise a replay of the prefix, kept by nothing.
async fn ledger_as_at(
    state: &AppState,
    org: &str,
    as_at: DateTime<Utc>,
) -> Result<(Arc<Ledger>, Directory), ApiError> {
    let (l, d) = ledger(state, org).await?;
    if l.records.last().is_none_or(|r| r.recorded_at <= as_at) {
        return Ok((l, d));
    }
    let at = period::ledger_at(l.organization.clone(), &l.records, as_at)
        .map_err(|m| ApiError::from(StoreError::Corrupt(m)))?;
    Ok((Arc::new(at), d))
}

/// An organisation's summary per asset: received, allocated, disbursed, acknowledged, used,
/// expenses, unallocated, undisbursed; designated vs undesignated; the priority-region share of
/// undesignated assets; stock ageing of what is unallocated and undisbursed; designation
/// changes, corrections and timeliness. As at `to` (default now). As CSV or an Excel workbook,
/// one row per asset (totals, designated and undesignated totals, priority share, corrections,
/// ageing).
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), SummaryParams),
    responses((status = 200, description = "the summary", content((Summary = "application/json"), (String = "text/csv"), (Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, description = "`to` is not an RFC 3339 date-time, or `format` unknown", body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/summary")]
pub async fn organization_summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    q: web::Query<SummaryParams>,
) -> Result<HttpResponse, ApiError> {
    let as_at = q.as_at()?;
    let form = wanted(&req, q.format.as_deref())?;
    let (l, d) = ledger_as_at(&state, &org, as_at).await?;
    let s = summary::organisation_summary(&l, &d, &state.policy, as_at);
    summary_response(&req, &format!("{org}-summary"), form, &s)
}

/// A summary as JSON, or as its table.
fn summary_response(
    req: &HttpRequest,
    name: &str,
    form: Option<TableFormat>,
    s: &Summary,
) -> Result<HttpResponse, ApiError> {
    match form {
        Some(f) => table_response(req, name, f, &table::summary(s), None),
        None => Ok(HttpResponse::Ok().json(s)),
    }
}

/// A campaign's summary: its donations and everything drawn on them, as at `to` (default now);
/// JSON, CSV or an Excel workbook as the organisation's.
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), ("campaign" = String, Path, description = "campaign slug"), SummaryParams),
    responses((status = 200, description = "the summary", content((Summary = "application/json"), (String = "text/csv"), (Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, description = "`to` is not an RFC 3339 date-time, or `format` unknown", body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/campaigns/{campaign}/summary")]
pub async fn campaign_summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<SummaryParams>,
) -> Result<HttpResponse, ApiError> {
    let (org, campaign) = path.into_inner();
    let as_at = q.as_at()?;
    let form = wanted(&req, q.format.as_deref())?;
    let (l, d) = ledger_as_at(&state, &org, as_at).await?;
    let known = l
        .books
        .campaigns
        .iter()
        .any(|(id, c)| id.as_str() == campaign && c.live);
    if !known {
        return Err(ApiError::not_found(format!(
            "campaign {campaign} of {org} not found"
        )));
    }
    let s = summary::summarise(&l, &d, &state.policy, Some(&campaign), as_at);
    summary_response(&req, &format!("{org}-{campaign}-summary"), form, &s)
}

/// "Where did my donation go": every allocation, disbursement, acknowledgement and usage report
/// drawing on the donation with this receipt number, following gifts into other charities'
/// logs, with what remains unallocated, undisbursed and unacknowledged. Pool allocations and
/// their disbursements are attributed to donations oldest-first.
/// A donation that was voided answers 410 with the correcting entry's seq in `correction`.
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), ("receipt_number" = String, Path, description = "receipt number")),
    responses((status = 200, body = Trail), (status = 404, body = Problem), (status = 410, description = "the donation was voided; `correction` is the correcting entry's seq", body = Problem)))]
#[get("/organizations/{org}/donations/{receipt_number}/trail")]
pub async fn donation_trail(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, receipt) = path.into_inner();
    Ok(HttpResponse::Ok().json(trail_of(&state, &org, &receipt).await?))
}

/// The trail of `org`'s donation with receipt number `receipt`: 404 when there is none, 410
/// (with the correcting entry's seq) when it was voided.
pub(crate) async fn trail_of(
    state: &AppState,
    org: &str,
    receipt: &str,
) -> Result<Box<Trail>, ApiError> {
    let (o, r) = (org.to_owned(), receipt.to_owned());
    let model = state.read_model.clone();
    let t = read_snapshot(state, move |c| {
        trail::trace_receipt(
            &mut store::Logs {
                conn: c,
                model: &model,
            },
            &o,
            &r,
        )
    })
    .await?;
    match t {
        trail::Traced::Found(t) => Ok(t),
        trail::Traced::Voided { correction } => Err(ApiError::gone(
            format!("donation {receipt} of {org} was voided by entry {correction}"),
            correction,
        )),
        trail::Traced::NotFound => Err(ApiError::not_found(format!(
            "no donation {receipt} recorded by {org}"
        ))),
    }
}

/// A page of the timeliness feed as JSON (the OpenAPI document's name for it).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TimelinessPage {
    /// One row per entry.
    entries: Vec<EntryTimeliness>,
    /// `{"next"}`: the cursor of the next page, or null.
    #[schema(value_type = Object)]
    meta: (),
}

/// Parameters of the timeliness feed.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TimelinessParams {
    /// Cursor from `meta.next` (a seq).
    pub after: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only entries that missed their deadline.
    pub missed: Option<bool>,
    /// `json` (default), `csv` or `xlsx` (also chosen by `Accept`).
    pub format: Option<String>,
}

/// Per entry: `recorded_at − occurred_at`, the campaign deadline that applies and whether it
/// was missed. JSON (`{"entries": [...], "meta"}`), CSV or an Excel workbook.
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), TimelinessParams),
    responses((status = 200, description = "`{\"entries\": [EntryTimeliness], \"meta\": {\"next\"}}`, or CSV, or an Excel workbook", content((TimelinessPage = "application/json"), (String = "text/csv"), (Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/timeliness")]
pub async fn entry_timeliness(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<TimelinessParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(p.limit)?;
    let after = seq_cursor(p.after.as_deref())?;
    let table = wanted(&req, p.format.as_deref())?;
    let (l, _) = ledger(&state, &org).await?;
    let page = usize::try_from(limit + 1).unwrap_or(usize::MAX);
    let mut rows = timeliness::page(&l, &state.policy, after, page, p.missed == Some(true));
    let next = (rows.len() as i64 > limit).then(|| {
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        rows.last().map(|e| e.seq.to_string())
    });
    let next = next.flatten();
    if let Some(f) = table {
        let t = table::timeliness(&org, &rows);
        return table_response(&req, &format!("{org}-timeliness"), f, &t, next);
    }
    Ok(HttpResponse::Ok().json(json!({"entries": rows, "meta": {"next": next}})))
}

/// IATI 2.03 activities: one per campaign (`humanitarian="1"` for emergency appeals), money
/// transactions typed 1 incoming funds, 2 outgoing commitment, 3 disbursement, 4 expenditure.
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug")),
    responses((status = 200, description = "IATI 2.03 `iati-activities` XML", content_type = "application/xml", body = String), (status = 404, body = Problem)))]
#[get("/organizations/{org}/exports/iati.xml")]
pub async fn iati_export(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (l, d) = ledger(&state, &org).await?;
    let now = chrono::Utc::now();
    // An activity's status says whether its campaign has ended: the tag changes when one does.
    let ended = l
        .books
        .campaigns
        .values()
        .filter(|c| c.ends_at.is_some_and(|e| e < now))
        .count();
    let tag = export_tag(&format!("iati {ended}"), &l, &d);
    Ok(caching::tagged(&req, tag, || {
        streamed::response("application/xml; charset=utf-8", move |out| {
            iati::write_export(&l, &d, now, out)
        })
    }))
}

/// 360Giving 1.4 package: every money disbursement as a grant.
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug")),
    responses((status = 200, description = "360Giving package `{\"grants\": [...]}`", body = Object), (status = 404, body = Problem)))]
#[get("/organizations/{org}/exports/360giving.json")]
pub async fn giving360_export(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (l, d) = ledger(&state, &org).await?;
    Ok(caching::tagged(
        &req,
        export_tag("360giving", &l, &d),
        || {
            streamed::response("application/json", move |out| {
                serde_json::to_writer(out, &giving360::export(&l, &d))
            })
        },
    ))
}

/// The tag of a whole-log export ([`caching::export_tag`]): what it is, the log's length and head
/// hash, and the names it prints (the organisation and the directory of recipients). The IATI
/// document's generation time is left out: a client holding the document of the same log has it.
fn export_tag(what: &str, l: &Ledger, d: &Directory) -> String {
    let head = l
        .records
        .last()
        .map(|r| r.entry_hash.to_string())
        .unwrap_or_default();
    let len = l.records.len().to_string();
    let names = format!("{:?}{d:?}", l.organization);
    caching::export_tag([
        what.as_bytes(),
        len.as_bytes(),
        head.as_bytes(),
        names.as_bytes(),
    ])
}

/// What a recipient received, from which organisations and donations, and what it acknowledged
/// and reported used: the totals, and the page of at most `limit` disbursements after `after`
/// (several reads: run it inside a snapshot).
pub fn recipient_view(
    c: &mut AnyConnection,
    model: &ReadModel,
    recipient: &str,
    after: Option<&ReceivedCursor>,
    limit: i64,
) -> Result<RecipientView, StoreError> {
    let mut ledgers = Vec::new();
    for org in store::organizations_giving_to(c, recipient)? {
        ledgers.extend(model.ledger(c, &org)?);
    }
    let limit = usize::try_from(limit).unwrap_or(0);
    Ok(summary::recipient_view(recipient, &ledgers, after, limit))
}

/// The cursor of `?after=` on a recipient's disbursements (`meta.next` of the previous page).
pub fn received_cursor(after: Option<&str>) -> Result<Option<ReceivedCursor>, ApiError> {
    after
        .map(|a| a.parse::<ReceivedCursor>())
        .transpose()
        .map_err(|_| ApiError::field("after", "must be a cursor from meta.next"))
}

/// The private values behind an entry's commitments (donor contact, full name, related
/// parties), for a regulator whose jurisdiction covers the organisation.
#[utoipa::path(tag = "regulator", params(("org" = String, Path, description = "organisation slug"), ("seq" = i64, Path, description = "entry seq")),
    security(("bearer" = [])),
    responses((status = 200, description = "`{\"organization\", \"seq\", \"private\": {\"values\": {path: {\"value\", \"salt\"}}}}`", body = Object),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/entries/{seq}/private")]
pub async fn private_values(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (org, seq) = path.into_inner();
    let who = auth::required(&req, &state).await?;
    let lookup = org.clone();
    let o = read(&state, move |c| registry::organization(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("organisation {org} is not registered")))?;
    if who.role != Role::Regulator || !auth::regulator_covers(&who, &o.region_code) {
        return Err(ApiError::forbidden(
            "only a regulator whose jurisdiction covers the organisation sees private values",
        ));
    }
    let o2 = org.clone();
    let private = read(&state, move |c| {
        Ok(match q::entry(c, &o2, seq)? {
            Some(_) => Some(q::private_values(c, &o2, seq)?),
            None => None,
        })
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("entry {seq} of {org} not found")))?;
    Ok(HttpResponse::Ok().json(json!({"organization": org, "seq": seq, "private": private})))
}
