//! `spoofify loadgen`: simulated listeners against one or more nodes over HTTP, as the
//! web app uses them — sign up, onboard, fetch the feed, play through it (finish, skip,
//! like) — in a closed loop (N listeners, each waiting `think` between steps) or an
//! open loop (a target request rate whatever the answers take; latency counts from the
//! intended send time, so a slow server cannot hide behind its own slowness).
//!
//! Latencies go into HDR histograms per operation ([`report`]); a progress line shows
//! the last second; the results are written as JSON and CSV with an SVG plot of
//! throughput and p99 over time. `--mix raw` sends plain GETs to `--path` without
//! accounts: the bare-server floor (`spoofify bench floor`) is measured the same way.
//!
//! The listeners' taste: the node's API does not expose audio features, so the `sim`
//! tastes (which need them) cannot judge its songs; here each listener prefers one or
//! two genres (stated at onboarding) and finishes songs of them more often.

pub mod report;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use report::{Op, Recorder};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mix {
    /// A feed, then play through its first songs (an interaction each).
    Session,
    /// Feeds only.
    Feed,
    /// Interactions only (a random song of the catalog each).
    Interactions,
    /// Plain GETs of `--path`, no accounts (a floor).
    Raw,
}

#[derive(clap::Args, Debug, Clone, serde::Serialize)]
pub struct LoadgenArgs {
    /// A node's base URL, e.g. http://127.0.0.1:8080 (repeat for several; requests
    /// are spread round-robin by listener).
    #[arg(long = "url", required = true)]
    pub urls: Vec<String>,
    /// Simulated listeners (closed loop: also the connections in flight).
    #[arg(long, default_value_t = 50)]
    pub listeners: usize,
    /// Closed loop: each listener's pause between steps, in ms.
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// Open loop: requests per second over all listeners (closed loop when absent).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2)]
    pub warmup_secs: u64,
    #[arg(long, value_enum, default_value = "session")]
    pub mix: Mix,
    /// The path `--mix raw` requests.
    #[arg(long, default_value = "/")]
    pub path: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write results.json, results.csv and plot.svg here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Prefix of the listeners' usernames (a second run with the same one logs in).
    #[arg(long, default_value = "loadgen")]
    pub tag: String,
    /// Print the summary as one JSON line instead of a table (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// One simulated listener's session and taste.
struct Client {
    base: String,
    cookie: Option<String>,
    liked_genres: Vec<String>,
    rng: ChaCha8Rng,
    sent: u64,
}

struct Shared {
    args: LoadgenArgs,
    http: reqwest::Client,
    recorder: Recorder,
    /// (id, genre) of songs to interact with, as the first listener sees the catalog.
    songs: std::sync::OnceLock<Vec<(String, String)>>,
    stop: AtomicBool,
    client_ids: AtomicU64,
}

/// The listeners' usernames are `<tag><index>`: they must be valid usernames (3–32
/// characters of a-z, 0-9, '_', '-', '.'), which is checked before any sign-up.
fn check_tag(tag: &str, listeners: usize) -> anyhow::Result<()> {
    let longest = tag.len() + (listeners - 1).to_string().len();
    anyhow::ensure!(
        tag.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
            && !tag.is_empty(),
        "--tag {tag:?}: use a-z, 0-9, '_', '-' or '.' (it prefixes the listeners' usernames)"
    );
    anyhow::ensure!(
        (3..=32).contains(&(tag.len() + 1)) && longest <= 32,
        "--tag {tag:?} with {listeners} listeners makes usernames of {}..={longest} \
         characters; usernames are 3-32",
        tag.len() + 1
    );
    Ok(())
}

/// [`run`] on a runtime of its own, for the command line (the binary then compiles
/// none of the load generator's futures itself).
pub fn run_blocking(args: LoadgenArgs) -> anyhow::Result<report::Summary> {
    spoofify_service::node::runtime()?.block_on(run(args))
}

/// Runs the load and writes the results; returns the summary.
pub async fn run(args: LoadgenArgs) -> anyhow::Result<report::Summary> {
    anyhow::ensure!(args.listeners > 0, "--listeners must be at least 1");
    check_tag(&args.tag, args.listeners)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.listeners.max(1) * 2)
        .tcp_nodelay(true)
        .build()?;
    let sh = Arc::new(Shared {
        recorder: Recorder::new(),
        http,
        songs: std::sync::OnceLock::new(),
        stop: AtomicBool::new(false),
        client_ids: AtomicU64::new(0),
        args: args.clone(),
    });
    eprintln!("loadgen: setting up {} listeners…", args.listeners);
    let clients = setup(&sh).await?;
    eprintln!(
        "loadgen: {} for {} s (+{} s warm-up), {}",
        match args.rate {
            Some(r) => format!("open loop at {r} req/s"),
            None => format!(
                "closed loop, {} listeners, think {} ms",
                args.listeners, args.think_ms
            ),
        },
        args.duration_secs,
        args.warmup_secs,
        format!("mix {:?}", args.mix).to_lowercase()
    );
    let progress = tokio::spawn(progress(sh.clone()));
    let warmup = Duration::from_secs(args.warmup_secs);
    let measured = Duration::from_secs(args.duration_secs);
    let timer = {
        let sh = sh.clone();
        tokio::spawn(async move {
            tokio::time::sleep(warmup).await;
            sh.recorder.start_measuring();
            tokio::time::sleep(measured).await;
            sh.recorder.stop_measuring();
            sh.stop.store(true, Ordering::SeqCst);
        })
    };
    match args.rate {
        None => closed_loop(&sh, clients).await,
        Some(rate) => open_loop(&sh, clients, rate).await,
    }
    let _ = timer.await;
    progress.abort();
    eprintln!();
    let summary = sh.recorder.summary(&args);
    if let Some(dir) = &args.out {
        report::write(dir, &summary, &sh.recorder.timeline())?;
        eprintln!("loadgen: results in {}", dir.display());
    }
    Ok(summary)
}

