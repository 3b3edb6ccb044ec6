//! A private Redis Cluster for tests, local clusters and the chaos harness: masters
//! and replicas as [`RedisProcess`]es with `--cluster-enabled yes`, joined by
//! `redis-cli --cluster create … --cluster-replicas N --cluster-yes`.
//!
//! [`RedisCluster::start`] returns once every node reports `cluster_state:ok`, knows
//! every other node, and every master has its replicas online (so `WAIT` can be
//! satisfied from the first write). Nodes are addressed by index (their start order:
//! the first `masters` start as masters); which one is a master *now* is read from
//! `CLUSTER NODES`, since failovers swap roles. The cluster is inspected and driven
//! with Debian's `redis-cli` (text replies, parsed here), never through the store's
//! client, so the harness does not share the code it tests.
//!
//! The calls block (seconds for a start or a failover); async callers wrap them in
//! `spawn_blocking`. Every `redis-cli` call has a deadline ([`CLI_TIMEOUT`]): Debian's
//! redis-cli 7.0 has no connect timeout of its own, and a node behind a firewall rule
//! that drops its packets would hang it for minutes. Nodes the caller has cut off
//! ([`RedisCluster::set_cut`]) are not asked for the topology: their view is stale.
//! [`describe_changes`] turns two `CLUSTER NODES` readings into the events an operator
//! would name (a master failed, a replica promoted, an old master back as a replica).
//! Dropping the handle kills every node.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::redis_process::{Fsync, RedisOptions, RedisProcess, RedisProcessError};

/// Where Debian's `redis-tools` package installs the client.
pub const REDIS_CLI_BIN: &str = "/usr/bin/redis-cli";
/// Default `cluster-node-timeout`: a master silent this long is failed over.
pub const DEFAULT_NODE_TIMEOUT_MS: u64 = 2000;
/// How long a new cluster may take to agree (measured: ~7 s on 2 busy cores).
const FORM_DEADLINE: Duration = Duration::from_secs(60);
/// Pause between health probes.
const POLL: Duration = Duration::from_millis(100);
/// How long one `redis-cli` call may take before it is killed and fails.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a running `redis-cli` call is checked for completion.
const CLI_POLL: Duration = Duration::from_millis(5);

/// How to run the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub masters: usize,
    pub replicas_per_master: usize,
    pub node_timeout_ms: u64,
    pub fsync: Fsync,
    /// A root directory (node `i` under `node-<i>`, kept on drop), or `None` for
    /// temporary ones.
    pub dir: Option<PathBuf>,
    /// Fixed ports (one per node), or `None` for free ones.
    pub ports: Option<Vec<u16>>,
    /// Addresses every node listens on (loopback by default).
    pub bind: Vec<String>,
    /// The address nodes announce to each other and to clients (`cluster-announce-ip`):
    /// the first bind address unless given (the chaos harness gives its bridge's).
    pub announce_ip: Option<String>,
    /// Give node `i` a loopback address of its own, `127.0.0.<10+i>` (also bound on
    /// 127.0.0.1): it listens, announces and connects out (`bind-source-addr`) from
    /// it, so a firewall rule on that address cuts the node off in both directions —
    /// its links to peers and replicas included. Port rules cannot: a node's outgoing
    /// cluster-bus links use ephemeral ports, and Redis counts any packet from a peer
    /// as a sign of life, so a port-only cut never gets a master failed over.
    pub own_loopback_ips: bool,
}

/// The loopback address of node `i` under [`ClusterOptions::own_loopback_ips`].
pub fn own_loopback_ip(i: usize) -> String {
    format!("127.0.0.{}", 10 + i)
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            masters: 3,
            replicas_per_master: 1,
            node_timeout_ms: DEFAULT_NODE_TIMEOUT_MS,
            fsync: Fsync::Always,
            dir: None,
            ports: None,
            bind: vec!["127.0.0.1".into()],
            announce_ip: None,
            own_loopback_ips: false,
        }
    }
}

/// One line of `CLUSTER NODES`, as far as the harness needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNodeLine {
    pub id: String,
    pub port: u16,
    pub master: bool,
    pub failed: bool,
    /// The master's id, for a replica.
    pub replica_of: Option<String>,
    /// Slot ranges served (masters), inclusive.
    pub slots: Vec<(u16, u16)>,
}

