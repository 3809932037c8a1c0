//! Every handler in process, through the one dispatch function [`handle`], on an in-memory
//! store: the fast place for each op's allowed, refused and malformed cases. Requests are
//! written as the JSON lines of the wire protocol and answers compared as [`Response`]s, so
//! these tests hold however the handlers and the store are arranged inside.

use super::handle;
use crate::daemon::{Caller, Daemon, Roles};
use crate::types::keys::KeyId;
use crate::wire::{ErrorKind, Request, Response};

/// The request id every answer quotes.
const ID: &str = "test";

const ALICE_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM alice@laptop";
const BOB_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm3tpFUfZl6L3P7EVVAxzKoJLfEEnGiXZEm0JOjVvSF bob@desk";

const OLD: &str = "1111111111111111111111111111111111111111";
const NEW: &str = "2222222222222222222222222222222222222222";

/// The accounts of the test daemon, by uid: no lookup of this machine's accounts.
const ROOT: Caller = caller(0);
const ADMIN: Caller = caller(1000);
const GIT: Caller = caller(998);
const KEYS: Caller = caller(997);
const STRANGER: Caller = caller(4242);

const fn caller(uid: u32) -> Caller {
    Caller {
        uid,
        gid: uid,
        pid: 1,
    }
}

/// A daemon on an in-memory store, its repositories in a temporary folder removed on drop.
struct Forge {
    daemon: Daemon,
    repos: tempfile::TempDir,
}

impl Forge {
    fn new() -> Forge {
        let repos = tempfile::tempdir().expect("a temporary folder");
        let roles = Roles::of_uids(GIT.uid, KEYS.uid, &[ADMIN.uid]);
        Forge {
            daemon: Daemon::in_memory(repos.path(), roles),
            repos,
        }
    }

