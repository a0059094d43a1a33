//! Givetrail's HTTP API (actix-web): handlers, authentication, RFC 9457 errors and the OpenAPI
//! document. Handlers parse and authorise; rules live in `givetrail_domain`, storage in
//! `givetrail_store`.

pub mod atom;
pub mod auth;
pub mod body;
pub mod caching;
pub mod complaints;
pub mod db;
pub mod disclosure;
pub mod fixtures;
pub mod gate;
pub mod import;
pub mod key_cache;
pub mod link;
pub mod load;
pub mod metrics;
pub mod middleware;
pub mod needs;
pub mod paging;
pub mod periodic;
pub mod problem;
pub mod qr;
pub mod readers;
pub mod reads;
pub mod reconciliation;
pub mod regions;
pub mod site;
pub mod state;
pub mod streamed;
pub mod strict;
pub mod verification;
pub mod writes;

use actix_web::{web, App, HttpResponse, HttpServer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};
use utoipa_swagger_ui::SwaggerUi;

pub use state::AppState;

/// Largest request body accepted by any endpoint (the batch endpoint; others check a smaller limit).
pub const MAX_REQUEST_BYTES: usize = body::MAX_BATCH_BODY_BYTES;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Givetrail",
        description = "Append-only, publicly verifiable ledger of charitable donations.\n\n\
            Errors are RFC 9457 `application/problem+json`. Limits: single write body 64 KiB; batch body 16 MiB \
            and 10,000 items; donations import (`text/csv` or an Excel workbook) 64 MiB; page size default 100, max 1000; Idempotency-Key at most 255 characters.\n\n\
            A busy server answers 503 with `Retry-After` (never 500): exports, reports, pages and feeds are admitted \
            a few at a time per class, and any read waits at most 3 s for a database connection.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(crate) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(reads::healthz)
        .service(writes::post_organization)
        .service(writes::post_recipient)
        .service(writes::post_organization_key)
        .service(writes::post_recipient_key)
        .service(writes::post_recipient_confirmation)
        .service(writes::revoke_key)
        .service(writes::post_campaign)
        .service(import::post_donation_import)
        .service(writes::post_donation_batch)
        .service(writes::post_donation)
        .service(writes::post_allocation)
        .service(writes::post_disbursement)
        .service(writes::post_expense)
        .service(writes::post_procurement)
        .service(writes::post_disclosure)
        .service(writes::post_correction)
        .service(writes::post_acknowledgement)
        .service(writes::post_usage)
        .service(writes::post_recipient_correction)
        .service(reads::list_organizations)
        .service(reads::get_organization)
        .service(reads::list_recipients)
        .service(reads::get_recipient)
        .service(reads::list_campaigns)
        .service(reads::get_campaign)
        .service(reads::list_entries)
        .service(reads::list_donations)
        .service(reads::list_allocations)
        .service(reads::list_disbursements)
        .service(reads::list_procurements)
        .service(reads::list_disclosures)
        .service(periodic::disclosure_summary)
        .service(disclosure::organization_summary)
        .service(disclosure::campaign_summary)
        .service(disclosure::donation_trail)
        .service(atom::organization_feed)
        .service(atom::trail_feed)
        .service(qr::donation_qr)
        .service(disclosure::entry_timeliness)
        .service(disclosure::iati_export)
        .service(disclosure::giving360_export)
        .service(disclosure::private_values)
        .service(needs::post_need)
        .service(needs::post_withdrawal)
        .service(needs::list_needs)
        .service(needs::get_need)
        .service(needs::need_matches)
        .service(regions::region_inflows)
        .service(reconciliation::get_reconciliation)
        .service(reconciliation::finding_kinds)
        .service(reconciliation::post_bank_statement)
        .service(complaints::post_complaint)
        .service(complaints::list_complaints)
        .service(complaints::get_complaint)
        .service(complaints::post_complaint_event)
        .service(verification::latest_checkpoint)
        .service(verification::list_checkpoints)
        .service(verification::inclusion_proof)
        .service(verification::consistency_proof)
        .service(verification::public_key)
        .service(verification::public_keys);
}

/// Operational endpoints served at the root, outside `/api/v1`.
pub(crate) fn root_routes(cfg: &mut ServiceConfig) {
    cfg.service(reads::healthz).service(metrics::get_metrics);
}

