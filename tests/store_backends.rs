//! What is particular to each store backend, beyond the shared contract
//! (`store_contract.rs`): `store::open` choosing between them, an unreachable Redis,
//! corrupt bytes read back from Redis, the embedded file's lock, and the private
//! redis-server helper itself.

mod support;

use std::time::{Duration, Instant};

use spoofify_service::config::{Overrides, Settings};
use spoofify_service::store::embedded::EmbeddedStore;
use spoofify_service::store::redis::RedisStore;
use spoofify_service::store::redis_process::{Fsync, RedisOptions, RedisProcess};
use spoofify_service::store::*;
use support::store::*;
use support::wait_until;

fn settings(data_dir: &std::path::Path, redis: &str) -> Settings {
    let overrides = Overrides {
        data_dir: Some(data_dir.to_path_buf()),
        redis: Some(redis.to_owned()),
        ..Default::default()
    };
    Settings::load(None, &overrides).expect("settings")
}

fn start_redis(fsync: Fsync) -> RedisProcess {
    RedisProcess::start_temp(fsync).expect("start redis-server")
}

async fn raw_conn(url: &str) -> ::redis::aio::MultiplexedConnection {
    let client = ::redis::Client::open(url).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

#[tokio::test]
async fn open_without_redis_uses_the_embedded_file_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let store = open(&settings(&data, "")).await.unwrap();
    assert_eq!(store.kind(), "embedded");
    store.ping().await.unwrap();
    assert!(data.join(EMBEDDED_FILE).is_file());
}

#[tokio::test]
async fn open_with_a_redis_url_uses_redis() {
    let server = start_redis(Fsync::Always);
    let dir = tempfile::tempdir().unwrap();
    let store = open(&settings(dir.path(), &server.url())).await.unwrap();
    assert_eq!(store.kind(), "redis");
    store.ping().await.unwrap();
    assert!(
        !dir.path().join(EMBEDDED_FILE).exists(),
        "no embedded file made"
    );
}

#[tokio::test]
async fn unreachable_redis_is_unavailable_and_names_the_url() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    match open(&settings(dir.path(), &url)).await {
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains(&url), "{msg}"),
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("expected Unavailable, got a store"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "gave up in {:?}",
        started.elapsed()
    );

    let secret = format!("redis://:hunter2@127.0.0.1:{port}");
    let Err(StoreError::Unavailable(msg)) = RedisStore::connect(&secret).await else {
        panic!("expected Unavailable");
    };
    assert!(
        !msg.contains("hunter2") && msg.contains(&format!("***@127.0.0.1:{port}")),
        "{msg}"
    );
}

