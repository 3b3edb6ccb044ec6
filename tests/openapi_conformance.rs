//! The OpenAPI document tells the truth: schemathesis (PyPI, pinned in
//! `scripts/schemathesis`) reads `GET /api/openapi.json` from a real `spoofify serve`
//! process, generates requests for every operation — valid and invalid ones — sends
//! them signed in, and fails on any answer the document does not describe: a 5xx, an
//! unlisted status, another content type, or a body that breaks its schema.
//!
//! `POST /api/logout` and `POST /api/me/logout-all` get their own run, last: they end
//! the session every other operation is fuzzed with, so fuzzing them among them would
//! turn the rest of the run into 401s. `GET /api/activity/stream` is left out: it is a
//! server-sent event stream that stays open for minutes by design, which a
//! request-and-compare tool would wait on until its deadline (`tests/social.rs` checks
//! its status, content type and events). Nothing else is excluded.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use support::app::{Api, DEMO_SONGS, READY_DEADLINE};
use support::node::{wait_ready, NodeProcess};

/// The checks that compare answers with the document (5xx, status codes, content
/// types, body schemas); the command names the same four.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";
/// Generated cases per operation and phase: enough to reach every documented error of
/// every operation, few enough that the whole run stays within about two minutes on
/// two shared cores.
const MAX_EXAMPLES: &str = "20";
/// Fixed, so a failure reproduces with the same requests.
const SEED: &str = "20261129";
/// One schemathesis run may take this long before the test fails instead of hanging.
const RUN_DEADLINE: Duration = Duration::from_secs(300);
/// The operations with their own run (see the module doc).
const LOGOUT: &str = "/api/logout";
const LOGOUT_ALL: &str = "/api/me/logout-all";
/// The live stream (see the module doc).
const ACTIVITY_STREAM: &str = "/api/activity/stream";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_matches_what_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("small-catalog.toml");
    std::fs::write(&config, format!("[catalog]\ndemo_songs = {DEMO_SONGS}\n")).unwrap();
    let node = NodeProcess::start(dir.path(), &["--config", config.to_str().unwrap()]);
    let client = reqwest::Client::new();
    wait_ready(&client, &node.base, READY_DEADLINE).await;

    let (mut api, _) = Api::onboarded(&node.base, "schemathesis").await;
    let cookie = format!(
        "Cookie: spoofify_session={}",
        api.cookie().expect("a session cookie after sign-up")
    );
    let schema = format!("{}/api/openapi.json", node.base);

    let main = schemathesis(
        dir.path(),
        &schema,
        &cookie,
        &[
            "--exclude-path",
            LOGOUT,
            "--exclude-path",
            LOGOUT_ALL,
            "--exclude-path",
            ACTIVITY_STREAM,
        ],
    )
    .await;
    assert_passed("every operation but logout", &main, dir.path());
    assert_eq!(api.get("/api/me").await.status, 200, "the session survived");

    let logout = schemathesis(
        dir.path(),
        &schema,
        &cookie,
        &["--include-path", LOGOUT, "--include-path", LOGOUT_ALL],
    )
    .await;
    assert_passed("logout", &logout, dir.path());
    assert_eq!(
        api.get("/api/me").await.status,
        401,
        "the logout run really ended the session"
    );
}

/// Runs `scripts/schemathesis run` (which installs the pinned version when missing)
/// against `schema`, signed in with `cookie`, from `cwd` (where it may leave files).
async fn schemathesis(cwd: &Path, schema: &str, cookie: &str, filter: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/schemathesis");
    let mut command = tokio::process::Command::new(script);
    command
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .args(["run", schema, "--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--header", cookie])
        .args(filter)
        .kill_on_drop(true);
    let started = Instant::now();
    let output = tokio::time::timeout(RUN_DEADLINE, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran longer than {RUN_DEADLINE:?}"))
        .expect("scripts/schemathesis starts (needs python3 with venv and pip)");
    println!(
        "schemathesis {filter:?}: {:.0?}, {}",
        started.elapsed(),
        output.status
    );
    output
}

/// Fails with the whole report unless schemathesis exited 0 having tested at least
/// one operation; prints the case count ("930 generated, 930 passed").
fn assert_passed(what: &str, output: &Output, dir: &Path) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let log = std::fs::read_to_string(dir.join("node.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "schemathesis found answers the document does not describe ({what}):\n{stdout}\n{stderr}\n\
         node log tail:\n{}",
        tail(&log, 40)
    );
    let cases = line_after(&stdout, "Test cases:");
    let tested = line_after(&stdout, "API Operations:");
    println!("{what}: cases {cases:?}; operations {tested:?}");
    assert!(
        cases.as_deref().is_some_and(|c| c.contains("generated")),
        "no case count in schemathesis' output ({what}):\n{stdout}"
    );
}

/// The first non-empty line after the line holding `heading`, trimmed: schemathesis
/// prints each summary figure under its heading.
fn line_after(text: &str, heading: &str) -> Option<String> {
    text.lines()
        .skip_while(|l| !l.contains(heading))
        .skip(1)
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
