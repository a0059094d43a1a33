//! The regulator's reconciliation report, the catalogue of finding kinds, and bank statement
//! uploads. Handlers authorise, parse and format: the report is
//! `givetrail_domain::reconciliation::reconcile`, its reads `givetrail_store::reconciliation`,
//! statements are kept through the writer.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use givetrail_domain::reconciliation::bank::parse_statement;
use givetrail_domain::reconciliation::inputs::{AgeingLimits, Period};
use givetrail_domain::reconciliation::kind::{FindingKind, FindingKindInfo};
use givetrail_domain::reconciliation::model::Report;
use givetrail_domain::reconciliation::{self as report};
use givetrail_store::bank::NewStatement;
use givetrail_store::reconciliation as store;
use givetrail_store::registry::{self, Organization, Principal};
use givetrail_store::write::Write;

use crate::auth::{author, regulator_covers, required};
use crate::body::require_csv;
use crate::db::read;
use crate::disclosure::{table_response, wanted};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::writes::{limit_body, submit};

/// Largest bank statement upload (a statement also holds at most
/// `givetrail_domain::reconciliation::bank::MAX_STATEMENT_LINES` lines).
pub const MAX_STATEMENT_BYTES: usize = 2 * 1024 * 1024;

/// The organisation, or 404.
pub(crate) async fn organization(state: &AppState, org: &str) -> Result<Organization, ApiError> {
    let lookup = org.to_owned();
    read(state, move |c| registry::organization(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("organisation {org} is not registered")))
}

/// A regulator whose jurisdiction covers the organisation's region, or the charity itself.
fn overseer_of(p: &Principal, o: &Organization, what: &str) -> Result<(), ApiError> {
    let own = p.role == givetrail_domain::entry::Role::Charity
        && p.organization.as_deref() == Some(o.id.as_str());
    if own || regulator_covers(p, &o.region_code) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{what} of {} is for a regulator whose jurisdiction covers region {} or for {} itself",
            o.id, o.region_code, o.id
        )))
    }
}

/// Query of the report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReconciliationParams {
    /// Event findings from this moment on (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Event findings before this moment; the report describes the books as at `to` (default now).
    pub to: Option<DateTime<Utc>>,
    /// `json` (default), `csv` or `xlsx` (also chosen by `Accept`: `text/csv`, or the
    /// workbook's media type).
    pub format: Option<String>,
    /// `true`: recompute every entry's hashes and compare the derived balances with a replay of
    /// the whole log. By default only the entries appended since the server's last clean check
    /// are recomputed, and the balances are not compared (finding `derived_unchecked`).
    pub full: Option<bool>,
    /// A region-code prefix (1 to 6 digits): the report restricted to what the organisation gave
    /// recipients whose region code starts with it. Only for a regulator whose jurisdiction
    /// covers it (403 for anyone else, the charity itself included).
    pub destination: Option<String>,
}

/// A regulator whose jurisdiction covers `destination`, or 403.
fn regulator_of_destination(p: &Principal, destination: &str) -> Result<(), ApiError> {
    if regulator_covers(p, destination) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "a report restricted to destination {destination} is for a regulator whose jurisdiction covers it"
        )))
    }
}

