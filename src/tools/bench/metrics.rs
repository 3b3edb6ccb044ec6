//! `spoofify bench metrics`: what the node's metrics cost per feed, measured on the
//! metrics calls alone. One feed request records, with metrics on: the HTTP request
//! histogram (by method, route template, status class) and the /ops running totals, the
//! feed build histogram, the feeds-served counter and two store operations'
//! histograms, each around its own clock reads. This runs exactly those calls
//! (`telemetry::metrics`, the same functions the node calls) on several threads at
//! once, first with the recorder not installed (metrics off: what the node pays for
//! having the calls at all) and then installed, and prints nanoseconds per feed — to
//! hold against the node's CPU per feed that `scripts/bench` measures.

use std::time::{Duration, Instant};

use spoofify_service::telemetry::metrics;

#[derive(clap::Args, Debug)]
pub struct MetricsBenchArgs {
    /// Threads recording at once (the node's HTTP workers; default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Feeds' worth of metrics per thread and row.
    #[arg(long, default_value_t = 2_000_000)]
    pub feeds: u64,
}

/// One feed's metrics, as the node records them.
fn one_feed(ops: &metrics::StoreOps) {
    let request = Instant::now();
    let op = Instant::now();
    ops.record("session_check", op.elapsed());
    let build = Instant::now();
    let op = Instant::now();
    ops.record("last_seq", op.elapsed());
    metrics::feed_built(build.elapsed());
    metrics::feed_served("personal");
    metrics::http_request("GET", "/api/feed", 200, request.elapsed());
}

/// This process's CPU time so far (user + system, every thread: the recorder's upkeep
/// thread too), from `/proc/self/stat` in clock ticks of 10 ms.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name's closing parenthesis; utime and stime are
            // the 14th and 15th fields of the line.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// CPU nanoseconds per feed with `threads` threads each recording `feeds` feeds.
fn row(threads: usize, feeds: u64) -> f64 {
    let ops = metrics::StoreOps::new("redis", &["session_check", "last_seq"]);
    let cpu = cpu_time();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..feeds {
                    one_feed(&ops);
                }
            });
        }
    });
    let took = cpu_time().saturating_sub(cpu);
    took.as_nanos() as f64 / (feeds as f64 * threads as f64)
}

pub fn run(args: &MetricsBenchArgs) -> anyhow::Result<()> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let feeds = args.feeds.max(1);
    let off_1 = row(1, feeds);
    let off_n = row(threads, feeds);
    metrics::install()?;
    let on_1 = row(1, feeds);
    let on_n = row(threads, feeds);
    println!("metrics per feed (ns; {feeds} feeds per thread):");
    println!("| recorder | 1 thread | {threads} threads |");
    println!("|---|---:|---:|");
    println!("| off (not installed) | {off_1:.0} | {off_n:.0} |");
    println!("| on | {on_1:.0} | {on_n:.0} |");
    Ok(())
}
