//! Backup and restore end to end: a backup taken while a thread pushes in a loop restores into
//! a fresh forge (a second forged on the restored state) with every push acknowledged before
//! the backup began; `restore --verify` passes on it and fails, naming the repository, on a
//! tampered copy; restore refuses a running forged and a target that holds data.

use crate::common;

use common::TestEnv;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// How many pushes the pushing thread makes; `FORGE_TEST_BACKUP_PUSHES` for a longer run.
fn push_count() -> usize {
    std::env::var("FORGE_TEST_BACKUP_PUSHES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(8)
}

fn tip(path: &Path, name: &str) -> Option<git2::Oid> {
    let repository = git2::Repository::open_bare(path).ok()?;
    repository.find_reference(name).ok()?.target()
}

/// Returns whether `commit` is `tip` or one of its ancestors, in the repository at `path`.
fn contains(path: &Path, tip: git2::Oid, commit: &str) -> bool {
    let repository = git2::Repository::open_bare(path).unwrap();
    let commit = git2::Oid::from_str(commit).unwrap();
    tip == commit || repository.graph_descendant_of(tip, commit).unwrap_or(false)
}

#[test]
fn a_backup_taken_during_pushes_restores_into_a_fresh_forge_with_every_acknowledged_push() {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["repo", "create", "acme/empty"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.start_sshd();
    let alice = env.as_user("alice");
    alice.start_work("work");
    let first = alice.git_in("work", ["push", "-q", "forge:acme/widgets", "main"]);
    assert_eq!(first.code, Some(0), "{first}");

    let backup = env.path("backup");
    let acknowledged: Mutex<Vec<(Instant, String)>> = Mutex::new(Vec::new());
    let count = push_count();
    let (began, made) = std::thread::scope(|scope| {
        let pusher = scope.spawn(|| {
            for round in 0..count {
                let commit = alice.commit("work", "a", &format!("round {round}"));
                let pushed = alice.git_in("work", ["push", "-q", "forge:acme/widgets", "main"]);
                // A push refused while paused is pushed again with the next round.
                if pushed.code == Some(0) {
                    acknowledged.lock().unwrap().push((Instant::now(), commit));
                }
            }
        });
        // Let a few pushes land first; bounded by the pusher's own end.
        while acknowledged.lock().unwrap().len() < 2 && !pusher.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let began = Instant::now();
        let made = env.forgectl(["backup", backup.to_str().unwrap()]);
        pusher.join().unwrap();
        (began, made)
    });
    assert_eq!(made.code, Some(0), "{made}\n{}", env.logs());
    assert!(made.stdout.starts_with("backup in "), "{made}");
    // The summary says how long pushes were paused: a figure for the CI log, not asserted.
    eprintln!("{}", made.stdout.trim_end());
    let before: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, commit)| commit.clone())
        .collect();
    assert!(!before.is_empty());

    let verified = env.forgectl(["restore", backup.to_str().unwrap(), "--verify"]);
    assert_eq!(verified.code, Some(0), "{verified}");

    // A fresh forge: restore, then a second forged on the restored state.
    let mut fresh = TestEnv::new();
    let restored = fresh.forgectl(["restore", backup.to_str().unwrap()]);
    assert_eq!(restored.code, Some(0), "{restored}");
    let widgets = fresh.path("repos/acme/widgets.git");
    let main = tip(&widgets, "refs/heads/main").expect("main is restored");
    for commit in &before {
        assert!(
            contains(&widgets, main, commit),
            "{commit} was acknowledged before the backup began"
        );
    }
    fresh.start_forged();
    let repos = fresh.forgectl_ok(["repo", "list"]);
    assert!(
        repos.stdout.contains("acme/widgets") && repos.stdout.contains("acme/empty"),
        "{repos}"
    );
    let audit = fresh.forgectl_ok(["audit", "--json"]);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(entries[0]["new"], main.to_string(), "{audit}");
    let refused = fresh.forgectl(["restore", backup.to_str().unwrap()]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("forged is running"), "{refused}");
    fresh.stop_forged();
    let refused = fresh.forgectl(["restore", backup.to_str().unwrap()]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("holds data"), "{refused}");
    fresh.forgectl_ok(["restore", backup.to_str().unwrap(), "--force"]);

    // Tampered: main moved back to the first commit in the backup.
    let root_commit = {
        let repository = git2::Repository::open_bare(&widgets).unwrap();
        let mut walk = repository.revwalk().unwrap();
        walk.push(main).unwrap();
        walk.last().unwrap().unwrap()
    };
    std::fs::write(
        backup.join("repos/acme/widgets.git/refs/heads/main"),
        format!("{root_commit}\n"),
    )
    .unwrap();
    let failed = env.forgectl(["restore", backup.to_str().unwrap(), "--verify"]);
    assert_eq!(failed.code, Some(1), "{failed}");
    assert_eq!(failed.stderr.lines().count(), 1, "{failed}");
    assert!(
        failed.stderr.contains("repository 'acme/widgets'"),
        "{failed}"
    );
}

#[test]
fn a_database_only_backup_restores_the_database_alone() {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    let backup = env.path("db-backup");
    env.forgectl_ok(["backup", "--db-only", backup.to_str().unwrap()]);
    assert!(!backup.join("repos").exists());
    env.forgectl_ok(["restore", "--verify", backup.to_str().unwrap()]);
    let again = env.forgectl(["backup", backup.to_str().unwrap()]);
    assert_eq!(again.code, Some(1), "{again}");
    assert!(again.stderr.contains("is not empty"), "{again}");

    let mut fresh = TestEnv::new();
    let whole = fresh.forgectl(["restore", backup.to_str().unwrap()]);
    assert_eq!(whole.code, Some(1), "{whole}");
    assert!(whole.stderr.contains("--db-only"), "{whole}");
    fresh.forgectl_ok(["restore", "--db-only", backup.to_str().unwrap()]);
    fresh.start_forged();
    let users = fresh.forgectl_ok(["user", "list"]);
    assert!(users.stdout.contains("alice"), "{users}");
}

#[test]
fn a_pause_left_by_a_dead_backup_refuses_pushes_until_its_lease_ends() {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.start_sshd();
    let alice = env.as_user("alice");
    alice.start_work("work");
    let backup = env.path("backup");
    let mut dying = std::process::Command::new(env!("CARGO_BIN_EXE_forgectl"));
    dying
        .arg("--config")
        .arg(&env.config)
        .args(["backup", "--pause-lease", "15", backup.to_str().unwrap()])
        .env("FORGE_FAULT", "backup.paused=kill");
    let died = common::outcome::Outcome::of(&mut dying, None);
    assert_eq!(died.code, None, "forgectl dies at the fault point: {died}");

    // Paused: an admin write and a push wait briefly, then are refused as paused.
    let written = env.forgectl(["user", "add", "bob"]);
    assert_eq!(written.code, Some(75), "{written}");
    assert!(
        written.stderr.contains("paused for maintenance; try again"),
        "{written}"
    );
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_ne!(pushed.code, Some(0), "{pushed}");
    assert_eq!(
        pushed.forge_line(),
        "forge: paused for maintenance; try again",
        "{pushed}"
    );
    // The lease ends the pause; bounded retries.
    let mut landed = false;
    for _ in 0..10 {
        if alice
            .git_in("work", ["push", "-q", "forge:acme/widgets", "main"])
            .code
            == Some(0)
        {
            landed = true;
            break;
        }
    }
    assert!(landed, "the pause outlived its lease\n{}", env.logs());
}
