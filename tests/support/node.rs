//! Starting real `spoofify` node processes for tests, and waiting on them with deadlines.

use super::{free_port, wait_for};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A node process, killed when dropped. Its stderr goes to `<data_dir>/node.log`.
pub struct NodeProcess {
    pub child: Child,
    pub base: String,
}

impl NodeProcess {
    /// Starts `spoofify serve` on a free port with `data_dir` and extra args.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with(data_dir, extra, |_| {})
    }

    /// As [`NodeProcess::start`], letting the caller adjust the command first (an
    /// environment variable, a resource limit).
    pub fn start_with(
        data_dir: &Path,
        extra: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> Self {
        let port = free_port();
        let log = std::fs::File::create(data_dir.join("node.log")).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_spoofify"));
        configure(&mut command);
        let child = command
            .arg("serve")
            .arg("--http")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn spoofify");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Sends SIGTERM and waits for the exit status, up to `deadline`.
    pub fn terminate(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `GET {base}/readyz` answers 200.
pub async fn wait_ready(client: &reqwest::Client, base: &str, deadline: Duration) {
    wait_for("readyz 200", deadline, || async {
        let r = client.get(format!("{base}/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await
}
