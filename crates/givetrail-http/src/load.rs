//! Expensive public reads may not take the service down: each is in a [`Class`] (exports,
//! reports, pages, feeds), and each class admits only so many requests at once. A request that
//! is not admitted within [`ADMISSION_WAIT`] is answered 503 with `Retry-After`
//! ([`ApiError::busy`]; an HTML page renders it as a page), so a storm of reports is refused
//! quickly instead of queueing for connections, memory and CPU while `/healthz`, authentication
//! and the cheap reads (paged lists, single entries, proofs, trails) wait behind it.
//!
//! Requests are classified in one place, the table [`ROUTES`], keyed on the route pattern the
//! request's percent-decoded path matches ([`pattern`]); the server's middleware
//! (`bound_expensive_reads` in the crate root, which renders a refused page through the site)
//! admits them with [`Load::admit`]. Handlers know nothing of it. Two limits apply (sizes from [`Load::new`]):
//! - per class: at most `min(cores, expensive)` in flight;
//! - over all classes together: at most `expensive = read connections - reserve`, where the
//!   reserve (a quarter of the read connections, at least one) is left to everything else.
//!
//! Besides, each client address has a budget of expensive reads ([`ClientReads`]): a token bucket
//! of `rate` reads per second with a burst of [`BURST_SECONDS`] × `rate`, over the routes of
//! [`ROUTES`]. A client over it is answered 429 with `Retry-After`, before any work is done for
//! it, so one address cannot keep the expensive classes full for everyone. The cheap reads (a
//! page of the log, an entry, a proof, a checkpoint, a trail) are not counted: an outside
//! verifier downloads and checks a whole log as fast as it likes, bounded only by the pool. The
//! client is the TCP peer's address (an IPv6 address counts by its /64, which one host usually
//! owns whole); a reverse proxy in front makes every client one address, so behind a proxy the
//! limit belongs there (`--client-read-rate 0` turns it off here).
//!
//! The counts are served by `/metrics` ([`Load::render`]).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::web::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::ApiError;

/// Longest a request waits to be admitted to its class before it is refused with 503.
pub const ADMISSION_WAIT: Duration = Duration::from_secs(2);

/// A class of expensive reads, limited together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Whole-log exports (IATI XML, 360Giving JSON).
    Export,
    /// Reports: summaries, timeliness, periodic disclosure summaries, reconciliation, region
    /// inflows, a charity's need matches.
    Report,
    /// The web site's organisation, recipient, region and trail pages.
    Page,
    /// Atom feeds.
    Feed,
}

impl Class {
    /// Every class, in the order of [`Load`]'s gates.
    pub const ALL: [Class; 4] = [Class::Export, Class::Report, Class::Page, Class::Feed];

    /// Its name in `/metrics` and the documentation.
    pub fn name(self) -> &'static str {
        match self {
            Class::Export => "export",
            Class::Report => "report",
            Class::Page => "page",
            Class::Feed => "feed",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The class of the route `pattern` (as actix names it), if it is an expensive read.
    pub fn of(pattern: &str) -> Option<Class> {
        ROUTES
            .iter()
            .find(|(p, _)| *p == pattern)
            .map(|(_, class)| *class)
    }
}

/// The expensive reads (GET), by route pattern. Every other route is not limited here.
pub const ROUTES: &[(&str, Class)] = &[
    (
        "/api/v1/organizations/{org}/exports/iati.xml",
        Class::Export,
    ),
    (
        "/api/v1/organizations/{org}/exports/360giving.json",
        Class::Export,
    ),
    ("/api/v1/organizations/{org}/summary", Class::Report),
    (
        "/api/v1/organizations/{org}/campaigns/{campaign}/summary",
        Class::Report,
    ),
    ("/api/v1/organizations/{org}/timeliness", Class::Report),
    (
        "/api/v1/organizations/{org}/disclosures/{seq}",
        Class::Report,
    ),
    ("/api/v1/organizations/{org}/reconciliation", Class::Report),
    ("/api/v1/organizations/{org}/needs/matches", Class::Report),
    ("/api/v1/regions/{code}/inflows", Class::Report),
    ("/organizations/{org}", Class::Page),
    ("/recipients/{recipient}", Class::Page),
    ("/regions/{code}", Class::Page),
    ("/trail/{org}/{receipt_number}", Class::Page),
    ("/api/v1/organizations/{org}/feed.atom", Class::Feed),
    (
        "/api/v1/organizations/{org}/donations/{receipt_number}/trail.atom",
        Class::Feed,
    ),
];

/// One class's limit and counts.
struct Gate {
    permits: Arc<Semaphore>,
    size: usize,
    admitted: AtomicU64,
    refused: AtomicU64,
}

impl Gate {
    fn new(size: usize) -> Self {
        Gate {
            permits: Arc::new(Semaphore::new(size)),
            size,
            admitted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    fn in_flight(&self) -> usize {
        self.size.saturating_sub(self.permits.available_permits())
    }
}

/// A `/metrics` series of the gates: name, type, help and the value of one gate.
type Series = (&'static str, &'static str, &'static str, fn(&Gate) -> u64);

/// The limits of the expensive reads and what they admitted and refused (one per server).
pub struct Load {
    classes: [Gate; 4],
    total: Gate,
    pool_timeouts: AtomicU64,
    clients: Option<ClientReads>,
}

/// A client's bucket holds this many seconds of its rate: the burst a page with its assets, or
/// a person clicking quickly, spends at once.
pub const BURST_SECONDS: u32 = 4;

/// Client addresses whose buckets are kept at once; past it, the full ones are forgotten.
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Per-client read budgets (GCRA token buckets keyed by address, from `governor`).
pub struct ClientReads {
    rate: NonZeroU32,
    buckets: governor::DefaultKeyedRateLimiter<IpAddr>,
    clock: governor::clock::DefaultClock,
    refused: AtomicU64,
}

impl ClientReads {
    /// `rate` reads per second per client, with a burst of [`BURST_SECONDS`] of it.
    pub fn new(rate: NonZeroU32) -> Self {
        let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(BURST_SECONDS - 1));
        let quota = governor::Quota::per_second(rate).allow_burst(burst);
        ClientReads {
            rate,
            buckets: governor::RateLimiter::keyed(quota),
            clock: governor::clock::DefaultClock::default(),
            refused: AtomicU64::new(0),
        }
    }

    /// The bucket an address draws from: itself, or for IPv6 its /64.
    fn client(ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mut s = v6.segments();
                    s[4..].fill(0);
                    IpAddr::V6(s.into())
                }
            },
            v4 => v4,
        }
    }

