//! Maintenance mode end to end: a real forged, sshd and git. Pushes and admin writes are
//! refused with the admin's message and exit 75, reads go on, the mode survives a restart of
//! forged, `off` lifts it, and `on --wait` waits for a push in flight.

use crate::common;

use common::TestEnv;
use std::path::Path;
use std::time::{Duration, Instant};

/// alice writes acme/widgets, which holds one pushed commit.
fn start(env: &mut TestEnv) {
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.start_sshd();
    let alice = env.as_user("alice");
    alice.start_work("work");
    let pushed = alice.git_in("work", ["push", "-q", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}");
}

fn maintenance(env: &TestEnv) -> serde_json::Value {
    let status = env.forgectl_ok(["maintenance", "status", "--json"]);
    serde_json::from_str(&status.stdout).unwrap()
}

#[test]
fn maintenance_refuses_pushes_and_admin_writes_with_its_message_until_it_is_off() {
    let mut env = TestEnv::new();
    start(&mut env);
    let message = "moving to new disks until 06:00 UTC";
    env.forgectl_ok(["maintenance", "on", "--message", message]);

    let alice = env.as_user("alice");
    alice.commit("work", "a", "two");
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_ne!(pushed.code, Some(0), "{pushed}");
    assert_eq!(
        pushed.forge_line(),
        format!("forge: under maintenance: {message}; try again later"),
        "{pushed}"
    );
    let written = env.forgectl(["user", "add", "bob"]);
    assert_eq!(written.code, Some(75), "{written}");
    assert!(written.stderr.contains(message), "{written}");
    let created = env.forgectl(["repo", "create", "acme/other"]);
    assert_eq!(created.code, Some(75), "{created}");

    // Reads go on.
    let cloned = alice.git(["clone", "-q", "forge:acme/widgets", "copy"]);
    assert_eq!(cloned.code, Some(0), "{cloned}");
    env.forgectl_ok(["user", "list"]);
    let status = env.forgectl_ok(["status"]);
    assert!(status.stdout.contains(message), "{status}");

    // A restart keeps it on.
    env.stop_forged();
    env.start_forged();
    assert_eq!(maintenance(&env)["on"], true);
    assert_eq!(maintenance(&env)["message"], message);
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_ne!(pushed.code, Some(0), "{pushed}");
    assert!(pushed.forge_line().contains(message), "{pushed}");

    env.forgectl_ok(["maintenance", "off"]);
    assert_eq!(maintenance(&env)["on"], false);
    let pushed = alice.git_in("work", ["push", "-q", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}");
    env.forgectl_ok(["user", "add", "bob"]);
}

#[test]
fn a_maintenance_message_with_control_characters_is_refused() {
    let mut env = TestEnv::new();
    env.start_forged();
    let refused = env.forgectl(["maintenance", "on", "--message", "back \u{1b}[31msoon"]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert_eq!(maintenance(&env)["on"], false);
}

/// Writes a hooks folder whose pre-receive holds every push for `hold_ms` once forged
/// accepted it (the fault point `push.after_pre_receive`), before git moves a ref.
fn holding_hooks(folder: &Path, hold_ms: u32) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
    std::fs::create_dir_all(folder).unwrap();
    std::fs::copy(shipped.join("post-receive"), folder.join("post-receive")).unwrap();
    let pre = folder.join("pre-receive");
    std::fs::write(
        &pre,
        format!(
            "#!/bin/sh\nFORGE_FAULT=push.after_pre_receive=pause:{hold_ms} exec \"$FORGE_HOOK\" pre-receive\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pre, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Waits (bounded) until forged counts `count` pushes in flight.
fn await_in_flight(env: &TestEnv, count: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while maintenance(env)["in_flight"] != count {
        assert!(
            Instant::now() < deadline,
            "no push in flight\n{}",
            env.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn maintenance_on_wait_returns_once_the_push_in_flight_is_recorded() {
    let hooks = tempfile::tempdir().unwrap();
    holding_hooks(hooks.path(), 3000);
    let mut env = TestEnv::with_hooks(hooks.path(), "");
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.start_sshd();
    let alice = env.as_user("alice");
    alice.start_work("work");
    std::thread::scope(|scope| {
        let push =
            scope.spawn(|| alice.git_in("work", ["push", "-q", "forge:acme/widgets", "main"]));
        await_in_flight(&env, 1);
        // Too short a wait says so, and leaves maintenance on.
        let short = env.forgectl(["maintenance", "on", "--wait", "--timeout", "0"]);
        assert_eq!(short.code, Some(75), "{short}");
        assert!(
            short.stderr.contains("1 pushes are still in flight"),
            "{short}"
        );
        env.forgectl_ok(["maintenance", "on", "--wait"]);
        // The push landed before the wait returned: its update is in the audit log.
        let audit = env.forgectl_ok(["audit", "--json"]);
        let entries: Vec<serde_json::Value> = serde_json::from_str(&audit.stdout).unwrap();
        assert_eq!(entries.len(), 1, "{audit}\n{}", env.logs());
        let pushed = push.join().unwrap();
        assert_eq!(pushed.code, Some(0), "{pushed}");
    });
    assert_eq!(maintenance(&env)["in_flight"], 0);
}