/// The reconciliation report of an organisation: totals per asset, then findings
/// in sections — integrity, balances, designations, ageing, receipt, spending, bank,
/// disclosure, fundraising, priority, needs, transfers, procurement — and the complaints about it. A regulator whose
/// jurisdiction covers the organisation's region, or the charity itself. JSON, or CSV (totals
/// rows first, then one row per finding).
///
/// With `destination={code}`: a regulator whose jurisdiction covers `code` (whatever the
/// organisation's region; nobody else, not the charity itself) reads the report restricted to
/// that destination. The report is computed over the whole log, then only the findings naming
/// one of its allocations, disbursements, acknowledgements or usage reports (or a correction of
/// one) for a recipient whose region code starts with `code` are kept; findings about the log as
/// a whole or donations alone, the bank detail and the complaints are left out. `totals` is
/// empty and `destination` gives the region, its recipients in this log and what the log gave
/// them per asset (CSV: `destination_totals` rows).
#[utoipa::path(tag = "regulator", params(("org" = String, Path, description = "organisation slug"), ReconciliationParams),
    security(("bearer" = [])),
    responses((status = 200, description = "the report; CSV (totals rows, then one row per finding) with `?format=csv` or `Accept: text/csv`, the same as an Excel workbook with `?format=xlsx` or its media type in `Accept`", content((Report = "application/json"), (String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/organizations/{org}/reconciliation")]
pub async fn get_reconciliation(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    q: web::Query<ReconciliationParams>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let p = required(&req, &state).await?;
    let table = wanted(&req, q.format.as_deref())?;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from >= to {
            return Err(ApiError::field("to", "must be after from"));
        }
    }
    let destination = q
        .destination
        .as_deref()
        .map(|d| crate::regions::region_code("destination", d))
        .transpose()?;
    let o = organization(&state, &org).await?;
    match &destination {
        Some(d) => regulator_of_destination(&p, d)?,
        None => overseer_of(&p, &o, "the reconciliation report")?,
    }
    let now = Utc::now();
    let as_at = q.to.unwrap_or(now);
    let key = state.public_key.clone();
    let lookup = org.clone();
    let depth = match q.full {
        Some(true) => store::Depth::Full,
        _ => store::Depth::Incremental,
    };
    let model = state.read_model.clone();
    let period = Period {
        from: q.from,
        to: q.to,
    };
    let policy = state.policy.clone();
    // Computed on the blocking pool beside the reads: a report over a large log takes longer
    // than a request handler may hold its worker.
    let r = read(&state, move |c| {
        let gathered = store::gather(c, &model, &lookup, Some(&key), as_at, depth)?;
        Ok(gathered.map(|g| {
            let r = report::reconcile(&g.inputs(&policy, AgeingLimits::default(), period, now));
            match &destination {
                Some(d) => report::destination::restrict(r, &g.ledger, &g.directory, d),
                None => r,
            }
        }))
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("organisation {org} is not registered")))?;
    if let Some(f) = table {
        let t = report::table::report(&r);
        return table_response(&req, &format!("{org}-reconciliation"), f, &t, None);
    }
    Ok(HttpResponse::Ok().json(r))
}

/// Every kind of finding the reconciliation report can contain, in report order: its wire name
/// (the `kind` of a finding), its section, its usual severity, and what it means in one English
/// and one Chinese sentence. Public.
#[utoipa::path(tag = "regulator",
    responses((status = 200, description = "`[{\"kind\", \"section\", \"severity\", \"en\", \"zh\"}]`", body = [FindingKindInfo])))]
#[get("/finding_kinds")]
pub async fn finding_kinds() -> HttpResponse {
    HttpResponse::Ok().json(FindingKind::catalogue())
}

/// Upload a bank statement of the organisation's account (`text/csv`; a regulator covering it,
/// or the charity itself). Columns, in any order: `date` (2020-02-01), `amount` (decimal > 0),
/// `currency`, `direction` (`credit` money in, `debit` money out), `reference`, `counterparty`;
/// at most 10,000 lines and 2 MiB. Any bad cell refuses the whole statement, naming `row N: column`
/// (rows as a spreadsheet numbers them). Lines are kept append-only and matched in the
/// reconciliation report; the same file is accepted once.
#[utoipa::path(tag = "regulator", params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    request_body(content = String, content_type = "text/csv", description = "date,amount,currency,direction,reference,counterparty"),
    security(("bearer" = [])),
    responses((status = 201, description = "`{\"organization\", \"statement\", \"lines\", \"sha256\", \"uploaded_by\", \"uploaded_at\"}`", body = Object),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
#[post("/organizations/{org}/bank_statements")]
pub async fn post_bank_statement(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let p = required(&req, &state).await?;
    let o = organization(&state, &org).await?;
    overseer_of(&p, &o, "uploading bank statements")?;
    limit_body(&body, MAX_STATEMENT_BYTES)?;
    require_csv(&req, "a bank statement")?;
    let lines = parse_statement(&body).map_err(ApiError::invalid)?;
    let who = author(&p);
    let write = Write::BankStatement(NewStatement {
        organization: o.id,
        sha256: hex::encode(Sha256::digest(&body)),
        uploaded_by: format!("{}:{}", who.role.as_str(), who.subject),
        lines,
    });
    submit(&req, &state, &p, &body, write).await
}