    /// Take one read from `ip`'s bucket; 429 with `Retry-After` when it is empty.
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        use governor::clock::Clock as _;
        if self.buckets.len() >= MAX_TRACKED_CLIENTS {
            self.buckets.retain_recent();
            self.buckets.shrink_to_fit();
        }
        self.buckets
            .check_key(&Self::client(ip))
            .map_err(|not_until| {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let wait = not_until.wait_time_from(self.clock.now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                ApiError::new(
                    actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                    format!(
                        "at most {} reads per second from one address; retry in {} s",
                        self.rate,
                        seconds.max(1)
                    ),
                )
                .with_retry_after(seconds.max(1))
            })
    }
}

/// What an admitted request holds until its response's body is sent.
pub struct Admitted {
    _class: OwnedSemaphorePermit,
    _total: OwnedSemaphorePermit,
}

impl Admitted {
    /// The response body, holding this admission until it is sent (or dropped): a streamed
    /// export is counted while it streams, not only while its handler runs.
    pub fn hold(self, body: impl MessageBody + 'static) -> BoxBody {
        BoxBody::new(Held {
            body: body.boxed(),
            _admitted: self,
        })
    }
}

/// A body and the admission it holds.
struct Held {
    body: BoxBody,
    _admitted: Admitted,
}

impl MessageBody for Held {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

impl Load {
    /// Limits for a server with `read_connections` pooled read connections on `cores` cores:
    /// a quarter of the connections (at least one) is kept for the reads outside the classes
    /// (and for authentication when the reads share the primary's pool); the rest is the
    /// budget of all classes together, and each class admits at most `min(cores, budget)`.
    pub fn new(read_connections: u32, cores: usize) -> Self {
        let connections = usize::try_from(read_connections.max(1)).unwrap_or(1);
        let reserve = (connections / 4).max(1);
        let budget = connections.saturating_sub(reserve).max(1);
        let per_class = cores.max(1).min(budget);
        Load {
            classes: Class::ALL.map(|_| Gate::new(per_class)),
            total: Gate::new(budget),
            pool_timeouts: AtomicU64::new(0),
            clients: None,
        }
    }

    /// Give each client address `rate` reads per second ([`ClientReads`]); 0 means no limit.
    pub fn with_client_rate(mut self, rate: u32) -> Self {
        self.clients = NonZeroU32::new(rate).map(ClientReads::new);
        self
    }

    /// Count a read from `ip` against its budget, if reads are limited per client.
    pub fn check_client(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.clients.as_ref().map_or(Ok(()), |c| c.check(ip))
    }

    /// At most this many requests of `class` at once.
    pub fn limit(&self, class: Class) -> usize {
        self.classes[class.index()].size
    }

    /// At most this many requests of all classes together.
    pub fn total_limit(&self) -> usize {
        self.total.size
    }

    /// Admit a request of `class`, waiting at most [`ADMISSION_WAIT`]; otherwise 503.
    pub async fn admit(&self, class: Class) -> Result<Admitted, ApiError> {
        let gate = &self.classes[class.index()];
        let deadline = tokio::time::Instant::now() + ADMISSION_WAIT;
        let permit = |sem: &Arc<Semaphore>| {
            tokio::time::timeout_at(deadline, Arc::clone(sem).acquire_owned())
        };
        let admitted = match permit(&gate.permits).await {
            Ok(Ok(class_permit)) => match permit(&self.total.permits).await {
                Ok(Ok(total_permit)) => Some(Admitted {
                    _class: class_permit,
                    _total: total_permit,
                }),
                _ => None,
            },
            _ => None,
        };
        match admitted {
            Some(a) => {
                for g in [gate, &self.total] {
                    g.admitted.fetch_add(1, Ordering::Relaxed);
                }
                Ok(a)
            }
            None => {
                for g in [gate, &self.total] {
                    g.refused.fetch_add(1, Ordering::Relaxed);
                }
                Err(ApiError::busy(format!(
                    "too many {} requests at once; the server is busy",
                    class.name()
                )))
            }
        }
    }