/// Parses `CLUSTER NODES` output; lines it cannot read are skipped.
pub fn parse_cluster_nodes(text: &str) -> Vec<ClusterNodeLine> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            let addr = f[1].split(['@', ',']).next()?;
            let port = addr.rsplit(':').next()?.parse().ok()?;
            let flags: Vec<&str> = f[2].split(',').collect();
            let slots = f[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|n| (n, n)),
                })
                .collect();
            Some(ClusterNodeLine {
                id: f[0].to_owned(),
                port,
                master: flags.contains(&"master"),
                failed: flags.iter().any(|g| *g == "fail" || *g == "fail?"),
                replica_of: (f[3] != "-").then(|| f[3].to_owned()),
                slots,
            })
        })
        .collect()
}

/// What changed between two `CLUSTER NODES` readings, in words, one event per change
/// of a node's role or health: `master :7000 failed`, `replica :7004 promoted to
/// master (was replica of :7000)`, `:7000 rejoined as replica of :7004`, `:7000 back
/// (master)`. Nodes are named by port; the same node keeps its port across restarts.
pub fn describe_changes(before: &[ClusterNodeLine], after: &[ClusterNodeLine]) -> Vec<String> {
    let port_of = |nodes: &[ClusterNodeLine], id: &str| {
        nodes
            .iter()
            .find(|n| n.id == id)
            .map_or_else(|| "?".to_string(), |n| format!(":{}", n.port))
    };
    let serving = |n: &ClusterNodeLine| n.master && !n.slots.is_empty();
    let mut out = Vec::new();
    for a in after {
        let Some(b) = before.iter().find(|b| b.id == a.id) else {
            continue;
        };
        let p = a.port;
        if a.failed && !b.failed {
            let role = if b.master { "master" } else { "replica" };
            out.push(format!("{role} :{p} failed"));
        } else if !a.failed && b.failed {
            match &a.replica_of {
                Some(m) if b.master => {
                    out.push(format!(":{p} rejoined as replica of {}", port_of(after, m)))
                }
                Some(m) => out.push(format!(
                    "replica :{p} back (replica of {})",
                    port_of(after, m)
                )),
                None => out.push(format!(":{p} back (master)")),
            }
        }
        if serving(a) && !b.master {
            let was = b.replica_of.as_deref().map_or_else(String::new, |m| {
                format!(" (was replica of {})", port_of(before, m))
            });
            out.push(format!("replica :{p} promoted to master{was}"));
        } else if b.master && !a.master && !b.failed && !a.failed {
            let of = a
                .replica_of
                .as_deref()
                .map_or_else(String::new, |m| port_of(after, m));
            out.push(format!("master :{p} demoted to replica of {of}"));
        } else if !a.master && !b.master && a.replica_of != b.replica_of && !a.failed {
            if let Some(m) = &a.replica_of {
                out.push(format!("replica :{p} now follows {}", port_of(after, m)));
            }
        }
    }
    out
}

/// A running private Redis Cluster.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisProcess>,
    options: ClusterOptions,
    /// Nodes the caller cut off (a partition): not asked for the topology.
    cut: Vec<usize>,
}

fn cli_err(what: String) -> RedisProcessError {
    RedisProcessError::Io(what)
}