/// GET `path` on the client's node with its session, as JSON.
async fn get_json(sh: &Shared, c: &Client, path: &str) -> anyhow::Result<Value> {
    let mut req = sh.http.get(format!("{}{path}", c.base));
    if let Some(k) = &c.cookie {
        req = req.header("cookie", k);
    }
    Ok(req
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("GET {path}"))?
        .json()
        .await?)
}

/// Signs every listener up (or in) and onboards it, 8 at a time; fills the song list
/// from the first listener's view of the catalog.
async fn setup(sh: &Arc<Shared>) -> anyhow::Result<Vec<Client>> {
    let n = sh.args.listeners;
    let mut clients: Vec<Client> = (0..n)
        .map(|i| Client {
            base: sh.args.urls[i % sh.args.urls.len()]
                .trim_end_matches('/')
                .to_owned(),
            cookie: None,
            liked_genres: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(sh.args.seed.wrapping_mul(1_000_003) ^ i as u64),
            sent: 0,
        })
        .collect();
    if sh.args.mix == Mix::Raw {
        return Ok(clients);
    }
    // The first listener reads the genres and songs everyone's taste is drawn from.
    sign_in(sh, &mut clients[0], 0).await?;
    let g = get_json(sh, &clients[0], "/api/genres").await?;
    let genres: Vec<String> = g["genres"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!genres.is_empty(), "the node lists no genres");
    let v = get_json(sh, &clients[0], "/api/songs?limit=500").await?;
    let songs: Vec<(String, String)> = v["songs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| {
                    Some((
                        s["id"].as_str()?.to_owned(),
                        s["genre"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!songs.is_empty(), "the node lists no songs");
    let _ = sh.songs.set(songs);
    for c in clients.iter_mut() {
        for _ in 0..c.rng.random_range(1..=2) {
            let g = genres[c.rng.random_range(0..genres.len())].clone();
            if !c.liked_genres.contains(&g) {
                c.liked_genres.push(g);
            }
        }
    }
    // Everyone signs up (or in) and onboards, 8 at a time.
    let done = AtomicUsize::new(0);
    let mut lanes: Vec<Vec<(usize, Client)>> = (0..8).map(|_| Vec::new()).collect();
    for (i, c) in clients.into_iter().enumerate() {
        lanes[i % 8].push((i, c));
    }
    let results = futures::future::join_all(lanes.into_iter().map(|lane| {
        let done = &done;
        async move {
            let mut out = Vec::new();
            for (i, mut c) in lane {
                if c.cookie.is_none() {
                    sign_in(sh, &mut c, i).await?;
                }
                onboard(sh, &c, i).await?;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(100) {
                    eprintln!("loadgen: {n} listeners ready");
                }
                out.push((i, c));
            }
            anyhow::Ok(out)
        }
    }))
    .await;
    let mut all = Vec::with_capacity(n);
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, c)| c).collect())
}