    /// Count a read refused because no pooled connection came free in time.
    pub fn pool_timed_out(&self) {
        self.pool_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// The limits and counts in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let series: [Series; 4] = [
            (
                "givetrail_read_class_limit",
                "gauge",
                "Requests of a class of expensive reads admitted at once.",
                |g| g.size as u64,
            ),
            (
                "givetrail_read_class_in_flight",
                "gauge",
                "Requests of a class of expensive reads being served.",
                |g| g.in_flight() as u64,
            ),
            (
                "givetrail_read_class_admitted_total",
                "counter",
                "Requests of a class of expensive reads admitted.",
                |g| g.admitted.load(Ordering::Relaxed),
            ),
            (
                "givetrail_read_class_refused_total",
                "counter",
                "Requests of a class of expensive reads refused with 503.",
                |g| g.refused.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for class in Class::ALL {
                let _ = writeln!(
                    out,
                    "{name}{{class=\"{}\"}} {}",
                    class.name(),
                    value(&self.classes[class.index()])
                );
            }
            let _ = writeln!(out, "{name}{{class=\"all\"}} {}", value(&self.total));
        }
        if let Some(clients) = &self.clients {
            let _ = writeln!(
                out,
                "# HELP givetrail_client_read_rate Reads per second allowed to one client address.\n# TYPE givetrail_client_read_rate gauge\ngivetrail_client_read_rate {}\n# HELP givetrail_client_reads_refused_total Reads refused with 429 because their client was over its rate.\n# TYPE givetrail_client_reads_refused_total counter\ngivetrail_client_reads_refused_total {}",
                clients.rate,
                clients.refused.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP givetrail_read_pool_timeouts_total Reads refused with 503 because no pooled connection came free in time.\n# TYPE givetrail_read_pool_timeouts_total counter\ngivetrail_read_pool_timeouts_total {}",
            self.pool_timeouts.load(Ordering::Relaxed)
        );
    }
}

/// The route pattern a GET (or HEAD) asks for, as the router will match it: on the
/// percent-decoded path, never the raw one.
pub fn pattern(req: &ServiceRequest) -> Option<String> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    req.request()
        .resource_map()
        .match_pattern(req.match_info().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_leave_a_reserve_and_follow_the_cores() {
        let l = Load::new(8, 2);
        assert_eq!((l.total_limit(), l.limit(Class::Export)), (6, 2));
        let l = Load::new(2, 2);
        assert_eq!((l.total_limit(), l.limit(Class::Report)), (1, 1));
        let l = Load::new(32, 16);
        assert_eq!((l.total_limit(), l.limit(Class::Page)), (24, 16));
        let l = Load::new(0, 0);
        assert_eq!((l.total_limit(), l.limit(Class::Feed)), (1, 1));
    }

    #[test]
    fn every_classified_api_route_exists() {
        let spec = crate::openapi();
        for (pattern, _) in ROUTES.iter().filter(|(p, _)| p.starts_with("/api/")) {
            let path = spec.paths.paths.get(*pattern);
            assert!(
                path.is_some_and(|p| p.get.is_some()),
                "{pattern} is not a GET route of the API"
            );
        }
    }

    #[test]
    fn a_client_spends_its_burst_then_waits_and_others_are_not_affected() {
        let l = Load::new(8, 2).with_client_rate(5);
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 * BURST_SECONDS {
            assert!(l.check_client(ip).is_ok());
        }
        let refused = l
            .check_client(ip)
            .err()
            .map(|e| (e.0.status, e.headers().to_vec()));
        assert_eq!(refused, Some((429, vec![("Retry-After", "1".to_owned())])));
        assert!(l.check_client([10, 0, 0, 2].into()).is_ok());
        let unlimited = Load::new(8, 2).with_client_rate(0);
        assert!((0..1000).all(|_| unlimited.check_client(ip).is_ok()));
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_is_the_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(ClientReads::client(a), ClientReads::client(b));
        assert_eq!(ClientReads::client(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[actix_web::test]
    async fn a_full_class_refuses_with_503_and_retry_after() {
        let l = Load::new(2, 1);
        let held = l.admit(Class::Export).await;
        assert!(held.is_ok());
        let refused = l.admit(Class::Export).await.err();
        let refused = refused.map(|e| (e.0.status, e.headers().to_vec()));
        assert_eq!(refused, Some((503, vec![("Retry-After", "2".to_owned())])));
        drop(held);
        assert!(l.admit(Class::Export).await.is_ok());
    }
}