/// The OpenAPI document, built from the same route table the server uses.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope("/api/v1").configure(routes))
        .configure(root_routes)
        .split_for_parts();
    middleware::document_problem_content_type(api)
}

/// The published OpenAPI document: [`openapi`] made strict by [`strict::tighten`] (patterns,
/// bounds, closed bodies, unique operation ids). Served at `/api-spec/openapi.json`.
pub fn openapi_document() -> serde_json::Value {
    strict::tighten(&openapi())
}

/// The OpenAPI document as pretty JSON (what `api-spec/openapi.json` holds).
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&openapi_document())
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

async fn not_found(
    req: actix_web::HttpRequest,
    known: web::Data<middleware::KnownPaths>,
) -> Result<HttpResponse, problem::ApiError> {
    match known.methods(req.path()) {
        Some(allow) => Err(problem::ApiError::new(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("{} takes {allow}", req.path()),
        )
        .with_allow(allow)),
        None => Err(problem::ApiError::not_found("no such endpoint")),
    }
}

/// Count an expensive read against its client's budget (429 past it), then admit it to its
/// class, or refuse it with 503 and `Retry-After` ([`load`]): a problem document under
/// `/api`, an error page on the site. Here, in the crate
/// root, because it joins the limits (which every handler's state holds) with the site's pages.
async fn bound_expensive_reads(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(class) = load::pattern(&req).as_deref().and_then(load::Class::of) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let over_budget = req
        .peer_addr()
        .and_then(|peer| state.load.check_client(peer.ip()).err());
    if let Some(refused) = over_budget {
        return Ok(refuse(req, &state, refused).await);
    }
    match state.load.admit(class).await {
        // Held until the body is sent: a streamed export counts until its last chunk.
        Ok(admitted) => Ok(next
            .call(req)
            .await?
            .map_body(|_, body| admitted.hold(body))),
        Err(busy) => Ok(refuse(req, &state, busy).await),
    }
}

/// A read refused before its handler: a problem document under `/api`, an error page on the site.
async fn refuse(
    req: actix_web::dev::ServiceRequest,
    state: &AppState,
    error: problem::ApiError,
) -> actix_web::dev::ServiceResponse<actix_web::body::BoxBody> {
    let res = if req.match_info().as_str().starts_with("/api/") {
        actix_web::ResponseError::error_response(&error)
    } else {
        site::error_page(req.request(), state, error).await
    };
    req.into_response(res)
}

/// Serve the API on `listener` until stopped. Prints nothing; the caller reports the address.
pub fn server(
    state: AppState,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let spec = openapi();
    let known = web::Data::new(middleware::KnownPaths::from_openapi(&spec));
    let document = openapi_document();
    let complaint_limiter = web::Data::new(middleware::ComplaintLimiter::default());
    let metrics = metrics::Metrics::default();
    let server = HttpServer::new(move || {
        let json_errors = web::JsonConfig::default().limit(body::MAX_BODY_BYTES);
        let (app, _) = App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::PayloadConfig::new(MAX_REQUEST_BYTES))
            .app_data(json_errors)
            .app_data(web::Data::new(metrics.clone()))
            .app_data(known.clone())
            .app_data(complaint_limiter.clone())
            .wrap(actix_web::middleware::from_fn(caching::conditional))
            .wrap(actix_web::middleware::from_fn(bound_expensive_reads))
            .wrap(actix_web::middleware::from_fn(gate::gate))
            .wrap(actix_web::middleware::from_fn(middleware::refuse_nul))
            .wrap(actix_web::middleware::from_fn(gate::security_headers))
            .wrap(actix_web::middleware::from_fn(metrics::record))
            .wrap(middleware::problem_errors())
            .wrap(middleware::access_log())
            .wrap(tracing_actix_web::TracingLogger::<
                middleware::RedactedRootSpan,
            >::new())
            .into_utoipa_app()
            .service(scope("/api/v1").configure(routes))
            .configure(root_routes)
            .split_for_parts();
        app.service(
            SwaggerUi::new("/docs/{_:.*}")
                .external_url_unchecked("/api-spec/openapi.json", document.clone()),
        )
        .configure(site::routes)
        .default_service(web::to(not_found))
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::Found()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
    })
    .client_request_timeout(std::time::Duration::from_secs(30))
    .client_disconnect_timeout(std::time::Duration::from_secs(5))
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}
