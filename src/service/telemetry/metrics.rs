//! Prometheus metrics: the one place that names every metric the node records, installs
//! the process-wide recorder (`metrics` + `metrics-exporter-prometheus`) and renders the
//! text exposition for `GET /metrics`.
//!
//! Conventions (DESIGN.md, "Metrics conventions"): a `spoofify_` prefix, base units in
//! the name, counters ending `_total`, histograms with explicit buckets (never the
//! exporter's default summaries), and no label whose values grow with listeners, songs
//! or sessions — every label here takes values from a short fixed set or from route
//! templates. Code elsewhere records only through the functions below, so a name or a
//! label set is spelled once.
//!
//! Until [`install`] has run (or with `metrics.enabled = false`) the recording functions
//! cost an atomic load and do nothing. Once it has, each records through a handle
//! resolved once (see "recording" below), never by looking its labels up per call, and
//! the hot paths' samples go to the recording thread's own shard first
//! ([`super::shards`]), drained into the exporter before every scrape.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use metrics::{
    describe_counter, describe_gauge, describe_histogram, Counter, Gauge, Histogram, Unit,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::shards::{Shard, Shards};

/// Every metric name, so dashboards, tests and code agree.
pub mod names {
    pub const HTTP_REQUEST_DURATION: &str = "spoofify_http_request_duration_seconds";
    pub const FEED_BUILD: &str = "spoofify_feed_build_seconds";
    pub const MODEL_FIT: &str = "spoofify_model_fit_seconds";
    pub const MODEL_SCORE: &str = "spoofify_model_score_seconds";
    pub const STORE_OPERATION: &str = "spoofify_store_operation_seconds";
    pub const LISTENER_ACTIVATION: &str = "spoofify_listener_activation_seconds";
    pub const FORWARD: &str = "spoofify_forward_seconds";

    pub const INTERACTIONS_ACKNOWLEDGED: &str = "spoofify_interactions_acknowledged_total";
    pub const FEEDS_SERVED: &str = "spoofify_feeds_served_total";
    pub const ACTORS_ACTIVATED: &str = "spoofify_actors_activated_total";
    pub const ACTORS_PASSIVATED: &str = "spoofify_actors_passivated_total";
    pub const ACTORS_RESTARTED: &str = "spoofify_actors_restarted_total";
    pub const LISTENERS_TAKEN_OVER: &str = "spoofify_listeners_taken_over_total";
    pub const MEMBERSHIP_CHANGES: &str = "spoofify_membership_changes_total";
    pub const FENCING_REJECTIONS: &str = "spoofify_fencing_rejections_total";
    pub const STORE_ERRORS: &str = "spoofify_store_errors_total";

    pub const LISTENER_ACTORS: &str = "spoofify_listener_actors";
    pub const LISTENERS_OWNED: &str = "spoofify_listeners_owned";
    pub const LIVE_MEMBERS: &str = "spoofify_live_members";
    pub const LARGEST_MAILBOX: &str = "spoofify_largest_mailbox_messages";

    /// Histograms, each with its type for tests and the dashboard.
    pub const HISTOGRAMS: &[&str] = &[
        HTTP_REQUEST_DURATION,
        FEED_BUILD,
        MODEL_FIT,
        MODEL_SCORE,
        STORE_OPERATION,
        LISTENER_ACTIVATION,
        FORWARD,
    ];
    pub const COUNTERS: &[&str] = &[
        INTERACTIONS_ACKNOWLEDGED,
        FEEDS_SERVED,
        ACTORS_ACTIVATED,
        ACTORS_PASSIVATED,
        ACTORS_RESTARTED,
        LISTENERS_TAKEN_OVER,
        MEMBERSHIP_CHANGES,
        FENCING_REJECTIONS,
        STORE_ERRORS,
    ];
    pub const GAUGES: &[&str] = &[
        LISTENER_ACTORS,
        LISTENERS_OWNED,
        LIVE_MEMBERS,
        LARGEST_MAILBOX,
    ];
}

use names::*;

/// Latency buckets in seconds, 100 µs to 10 s: request, store and forwarding times.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Buckets for work that may take long: model fits and activations, 1 ms to 60 s.
const WORK_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The feed kinds `spoofify_feeds_served_total` counts.
pub const FEED_KINDS: &[&str] = &["personal", "cold", "degraded"];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
#[error("could not install the metrics recorder: {0}")]
pub struct MetricsError(String);

