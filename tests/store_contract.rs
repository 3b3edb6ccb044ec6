//! The `Store` contract, written once and run against both implementations: the
//! embedded redb file (in a temp dir), Redis (a private redis-server with AOF,
//! `appendfsync always`) and a real local Redis Cluster (3 masters + 3 replicas,
//! durability "replicated"). Each case is a function over a [`Harness`]; the
//! `contract!` macro instantiates every case once per backend (on the cluster, all
//! cases in one test over one cluster).

mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use spoofify_service::catalog::song::DemoTruth;
use spoofify_service::catalog::{Features, Song, SongSource};
use spoofify_service::store::*;
use support::store::*;
use support::wait_until;

/// Deadline for conditions that depend on a TTL passing: generous, because five
/// builds share this machine's two cores.
const EXPIRY_DEADLINE: Duration = Duration::from_secs(15);

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let mut h = crate::support::store::Harness::embedded().await;
                    crate::$case(&mut h).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let mut h = crate::support::store::Harness::redis().await;
                    crate::$case(&mut h).await;
                }
            )*
        }
        mod redis_cluster {
            /// Every case in turn on one Redis Cluster (3 masters + 3 replicas,
            /// durability "replicated"), emptied between cases: a cluster takes
            /// seconds to form, so one per case would cost minutes.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_case() {
                let mut h = crate::support::store::Harness::redis_cluster().await;
                $(
                    h.reset().await;
                    eprintln!("redis cluster case: {}", stringify!($case));
                    crate::$case(&mut h).await;
                )*
            }
        }
    };
}

contract!(
    accounts_create_conflict_and_lookup,
    concurrent_signups_for_one_name_have_one_winner,
    preferences_replace_and_need_an_account,
    sessions_expire_after_their_ttl,
    refresh_never_resurrects_a_deleted_session,
    revoking_sessions_raises_the_epoch_and_can_set_a_password,
    a_session_check_reads_the_session_with_its_account,
    append_is_idempotent_by_client_id,
    sequence_numbers_increase_and_reads_page,
    concurrent_appends_leave_no_gaps_or_duplicates,
    logs_are_separate_per_listener,
    epochs_strictly_increase,
    stale_epoch_snapshot_is_fenced_and_writes_nothing,
    writer_journal_records_activations_and_writes_in_order,
    activation_takes_an_epoch_then_reads_account_snapshot_and_the_log_after_it,
    compaction_drops_only_covered_entries_past_the_kept_ones,
    compaction_is_fenced_and_bounded_per_call,
    heartbeats_expire_and_age,
    deregister_removes_a_node_at_once,
    playlists_crud_and_owner_isolation,
    catalog_round_trips_and_replaces,
    data_survives_a_restart,
    listener_registry_lists_every_logged_listener_in_pages,
    job_lease_has_one_holder_and_new_epochs,
    job_lease_expires_and_passes_on,
    job_state_is_fenced_by_the_lease_epoch,
    job_state_survives_a_restart,
    api_keys_are_found_by_hash_listed_and_revoked,
    app_fields_set_replace_delete_and_survive_a_restart,
    follows_are_one_way_newest_first_bounded_and_idempotent,
    a_block_refuses_follows_and_removes_them_both_ways,
    privacy_shares_nothing_until_set,
    activity_is_recorded_only_while_shared_capped_and_newest_first,
    an_append_shares_its_activity_in_the_same_step_only_when_new,
    a_checked_append_writes_only_for_a_session_that_signs_in,
    visible_activity_hides_non_sharers_and_blocked_viewers,
    the_social_graph_and_activity_survive_a_restart,
    people_are_found_by_a_prefix_of_username_or_display_name,
    display_names_change_their_index_keys_and_need_an_account,
    people_search_reads_a_bounded_range,
    display_names_and_the_people_index_survive_a_restart,
);