impl RedisCluster {
    /// Starts `masters × (1 + replicas_per_master)` nodes, creates the cluster and
    /// waits until it is whole (see the module docs).
    pub fn start(options: ClusterOptions) -> Result<Self, RedisProcessError> {
        let count = options.masters * (1 + options.replicas_per_master);
        if options.masters == 0 || count < 3 {
            return Err(cli_err("a Redis Cluster needs at least 3 masters".into()));
        }
        if options.own_loopback_ips && count > 200 {
            return Err(cli_err(
                "at most 200 nodes with own loopback addresses".into(),
            ));
        }
        let mut nodes = Vec::with_capacity(count);
        for i in 0..count {
            let announce = Self::announce_host_of(&options, i);
            let mut bind = options.bind.clone();
            let mut extra = Vec::new();
            if options.own_loopback_ips {
                // The first bind address is the node's own; loopback stays for the
                // harness's probes.
                bind.insert(0, own_loopback_ip(i));
                extra = vec!["--bind-source-addr".into(), own_loopback_ip(i)];
            }
            let node = RedisProcess::start(RedisOptions {
                port: options.ports.as_ref().and_then(|p| p.get(i).copied()),
                fsync: options.fsync,
                dir: options.dir.as_ref().map(|d| d.join(format!("node-{i}"))),
                bind,
                extra_args: [
                    extra,
                    vec![
                        "--cluster-enabled".into(),
                        "yes".into(),
                        "--cluster-config-file".into(),
                        "nodes.conf".into(),
                        "--cluster-node-timeout".into(),
                        options.node_timeout_ms.to_string(),
                        "--cluster-announce-ip".into(),
                        announce,
                        // A replica of a killed master takes over however long it was
                        // out of touch (the harness kills masters on purpose).
                        "--cluster-replica-validity-factor".into(),
                        "0".into(),
                        // The other masters keep serving their slots while one shard
                        // has no master (by default every node answers CLUSTERDOWN to
                        // every key from the moment a master is marked failed until
                        // its replica is promoted: all listeners stall, README "Redis
                        // Cluster"). A master cut off in a minority still stops.
                        "--cluster-require-full-coverage".into(),
                        "no".into(),
                    ],
                ]
                .concat(),
                ..RedisOptions::default()
            })?;
            nodes.push(node);
        }
        let mut this = Self {
            nodes,
            options,
            cut: Vec::new(),
        };
        this.create()?;
        this.wait_whole(FORM_DEADLINE)?;
        Ok(this)
    }

    /// The address node `i` announces (and is created under).
    fn announce_host_of(options: &ClusterOptions, i: usize) -> String {
        if options.own_loopback_ips {
            return own_loopback_ip(i);
        }
        options
            .announce_ip
            .clone()
            .or_else(|| options.bind.first().cloned())
            .unwrap_or_else(|| "127.0.0.1".into())
    }

