//! The workload: simulated listeners (`sim::Listener`, with hidden tastes) who use
//! the cluster over HTTP as the web app does — sign up, onboard, then fetch the feed,
//! listen (finish, skip, like, dislike) and post each interaction with a client id,
//! retrying an unknown outcome with the same id as the app's outbox does; now and then
//! they follow another simulated listener, or unfollow one (issue 17; the `follows`
//! checker holds the cluster to every acknowledged one). A listener
//! whose feed comes back degraded (or not at all) asks again every 250 ms until it
//! gets its personal feed, so unserved windows are measured to within that. Every
//! request goes to a node picked at random by a load balancer with a passive health
//! check (like nginx's `max_fails=1`) and an active one (the monitor's poll every
//! 250 ms, 500 ms timeout): a node that refused a connection, timed out or failed its
//! check is skipped by everyone for [`MARK_DOWN`]; a retry goes to a different node. Every attempt and its outcome go into the history; a membership monitor
//! polls each node's `/api/cluster` alongside.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::history::{Event, Op, Phase};
use crate::sim::{Listener, TasteShape};
use spoofify_service::catalog::{Catalog, SongId};

/// Timeout of sign-up and login requests (argon2id hashing queues under load).
const ACCOUNT_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the load balancer skips a node after a connect failure or a timeout.
pub const MARK_DOWN: Duration = Duration::from_secs(2);

/// Collects history events from every task; times are ms since the run started.
pub struct Recorder {
    start: Instant,
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            events: Mutex::new(Vec::new()),
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn record(&self, e: Event) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    /// Every event so far, in time order.
    pub fn snapshot(&self) -> Vec<Event> {
        let mut v = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        v.sort_by_key(|e| e.t_ms);
        v
    }
}

/// How the simulated listeners behave.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    pub listeners: usize,
    pub seed: u64,
    /// Mean pause between one listen and the next feed request.
    pub think: Duration,
    /// A request not answered within this is an unknown outcome (`info`).
    pub client_timeout: Duration,
    /// Sign-ups are spread evenly over this long (people arrive over time).
    pub ramp: Duration,
    /// Stop after this many requests in total (a bound besides time).
    pub max_requests: u64,
    /// Tags usernames and client ids, so runs never collide.
    pub tag: String,
}

/// A listener that has an account.
#[derive(Debug, Clone)]
pub struct SignedUp {
    pub name: String,
    pub id: String,
    pub cookie: String,
}

/// What the listeners share.
pub struct Shared {
    pub spec: WorkloadSpec,
    /// (node id, base URL).
    pub nodes: Vec<(String, String)>,
    pub catalog: Arc<Catalog>,
    pub recorder: Arc<Recorder>,
    pub stop: Arc<AtomicBool>,
    pub requests: AtomicU64,
    pub http: reqwest::Client,
    /// Per node: skip it until this instant (the load balancer's passive health check).
    down_until: Mutex<Vec<Option<Instant>>>,
    /// Listener index → (name, account id, session cookie), filled in as sign-ups succeed.
    pub accounts: Mutex<Vec<Option<SignedUp>>>,
}

enum Outcome {
    Ok(reqwest::header::HeaderMap, Value),
    /// Certainly not done (4xx, or the connection was refused before sending).
    Fail(u16, String),
    /// Unknown (timeout, dropped connection, 5xx).
    Info(String),
}

impl Shared {
    pub fn new(
        spec: WorkloadSpec,
        nodes: Vec<(String, String)>,
        catalog: Arc<Catalog>,
        recorder: Arc<Recorder>,
        stop: Arc<AtomicBool>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(spec.client_timeout)
            .connect_timeout(spec.client_timeout.min(Duration::from_secs(1)))
            .pool_idle_timeout(Duration::from_secs(5))
            .build()?;
        let n = spec.listeners;
        let down_until = Mutex::new(vec![None; nodes.len()]);
        Ok(Self {
            down_until,
            spec,
            nodes,
            catalog,
            recorder,
            stop,
            requests: AtomicU64::new(0),
            http,
            accounts: Mutex::new(vec![None; n]),
        })
    }

    fn mark_down(&self, node: usize) {
        if let Some(slot) = self
            .down_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(node)
        {
            *slot = Some(Instant::now() + MARK_DOWN);
        }
    }

    /// Nodes the load balancer sends to now (all of them if every node is marked down).
    fn healthy(&self) -> Vec<usize> {
        let now = Instant::now();
        let down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        let up: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| down.get(i).copied().flatten().is_none_or(|t| t <= now))
            .collect();
        if up.is_empty() {
            (0..self.nodes.len()).collect()
        } else {
            up
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || self.requests.load(Ordering::Relaxed) >= self.spec.max_requests
    }

