//! End to end through a real sshd and a real git client: pushing, and the audit log.

use crate::common;

use common::TestEnv;
use std::path::Path;

/// alice writes acme/widgets; bob may only read it.
fn start(env: &mut TestEnv) {
    env.start_forged();
    env.add_user("alice");
    env.add_user("bob");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.forgectl_ok(["grant", "acme/widgets", "bob", "read"]);
    env.start_sshd();
}

fn audit(env: &TestEnv) -> Vec<serde_json::Value> {
    let listed = env.forgectl_ok(["audit", "--json"]);
    serde_json::from_str(&listed.stdout).unwrap()
}

fn ref_of(env: &TestEnv, name: &str) -> Option<String> {
    let repository = git2::Repository::open_bare(env.path("repos/acme/widgets.git")).unwrap();
    repository
        .find_reference(name)
        .ok()
        .and_then(|r| r.target())
        .map(|oid| oid.to_string())
}

#[test]
fn a_writer_pushes_and_the_audit_log_holds_the_update() {
    let mut env = TestEnv::new();
    start(&mut env);
    let alice = env.as_user("alice");
    let first = alice.start_work("work");
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}");
    let second = alice.commit("work", "a", "two");
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}");
    assert_eq!(
        ref_of(&env, "refs/heads/main").as_deref(),
        Some(second.as_str())
    );

    let entries = audit(&env);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let newest = &entries[0];
    assert_eq!(newest["user"], "alice");
    assert_eq!(newest["repo"], "acme/widgets");
    assert_eq!(newest["ref_name"], "refs/heads/main");
    assert_eq!(newest["old"], first.as_str());
    assert_eq!(newest["new"], second.as_str());
    assert_eq!(newest["kind"], "fast_forward");
    assert_eq!(entries[1]["old"], "0".repeat(40));
    assert_eq!(entries[1]["kind"], "create");
    let status = env.forgectl_ok(["status", "--json"]);
    assert!(status.stdout.contains("\"pending_updates\": 0"), "{status}");
}

#[test]
fn a_force_push_and_a_delete_are_recorded_with_their_kind() {
    let mut env = TestEnv::new();
    start(&mut env);
    let alice = env.as_user("alice");
    alice.start_work("work");
    alice.commit("work", "a", "two");
    assert_eq!(
        alice
            .git_in(
                "work",
                ["push", "-q", "forge:acme/widgets", "main", "main:topic"]
            )
            .code,
        Some(0)
    );
    alice.git_in("work", ["reset", "-q", "--hard", "HEAD~1"]);
    // #11: a grant of write is RW, so neither a force push nor a delete; admin is RW+.
    let force = ["push", "-q", "--force", "forge:acme/widgets", "main"];
    let refused = alice.git_in("work", force);
    assert_ne!(
        refused.code,
        Some(0),
        "write allowed a force push: {refused}"
    );
    let refused = alice.git_in("work", ["push", "-q", "forge:acme/widgets", ":topic"]);
    assert_ne!(refused.code, Some(0), "write allowed a delete: {refused}");
    env.forgectl_ok(["grant", "acme/widgets", "alice", "admin"]);
    let forced = alice.git_in("work", force);
    assert_eq!(forced.code, Some(0), "{forced}");
    let deleted = alice.git_in("work", ["push", "-q", "forge:acme/widgets", ":topic"]);
    assert_eq!(deleted.code, Some(0), "{deleted}");
    let kinds: Vec<_> = audit(&env)
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["ref_name"].as_str().unwrap(),
                e["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "refs/heads/topic delete",
            "refs/heads/main non_fast_forward",
            "refs/heads/topic create",
            "refs/heads/main create"
        ]
    );
}

#[test]
fn a_reader_cannot_push() {
    let mut env = TestEnv::new();
    start(&mut env);
    let bob = env.as_user("bob");
    bob.start_work("work");
    let refused = bob.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_ne!(refused.code, Some(0));
    assert_eq!(
        refused.forge_line(),
        "forge: no repository 'acme/widgets' writable with this key; check the name or ask an admin",
        "{refused}"
    );
    assert_eq!(ref_of(&env, "refs/heads/main"), None);
    assert!(audit(&env).is_empty());
}

#[test]
fn with_forged_stopped_a_push_fails_closed_and_changes_nothing() {
    let mut env = TestEnv::new();
    start(&mut env);
    env.stop_forged();
    let alice = env.as_user("alice");
    alice.start_work("work");
    let refused = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_ne!(refused.code, Some(0));
    assert_eq!(
        refused.forge_line(),
        "forge: authorization service unavailable; try again in a minute, or tell your admin"
    );
    assert_eq!(ref_of(&env, "refs/heads/main"), None);
}