async fn sign_in(sh: &Shared, c: &mut Client, i: usize) -> anyhow::Result<()> {
    let creds = json!({
        "username": format!("{}{}", sh.args.tag, i),
        "password": format!("loadgen-password-{i}"),
    });
    let mut res = sh
        .http
        .post(format!("{}/api/signup", c.base))
        .header("x-forwarded-for", fake_addr(i))
        .json(&creds)
        .send()
        .await?;
    if res.status() == 409 {
        res = sh
            .http
            .post(format!("{}/api/login", c.base))
            .header("x-forwarded-for", fake_addr(i))
            .json(&creds)
            .send()
            .await?;
    }
    anyhow::ensure!(
        res.status().is_success(),
        "sign-up/login of listener {i}: {} {}",
        res.status(),
        res.text().await.unwrap_or_default()
    );
    c.cookie = session_cookie(res.headers());
    anyhow::ensure!(c.cookie.is_some(), "no session cookie for listener {i}");
    Ok(())
}

async fn onboard(sh: &Shared, c: &Client, i: usize) -> anyhow::Result<()> {
    let r = sh
        .http
        .put(format!("{}/api/me/preferences", c.base))
        .header("cookie", c.cookie.clone().unwrap_or_default())
        .json(&json!({"genres": c.liked_genres}))
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_success(),
        "onboarding listener {i}: {}",
        r.status()
    );
    // One feed before the load: the listener's actor is active when measuring starts.
    let _ = get_json(sh, c, "/api/feed?limit=10").await;
    Ok(())
}

/// A distinct client address per listener (believed only from a trusted proxy; the
/// sign-up limiter counts per address).
fn fake_addr(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|kv| kv.contains("spoofify_session="))
        .map(str::to_owned)
}

async fn closed_loop(sh: &Arc<Shared>, clients: Vec<Client>) {
    let think = Duration::from_millis(sh.args.think_ms);
    let tasks = clients.into_iter().map(|mut c| {
        let sh = sh.clone();
        tokio::spawn(async move {
            while !sh.stop.load(Ordering::Relaxed) {
                step(&sh, &mut c, None).await;
                if !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
            }
        })
    });
    futures::future::join_all(tasks).await;
}

/// Sends one step per tick at `rate` per second, round-robin over the listeners; each
/// listener's steps run one after another (its own queue), latency from the tick.
async fn open_loop(sh: &Arc<Shared>, clients: Vec<Client>, rate: f64) {
    let n = clients.len();
    let queues: Vec<tokio::sync::mpsc::UnboundedSender<Instant>> = clients
        .into_iter()
        .map(|mut c| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
            let sh = sh.clone();
            tokio::spawn(async move {
                while let Some(intended) = rx.recv().await {
                    if sh.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    step(&sh, &mut c, Some(intended)).await;
                }
            });
            tx
        })
        .collect();
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let start = Instant::now();
    let mut k: u64 = 0;
    while !sh.stop.load(Ordering::Relaxed) {
        let due = start + period.mul_f64(k as f64);
        tokio::time::sleep_until(due.into()).await;
        let _ = queues[(k as usize) % n].send(due);
        k += 1;
    }
}

