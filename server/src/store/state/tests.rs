//! The state machine's rules one by one, then held by property tests to a naive model (the
//! oracle), to its own journal (replaying the changes it made gives the same state, twice
//! as well as once) and to `users.json` (a snapshot read back is the same state).

use std::collections::BTreeMap;

use proptest::prelude::*;
use tokenlife_core::TokenRecord;

use super::*;

fn record(description: &str, exp: i64) -> TokenRecord {
    TokenRecord {
        jwt_token_description: description.into(),
        jwt_token_life: 10,
        iat: exp - 10,
        exp,
        fingerprint: format!("{description:0>64}"),
        jwt_token_endpoints: None,
        jwt_token_origin: None,
        jwt_token_last_used: None,
        jwt_token_last_used_from: None,
        kid: None,
    }
}

fn new_user(name: &str, password: &str) -> NewUser {
    NewUser {
        username: name.into(),
        password: PasswordRecord::Phc(password.into()),
        is_admin: name == "admin",
    }
}

fn step(state: &mut State, op: Op) -> Result<bool, StoreError> {
    state.check_and_apply(op, &mut || [7; 8], &mut Vec::new())
}

fn create(user: &str, id: &str, description: &str, exp: i64) -> Op {
    Op::CreateToken {
        user: user.into(),
        id: id.into(),
        record: record(description, exp),
        max_tokens: None,
    }
}

fn touch(user: &str, id: &str, at: i64, from: &str) -> Use {
    Use {
        user: user.into(),
        id: id.into(),
        at,
        from: Some(from.into()),
    }
}

#[test]
fn a_touch_sets_the_last_use_of_tokens_that_exist_and_never_goes_back() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    step(&mut state, create("u", "t1", "ci", 100)).expect("create");
    // Only gone tokens (or another user's): nothing to write.
    let mut out = Vec::new();
    let gone = Op::Touch(vec![touch("u", "gone", 5, "a"), touch("v", "t1", 5, "a")]);
    assert_eq!(
        state.check_and_apply(gone, &mut || [7; 8], &mut out),
        Ok(false)
    );
    assert!(out.is_empty());
    let last = |state: &State| {
        let t = state.token("u", "t1").expect("t1");
        (t.jwt_token_last_used, t.jwt_token_last_used_from.clone())
    };
    assert_eq!(last(&state), (None, None));
    let op = Op::Touch(vec![
        touch("u", "t1", 20, "192.0.2.1"),
        touch("u", "gone", 20, "a"),
    ]);
    assert_eq!(
        state.check_and_apply(op, &mut || [7; 8], &mut out),
        Ok(true)
    );
    assert_eq!(
        out,
        vec![Change::Touch {
            uses: vec![touch("u", "t1", 20, "192.0.2.1")]
        }]
    );
    assert_eq!(last(&state), (Some(20), Some("192.0.2.1".into())));
    // An older use (another replica's, late) does not replace a newer one.
    step(
        &mut state,
        Op::Touch(vec![touch("u", "t1", 10, "192.0.2.2")]),
    )
    .expect("touch");
    assert_eq!(last(&state), (Some(20), Some("192.0.2.1".into())));
    // users.json keeps it as members of the record, and reads it back.
    let users: Vec<&User> = state.users_in_order().collect();
    let text = serde_json::to_string(&users).expect("encode");
    assert!(
        text.contains(r#""jwt_token_last_used":20,"jwt_token_last_used_from":"192.0.2.1""#),
        "{text}"
    );
    let read: Vec<User> = serde_json::from_str(&text).expect("decode");
    assert_eq!(read[0].jwt_tokens["t1"].jwt_token_last_used, Some(20));
}

#[test]
fn a_create_under_a_limit_counts_only_unexpired_tokens() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    let limited = |id: &str, description: &str, exp: i64| Op::CreateToken {
        user: "u".into(),
        id: id.into(),
        record: record(description, exp),
        max_tokens: Some(2),
    };
    // record(_, exp) is issued at exp - 10: "old" expired at 50, before the others' iat.
    assert_eq!(step(&mut state, limited("t0", "old", 50)), Ok(true));
    assert_eq!(step(&mut state, limited("t1", "a", 100)), Ok(true));
    assert_eq!(step(&mut state, limited("t2", "b", 100)), Ok(true));
    assert_eq!(
        step(&mut state, limited("t3", "c", 100)),
        Err(StoreError::TooManyTokens(2))
    );
    assert_eq!(state.tokens("u").len(), 3);
    // Without a limit the same create passes.
    assert_eq!(step(&mut state, create("u", "t3", "c", 100)), Ok(true));
}