    /// Sleeps, waking early when the run stops.
    async fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(Duration::from_millis(200))).await;
        }
    }
}

/// What a response says happened: 2xx done, 4xx certainly not, anything else unknown.
fn classify(status: u16, headers: reqwest::header::HeaderMap, body: Value) -> Outcome {
    if (200..300).contains(&status) {
        Outcome::Ok(headers, body)
    } else if (400..500).contains(&status) {
        Outcome::Fail(
            status,
            body["error"].as_str().unwrap_or("client error").to_owned(),
        )
    } else {
        Outcome::Info(format!(
            "{status}: {}",
            body["error"].as_str().unwrap_or("server error")
        ))
    }
}

/// One listener's client state.
struct Client {
    idx: usize,
    name: String,
    rng: ChaCha8Rng,
    node: usize,
    cookie: Option<String>,
}

impl Client {
    fn pick_node(&mut self, sh: &Shared, avoid_last: bool) -> usize {
        let mut up = sh.healthy();
        if avoid_last && up.len() > 1 {
            up.retain(|&i| i != self.node);
        }
        self.node = up[self.rng.random_range(0..up.len())];
        self.node
    }

    /// One attempt: records invoke and completion, classifies the outcome.
    async fn attempt(
        &mut self,
        sh: &Shared,
        op: Op,
        client_id: Option<&str>,
        avoid_last: bool,
        build: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Outcome {
        self.attempt_on(sh, op, client_id, None, avoid_last, build)
            .await
    }

    /// [`attempt`](Self::attempt), naming the other listener of a follow or unfollow.
    async fn attempt_on(
        &mut self,
        sh: &Shared,
        op: Op,
        client_id: Option<&str>,
        target: Option<&str>,
        avoid_last: bool,
        build: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Outcome {
        let node = self.pick_node(sh, avoid_last);
        let (node_id, base) = &sh.nodes[node];
        sh.requests.fetch_add(1, Ordering::Relaxed);
        let mut e = Event::new(sh.recorder.now_ms(), op, Phase::Invoke);
        e.listener = Some(self.name.clone());
        e.node = Some(node_id.clone());
        e.client_id = client_id.map(str::to_owned);
        e.target = target.map(str::to_owned);
        sh.recorder.record(e.clone());
        let started = Instant::now();
        let mut req = build(&sh.http, base);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let outcome = match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                // 204 (a follow) has no body: Null, as an empty body parses to nothing.
                let body = r.bytes().await.map(|b| {
                    if b.is_empty() {
                        Ok(Value::Null)
                    } else {
                        serde_json::from_slice::<Value>(&b)
                    }
                });
                match body {
                    Ok(Err(err)) => Outcome::Info(format!("{status}: parsing the body: {err}")),
                    Ok(Ok(body)) => classify(status, headers, body),
                    Err(err) => Outcome::Info(format!("{status}: reading the body: {err}")),
                }
            }
            Err(err) if err.is_connect() => {
                sh.mark_down(node);
                Outcome::Fail(0, format!("connect: {err}"))
            }
            Err(err) if err.is_timeout() => {
                sh.mark_down(node);
                Outcome::Info("timeout".into())
            }
            Err(err) => Outcome::Info(format!("transport: {err}")),
        };
        e.t_ms = sh.recorder.now_ms();
        e.latency_ms = Some(started.elapsed().as_millis() as u64);
        match &outcome {
            Outcome::Ok(_, body) => {
                e.phase = Phase::Ok;
                if op == Op::Feed {
                    e.degraded = body["degraded"].as_bool();
                    e.detail = body["degraded_reason"].as_str().map(str::to_owned);
                }
                e.seq = body["seq"].as_u64();
            }
            Outcome::Fail(status, why) => {
                e.phase = Phase::Fail;
                e.detail = Some(format!("{status}: {why}"));
            }
            Outcome::Info(why) => {
                e.phase = Phase::Info;
                e.detail = Some(why.clone());
            }
        }
        sh.recorder.record(e);
        outcome
    }
}