async fn accounts_create_conflict_and_lookup(h: &mut Harness) {
    let s = h.store();
    let alice = account("L-alice", "alice");
    assert_eq!(s.account(&alice.id).await.unwrap(), None);
    s.create_account(&alice).await.unwrap();
    assert_eq!(s.account(&alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        s.account_by_username(&alice.username).await.unwrap(),
        Some(alice.clone())
    );

    // Same username, another id: conflict, and the first account is untouched.
    let thief = account("L-other", "alice");
    assert!(matches!(
        s.create_account(&thief).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.account(&thief.id).await.unwrap(), None);
    assert_eq!(
        s.account_by_username(&alice.username).await.unwrap(),
        Some(alice.clone())
    );

    // Same id, another username: conflict, and the new name stays free.
    let twin = account("L-alice", "alice2");
    assert!(matches!(
        s.create_account(&twin).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.account_by_username(&twin.username).await.unwrap(), None);
    s.create_account(&account("L-bob", "alice2")).await.unwrap();

    let nobody = Username::parse("nobody").unwrap();
    assert_eq!(s.account_by_username(&nobody).await.unwrap(), None);
}

async fn concurrent_signups_for_one_name_have_one_winner(h: &mut Harness) {
    const RACERS: usize = 8;
    let mut handles = Vec::new();
    for i in 0..RACERS {
        let s = h.store().clone();
        handles.push(tokio::spawn(async move {
            let a = account(&format!("L-race-{i}"), "racer");
            (a.clone(), s.create_account(&a).await)
        }));
    }
    let mut winners = Vec::new();
    for handle in handles {
        match handle.await.unwrap() {
            (a, Ok(())) => winners.push(a),
            (_, Err(StoreError::Conflict(_))) => {}
            (_, Err(e)) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one signup wins the name");
    let name = Username::parse("racer").unwrap();
    let owner = h.store().account_by_username(&name).await.unwrap();
    assert_eq!(owner.as_ref(), winners.first());
}

async fn preferences_replace_and_need_an_account(h: &mut Harness) {
    let s = h.store();
    let a = account("L-pref", "prefs");
    s.create_account(&a).await.unwrap();
    let prefs = Preferences {
        genres: vec!["jazz".into(), "techno".into()],
        seed_songs: vec![song("demo-0001"), song("demo-0042")],
        onboarded: true,
    };
    s.set_preferences(&a.id, &prefs).await.unwrap();
    let got = s.account(&a.id).await.unwrap().unwrap();
    assert_eq!(got.preferences, prefs);
    assert_eq!(got.password_hash, a.password_hash, "other fields kept");
    let by_name = s.account_by_username(&a.username).await.unwrap().unwrap();
    assert_eq!(by_name.preferences, prefs);

    let fewer = Preferences {
        genres: vec!["folk".into()],
        ..Default::default()
    };
    s.set_preferences(&a.id, &fewer).await.unwrap();
    assert_eq!(s.account(&a.id).await.unwrap().unwrap().preferences, fewer);

    let ghost = lid("L-ghost");
    assert!(matches!(
        s.set_preferences(&ghost, &prefs).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.account(&ghost).await.unwrap(),
        None,
        "no half account made"
    );
}

async fn refresh_never_resurrects_a_deleted_session(h: &mut Harness) {
    let s = h.store();
    let session = Session {
        token_hash: "cc33".into(),
        listener: lid("L-r"),
        created_ms: now_ms(),
        epoch: 0,
    };
    let ttl = Duration::from_secs(600);
    s.put_session(&session, ttl).await.unwrap();
    assert!(s.refresh_session(&session, ttl).await.unwrap());
    assert_eq!(s.session("cc33").await.unwrap(), Some(session.clone()));
    s.delete_session("cc33").await.unwrap();
    // A refresh that raced the logout: nothing comes back.
    assert!(!s.refresh_session(&session, ttl).await.unwrap());
    assert_eq!(s.session("cc33").await.unwrap(), None);
}

async fn a_session_check_reads_the_session_with_its_account(h: &mut Harness) {
    let s = h.store();
    let a = account("L-sc", "checker");
    s.create_account(&a).await.unwrap();
    let ttl = Duration::from_secs(600);
    // A key naming its listener (in its hash slot on Redis) and an older one.
    let named = session("L-sc.dd44", "L-sc");
    let plain = session("ee55", "L-sc");
    for sess in [&named, &plain] {
        s.put_session(sess, ttl).await.unwrap();
        let check = s.session_check(&sess.token_hash).await.unwrap();
        assert_eq!(
            check,
            Some(SessionCheck {
                session: sess.clone(),
                account: Some(SessionAccount {
                    username: a.username.clone(),
                    session_epoch: 0,
                }),
            }),
            "{}",
            sess.token_hash
        );
        assert_eq!(
            s.session(&sess.token_hash).await.unwrap().as_ref(),
            Some(sess)
        );
        assert!(s.refresh_session(sess, ttl).await.unwrap());
    }
    // The account's epoch as it is now, whatever the session holds.
    s.revoke_sessions(&a.id, None).await.unwrap();
    let check = s.session_check("L-sc.dd44").await.unwrap().unwrap();
    assert_eq!(check.account.map(|a| a.session_epoch), Some(1));
    assert_eq!(check.session.epoch, 0);
    // No such session; a session whose account is gone.
    assert_eq!(s.session_check("L-sc.0000").await.unwrap(), None);
    assert_eq!(s.session_check("0000").await.unwrap(), None);
    s.put_session(&session("L-ghost.ab12", "L-ghost"), ttl)
        .await
        .unwrap();
    let ghost = s.session_check("L-ghost.ab12").await.unwrap().unwrap();
    assert_eq!(ghost.account, None);
    // A record naming another listener than its key is refused, not trusted.
    s.put_session(&session("L-sc.ff66", "L-ghost"), ttl)
        .await
        .unwrap();
    assert!(matches!(
        s.session_check("L-sc.ff66").await,
        Err(StoreError::Corrupt(_))
    ));
    s.delete_session("L-sc.dd44").await.unwrap();
    assert_eq!(s.session_check("L-sc.dd44").await.unwrap(), None);
    assert_eq!(s.session("L-sc.dd44").await.unwrap(), None);
}

async fn revoking_sessions_raises_the_epoch_and_can_set_a_password(h: &mut Harness) {
    let s = h.store();
    let a = account("L-rv", "revoker");
    s.create_account(&a).await.unwrap();
    assert_eq!(s.account(&a.id).await.unwrap().unwrap().session_epoch, 0);
    assert_eq!(s.revoke_sessions(&a.id, None).await.unwrap(), 1);
    let after = s.account(&a.id).await.unwrap().unwrap();
    assert_eq!(
        (after.session_epoch, &after.password_hash),
        (1, &a.password_hash)
    );
    assert_eq!(s.revoke_sessions(&a.id, Some("$new")).await.unwrap(), 2);
    let after = s.account_by_username(&a.username).await.unwrap().unwrap();
    assert_eq!(
        (after.session_epoch, after.password_hash.as_str()),
        (2, "$new")
    );
    assert_eq!(after.preferences, a.preferences);
    assert!(matches!(
        s.revoke_sessions(&lid("L-nobody"), None).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.account(&lid("L-nobody")).await.unwrap(),
        None,
        "no half account"
    );
}

async fn sessions_expire_after_their_ttl(h: &mut Harness) {
    let s = h.store();
    let short = Session {
        token_hash: "aa11".into(),
        listener: lid("L-s"),
        created_ms: now_ms(),
        epoch: 0,
    };
    let long = Session {
        token_hash: "bb22".into(),
        listener: lid("L-s"),
        created_ms: now_ms(),
        epoch: 0,
    };
    let ttl = Duration::from_millis(1500);
    let put_at = Instant::now();
    s.put_session(&short, ttl).await.unwrap();
    s.put_session(&long, Duration::from_secs(600))
        .await
        .unwrap();
    let seen = s.session("aa11").await.unwrap();
    if put_at.elapsed() < ttl {
        assert_eq!(seen, Some(short.clone()));
    }
    wait_until("the short session to expire", EXPIRY_DEADLINE, || async {
        s.session("aa11").await.unwrap().is_none()
    })
    .await;
    assert!(
        put_at.elapsed() >= ttl - Duration::from_millis(50),
        "expired early"
    );
    assert_eq!(s.session("bb22").await.unwrap(), Some(long.clone()));

    // Putting again refreshes; deleting removes (and deleting twice is fine).
    s.put_session(&short, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(s.session("aa11").await.unwrap(), Some(short));
    s.delete_session("bb22").await.unwrap();
    s.delete_session("bb22").await.unwrap();
    assert_eq!(s.session("bb22").await.unwrap(), None);
    assert_eq!(s.session("never").await.unwrap(), None);
}

async fn append_is_idempotent_by_client_id(h: &mut Harness) {
    let s = h.store();
    let l = lid("L-idem");
    let first = interaction("client-0001", "demo-0001", InteractionKind::Finished);
    let a = s.append_interaction(&l, &first).await.unwrap();
    assert_eq!(
        a,
        Appended {
            seq: 1,
            duplicate: false
        }
    );

    // The same id again, even with different content: the first entry wins.
    let mut again = first.clone();
    again.kind = InteractionKind::Skipped;
    let b = s.append_interaction(&l, &again).await.unwrap();
    assert_eq!(
        b,
        Appended {
            seq: 1,
            duplicate: true
        }
    );

    let c = s
        .append_interaction(
            &l,
            &interaction("client-0002", "demo-0002", InteractionKind::Liked),
        )
        .await
        .unwrap();
    assert_eq!(
        c,
        Appended {
            seq: 2,
            duplicate: false
        }
    );
    assert_eq!(
        s.append_interaction(&l, &first).await.unwrap(),
        Appended {
            seq: 1,
            duplicate: true
        }
    );

    let log = s.read_interactions(&l, 0, 100).await.unwrap();
    assert_eq!(log.len(), 2, "duplicates wrote nothing");
    assert_eq!(
        log[0],
        LoggedInteraction {
            seq: 1,
            interaction: first
        }
    );
    assert_eq!(s.last_seq(&l).await.unwrap(), 2);
}

async fn sequence_numbers_increase_and_reads_page(h: &mut Harness) {
    let s = h.store();
    let l = lid("L-seq");
    assert_eq!(s.last_seq(&l).await.unwrap(), 0);
    assert!(s.read_interactions(&l, 0, 10).await.unwrap().is_empty());
    let mut sent = Vec::new();
    for i in 1..=25u64 {
        let it = interaction(
            &format!("seq-client-{i:04}"),
            "demo-0003",
            InteractionKind::Skipped,
        );
        assert_eq!(
            s.append_interaction(&l, &it).await.unwrap(),
            Appended {
                seq: i,
                duplicate: false
            }
        );
        sent.push(it);
    }
    assert_eq!(s.last_seq(&l).await.unwrap(), 25);

    let all = s.read_interactions(&l, 0, 1000).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=25).collect::<Vec<_>>()
    );
    assert_eq!(
        all.iter()
            .map(|e| e.interaction.clone())
            .collect::<Vec<_>>(),
        sent
    );

    let page = s.read_interactions(&l, 10, 5).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![11, 12, 13, 14, 15]
    );
    // Paging from the last seq seen walks the whole log exactly once.
    let (mut after, mut walked) = (0, Vec::new());
    loop {
        let batch = s.read_interactions(&l, after, 7).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.seq;
        walked.extend(batch.iter().map(|e| e.seq));
    }
    assert_eq!(walked, (1..=25).collect::<Vec<_>>());
    assert!(s.read_interactions(&l, 25, 10).await.unwrap().is_empty());
    assert!(s.read_interactions(&l, 3, 0).await.unwrap().is_empty());
    assert!(s
        .read_interactions(&l, u64::MAX, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn concurrent_appends_leave_no_gaps_or_duplicates(h: &mut Harness) {
    const TASKS: usize = 8;
    const PER_TASK: usize = 20;
    let l = lid("L-conc");
    let mut handles = Vec::new();
    // Every id is sent by two tasks at once, as a retrying client would.
    for t in 0..TASKS {
        let s = h.store().clone();
        let l = l.clone();
        handles.push(tokio::spawn(async move {
            let owner = t / 2;
            let mut got = Vec::new();
            for i in 0..PER_TASK {
                let it = interaction(
                    &format!("conc-{owner}-{i:04}"),
                    "demo-0004",
                    InteractionKind::Finished,
                );
                got.push((it.id.clone(), s.append_interaction(&l, &it).await.unwrap()));
            }
            got
        }));
    }
    let mut by_id: HashMap<ClientId, Vec<Appended>> = HashMap::new();
    for handle in handles {
        for (id, appended) in handle.await.unwrap() {
            by_id.entry(id).or_default().push(appended);
        }
    }
    let unique = TASKS / 2 * PER_TASK;
    assert_eq!(by_id.len(), unique);
    for (id, results) in &by_id {
        assert_eq!(results.len(), 2);
        assert_eq!(
            results[0].seq, results[1].seq,
            "{id}: both senders got the same seq"
        );
        let fresh = results.iter().filter(|a| !a.duplicate).count();
        assert_eq!(fresh, 1, "{id}: exactly one sender appended");
    }
    let seqs: BTreeSet<u64> = by_id.values().map(|r| r[0].seq).collect();
    assert_eq!(
        seqs,
        (1..=unique as u64).collect(),
        "no gaps, no duplicates"
    );
    let log = h.store().read_interactions(&l, 0, 10_000).await.unwrap();
    assert_eq!(log.len(), unique);
    for entry in &log {
        assert_eq!(by_id[&entry.interaction.id][0].seq, entry.seq);
    }
}

async fn logs_are_separate_per_listener(h: &mut Harness) {
    let s = h.store();
    let (a, b) = (lid("L-a"), lid("L-b"));
    let it = interaction("shared-id-01", "demo-0005", InteractionKind::Liked);
    assert_eq!(
        s.append_interaction(&a, &it).await.unwrap(),
        Appended {
            seq: 1,
            duplicate: false
        }
    );
    // The same client id under another listener is a different entry.
    assert_eq!(
        s.append_interaction(&b, &it).await.unwrap(),
        Appended {
            seq: 1,
            duplicate: false
        }
    );
    let other = interaction("b-only-0001", "demo-0006", InteractionKind::Disliked);
    assert_eq!(s.append_interaction(&b, &other).await.unwrap().seq, 2);
    assert_eq!(s.last_seq(&a).await.unwrap(), 1);
    assert_eq!(s.read_interactions(&a, 0, 10).await.unwrap().len(), 1);
    assert_eq!(s.read_interactions(&b, 0, 10).await.unwrap().len(), 2);
}

async fn epochs_strictly_increase(h: &mut Harness) {
    let s = h.store();
    let (l, n1, n2) = (
        lid("L-ep"),
        NodeId::parse("n1").unwrap(),
        NodeId::parse("n2").unwrap(),
    );
    assert_eq!(s.current_epoch(&l).await.unwrap(), 0);
    assert_eq!(s.acquire_epoch(&l, &n1).await.unwrap(), 1);
    assert_eq!(s.acquire_epoch(&l, &n2).await.unwrap(), 2);
    assert_eq!(s.current_epoch(&l).await.unwrap(), 2);
    assert_eq!(
        s.current_epoch(&lid("L-ep-other")).await.unwrap(),
        0,
        "per listener"
    );

    let mut handles = Vec::new();
    for i in 0..10 {
        let (s, l) = (s.clone(), l.clone());
        let node = NodeId::parse(&format!("n{i}")).unwrap();
        handles.push(tokio::spawn(async move {
            s.acquire_epoch(&l, &node).await.unwrap()
        }));
    }
    let mut got = BTreeSet::new();
    for handle in handles {
        assert!(
            got.insert(handle.await.unwrap()),
            "two activations got one epoch"
        );
    }
    assert_eq!(got, (3..=12).collect());
    assert_eq!(s.current_epoch(&l).await.unwrap(), 12);
}

async fn stale_epoch_snapshot_is_fenced_and_writes_nothing(h: &mut Harness) {
    let s = h.store();
    let l = lid("L-fence");
    let (n1, n2) = (NodeId::parse("n1").unwrap(), NodeId::parse("n2").unwrap());
    assert_eq!(s.snapshot(&l).await.unwrap(), None);
    let old = s.acquire_epoch(&l, &n1).await.unwrap();
    let first = Snapshot {
        epoch: old,
        covers_seq: 4,
        bytes: vec![1, 2, 3],
    };
    s.put_snapshot(&l, &first).await.unwrap();
    assert_eq!(s.snapshot(&l).await.unwrap(), Some(first.clone()));

    let new = s.acquire_epoch(&l, &n2).await.unwrap();
    assert!(new > old);
    // The paused old owner wakes up and tries to write: fenced, nothing written.
    let stale = Snapshot {
        epoch: old,
        covers_seq: 9,
        bytes: vec![9; 1000],
    };
    match s.put_snapshot(&l, &stale).await {
        Err(StoreError::Fenced { held, current }) => assert_eq!((held, current), (old, new)),
        other => panic!("expected Fenced, got {other:?}"),
    }
    assert_eq!(s.snapshot(&l).await.unwrap(), Some(first));
    // An epoch from the future is no better.
    let ahead = Snapshot {
        epoch: new + 5,
        covers_seq: 1,
        bytes: vec![],
    };
    assert!(matches!(
        s.put_snapshot(&l, &ahead).await,
        Err(StoreError::Fenced { .. })
    ));

    let current = Snapshot {
        epoch: new,
        covers_seq: 12,
        bytes: (0..=255).collect(),
    };
    s.put_snapshot(&l, &current).await.unwrap();
    assert_eq!(s.snapshot(&l).await.unwrap(), Some(current));
}

/// Appends `n` interactions with ids `<prefix>-<i>` (i from 1) and returns them.
async fn append_many(s: &SharedStore, l: &ListenerId, prefix: &str, n: u64) -> Vec<Interaction> {
    let mut sent = Vec::new();
    for i in 1..=n {
        let it = interaction(
            &format!("{prefix}-{i:05}"),
            "demo-0004",
            InteractionKind::Finished,
        );
        s.append_interaction(l, &it).await.unwrap();
        sent.push(it);
    }
    sent
}

async fn compaction_drops_only_covered_entries_past_the_kept_ones(h: &mut Harness) {
    let s = h.store();
    let l = lid("L-compact");
    let epoch = s
        .acquire_epoch(&l, &NodeId::parse("n1").unwrap())
        .await
        .unwrap();
    let sent = append_many(s, &l, "cmp", 30).await;
    // No snapshot: nothing is covered, nothing goes.
    assert_eq!(
        s.compact_log(&l, epoch, 5).await.unwrap(),
        Compaction::default()
    );
    assert_eq!(s.read_interactions(&l, 0, 100).await.unwrap().len(), 30);

    // The snapshot covers 1..=12: only those go, even though keep_last allows 25.
    let snap = |covers_seq| Snapshot {
        epoch,
        covers_seq,
        bytes: vec![7],
    };
    s.put_snapshot(&l, &snap(12)).await.unwrap();
    let done = s.compact_log(&l, epoch, 5).await.unwrap();
    assert_eq!(
        done,
        Compaction {
            through: 12,
            removed: 12
        }
    );
    assert_eq!(s.log_floor(&l).await.unwrap(), 12);
    let log = s.read_interactions(&l, 0, 100).await.unwrap();
    assert_eq!(log.first().map(|e| e.seq), Some(13));
    assert_eq!(log.len(), 18);
    assert_eq!(log[0].interaction, sent[12]);
    // Again with nothing new: a no-op that reports the floor.
    assert_eq!(
        s.compact_log(&l, epoch, 5).await.unwrap(),
        Compaction {
            through: 12,
            removed: 0
        }
    );

    // Everything covered: the newest keep_last stay; keep_last 0 still keeps one.
    s.put_snapshot(&l, &snap(30)).await.unwrap();
    assert_eq!(s.compact_log(&l, epoch, 5).await.unwrap().through, 25);
    let seqs: Vec<u64> = s
        .read_interactions(&l, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (26..=30).collect::<Vec<_>>());
    assert_eq!(s.compact_log(&l, epoch, 0).await.unwrap().through, 29);
    assert_eq!(s.last_seq(&l).await.unwrap(), 30);

    // Sequence numbers go on after the compacted ones; a kept id is still a duplicate.
    let next = interaction("cmp-after", "demo-0005", InteractionKind::Liked);
    assert_eq!(
        s.append_interaction(&l, &next).await.unwrap(),
        Appended {
            seq: 31,
            duplicate: false
        }
    );
    assert_eq!(
        s.append_interaction(&l, &sent[29]).await.unwrap(),
        Appended {
            seq: 30,
            duplicate: true
        }
    );
    let tail = s.read_interactions(&l, 0, 100).await.unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![30, 31]);
    // Other listeners' logs are untouched.
    let other = lid("L-compact-other");
    append_many(s, &other, "oth", 3).await;
    assert_eq!(s.read_interactions(&other, 0, 10).await.unwrap().len(), 3);
    assert_eq!(s.log_floor(&other).await.unwrap(), 0);
}

async fn compaction_is_fenced_and_bounded_per_call(h: &mut Harness) {
    let s = h.store();
    let l = lid("L-compact-fence");
    let n = COMPACTION_BATCH + 100;
    let old = s
        .acquire_epoch(&l, &NodeId::parse("n1").unwrap())
        .await
        .unwrap();
    append_many(s, &l, "big", n).await;
    s.put_snapshot(
        &l,
        &Snapshot {
            epoch: old,
            covers_seq: n,
            bytes: vec![1],
        },
    )
    .await
    .unwrap();
    let new = s
        .acquire_epoch(&l, &NodeId::parse("n2").unwrap())
        .await
        .unwrap();
    match s.compact_log(&l, old, 10).await {
        Err(StoreError::Fenced { held, current }) => assert_eq!((held, current), (old, new)),
        other => panic!("expected Fenced, got {other:?}"),
    }
    assert_eq!(s.log_floor(&l).await.unwrap(), 0);
    assert_eq!(
        s.read_interactions(&l, 0, usize::MAX / 2)
            .await
            .unwrap()
            .len() as u64,
        n
    );
    // The current owner compacts, at most one batch per call.
    let first = s.compact_log(&l, new, 10).await.unwrap();
    assert_eq!(
        first,
        Compaction {
            through: COMPACTION_BATCH,
            removed: COMPACTION_BATCH
        }
    );
    let second = s.compact_log(&l, new, 10).await.unwrap();
    assert_eq!(
        second,
        Compaction {
            through: n - 10,
            removed: 90
        }
    );
    let left = s.read_interactions(&l, 0, usize::MAX / 2).await.unwrap();
    assert_eq!(left.len(), 10);
    assert_eq!(left[0].seq, n - 9);
}

async fn writer_journal_records_activations_and_writes_in_order(h: &mut Harness) {
    let s = h.store();
    let l = lid("L-journal");
    let (n1, n2) = (NodeId::parse("n1").unwrap(), NodeId::parse("n2").unwrap());
    assert!(s.writer_journal(&l).await.unwrap().is_empty());
    let before = now_ms();
    let e1 = s.acquire_epoch(&l, &n1).await.unwrap();
    let snap = |epoch, covers_seq| Snapshot {
        epoch,
        covers_seq,
        bytes: vec![7],
    };
    s.put_snapshot(&l, &snap(e1, 3)).await.unwrap();
    let e2 = s.acquire_epoch(&l, &n2).await.unwrap();
    // A refused write leaves the snapshot alone (the Redis store also journals the refusal).
    assert!(s.put_snapshot(&l, &snap(e1, 5)).await.is_err());
    s.put_snapshot(&l, &snap(e2, 8)).await.unwrap();

    let steps: Vec<(u64, WriterStep)> = s
        .writer_journal(&l)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| !matches!(e.step, WriterStep::Fenced { .. }))
        .map(|e| {
            assert!(
                e.at_ms + 1000 >= before && e.at_ms <= now_ms() + 1000,
                "{e:?}"
            );
            (e.epoch, e.step)
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (e1, WriterStep::Activated { node: "n1".into() }),
            (e1, WriterStep::Wrote { covers_seq: 3 }),
            (e2, WriterStep::Activated { node: "n2".into() }),
            (e2, WriterStep::Wrote { covers_seq: 8 }),
        ]
    );
    // Journals are per listener.
    assert!(s.writer_journal(&lid("L-other")).await.unwrap().is_empty());
}

async fn activation_takes_an_epoch_then_reads_account_snapshot_and_the_log_after_it(
    h: &mut Harness,
) {
    let s = h.store();
    let (n1, n2) = (NodeId::parse("n1").unwrap(), NodeId::parse("n2").unwrap());
    let alice = account("L-activate", "activated");
    let l = alice.id.clone();
    // Nothing stored yet: a first epoch, nothing to read.
    let a = s.activate(&l, &n1, 10).await.unwrap();
    assert!(a.epoch >= 1);
    assert_eq!(s.current_epoch(&l).await.unwrap(), a.epoch);
    assert_eq!(
        (a.account, a.snapshot, a.log_after, a.log.len()),
        (None, None, 0, 0)
    );

    s.create_account(&alice).await.unwrap();
    let sent = append_many(s, &l, "act", 7).await;
    // No snapshot: the log from its start, one page of it.
    let b = s.activate(&l, &n2, 5).await.unwrap();
    assert!(b.epoch > a.epoch);
    assert_eq!(b.account, Some(alice.clone()));
    assert_eq!((b.snapshot.clone(), b.log_after), (None, 0));
    let seqs: Vec<u64> = b.log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);

    // A snapshot covering 1..=4: the page starts after it.
    let snap = Snapshot {
        epoch: b.epoch,
        covers_seq: 4,
        bytes: vec![4, 2],
    };
    s.put_snapshot(&l, &snap).await.unwrap();
    let c = s.activate(&l, &n1, 10).await.unwrap();
    assert!(c.epoch > b.epoch);
    assert_eq!((c.snapshot, c.log_after), (Some(snap), 4));
    let got: Vec<(u64, &Interaction)> = c.log.iter().map(|e| (e.seq, &e.interaction)).collect();
    let want: Vec<(u64, &Interaction)> = (5..=7).zip(&sent[4..]).collect();
    assert_eq!(got, want);
    // A page of 0 reads no log but still takes the epoch.
    let d = s.activate(&l, &n2, 0).await.unwrap();
    assert!(d.epoch > c.epoch && d.log.is_empty());

    // The holders before are fenced, and the journal has every activation in order.
    let stale = Snapshot {
        epoch: c.epoch,
        covers_seq: 7,
        bytes: vec![7],
    };
    assert!(matches!(
        s.put_snapshot(&l, &stale).await,
        Err(StoreError::Fenced { .. })
    ));
    let activations: Vec<(u64, WriterStep)> = s
        .writer_journal(&l)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.step, WriterStep::Activated { .. }))
        .map(|e| (e.epoch, e.step))
        .collect();
    let node = |n: &str| WriterStep::Activated { node: n.into() };
    assert_eq!(
        activations,
        vec![
            (a.epoch, node("n1")),
            (b.epoch, node("n2")),
            (c.epoch, node("n1")),
            (d.epoch, node("n2")),
        ]
    );
}

async fn heartbeats_expire_and_age(h: &mut Harness) {
    let s = h.store();
    let (short, long) = (node("n-short"), node("n-long"));
    let ttl = Duration::from_millis(1500);
    let beat_at = Instant::now();
    s.heartbeat(&short, ttl).await.unwrap();
    s.heartbeat(&long, Duration::from_secs(600)).await.unwrap();
    let live = s.live_nodes().await.unwrap();
    if beat_at.elapsed() < ttl {
        let ids: BTreeSet<_> = live.iter().map(|n| n.info.id.as_str().to_owned()).collect();
        assert_eq!(ids, ["n-long", "n-short"].map(String::from).into());
    }
    let found = live
        .iter()
        .find(|n| n.info.id.as_str() == "n-long")
        .expect("long node live");
    assert_eq!(found.info, long);
    assert!(found.heartbeat_age_ms < 5_000);

    // The age grows while nobody beats, and a beat resets it.
    wait_until(
        "n-long's heartbeat age to pass 200 ms",
        EXPIRY_DEADLINE,
        || async {
            let live = s.live_nodes().await.unwrap();
            live.iter()
                .any(|n| n.info.id.as_str() == "n-long" && n.heartbeat_age_ms >= 200)
        },
    )
    .await;
    let rebeat_at = Instant::now();
    s.heartbeat(&long, Duration::from_secs(600)).await.unwrap();
    let age = s
        .live_nodes()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.info.id.as_str() == "n-long");
    let age = age.expect("long node live").heartbeat_age_ms;
    // No older than the time since we started the beat (plus clock rounding).
    let bound = rebeat_at.elapsed().as_millis() as u64 + 5;
    assert!(age <= bound, "age {age} ms after a beat {bound} ms ago");

    wait_until(
        "n-short to drop out of live_nodes",
        EXPIRY_DEADLINE,
        || async {
            let live = s.live_nodes().await.unwrap();
            !live.iter().any(|n| n.info.id.as_str() == "n-short")
        },
    )
    .await;
    assert!(
        beat_at.elapsed() >= ttl - Duration::from_millis(50),
        "expired early"
    );
    let live = s.live_nodes().await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].info.id.as_str(), "n-long");

    // A node that beats again after expiring is live again.
    s.heartbeat(&short, Duration::from_secs(600)).await.unwrap();
    assert_eq!(s.live_nodes().await.unwrap().len(), 2);
}

