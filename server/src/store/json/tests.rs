//! Two stores on one folder behave like two processes: each has its own lock handle.

use std::fs::OpenOptions;
use std::io::Write;

use tokenlife_core::TokenRecord;

use super::*;
use crate::store::{ImportedUser, NewUser, Op, PasswordRecord, Store, StoreError};

struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path =
            std::env::temp_dir().join(format!("tokenlife-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Folder(path)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn record(description: &str, exp: i64) -> TokenRecord {
    TokenRecord {
        jwt_token_description: description.into(),
        jwt_token_life: 3600,
        iat: exp - 3600,
        exp,
        fingerprint: "00".repeat(32),
        jwt_token_endpoints: None,
        jwt_token_origin: None,
        jwt_token_last_used: None,
        jwt_token_last_used_from: None,
        kid: None,
    }
}

fn user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        password: PasswordRecord::Phc("x".into()),
        is_admin: false,
    }
}

fn far() -> i64 {
    crate::clock::now_secs() + 3600
}

#[tokio::test(flavor = "multi_thread")]
async fn two_stores_see_each_other_through_appends_and_compactions() {
    let folder = Folder::new("two");
    let a = JsonStore::open(&folder.0).expect("open a");
    let b = JsonStore::open(&folder.0).expect("open b");
    // 5,000 tokens in one change: well past the compaction threshold.
    let tokens = (0..5000)
        .map(|i| (format!("id{i}"), record(&format!("d{i}"), far())))
        .collect();
    a.apply(Op::Import(vec![ImportedUser {
        user: user("u"),
        tokens,
    }]))
    .await
    .expect("import");
    assert_eq!(b.tokens("u").await.expect("tokens").len(), 5000);

    let create = |id: &str, description: &str| Op::CreateToken {
        user: "u".into(),
        id: id.into(),
        record: record(description, far()),
        max_tokens: None,
    };
    assert!(b.apply(create("from-b", "new")).await.expect("create"));
    assert!(a.token("u", "from-b").await.expect("token").is_some());
    assert_eq!(
        a.apply(create("again", "new")).await,
        Err(StoreError::DuplicateDescription)
    );
    assert_eq!(
        a.apply(create("dup", "d7")).await,
        Err(StoreError::DuplicateDescription)
    );

    assert!(
        a.apply(Op::DeleteToken {
            user: "u".into(),
            id: "from-b".into(),
            now: 0
        })
        .await
        .expect("delete")
    );
    assert!(b.token("u", "from-b").await.expect("token").is_none());
    assert!(
        b.is_revoked("from-b", crate::clock::now_secs())
            .await
            .expect("revoked")
    );
    assert!(
        !b.apply(Op::DeleteToken {
            user: "u".into(),
            id: "from-b".into(),
            now: 0
        })
        .await
        .expect("delete")
    );

    // A compaction by b is seen by a, and nothing is doubled or lost.
    b.checkpoint_at(crate::clock::now_secs()).expect("compact");
    assert_eq!(a.tokens("u").await.expect("tokens").len(), 5000);
    a.close();
    b.close();
    assert!(
        folder.0.join(USERS_FILE).exists(),
        "the journal was compacted into users.json"
    );
    assert!(
        !folder.0.join(OLD_JOURNAL_FILE).exists(),
        "the compaction finished"
    );
    let c = JsonStore::open(&folder.0).expect("reopen");
    assert_eq!(c.tokens("u").await.expect("tokens").len(), 5000);
    assert!(
        c.is_revoked("from-b", crate::clock::now_secs())
            .await
            .expect("revoked")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_torn_last_line_is_cut_off_and_the_rest_kept() {
    let folder = Folder::new("torn");
    let store = JsonStore::open(&folder.0).expect("open");
    store.apply(Op::AddUser(user("u"))).await.expect("add");
    store.close();
    let journal = folder.0.join(JOURNAL_FILE);
    let whole = std::fs::metadata(&journal).expect("journal").len();
    let mut file = OpenOptions::new()
        .append(true)
        .open(&journal)
        .expect("open");
    file.write_all(br#"{"op":"put_token","user":"u","id":"x","tok"#)
        .expect("write");
    drop(file);
    let store = JsonStore::open(&folder.0).expect("reopen");
    assert_eq!(std::fs::metadata(&journal).expect("journal").len(), whole);
    assert!(store.password("u").await.expect("password").is_some());
    store
        .apply(Op::CreateToken {
            user: "u".into(),
            id: "y".into(),
            record: record("d", far()),
            max_tokens: None,
        })
        .await
        .expect("create");
    store.close();
    let store = JsonStore::open(&folder.0).expect("reopen");
    assert!(store.token("u", "y").await.expect("token").is_some());
}

#[test]
fn a_corrupt_journal_line_names_the_file() {
    let folder = Folder::new("corrupt");
    std::fs::create_dir_all(&folder.0).expect("mkdir");
    std::fs::write(folder.0.join(USERS_FILE), "[]").expect("write");
    std::fs::write(
        folder.0.join(JOURNAL_FILE),
        "{\"op\":\"nonsense\"}\n{\"op\":\"compacted\"}\n",
    )
    .expect("write");
    match JsonStore::open(&folder.0) {
        Err(StoreError::Corrupt(message)) => assert!(message.contains(JOURNAL_FILE), "{message}"),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a corrupt journal was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_user_revokes_their_live_tokens() {
    let folder = Folder::new("remove");
    let store = JsonStore::open(&folder.0).expect("open");
    store.apply(Op::AddUser(user("u"))).await.expect("add");
    let live = far();
    for (id, exp) in [("live", live), ("dead", 10)] {
        let op = Op::CreateToken {
            user: "u".into(),
            id: id.into(),
            record: record(id, exp),
            max_tokens: None,
        };
        store.apply(op).await.expect("create");
    }
    let now = crate::clock::now_secs();
    store
        .apply(Op::RemoveUser {
            username: "u".into(),
            now,
        })
        .await
        .expect("remove");
    assert_eq!(
        store.revoked(now).await.expect("revoked"),
        vec![("live".to_string(), live)]
    );
    assert_eq!(
        store
            .apply(Op::RemoveUser {
                username: "u".into(),
                now
            })
            .await,
        Err(StoreError::UnknownUser)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_writers_torn_line_is_cut_before_another_process_appends() {
    let folder = Folder::new("dead-writer");
    let a = JsonStore::open(&folder.0).expect("open a");
    a.apply(Op::AddUser(user("u"))).await.expect("add");
    // Another process died in the middle of its append.
    let mut file = OpenOptions::new()
        .append(true)
        .open(folder.0.join(JOURNAL_FILE))
        .expect("open");
    file.write_all(br#"{"op":"put_token","user":"u","#)
        .expect("write");
    drop(file);
    assert!(a.password("u").await.expect("read").is_some());
    let op = Op::CreateToken {
        user: "u".into(),
        id: "after".into(),
        record: record("d", far()),
        max_tokens: None,
    };
    a.apply(op).await.expect("create");
    a.close();
    let b = JsonStore::open(&folder.0).expect("the journal is still readable");
    assert!(b.token("u", "after").await.expect("token").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unfinished_compaction_loses_nothing() {
    let folder = Folder::new("unfinished");
    let store = JsonStore::open(&folder.0).expect("open");
    store.apply(Op::AddUser(user("u"))).await.expect("add");
    let op = Op::CreateToken {
        user: "u".into(),
        id: "old".into(),
        record: record("a", far()),
        max_tokens: None,
    };
    store.apply(op).await.expect("create");
    store.close();
    // A compaction that set the journal aside and died before writing the snapshot.
    std::fs::rename(folder.0.join(JOURNAL_FILE), folder.0.join(OLD_JOURNAL_FILE)).expect("rename");
    let store = JsonStore::open(&folder.0).expect("reopen");
    assert!(store.token("u", "old").await.expect("token").is_some());
    let op = Op::CreateToken {
        user: "u".into(),
        id: "new".into(),
        record: record("b", far()),
        max_tokens: None,
    };
    store.apply(op).await.expect("create");
    store
        .checkpoint_at(crate::clock::now_secs())
        .expect("compact");
    store.close();
    assert!(!folder.0.join(OLD_JOURNAL_FILE).exists());
    let store = JsonStore::open(&folder.0).expect("reopen");
    assert_eq!(store.tokens("u").await.expect("tokens").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_writers_with_many_compactions_lose_nothing() {
    let folder = Folder::new("stress");
    let a = Arc::new(JsonStore::open(&folder.0).expect("open a"));
    let b = Arc::new(JsonStore::open(&folder.0).expect("open b"));
    a.apply(Op::AddUser(user("u"))).await.expect("add");
    let mut tasks = Vec::new();
    for (name, store) in [("a", &a), ("b", &b)] {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            for round in 0..8 {
                // Big changes push the journal past the threshold again and again.
                let tokens = (0..1000)
                    .map(|i| {
                        let id = format!("{name}-{round}-{i}");
                        let r = record(&id, far());
                        (id, r)
                    })
                    .collect();
                let import = ImportedUser {
                    user: user("u"),
                    tokens,
                };
                store.apply(Op::Import(vec![import])).await.expect("import");
                let singles: Vec<_> = (0..25)
                    .map(|i| {
                        let id = format!("{name}-{round}-single-{i}");
                        let op = Op::CreateToken {
                            user: "u".into(),
                            id: id.clone(),
                            record: record(&id, far()),
                            max_tokens: None,
                        };
                        let store = Arc::clone(&store);
                        tokio::spawn(async move { store.apply(op).await })
                    })
                    .collect();
                for single in singles {
                    single.await.expect("join").expect("create");
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    assert_eq!(a.tokens("u").await.expect("tokens").len(), 2 * 8 * 1025);
    assert_eq!(b.tokens("u").await.expect("tokens").len(), 2 * 8 * 1025);
    a.close();
    b.close();
    assert!(folder.0.join(USERS_FILE).exists(), "compactions ran");
    let c = JsonStore::open(&folder.0).expect("reopen");
    assert_eq!(c.tokens("u").await.expect("tokens").len(), 2 * 8 * 1025);
    c.checkpoint_at(crate::clock::now_secs()).expect("compact");
    c.close();
    let d = JsonStore::open(&folder.0).expect("reopen");
    assert_eq!(d.tokens("u").await.expect("tokens").len(), 2 * 8 * 1025);
}

#[test]
fn a_journal_line_that_names_a_field_twice_is_refused() {
    let folder = Folder::new("dup-field");
    std::fs::create_dir_all(&folder.0).expect("mkdir");
    std::fs::write(folder.0.join(USERS_FILE), "[]").expect("write");
    std::fs::write(
        folder.0.join(JOURNAL_FILE),
        "{\"op\":\"remove_user\",\"username\":\"a\",\"username\":\"b\",\"revoke\":[]}\n",
    )
    .expect("write");
    match JsonStore::open(&folder.0) {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains(JOURNAL_FILE), "{message}");
            assert!(message.contains("duplicate field"), "{message}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a line with a field twice was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_never_gives_one_token_id_to_two_users() {
    let folder = Folder::new("import-clash");
    let store = JsonStore::open(&folder.0).expect("open");
    let import = |name: &str, id: &str| ImportedUser {
        user: user(name),
        tokens: vec![(id.to_owned(), record(&format!("{name} {id}"), far()))],
    };
    store
        .apply(Op::Import(vec![import("a", "t1")]))
        .await
        .expect("import");
    // The same token again for its owner is fine (the same file imported twice).
    store
        .apply(Op::Import(vec![import("a", "t1")]))
        .await
        .expect("again");
    for users in [
        vec![import("b", "t1")],
        vec![import("b", "t2"), import("c", "t2")],
    ] {
        match store.apply(Op::Import(users)).await {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("already belongs to"), "{message}");
            }
            other => panic!("a clash was imported: {other:?}"),
        }
    }
    assert!(store.password("b").await.expect("read").is_none());
    store.close();
    let store = JsonStore::open(&folder.0).expect("the store still loads");
    assert_eq!(store.tokens("a").await.expect("tokens").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_follows_the_last_write() {
    let folder = Folder::new("ready");
    let store = JsonStore::open(&folder.0).expect("open");
    store.apply(Op::AddUser(user("u"))).await.expect("add");
    assert!(store.ready().await.is_ok());
    let journal = folder.0.join(JOURNAL_FILE);
    let aside = folder.0.join("aside");
    std::fs::rename(&journal, &aside).expect("rename");
    std::fs::create_dir(&journal).expect("mkdir");
    assert!(store.apply(Op::AddUser(user("v"))).await.is_err());
    assert!(store.ready().await.is_err());
    std::fs::remove_dir(&journal).expect("rmdir");
    std::fs::rename(&aside, &journal).expect("rename");
    assert!(store.ready().await.is_err(), "until a write succeeds");
    store.apply(Op::AddUser(user("w"))).await.expect("add");
    assert!(store.ready().await.is_ok());
}

/// The store reads the keyring file again only when it was replaced, and then at once:
/// each save of another process (same size, within one clock tick) is seen at the next read.
#[tokio::test(flavor = "multi_thread")]
async fn the_keyring_is_read_again_after_each_replacement() {
    let folder = Folder::new("keyring");
    let store = JsonStore::open(&folder.0).expect("open");
    assert_eq!(store.keyring().await.expect("none").generation, 0);
    let entry = |kid: &str| keys::KeyEntry {
        kid: kid.into(),
        alg: "HS256".into(),
        created: 1,
        state: "signing".into(),
        key: Some("ab".repeat(32)),
        legacy: None,
        kidless: false,
    };
    for (generation, kid) in [(1, "a"), (2, "b"), (3, "c")] {
        assert!(keys::save_keyring(&folder.0, generation - 1, vec![entry(kid)]).expect("save"));
        let ring = store.keyring().await.expect("read");
        assert_eq!(
            (ring.generation, ring.keys[0].kid.as_str()),
            (generation, kid)
        );
        assert_eq!(store.keyring().await.expect("cached"), ring);
    }
}