/// Runs one listener until the run stops.
pub async fn listener(sh: Arc<Shared>, idx: usize) {
    let seed = sh
        .spec
        .seed
        .wrapping_mul(1_000_003)
        .wrapping_add(idx as u64);
    let shape = TasteShape::ALL[idx % TasteShape::ALL.len()];
    let mut sim = Listener::new(shape, &sh.catalog, seed);
    let mut c = Client {
        idx,
        name: format!("l{idx:04}"),
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed),
        node: 0,
        cookie: None,
    };
    // Arrive at this listener's point of the ramp.
    if sh.spec.listeners > 1 {
        let at = sh.spec.ramp.mul_f64(idx as f64 / sh.spec.listeners as f64);
        sh.pause(at).await;
    }
    let username = format!("chaos{}l{idx}", sh.spec.tag);
    let password = format!("chaos-password-{idx}");
    let backoff = Duration::from_millis(250);

    // Sign up; an unknown outcome may have made the account, then log in instead.
    // Password hashing is slow by design: these get a longer timeout, and retries back
    // off exponentially with jitter (the server sheds load with 503 when busy).
    let mut avoid = false;
    let mut wait = backoff;
    while c.cookie.is_none() && !sh.stopped() {
        let creds = json!({"username": username, "password": password});
        let mut out = c
            .attempt(&sh, Op::Signup, None, avoid, |h, b| {
                h.post(format!("{b}/api/signup"))
                    .json(&creds)
                    .timeout(ACCOUNT_TIMEOUT)
            })
            .await;
        if let Outcome::Fail(409, _) = out {
            out = c
                .attempt(&sh, Op::Signup, None, false, |h, b| {
                    h.post(format!("{b}/api/login"))
                        .json(&creds)
                        .timeout(ACCOUNT_TIMEOUT)
                })
                .await;
        }
        match out {
            Outcome::Ok(headers, body) => {
                c.cookie = headers
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find(|v| {
                        // Either name: `__Host-` on a secure (loopback) origin.
                        v.starts_with("spoofify_session=")
                            || v.starts_with("__Host-spoofify_session=")
                    })
                    .and_then(|v| v.split(';').next())
                    .map(str::to_owned);
                if let (Some(id), Some(cookie)) = (body["id"].as_str(), &c.cookie) {
                    sh.accounts.lock().unwrap_or_else(|p| p.into_inner())[c.idx] = Some(SignedUp {
                        name: c.name.clone(),
                        id: id.to_owned(),
                        cookie: cookie.clone(),
                    });
                }
                avoid = false;
            }
            _ => {
                avoid = true;
                let jittered = wait.mul_f64(c.rng.random_range(0.5..1.5));
                sh.pause(jittered).await;
                wait = (wait * 2).min(Duration::from_secs(4));
            }
        }
    }

    // Onboarding: the genres this listener says it likes.
    let prefs = sim.onboarding(&sh.catalog);
    let body = json!({"genres": prefs.genres, "seed_songs": []});
    let mut onboarded = false;
    while !onboarded && !sh.stopped() {
        let b = body.clone();
        match c
            .attempt(&sh, Op::Onboard, None, avoid, |h, base| {
                h.put(format!("{base}/api/me/preferences")).json(&b)
            })
            .await
        {
            Outcome::Ok(..) => onboarded = true,
            _ => {
                avoid = true;
                sh.pause(backoff).await;
            }
        }
    }

    let mut heard: HashSet<SongId> = HashSet::new();
    let mut followed: Vec<usize> = Vec::new();
    let mut n = 0u32;
    while !sh.stopped() {
        let feed = match c
            .attempt(&sh, Op::Feed, None, avoid, |h, b| {
                h.get(format!("{b}/api/feed?limit=10"))
            })
            .await
        {
            // Degraded: the app shows it, and asks again shortly for the personal one.
            Outcome::Ok(_, body) if body["degraded"] == false => body,
            Outcome::Ok(..) => {
                avoid = false;
                sh.pause(backoff).await;
                continue;
            }
            _ => {
                avoid = true;
                sh.pause(backoff).await;
                continue;
            }
        };
        avoid = false;
        let ids: Vec<SongId> = feed["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| SongId::parse(i["song"]["id"].as_str()?).ok())
                    .collect()
            })
            .unwrap_or_default();
        let Some(song) = ids
            .iter()
            .find(|id| !heard.contains(*id))
            .or(ids.first())
            .and_then(|id| sh.catalog.get(id))
        else {
            sh.pause(backoff).await;
            continue;
        };
        heard.insert(song.id.clone());
        let reaction = sim.react(song);
        n += 1;
        let client_id = format!("{}-{idx:04}-{n:05}", sh.spec.tag);
        let body = json!({
            "id": client_id,
            "song_id": song.id.as_str(),
            "kind": reaction.kind,
            "position_ms": reaction.position_ms,
        });
        // The app's outbox: retry an unknown outcome with the same id.
        let mut retry_avoid = false;
        for attempt in 1..=8u32 {
            let b = body.clone();
            match c
                .attempt(
                    &sh,
                    Op::Interact,
                    Some(&client_id),
                    retry_avoid,
                    |h, base| h.post(format!("{base}/api/interactions")).json(&b),
                )
                .await
            {
                Outcome::Ok(..) => break,
                Outcome::Fail(status, _) if status != 0 => break,
                _ => {
                    if sh.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    retry_avoid = true;
                    tokio::time::sleep(backoff * attempt.min(4)).await;
                }
            }
        }
        if c.rng.random_bool(FOLLOW_CHANCE) {
            social_step(&sh, &mut c, &mut followed).await;
        }
        let think = sh.spec.think.mul_f64(c.rng.random_range(0.5..1.5));
        sh.pause(think).await;
    }
}