/// Installs the process-wide Prometheus recorder once (later calls return the same
/// handle) and registers every metric without labels at zero, so a scrape shows them
/// all from the start.
pub fn install() -> Result<&'static PrometheusHandle, MetricsError> {
    // Nodes started at once in one process (tests) must not race to install: the
    // second `set_global_recorder` would fail.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = HANDLE.get() {
        return Ok(h);
    }
    let mut builder = PrometheusBuilder::new();
    for name in [
        HTTP_REQUEST_DURATION,
        MODEL_SCORE,
        FEED_BUILD,
        STORE_OPERATION,
        FORWARD,
    ] {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.into()), LATENCY_BUCKETS)
            .map_err(|e| MetricsError(e.to_string()))?;
    }
    for name in [MODEL_FIT, LISTENER_ACTIVATION] {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.into()), WORK_BUCKETS)
            .map_err(|e| MetricsError(e.to_string()))?;
    }
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| MetricsError(e.to_string()))?;
    let handle = HANDLE.get_or_init(|| handle);
    describe_all();
    HANDLES.get_or_init(Handles::resolve);
    spawn_upkeep(handle);
    Ok(handle)
}

/// How often recorded histogram samples are folded into their buckets. The exporter
/// keeps every sample until then (it folds them at a scrape, and nothing else would),
/// so without this a node nobody scrapes would hold every sample it ever recorded.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the samples into their buckets every [`UPKEEP_EVERY`], on a thread of its
/// own for the life of the process (like the recorder it serves).
fn spawn_upkeep(handle: &'static PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            SHARDS.drain();
            handle.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread: samples are folded at scrapes only");
    }
}

/// The installed recorder's handle, if [`install`] ran.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get()
}

/// The text exposition of every metric, or `None` when metrics are off.
pub fn render() -> Option<String> {
    HANDLE.get().map(|h| {
        SHARDS.drain();
        h.render()
    })
}

fn describe_all() {
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "HTTP requests by method, route template and status class"
    );
    describe_histogram!(
        FEED_BUILD,
        Unit::Seconds,
        "Time a listener actor takes to rank one feed page"
    );
    describe_histogram!(MODEL_FIT, Unit::Seconds, "Time one model fit takes");
    describe_histogram!(
        MODEL_SCORE,
        Unit::Seconds,
        "Time a listener's model takes to score songs for the radio"
    );
    describe_histogram!(
        STORE_OPERATION,
        Unit::Seconds,
        "Store operations by backend and operation"
    );
    describe_histogram!(
        LISTENER_ACTIVATION,
        Unit::Seconds,
        "Time from a listener's activation to its actor serving (restore from snapshot and log)"
    );
    describe_histogram!(
        FORWARD,
        Unit::Seconds,
        "Requests forwarded to the owning node, by operation, until answered or timed out"
    );
    describe_counter!(
        INTERACTIONS_ACKNOWLEDGED,
        "Interactions acknowledged after being durable (duplicates included)"
    );
    describe_counter!(FEEDS_SERVED, "Feed pages served, by kind");
    describe_counter!(ACTORS_ACTIVATED, "Listener actors activated on this node");
    describe_counter!(
        ACTORS_PASSIVATED,
        "Listener actors retired on this node (idle, handed off, drained, fenced)"
    );
    describe_counter!(
        ACTORS_RESTARTED,
        "Listener actors restarted after a failure"
    );
    describe_counter!(
        LISTENERS_TAKEN_OVER,
        "Listeners activated here whose last owner was another node no longer live"
    );
    describe_counter!(
        MEMBERSHIP_CHANGES,
        "Changes of the live member set as this node sees it"
    );
    describe_counter!(FENCING_REJECTIONS, "Writes the store refused as fenced");
    describe_counter!(
        STORE_ERRORS,
        "Store operations that failed (unavailable or corrupt), by backend and operation"
    );
    describe_gauge!(LISTENER_ACTORS, "Listener actors alive on this node");
    describe_gauge!(
        LISTENERS_OWNED,
        "Listeners with an actor here that this node owns in its current view"
    );
    describe_gauge!(LIVE_MEMBERS, "Live cluster members as this node sees them");
    describe_gauge!(
        LARGEST_MAILBOX,
        "Messages waiting in the fullest listener actor mailbox on this node"
    );
}

// ---- running totals for the operator page ---------------------------------------------

/// The running totals' slots: one per latency bucket and one above them all.
const TOTAL_SLOTS: usize = LATENCY_BUCKETS.len() + 1;

/// Every thread's shard: waiting samples and counts, and the running totals (requests,
/// their latency by [`LATENCY_BUCKETS`], acknowledged interactions since start) kept
/// beside the exporter so the /ops page's charts need no scrape to parse.
static SHARDS: Shards<TOTAL_SLOTS> = Shards::new();

