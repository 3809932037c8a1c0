//! The fault suite, admin side: forged killed with SIGKILL at random moments while forgectl
//! writes, and a schema migration killed half way.
//!
//! After every kill: each write forgectl saw succeed is there, none is half applied (a key is
//! never there without its user, a grant never without its repository), and the database
//! passes `PRAGMA integrity_check` and `foreign_key_check`.
//!
//! Counts scale with `FORGE_FAULT_SCALE` (default 1, what CI runs); the random delays come from
//! `FORGE_FAULT_SEED`, else from the clock, and the seed is printed so a failure can be replayed.

use crate::common::faults::{Rng, assert_database_sound, scale, seed};
use crate::common::{FORGECTL, FORGED, TestEnv, keygen};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the writer saw acknowledged.
#[derive(Default)]
struct Acknowledged {
    users: BTreeSet<String>,
    keys: BTreeSet<String>,
    grants: BTreeSet<String>,
}

fn names(env: &TestEnv, args: &[&str], field: &str) -> BTreeSet<String> {
    let outcome = env.forgectl_ok(args);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&outcome.stdout)
        .unwrap_or_else(|e| panic!("{args:?} did not print JSON ({e}): {}", outcome.stdout));
    rows.iter()
        .map(|row| {
            row[field]
                .as_str()
                .unwrap_or_else(|| panic!("{args:?}: no '{field}' in {row}"))
                .to_owned()
        })
        .collect()
}

/// Runs admin writes one after another until one fails (forged was killed) or `stop` is set:
/// a user, a key of that user, a grant of the one repository to that user, and so on.
fn write_until_refused(
    config: &Path,
    keys: &Path,
    round: usize,
    stop: &AtomicBool,
    seen: &Mutex<Acknowledged>,
) {
    let ok = |args: &[&str]| {
        Command::new(FORGECTL)
            .arg("--config")
            .arg(config)
            .args(args)
            .output()
            .unwrap()
            .status
            .success()
    };
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let user = format!("u{round}x{n}");
        if !ok(&["user", "add", &user]) {
            return;
        }
        seen.lock().unwrap().users.insert(user.clone());
        // Each user gets their own key: a key is registered once.
        let key = keys.join(&user);
        keygen(&key, &user);
        if !ok(&["key", "add", &user, &format!("{}.pub", key.display())]) {
            return;
        }
        seen.lock().unwrap().keys.insert(user.clone());
        if !ok(&["grant", "acme/widgets", &user, "write"]) {
            return;
        }
        seen.lock().unwrap().grants.insert(user);
    }
}

#[test]
fn acknowledged_admin_writes_survive_random_kills_of_forged() {
    let rounds = 12 * scale();
    let seed = seed();
    eprintln!("faults_admin: {rounds} rounds, FORGE_FAULT_SEED={seed}");
    let mut rng = Rng::new(seed);
    let mut env = TestEnv::new();
    env.start_forged();
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    let keys = env.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let seen = Arc::new(Mutex::new(Acknowledged::default()));
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (config, keys) = (env.config.clone(), keys.clone());
            let (stop, seen) = (Arc::clone(&stop), Arc::clone(&seen));
            std::thread::spawn(move || write_until_refused(&config, &keys, round, &stop, &seen))
        };
        std::thread::sleep(Duration::from_millis(rng.below(400) + 20));
        env.kill_forged();
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        assert_database_sound(&env.path("forge.db"));
        env.start_forged();
        let users = names(&env, &["user", "list", "--json"], "name");
        let key_owners = names(&env, &["key", "list", "--json"], "user");
        let seen = seen.lock().unwrap();
        for user in &seen.users {
            assert!(
                users.contains(user),
                "round {round} (seed {seed}): acknowledged user {user} is gone"
            );
        }
        for user in &seen.keys {
            assert!(
                key_owners.contains(user),
                "round {round} (seed {seed}): acknowledged key of {user} is gone"
            );
        }
        for user in &seen.grants {
            let can = env.forgectl(["access", user, "acme/widgets", "W"]);
            assert_eq!(
                can.code,
                Some(0),
                "round {round} (seed {seed}): acknowledged grant to {user} is gone: {can}"
            );
        }
    }
    let seen = seen.lock().unwrap();
    eprintln!(
        "faults_admin: {} users, {} keys, {} grants acknowledged across {rounds} kills",
        seen.users.len(),
        seen.keys.len(),
        seen.grants.len()
    );
    assert!(
        !seen.grants.is_empty(),
        "no write was acknowledged at all: the test proves nothing"
    );
}

/// The tables of the two newest migrations, newest first: the test takes a database back by
/// exactly these. Add a migration and this list must name its tables (the test says so).
const NEWEST_TWO: [(i64, &[&str]); 2] = [
    (9, &["maintenance"]),
    (8, &["admin_audit", "denied_attempts"]),
];

/// A database of this build's schema, taken back two versions by hand: the tables of the two
/// newest migrations removed and `user_version` set back, as a database of an older forge
/// would be.
fn older_database(env: &mut TestEnv) -> i64 {
    env.start_forged();
    env.forgectl_ok(["user", "add", "alice"]);
    env.stop_forged();
    let connection = rusqlite::Connection::open(env.path("forge.db")).unwrap();
    let latest: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        latest, NEWEST_TWO[0].0,
        "the schema has a new migration: name its tables in NEWEST_TWO"
    );
    for (_, tables) in NEWEST_TWO {
        for table in tables {
            connection
                .execute_batch(&format!("DROP TABLE {table}"))
                .unwrap();
        }
    }
    let older = latest - NEWEST_TWO.len() as i64;
    connection
        .pragma_update(None, "user_version", older)
        .unwrap();
    older
}

fn schema(env: &TestEnv) -> (i64, BTreeSet<String>) {
    let connection = rusqlite::Connection::open(env.path("forge.db")).unwrap();
    let version = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    let mut statement = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap();
    let tables = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (version, tables)
}

#[test]
fn a_migration_killed_half_way_leaves_the_old_schema_and_the_next_start_completes_it() {
    let mut env = TestEnv::new();
    // The two newest migrations are undone by hand.
    let older = older_database(&mut env);
    let before = schema(&env);
    // Killed after the first of the two migrations ran, inside the one transaction.
    let started = Instant::now();
    let mut forged = env
        .as_forged(
            Command::new(FORGED)
                .arg("--config")
                .arg(&env.config)
                .env(forge::fault::ENV_VAR, "migrate.after_one=kill"),
        )
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = forged.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = forged.kill();
            let _ = forged.wait();
            panic!("forged was not killed at the fault point\n{}", env.logs());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        !status.success(),
        "forged exited normally: {status}\n{}",
        env.logs()
    );
    assert!(
        env.logs().contains("fault point migrate.after_one"),
        "the kill was not at the migration: {}",
        env.logs()
    );
    let after_kill = schema(&env);
    assert_eq!(after_kill, before, "a killed migration changed the schema");
    assert_eq!(after_kill.0, older);
    assert_database_sound(&env.path("forge.db"));
    // The next start migrates all the way, and the data is still there.
    env.start_forged();
    let (version, tables) = schema(&env);
    assert_eq!(version, older + 2);
    for (_, newer) in NEWEST_TWO {
        assert!(
            newer.iter().all(|table| tables.contains(*table)),
            "{tables:?}"
        );
    }
    assert!(names(&env, &["user", "list", "--json"], "name").contains("alice"));
    assert_database_sound(&env.path("forge.db"));
}
