//! Network namespaces for `spoofify chaos --netns`: each node gets its own namespace,
//! wired by a veth pair to a bridge in the harness's namespace, so partitions and
//! lossy links are real network faults (nftables rules inside the node's namespace),
//! not signals. Only addresses in a private /24 that this run creates are touched.
//!
//! Names carry the harness's pid (`spfy-<pid>-n1`, bridge `spfyb<pid>`), so a later
//! run can find and remove what a killed run left behind ([`sweep_stale`]).
//! Needs root (CAP_NET_ADMIN), iproute2 and nftables (`scripts/setup` installs them).

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(
        "`{cmd}` failed: {why} (--netns needs root, iproute2 and nftables: run scripts/setup)"
    )]
    Command { cmd: String, why: String },
}

/// Runs a command; its stderr becomes the error.
fn run(args: &[&str], stdin: Option<&str>) -> Result<(), NetError> {
    let cmd = args.join(" ");
    let fail = |why: String| NetError::Command {
        cmd: cmd.clone(),
        why,
    };
    let mut child = Command::new(args[0])
        .args(&args[1..])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()))
    }
}

/// What a node is cut off from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The other nodes (both directions); clients and Redis still reach it.
    Peers,
    /// Redis's port on the bridge (both directions); clients and peers still reach it.
    Redis { port: u16 },
    /// Both of the above: only clients still reach it.
    Isolate { redis_port: u16 },
    /// Drops this percentage of every packet in and out, at random.
    Loss { percent: u8 },
}

/// The namespaces, veths and bridge of one run. Dropping it removes them all.
#[derive(Debug)]
pub struct Net {
    tag: String,
    subnet: u8,
    nodes: usize,
    up: bool,
}

impl Net {
    /// Creates the bridge (`10.213.<k>.1/24` in this namespace) and one namespace per
    /// node (`10.213.<k>.<10+i>`), each with loopback up.
    pub fn create(nodes: usize) -> Result<Self, NetError> {
        let pid = std::process::id();
        let mut net = Net {
            tag: pid.to_string(),
            subnet: free_subnet(pid),
            nodes,
            up: true,
        };
        let br = net.bridge();
        let host = format!("{}/24", net.host_ip());
        run(&["ip", "link", "add", &br, "type", "bridge"], None)?;
        run(&["ip", "addr", "add", &host, "dev", &br], None)?;
        run(&["ip", "link", "set", &br, "up"], None)?;
        for i in 0..nodes {
            let ns = net.namespace(i);
            let (h, p) = (net.veth(i, 'h'), net.veth(i, 'p'));
            let ip = format!("{}/24", net.node_ip(i));
            run(&["ip", "netns", "add", &ns], None)?;
            run(
                &[
                    "ip", "link", "add", &h, "type", "veth", "peer", "name", &p, "netns", &ns,
                ],
                None,
            )?;
            run(&["ip", "link", "set", &h, "master", &br], None)?;
            run(&["ip", "link", "set", &h, "up"], None)?;
            for args in [
                vec!["ip", "link", "set", "lo", "up"],
                vec!["ip", "addr", "add", &ip, "dev", &p],
                vec!["ip", "link", "set", &p, "up"],
            ] {
                let mut full = vec!["ip", "netns", "exec", &ns];
                full.extend(args);
                run(&full, None)?;
            }
        }
        net.up = true;
        Ok(net)
    }

    fn bridge(&self) -> String {
        format!("spfyb{}", self.tag)
    }

    fn veth(&self, i: usize, side: char) -> String {
        format!("spfy{}{side}{}", self.tag, i + 1)
    }

    pub fn namespace(&self, i: usize) -> String {
        format!("spfy-{}-n{}", self.tag, i + 1)
    }