async fn deregister_removes_a_node_at_once(h: &mut Harness) {
    let s = h.store();
    let mut draining = node("n-drain");
    s.heartbeat(&draining, Duration::from_secs(600))
        .await
        .unwrap();
    s.heartbeat(&node("n-stay"), Duration::from_secs(600))
        .await
        .unwrap();
    draining.state = "draining".into();
    draining.listeners = 0;
    s.heartbeat(&draining, Duration::from_secs(600))
        .await
        .unwrap();
    let live = s.live_nodes().await.unwrap();
    assert_eq!(live.len(), 2, "a re-beat replaces, not adds");
    assert!(
        live.iter().any(|n| n.info == draining),
        "the latest info is served"
    );

    s.deregister(&draining.id).await.unwrap();
    let live = s.live_nodes().await.unwrap();
    assert_eq!(
        live.iter().map(|n| n.info.id.as_str()).collect::<Vec<_>>(),
        vec!["n-stay"]
    );
    s.deregister(&draining.id).await.unwrap();
    s.deregister(&NodeId::parse("never-seen").unwrap())
        .await
        .unwrap();
}

async fn playlists_crud_and_owner_isolation(h: &mut Harness) {
    let s = h.store();
    let (alice, bob) = (lid("L-pa"), lid("L-pb"));
    let mk = |id: &str, owner: &ListenerId, name: &str, songs: &[&str]| Playlist {
        id: PlaylistId::parse(id).unwrap(),
        owner: owner.clone(),
        name: name.into(),
        songs: songs.iter().map(|x| song(x)).collect(),
        updated_ms: now_ms(),
        public: false,
    };
    let p1 = mk(
        "p1",
        &alice,
        "Morning",
        &["demo-0001", "demo-0002", "demo-0001"],
    );
    let p2 = mk("p2", &alice, "Evening ☾", &[]);
    let bobs = mk("p1", &bob, "Bob's", &["demo-0009"]);
    assert!(s.playlists(&alice).await.unwrap().is_empty());
    s.put_playlist(&p2).await.unwrap();
    s.put_playlist(&p1).await.unwrap();
    s.put_playlist(&bobs).await.unwrap();

    assert_eq!(s.playlist(&alice, &p1.id).await.unwrap(), Some(p1.clone()));
    assert_eq!(
        s.playlists(&alice).await.unwrap(),
        vec![p1.clone(), p2.clone()],
        "ordered by id"
    );
    // Bob's "p1" is his own; Alice's p2 is invisible to him.
    assert_eq!(s.playlist(&bob, &p1.id).await.unwrap(), Some(bobs.clone()));
    assert_eq!(s.playlist(&bob, &p2.id).await.unwrap(), None);
    assert_eq!(s.playlists(&bob).await.unwrap(), vec![bobs.clone()]);

    // Update replaces (the public flag too).
    let renamed = Playlist {
        name: "Mornings".into(),
        songs: vec![song("demo-0003")],
        public: true,
        ..p1.clone()
    };
    s.put_playlist(&renamed).await.unwrap();
    assert_eq!(
        s.playlist(&alice, &p1.id).await.unwrap(),
        Some(renamed.clone())
    );
    assert!(s.playlists(&alice).await.unwrap()[0].public);

    // Delete: only the owner's copy goes; deleting again is NotFound.
    s.delete_playlist(&alice, &p1.id).await.unwrap();
    assert_eq!(s.playlist(&alice, &p1.id).await.unwrap(), None);
    assert!(matches!(
        s.delete_playlist(&alice, &p1.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.delete_playlist(&bob, &p2.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.playlists(&alice).await.unwrap(), vec![p2]);
    assert_eq!(s.playlists(&bob).await.unwrap(), vec![bobs]);
}

fn demo_song(i: usize) -> Song {
    let raw = [
        100.0 + i as f32,
        -14.5,
        2100.25,
        5000.0,
        0.125,
        0.0625,
        3.5,
        9.75,
    ];
    Song {
        id: song(&format!("demo-{i:04}")),
        title: format!("Song {i} — ünïcode"),
        artist: "The Testers".into(),
        album: "Contract".into(),
        genre: ["jazz", "techno", "folk"][i % 3].into(),
        duration_ms: 30_000 + i as u64,
        year: i.is_multiple_of(2).then_some(2026),
        source: if i.is_multiple_of(2) {
            SongSource::Demo {
                master: format!("media/demo-{i:04}.ogg").into(),
                truth: DemoTruth {
                    seed: i as u64,
                    tempo_bpm: 120.5,
                    gain_db: -3.0,
                    key: "C".into(),
                    mode: "minor".into(),
                },
            }
        } else {
            SongSource::Imported {
                path: format!("/music/{i}.flac").into(),
                size: 1234,
                mtime_ms: 99,
            }
        },
        features: Features {
            raw,
            scaled: raw.map(|x| x / 100.0),
        },
        popularity: 0.5,
    }
}

async fn catalog_round_trips_and_replaces(h: &mut Harness) {
    let s = h.store();
    assert!(s.catalog().await.unwrap().is_empty());
    let songs: Vec<Song> = (1..=300).map(demo_song).collect();
    s.put_catalog(&songs).await.unwrap();
    assert_eq!(s.catalog().await.unwrap(), songs);
    let fewer: Vec<Song> = songs[..3].to_vec();
    s.put_catalog(&fewer).await.unwrap();
    assert_eq!(s.catalog().await.unwrap(), fewer, "put replaces");
}

async fn data_survives_a_restart(h: &mut Harness) {
    let l = lid("L-durable");
    let alice = account("L-durable", "durable");
    let node1 = NodeId::parse("n1").unwrap();
    let songs: Vec<Song> = (1..=5).map(demo_song).collect();
    let playlist = Playlist {
        id: PlaylistId::parse("keep").unwrap(),
        owner: l.clone(),
        name: "Keep".into(),
        songs: vec![song("demo-0001")],
        updated_ms: 1,
        public: true,
    };
    let snapshot;
    {
        let s = h.store();
        s.create_account(&alice).await.unwrap();
        for i in 1..=30u64 {
            let it = interaction(
                &format!("dur-client-{i:04}"),
                "demo-0007",
                InteractionKind::Finished,
            );
            assert_eq!(s.append_interaction(&l, &it).await.unwrap().seq, i);
        }
        let epoch = s.acquire_epoch(&l, &node1).await.unwrap();
        snapshot = Snapshot {
            epoch,
            covers_seq: 30,
            bytes: vec![7; 4096],
        };
        s.put_snapshot(&l, &snapshot).await.unwrap();
        s.put_playlist(&playlist).await.unwrap();
        s.put_catalog(&songs).await.unwrap();
        s.put_session(
            &Session {
                token_hash: "dd44".into(),
                listener: l.clone(),
                created_ms: 1,
                epoch: 0,
            },
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    }

    h.restart().await;

    let s = h.store();
    assert_eq!(
        s.account_by_username(&alice.username).await.unwrap(),
        Some(alice)
    );
    assert_eq!(s.last_seq(&l).await.unwrap(), 30);
    assert_eq!(s.read_interactions(&l, 0, 100).await.unwrap().len(), 30);
    assert_eq!(s.current_epoch(&l).await.unwrap(), snapshot.epoch);
    assert_eq!(s.snapshot(&l).await.unwrap(), Some(snapshot.clone()));
    assert_eq!(s.playlists(&l).await.unwrap(), vec![playlist]);
    assert_eq!(s.catalog().await.unwrap(), songs);
    assert!(s.session("dd44").await.unwrap().is_some());
    // Idempotency survives too: a client retrying after the restart gets its seq back.
    let retry = interaction("dur-client-0017", "demo-0007", InteractionKind::Finished);
    assert_eq!(
        s.append_interaction(&l, &retry).await.unwrap(),
        Appended {
            seq: 17,
            duplicate: true
        }
    );
    let next = interaction("dur-client-0031", "demo-0007", InteractionKind::Skipped);
    assert_eq!(
        s.append_interaction(&l, &next).await.unwrap(),
        Appended {
            seq: 31,
            duplicate: false
        }
    );
    // Fencing survives: the epoch counter did not go back.
    assert!(s.acquire_epoch(&l, &node1).await.unwrap() > snapshot.epoch);
}

// ---- listener registry and cluster-wide jobs ------------------------------------

/// A session of epoch 0 for `listener`, stored under `key`, made now.
fn session(key: &str, listener: &str) -> Session {
    Session {
        token_hash: key.into(),
        listener: lid(listener),
        created_ms: now_ms(),
        epoch: 0,
    }
}

fn job(name: &str) -> JobName {
    JobName::parse(name).unwrap()
}

fn holder(name: &str) -> LeaseHolder {
    LeaseHolder::parse(name).unwrap()
}

/// A lease TTL long enough that it cannot lapse during a test step.
const LONG_LEASE: Duration = Duration::from_secs(600);

async fn listener_registry_lists_every_logged_listener_in_pages(h: &mut Harness) {
    let s = h.store();
    assert!(s.listeners(None, 10).await.unwrap().is_empty());
    // Appends register (duplicates and repeat appends do not add twice).
    let names = ["reg-c", "reg-a", "reg-e", "reg-b", "reg-d"];
    for (i, n) in names.iter().enumerate() {
        let it = interaction(
            &format!("reg-client-{i:04}"),
            "demo-0001",
            InteractionKind::Finished,
        );
        s.append_interaction(&lid(n), &it).await.unwrap();
        s.append_interaction(&lid(n), &it).await.unwrap();
    }
    let again = interaction("reg-client-9999", "demo-0002", InteractionKind::Skipped);
    s.append_interaction(&lid("reg-a"), &again).await.unwrap();
    // An account alone (no log) is not a logged listener.
    s.create_account(&account("reg-z", "regz")).await.unwrap();

    let all = s.listeners(None, 100).await.unwrap();
    let want: Vec<ListenerId> = ["reg-a", "reg-b", "reg-c", "reg-d", "reg-e"]
        .iter()
        .map(|n| lid(n))
        .collect();
    assert_eq!(all, want, "in id order, each once");
    // Paging: strictly after the cursor.
    let first = s.listeners(None, 2).await.unwrap();
    assert_eq!(first, want[..2]);
    let second = s.listeners(first.last(), 2).await.unwrap();
    assert_eq!(second, want[2..4]);
    let third = s.listeners(second.last(), 2).await.unwrap();
    assert_eq!(third, want[4..]);
    assert!(s.listeners(third.last(), 2).await.unwrap().is_empty());
    assert!(s.listeners(None, 0).await.unwrap().is_empty());
}

async fn job_lease_has_one_holder_and_new_epochs(h: &mut Harness) {
    let s = h.store();
    let (j, a, b) = (job("cooc-test"), holder("n1/boot-a"), holder("n2/boot-b"));
    let LeaseGrant::Held { epoch: e1 } = s.acquire_job_lease(&j, &a, LONG_LEASE).await.unwrap()
    else {
        panic!("a free lease is taken");
    };
    assert!(e1 >= 1);
    // Renewal by the holder keeps the epoch; anyone else is told who holds it.
    assert_eq!(
        s.acquire_job_lease(&j, &a, LONG_LEASE).await.unwrap(),
        LeaseGrant::Held { epoch: e1 }
    );
    assert_eq!(
        s.acquire_job_lease(&j, &b, LONG_LEASE).await.unwrap(),
        LeaseGrant::Busy {
            holder: a.to_string()
        }
    );
    // Another job is independent.
    assert!(matches!(
        s.acquire_job_lease(&job("other-job"), &b, LONG_LEASE)
            .await
            .unwrap(),
        LeaseGrant::Held { .. }
    ));
    // Releasing with a wrong epoch or holder does nothing; the right one frees it.
    s.release_job_lease(&j, &b, e1).await.unwrap();
    s.release_job_lease(&j, &a, e1 + 1).await.unwrap();
    assert!(matches!(
        s.acquire_job_lease(&j, &b, LONG_LEASE).await.unwrap(),
        LeaseGrant::Busy { .. }
    ));
    s.release_job_lease(&j, &a, e1).await.unwrap();
    let LeaseGrant::Held { epoch: e2 } = s.acquire_job_lease(&j, &b, LONG_LEASE).await.unwrap()
    else {
        panic!("a released lease is free");
    };
    assert!(e2 > e1, "a new holder gets a newer epoch ({e2} after {e1})");

    // Many contenders for a free lease: exactly one wins.
    let j2 = job("contended");
    let mut handles = Vec::new();
    for i in 0..10 {
        let (s, j2) = (s.clone(), j2.clone());
        handles.push(tokio::spawn(async move {
            s.acquire_job_lease(&j2, &holder(&format!("n{i}/x")), LONG_LEASE)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for handle in handles {
        if matches!(handle.await.unwrap(), LeaseGrant::Held { .. }) {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn job_lease_expires_and_passes_on(h: &mut Harness) {
    let s = h.store();
    let (j, a, b) = (job("cooc-expiry"), holder("n1/a"), holder("n2/b"));
    let LeaseGrant::Held { epoch: e1 } = s
        .acquire_job_lease(&j, &a, Duration::from_millis(300))
        .await
        .unwrap()
    else {
        panic!("a free lease is taken");
    };
    // The holder dies (stops renewing): the lease passes on once its TTL runs out.
    let started = Instant::now();
    let mut e2 = None;
    while started.elapsed() < EXPIRY_DEADLINE {
        match s.acquire_job_lease(&j, &b, LONG_LEASE).await.unwrap() {
            LeaseGrant::Held { epoch } => {
                e2 = Some(epoch);
                break;
            }
            LeaseGrant::Busy { holder } => assert_eq!(holder, a.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let e2 = e2.expect("the expired lease passed on before the deadline");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "not before its TTL"
    );
    assert!(e2 > e1);
    // The old holder coming back is now the one refused.
    assert_eq!(
        s.acquire_job_lease(&j, &a, LONG_LEASE).await.unwrap(),
        LeaseGrant::Busy {
            holder: b.to_string()
        }
    );
}

async fn job_state_is_fenced_by_the_lease_epoch(h: &mut Harness) {
    let s = h.store();
    let (j, a, b) = (job("cooc-fence"), holder("n1/a"), holder("n2/b"));
    assert_eq!(s.job_state_field(&j, "top").await.unwrap(), None);
    assert!(s.job_state(&j).await.unwrap().is_empty());
    let LeaseGrant::Held { epoch: old } = s.acquire_job_lease(&j, &a, LONG_LEASE).await.unwrap()
    else {
        panic!("a free lease is taken");
    };
    let first: Vec<JobField> = vec![("top".into(), vec![1, 2, 3]), ("l:alice".into(), vec![4])];
    s.put_job_state(&j, old, &first).await.unwrap();
    assert_eq!(
        s.job_state_field(&j, "top").await.unwrap(),
        Some(vec![1, 2, 3])
    );
    // A later write replaces only its fields.
    s.put_job_state(&j, old, &[("l:bob".into(), vec![5; 300])])
        .await
        .unwrap();
    let all = s.job_state(&j).await.unwrap();
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["l:alice", "l:bob", "top"],
        "every field, in name order"
    );
    assert_eq!(all[1].1, vec![5; 300]);

    // The holder pauses; its lease is given up (as by expiry) and b takes the job.
    s.release_job_lease(&j, &a, old).await.unwrap();
    let LeaseGrant::Held { epoch: new } = s.acquire_job_lease(&j, &b, LONG_LEASE).await.unwrap()
    else {
        panic!("the freed lease is taken");
    };
    assert!(new > old);
    match s.put_job_state(&j, old, &[("top".into(), vec![9])]).await {
        Err(StoreError::Fenced { held, current }) => assert_eq!((held, current), (old, new)),
        other => panic!("expected Fenced, got {other:?}"),
    }
    assert!(matches!(
        s.put_job_state(&j, new + 3, &[("top".into(), vec![9])])
            .await,
        Err(StoreError::Fenced { .. })
    ));
    assert_eq!(
        s.job_state_field(&j, "top").await.unwrap(),
        Some(vec![1, 2, 3]),
        "a fenced write wrote nothing"
    );
    s.put_job_state(&j, new, &[("top".into(), vec![7, 7])])
        .await
        .unwrap();
    assert_eq!(
        s.job_state_field(&j, "top").await.unwrap(),
        Some(vec![7, 7])
    );
    // Jobs do not see each other's state.
    assert!(s
        .job_state(&job("cooc-elsewhere"))
        .await
        .unwrap()
        .is_empty());
}

async fn job_state_survives_a_restart(h: &mut Harness) {
    let (j, a) = (job("cooc-durable"), holder("n1/a"));
    let epoch;
    {
        let s = h.store();
        let it = interaction("jobdur-client-1", "demo-0001", InteractionKind::Liked);
        s.append_interaction(&lid("jobdur-l"), &it).await.unwrap();
        let LeaseGrant::Held { epoch: e } = s.acquire_job_lease(&j, &a, LONG_LEASE).await.unwrap()
        else {
            panic!("a free lease is taken");
        };
        epoch = e;
        s.put_job_state(&j, epoch, &[("top".into(), vec![3; 64])])
            .await
            .unwrap();
    }
    h.restart().await;
    let s = h.store();
    assert_eq!(
        s.job_state_field(&j, "top").await.unwrap(),
        Some(vec![3; 64])
    );
    assert_eq!(s.listeners(None, 10).await.unwrap(), vec![lid("jobdur-l")]);
    // The holder's lease and its epoch survive: it can still write; nobody else
    // gets the job while the lease holds.
    assert_eq!(
        s.acquire_job_lease(&j, &a, LONG_LEASE).await.unwrap(),
        LeaseGrant::Held { epoch }
    );
    assert!(matches!(
        s.acquire_job_lease(&j, &holder("n2/b"), LONG_LEASE)
            .await
            .unwrap(),
        LeaseGrant::Busy { .. }
    ));
}

// ---- Subsonic apps ----------------------------------------------------------------

async fn api_keys_are_found_by_hash_listed_and_revoked(h: &mut Harness) {
    let s = h.store();
    let (alice, bob) = (lid("L-ka"), lid("L-kb"));
    let mk = |id: &str, owner: &ListenerId, hash: &str| ApiKey {
        id: id.into(),
        listener: owner.clone(),
        hash: hash.into(),
        name: format!("key {id}"),
        created_ms: 7,
    };
    let (k2, k1, kb) = (
        mk("k2", &alice, "h2"),
        mk("k1", &alice, "h1"),
        mk("k1", &bob, "hb"),
    );
    assert_eq!(s.api_key("h1").await.unwrap(), None);
    assert!(s.api_keys(&alice).await.unwrap().is_empty());
    for k in [&k2, &k1, &kb] {
        s.put_api_key(k).await.unwrap();
    }
    assert_eq!(s.api_key("h1").await.unwrap(), Some(k1.clone()));
    assert_eq!(s.api_key("hb").await.unwrap(), Some(kb.clone()));
    assert_eq!(
        s.api_keys(&alice).await.unwrap(),
        vec![k1.clone(), k2.clone()],
        "id order"
    );
    assert_eq!(s.api_keys(&bob).await.unwrap(), vec![kb.clone()]);
    // Revoking is per owner: Bob's "k1" stays when Alice revokes hers.
    assert!(s.delete_api_key(&alice, "k1").await.unwrap());
    assert!(
        !s.delete_api_key(&alice, "k1").await.unwrap(),
        "already gone"
    );
    assert_eq!(
        s.api_key("h1").await.unwrap(),
        None,
        "a revoked key no longer authenticates"
    );
    assert_eq!(s.api_keys(&alice).await.unwrap(), vec![k2]);
    assert_eq!(s.api_key("hb").await.unwrap(), Some(kb));
}

async fn app_fields_set_replace_delete_and_survive_a_restart(h: &mut Harness) {
    let (alice, bob) = (lid("L-fa"), lid("L-fb"));
    {
        let s = h.store();
        assert_eq!(s.app_field(&alice, "queue").await.unwrap(), None);
        s.put_app_field(&alice, "queue", Some(b"one"))
            .await
            .unwrap();
        s.put_app_field(&alice, "queue", Some(b"two"))
            .await
            .unwrap();
        s.put_app_field(&alice, "secret", Some(&[0, 255, 1]))
            .await
            .unwrap();
        s.put_app_field(&bob, "queue", Some(b"bob")).await.unwrap();
        assert_eq!(
            s.app_field(&alice, "queue").await.unwrap(),
            Some(b"two".to_vec())
        );
        s.put_app_field(&alice, "secret", None).await.unwrap();
        assert_eq!(s.app_field(&alice, "secret").await.unwrap(), None);
        s.put_app_field(&alice, "never-set", None).await.unwrap();
        s.put_api_key(&ApiKey {
            id: "kr".into(),
            listener: alice.clone(),
            hash: "hr".into(),
            name: "kept".into(),
            created_ms: 1,
        })
        .await
        .unwrap();
    }
    h.restart().await;
    let s = h.store();
    assert_eq!(
        s.app_field(&alice, "queue").await.unwrap(),
        Some(b"two".to_vec())
    );
    assert_eq!(
        s.app_field(&bob, "queue").await.unwrap(),
        Some(b"bob".to_vec())
    );
    assert_eq!(
        s.api_key("hr").await.unwrap().map(|k| k.id),
        Some("kr".to_owned())
    );
}

// ---- social graph, privacy and activity (issue 17) --------------------------------

/// Waits until the millisecond clock moves on, so the next write's time is later
/// than the last one's (lists are ordered by time).
async fn next_ms() {
    let start = now_ms();
    wait_until("the clock moves on", Duration::from_secs(1), || async {
        now_ms() > start
    })
    .await;
}

async fn a_block_refuses_follows_and_removes_them_both_ways(h: &mut Harness) {
    let s = h.store();
    let (a, b, c) = (lid("L-ba"), lid("L-bb"), lid("L-bc"));
    assert_eq!(s.follow(&a, &b).await.unwrap(), FollowOutcome::Followed);
    assert_eq!(s.follow(&b, &a).await.unwrap(), FollowOutcome::Followed);
    assert_eq!(s.follow(&c, &b).await.unwrap(), FollowOutcome::Followed);
    s.block(&b, &a).await.unwrap();
    assert!(s.is_blocked(&b, &a).await.unwrap());
    assert!(!s.is_blocked(&a, &b).await.unwrap(), "a block is one way");
    assert_eq!(s.blocked(&b, 10).await.unwrap(), vec![a.clone()]);
    assert!(s.following(&a, 10).await.unwrap().is_empty());
    assert!(s.following(&b, 10).await.unwrap().is_empty());
    assert!(s.followers(&a, 10).await.unwrap().is_empty());
    assert_eq!(
        s.followers(&b, 10).await.unwrap(),
        vec![c.clone()],
        "others' follows stay"
    );
    assert_eq!(s.follow(&a, &b).await.unwrap(), FollowOutcome::Blocked);
    assert!(
        s.following(&a, 10).await.unwrap().is_empty(),
        "nothing written"
    );
    assert_eq!(s.followers(&b, 10).await.unwrap(), vec![c.clone()]);
    s.unblock(&b, &a).await.unwrap();
    assert!(!s.is_blocked(&b, &a).await.unwrap());
    assert!(s.blocked(&b, 10).await.unwrap().is_empty());
    assert_eq!(s.follow(&a, &b).await.unwrap(), FollowOutcome::Followed);
    assert_eq!(s.following(&a, 10).await.unwrap(), vec![b.clone()]);
}

async fn follows_are_one_way_newest_first_bounded_and_idempotent(h: &mut Harness) {
    let s = h.store();
    let (a, b, c, d) = (lid("L-fa"), lid("L-fb"), lid("L-fc"), lid("L-fd"));
    assert!(s.following(&a, 10).await.unwrap().is_empty());
    for followee in [&b, &c, &d] {
        assert_eq!(
            s.follow(&a, followee).await.unwrap(),
            FollowOutcome::Followed
        );
        next_ms().await;
    }
    assert_eq!(
        s.following(&a, 10).await.unwrap(),
        vec![d.clone(), c.clone(), b.clone()],
        "newest first"
    );
    assert_eq!(
        s.following(&a, 2).await.unwrap(),
        vec![d.clone(), c.clone()],
        "bounded"
    );
    assert!(s.following(&a, 0).await.unwrap().is_empty());
    assert_eq!(s.followers(&b, 10).await.unwrap(), vec![a.clone()]);
    assert!(s.following(&b, 10).await.unwrap().is_empty(), "one way");
    assert!(s.followers(&a, 10).await.unwrap().is_empty());
    // Following again keeps the first time: b stays the oldest.
    assert_eq!(s.follow(&a, &b).await.unwrap(), FollowOutcome::Followed);
    assert_eq!(
        s.following(&a, 10).await.unwrap(),
        vec![d.clone(), c.clone(), b.clone()]
    );
    s.unfollow(&a, &c).await.unwrap();
    s.unfollow(&a, &c).await.unwrap();
    assert_eq!(
        s.following(&a, 10).await.unwrap(),
        vec![d.clone(), b.clone()]
    );
    assert!(s.followers(&c, 10).await.unwrap().is_empty(), "both sides");
    // Many followers of one listener: bounded reads, newest first.
    for i in 0..30 {
        s.follow(&lid(&format!("L-fan{i:02}")), &d).await.unwrap();
    }
    next_ms().await;
    s.follow(&lid("L-fan-last"), &d).await.unwrap();
    let fans = s.followers(&d, 5).await.unwrap();
    assert_eq!(fans.len(), 5);
    assert_eq!(fans[0], lid("L-fan-last"));
    assert_eq!(s.followers(&d, 100).await.unwrap().len(), 32);
}

async fn privacy_shares_nothing_until_set(h: &mut Harness) {
    let s = h.store();
    let a = lid("L-pa");
    assert_eq!(s.privacy(&a).await.unwrap(), Privacy::default());
    assert!(!Privacy::default().share_activity);
    let p = Privacy {
        share_activity: true,
        private_session_until_ms: Some(now_ms() + 60_000),
    };
    s.set_privacy(&a, &p).await.unwrap();
    assert_eq!(s.privacy(&a).await.unwrap(), p);
    let ended = Privacy {
        share_activity: true,
        private_session_until_ms: None,
    };
    s.set_privacy(&a, &ended).await.unwrap();
    assert_eq!(s.privacy(&a).await.unwrap(), ended);
    assert_eq!(s.privacy(&lid("L-pb")).await.unwrap(), Privacy::default());
}

fn entry(song_id: &str, kind: ActivityKind, at_ms: u64) -> ActivityEntry {
    ActivityEntry {
        song_id: song(song_id),
        kind,
        at_ms,
    }
}

/// Sharing, in a private session that ends at `until_ms`.
fn private_session_until(until_ms: u64) -> Privacy {
    Privacy {
        share_activity: true,
        private_session_until_ms: Some(until_ms),
    }
}

fn sharing() -> Privacy {
    Privacy {
        share_activity: true,
        private_session_until_ms: None,
    }
}

async fn an_append_shares_its_activity_in_the_same_step_only_when_new(h: &mut Harness) {
    let s = h.store();
    let a = lid("L-as");
    let t = now_ms();
    let fin = |id: &str, song_id: &str| interaction(id, song_id, InteractionKind::Finished);
    let e1 = entry("demo-0001", ActivityKind::Finished, t);
    // Not sharing: logged and registered, nothing shared.
    let (first, shared) = s
        .append_and_share(&a, &fin("share-0001", "demo-0001"), &e1)
        .await
        .unwrap();
    assert_eq!((first.seq, first.duplicate, shared), (1, false, false));
    assert!(s.activity(&a, 10).await.unwrap().is_empty());
    assert_eq!(s.listeners(None, 1000).await.unwrap(), vec![a.clone()]);
    // Sharing: logged and shared.
    s.set_privacy(&a, &sharing()).await.unwrap();
    let e2 = entry("demo-0002", ActivityKind::Liked, t + 1);
    let (second, shared) = s
        .append_and_share(&a, &fin("share-0002", "demo-0002"), &e2)
        .await
        .unwrap();
    assert_eq!((second.seq, second.duplicate, shared), (2, false, true));
    assert_eq!(s.activity(&a, 10).await.unwrap(), vec![e2.clone()]);
    // A retry of a logged id writes nothing and shares nothing again.
    let e3 = entry("demo-0002", ActivityKind::Liked, t + 2);
    let (again, shared) = s
        .append_and_share(&a, &fin("share-0002", "demo-0002"), &e3)
        .await
        .unwrap();
    assert_eq!((again.seq, again.duplicate, shared), (2, true, false));
    assert_eq!(s.activity(&a, 10).await.unwrap(), vec![e2.clone()]);
    // A private session: logged, not shared.
    s.set_privacy(&a, &private_session_until(t + 100))
        .await
        .unwrap();
    let e4 = entry("demo-0003", ActivityKind::Finished, t + 50);
    let (third, shared) = s
        .append_and_share(&a, &fin("share-0003", "demo-0003"), &e4)
        .await
        .unwrap();
    assert_eq!((third.seq, shared), (3, false));
    assert_eq!(s.activity(&a, 10).await.unwrap(), vec![e2]);
    let logged = s.read_interactions(&a, 0, 10).await.unwrap();
    assert_eq!(
        logged.iter().map(|l| l.seq).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "every new entry is in the log, shared or not"
    );
}

async fn a_checked_append_writes_only_for_a_session_that_signs_in(h: &mut Harness) {
    let s = h.store();
    let a = account("L-ck", "checked");
    s.create_account(&a).await.unwrap();
    let ttl = Duration::from_secs(600);
    let fin = |id: &str| interaction(id, "demo-0001", InteractionKind::Finished);
    let logged = |s: SharedStore, l: &'static str| async move {
        let entries = s.read_interactions(&lid(l), 0, 100).await.unwrap();
        entries
            .iter()
            .map(|e| e.interaction.id.to_string())
            .collect::<Vec<_>>()
    };
    // A key naming its listener (one script on Redis) and an older one (two steps).
    for (n, key) in [(1, "L-ck.aa11"), (2, "bb22")] {
        s.put_session(&session(key, "L-ck"), ttl).await.unwrap();
        let id = format!("check-000{n}");
        let done = s.append_checked(key, &fin(&id), None).await.unwrap();
        assert_eq!(done.check, s.session_check(key).await.unwrap(), "{key}");
        assert!(done.check.as_ref().is_some_and(SessionCheck::signs_in));
        let appended = Appended {
            seq: n,
            duplicate: false,
        };
        assert_eq!(done.appended, Some((appended, false)), "{key}");
        // A retry is a duplicate, as with `append_interaction`.
        let again = s.append_checked(key, &fin(&id), None).await.unwrap();
        let dup = Appended {
            seq: n,
            duplicate: true,
        };
        assert_eq!(again.appended, Some((dup, false)), "{key}");
    }
    assert_eq!(
        logged(s.clone(), "L-ck").await,
        vec!["check-0001", "check-0002"]
    );
    assert_eq!(s.listeners(None, 1000).await.unwrap(), vec![lid("L-ck")]);
    // Sharing in the same step, as `append_and_share`.
    s.set_privacy(&lid("L-ck"), &sharing()).await.unwrap();
    let e = entry("demo-0001", ActivityKind::Finished, now_ms());
    let done = s
        .append_checked("L-ck.aa11", &fin("check-0003"), Some(&e))
        .await
        .unwrap();
    let third = Appended {
        seq: 3,
        duplicate: false,
    };
    assert_eq!(done.appended, Some((third, true)));
    assert_eq!(s.activity(&lid("L-ck"), 10).await.unwrap(), vec![e.clone()]);
    // Logged out everywhere: the check reads the raised epoch and nothing is written.
    s.revoke_sessions(&a.id, None).await.unwrap();
    for key in ["L-ck.aa11", "bb22"] {
        let done = s
            .append_checked(key, &fin("check-0004"), Some(&e))
            .await
            .unwrap();
        assert_eq!(done.appended, None, "{key}");
        let check = done.check.unwrap();
        assert_eq!(check.account.map(|a| a.session_epoch), Some(1));
        assert_eq!(check.session.epoch, 0);
    }
    // A session made after the revocation signs in again.
    let fresh = Session {
        epoch: 1,
        ..session("L-ck.cc33", "L-ck")
    };
    s.put_session(&fresh, ttl).await.unwrap();
    let done = s
        .append_checked("L-ck.cc33", &fin("check-0005"), None)
        .await
        .unwrap();
    assert_eq!(done.appended.map(|(a, _)| a.seq), Some(4));
    // No such session; a session whose account is gone.
    let none = s
        .append_checked("L-ck.0000", &fin("check-0006"), None)
        .await
        .unwrap();
    assert_eq!(
        none,
        CheckedAppend {
            check: None,
            appended: None
        }
    );
    s.put_session(&session("L-gone.dd44", "L-gone"), ttl)
        .await
        .unwrap();
    let gone = s
        .append_checked("L-gone.dd44", &fin("check-0007"), None)
        .await
        .unwrap();
    assert_eq!(gone.appended, None);
    assert_eq!(gone.check.map(|c| c.account), Some(None));
    assert!(logged(s.clone(), "L-gone").await.is_empty());
    // A record naming another listener than its key is refused, not trusted.
    s.put_session(&session("L-ck.ee55", "L-gone"), ttl)
        .await
        .unwrap();
    assert!(matches!(
        s.append_checked("L-ck.ee55", &fin("check-0008"), None)
            .await,
        Err(StoreError::Corrupt(_))
    ));
    // A deleted session (logged out) writes nothing either.
    s.delete_session("L-ck.cc33").await.unwrap();
    let out = s
        .append_checked("L-ck.cc33", &fin("check-0009"), None)
        .await
        .unwrap();
    assert_eq!(out.appended, None);
    assert_eq!(
        logged(s.clone(), "L-ck").await,
        vec!["check-0001", "check-0002", "check-0003", "check-0005"],
        "only appends from sessions that signed in are in the log"
    );
    assert_eq!(s.activity(&lid("L-ck"), 10).await.unwrap(), vec![e]);
}

async fn activity_is_recorded_only_while_shared_capped_and_newest_first(h: &mut Harness) {
    let s = h.store();
    let a = lid("L-aa");
    let t = now_ms();
    let first = entry("demo-0001", ActivityKind::Playing, t);
    assert!(
        !s.push_activity(&a, &first).await.unwrap(),
        "not shared yet"
    );
    assert!(s.activity(&a, 10).await.unwrap().is_empty());
    s.set_privacy(&a, &sharing()).await.unwrap();
    assert!(s.push_activity(&a, &first).await.unwrap());
    let second = entry("demo-0001", ActivityKind::Finished, t + 1);
    assert!(s.push_activity(&a, &second).await.unwrap());
    assert!(
        s.push_activity(&a, &second).await.unwrap(),
        "a retry is fine"
    );
    assert_eq!(
        s.activity(&a, 10).await.unwrap(),
        vec![second.clone(), first.clone()],
        "newest first, a retry not twice"
    );
    // A private session records nothing until it ends.
    s.set_privacy(&a, &private_session_until(t + 100))
        .await
        .unwrap();
    let hidden = entry("demo-0002", ActivityKind::Liked, t + 50);
    assert!(!s.push_activity(&a, &hidden).await.unwrap());
    let after = entry("demo-0003", ActivityKind::Liked, t + 100);
    assert!(s.push_activity(&a, &after).await.unwrap());
    assert_eq!(s.activity(&a, 10).await.unwrap()[0], after);
    // Capped: the newest ACTIVITY_CAP stay.
    let total = ACTIVITY_CAP + 7;
    for i in 0..total {
        let e = entry(
            &format!("demo-{i:04}"),
            ActivityKind::Finished,
            t + 200 + i as u64,
        );
        assert!(s.push_activity(&a, &e).await.unwrap());
    }
    let all = s.activity(&a, 10 * ACTIVITY_CAP).await.unwrap();
    assert_eq!(all.len(), ACTIVITY_CAP);
    assert_eq!(all[0].song_id, song(&format!("demo-{:04}", total - 1)));
    assert_eq!(
        all[ACTIVITY_CAP - 1].song_id,
        song(&format!("demo-{:04}", total - ACTIVITY_CAP))
    );
    assert_eq!(s.activity(&a, 3).await.unwrap(), all[..3].to_vec());
    assert!(s.activity(&a, 0).await.unwrap().is_empty());
    assert!(s.activity(&lid("L-ab"), 10).await.unwrap().is_empty());
}

async fn visible_activity_hides_non_sharers_and_blocked_viewers(h: &mut Harness) {
    let s = h.store();
    let (owner, friend, foe) = (lid("L-va"), lid("L-vb"), lid("L-vc"));
    s.set_privacy(&owner, &sharing()).await.unwrap();
    let e = entry("demo-0007", ActivityKind::Playing, now_ms());
    assert!(s.push_activity(&owner, &e).await.unwrap());
    assert_eq!(
        s.visible_activity(&owner, &friend, 10).await.unwrap(),
        vec![e.clone()]
    );
    s.block(&owner, &foe).await.unwrap();
    assert!(s
        .visible_activity(&owner, &foe, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.visible_activity(&owner, &friend, 10).await.unwrap().len(),
        1
    );
    s.set_privacy(&owner, &Privacy::default()).await.unwrap();
    assert!(
        s.visible_activity(&owner, &friend, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing while not sharing"
    );
    assert_eq!(
        s.activity(&owner, 10).await.unwrap(),
        vec![e],
        "the owner still sees its own"
    );
}

async fn the_social_graph_and_activity_survive_a_restart(h: &mut Harness) {
    let (a, b, c) = (lid("L-ra"), lid("L-rb"), lid("L-rc"));
    let e = entry("demo-0009", ActivityKind::Finished, now_ms());
    {
        let s = h.store();
        s.follow(&a, &b).await.unwrap();
        s.block(&b, &c).await.unwrap();
        s.set_privacy(&b, &sharing()).await.unwrap();
        assert!(s.push_activity(&b, &e).await.unwrap());
    }
    h.restart().await;
    let s = h.store();
    assert_eq!(s.following(&a, 10).await.unwrap(), vec![b.clone()]);
    assert_eq!(s.followers(&b, 10).await.unwrap(), vec![a.clone()]);
    assert!(s.is_blocked(&b, &c).await.unwrap());
    assert_eq!(s.privacy(&b).await.unwrap(), sharing());
    assert_eq!(s.visible_activity(&b, &a, 10).await.unwrap(), vec![e]);
}

fn dname(s: &str) -> DisplayName {
    DisplayName::parse(s).expect("display name")
}

async fn people_are_found_by_a_prefix_of_username_or_display_name(h: &mut Harness) {
    let s = h.store();
    let (ann, anna, bob) = (
        account("L-ppa", "ann.k"),
        account("L-ppb", "annabel"),
        account("L-ppc", "bobby"),
    );
    for a in [&ann, &anna, &bob] {
        s.create_account(a).await.unwrap();
    }
    assert_eq!(s.display_name(&ann.id).await.unwrap(), None);
    // Every account is findable by a prefix of its username from sign-up on.
    assert_eq!(
        s.find_people("ann", 10).await.unwrap(),
        vec![ann.id.clone(), anna.id.clone()],
        "key order: ann.k < annabel"
    );
    assert_eq!(
        s.find_people("annab", 10).await.unwrap(),
        vec![anna.id.clone()]
    );
    assert_eq!(
        s.find_people("bobby", 10).await.unwrap(),
        vec![bob.id.clone()]
    );
    assert!(s.find_people("bobbyx", 10).await.unwrap().is_empty());
    assert!(
        s.find_people("", 10).await.unwrap().is_empty(),
        "no listing"
    );
    assert!(s.find_people("ann", 0).await.unwrap().is_empty());
    assert_eq!(s.find_people("ann", 1).await.unwrap(), vec![ann.id.clone()]);
    // A display name: found by its start and by a later word's, any case (keys are
    // lowercase; callers normalize queries), each listener once.
    s.set_display_name(&bob.id, Some(&dname("Zoë Ann Quist")))
        .await
        .unwrap();
    assert_eq!(
        s.display_name(&bob.id).await.unwrap(),
        Some(dname("Zoë Ann Quist"))
    );
    assert_eq!(
        s.find_people("zoë", 10).await.unwrap(),
        vec![bob.id.clone()]
    );
    assert_eq!(
        s.find_people("zoë ann q", 10).await.unwrap(),
        vec![bob.id.clone()]
    );
    assert_eq!(
        s.find_people("quis", 10).await.unwrap(),
        vec![bob.id.clone()]
    );
    assert_eq!(
        s.find_people("ann", 10).await.unwrap(),
        vec![bob.id.clone(), ann.id.clone(), anna.id.clone()],
        "\"ann quist\" sorts before \"ann.k\""
    );
    s.set_display_name(&anna.id, Some(&dname("Annabel Lee")))
        .await
        .unwrap();
    let found = s.find_people("annabel", 10).await.unwrap();
    assert_eq!(
        found,
        vec![anna.id.clone()],
        "username and display name: once"
    );
}

async fn display_names_change_their_index_keys_and_need_an_account(h: &mut Harness) {
    let s = h.store();
    let a = account("L-pda", "carla");
    s.create_account(&a).await.unwrap();
    s.set_display_name(&a.id, Some(&dname("Old Name")))
        .await
        .unwrap();
    assert_eq!(s.find_people("old", 10).await.unwrap(), vec![a.id.clone()]);
    s.set_display_name(&a.id, Some(&dname("New Name")))
        .await
        .unwrap();
    assert!(
        s.find_people("old", 10).await.unwrap().is_empty(),
        "old keys gone"
    );
    assert_eq!(
        s.find_people("new n", 10).await.unwrap(),
        vec![a.id.clone()]
    );
    assert_eq!(
        s.find_people("name", 10).await.unwrap(),
        vec![a.id.clone()],
        "a later word kept across the change"
    );
    // Clearing goes back to the username, which stays findable.
    s.set_display_name(&a.id, None).await.unwrap();
    assert_eq!(s.display_name(&a.id).await.unwrap(), None);
    assert!(s.find_people("new", 10).await.unwrap().is_empty());
    assert_eq!(s.find_people("carl", 10).await.unwrap(), vec![a.id.clone()]);
    // A display name equal to the username keeps the username's key when cleared.
    s.set_display_name(&a.id, Some(&dname("CARLA")))
        .await
        .unwrap();
    s.set_display_name(&a.id, None).await.unwrap();
    assert_eq!(
        s.find_people("carla", 10).await.unwrap(),
        vec![a.id.clone()]
    );
    // No account: NotFound, nothing indexed.
    let ghost = lid("L-pd-ghost");
    assert!(matches!(
        s.set_display_name(&ghost, Some(&dname("Ghost"))).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(s.find_people("ghost", 10).await.unwrap().is_empty());
    // A failed sign-up (name taken) leaves no findable entry.
    let dup = account("L-pd-dup", "carla");
    assert!(matches!(
        s.create_account(&dup).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.find_people("carla", 10).await.unwrap(),
        vec![a.id.clone()]
    );
}

async fn people_search_reads_a_bounded_range(h: &mut Harness) {
    let s = h.store();
    for i in 0..40 {
        s.create_account(&account(&format!("L-pb{i:02}"), &format!("crowd{i:02}")))
            .await
            .unwrap();
    }
    let outsider = account("L-pb-out", "dave");
    s.create_account(&outsider).await.unwrap();
    let few = s.find_people("crowd", 5).await.unwrap();
    assert_eq!(
        few,
        (0..5)
            .map(|i| lid(&format!("L-pb{i:02}")))
            .collect::<Vec<_>>(),
        "the first five in key order"
    );
    assert_eq!(s.find_people("crowd3", 100).await.unwrap().len(), 10);
    assert_eq!(s.find_people("crowd", 100).await.unwrap().len(), 40);
    assert_eq!(s.find_people("dave", 100).await.unwrap(), vec![outsider.id]);
}

async fn display_names_and_the_people_index_survive_a_restart(h: &mut Harness) {
    let a = account("L-pr", "erin");
    {
        let s = h.store();
        s.create_account(&a).await.unwrap();
        s.set_display_name(&a.id, Some(&dname("Erin Wolf")))
            .await
            .unwrap();
    }
    h.restart().await;
    let s = h.store();
    assert_eq!(
        s.display_name(&a.id).await.unwrap(),
        Some(dname("Erin Wolf"))
    );
    assert_eq!(s.find_people("wolf", 10).await.unwrap(), vec![a.id.clone()]);
    assert_eq!(s.find_people("eri", 10).await.unwrap(), vec![a.id]);
}