thread_local! {
    static MINE: Arc<Mutex<Shard<TOTAL_SLOTS>>> = SHARDS.register();
}

/// Runs `f` on the calling thread's shard (on a fresh one while the thread is exiting
/// and its own is gone: drained and kept like any other).
fn local(f: impl FnOnce(&mut Shard<TOTAL_SLOTS>)) {
    let mut f = Some(f);
    let _ = MINE.try_with(|mine| {
        if let Some(f) = f.take() {
            Shards::with(mine, f);
        }
    });
    if let Some(f) = f {
        Shards::with(&SHARDS.register(), f);
    }
}

/// A reading of the running totals; two readings give rates and a p99 in between.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub requests: u64,
    pub interactions: u64,
    latency: Vec<u64>,
}

impl Reading {
    pub fn now() -> Self {
        let t = SHARDS.totals();
        Self {
            requests: t.requests,
            interactions: t.interactions,
            latency: t.latency.to_vec(),
        }
    }

    /// The 99th percentile request time between `earlier` and this reading, in
    /// seconds: the upper bound of the bucket it falls in (None without requests).
    pub fn p99_since(&self, earlier: &Reading) -> Option<f64> {
        let diff: Vec<u64> = self
            .latency
            .iter()
            .enumerate()
            .map(|(i, c)| c.saturating_sub(earlier.latency.get(i).copied().unwrap_or(0)))
            .collect();
        let total: u64 = diff.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = (total as f64 * 0.99).ceil() as u64;
        let mut seen = 0;
        for (i, c) in diff.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(LATENCY_BUCKETS.get(i).copied().unwrap_or(f64::INFINITY));
            }
        }
        None
    }
}

/// The running totals' latency slot of a request that took `secs`.
fn latency_slot(secs: f64) -> usize {
    LATENCY_BUCKETS
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(LATENCY_BUCKETS.len())
}

// ---- recording: the only way the rest of the node touches a metric -------------------
//
// Every series is resolved to its handle once — at install for fixed label sets, on a
// route's first request for the HTTP histogram (per thread), when a store is wrapped
// for store operations — so recording a sample is an atomic push, never a lookup by
// labels in the recorder's registry (hashing the key and taking a shard lock on every
// call measured ~20 % of the feed's throughput; README "Hot paths").

/// The handles of every series with a fixed label set, resolved by [`install`].
struct Handles {
    feed_build: Histogram,
    model_fit: Histogram,
    model_score: Histogram,
    activation: Histogram,
    /// By position in [`FORWARD_OPS`].
    forward: Vec<Histogram>,
    /// By position in [`FEED_KINDS`].
    feeds_served: Vec<Counter>,
    interactions: Counter,
    activated: Counter,
    passivated: Counter,
    restarted: Counter,
    taken_over: Counter,
    membership: Counter,
    fencing: Counter,
    listener_actors: Gauge,
    listeners_owned: Gauge,
    live_members: Gauge,
    largest_mailbox: Gauge,
}

static HANDLES: OnceLock<Handles> = OnceLock::new();

impl Handles {
    /// Registers every fixed series (counters and gauges at zero, histograms empty), so
    /// a scrape shows them all from the start.
    fn resolve() -> Self {
        let counter = |name: &'static str| {
            let c = metrics::counter!(name);
            c.absolute(0);
            c
        };
        let gauge = |name: &'static str| {
            let g = metrics::gauge!(name);
            g.set(0.0);
            g
        };
        Self {
            feed_build: metrics::histogram!(FEED_BUILD),
            model_fit: metrics::histogram!(MODEL_FIT),
            model_score: metrics::histogram!(MODEL_SCORE),
            activation: metrics::histogram!(LISTENER_ACTIVATION),
            forward: FORWARD_OPS
                .iter()
                .map(|op| metrics::histogram!(FORWARD, "op" => *op))
                .collect(),
            feeds_served: FEED_KINDS
                .iter()
                .map(|kind| {
                    let c = metrics::counter!(FEEDS_SERVED, "kind" => *kind);
                    c.absolute(0);
                    c
                })
                .collect(),
            interactions: counter(INTERACTIONS_ACKNOWLEDGED),
            activated: counter(ACTORS_ACTIVATED),
            passivated: counter(ACTORS_PASSIVATED),
            restarted: counter(ACTORS_RESTARTED),
            taken_over: counter(LISTENERS_TAKEN_OVER),
            membership: counter(MEMBERSHIP_CHANGES),
            fencing: counter(FENCING_REJECTIONS),
            listener_actors: gauge(LISTENER_ACTORS),
            listeners_owned: gauge(LISTENERS_OWNED),
            live_members: gauge(LIVE_MEMBERS),
            largest_mailbox: gauge(LARGEST_MAILBOX),
        }
    }
}