/// One step of a listener by the mix; `intended` is the open loop's send time.
async fn step(sh: &Shared, c: &mut Client, intended: Option<Instant>) {
    match sh.args.mix {
        Mix::Raw => {
            let url = format!("{}{}", c.base, sh.args.path);
            timed(sh, Op::Raw, intended, sh.http.get(url)).await;
        }
        Mix::Feed => {
            feed(sh, c, intended).await;
        }
        Mix::Interactions => {
            let all = sh.songs.get().map(Vec::as_slice).unwrap_or_default();
            if all.is_empty() {
                return;
            }
            let (song, genre) = all[c.rng.random_range(0..all.len())].clone();
            interact(sh, c, &song, &genre, intended).await;
        }
        Mix::Session => {
            let items = feed(sh, c, intended).await;
            for (song, genre) in items.into_iter().take(3) {
                if sh.stop.load(Ordering::Relaxed) {
                    break;
                }
                interact(sh, c, &song, &genre, None).await;
            }
        }
    }
}

async fn feed(sh: &Shared, c: &mut Client, intended: Option<Instant>) -> Vec<(String, String)> {
    let req = sh
        .http
        .get(format!("{}/api/feed?limit=10", c.base))
        .header("cookie", c.cookie.clone().unwrap_or_default());
    let body = timed(sh, Op::Feed, intended, req).await;
    body.and_then(|v| {
        v["items"].as_array().map(|a| {
            a.iter()
                .filter_map(|i| {
                    Some((
                        i["song"]["id"].as_str()?.to_owned(),
                        i["song"]["genre"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
    })
    .unwrap_or_default()
}

async fn interact(sh: &Shared, c: &mut Client, song: &str, genre: &str, intended: Option<Instant>) {
    let liked = c.liked_genres.iter().any(|g| g == genre);
    let finish = c.rng.random_bool(if liked { 0.8 } else { 0.25 });
    let kind = if finish && c.rng.random_bool(0.1) {
        "liked"
    } else if finish {
        "finished"
    } else {
        "skipped"
    };
    c.sent += 1;
    let id = format!(
        "lg{:x}-{:08}",
        sh.client_ids.fetch_add(1, Ordering::Relaxed),
        c.sent
    );
    let req = sh
        .http
        .post(format!("{}/api/interactions", c.base))
        .header("cookie", c.cookie.clone().unwrap_or_default())
        .json(&json!({"id": id, "song_id": song, "kind": kind, "position_ms": if finish { 0 } else { 5000 }}));
    timed(sh, Op::Interaction, intended, req).await;
}

/// Sends `req`, records its latency (from `intended` when given) and outcome; the JSON
/// body of a success.
async fn timed(
    sh: &Shared,
    op: Op,
    intended: Option<Instant>,
    req: reqwest::RequestBuilder,
) -> Option<Value> {
    let start = intended.unwrap_or_else(Instant::now);
    let res = req.send().await;
    let out = match res {
        Ok(r) if r.status().is_success() => {
            let bytes = r.bytes().await.ok();
            let took = start.elapsed();
            sh.recorder.ok(op, took);
            if op == Op::Feed {
                bytes.and_then(|b| serde_json::from_slice(&b).ok())
            } else {
                None
            }
        }
        _ => {
            sh.recorder.error(op);
            None
        }
    };
    out
}

async fn progress(sh: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        let line = sh.recorder.roll_second();
        eprint!("\r{line:<100}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tag_that_makes_bad_usernames_is_refused_before_any_sign_up() {
        assert!(super::check_tag("loadgen", 50).is_ok());
        assert!(super::check_tag("ab", 1).is_ok());
        assert!(super::check_tag("p", 50).is_err(), "p0 is too short");
        assert!(super::check_tag("Load", 5).is_err(), "upper case");
        assert!(super::check_tag("a b", 5).is_err());
        assert!(super::check_tag(&"x".repeat(30), 1000).is_err(), "too long");
    }
}
