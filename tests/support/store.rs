//! The store harness: a store over either backend (a
//! temporary embedded file, or a private redis-server), waiting on conditions with
//! deadlines, and small record builders.

use std::sync::Arc;
use std::time::Duration;

use spoofify_service::catalog::SongId;
use spoofify_service::config::Durability;
use spoofify_service::store::embedded::EmbeddedStore;
use spoofify_service::store::redis::{RedisStore, RedisTarget};
use spoofify_service::store::redis_cluster_process::{ClusterOptions, RedisCluster};
use spoofify_service::store::redis_process::{Fsync, RedisProcess};
use spoofify_service::store::*;

use super::wait_until;

enum Backend {
    Embedded { dir: tempfile::TempDir },
    Redis { server: RedisProcess },
    RedisCluster { cluster: RedisCluster },
}

/// How long a durable write may wait for its replica in the cluster harness: generous,
/// because the machine's cores are shared with other builds.
pub const CLUSTER_DURABILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// Starts a private Redis Cluster (3 masters + 3 replicas, AOF `always`) off the runtime.
pub async fn start_redis_cluster() -> RedisCluster {
    tokio::task::spawn_blocking(|| RedisCluster::start(ClusterOptions::default()))
        .await
        .expect("join")
        .expect("start a redis cluster")
}

/// A store on `cluster` whose appends, leases and epochs wait for a replica.
pub async fn cluster_store(cluster: &RedisCluster) -> RedisStore {
    RedisStore::connect_to(
        &RedisTarget::Cluster(cluster.seeds()),
        Durability::Replicated,
        CLUSTER_DURABILITY_TIMEOUT,
    )
    .await
    .expect("connect to the redis cluster")
}

/// A store under test plus what it runs on, so a test can restart the backend.
pub struct Harness {
    store: Option<SharedStore>,
    backend: Backend,
}

impl Harness {
    /// An embedded store in a fresh temporary directory.
    pub async fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE))
            .await
            .expect("open embedded");
        Self {
            store: Some(Arc::new(store)),
            backend: Backend::Embedded { dir },
        }
    }

    /// A Redis store on a private redis-server (AOF, appendfsync always).
    pub async fn redis() -> Self {
        let server = tokio::task::spawn_blocking(|| RedisProcess::start_temp(Fsync::Always))
            .await
            .expect("join")
            .expect("start redis-server");
        let store = RedisStore::connect(&server.url())
            .await
            .expect("connect redis");
        Self {
            store: Some(Arc::new(store)),
            backend: Backend::Redis { server },
        }
    }

    /// A Redis store on a private Redis Cluster (3 masters + 3 replicas, AOF
    /// `always`, `durability = "replicated"`).
    pub async fn redis_cluster() -> Self {
        let cluster = start_redis_cluster().await;
        let store = cluster_store(&cluster).await;
        Self {
            store: Some(Arc::new(store)),
            backend: Backend::RedisCluster { cluster },
        }
    }

    /// Empties the Redis Cluster between contract cases that share it.
    pub async fn reset(&mut self) {
        if let Backend::RedisCluster { cluster } = &mut self.backend {
            cluster.flush_all().expect("flush the redis cluster");
        }
    }

    pub fn store(&self) -> &SharedStore {
        self.store.as_ref().expect("store is open")
    }

    /// The private Redis server, when this harness runs on Redis.
    pub fn redis_server(&mut self) -> Option<&mut RedisProcess> {
        match &mut self.backend {
            Backend::Redis { server } => Some(server),
            Backend::Embedded { .. } | Backend::RedisCluster { .. } => None,
        }
    }

    /// Crash and recovery of the backend. Embedded: the store is closed and its file
    /// opened again. Redis: the server is SIGKILLed and started again on the same
    /// port and directory (it replays its AOF); the same store handle must reconnect.
    pub async fn restart(&mut self) {
        match &mut self.backend {
            Backend::Embedded { dir } => {
                drop(self.store.take());
                let store = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE))
                    .await
                    .expect("reopen embedded");
                self.store = Some(Arc::new(store));
            }
            Backend::Redis { .. } | Backend::RedisCluster { .. } => {
                match &mut self.backend {
                    Backend::Redis { server } => server.restart().expect("restart redis-server"),
                    Backend::RedisCluster { cluster } => {
                        cluster.restart_all().expect("restart the redis cluster")
                    }
                    Backend::Embedded { .. } => unreachable!(),
                }
                let store = self.store().clone();
                wait_until(
                    "the store to reconnect to the restarted redis",
                    Duration::from_secs(15),
                    || {
                        let store = store.clone();
                        async move { store.ping().await.is_ok() }
                    },
                )
                .await;
            }
        }
    }
}

pub fn lid(s: &str) -> ListenerId {
    ListenerId::parse(s).expect("listener id")
}

pub fn song(s: &str) -> SongId {
    SongId::parse(s).expect("song id")
}

pub fn interaction(client_id: &str, song_id: &str, kind: InteractionKind) -> Interaction {
    Interaction {
        id: ClientId::parse(client_id).expect("client id"),
        song_id: song(song_id),
        kind,
        position_ms: 12_345,
        at_ms: now_ms(),
    }
}

pub fn account(id: &str, username: &str) -> Account {
    Account {
        id: lid(id),
        username: Username::parse(username).expect("username"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        created_ms: now_ms(),
        preferences: Preferences::default(),
        session_epoch: 0,
    }
}

pub fn node(id: &str) -> NodeInfo {
    NodeInfo {
        id: NodeId::parse(id).expect("node id"),
        http_addr: "127.0.0.1:8080".into(),
        cluster_addr: Some("127.0.0.1:9000".into()),
        state: "up".into(),
        listeners: 3,
        started_ms: now_ms(),
    }
}