/// Runs `f` with the handles when metrics are on; a relaxed load and nothing otherwise.
fn with(f: impl FnOnce(&'static Handles)) {
    if let Some(h) = HANDLES.get() {
        f(h);
    }
}

/// The HTTP methods that get their own label value; any other is "OTHER".
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
];
/// The status classes, by hundreds (1xx..5xx).
const CLASSES: &[&str] = &["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One route template's request histograms, by method × status class (resolved lazily).
type RouteSeries = [Option<&'static Histogram>; METHODS.len() * CLASSES.len()];

/// Every HTTP series resolved so far, by method, route template and class: one handle
/// each for the life of the process (bounded like the series), shared by the threads.
type HttpResolved = HashMap<(usize, String, usize), &'static Histogram>;
static HTTP_RESOLVED: Mutex<Option<HttpResolved>> = Mutex::new(None);

/// The HTTP histogram for method `m`, `route` and class `c`, resolved once per process.
fn http_series(m: usize, route: &str, c: usize) -> &'static Histogram {
    let mut resolved = HTTP_RESOLVED.lock().unwrap_or_else(PoisonError::into_inner);
    let series: &mut &'static Histogram = resolved
        .get_or_insert_with(HashMap::new)
        .entry((m, route.to_owned(), c))
        .or_insert_with(|| {
            Box::leak(Box::new(metrics::histogram!(
                HTTP_REQUEST_DURATION,
                "method" => METHODS[m],
                "route" => route.to_owned(),
                "status" => CLASSES[c]
            )))
        });
    series
}

thread_local! {
    /// This thread's HTTP histogram handles by route template. Per thread, so finding
    /// one takes no lock shared with other threads; bounded by the routes (templates,
    /// never raw paths) × methods × classes, like the series themselves.
    static HTTP_SERIES: RefCell<HashMap<Box<str>, Box<RouteSeries>>> = RefCell::new(HashMap::new());
}

/// One HTTP request. `route` is the matched route template (or "unmatched").
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    if HANDLES.get().is_none() {
        return;
    }
    let m = METHODS
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1);
    let c = match status {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    };
    let secs = took.as_secs_f64();
    let series = HTTP_SERIES
        .try_with(|routes| {
            let mut routes = routes.borrow_mut();
            if !routes.contains_key(route) {
                routes.insert(
                    route.into(),
                    Box::new([None; METHODS.len() * CLASSES.len()]),
                );
            }
            routes.get_mut(route).map(|series| {
                *series[m * CLASSES.len() + c].get_or_insert_with(|| http_series(m, route, c))
            })
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| http_series(m, route, c));
    let i = latency_slot(secs);
    local(|s| {
        s.sample(series, secs);
        s.totals.requests += 1;
        s.totals.latency[i] += 1;
    });
}

pub fn feed_built(took: Duration) {
    with(|h| local(|s| s.sample(&h.feed_build, took.as_secs_f64())));
}

pub fn model_fit(took: Duration) {
    with(|h| h.model_fit.record(took.as_secs_f64()));
}

pub fn model_score(took: Duration) {
    with(|h| h.model_score.record(took.as_secs_f64()));
}

/// One store backend's operation histograms, each resolved once when the store is
/// wrapped (`store::instrumented`); the series exist, empty, from then on.
pub struct StoreOps {
    backend: &'static str,
    by_op: HashMap<&'static str, &'static Histogram>,
}

/// Every store series resolved so far, by backend and operation: one handle each for
/// the life of the process (bounded by backends × operations), however many stores.
type StoreResolved = HashMap<(&'static str, &'static str), &'static Histogram>;
static STORE_RESOLVED: Mutex<Option<StoreResolved>> = Mutex::new(None);