#[test]
fn regenerate_replaces_a_token_in_one_change() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    step(&mut state, create("u", "old", "ci", 100)).expect("create");
    let regenerate = |old: &str| Op::RegenerateToken {
        user: "u".into(),
        old: old.into(),
        id: "new".into(),
        record: record("ci", 105),
    };
    let mut out = Vec::new();
    let got = state.check_and_apply(regenerate("old"), &mut || [7; 8], &mut out);
    assert_eq!(got, Ok(true));
    assert_eq!(out.len(), 1, "one journal line: {out:?}");
    assert!(state.token("u", "old").is_none());
    assert_eq!(state.token("u", "new").map(|t| t.exp), Some(105));
    // Regenerated at 95 (the new record's iat): the old token is revoked until its exp, 100.
    assert!(state.is_revoked("old", 96));
    assert!(!state.is_revoked("old", 100));
    assert_eq!(step(&mut state, regenerate("old")), Ok(false));
    // The description moved with it: a create of "ci" is still a duplicate.
    assert_eq!(
        step(&mut state, create("u", "x", "ci", 200)),
        Err(StoreError::DuplicateDescription)
    );
}

#[test]
fn a_description_is_free_again_once_its_token_is_deleted() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    assert_eq!(step(&mut state, create("u", "t1", "ci", 100)), Ok(true));
    assert_eq!(
        step(&mut state, create("u", "t2", "ci", 100)),
        Err(StoreError::DuplicateDescription)
    );
    let delete = |id: &str| Op::DeleteToken {
        user: "u".into(),
        id: id.into(),
        now: 50,
    };
    assert_eq!(step(&mut state, delete("t1")), Ok(true));
    assert_eq!(
        step(&mut state, delete("t1")),
        Ok(false),
        "nothing left to do"
    );
    assert_eq!(step(&mut state, create("u", "t2", "ci", 100)), Ok(true));
    assert!(state.is_revoked("t1", 99));
    assert!(!state.is_revoked("t1", 100), "revoked until its exp only");
    assert_eq!(state.unexpired_revoked(0), vec![("t1".to_owned(), 100)]);
}

#[test]
fn a_token_deleted_after_its_expiry_is_not_listed_as_revoked() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    step(&mut state, create("u", "t", "old", 10)).expect("create");
    let op = Op::DeleteToken {
        user: "u".into(),
        id: "t".into(),
        now: 10,
    };
    assert_eq!(step(&mut state, op), Ok(true));
    assert!(state.unexpired_revoked(i64::MIN).is_empty());
}

#[test]
fn removing_a_user_revokes_only_their_live_tokens() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    step(&mut state, create("u", "dead", "a", 5)).expect("create");
    step(&mut state, create("u", "live", "b", 50)).expect("create");
    let remove = Op::RemoveUser {
        username: "u".into(),
        now: 5,
    };
    assert_eq!(step(&mut state, remove.clone()), Ok(true));
    assert_eq!(step(&mut state, remove), Err(StoreError::UnknownUser));
    assert_eq!(state.unexpired_revoked(0), vec![("live".to_owned(), 50)]);
    assert_eq!(state.password("u"), None);
    assert_eq!(
        step(&mut state, create("u", "x", "c", 50)),
        Err(StoreError::UnknownUser)
    );
}

#[test]
fn users_are_added_once_and_the_first_only_into_an_empty_store() {
    let mut state = State::default();
    assert_eq!(
        step(&mut state, Op::AddFirstUser(new_user("admin", "p"))),
        Ok(true)
    );
    assert_eq!(
        step(&mut state, Op::AddFirstUser(new_user("other", "p"))),
        Ok(false)
    );
    assert_eq!(
        step(&mut state, Op::AddUser(new_user("admin", "q"))),
        Err(StoreError::UserExists)
    );
    assert_eq!(state.users_in_order().count(), 1);
    assert_eq!(
        state.users_in_order().next().map(|u| u.id.as_str()),
        Some("admin")
    );
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    let ids: Vec<&str> = state.users_in_order().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["admin", "0707070707070707"]);
}

