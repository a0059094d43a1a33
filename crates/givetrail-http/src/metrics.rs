//! `GET /metrics` in the Prometheus text format: requests and latencies per route (the matched
//! pattern, so label values stay few), and entries written per organisation's log.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use givetrail_store::read::disclosure::entries_per_organization;

use crate::db::read;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Upper bounds of the latency histogram buckets, in microseconds, with their labels in seconds.
const BUCKETS: [(u64, &str); 11] = [
    (5_000, "0.005"),
    (10_000, "0.01"),
    (25_000, "0.025"),
    (50_000, "0.05"),
    (100_000, "0.1"),
    (250_000, "0.25"),
    (500_000, "0.5"),
    (1_000_000, "1"),
    (2_500_000, "2.5"),
    (5_000_000, "5"),
    (10_000_000, "10"),
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_micros: u128,
}

#[derive(Default)]
struct Counts {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

/// Request counters and latency histograms, shared by every worker.
#[derive(Clone, Default)]
pub struct Metrics(Arc<Mutex<Counts>>);

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, micros: u64) {
        // A poisoned lock only means another request panicked mid-update; counts stay usable.
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *c.requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let h = c
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        h.count += 1;
        h.sum_micros += u128::from(micros);
        for (i, (bound, _)) in BUCKETS.iter().enumerate() {
            if micros <= *bound {
                h.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        let c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP givetrail_http_requests_total HTTP requests by method, route and status.\n# TYPE givetrail_http_requests_total counter\n");
        for ((m, r, s), n) in &c.requests {
            let _ = writeln!(
                out,
                "givetrail_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
                label(r)
            );
        }
        out.push_str("# HELP givetrail_http_request_duration_seconds HTTP request latency.\n# TYPE givetrail_http_request_duration_seconds histogram\n");
        for ((m, r), h) in &c.latency {
            let r = label(r);
            for (i, (_, le)) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "givetrail_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{le}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "givetrail_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}\ngivetrail_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}.{:06}\ngivetrail_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}",
                h.count,
                h.sum_micros / 1_000_000,
                h.sum_micros % 1_000_000,
                h.count
            );
        }
    }
}

fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware recording every request into the [`Metrics`] held in app data.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        m.observe(&method, &route, res.status().as_u16(), micros);
    }
    Ok(res)
}

/// Prometheus metrics: `givetrail_http_requests_total`, `givetrail_http_request_duration_seconds`
/// `givetrail_entries_written_total` (per organisation; logs are append-only and gapless), and
/// the limits of the expensive reads: `givetrail_read_class_{limit,in_flight,admitted_total,
/// refused_total}` per class and `givetrail_read_pool_timeouts_total`.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String), (status = 500, body = Problem)))]
#[get("/metrics")]
pub async fn get_metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let logs = read(&state, entries_per_organization).await?;
    let mut out = String::new();
    metrics.render(&mut out);
    state.load.render(&mut out);
    out.push_str("# HELP givetrail_entries_written_total Entries in each organisation's log.\n# TYPE givetrail_entries_written_total counter\n");
    for (org, n) in logs {
        let _ = writeln!(
            out,
            "givetrail_entries_written_total{{organization=\"{}\"}} {n}",
            label(&org)
        );
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}