impl StoreOps {
    pub fn new(backend: &'static str, ops: &[&'static str]) -> Self {
        let mut resolved = STORE_RESOLVED
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let resolved = resolved.get_or_insert_with(HashMap::new);
        let by_op = ops
            .iter()
            .map(|op| {
                let h: &'static Histogram = resolved.entry((backend, *op)).or_insert_with(|| {
                    Box::leak(Box::new(
                        metrics::histogram!(STORE_OPERATION, "backend" => backend, "op" => *op),
                    ))
                });
                (*op, h)
            })
            .collect();
        Self { backend, by_op }
    }

    /// One store operation; `op` is the `Store` method's name.
    pub fn record(&self, op: &'static str, took: Duration) {
        match self.by_op.get(op) {
            Some(h) => local(|s| s.sample(h, took.as_secs_f64())),
            // Not in the list given to `new`: found by its labels (slower, still counted).
            None => metrics::histogram!(STORE_OPERATION, "backend" => self.backend, "op" => op)
                .record(took.as_secs_f64()),
        }
    }

    /// A failed operation (unavailable or corrupt): rare, so found by its labels.
    pub fn error(&self, op: &'static str) {
        metrics::counter!(STORE_ERRORS, "backend" => self.backend, "op" => op).increment(1);
    }
}

pub fn fencing_rejection() {
    with(|h| h.fencing.increment(1));
}

pub fn listener_activated(took: Duration) {
    with(|h| {
        h.activation.record(took.as_secs_f64());
        h.activated.increment(1);
    });
}

pub fn listener_passivated() {
    with(|h| h.passivated.increment(1));
}

pub fn listener_restarted() {
    with(|h| h.restarted.increment(1));
}

pub fn listener_taken_over() {
    with(|h| h.taken_over.increment(1));
}

/// The operations [`forwarded`] times.
pub const FORWARD_OPS: &[&str] = &["feed", "score"];

/// A request forwarded to a peer; `op` is one of [`FORWARD_OPS`].
pub fn forwarded(op: &'static str, took: Duration) {
    with(|h| {
        if let Some(i) = FORWARD_OPS.iter().position(|o| *o == op) {
            h.forward[i].record(took.as_secs_f64());
        }
    });
}

pub fn interaction_acknowledged() {
    with(|h| {
        local(|s| {
            s.count(&h.interactions);
            s.totals.interactions += 1;
        })
    });
}

/// A feed page served; `kind` is one of [`FEED_KINDS`].
pub fn feed_served(kind: &'static str) {
    with(|h| {
        if let Some(i) = FEED_KINDS.iter().position(|k| *k == kind) {
            local(|s| s.count(&h.feeds_served[i]));
        }
    });
}

pub fn membership_changed() {
    with(|h| h.membership.increment(1));
}

/// The gauges, set from the node's state right before a scrape.
pub fn set_gauges(actors: usize, owned: usize, live_members: usize, largest_mailbox: usize) {
    with(|h| {
        h.listener_actors.set(actors as f64);
        h.listeners_owned.set(owned as f64);
        h.live_members.set(live_members as f64);
        h.largest_mailbox.set(largest_mailbox as f64);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_follows_the_conventions() {
        for n in names::HISTOGRAMS {
            assert!(n.starts_with("spoofify_") && n.ends_with("_seconds"), "{n}");
        }
        for n in names::COUNTERS {
            assert!(n.starts_with("spoofify_") && n.ends_with("_total"), "{n}");
        }
        for n in names::GAUGES {
            assert!(n.starts_with("spoofify_") && !n.ends_with("_total"), "{n}");
        }
    }

    fn count_request(took: Duration) {
        let i = latency_slot(took.as_secs_f64());
        local(|s| {
            s.totals.requests += 1;
            s.totals.latency[i] += 1;
        });
    }

    #[test]
    fn readings_give_a_p99_by_bucket() {
        let before = Reading::now();
        for _ in 0..98 {
            count_request(Duration::from_micros(200));
        }
        count_request(Duration::from_millis(40));
        count_request(Duration::from_millis(40));
        let after = Reading::now();
        assert!(after.requests >= before.requests + 100);
        assert_eq!(after.p99_since(&before), Some(0.05));
        assert_eq!(after.p99_since(&after), None);
    }

    #[test]
    fn histograms_render_with_buckets_not_quantiles() {
        let handle = install().expect("recorder");
        http_request("GET", "/api/songs/{id}", 200, Duration::from_millis(3));
        StoreOps::new("embedded", &["ping"]).record("ping", Duration::from_micros(50));
        let text = handle.render();
        assert!(text.contains("# TYPE spoofify_http_request_duration_seconds histogram"));
        assert!(text.contains(r#"route="/api/songs/{id}""#), "{text}");
        assert!(text.contains(r#"status="2xx""#));
        assert!(!text.contains("quantile="), "no summaries: {text}");
        assert!(text.contains("# TYPE spoofify_feeds_served_total counter"));
        assert!(text.contains(r#"spoofify_feeds_served_total{kind="degraded"} 0"#));
        assert!(
            text.contains(r#"spoofify_forward_seconds_count{op="score"} 0"#),
            "{text}"
        );
    }
}