#[test]
fn a_local_push_that_bypasses_forge_shell_is_refused() {
    let mut env = TestEnv::new();
    start(&mut env);
    let alice = env.as_user("alice");
    alice.start_work("work");
    let repo = env.path("repos/acme/widgets.git");
    let mut command = std::process::Command::new("git");
    command
        .current_dir(alice.home.join("work"))
        .env("FORGE_HOOK", common::FORGE_HOOK)
        .env("FORGE_CONFIG", &env.config)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["push", repo.to_str().unwrap(), "main"]);
    let refused = common::Outcome::of(&mut command, None);
    assert_ne!(refused.code, Some(0), "{refused}");
    assert!(
        refused.stderr.contains(
            "forge: refs/heads/main: pushes that bypass forge-shell are disabled; push over ssh, or set allow_local_push"
        ),
        "{refused}"
    );
    assert_eq!(ref_of(&env, "refs/heads/main"), None);
}

/// The hook shims of this test kill forged with SIGKILL as soon as pre-receive has accepted the
/// push, so post-receive cannot reach it: the crash the pending rows exist for.
fn hooks_that_kill_forged_after_pre_receive(folder: &Path, pid_file: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    let pre = format!(
        "#!/bin/sh\n\"$FORGE_HOOK\" pre-receive || exit 1\nkill -9 \"$(cat {})\"\n",
        pid_file.display()
    );
    let post = "#!/bin/sh\nexec \"$FORGE_HOOK\" post-receive\n";
    for (name, text) in [("pre-receive", pre.as_str()), ("post-receive", post)] {
        let path = folder.join(name);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn an_update_accepted_before_forged_was_killed_is_recorded_exactly_once() {
    let hooks = tempfile::tempdir().unwrap();
    let pid_file = hooks.path().join("forged.pid");
    hooks_that_kill_forged_after_pre_receive(&hooks.path().join("hooks"), &pid_file);
    let mut env = TestEnv::with_hooks(&hooks.path().join("hooks"), "");
    start(&mut env);
    std::fs::write(&pid_file, env.forged_pid().to_string()).unwrap();

    let alice = env.as_user("alice");
    let commit = alice.start_work("work");
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    // The ref update happened; post-receive could only say it was not recorded yet.
    assert_eq!(pushed.code, Some(0), "{pushed}");
    assert!(
        pushed
            .stderr
            .contains("forge: this push was accepted but not yet recorded"),
        "{pushed}"
    );
    assert_eq!(
        ref_of(&env, "refs/heads/main").as_deref(),
        Some(commit.as_str())
    );

    env.kill_forged_if_running();
    env.start_forged();
    let entries = audit(&env);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["new"], commit.as_str());
    assert_eq!(entries[0]["user"], "alice");
    assert_eq!(entries[0]["kind"], "create");
    let status = env.forgectl_ok(["status", "--json"]);
    assert!(status.stdout.contains("\"pending_updates\": 0"), "{status}");
}

#[test]
fn a_repository_that_lost_its_hooks_is_brought_back_under_forge_when_forged_starts() {
    let mut env = TestEnv::new();
    start(&mut env);
    let hooks_path = |env: &TestEnv| {
        git2::Repository::open_bare(env.path("repos/acme/widgets.git"))
            .unwrap()
            .config()
            .unwrap()
            .snapshot()
            .unwrap()
            .get_string("core.hooksPath")
            .ok()
    };
    let forge_hooks = hooks_path(&env).expect("forge set core.hooksPath");
    // As if made before the hooks folder moved, or by hand: git's own (empty) hooks folder.
    env.stop_forged();
    git2::Repository::open_bare(env.path("repos/acme/widgets.git"))
        .unwrap()
        .config()
        .unwrap()
        .remove("core.hooksPath")
        .unwrap();
    env.start_forged();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while hooks_path(&env).as_deref() != Some(forge_hooks.as_str()) {
        assert!(
            std::time::Instant::now() < deadline,
            "core.hooksPath was not restored\n{}",
            env.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Pushes go through forge's hooks again: only post-receive writes the audit log.
    let alice = env.as_user("alice");
    alice.start_work("alice-work");
    let pushed = alice.git_in("alice-work", ["push", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}");
    assert_eq!(audit(&env).len(), 1);
    assert!(
        std::fs::read_to_string(env.path("forged.log"))
            .unwrap()
            .contains("repository settings brought in line with forge's"),
        "{}",
        env.logs()
    );
}