#[test]
fn a_password_upgrade_yields_to_a_change_made_meanwhile() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "old"))).expect("add");
    let upgrade = |from: &str| Op::UpgradePassword {
        username: "u".into(),
        from: PasswordRecord::Phc(from.into()),
        to: PasswordRecord::Phc("stronger".into()),
    };
    let set = Op::SetPassword {
        username: "u".into(),
        password: PasswordRecord::Phc("new".into()),
    };
    assert_eq!(step(&mut state, set), Ok(true));
    assert_eq!(step(&mut state, upgrade("old")), Ok(false));
    assert_eq!(
        state.password("u"),
        Some(&PasswordRecord::Phc("new".into()))
    );
    assert_eq!(step(&mut state, upgrade("new")), Ok(true));
    assert_eq!(
        state.password("u"),
        Some(&PasswordRecord::Phc("stronger".into()))
    );
}

#[test]
fn holds_compares_the_fingerprint_of_the_users_own_record() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    step(&mut state, Op::AddUser(new_user("v", "p"))).expect("add");
    step(&mut state, create("u", "t", "ci", 100)).expect("create");
    let good = record("ci", 100).fingerprint;
    assert_eq!(state.holds("u", "t", &good), Some(true));
    assert_eq!(state.holds("u", "t", &"1".repeat(64)), Some(false));
    assert_eq!(state.holds("v", "t", &good), None, "another user's token");
    assert_eq!(state.holds("u", "nope", &good), None);
}

#[test]
fn the_clock_is_the_latest_time_an_operation_gave() {
    let mut state = State::default();
    step(&mut state, Op::AddUser(new_user("u", "p"))).expect("add");
    step(&mut state, create("u", "t", "ci", 100)).expect("create");
    assert_eq!(state.clock(), 90, "the new token's iat");
    let op = Op::DeleteToken {
        user: "u".into(),
        id: "nope".into(),
        now: 95,
    };
    step(&mut state, op).expect("delete");
    assert_eq!(state.clock(), 95);
    step(&mut state, create("u", "t2", "old", 20)).expect("create");
    assert_eq!(state.clock(), 95, "never goes back");
}

#[test]
fn an_import_never_gives_one_token_id_to_two_users() {
    let mut state = State::default();
    let import = |name: &str, id: &str| ImportedUser {
        user: new_user(name, "p"),
        tokens: vec![(id.to_owned(), record(&format!("{name} {id}"), 100))],
    };
    assert_eq!(
        step(&mut state, Op::Import(vec![import("a", "t")])),
        Ok(true)
    );
    assert_eq!(
        step(&mut state, Op::Import(vec![import("a", "t")])),
        Ok(true)
    );
    for users in [
        vec![import("b", "t")],
        vec![import("b", "u"), import("c", "u")],
    ] {
        match step(&mut state, Op::Import(users)) {
            Err(StoreError::Corrupt(message)) => assert!(message.contains("already belongs to")),
            other => panic!("a clash was imported: {other:?}"),
        }
    }
    assert_eq!(
        state.password("b"),
        None,
        "nothing of a refused import is kept"
    );
}

#[test]
fn a_snapshot_holding_a_user_or_a_token_id_twice_is_refused() {
    let user = |name: &str, ids: &[&str]| User {
        id: name.into(),
        username: name.into(),
        password: PasswordRecord::Phc("p".into()),
        is_admin: false,
        jwt_tokens: ids
            .iter()
            .map(|id| ((*id).to_owned(), record(id, 9)))
            .collect(),
    };
    let twice = State::from_snapshot(vec![user("a", &[]), user("a", &[])], [], "f");
    assert!(matches!(twice, Err(StoreError::Corrupt(m)) if m.contains("twice (entries 1 and 2)")));
    let shared = State::from_snapshot(vec![user("a", &["t"]), user("b", &["t"])], [], "f");
    assert!(matches!(shared, Err(StoreError::Corrupt(m)) if m.contains("belongs to both")));
}

/// The rules written as plainly as possible, without indexes: the oracle.
#[derive(Debug, Default, Clone, PartialEq)]
struct Model {
    users: BTreeMap<String, (PasswordRecord, bool, BTreeMap<String, TokenRecord>)>,
    revoked: BTreeMap<String, i64>,
}

