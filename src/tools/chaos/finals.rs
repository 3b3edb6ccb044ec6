//! The cluster's state after the run, as the checkers need it: each listener's log
//! and writer journal read from the store, the training input a rebuild from the
//! log gives, what the listener's actor says it holds (from a normal feed), and whom
//! the listener follows (by the harness's names).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use spoofify_service::catalog::Catalog;
use spoofify_service::model::{EngineKind, ListenerModel};
use spoofify_service::store::{ListenerId, SharedStore};

use super::check::{FinalListener, ModelSeen};
use super::workload;

/// More followees than any simulated listener can have (one per other listener).
const MAX_FOLLOWING: usize = 100_000;

/// Reads each listener's log and writer journal, rebuilds its training input, and
/// asks the cluster for a normal feed to see what the listener's actor holds.
pub(super) async fn collect_finals(
    store: &SharedStore,
    catalog: &Arc<Catalog>,
    nodes: &[(String, String)],
    accounts: &[workload::SignedUp],
    ask_models: bool,
) -> Vec<FinalListener> {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
    {
        Ok(h) => h,
        Err(_) => return Vec::new(),
    };
    let names: Arc<HashMap<String, String>> = Arc::new(
        accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect(),
    );
    let mut finals: Vec<FinalListener> = futures::stream::iter(accounts.iter().cloned())
        .map(|a| {
            let (http, store, catalog) = (http.clone(), store.clone(), catalog.clone());
            let names = names.clone();
            let workload::SignedUp { name, id, cookie } = a;
            async move {
                let Ok(lid) = ListenerId::parse(&id) else {
                    return FinalListener {
                        name,
                        ..Default::default()
                    };
                };
                let log = retry(|| store.read_interactions(&lid, 0, usize::MAX / 2)).await;
                let journal = retry(|| store.writer_journal(&lid)).await;
                let following = retry(|| store.following(&lid, MAX_FOLLOWING))
                    .await
                    .map(|ids| {
                        ids.iter()
                            .map(|id| {
                                names
                                    .get(id.as_str())
                                    .cloned()
                                    .unwrap_or_else(|| format!("unknown:{id}"))
                            })
                            .collect()
                    });
                let expected_digest = log.as_ref().map(|log| {
                    let mut m = ListenerModel::new(EngineKind::default(), 0);
                    for e in log {
                        m.apply(e);
                    }
                    format!("{:016x}", m.input_digest(&catalog))
                });
                let model = if ask_models {
                    final_model(&http, nodes, &cookie).await
                } else {
                    None
                };
                FinalListener {
                    name,
                    log,
                    journal,
                    model,
                    expected_digest,
                    following,
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    finals.sort_by(|a, b| a.name.cmp(&b.name));
    finals
}

/// A store read, tried up to 5 times 200 ms apart (the harness's connection may be
/// reconnecting after a Redis restart); `None` if it never succeeds.
async fn retry<T, F, Fut>(mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, spoofify_service::store::StoreError>>,
{
    for attempt in 0..5 {
        match f().await {
            Ok(v) => return Some(v),
            Err(e) => {
                tracing::warn!(attempt, error = %e, "final state: store read failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    None
}

/// A normal feed's `model` within 20 s, trying the nodes in turn.
async fn final_model(
    http: &reqwest::Client,
    nodes: &[(String, String)],
    cookie: &str,
) -> Option<ModelSeen> {
    let until = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    while Instant::now() < until {
        let (_, base) = &nodes[i % nodes.len()];
        i += 1;
        let got = async {
            let r = http
                .get(format!("{base}/api/feed?limit=1"))
                .header("cookie", cookie)
                .send()
                .await
                .ok()?;
            let v: serde_json::Value = r.json().await.ok()?;
            if v["degraded"] != false {
                return None;
            }
            Some(ModelSeen {
                applied_seq: v["model"]["applied_seq"].as_u64()?,
                training_digest: v["model"]["training_digest"].as_str().map(str::to_owned),
            })
        }
        .await;
        if got.is_some() {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}