    /// The harness's address on the bridge (Redis listens here too).
    pub fn host_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 1)
    }

    pub fn node_ip(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 10 + i as u8)
    }

    /// The command prefix that runs a program inside node `i`'s namespace.
    pub fn exec_prefix(&self, i: usize) -> Vec<String> {
        vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            self.namespace(i),
        ]
    }

    /// Installs a fault's rules in node `i`'s namespace (replacing any before).
    pub fn cut(&self, i: usize, cut: Cut) -> Result<(), NetError> {
        self.heal(i)?;
        let peers = || {
            let ips: Vec<String> = (0..self.nodes)
                .filter(|&j| j != i)
                .map(|j| self.node_ip(j).to_string())
                .collect();
            let set = ips.join(", ");
            (
                format!("ip saddr {{ {set} }} drop"),
                format!("ip daddr {{ {set} }} drop"),
            )
        };
        let redis = |port: u16| {
            let host = self.host_ip();
            (
                format!("ip saddr {host} tcp sport {port} drop"),
                format!("ip daddr {host} tcp dport {port} drop"),
            )
        };
        // (input rules, output rules)
        let (input, output): (Vec<String>, Vec<String>) = match cut {
            Cut::Peers => {
                let (i, o) = peers();
                (vec![i], vec![o])
            }
            Cut::Redis { port } => {
                let (i, o) = redis(port);
                (vec![i], vec![o])
            }
            Cut::Isolate { redis_port } => {
                let ((pi, po), (ri, ro)) = (peers(), redis(redis_port));
                (vec![pi, ri], vec![po, ro])
            }
            Cut::Loss { percent } => {
                let rule = format!("numgen random mod 100 < {percent} drop");
                (vec![rule.clone()], vec![rule])
            }
        };
        let (input, output) = (input.join("\n    "), output.join("\n    "));
        let ruleset = format!(
            "table inet spoofify_chaos {{\n  chain input {{\n    type filter hook input priority 0;\n    {input}\n  }}\n  chain output {{\n    type filter hook output priority 0;\n    {output}\n  }}\n}}\n"
        );
        let ns = self.namespace(i);
        run(
            &["ip", "netns", "exec", &ns, "nft", "-f", "-"],
            Some(&ruleset),
        )
    }

    /// Removes node `i`'s fault rules (none is fine).
    pub fn heal(&self, i: usize) -> Result<(), NetError> {
        let ns = self.namespace(i);
        match run(
            &[
                "ip",
                "netns",
                "exec",
                &ns,
                "nft",
                "delete",
                "table",
                "inet",
                "spoofify_chaos",
            ],
            None,
        ) {
            Err(NetError::Command { why, .. })
                if why.contains("No such file") || why.contains("does not exist") =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Removes the namespaces (their veth ends go with them), the host veths and the bridge.
    pub fn teardown(&mut self) {
        if !self.up {
            return;
        }
        self.up = false;
        for i in 0..self.nodes {
            let _ = run(&["ip", "netns", "del", &self.namespace(i)], None);
            let _ = run(&["ip", "link", "del", &self.veth(i, 'h')], None);
        }
        let _ = run(&["ip", "link", "del", &self.bridge()], None);
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// A `10.213.<k>.0/24` no interface here uses yet (another run may be going on),
/// starting from one derived from the pid.
fn free_subnet(pid: u32) -> u8 {
    let used = Command::new("ip")
        .args(["-o", "-4", "addr", "show"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let start = pid % 200;
    (0..200)
        .map(|d| (20 + (start + d) % 200) as u8)
        .find(|k| !used.contains(&format!("10.213.{k}.")))
        .unwrap_or((20 + start) as u8)
}

/// Whether the kernel offers `tc netem` (slow links); many container kernels do not.
pub fn netem_available() -> bool {
    let ns = format!("spfy-{}-probe", std::process::id());
    if run(&["ip", "netns", "add", &ns], None).is_err() {
        return false;
    }
    let ok = run(
        &[
            "ip", "netns", "exec", &ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem",
            "delay", "1ms",
        ],
        None,
    )
    .is_ok();
    let _ = run(&["ip", "netns", "del", &ns], None);
    ok
}

/// Removes namespaces, veths and bridges left by chaos runs whose process is gone
/// (a run killed with SIGKILL cannot clean up after itself). Returns what it removed.
pub fn sweep_stale() -> Vec<String> {
    let alive = |pid: &str| std::path::Path::new(&format!("/proc/{pid}")).exists();
    let mut removed = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/var/run/netns") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("spfy-").and_then(|r| r.split('-').next()) {
                if !alive(pid) && run(&["ip", "netns", "del", &name], None).is_ok() {
                    removed.push(name);
                }
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/sys/class/net") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid: String = name
                .strip_prefix("spfyb")
                .or_else(|| name.strip_prefix("spfy"))
                .map(|r| r.chars().take_while(|c| c.is_ascii_digit()).collect())
                .unwrap_or_default();
            if !pid.is_empty() && !alive(&pid) && run(&["ip", "link", "del", &name], None).is_ok() {
                removed.push(name);
            }
        }
    }
    removed
}