impl Model {
    fn step(&mut self, op: Op) -> Result<bool, StoreError> {
        match op {
            Op::CreateToken {
                user,
                id,
                record,
                max_tokens,
            } => {
                let (_, _, tokens) = self.users.get_mut(&user).ok_or(StoreError::UnknownUser)?;
                if tokens
                    .values()
                    .any(|t| t.jwt_token_description == record.jwt_token_description)
                {
                    return Err(StoreError::DuplicateDescription);
                }
                if let Some(max) = max_tokens
                    && tokens.values().filter(|t| t.exp > record.iat).count() >= max as usize
                {
                    return Err(StoreError::TooManyTokens(max));
                }
                tokens.insert(id, record);
            }
            Op::RegenerateToken {
                user,
                old,
                id,
                record,
            } => {
                let Some(token) = self.users.get_mut(&user).and_then(|u| u.2.remove(&old)) else {
                    return Ok(false);
                };
                if token.exp > record.iat {
                    self.revoked.insert(old, token.exp);
                }
                if let Some(user) = self.users.get_mut(&user) {
                    user.2.insert(id, record);
                }
            }
            Op::DeleteToken { user, id, now } => {
                let Some(token) = self.users.get_mut(&user).and_then(|u| u.2.remove(&id)) else {
                    return Ok(false);
                };
                if token.exp > now {
                    self.revoked.insert(id, token.exp);
                }
            }
            Op::AddUser(new) => {
                if self.users.contains_key(&new.username) {
                    return Err(StoreError::UserExists);
                }
                let entry = (new.password, new.is_admin, BTreeMap::new());
                self.users.insert(new.username, entry);
            }
            Op::AddFirstUser(new) => {
                if !self.users.is_empty() {
                    return Ok(false);
                }
                let entry = (new.password, new.is_admin, BTreeMap::new());
                self.users.insert(new.username, entry);
            }
            Op::SetPassword { username, password } => {
                let user = self
                    .users
                    .get_mut(&username)
                    .ok_or(StoreError::UnknownUser)?;
                user.0 = password;
            }
            Op::UpgradePassword { username, from, to } => match self.users.get_mut(&username) {
                Some(user) if user.0 == from => user.0 = to,
                _ => return Ok(false),
            },
            Op::RemoveUser { username, now } => {
                let (_, _, tokens) = self
                    .users
                    .remove(&username)
                    .ok_or(StoreError::UnknownUser)?;
                for (id, token) in tokens {
                    if token.exp > now {
                        self.revoked.insert(id, token.exp);
                    }
                }
            }
            Op::Touch(uses) => {
                let mut any = false;
                for use_ in uses {
                    let token = self
                        .users
                        .get_mut(&use_.user)
                        .and_then(|user| user.2.get_mut(&use_.id));
                    if let Some(token) = token {
                        any = true;
                        if token.jwt_token_last_used.is_none_or(|last| last <= use_.at) {
                            token.jwt_token_last_used = Some(use_.at);
                            token.jwt_token_last_used_from = use_.from;
                        }
                    }
                }
                return Ok(any);
            }
            Op::Import(users) => {
                let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
                for (name, user) in &self.users {
                    for id in user.2.keys() {
                        owner.insert(id, name);
                    }
                }
                for imported in &users {
                    for (id, _) in &imported.tokens {
                        let name = imported.user.username.as_str();
                        if owner.insert(id, name).is_some_and(|other| other != name) {
                            return Err(StoreError::Corrupt(String::new()));
                        }
                    }
                }
                for ImportedUser { user, tokens } in users {
                    let entry = self
                        .users
                        .entry(user.username)
                        .or_insert_with(|| (user.password.clone(), user.is_admin, BTreeMap::new()));
                    entry.0 = user.password;
                    entry.1 = user.is_admin;
                    entry.2.extend(tokens);
                }
            }
        }
        Ok(true)
    }

    fn of(state: &State) -> Model {
        Model {
            users: state
                .users_in_order()
                .map(|u| {
                    let entry = (u.password.clone(), u.is_admin, u.jwt_tokens.clone());
                    (u.username.clone(), entry)
                })
                .collect(),
            revoked: state.unexpired_revoked(i64::MIN).into_iter().collect(),
        }
    }
}

const NAMES: [&str; 4] = ["admin", "a", "b", "c"];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(&NAMES[..]).prop_map(str::to_owned)
}

fn password() -> impl Strategy<Value = PasswordRecord> {
    (0..3u8).prop_map(|n| PasswordRecord::Phc(format!("p{n}")))
}

/// A token of a small pool of ids, descriptions and times, so that ops meet each other.
fn token() -> impl Strategy<Value = (String, TokenRecord)> {
    (0..8u8, 0..4u8, 0..20i64).prop_map(|(id, description, exp)| {
        (format!("t{id}"), record(&format!("d{description}"), exp))
    })
}