#[tokio::test]
async fn corrupt_bytes_in_redis_are_errors_not_panics() {
    let server = start_redis(Fsync::No);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut raw = raw_conn(&server.url()).await;
    let l = lid("L-bad");
    let set = |k: &str, v: &[u8]| ::redis::cmd("SET").arg(k).arg(v).clone();

    set("spoofify:catalog", b"\xff\xff\xff\xff\xff\xff garbage")
        .exec_async(&mut raw)
        .await
        .unwrap();
    assert!(matches!(store.catalog().await, Err(StoreError::Corrupt(_))));

    ::redis::cmd("HSET")
        .arg("spoofify:{L-bad}:account")
        .arg("core")
        .arg("{not json")
        .exec_async(&mut raw)
        .await
        .unwrap();
    assert!(matches!(
        store.account(&l).await,
        Err(StoreError::Corrupt(_))
    ));

    set("spoofify:username:badname", b"no spaces allowed!")
        .exec_async(&mut raw)
        .await
        .unwrap();
    let name = Username::parse("badname").unwrap();
    assert!(matches!(
        store.account_by_username(&name).await,
        Err(StoreError::Corrupt(_))
    ));

    set("spoofify:{L-bad}:epoch", b"seven")
        .exec_async(&mut raw)
        .await
        .unwrap();
    assert!(matches!(
        store.current_epoch(&l).await,
        Err(StoreError::Corrupt(_))
    ));
    let snap = Snapshot {
        epoch: 7,
        covers_seq: 0,
        bytes: vec![],
    };
    let put = store.put_snapshot(&l, &snap).await;
    assert!(matches!(put, Err(StoreError::Corrupt(_))), "{put:?}");

    // A log entry someone else wrote with the wrong shape.
    ::redis::cmd("XADD")
        .arg("spoofify:{L-bad}:log")
        .arg("1-0")
        .arg("x")
        .arg("y")
        .exec_async(&mut raw)
        .await
        .unwrap();
    assert!(matches!(
        store.read_interactions(&l, 0, 10).await,
        Err(StoreError::Corrupt(_))
    ));
    // A key of the wrong type.
    set("spoofify:{L-bad}:playlists", b"a string")
        .exec_async(&mut raw)
        .await
        .unwrap();
    assert!(matches!(
        store.playlists(&l).await,
        Err(StoreError::Corrupt(_))
    ));
    // A session that is not JSON.
    set("spoofify:session:cc33", b"\x00\x01")
        .exec_async(&mut raw)
        .await
        .unwrap();
    assert!(matches!(
        store.session("cc33").await,
        Err(StoreError::Corrupt(_))
    ));
    // The store still answers.
    store.ping().await.unwrap();
}

#[tokio::test]
async fn a_killed_redis_is_unavailable_then_recovers() {
    let mut server = start_redis(Fsync::Always);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let l = lid("L-kill");
    let it = interaction("kill-client-1", "demo-0001", InteractionKind::Finished);
    store.append_interaction(&l, &it).await.unwrap();
    server.kill();
    let started = Instant::now();
    let err = store
        .append_interaction(
            &l,
            &interaction("kill-client-2", "demo-0001", InteractionKind::Finished),
        )
        .await;
    assert!(matches!(err, Err(StoreError::Unavailable(_))), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(15));
    server.restart().unwrap();
    wait_until(
        "the store to reconnect",
        Duration::from_secs(15),
        || async { store.ping().await.is_ok() },
    )
    .await;
    assert_eq!(store.last_seq(&l).await.unwrap(), 1);
}

#[tokio::test]
async fn the_embedded_file_is_locked_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(EMBEDDED_FILE);
    let first = EmbeddedStore::open(&path).await.unwrap();
    match EmbeddedStore::open(&path).await {
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains("already open"), "{msg}"),
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
    drop(first);
    EmbeddedStore::open(&path).await.unwrap();
}

#[tokio::test]
async fn redis_process_applies_its_options_and_cleans_up() {
    let server = start_redis(Fsync::EverySec);
    let mut raw = raw_conn(&server.url()).await;
    let policy: Vec<String> = ::redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(policy, vec!["appendfsync", "everysec"]);
    let aof: Vec<String> = ::redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendonly")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(aof, vec!["appendonly", "yes"]);
    let bind: Vec<String> = ::redis::cmd("CONFIG")
        .arg("GET")
        .arg("bind")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(bind, vec!["bind", "127.0.0.1"]);
    let dir = server.dir().to_path_buf();
    assert!(dir.is_dir());
    drop(server);
    assert!(!dir.exists(), "temp dir removed on drop");

    // A fixed port and directory are honoured, and the directory is kept.
    let keep = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = RedisOptions {
        port: Some(port),
        dir: Some(keep.path().to_path_buf()),
        ..Default::default()
    };
    let fixed = RedisProcess::start(options).unwrap();
    assert_eq!(fixed.port(), port);
    // A second server on the same port fails clearly instead of hanging.
    let clash = RedisProcess::start(RedisOptions {
        port: Some(port),
        ..Default::default()
    });
    assert!(clash.is_err());
    drop(fixed);
    assert!(
        keep.path().join("appendonlydir").is_dir(),
        "AOF kept in the given dir"
    );
}