    /// Sends `json` (a request line without its `"v"`) as `caller` and returns the answer.
    fn ask(&self, caller: Caller, json: &str) -> Response {
        let request: Request = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("{json} is not a request line: {e}"));
        handle(&self.daemon, &caller, request, ID)
    }

    /// Sends `json` as the admin and fails the test unless the answer is `Done`.
    fn done(&self, json: &str) {
        assert_eq!(self.ask(ADMIN, json), Response::Done, "{json}");
    }

    /// Adds `user` with `key`; returns the key's id.
    fn add_user(&self, user: &str, key: &str) -> KeyId {
        self.done(&format!(r#"{{"op":"user_add","user":"{user}"}}"#));
        let line = serde_json::json!({"op": "key_add", "user": user, "key": key}).to_string();
        match self.ask(ADMIN, &line) {
            Response::Keys { keys } if keys.len() == 1 => keys[0].id,
            other => panic!("key_add answered {other:?}"),
        }
    }

    /// alice may write acme/widgets, bob exists and has no grant; returns their key ids.
    fn with_alice_and_bob() -> (Forge, KeyId, KeyId) {
        let forge = Forge::new();
        let alice = forge.add_user("alice", ALICE_KEY);
        let bob = forge.add_user("bob", BOB_KEY);
        forge.done(r#"{"op":"repo_create","repo":"acme/widgets","description":"","public":false}"#);
        forge.done(r#"{"op":"grant","repo":"acme/widgets","user":"alice","access":"write"}"#);
        (forge, alice, bob)
    }

    /// Returns what the admin can list (users, keys, repositories and grants, the policy),
    /// to compare before and after a refused request.
    fn state(&self) -> Vec<Response> {
        [
            r#"{"op":"user_list"}"#,
            r#"{"op":"key_list","user":null}"#,
            r#"{"op":"repo_list"}"#,
            r#"{"op":"policy_export"}"#,
            r#"{"op":"ca_list"}"#,
        ]
        .into_iter()
        .map(|line| self.ask(ADMIN, line))
        .collect()
    }

    fn pending_updates(&self) -> u64 {
        self.pending_and_audited().0
    }

    /// Returns how many ref updates are pending and how many are in the audit log.
    fn pending_and_audited(&self) -> (u64, u64) {
        match self.ask(ADMIN, r#"{"op":"status"}"#) {
            Response::Status(status) => (status.pending_updates, status.audit_entries),
            other => panic!("status answered {other:?}"),
        }
    }

    /// Returns the session `check` hands alice's `key` for `access` to `repo`.
    fn session(&self, key: KeyId, repo: &str, access: &str) -> String {
        match self.ask(GIT, &check(key, repo, access)) {
            Response::Granted { session, .. } => session,
            other => panic!("alice's {access} check of {repo} answered {other:?}"),
        }
    }
}

fn check(key: KeyId, repo: &str, access: &str) -> String {
    let key = key_number(key);
    format!(r#"{{"op":"check","key":{key},"repo":"{repo}","access":"{access}"}}"#)
}

fn check_refs(session: &str, key: KeyId, kind: &str) -> String {
    hook_request(
        "check_refs",
        session,
        "alice",
        key,
        "acme/widgets",
        Some(kind),
    )
}

/// Returns a `check_refs` (with `kind`) or `record` (without) line of one update of main.
fn hook_request(
    op: &str,
    session: &str,
    user: &str,
    key: KeyId,
    repo: &str,
    kind: Option<&str>,
) -> String {
    let mut update = serde_json::json!({"ref_name": "refs/heads/main", "old": OLD, "new": NEW});
    if let Some(kind) = kind {
        update["kind"] = kind.into();
    }
    serde_json::json!({
        "op": op, "session": session, "user": user, "key": key_number(key), "repo": repo,
        "updates": [update],
    })
    .to_string()
}

fn error_kind(response: &Response) -> Option<ErrorKind> {
    match response {
        Response::Error { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn an_admin_adds_a_user_a_key_a_repo_and_a_grant() {
    let forge = Forge::new();
    forge.done(r#"{"op":"user_add","user":"alice"}"#);
    let key =
        serde_json::json!({"op": "key_add", "user": "alice", "key": ALICE_KEY, "title": "laptop"});
    let Response::Keys { keys } = forge.ask(ROOT, &key.to_string()) else {
        panic!("key_add did not answer with the key");
    };
    assert_eq!(
        (keys.len(), keys[0].user.as_str(), keys[0].title.as_str()),
        (1, "alice", "laptop")
    );
    forge.done(
        r#"{"op":"repo_create","repo":"acme/widgets","description":"the widgets","public":false}"#,
    );
    assert!(
        forge.repos.path().join("acme/widgets.git/HEAD").is_file(),
        "repo_create made no bare repository under the repos root"
    );
    forge.done(r#"{"op":"grant","repo":"acme/widgets","user":"alice","access":"write"}"#);

    let Response::Users { users } = forge.ask(ADMIN, r#"{"op":"user_list"}"#) else {
        panic!("user_list did not answer with users");
    };
    assert_eq!(
        users
            .iter()
            .map(|user| (user.name.as_str(), user.keys))
            .collect::<Vec<_>>(),
        [("alice", 1)]
    );
    let Response::Repos { repos } = forge.ask(ADMIN, r#"{"op":"repo_list"}"#) else {
        panic!("repo_list did not answer with repositories");
    };
    let listed: Vec<_> = repos
        .iter()
        .map(|repo| {
            let grants: Vec<_> = repo
                .grants
                .iter()
                .map(|grant| (grant.user.as_str(), grant.access))
                .collect();
            (repo.name.as_str(), repo.description.as_str(), grants)
        })
        .collect();
    assert_eq!(
        listed,
        [(
            "acme/widgets",
            "the widgets",
            vec![("alice", crate::policy::Access::Write)]
        )]
    );
}

#[test]
fn the_service_role_grants_what_a_grant_allows() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    for access in ["read", "write"] {
        match forge.ask(GIT, &check(alice, "acme/widgets", access)) {
            Response::Granted {
                user, repo, path, ..
            } => {
                assert_eq!((user.as_str(), repo.as_str()), ("alice", "acme/widgets"));
                assert_eq!(path, forge.repos.path().join("acme/widgets.git"));
            }
            other => panic!("alice's {access} check answered {other:?}"),
        }
    }
}

#[test]
fn the_service_role_denies_a_user_without_a_grant() {
    let (forge, _, bob) = Forge::with_alice_and_bob();
    for access in ["read", "write"] {
        let answer = forge.ask(GIT, &check(bob, "acme/widgets", access));
        assert_eq!(error_kind(&answer), Some(ErrorKind::Denied), "{answer:?}");
    }
}

#[test]
fn denied_and_missing_repos_read_the_same() {
    let (forge, alice, bob) = Forge::with_alice_and_bob();
    let denied = forge.ask(GIT, &check(bob, "acme/widgets", "read"));
    let missing = forge.ask(GIT, &check(bob, "acme/gadgets", "read"));
    let missing_for_alice = forge.ask(GIT, &check(alice, "acme/gadgets", "read"));
    let unknown_key = forge.ask(GIT, &check(KeyId::new(999), "acme/widgets", "read"));
    assert_eq!(error_kind(&denied), Some(ErrorKind::Denied), "{denied:?}");
    assert_eq!(missing, denied);
    assert_eq!(missing_for_alice, denied);
    assert_eq!(unknown_key, denied);
}

#[test]
fn a_caller_with_too_low_a_role_is_forbidden_and_nothing_changes() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let before = forge.state();
    let rows = [
        (STRANGER, check(alice, "acme/widgets", "read")),
        (STRANGER, r#"{"op":"status"}"#.to_owned()),
        (KEYS, check(alice, "acme/widgets", "read")),
        (KEYS, r#"{"op":"user_add","user":"mallory"}"#.to_owned()),
        (GIT, r#"{"op":"user_add","user":"mallory"}"#.to_owned()),
        (
            GIT,
            r#"{"op":"grant","repo":"acme/widgets","user":"bob","access":"admin"}"#.to_owned(),
        ),
        (
            GIT,
            r#"{"op":"repo_remove","repo":"acme/widgets"}"#.to_owned(),
        ),
        (GIT, r#"{"op":"user_list"}"#.to_owned()),
    ];
    for (caller, line) in &rows {
        let answer = forge.ask(*caller, line);
        assert_eq!(
            error_kind(&answer),
            Some(ErrorKind::Forbidden),
            "uid {} asking {line}: {answer:?}",
            caller.uid
        );
    }
    assert_eq!(forge.state(), before);
}

#[test]
fn each_role_may_ask_what_it_needs() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let rows = [
        (
            KEYS,
            r#"{"op":"key_lookup","login":"git","key_type":"ssh-ed25519","key":"AAAA"}"#.to_owned(),
        ),
        (
            GIT,
            format!(r#"{{"op":"whoami","key":{}}}"#, key_number(alice)),
        ),
        (
            GIT,
            r#"{"op":"key_lookup","login":"git","key_type":"ssh-ed25519","key":"AAAA"}"#.to_owned(),
        ),
        (ADMIN, check(alice, "acme/widgets", "read")),
        (ROOT, r#"{"op":"status"}"#.to_owned()),
    ];
    for (caller, line) in &rows {
        let answer = forge.ask(*caller, line);
        assert_ne!(
            error_kind(&answer),
            Some(ErrorKind::Forbidden),
            "uid {} asking {line}: {answer:?}",
            caller.uid
        );
    }
}

#[test]
fn check_refs_refuses_a_force_push_without_plus() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    // A grant of write is RW since #11; what `forgectl protect acme/widgets main --pushers alice`
    // sends puts RW (no +) and a deny for everyone else in front of it.
    let protect = serde_json::json!({"op": "prepend_rules", "rules": [
        {"seq": 1, "repo": "acme/widgets", "who": "alice", "perm": "RW", "refex": "refs/heads/main$", "source": "test"},
        {"seq": 2, "repo": "acme/widgets", "who": "@all", "perm": "-", "refex": "refs/heads/main$", "source": "test"},
    ]});
    assert!(
        matches!(
            forge.ask(ADMIN, &protect.to_string()),
            Response::Changes { applied: true, .. }
        ),
        "prepend_rules did not apply"
    );
    let Response::Granted { session, .. } = forge.ask(GIT, &check(alice, "acme/widgets", "write"))
    else {
        panic!("alice may write acme/widgets");
    };
    let Response::RefVerdicts { verdicts } =
        forge.ask(GIT, &check_refs(&session, alice, "non_fast_forward"))
    else {
        panic!("check_refs did not answer with verdicts");
    };
    assert_eq!(verdicts.len(), 1);
    assert!(
        !verdicts[0].allowed,
        "a force push with W only: {verdicts:?}"
    );
    assert_eq!(
        forge.pending_updates(),
        0,
        "a refused push left pending updates"
    );

    let Response::RefVerdicts { verdicts } =
        forge.ask(GIT, &check_refs(&session, alice, "fast_forward"))
    else {
        panic!("check_refs did not answer with verdicts");
    };
    assert!(verdicts[0].allowed, "a fast-forward with W: {verdicts:?}");
    assert_eq!(forge.pending_updates(), 1);
}

#[test]
fn check_refs_with_a_user_but_no_key_is_refused() {
    let (forge, _, _) = Forge::with_alice_and_bob();
    let line = serde_json::json!({
        "op": "check_refs", "session": null, "user": "alice", "key": null, "repo": "acme/widgets",
        "updates": [{"ref_name": "refs/heads/main", "old": OLD, "new": NEW, "kind": "fast_forward"}],
    });
    let answer = forge.ask(GIT, &line.to_string());
    assert_eq!(error_kind(&answer), Some(ErrorKind::Refused), "{answer:?}");
    assert_eq!(forge.pending_updates(), 0);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let (forge, _, _) = Forge::with_alice_and_bob();
    let invalid = [
        r#"{"op":"user_add","user":"alice"}"#.to_owned(),
        r#"{"op":"key_add","user":"alice","key":"not a key"}"#.to_owned(),
        serde_json::json!({"op": "key_add", "user": "bob", "key": ALICE_KEY}).to_string(),
        serde_json::json!({"op": "key_add", "user": "alice", "key": BOB_KEY, "expires": "2001-01-01T00:00:00Z"}).to_string(),
        serde_json::json!({"op": "key_add", "user": "carol", "key": BOB_KEY.replace("IBm3", "IBm4")}).to_string(),
        r#"{"op":"repo_create","repo":"acme/widgets","description":"","public":false}"#.to_owned(),
        r#"{"op":"repo_create","repo":"acme/gadgets","description":"two\nlines","public":false}"#.to_owned(),
        r#"{"op":"repo_create","repo":"acme/gadgets","description":"","public":false,"creator":"carol"}"#.to_owned(),
        r#"{"op":"grant","repo":"acme/gadgets","user":"alice","access":"read"}"#.to_owned(),
        r#"{"op":"grant","repo":"acme/widgets","user":"carol","access":"read"}"#.to_owned(),
        r#"{"op":"user_remove","user":"carol"}"#.to_owned(),
        r#"{"op":"repo_remove","repo":"acme/gadgets"}"#.to_owned(),
    ];
    let before = forge.state();
    for line in &invalid {
        let answer = forge.ask(ADMIN, line);
        assert_eq!(
            error_kind(&answer),
            Some(ErrorKind::Refused),
            "{line}: {answer:?}"
        );
        assert_eq!(
            forge.state(),
            before,
            "{line} was refused but changed the state"
        );
    }
    assert!(
        !forge.repos.path().join("acme/gadgets.git").exists(),
        "a refused repo_create left a folder behind"
    );
}

/// alice may write acme/widgets and acme/gadgets: a session for one is not good for the other.
fn with_two_writable_repos() -> (Forge, KeyId, KeyId) {
    let (forge, alice, bob) = Forge::with_alice_and_bob();
    forge.done(r#"{"op":"repo_create","repo":"acme/gadgets","description":"","public":false}"#);
    forge.done(r#"{"op":"grant","repo":"acme/gadgets","user":"alice","access":"write"}"#);
    forge.done(r#"{"op":"grant","repo":"acme/gadgets","user":"bob","access":"write"}"#);
    (forge, alice, bob)
}

/// Sends `line` as the git account and fails the test unless it is refused and leaves no
/// pending or audited update behind.
fn assert_refused_without_trace(forge: &Forge, line: &str) {
    let answer = forge.ask(GIT, line);
    assert_eq!(
        error_kind(&answer),
        Some(ErrorKind::Refused),
        "{line}: {answer:?}"
    );
    assert_eq!(
        forge.pending_and_audited(),
        (0, 0),
        "{line} left rows behind"
    );
}

#[test]
fn regression_11_a_session_acts_only_for_its_user_key_and_repo() {
    let (forge, alice, bob) = with_two_writable_repos();
    let widgets = forge.session(alice, "acme/widgets", "write");
    for op in ["check_refs", "record"] {
        let kind = (op == "check_refs").then_some("fast_forward");
        let rows = [
            hook_request(op, &widgets, "alice", alice, "acme/gadgets", kind),
            hook_request(op, &widgets, "bob", bob, "acme/widgets", kind),
            hook_request(op, &widgets, "bob", alice, "acme/widgets", kind),
            hook_request(
                op,
                "5f0c2d4e18a3f601b7d94e2a0c6f1b38",
                "alice",
                alice,
                "acme/widgets",
                kind,
            ),
        ];
        for line in &rows {
            assert_refused_without_trace(&forge, line);
        }
    }
    // The session still works for what it was issued for.
    let answer = forge.ask(GIT, &check_refs(&widgets, alice, "fast_forward"));
    assert!(matches!(answer, Response::RefVerdicts { .. }), "{answer:?}");
    assert_eq!(forge.pending_and_audited(), (1, 0));
    let record = hook_request("record", &widgets, "alice", alice, "acme/widgets", None);
    assert_eq!(forge.ask(GIT, &record), Response::Done);
    assert_eq!(forge.pending_and_audited(), (0, 1));
}

#[test]
fn regression_11_a_hook_request_without_a_session_is_refused() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    for op in ["check_refs", "record"] {
        let kind = (op == "check_refs").then_some("fast_forward");
        let mut line: serde_json::Value =
            serde_json::from_str(&hook_request(op, "x", "alice", alice, "acme/widgets", kind))
                .unwrap();
        line["session"] = serde_json::Value::Null;
        assert_refused_without_trace(&forge, &line.to_string());
    }
}

#[test]
fn regression_11_an_expired_session_is_refused() {
    let (mut forge, alice, _) = Forge::with_alice_and_bob();
    forge.daemon.session_lifetime = std::time::Duration::ZERO;
    let session = forge.session(alice, "acme/widgets", "write");
    assert_refused_without_trace(&forge, &check_refs(&session, alice, "fast_forward"));
    let record = hook_request("record", &session, "alice", alice, "acme/widgets", None);
    assert_refused_without_trace(&forge, &record);
}

#[test]
fn regression_11_a_read_session_cannot_push() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let session = forge.session(alice, "acme/widgets", "read");
    assert_refused_without_trace(&forge, &check_refs(&session, alice, "fast_forward"));
}

#[test]
fn regression_11_a_local_record_is_refused_unless_local_pushes_are_allowed() {
    let (mut forge, _, _) = Forge::with_alice_and_bob();
    let line = serde_json::json!({
        "op": "record", "session": null, "user": null, "key": null, "repo": "acme/widgets",
        "updates": [{"ref_name": "refs/heads/main", "old": OLD, "new": NEW}],
    })
    .to_string();
    assert_refused_without_trace(&forge, &line);
    let mut with_session: serde_json::Value = serde_json::from_str(&line).unwrap();
    with_session["session"] = "5f0c2d4e18a3f601b7d94e2a0c6f1b38".into();
    forge.daemon.config.allow_local_push = true;
    assert_refused_without_trace(&forge, &with_session.to_string());
    assert_eq!(forge.ask(GIT, &line), Response::Done);
    assert_eq!(forge.pending_and_audited(), (0, 1));
}

/// Returns the number a key identity is written as on the wire (`17` for `key-17`).
fn key_number(key: KeyId) -> i64 {
    serde_json::to_value(key)
        .ok()
        .and_then(|value| value.as_i64())
        .expect("a key id is a number on the wire")
}

/// Lets everyone create repositories under `wild/` (`C`), with alice and bob as in
/// [`Forge::with_alice_and_bob`].
fn with_wild_creation() -> (Forge, KeyId, KeyId) {
    let (forge, alice, bob) = Forge::with_alice_and_bob();
    let wild = serde_json::json!({"op": "prepend_rules", "rules": [
        {"seq": 1, "repo": "wild/..*", "who": "@all", "perm": "C", "refex": "refs/.*", "source": "test"},
        {"seq": 2, "repo": "wild/..*", "who": "@CREATOR", "perm": "RW+", "refex": "refs/.*", "source": "test"},
    ]});
    assert!(
        matches!(
            forge.ask(ADMIN, &wild.to_string()),
            Response::Changes { applied: true, .. }
        ),
        "prepend_rules did not apply"
    );
    (forge, alice, bob)
}

#[test]
fn regression_11_a_case_only_twin_through_wild_create_is_denied_not_an_internal_error() {
    let (forge, alice, bob) = with_wild_creation();
    let created = forge.ask(GIT, &check(alice, "wild/Widgets", "read"));
    assert!(matches!(created, Response::Granted { .. }), "{created:?}");
    // Created by a clone: a change of state, audited like any other.
    let rows = admin_audit_rows(&forge);
    let last = rows.last().unwrap();
    assert_eq!(
        (last.op.as_str(), last.kind.as_str()),
        ("check", "repository")
    );
    assert_eq!((last.peer_uid, last.result.as_str()), (GIT.uid, "ok"));
    assert!(last.args.contains(r#""created_for":"alice""#), "{last:?}");
    for (key, access) in [(alice, "read"), (bob, "write")] {
        let answer = forge.ask(GIT, &check(key, "wild/widgets", access));
        assert_eq!(
            answer,
            forge.ask(GIT, &check(bob, "acme/nothing", "read")),
            "a case twin reads like a missing repository"
        );
    }
    let create = format!(
        r#"{{"op":"create","key":{},"repo":"wild/WIDGETS"}}"#,
        key_number(bob)
    );
    assert_eq!(
        error_kind(&forge.ask(GIT, &create)),
        Some(ErrorKind::Refused)
    );
}

#[test]
fn regression_11_creating_by_read_needs_c_and_is_rate_limited_per_user() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    // RW without C: reading a missing repository creates nothing.
    let no_create = serde_json::json!({"op": "prepend_rules", "rules": [
        {"seq": 1, "repo": "open/..*", "who": "@all", "perm": "RW", "refex": "refs/.*", "source": "test"},
    ]});
    forge.ask(ADMIN, &no_create.to_string());
    assert_eq!(
        error_kind(&forge.ask(GIT, &check(alice, "open/one", "read"))),
        Some(ErrorKind::Denied)
    );
    assert!(!forge.repos.path().join("open/one.git").exists());

    let (forge, alice, bob) = with_wild_creation();
    let limit = crate::daemon::creations::MAX_PER_WINDOW;
    for n in 0..limit {
        let answer = forge.ask(GIT, &check(alice, &format!("wild/r{n}"), "read"));
        assert!(
            matches!(answer, Response::Granted { .. }),
            "{n}: {answer:?}"
        );
    }
    let answer = forge.ask(GIT, &check(alice, "wild/one-too-many", "read"));
    assert_eq!(error_kind(&answer), Some(ErrorKind::Busy), "{answer:?}");
    assert!(!forge.repos.path().join("wild/one-too-many.git").exists());
    // An existing repository is still read, and another user still creates.
    assert!(matches!(
        forge.ask(GIT, &check(alice, "wild/r0", "read")),
        Response::Granted { .. }
    ));
    assert!(matches!(
        forge.ask(GIT, &check(bob, "wild/bobs", "read")),
        Response::Granted { .. }
    ));
}

/// A CA made with `ssh-keygen -t ed25519 -C corp-ca`, and a certificate it signed for the
/// principals alice and bob (`-n alice,bob -V 20200101:21000101`).
const CORP_CA: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGM5Co2KoyU1kn1PZLqrtZEj2FPhuTbZ5awj9vXCA1D2 corp-ca";
const ALICE_AND_BOB_CERT: &str = "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAILrsdgU3LMxIHV6ye+VyDaIVoPvtzm5axXXbG4vOS+wEAAAAIHfgRLKLaKvsevtfD8gt33CW4+NhPtk8BkukyGu8nDYDAAAAAAAAAAAAAAABAAAAA3R3bwAAABAAAAAFYWxpY2UAAAADYm9iAAAAAF4L4QAAAAAA9IZXAAAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIGM5Co2KoyU1kn1PZLqrtZEj2FPhuTbZ5awj9vXCA1D2AAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDuxbAOINNBgJvypc6u8DaFsBaSN0peIM6QhByk913CIoSlih2D7MOFPb57yuOKxJ3MCIflNZtxIBvs6gZ3TWcE";

fn principal_lines(forge: &Forge) -> Vec<String> {
    let lookup = serde_json::json!({
        "op": "principals_lookup", "login": forge.daemon.config.git_user,
        "key_type": "ssh-ed25519-cert-v01@openssh.com", "key": ALICE_AND_BOB_CERT,
    });
    match forge.ask(KEYS, &lookup.to_string()) {
        Response::AuthorizedPrincipals { lines } => lines,
        other => panic!("principals_lookup answered {other:?}"),
    }
}

#[test]
fn regression_11_a_certificate_whose_principals_are_several_users_logs_nobody_in() {
    let (forge, _, _) = Forge::with_alice_and_bob();
    let add = serde_json::json!({"op": "ca_add", "name": "corp", "key": CORP_CA});
    assert!(
        !matches!(forge.ask(ADMIN, &add.to_string()), Response::Error { .. }),
        "ca_add failed"
    );
    assert_eq!(principal_lines(&forge), Vec::<String>::new());
    // Both principals mapped to one user: that user, once.
    forge.done(r#"{"op":"principal_map","principal":"bob","user":"alice"}"#);
    let lines = principal_lines(&forge);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(":alice"), "{lines:?}");
}

#[test]
fn regression_11_a_file_name_of_a_push_reaches_the_log_and_the_answer_escaped() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Log {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let no_docs = serde_json::json!({"op": "prepend_rules", "rules": [
        {"seq": 1, "repo": "acme/widgets", "who": "alice", "perm": "-", "refex": "VREF/NAME/docs/", "source": "test"},
    ]});
    forge.ask(ADMIN, &no_docs.to_string());
    let Response::Granted { session, .. } = forge.ask(GIT, &check(alice, "acme/widgets", "write"))
    else {
        panic!("alice may write acme/widgets");
    };
    let path = "docs/a\nINFO forged: access granted user=root\u{1b}[2J";
    let push = serde_json::json!({
        "op": "check_refs", "session": session, "user": "alice", "key": key_number(alice),
        "repo": "acme/widgets",
        "updates": [{"ref_name": "refs/heads/main", "old": OLD, "new": NEW, "kind": "fast_forward", "paths": [path]}],
    });
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    let answer =
        tracing::subscriber::with_default(subscriber, || forge.ask(GIT, &push.to_string()));
    let Response::RefVerdicts { verdicts } = answer else {
        panic!("check_refs answered {answer:?}");
    };
    assert!(!verdicts[0].allowed, "{verdicts:?}");
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let decided: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("ref update decided"))
        .collect();
    assert_eq!(decided.len(), 1, "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains("\nINFO forged: access granted"),
        "{text}"
    );
    assert!(decided[0].contains("docs/a\\nINFO"), "{text}");
}

/// Returns the `forgectl protect acme/widgets main` request for `pushers`.
fn protect_main(pushers: &[&str]) -> String {
    let pushers: Vec<String> = pushers.iter().map(|p| p.to_string()).collect();
    let rules = crate::policy::shortcuts::protection("acme/widgets", Some("main"), &pushers);
    serde_json::json!({"op": "prepend_rules", "rules": rules}).to_string()
}

fn rules_of(forge: &Forge) -> Vec<(String, String, String)> {
    match forge.ask(ADMIN, r#"{"op":"policy_export"}"#) {
        Response::Policy { document } => document
            .rules
            .into_iter()
            .map(|r| (r.who, r.perm, r.refex))
            .collect(),
        other => panic!("policy_export answered {other:?}"),
    }
}

#[test]
fn regression_11_protect_replaces_its_own_rules_refuses_unknown_names_and_is_undone() {
    let (forge, _, _) = Forge::with_alice_and_bob();
    let applied = |answer: Response| matches!(answer, Response::Changes { applied: true, .. });
    assert!(applied(forge.ask(ADMIN, &protect_main(&["alice"]))));
    assert!(applied(forge.ask(ADMIN, &protect_main(&["bob"]))));
    let main = "refs/heads/main$".to_owned();
    assert_eq!(
        rules_of(&forge),
        [
            ("bob".to_owned(), "RW".to_owned(), main.clone()),
            ("@all".to_owned(), "-".to_owned(), main.clone()),
        ],
        "the second protection replaced the first"
    );
    // Again the same: nothing changes.
    match forge.ask(ADMIN, &protect_main(&["bob"])) {
        Response::Changes { lines, .. } => assert!(lines.is_empty(), "{lines:?}"),
        other => panic!("{other:?}"),
    }
    for unknown in [&["carol"][..], &["@nobody"][..]] {
        let answer = forge.ask(ADMIN, &protect_main(unknown));
        assert_eq!(error_kind(&answer), Some(ErrorKind::Refused), "{answer:?}");
    }
    let pushers = vec!["alice".to_owned()];
    let rules = crate::policy::shortcuts::protection("acme/gadgets", None, &pushers);
    let missing_repo = serde_json::json!({"op": "prepend_rules", "rules": rules});
    let answer = forge.ask(ADMIN, &missing_repo.to_string());
    assert_eq!(error_kind(&answer), Some(ErrorKind::Refused), "{answer:?}");
    assert_eq!(
        rules_of(&forge).len(),
        2,
        "refused protections changed nothing"
    );

    let unprotect = r#"{"op":"unprotect","repo":"acme/widgets","branch":"main"}"#;
    assert!(applied(forge.ask(ADMIN, unprotect)));
    assert!(rules_of(&forge).is_empty());
    assert_eq!(
        error_kind(&forge.ask(ADMIN, unprotect)),
        Some(ErrorKind::Refused),
        "nothing left to undo"
    );
}

// https://github.com/forge/forge/issues/12
#[test]
fn a_write_grant_says_which_push_facts_forged_needs_and_refuses_one_sent_without_them() {
    use crate::policy::decide::PushNeeds;
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let needs_of = |forge: &Forge| match forge.ask(GIT, &check(alice, "acme/widgets", "write")) {
        Response::Granted { session, needs, .. } => (session, needs),
        other => panic!("alice's write check answered {other:?}"),
    };
    let (session, needs) = needs_of(&forge);
    let none = PushNeeds {
        paths: false,
        merges: false,
    };
    assert_eq!(needs, none, "no path rule, no merge check");
    // A path rule for alice arrives during her push, whose pre-receive was told not to send
    // the changed paths: forged refuses the update rather than decide it without them.
    let no_docs = serde_json::json!({"op": "prepend_rules", "rules": [
        {"seq": 1, "repo": "acme/widgets", "who": "alice", "perm": "-", "refex": "VREF/NAME/docs/", "source": "test"},
    ]});
    forge.ask(ADMIN, &no_docs.to_string());
    let push = serde_json::json!({
        "op": "check_refs", "session": session, "user": "alice", "key": key_number(alice),
        "repo": "acme/widgets",
        "updates": [{"ref_name": "refs/heads/main", "old": OLD, "new": NEW, "kind": "fast_forward", "has_merges": true}],
    });
    let Response::RefVerdicts { verdicts } = forge.ask(GIT, &push.to_string()) else {
        panic!("check_refs did not answer verdicts");
    };
    assert!(!verdicts[0].allowed, "{verdicts:?}");
    let (_, needs) = needs_of(&forge);
    assert_eq!(
        needs,
        PushNeeds {
            paths: true,
            merges: false
        }
    );
}

/// Returns every request line the doc comments of the wire's requests show, without `"v"`.
fn documented_requests() -> Vec<Request> {
    let mut requests = Vec::new();
    for line in include_str!("../../wire/request.rs").lines() {
        let Some(doc) = line.trim_start().strip_prefix("///") else {
            continue;
        };
        for (index, span) in doc.split('`').enumerate() {
            if index % 2 == 1 && span.starts_with(r#"{"v":1,"op":"#) {
                let request: Request = serde_json::from_str(span)
                    .unwrap_or_else(|e| panic!("{span} is not a request line: {e}"));
                requests.push(request);
            }
        }
    }
    requests
}

/// Returns how many ops `Request::op` names.
fn ops_named() -> usize {
    let source = include_str!("../../wire/request.rs");
    let start = source.find("pub fn op(&self)").expect("Request::op exists");
    let body = &source[start..];
    let end = body.find("\n    }\n").expect("Request::op ends");
    body[..end].matches("=> \"").count()
}

fn admin_audit_rows(forge: &Forge) -> Vec<crate::wire::AdminAuditEntry> {
    match forge.ask(ADMIN, r#"{"op":"admin_audit","limit":1000}"#) {
        Response::AdminAudit { entries } => entries,
        other => panic!("admin_audit answered {other:?}"),
    }
}

#[test]
fn every_op_that_changes_state_leaves_an_admin_audit_row_and_no_other_op_changes_state() {
    let requests = documented_requests();
    let mut ops: Vec<&str> = requests.iter().map(Request::op).collect();
    ops.sort_unstable();
    ops.dedup();
    assert_eq!(
        ops.len(),
        ops_named(),
        "every op needs a documented request line, and this test runs each: {ops:?}"
    );
    let mut audited = 0;
    for request in requests {
        let (forge, _, _) = Forge::with_alice_and_bob();
        let before_rows = admin_audit_rows(&forge).len();
        let before = forge.daemon.store.dump_state();
        let caller = match request.required_role() {
            crate::wire::Role::Admin => ADMIN,
            crate::wire::Role::Service => GIT,
            crate::wire::Role::KeyLookup => KEYS,
        };
        let op = request.op();
        let changes = request.changes();
        let answer = handle(&forge.daemon, &caller, request, ID);
        let rows = admin_audit_rows(&forge);
        let after = forge.daemon.store.dump_state();
        match changes {
            Some(kind) => {
                audited += 1;
                let new: Vec<_> = rows[before_rows..].iter().collect();
                assert_eq!(new.len(), 1, "{op} answered {answer:?} and left {new:?}");
                let row = new[0];
                assert_eq!((row.op.as_str(), row.kind.clone()), (op, kind.name()));
                assert_eq!(row.peer_uid, caller.uid, "{op}");
                let ok = !matches!(answer, Response::Error { .. });
                assert_eq!(row.result == crate::store::AUDIT_OK, ok, "{op}: {row:?}");
                if !ok {
                    assert_eq!(before, after, "{op} was refused, yet changed state");
                }
            }
            None => {
                assert_eq!(
                    rows.len(),
                    before_rows,
                    "{op} is not audited, yet left a row"
                );
                assert_eq!(
                    before, after,
                    "{op} changed state but Request::changes says it changes none, so the \
                     admin audit misses it: give it its kind"
                );
            }
        }
    }
    assert!(audited >= 15, "only {audited} audited ops were run");
}

#[test]
fn an_audited_change_names_the_peer_and_its_arguments_without_secrets() {
    let forge = Forge::new();
    forge.done(r#"{"op":"user_add","user":"alice"}"#);
    let answer = forge.ask(ROOT, r#"{"op":"user_add","user":"alice"}"#);
    assert!(matches!(answer, Response::Error { .. }), "{answer:?}");
    let rows = admin_audit_rows(&forge);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (
            rows[0].peer_uid,
            rows[0].args.as_str(),
            rows[0].result.as_str()
        ),
        (ADMIN.uid, r#"{"user":"alice"}"#, "ok")
    );
    assert_eq!(rows[1].peer_uid, 0);
    assert_eq!(rows[1].peer_name, "root");
    assert_eq!(rows[1].result, "user 'alice' already exists");
    // A field named as a secret is never stored, whatever op carries it, and a huge value
    // (a policy of thousands of rules) is stored as its size.
    let stored = crate::wire::request::audited(serde_json::json!({
        "op": "webhook_add", "url": "https://ci.example/hook", "secret": "hunter2",
        "document": "x".repeat(crate::wire::request::MAX_AUDITED_VALUE + 1),
    }));
    assert!(
        !stored.contains("hunter2") && !stored.contains("xxx"),
        "{stored}"
    );
    assert!(stored.contains("https://ci.example/hook"), "{stored}");
    assert!(
        stored.contains(r#""document":"(16387 bytes, not recorded)""#),
        "{stored}"
    );
}

fn denied_rows(forge: &Forge) -> Vec<crate::wire::DeniedEntry> {
    match forge.ask(ADMIN, r#"{"op":"denied_audit","limit":1000}"#) {
        Response::Denied { entries } => entries,
        other => panic!("denied_audit answered {other:?}"),
    }
}

#[test]
fn denied_attempts_are_recorded_with_the_rule_and_rate_limited_per_identity() {
    let (forge, alice, bob) = Forge::with_alice_and_bob();
    forge.done(r#"{"op":"grant","repo":"acme/widgets","user":"bob","access":"read"}"#);
    assert!(matches!(
        forge.ask(GIT, &check(alice, "acme/widgets", "write")),
        Response::Granted { .. }
    ));
    assert!(
        denied_rows(&forge).is_empty(),
        "a granted check is no denial"
    );
    for _ in 0..25 {
        let answer = forge.ask(GIT, &check(bob, "acme/widgets", "write"));
        assert!(matches!(
            answer,
            Response::Error {
                kind: ErrorKind::Denied,
                ..
            }
        ));
    }
    let unknown = KeyId::new(4242);
    forge.ask(GIT, &check(unknown, "acme/widgets", "read"));
    let rows = denied_rows(&forge);
    assert_eq!(rows.len(), 11, "{rows:#?}");
    let first = &rows[0];
    assert_eq!(
        (
            first.user.as_str(),
            first.key,
            first.repo.as_str(),
            first.access.as_str()
        ),
        ("bob", Some(key_number(bob)), "acme/widgets", "write")
    );
    assert!(first.rule.contains("no rule lets bob"), "{}", first.rule);
    let last = &rows[10];
    assert_eq!(
        (last.user.as_str(), last.key, last.left_out),
        ("(key-4242)", Some(4242), 15)
    );
}

#[test]
fn a_denied_ref_update_is_recorded_with_where_its_rule_came_from_not_its_number() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let source = "forgectl protect acme/widgets branch 'main'";
    let protect = serde_json::json!({"op": "prepend_rules", "rules": [
        {"seq": 1, "repo": "acme/widgets", "who": "alice", "perm": "RW", "refex": "refs/heads/main$", "source": source},
        {"seq": 2, "repo": "acme/widgets", "who": "@all", "perm": "-", "refex": "refs/heads/main$", "source": source},
    ]});
    assert!(matches!(
        forge.ask(ADMIN, &protect.to_string()),
        Response::Changes { applied: true, .. }
    ));
    let session = forge.session(alice, "acme/widgets", "write");
    let Response::RefVerdicts { verdicts } =
        forge.ask(GIT, &check_refs(&session, alice, "non_fast_forward"))
    else {
        panic!("check_refs did not answer with verdicts");
    };
    assert!(!verdicts[0].allowed, "{verdicts:?}");
    let rows = denied_rows(&forge);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(
        (row.user.as_str(), row.key, row.repo.as_str()),
        ("alice", Some(key_number(alice)), "acme/widgets")
    );
    assert!(row.access.ends_with("refs/heads/main"), "{row:?}");
    assert_eq!(
        row.rule,
        format!("'- refs/heads/main$ = @all' on 'acme/widgets' ({source})")
    );
}

/// An import request for `alice` and a policy giving `who` `RW` on acme/widgets.
fn import_line(who: &str, dry_run: bool, replace: bool) -> String {
    let document = serde_json::json!({
        "user_groups": {}, "repo_groups": {}, "options": [], "roles": [],
        "rules": [{"seq": 1, "repo": "acme/widgets", "who": who, "perm": "RW",
                   "refex": "refs/.*", "source": "gitolite.conf line 2"}],
    });
    serde_json::json!({"op": "import", "users": ["alice"], "keys": [], "document": document,
                       "dry_run": dry_run, "replace": replace})
    .to_string()
}

// https://github.com/forge/forge/issues/13
#[test]
fn regression_13_an_import_replaces_a_policy_the_forge_holds_only_when_asked() {
    let (forge, _, _) = Forge::with_alice_and_bob();
    let applied = |answer: Response| matches!(answer, Response::Changes { applied: true, .. });
    assert!(
        applied(forge.ask(ADMIN, &import_line("alice", false, false))),
        "an empty policy is no policy to lose"
    );
    assert!(
        applied(forge.ask(ADMIN, &import_line("alice", false, false))),
        "the same import again changes nothing, so it needs no --replace"
    );
    let before = forge.state();
    let answer = forge.ask(ADMIN, &import_line("bob", false, false));
    assert_eq!(error_kind(&answer), Some(ErrorKind::Refused), "{answer:?}");
    let Response::Error { message, .. } = &answer else {
        unreachable!()
    };
    assert!(message.contains("pass --replace"), "{message}");
    assert_eq!(forge.state(), before, "a refused import changed something");
    match forge.ask(ADMIN, &import_line("bob", true, false)) {
        Response::Changes { lines, applied, .. } => {
            assert!(!applied);
            assert!(
                lines.contains(&"- rule RW refs/.* = alice on acme/widgets".to_owned()),
                "{lines:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(applied(forge.ask(ADMIN, &import_line("bob", false, true))));
    assert_eq!(
        rules_of(&forge),
        [("bob".to_owned(), "RW".to_owned(), "refs/.*".to_owned())]
    );
}

/// A `policy_apply` line: group `@admins` of `admins` holds `RW+` on acme/widgets.
fn apply_line(admins: &[&str], dry_run: bool) -> String {
    let document = serde_json::json!({
        "user_groups": {"@admins": admins}, "repo_groups": {}, "options": [], "roles": [],
        "rules": [{"seq": 1, "repo": "acme/widgets", "who": "@admins", "perm": "RW+",
                   "refex": "refs/.*", "source": "policy.toml line 4"}],
    });
    serde_json::json!({"op": "policy_apply", "document": document, "dry_run": dry_run}).to_string()
}

// https://github.com/forge/forge/issues/13
#[test]
fn regression_13_unknown_user_names_in_a_policy_warn_and_a_lockout_by_typo_is_refused() {
    let (forge, _, _) = Forge::with_alice_and_bob();
    let answer = forge.ask(ADMIN, &apply_line(&["alice", "dave"], false));
    let Response::Changes {
        applied, warnings, ..
    } = answer
    else {
        panic!("{answer:?}")
    };
    assert!(applied, "an unknown name alone does not stop a policy");
    assert_eq!(
        warnings,
        [
            "'dave' (group @admins) is not a user of this forge; add it with 'forgectl user add', or fix the name"
        ]
    );

    // alice holds RW+ now; a policy whose only admin is a typo of her name would take it away.
    let before = forge.state();
    for dry_run in [true, false] {
        let answer = forge.ask(ADMIN, &apply_line(&["alcie"], dry_run));
        assert_eq!(error_kind(&answer), Some(ErrorKind::Refused), "{answer:?}");
        let Response::Error { message, .. } = &answer else {
            unreachable!()
        };
        assert!(
            message.starts_with(
                "the policy gives force push (RW+) on 'acme/widgets' only to 'alcie', not users of this forge"
            ),
            "{message}"
        );
    }
    assert_eq!(forge.state(), before, "a refused policy changed something");
    let answer = forge.ask(ADMIN, &apply_line(&["bob"], false));
    assert!(
        matches!(answer, Response::Changes { applied: true, ref warnings, .. } if warnings.is_empty()),
        "{answer:?}"
    );
}

fn in_flight(forge: &Forge) -> u64 {
    match forge.ask(ADMIN, r#"{"op":"maintenance_status"}"#) {
        Response::Maintenance(info) => info.in_flight,
        other => panic!("maintenance_status answered {other:?}"),
    }
}

#[test]
fn maintenance_refuses_changes_and_pushes_with_its_message_but_not_reads() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let session = forge.session(alice, "acme/widgets", "write");
    let on = forge.ask(ADMIN, r#"{"op":"maintenance_on","message":"new disks"}"#);
    assert!(
        matches!(on, Response::Maintenance(ref info) if info.on),
        "{on:?}"
    );
    for line in [
        r#"{"op":"user_add","user":"carol"}"#.to_owned(),
        r#"{"op":"repo_create","repo":"acme/other","description":"","public":false}"#.to_owned(),
        r#"{"op":"grant","repo":"acme/widgets","user":"bob","access":"read"}"#.to_owned(),
        check(alice, "acme/widgets", "write"),
    ] {
        let caller = if line.contains("\"check\"") {
            GIT
        } else {
            ADMIN
        };
        match forge.ask(caller, &line) {
            Response::Error {
                kind: ErrorKind::Maintenance,
                message,
                ..
            } => assert_eq!(message, "under maintenance: new disks; try again later"),
            other => panic!("{line} answered {other:?}"),
        }
    }
    // A session issued before maintenance began cannot start moving refs now.
    let refused = forge.ask(GIT, &check_refs(&session, alice, "fast_forward"));
    assert_eq!(
        error_kind(&refused),
        Some(ErrorKind::Maintenance),
        "{refused:?}"
    );
    assert_eq!(forge.pending_updates(), 0);
    assert!(matches!(
        forge.ask(GIT, &check(alice, "acme/widgets", "read")),
        Response::Granted { .. }
    ));
    assert!(matches!(
        forge.ask(ADMIN, r#"{"op":"user_list"}"#),
        Response::Users { .. }
    ));
    let off = forge.ask(ADMIN, r#"{"op":"maintenance_off"}"#);
    assert!(
        matches!(off, Response::Maintenance(ref info) if !info.on),
        "{off:?}"
    );
    forge.done(r#"{"op":"user_add","user":"carol"}"#);
}

#[test]
fn a_push_is_in_flight_from_an_accepted_check_refs_to_its_record() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let session = forge.session(alice, "acme/widgets", "write");
    assert_eq!(in_flight(&forge), 0, "a session alone is not in flight");
    let verdicts = forge.ask(GIT, &check_refs(&session, alice, "fast_forward"));
    assert!(
        matches!(verdicts, Response::RefVerdicts { .. }),
        "{verdicts:?}"
    );
    assert_eq!(in_flight(&forge), 1);
    let record = hook_request("record", &session, "alice", alice, "acme/widgets", None);
    assert_eq!(forge.ask(GIT, &record), Response::Done);
    assert_eq!(in_flight(&forge), 0);
}

#[test]
fn a_refused_check_refs_leaves_nothing_in_flight() {
    let (forge, alice, _) = Forge::with_alice_and_bob();
    let session = forge.session(alice, "acme/widgets", "write");
    // alice's grant has no force push.
    let verdicts = forge.ask(GIT, &check_refs(&session, alice, "non_fast_forward"));
    assert!(
        matches!(verdicts, Response::RefVerdicts { ref verdicts } if !verdicts[0].allowed),
        "{verdicts:?}"
    );
    assert_eq!(in_flight(&forge), 0);
}

#[test]
fn snapshot_ids_are_forgeds_own_and_maintenance_is_an_admins() {
    let forge = Forge::new();
    for id in ["../../etc/passwd", "", "zz"] {
        let line =
            serde_json::json!({"op": "db_snapshot_read", "snapshot": id, "offset": 0}).to_string();
        let answer = forge.ask(ADMIN, &line);
        assert_eq!(
            error_kind(&answer),
            Some(ErrorKind::Refused),
            "{id}: {answer:?}"
        );
    }
    let answer = forge.ask(GIT, r#"{"op":"maintenance_off"}"#);
    assert_eq!(
        error_kind(&answer),
        Some(ErrorKind::Forbidden),
        "{answer:?}"
    );
    let answer = forge.ask(
        GIT,
        r#"{"op":"pause_writes","lease_seconds":60,"wait_seconds":0}"#,
    );
    assert_eq!(
        error_kind(&answer),
        Some(ErrorKind::Forbidden),
        "{answer:?}"
    );
}

// https://github.com/forge/forge/issues/13
#[test]
fn regression_13_a_role_is_given_only_to_a_user_or_group_that_exists() {
    let (forge, _, _) = Forge::with_alice_and_bob();
    let perms = |op: &str, member: &str| {
        serde_json::json!({"op": "repo_perms", "repo": "acme/widgets",
                           "change": {op: {"role": "READERS", "member": member}}})
        .to_string()
    };
    let before = forge.state();
    for member in ["bbo", "@nobody"] {
        let answer = forge.ask(ADMIN, &perms("add", member));
        assert_eq!(error_kind(&answer), Some(ErrorKind::Refused), "{answer:?}");
        let Response::Error { message, .. } = &answer else {
            unreachable!()
        };
        assert_eq!(
            message,
            &format!("'{member}' is not a user or a group of this forge; check the name")
        );
    }
    assert_eq!(forge.state(), before);
    for member in ["bob", "@all"] {
        let answer = forge.ask(ADMIN, &perms("add", member));
        assert!(matches!(answer, Response::Roles { .. }), "{answer:?}");
    }
    let answer = forge.ask(ADMIN, &perms("remove", "bob"));
    assert!(matches!(answer, Response::Roles { .. }), "{answer:?}");
}

#[test]
fn a_local_push_is_in_flight_from_its_check_refs_to_its_record() {
    let (mut forge, _, _) = Forge::with_alice_and_bob();
    forge.daemon.config.allow_local_push = true;
    let update = serde_json::json!({"ref_name": "refs/heads/main", "old": OLD, "new": NEW});
    let mut line = serde_json::json!({
        "op": "check_refs", "session": null, "user": null, "key": null, "repo": "acme/widgets",
        "updates": [update.clone()],
    });
    line["updates"][0]["kind"] = "fast_forward".into();
    let verdicts = forge.ask(GIT, &line.to_string());
    assert!(
        matches!(verdicts, Response::RefVerdicts { ref verdicts } if verdicts[0].allowed),
        "{verdicts:?}"
    );
    assert_eq!(in_flight(&forge), 1);
    line["op"] = "record".into();
    line["updates"] = serde_json::json!([update]);
    assert_eq!(forge.ask(GIT, &line.to_string()), Response::Done);
    assert_eq!(in_flight(&forge), 0);
}