/// The chance that a listener, after a listen, follows or unfollows someone.
const FOLLOW_CHANCE: f64 = 0.2;
/// Of those steps, the share that unfollows (when the listener follows anyone).
const UNFOLLOW_SHARE: f64 = 0.25;

/// Follows another simulated listener who has signed up, or unfollows one this
/// listener follows, retrying an unknown outcome like the outbox does (both are
/// idempotent). `followed` is what this listener believes it follows.
async fn social_step(sh: &Shared, c: &mut Client, followed: &mut Vec<usize>) {
    let unfollow = !followed.is_empty() && c.rng.random_bool(UNFOLLOW_SHARE);
    let other = if unfollow {
        followed.swap_remove(c.rng.random_range(0..followed.len()))
    } else {
        let n = sh.spec.listeners;
        let pick = c.rng.random_range(0..n);
        let signed_up = sh.accounts.lock().unwrap_or_else(|p| p.into_inner())[pick].is_some();
        if pick == c.idx || !signed_up || followed.contains(&pick) {
            return;
        }
        pick
    };
    let (op, method) = if unfollow {
        (Op::Unfollow, reqwest::Method::DELETE)
    } else {
        (Op::Follow, reqwest::Method::PUT)
    };
    let target = format!("l{other:04}");
    let path = format!("/api/me/following/chaos{}l{other}", sh.spec.tag);
    let backoff = Duration::from_millis(250);
    let mut avoid = false;
    for attempt in 1..=8u32 {
        let m = method.clone();
        match c
            .attempt_on(sh, op, None, Some(&target), avoid, |h, base| {
                h.request(m, format!("{base}{path}"))
            })
            .await
        {
            Outcome::Ok(..) => break,
            Outcome::Fail(status, _) if status != 0 => break,
            _ => {
                if sh.stop.load(Ordering::Relaxed) {
                    break;
                }
                avoid = true;
                tokio::time::sleep(backoff * attempt.min(4)).await;
            }
        }
    }
    if !unfollow {
        followed.push(other);
    }
}

/// Polls every node's `/api/cluster` until the run stops: the live set each reports.
/// It doubles as the load balancer's active health check: a node that does not
/// answer within 500 ms is skipped for [`MARK_DOWN`].
pub async fn monitor(sh: Arc<Shared>, every: Duration) {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
    {
        Ok(h) => h,
        Err(_) => return,
    };
    while !sh.stop.load(Ordering::Relaxed) {
        let polls = sh.nodes.iter().map(|(id, base)| {
            let http = http.clone();
            async move {
                let r = http
                    .get(format!("{base}/api/cluster"))
                    .bearer_auth(super::topology::OPS_TOKEN)
                    .send()
                    .await
                    .ok()?;
                let v: Value = r.json().await.ok()?;
                let live: Vec<&str> = v["nodes"]
                    .as_array()?
                    .iter()
                    .filter_map(|n| n["id"].as_str())
                    .collect();
                Some((id.clone(), live.join(",")))
            }
        });
        for (i, polled) in futures::future::join_all(polls)
            .await
            .into_iter()
            .enumerate()
        {
            match polled {
                Some((observer, live)) => {
                    let mut e = Event::new(sh.recorder.now_ms(), Op::Membership, Phase::Ok);
                    e.node = Some(observer);
                    e.detail = Some(live);
                    sh.recorder.record(e);
                }
                // The load balancer's active health check: no answer, no traffic.
                None => sh.mark_down(i),
            }
        }
        tokio::time::sleep(every).await;
    }
}
