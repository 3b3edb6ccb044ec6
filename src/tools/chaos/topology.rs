//! The processes of one chaos run: a private Redis (AOF on, the chosen fsync
//! policy) and N `spoofify serve` nodes, each with its own data directory and log
//! file, on loopback or each in its own network namespace. It injects and heals the
//! faults that act on processes or links, and on drop kills everything it started.
//! The nodes run as a production cluster must off loopback: mutual TLS between them
//! and a strong cookie read from a file, made by [`crate::certs`] in `<out>/certs`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::faults::FaultKind;
use super::netns::{Cut, Net, NetError};
use spoofify_service::config::{Durability, Overrides};
use spoofify_service::store::redis_cluster_process::{
    describe_changes, own_loopback_ip, ClusterNodeLine, ClusterOptions, RedisCluster,
};
use spoofify_service::store::redis_process::{
    free_port, Fsync, RedisOptions, RedisProcess, RedisProcessError,
};

#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error(transparent)]
    Redis(#[from] RedisProcessError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("node {node}: {why}")]
    Node { node: String, why: String },
    #[error("{0} needs --netns")]
    NeedsNetns(FaultKind),
    #[error("{0} needs {1}")]
    NeedsTier(FaultKind, &'static str),
    #[error("making the cluster certificates: {0}")]
    Certs(#[from] crate::certs::CertError),
}

/// Settings every chaos node gets (environment layer): quick membership, frequent
/// snapshots (so fencing is exercised), short idle passivation off the path.
const NODE_ENV: &[(&str, &str)] = &[
    ("SPOOFIFY_MEMBERSHIP__HEARTBEAT_INTERVAL_MS", "250"),
    ("SPOOFIFY_MEMBERSHIP__HEARTBEAT_TTL_MS", "1500"),
    ("SPOOFIFY_MEMBERSHIP__ROUTE_DEADLINE_MS", "1000"),
    ("SPOOFIFY_LISTENERS__SNAPSHOT_EVERY", "5"),
    ("SPOOFIFY_LISTENERS__FIT_DEBOUNCE_MS", "100"),
    ("SPOOFIFY_LOG__FORMAT", "json"),
    // Every simulated listener signs up from the harness's one address.
    ("SPOOFIFY_ACCOUNTS__LOGIN_ATTEMPTS", "1000000"),
    // Simulated listeners with short think times may log faster than a person.
    ("SPOOFIFY_HTTP_LIMITS__INTERACTIONS_PER_MINUTE", "100000"),
    // The checkers read whole logs (every acknowledged id, seqs from 1, the model input
    // rebuilt from the log): no compaction during a run. `duplicated` flags a log that
    // was compacted anyway.
    ("SPOOFIFY_LISTENERS__LOG_KEEP", "100000000"),
    // The membership monitor reads `/api/cluster`, an operator endpoint.
    ("SPOOFIFY_OPS_TOKEN", OPS_TOKEN),
];

/// The nodes' log filter. The redis crate at `info` logs its cluster client's
/// recovery (slot refreshes begun, completed or failed; connections repaired): what a
/// Redis Cluster run needs to tell a slow failover from a stuck client.
const NODE_LOG: &str = "warn,spoofify=info,spoofify_service=info,redis=info";

/// The operator token the harness gives its nodes (a throwaway cluster's, not a secret).
pub const OPS_TOKEN: &str = "chaos-harness-operator-token-0123456789";

/// One node process (absent while killed).
#[derive(Debug)]
pub struct Node {
    pub id: String,
    pub index: usize,
    pub http: String,
    pub cluster: String,
    pub dir: PathBuf,
    child: Option<Child>,
    paused: bool,
    starts: u32,
}

impl Node {
    /// `http://<addr>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.http)
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("node.log")
    }
}

/// How the harness runs a Redis Cluster state tier.
#[derive(Debug, Clone, Copy)]
pub struct ClusterSpec {
    /// The nodes' `durability`.
    pub durability: Durability,
    pub replicas_per_master: usize,
    /// Forced replica lag before a redis-master-kill (zero: none).
    pub lag: std::time::Duration,
}

/// Where the nodes keep their state.
pub enum StateTier {
    Server(RedisProcess),
    /// A Redis Cluster, the node under a master fault (its index) and how it runs.
    Cluster {
        cluster: RedisCluster,
        faulted: Option<usize>,
        spec: ClusterSpec,
    },
}

/// The nftables table a redis-master-partition adds (and its heal deletes): it drops
/// every packet from or to the master's own loopback address.
const PARTITION_TABLE: &str = "spoofify_chaos_redis";
/// The nftables table of a forced replica lag (dropped before the kill ends).
const LAG_TABLE: &str = "spoofify_chaos_redis_lag";

pub struct Topology {
    pub tier: StateTier,
    pub nodes: Vec<Node>,
    pub net: Option<Net>,
    exe: PathBuf,
    /// The node flag naming the state tier: `--redis URL` or `--redis-cluster SEEDS`.
    redis_flag: [String; 2],
    /// The Redis Cluster's `CLUSTER NODES` as last read (`inject` records changes).
    pub last_redis_topology: Option<Vec<ClusterNodeLine>>,
    /// What the harness itself did to the Redis Cluster since last drained (a master
    /// killed, replicas stopped, a partition cut or healed), for the timeline.
    pub redis_actions: Vec<String>,
    /// The cluster CA, node certificates and cookie file.
    certs: crate::certs::Made,
}

impl Topology {
    /// Starts Redis (one server, or a Redis Cluster when `cluster` names the nodes'
    /// durability) and lays out (but does not start) the nodes.
    pub fn create(
        root: &Path,
        nodes: usize,
        fsync: Fsync,
        netns: bool,
        exe: PathBuf,
        cluster: Option<ClusterSpec>,
    ) -> Result<Self, TopologyError> {
        let net = if netns {
            super::netns::sweep_stale();
            Some(Net::create(nodes)?)
        } else {
            None
        };
        let mut bind = vec!["127.0.0.1".to_string()];
        if let Some(n) = &net {
            bind.push(n.host_ip().to_string());
        }
        let host = net
            .as_ref()
            .map_or("127.0.0.1".to_string(), |n| n.host_ip().to_string());
        let (tier, redis_flag) = match cluster {
            None => {
                let redis = RedisProcess::start(RedisOptions {
                    fsync,
                    dir: Some(root.join("redis")),
                    bind,
                    ..RedisOptions::default()
                })?;
                let url = format!("redis://{host}:{}", redis.port());
                (StateTier::Server(redis), ["--redis".to_string(), url])
            }
            Some(spec) => {
                let cluster = RedisCluster::start(ClusterOptions {
                    fsync,
                    replicas_per_master: spec.replicas_per_master,
                    dir: Some(root.join("redis-cluster")),
                    own_loopback_ips: true,
                    ..ClusterOptions::default()
                })?;
                let seeds = cluster.seed_list();
                let tier = StateTier::Cluster {
                    cluster,
                    faulted: None,
                    spec,
                };
                (tier, ["--redis-cluster".to_string(), seeds])
            }
        };
        let ids: Vec<String> = (0..nodes).map(|i| format!("n{}", i + 1)).collect();
        let certs = crate::certs::make(&root.join("certs"), &ids)?;
        let mut out = Vec::new();
        for i in 0..nodes {
            let id = format!("n{}", i + 1);
            let (http, cluster) = match &net {
                Some(n) => (
                    format!("{}:8080", n.node_ip(i)),
                    format!("{}:4000", n.node_ip(i)),
                ),
                None => {
                    let p = |_| {
                        free_port().map_err(|e| TopologyError::Node {
                            node: id.clone(),
                            why: format!("no free port: {e}"),
                        })
                    };
                    (
                        format!("127.0.0.1:{}", p(0)?),
                        format!("127.0.0.1:{}", p(1)?),
                    )
                }
            };
            let dir = root.join(&id);
            std::fs::create_dir_all(&dir).map_err(|e| TopologyError::Node {
                node: id.clone(),
                why: format!("creating {}: {e}", dir.display()),
            })?;
            out.push(Node {
                id,
                index: i,
                http,
                cluster,
                dir,
                child: None,
                paused: false,
                starts: 0,
            });
        }
        Ok(Self {
            tier,
            nodes: out,
            net,
            exe,
            redis_flag,
            last_redis_topology: None,
            redis_actions: Vec::new(),
            certs,
        })
    }

    /// Settings overrides naming the state tier as the harness reaches it (loopback).
    pub fn store_overrides(&self) -> Overrides {
        match &self.tier {
            StateTier::Server(r) => Overrides {
                redis: Some(r.url()),
                ..Default::default()
            },
            StateTier::Cluster { cluster, .. } => Overrides {
                redis_cluster: Some(cluster.seed_list()),
                ..Default::default()
            },
        }
    }

    fn server(&mut self, kind: FaultKind) -> Result<&mut RedisProcess, TopologyError> {
        match &mut self.tier {
            StateTier::Server(r) => Ok(r),
            StateTier::Cluster { .. } => Err(TopologyError::NeedsTier(kind, "one Redis")),
        }
    }

    /// The Redis Cluster's `CLUSTER NODES`, read from a node the harness has not cut
    /// off; `None` on one Redis, `Some(Err)` when no such node answered.
    pub fn redis_topology(&mut self) -> Option<Result<Vec<ClusterNodeLine>, RedisProcessError>> {
        let StateTier::Cluster { cluster, .. } = &mut self.tier else {
            return None;
        };
        Some(cluster.topology())
    }

    /// Reads the Redis Cluster's topology and returns what changed since the last
    /// reading, in words (the first reading names the masters). Empty on one Redis or
    /// when no node answered (the next reading catches up).
    pub fn redis_topology_changes(&mut self) -> Vec<String> {
        let Some(Ok(now)) = self.redis_topology() else {
            return Vec::new();
        };
        let changes = match &self.last_redis_topology {
            None => {
                let mut masters: Vec<String> = now
                    .iter()
                    .filter(|n| n.master && !n.failed && !n.slots.is_empty())
                    .map(|n| format!(":{}", n.port))
                    .collect();
                masters.sort();
                vec![format!("masters {}", masters.join(" "))]
            }
            Some(before) => describe_changes(before, &now),
        };
        self.last_redis_topology = Some(now);
        changes
    }

    /// Whether the state tier is a Redis Cluster.
    pub fn is_redis_cluster(&self) -> bool {
        matches!(self.tier, StateTier::Cluster { .. })
    }

    /// A Redis Cluster master fault: picks the `i`-th current master (mod their count).
    /// A kill with a forced lag first cuts the replication stream to its replicas for
    /// the lag.
    fn master_fault(&mut self, kind: FaultKind, i: usize) -> Result<(), TopologyError> {
        let StateTier::Cluster {
            cluster,
            faulted,
            spec,
        } = &mut self.tier
        else {
            return Err(TopologyError::NeedsTier(kind, "--redis-cluster"));
        };
        let masters = cluster.masters()?;
        if masters.is_empty() {
            return Err(TopologyError::NeedsTier(kind, "a live master"));
        }
        let m = masters[i % masters.len()];
        let port = cluster.port(m);
        *faulted = Some(m);
        match kind {
            FaultKind::RedisMasterKill if !spec.lag.is_zero() => {
                // Everything the master sends its replicas is dropped for the lag, then
                // the master dies: what it took meanwhile never reached a replica. (A
                // SIGSTOPped replica would not lag: the kernel still takes the stream
                // into its socket buffer, and it reads it all on SIGCONT.)
                let replicas = cluster.replicas_of(m)?;
                let from = own_loopback_ip(m);
                let drops: Vec<String> = replicas
                    .iter()
                    .map(|&r| format!("  ip saddr {from} ip daddr {} drop\n", own_loopback_ip(r)))
                    .collect();
                let rules = format!(
                    "table inet {LAG_TABLE} {{\n chain input {{ type filter hook input priority -10; policy accept;\n{} }}\n}}\n",
                    drops.concat()
                );
                run_nft(&["-f", "-"], Some(&rules)).map_err(|why| TopologyError::Node {
                    node: format!("redis:{port}"),
                    why,
                })?;
                let names: Vec<String> = replicas
                    .iter()
                    .map(|&r| format!(":{}", cluster.port(r)))
                    .collect();
                self.redis_actions.push(format!(
                    "replication :{port} -> {} cut (forced lag {:.1} s)",
                    names.join(" "),
                    spec.lag.as_secs_f64()
                ));
                std::thread::sleep(spec.lag);
                cluster.node(m).kill();
                let healed = run_nft(&["delete", "table", "inet", LAG_TABLE], None);
                self.redis_actions
                    .push(format!("master :{port} killed; replication cut removed"));
                healed.map_err(|why| TopologyError::Node {
                    node: format!("redis:{port}"),
                    why,
                })
            }
            FaultKind::RedisMasterKill => {
                cluster.node(m).kill();
                self.redis_actions.push(format!("master :{port} killed"));
                Ok(())
            }
            _ => {
                // Every node has a loopback address of its own (see `create`): dropping
                // it both ways cuts the master off from its replicas, the other masters
                // and the Spoofify nodes, outgoing links included.
                let ip = own_loopback_ip(m);
                let rules = format!(
                    "table inet {PARTITION_TABLE} {{\n chain input {{ type filter hook input priority -10; policy accept;\n  ip saddr {ip} drop\n  ip daddr {ip} drop\n }}\n}}\n"
                );
                run_nft(&["-f", "-"], Some(&rules)).map_err(|why| TopologyError::Node {
                    node: format!("redis:{port}"),
                    why,
                })?;
                // Its own view is stale from now on: read the topology elsewhere.
                cluster.set_cut(vec![m]);
                self.redis_actions
                    .push(format!("master :{port} cut off (partition)"));
                Ok(())
            }
        }
    }

    fn heal_master_fault(&mut self, kind: FaultKind) -> Result<(), TopologyError> {
        let StateTier::Cluster {
            cluster, faulted, ..
        } = &mut self.tier
        else {
            return Ok(());
        };
        let Some(m) = faulted.take() else {
            return Ok(());
        };
        let port = cluster.port(m);
        if !cluster.node(m).is_running() {
            cluster.node(m).restart()?;
            self.redis_actions.push(format!(":{port} restarted"));
        }
        match kind {
            FaultKind::RedisMasterKill => Ok(()),
            _ => {
                cluster.set_cut(Vec::new());
                run_nft(&["delete", "table", "inet", PARTITION_TABLE], None).map_err(|why| {
                    TopologyError::Node {
                        node: format!("redis:{port}"),
                        why,
                    }
                })?;
                self.redis_actions
                    .push(format!("partition of :{port} healed"));
                Ok(())
            }
        }
    }

    /// Starts (or restarts) node `i`; its log is appended to.
    pub fn start_node(&mut self, i: usize) -> Result<(), TopologyError> {
        let prefix = self.net.as_ref().map(|n| n.exec_prefix(i));
        let node = &mut self.nodes[i];
        let fail = |why: String| TopologyError::Node {
            node: node.id.clone(),
            why,
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.log_path())
            .map_err(|e| fail(format!("opening its log: {e}")))?;
        let mut cmd = match &prefix {
            Some(p) => {
                let mut c = Command::new(&p[0]);
                c.args(&p[1..]).arg(&self.exe);
                c
            }
            None => Command::new(&self.exe),
        };
        cmd.arg("serve")
            .args(["--http", &node.http])
            .args(["--cluster-addr", &node.cluster])
            .args(["--node-id", &node.id])
            .args(&self.redis_flag)
            .arg("--data-dir")
            .arg(&node.dir)
            .env("RUST_LOG", NODE_LOG)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in NODE_ENV {
            cmd.env(k, v);
        }
        if let StateTier::Cluster { spec, .. } = &self.tier {
            cmd.env("SPOOFIFY_DURABILITY", spec.durability.as_str());
        }
        let (_, cert, key) = &self.certs.nodes[i];
        cmd.env("SPOOFIFY_CLUSTER_LINK__TLS_CERT", cert)
            .env("SPOOFIFY_CLUSTER_LINK__TLS_KEY", key)
            .env("SPOOFIFY_CLUSTER_LINK__TLS_CA", &self.certs.ca)
            .env("SPOOFIFY_CLUSTER_COOKIE_FILE", &self.certs.cookie);
        let child = cmd.spawn().map_err(|e| fail(format!("spawn: {e}")))?;
        node.child = Some(child);
        node.paused = false;
        node.starts += 1;
        Ok(())
    }

    fn signal(&self, i: usize, sig: &str) -> Result<(), TopologyError> {
        let node = &self.nodes[i];
        let Some(child) = &node.child else {
            return Err(TopologyError::Node {
                node: node.id.clone(),
                why: "not running".into(),
            });
        };
        let ok = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(TopologyError::Node {
                node: node.id.clone(),
                why: format!("kill {sig} failed"),
            })
        }
    }

    /// SIGKILL node `i` and reap it.
    pub fn kill_node(&mut self, i: usize) -> Result<(), TopologyError> {
        if self.nodes[i].paused {
            self.signal(i, "-CONT")?;
        }
        self.signal(i, "-KILL")?;
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.wait();
        }
        Ok(())
    }

    /// Injects a fault; the matching [`Self::heal`] undoes it.
    pub fn inject(&mut self, kind: FaultKind, i: usize) -> Result<(), TopologyError> {
        fn net(t: &Topology, kind: FaultKind) -> Result<&Net, TopologyError> {
            t.net.as_ref().ok_or(TopologyError::NeedsNetns(kind))
        }
        match kind {
            FaultKind::Kill => self.kill_node(i),
            FaultKind::Pause => {
                self.signal(i, "-STOP")?;
                self.nodes[i].paused = true;
                Ok(())
            }
            FaultKind::PartitionPeers => Ok(net(self, kind)?.cut(i, Cut::Peers)?),
            FaultKind::PartitionRedis => {
                let port = self.server(kind)?.port();
                Ok(net(self, kind)?.cut(i, Cut::Redis { port })?)
            }
            FaultKind::Isolate => {
                let redis_port = self.server(kind)?.port();
                Ok(net(self, kind)?.cut(i, Cut::Isolate { redis_port })?)
            }
            FaultKind::Lossy => Ok(net(self, kind)?.cut(i, Cut::Loss { percent: 20 })?),
            FaultKind::Slow => Err(TopologyError::Node {
                node: self.nodes[i].id.clone(),
                why: "slow links need tc netem, which this kernel lacks".into(),
            }),
            FaultKind::RedisRestart => {
                self.server(kind)?.kill();
                Ok(())
            }
            FaultKind::RedisMasterKill | FaultKind::RedisMasterPartition => {
                self.master_fault(kind, i)
            }
        }
    }

    pub fn heal(&mut self, kind: FaultKind, i: usize) -> Result<(), TopologyError> {
        match kind {
            FaultKind::Kill => self.start_node(i),
            FaultKind::Pause => {
                self.signal(i, "-CONT")?;
                self.nodes[i].paused = false;
                Ok(())
            }
            FaultKind::PartitionPeers
            | FaultKind::PartitionRedis
            | FaultKind::Isolate
            | FaultKind::Lossy
            | FaultKind::Slow => match &self.net {
                Some(n) => Ok(n.heal(i)?),
                None => Ok(()),
            },
            FaultKind::RedisRestart => Ok(self.server(kind)?.restart()?),
            FaultKind::RedisMasterKill | FaultKind::RedisMasterPartition => {
                self.heal_master_fault(kind)
            }
        }
    }

    /// Heals everything still broken (used when a run is interrupted or fails).
    pub fn heal_all(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].paused {
                let _ = self.signal(i, "-CONT");
                self.nodes[i].paused = false;
            }
            if let Some(n) = &self.net {
                let _ = n.heal(i);
            }
        }
        match &mut self.tier {
            StateTier::Server(r) => {
                if !r.is_running() {
                    let _ = r.restart();
                }
            }
            StateTier::Cluster { .. } => {
                let _ = run_nft(&["delete", "table", "inet", LAG_TABLE], None);
                let _ = run_nft(&["delete", "table", "inet", PARTITION_TABLE], None);
                // A killed master is started again; a partitioned one just reconnects.
                let _ = self.heal_master_fault(FaultKind::RedisMasterPartition);
            }
        }
    }

    /// SIGTERM every node (graceful drain), then SIGKILL what is left after `grace`.
    pub fn stop_nodes(&mut self, grace: std::time::Duration) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].paused {
                let _ = self.signal(i, "-CONT");
            }
            if self.nodes[i].child.is_some() {
                let _ = self.signal(i, "-TERM");
            }
        }
        let deadline = std::time::Instant::now() + grace;
        for node in &mut self.nodes {
            if let Some(mut c) = node.child.take() {
                while std::time::Instant::now() < deadline {
                    if let Ok(Some(_)) = c.try_wait() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// How many times each node was started (1 = never restarted).
    pub fn starts(&self) -> Vec<(String, u32)> {
        self.nodes
            .iter()
            .map(|n| (n.id.clone(), n.starts))
            .collect()
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut c) = node.child.take() {
                let _ = Command::new("kill")
                    .args(["-CONT", &c.id().to_string()])
                    .status();
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if matches!(self.tier, StateTier::Cluster { .. }) {
            let _ = run_nft(&["delete", "table", "inet", PARTITION_TABLE], None);
        }
        // Redis stops when `self.tier` drops; the namespaces when `self.net` does.
    }
}

/// Runs `nft args…` (on the host: the Redis Cluster is on loopback), `stdin` fed in.
fn run_nft(args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("nft")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("nft: {e} (redis-master-partition needs root and nftables)"))?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input
            .write_all(text.as_bytes())
            .map_err(|e| format!("nft: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("nft: {}", String::from_utf8_lossy(&out.stderr)))
    }
}
