//! End to end: the session `check` hands out is a capability (issue #11). A hook run by hand
//! as the git account, with the `FORGE_*` environment of a real push's session but another
//! repository, user or session id, is refused and leaves no trace.

use crate::common;

use common::{FORGE_HOOK, Outcome, TestEnv};
use std::process::Command;

/// alice writes acme/widgets and acme/gadgets; bob writes acme/gadgets.
fn start(env: &mut TestEnv) {
    env.start_forged();
    env.add_user("alice");
    env.add_user("bob");
    for repo in ["acme/widgets", "acme/gadgets"] {
        env.forgectl_ok(["repo", "create", repo]);
        env.forgectl_ok(["grant", repo, "alice", "write"]);
    }
    env.forgectl_ok(["grant", "acme/gadgets", "bob", "write"]);
    env.start_sshd();
}

fn status(env: &TestEnv) -> serde_json::Value {
    serde_json::from_str(&env.forgectl_ok(["status", "--json"]).stdout).unwrap()
}

/// Runs `forge-hook pre-receive` in `repo`'s folder, as git would, with `forge_env`.
fn pre_receive(env: &TestEnv, repo: &str, forge_env: &[(&str, &str)], line: &str) -> Outcome {
    let mut command = Command::new(FORGE_HOOK);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("--config")
        .arg(&env.config)
        .arg("pre-receive")
        .current_dir(env.path(&format!("repos/{repo}.git")))
        .envs(forge_env.iter().copied());
    Outcome::of(&mut command, Some(line.as_bytes()))
}

#[test]
fn regression_11_a_session_cannot_be_replayed_for_another_repo_user_or_id() {
    let mut env = TestEnv::new();
    start(&mut env);
    let alice = env.as_user("alice");
    let commit = alice.start_work("work");
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());

    let audit: Vec<serde_json::Value> =
        serde_json::from_str(&env.forgectl_ok(["audit", "--json"]).stdout).unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    let session = audit[0]["session"].as_str().unwrap().to_owned();
    let identity = format!("key-{}", audit[0]["key"]);
    let bob_key = {
        let keys = env.forgectl_ok(["key", "list", "bob", "--json"]);
        let keys: Vec<serde_json::Value> = serde_json::from_str(&keys.stdout).unwrap();
        format!("key-{}", keys[0]["id"])
    };
    let line = format!("{} {commit} refs/heads/main\n", "0".repeat(40));
    let rows = [
        ("alice", identity.as_str(), "acme/gadgets", session.as_str()),
        ("bob", bob_key.as_str(), "acme/gadgets", session.as_str()),
        (
            "alice",
            identity.as_str(),
            "acme/gadgets",
            "5f0c2d4e18a3f601b7d94e2a0c6f1b38",
        ),
    ];
    for (user, identity, repo, session) in rows {
        let forge_env = [
            ("FORGE_USER", user),
            ("FORGE_IDENTITY", identity),
            ("FORGE_REPO", repo),
            ("FORGE_SESSION", session),
        ];
        let refused = pre_receive(&env, "acme/gadgets", &forge_env, &line);
        assert_eq!(
            refused.code,
            Some(1),
            "{forge_env:?}: {refused}\n{}",
            env.logs()
        );
        let status = status(&env);
        assert_eq!(
            (
                status["pending_updates"].as_u64(),
                status["audit_entries"].as_u64()
            ),
            (Some(0), Some(1)),
            "{forge_env:?} left a pending or audit row: {status}"
        );
    }
    assert!(
        env.logs()
            .contains("unknown, expired or issued for another user, key or repository"),
        "forged did not log the refusal\n{}",
        env.logs()
    );
}
