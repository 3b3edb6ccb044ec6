//! The chaos harness end to end: `spoofify chaos` as a researcher runs it — Redis and
//! three node processes, each in its own network namespace, a simulated workload,
//! a SIGKILL, a SIGSTOP past the heartbeat TTL and a partition from the peers — must
//! end with a valid verdict and a complete results directory; and an interrupted run
//! must leave no process and no namespace behind. Needs root (network namespaces),
//! as CI has. The checkers themselves are unit-tested on hand-made histories in
//! `src/chaos/check.rs`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One experiment at a time: each runs a whole cluster on this 2-core machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn chaos(out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spoofify"));
    cmd.arg("chaos")
        .args(["--nodes", "3", "--netns", "--seed", "7"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    cmd
}

/// Namespaces and links the run with this pid created.
fn leftovers(pid: u32) -> Vec<String> {
    let mut left = Vec::new();
    let ns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    for line in String::from_utf8_lossy(&ns.stdout).lines() {
        if line.starts_with(&format!("spfy-{pid}-")) {
            left.push(line.to_owned());
        }
    }
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    for line in String::from_utf8_lossy(&links.stdout).lines() {
        if line.contains(&format!("spfy{pid}")) || line.contains(&format!("spfyb{pid}")) {
            left.push(line.to_owned());
        }
    }
    left
}

/// Processes whose command line mentions `dir` (nodes and Redis of one run).
fn processes_using(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(&needle) {
            found.push(format!("{}: {text}", e.file_name().to_string_lossy()));
        }
    }
    found
}

#[test]
fn a_short_run_with_kill_pause_and_partition_ends_valid() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = chaos(
        &out,
        &[
            "--listeners",
            "30",
            "--faults",
            "kill,pause,partition-peers",
            "--warmup-secs",
            "6",
            "--fault-secs",
            "40",
            "--quiet-secs",
            "8",
            "--fault-duration-secs",
            "3.5",
            "--fault-gap-secs",
            "5",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn spoofify chaos");
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "chaos run failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(stdout.contains("verdict: VALID"), "{stdout}");

    let results: Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["valid"], true, "{results:#}");
    let checks = results["checks"].as_array().unwrap();
    for name in [
        "lost",
        "duplicated",
        "phantom",
        "writers",
        "model-input",
        "follows",
        "served-again",
    ] {
        let c = checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} check"));
        assert_eq!(c["valid"], true, "{c:#}");
    }
    let examined = |name: &str| {
        checks.iter().find(|c| c["name"] == name).unwrap()["examined"]
            .as_u64()
            .unwrap()
    };
    // The workload really ran: hundreds of acknowledged writes, every listener checked.
    assert!(examined("lost") > 200, "{}", examined("lost"));
    assert_eq!(examined("model-input"), 30);
    assert!(
        examined("follows") > 10,
        "listeners follow each other too: {}",
        examined("follows")
    );
    assert!(
        examined("writers") > 30,
        "journals hold activations and snapshot writes"
    );

    // Each fault kind was injected and healed, and the kill and pause were noticed.
    let faults = results["faults"].as_array().unwrap();
    for kind in ["kill", "pause", "partition-peers"] {
        let f = faults
            .iter()
            .find(|f| f["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} fault in {faults:#?}"));
        assert!(f["end_s"].as_f64().unwrap() > f["start_s"].as_f64().unwrap());
        if kind != "partition-peers" {
            let detected = f["detected_after_s"].as_f64().expect("detected");
            assert!(detected < 10.0, "{kind} detected after {detected} s");
        }
    }
    let avail = &results["availability"];
    assert_eq!(avail["never_served_again"], 0);
    assert!(avail["feeds_normal"].as_u64().unwrap() > 100);

    // The results directory has everything a researcher opens.
    let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    let lines: Vec<Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .any(|e| e["op"] == "fault" && e["detail"] == "kill"));
    assert!(lines
        .iter()
        .any(|e| e["op"] == "interact" && e["phase"] == "ok" && e["client_id"].is_string()));
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("VALID") && report.matches("<svg").count() >= 3);
    for node in ["n1", "n2", "n3"] {
        let log = std::fs::read_to_string(out.join(node).join("node.log")).unwrap();
        assert!(log.contains("cluster node server and gateway up"), "{node}");
    }
    assert!(out.join("redis").join("redis.log").exists());

    // And nothing is left running or configured.
    assert_eq!(leftovers(pid), Vec::<String>::new());
    assert_eq!(processes_using(&out), Vec::<String>::new());
}

#[test]
fn an_interrupted_run_cleans_up_and_claims_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut child = chaos(
        &out,
        &[
            "--listeners",
            "10",
            "--faults",
            "pause",
            "--warmup-secs",
            "2",
            "--fault-secs",
            "600",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let pid = child.id();
    // Wait until the cluster is up and a node is paused (SIGSTOP) — mid-fault.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let history = std::fs::read_to_string(out.join("n1").join("node.log")).unwrap_or_default();
        let up = history.contains("cluster node server and gateway up");
        let paused = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            status.contains("State:\tT")
                && String::from_utf8_lossy(&cmdline).contains(&out.display().to_string())
        });
        if up && paused {
            break;
        }
        assert!(Instant::now() < deadline, "no node was ever paused");
        assert!(child.try_wait().unwrap().is_none(), "chaos exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!leftovers(pid).is_empty(), "the run made its namespaces");
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "chaos did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        status.code(),
        Some(2),
        "an interrupted run's verdict is unknown"
    );
    let results: Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["valid"], "unknown");
    assert_eq!(leftovers(pid), Vec::<String>::new());
    assert_eq!(processes_using(&out), Vec::<String>::new());
}