fn user() -> impl Strategy<Value = NewUser> {
    (name(), password(), any::<bool>()).prop_map(|(username, password, is_admin)| NewUser {
        username,
        password,
        is_admin,
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (name(), token(), prop::option::of(0..4u32))
            .prop_map(|(user, (id, record), max_tokens)| Op::CreateToken { user, id, record, max_tokens }),
        2 => (name(), 0..8u8, token()).prop_map(|(user, old, (id, record))| Op::RegenerateToken {
            user,
            old: format!("t{old}"),
            id,
            record,
        }),
        2 => (name(), 0..8u8, 0..20i64).prop_map(|(user, id, now)| Op::DeleteToken {
            user,
            id: format!("t{id}"),
            now,
        }),
        2 => user().prop_map(Op::AddUser),
        1 => user().prop_map(Op::AddFirstUser),
        1 => (name(), password()).prop_map(|(username, password)| Op::SetPassword { username, password }),
        1 => (name(), password(), password())
            .prop_map(|(username, from, to)| Op::UpgradePassword { username, from, to }),
        1 => (name(), 0..20i64).prop_map(|(username, now)| Op::RemoveUser { username, now }),
        1 => prop::collection::vec(
            (user(), prop::collection::vec(token(), 0..3))
                .prop_map(|(user, tokens)| ImportedUser { user, tokens }),
            1..3,
        )
        .prop_map(Op::Import),
        2 => prop::collection::vec(
            (name(), 0..8u8, 0..20i64, prop::option::of("[ab]"))
                .prop_map(|(user, id, at, from)| Use { user, id: format!("t{id}"), at, from }),
            0..3,
        )
        .prop_map(Op::Touch),
    ]
}

/// Creates with an id another user holds would make a store that does not load; the
/// server's ids are random UUIDs, so such a create is left out here as it is in use.
fn sensible(state: &State, op: &Op) -> bool {
    match op {
        Op::CreateToken { user, id, .. } | Op::RegenerateToken { user, id, .. } => {
            state.other_owner(user, id).is_none()
        }
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_state_machine_agrees_with_the_model(ops in prop::collection::vec(op(), 0..40)) {
        let mut state = State::default();
        let mut model = Model::default();
        for op in ops {
            if !sensible(&state, &op) {
                continue;
            }
            let expected = model.step(op.clone());
            let got = step(&mut state, op);
            match (&got, &expected) {
                (Err(StoreError::Corrupt(_)), Err(StoreError::Corrupt(_))) => {}
                _ => prop_assert_eq!(&got, &expected),
            }
            prop_assert_eq!(Model::of(&state), model.clone());
            prop_assert!(state.check_token_ids("state").is_ok());
        }
    }

    #[test]
    fn replaying_the_journal_once_or_twice_gives_the_same_state(
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let mut state = State::default();
        let mut journal = Vec::new();
        for op in ops {
            if sensible(&state, &op) {
                let _ = state.check_and_apply(op, &mut || [1; 8], &mut journal);
            }
        }
        let mut replayed = State::default();
        for change in journal.iter().cloned() {
            replayed.apply(change);
        }
        prop_assert_eq!(Model::of(&replayed), Model::of(&state));
        // A crash between writing the snapshot and emptying the journal replays it again.
        for change in journal {
            replayed.apply(change);
        }
        prop_assert_eq!(Model::of(&replayed), Model::of(&state));
    }

    #[test]
    fn a_snapshot_read_back_is_the_same_state(ops in prop::collection::vec(op(), 0..40)) {
        let mut state = State::default();
        for op in ops {
            if sensible(&state, &op) {
                let _ = step(&mut state, op);
            }
        }
        let users: Vec<&User> = state.users_in_order().collect();
        let text = serde_json::to_string_pretty(&users).expect("encode");
        let users: Vec<User> = serde_json::from_str(&text).expect("parse");
        let read = State::from_snapshot(users, state.unexpired_revoked(i64::MIN), "snapshot")
            .expect("valid");
        prop_assert_eq!(Model::of(&read), Model::of(&state));
        // The description index is rebuilt too: the same creates pass and fail.
        for name in NAMES {
            for description in 0..4 {
                let op = create(name, "fresh", &format!("d{description}"), 30);
                prop_assert_eq!(step(&mut read.clone(), op.clone()), step(&mut state.clone(), op));
            }
        }
    }
}
