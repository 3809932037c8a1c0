//! The admin audit, denied attempts and `repo restore`, through the real forgectl, forge-shell
//! and forged on a temporary socket and SQLite file (#13).

use crate::common::{self, TestEnv};

fn json(outcome: &common::outcome::Outcome) -> Vec<serde_json::Value> {
    serde_json::from_str(&outcome.stdout).unwrap_or_else(|e| panic!("{outcome}: {e}"))
}

fn forge() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    env
}

#[test]
fn every_change_of_state_is_listed_with_who_asked_what_and_the_result() {
    let env = forge();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    let refused = env.forgectl(["user", "add", "alice"]);
    assert_eq!(refused.code, Some(1), "{refused}");
    env.forgectl_ok(["user", "list"]);
    let rows = json(&env.forgectl_ok(["audit", "--admin", "--json"]));
    let seen: Vec<(String, String)> = rows
        .iter()
        .map(|row| {
            (
                row["op"].as_str().unwrap().to_owned(),
                row["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let ok = |op: &str| (op.to_owned(), "ok".to_owned());
    assert_eq!(
        seen,
        [
            ok("user_add"),
            ok("key_add"),
            ok("repo_create"),
            ok("grant"),
            ("user_add".into(), "user 'alice' already exists".into()),
        ],
        "{rows:#?}"
    );
    let uid = nix::unistd::Uid::current().as_raw();
    for row in &rows {
        assert_eq!(row["peer_uid"], uid, "{row}");
        assert_eq!(row["peer_name"], common::login_user().as_str(), "{row}");
    }
    assert_eq!(
        rows[3]["args"],
        r#"{"access":"write","repo":"acme/widgets","user":"alice"}"#
    );
    // The table, and nothing since a time ahead; the ref-update audit stays the default.
    let table = env.forgectl_ok(["audit", "--admin"]);
    assert!(table.stdout.starts_with("TIME"), "{table}");
    assert!(table.stdout.contains("already exists"), "{table}");
    let later = env.forgectl_ok(["audit", "--admin", "--json", "--since", "2999-01-01"]);
    assert!(json(&later).is_empty(), "{later}");
    let pushes = env.forgectl_ok(["audit"]);
    assert!(pushes.stdout.contains("OLD..NEW"), "{pushes}");
    let usage = env.forgectl(["audit", "--since", "2020-01-01"]);
    assert_eq!(
        usage.code,
        Some(2),
        "--since needs --admin or --denied: {usage}"
    );
}

#[test]
fn denied_attempts_name_the_key_the_repository_and_the_rule_and_a_flood_is_cut() {
    let env = forge();
    env.add_user("alice");
    env.add_user("bob");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    let shell = |key: &str| {
        let mut command = std::process::Command::new(common::FORGE_SHELL);
        command
            .env_clear()
            .arg("--config")
            .arg(&env.config)
            .arg(key)
            .env("SSH_ORIGINAL_COMMAND", "git-upload-pack 'acme/widgets'");
        common::outcome::Outcome::of(&mut command, None)
    };
    const ATTEMPTS: usize = 25;
    for _ in 0..ATTEMPTS {
        let denied = shell("key-2");
        assert_eq!(denied.code, Some(1), "{denied}");
    }
    shell("key-99");
    let rows = json(&env.forgectl_ok(["audit", "--denied", "--json"]));
    assert_eq!(
        (
            &rows[0]["user"],
            &rows[0]["key"],
            &rows[0]["repo"],
            &rows[0]["access"]
        ),
        (
            &"bob".into(),
            &2.into(),
            &"acme/widgets".into(),
            &"read".into()
        )
    );
    let rule = rows[0]["rule"].as_str().unwrap();
    assert!(rule.contains("no rule lets bob"), "{rule}");
    assert!(!rule.contains("rule 1"), "an internal rule number: {rule}");
    // At most ten a minute for one key (the attempts may straddle two minutes), and every
    // attempt left out is counted by a later row: here the unknown key's.
    let bobs = rows.iter().filter(|row| row["user"] == "bob").count();
    assert!(bobs <= 20, "{rows:#?}");
    let last = rows.last().unwrap();
    assert_eq!(last["key"], 99, "{rows:#?}");
    let left_out: i64 = rows
        .iter()
        .map(|row| row["left_out"].as_i64().unwrap())
        .sum();
    assert_eq!(bobs as i64 + left_out, ATTEMPTS as i64, "{rows:#?}");
    let table = env.forgectl_ok(["audit", "--denied"]);
    assert!(table.stdout.contains("key-99"), "{table}");
}

#[test]
fn a_removed_repository_is_restored_from_its_latest_copy_or_the_one_chosen() {
    let env = forge();
    let description = env.path("repos/acme/widgets.git/description");
    for round in ["first", "second"] {
        env.forgectl_ok(["repo", "create", "acme/widgets"]);
        std::fs::write(&description, round).unwrap();
        env.forgectl_ok(["repo", "remove", "acme/widgets", "--yes"]);
    }
    let restored = env.forgectl_ok(["repo", "restore", "acme/widgets"]);
    assert!(
        restored.stdout.contains("latest of 2 removed copies"),
        "{restored}"
    );
    assert_eq!(std::fs::read_to_string(&description).unwrap(), "second");
    let listed = env.forgectl_ok(["repo", "list"]);
    assert!(listed.stdout.contains("acme/widgets"), "{listed}");
    let again = env.forgectl(["repo", "restore", "acme/widgets"]);
    assert_eq!(again.code, Some(1), "{again}");
    assert!(again.stderr.contains("exists again"), "{again}");
    // The other copy, by the name restore gave.
    let stamp = restored
        .stdout
        .split("removed at ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_owned();
    env.forgectl_ok(["repo", "remove", "acme/widgets", "--yes"]);
    env.forgectl_ok(["repo", "restore", "acme/widgets", "--from", &stamp]);
    assert_eq!(std::fs::read_to_string(&description).unwrap(), "first");
    let missing = env.forgectl(["repo", "restore", "never/was"]);
    assert_eq!(missing.code, Some(1), "{missing}");
    assert!(missing.stderr.contains("no removed copy"), "{missing}");
    // Restoring is a change of state like any other.
    let rows = json(&env.forgectl_ok(["audit", "--admin", "--json"]));
    let restores = rows
        .iter()
        .filter(|row| row["op"] == "repo_restore")
        .count();
    assert_eq!(restores, 4, "{rows:#?}");
}