    fn create(&self) -> Result<(), RedisProcessError> {
        let mut cmd = Command::new(REDIS_CLI_BIN);
        cmd.arg("--cluster").arg("create");
        for (i, n) in self.nodes.iter().enumerate() {
            let host = Self::announce_host_of(&self.options, i);
            cmd.arg(format!("{host}:{}", n.port()));
        }
        cmd.args([
            "--cluster-replicas",
            &self.options.replicas_per_master.to_string(),
            "--cluster-yes",
        ]);
        let out = cmd
            .output()
            .map_err(|e| cli_err(format!("running {REDIS_CLI_BIN} --cluster create: {e}")))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !text.contains("All 16384 slots covered") {
            return Err(cli_err(format!(
                "redis-cli --cluster create failed: {}{}",
                text,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Runs `redis-cli -p <port of node i> args…` and returns its stdout; a call still
    /// running after [`CLI_TIMEOUT`] is killed and fails.
    pub fn cli(&self, i: usize, args: &[&str]) -> Result<String, RedisProcessError> {
        let node = self
            .nodes
            .get(i)
            .ok_or_else(|| cli_err(format!("no node {i}")))?;
        let mut child = Command::new(REDIS_CLI_BIN)
            .args(["-h", "127.0.0.1", "-p", &node.port().to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| cli_err(format!("running {REDIS_CLI_BIN}: {e}")))?;
        let until = Instant::now() + CLI_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < until => std::thread::sleep(CLI_POLL),
                Ok(None) | Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(cli_err(format!(
                        "redis-cli on node {i} ({args:?}): no answer within {CLI_TIMEOUT:?}"
                    )));
                }
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|e| cli_err(format!("running {REDIS_CLI_BIN}: {e}")))?;
        if !out.status.success() {
            return Err(cli_err(format!(
                "redis-cli on node {i}: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&mut self, i: usize) -> &mut RedisProcess {
        &mut self.nodes[i]
    }

    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].port()
    }

    /// Every node's URL (as the store's seeds), `redis://127.0.0.1:<port>`.
    pub fn seeds(&self) -> Vec<String> {
        self.nodes.iter().map(RedisProcess::url).collect()
    }

    /// The seeds as one `redis_cluster` setting value.
    pub fn seed_list(&self) -> String {
        self.seeds().join(",")
    }

    fn index_of_port(&self, port: u16) -> Option<usize> {
        self.nodes.iter().position(|n| n.port() == port)
    }

    fn running(&mut self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_running())
            .collect()
    }

    /// Marks nodes the caller has cut off from the rest (a partition), or none: their
    /// own view of the cluster is stale, so [`Self::topology`] does not ask them.
    pub fn set_cut(&mut self, cut: Vec<usize>) {
        self.cut = cut;
    }

    /// Running nodes that are not cut off, in index order.
    fn reachable(&mut self) -> Vec<usize> {
        let cut = self.cut.clone();
        self.running()
            .into_iter()
            .filter(|i| !cut.contains(i))
            .collect()
    }

    /// `CLUSTER NODES` as seen by the first running node that is not cut off and
    /// answers (the next one is asked when one does not).
    pub fn topology(&mut self) -> Result<Vec<ClusterNodeLine>, RedisProcessError> {
        let mut last = cli_err("no node is running".into());
        for i in self.reachable() {
            match self.cli(i, &["CLUSTER", "NODES"]) {
                Ok(text) => return Ok(parse_cluster_nodes(&text)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends `signal` (`-STOP`, `-CONT`) to node `i`, e.g. to make a replica lag.
    pub fn signal(&self, i: usize, signal: &str) -> Result<(), RedisProcessError> {
        let pid = self
            .nodes
            .get(i)
            .and_then(RedisProcess::pid)
            .ok_or_else(|| cli_err(format!("node {i} is not running")))?;
        let ok = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .map_err(|e| cli_err(format!("kill {signal} {pid}: {e}")))?
            .success();
        if ok {
            Ok(())
        } else {
            Err(cli_err(format!("kill {signal} {pid} failed")))
        }
    }

    /// The indices of the nodes that are masters serving slots now.
    pub fn masters(&mut self) -> Result<Vec<usize>, RedisProcessError> {
        let mut out: Vec<usize> = self
            .topology()?
            .iter()
            .filter(|n| n.master && !n.failed && !n.slots.is_empty())
            .filter_map(|n| self.index_of_port(n.port))
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    /// The index of the node that is the master of `key`'s slot now.
    pub fn master_of_key(&mut self, key: &str) -> Result<usize, RedisProcessError> {
        let first = *self
            .reachable()
            .first()
            .ok_or_else(|| cli_err("no node is running".into()))?;
        let slot: u16 = self
            .cli(first, &["CLUSTER", "KEYSLOT", key])?
            .trim()
            .parse()
            .map_err(|_| cli_err("CLUSTER KEYSLOT: not a number".into()))?;
        self.topology()?
            .iter()
            .filter(|n| n.master && !n.failed)
            .find(|n| n.slots.iter().any(|&(a, b)| a <= slot && slot <= b))
            .and_then(|n| self.index_of_port(n.port))
            .ok_or_else(|| cli_err(format!("no live master serves slot {slot}")))
    }

    /// The indices of the replicas of node `i` now.
    pub fn replicas_of(&mut self, i: usize) -> Result<Vec<usize>, RedisProcessError> {
        let port = self.port(i);
        let topo = self.topology()?;
        let Some(id) = topo.iter().find(|n| n.port == port).map(|n| n.id.clone()) else {
            return Err(cli_err(format!("node {i} is not in the topology")));
        };
        Ok(topo
            .iter()
            .filter(|n| n.replica_of.as_deref() == Some(id.as_str()))
            .filter_map(|n| self.index_of_port(n.port))
            .collect())
    }

    /// Why the cluster is not whole yet, or `None` when it is: every running node
    /// says `cluster_state:ok`; with `replicated`, every master has
    /// `replicas_per_master` replicas online.
    fn not_ok(&mut self, replicated: bool) -> Option<String> {
        for i in self.running() {
            let info = match self.cli(i, &["CLUSTER", "INFO"]) {
                Ok(info) => info,
                Err(e) => return Some(e.to_string()),
            };
            if !info.contains("cluster_state:ok") {
                return Some(format!("node {i}: cluster_state is not ok"));
            }
            if !replicated {
                continue;
            }
            let repl = match self.cli(i, &["INFO", "replication"]) {
                Ok(r) => r,
                Err(e) => return Some(e.to_string()),
            };
            if repl.contains("role:master") {
                let online = repl
                    .lines()
                    .filter(|l| l.starts_with("slave") && l.contains("state=online"))
                    .count();
                if online < self.options.replicas_per_master {
                    return Some(format!("node {i}: {online} replica(s) online"));
                }
            } else if !repl.contains("master_link_status:up") {
                return Some(format!("node {i}: replica link is not up"));
            }
        }
        None
    }

    fn wait(&mut self, replicated: bool, deadline: Duration) -> Result<(), RedisProcessError> {
        let until = Instant::now() + deadline;
        loop {
            let Some(why) = self.not_ok(replicated) else {
                return Ok(());
            };
            if Instant::now() >= until {
                return Err(cli_err(format!(
                    "the Redis Cluster is not whole within {deadline:?}: {why}"
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until every node is up, agrees, and every master has its replicas.
    pub fn wait_whole(&mut self, deadline: Duration) -> Result<(), RedisProcessError> {
        self.wait(true, deadline)
    }

    /// Waits until every running node says `cluster_state:ok` (after a failover:
    /// every slot has a live master), replicas or not.
    pub fn wait_serving(&mut self, deadline: Duration) -> Result<(), RedisProcessError> {
        self.wait(false, deadline)
    }

    /// Removes every key (on each master; replicas follow).
    pub fn flush_all(&mut self) -> Result<(), RedisProcessError> {
        for i in self.masters()? {
            self.cli(i, &["FLUSHALL"])?;
        }
        Ok(())
    }

    /// SIGKILLs every node and starts each again on its port and directory (each
    /// replays its AOF and its `nodes.conf`), then waits until the cluster is whole.
    pub fn restart_all(&mut self) -> Result<(), RedisProcessError> {
        for n in &mut self.nodes {
            n.kill();
        }
        for n in &mut self.nodes {
            n.restart()?;
        }
        self.wait_whole(FORM_DEADLINE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_nodes_lines_parse() {
        let text = "\
07c3 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460 [5461->-abc]
9a1b 127.0.0.1:7002@17002,host master,fail - 0 0 2 connected 5461-10922
5f2e 127.0.0.1:7004@17004 slave 07c3 0 0 1 connected
broken line
";
        let nodes = parse_cluster_nodes(text);
        assert_eq!(nodes.len(), 3);
        assert_eq!(
            nodes[0],
            ClusterNodeLine {
                id: "07c3".into(),
                port: 7001,
                master: true,
                failed: false,
                replica_of: None,
                slots: vec![(0, 5460)],
            }
        );
        assert!(nodes[1].failed && nodes[1].master);
        assert!(!nodes[2].master && nodes[2].slots.is_empty());
        assert_eq!(nodes[2].replica_of.as_deref(), Some("07c3"));
    }

    #[test]
    fn topology_changes_are_named_as_an_operator_would() {
        let before = parse_cluster_nodes(
            "\
a 127.0.0.1:7000@17000 master - 0 0 1 connected 0-5460
b 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-16383
c 127.0.0.1:7003@17003 slave a 0 0 1 connected
d 127.0.0.1:7004@17004 slave a 0 0 1 connected
",
        );
        let failed_over = parse_cluster_nodes(
            "\
a 127.0.0.1:7000@17000 master,fail - 0 0 1 disconnected
b 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-16383
c 127.0.0.1:7003@17003 master - 0 0 3 connected 0-5460
d 127.0.0.1:7004@17004 slave c 0 0 3 connected
",
        );
        assert_eq!(
            describe_changes(&before, &failed_over),
            vec![
                "master :7000 failed",
                "replica :7003 promoted to master (was replica of :7000)",
                "replica :7004 now follows :7003",
            ]
        );
        let rejoined = parse_cluster_nodes(
            "\
a 127.0.0.1:7000@17000 slave c 0 0 3 connected
b 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-16383
c 127.0.0.1:7003@17003 master - 0 0 3 connected 0-5460
d 127.0.0.1:7004@17004 slave c 0 0 3 connected
",
        );
        assert_eq!(
            describe_changes(&failed_over, &rejoined),
            vec![":7000 rejoined as replica of :7003"]
        );
        assert!(describe_changes(&rejoined, &rejoined).is_empty());
    }
}
