//! End to end through a real sshd whose `AuthorizedKeysCommand` is forge-keys: keys work and
//! stop working at the next login, with no file written.

use crate::common;

use common::{RootOwnedCopy, TestEnv};
use forge::types::timestamp::Timestamp;
use std::os::unix::process::CommandExt;

#[test]
fn keys_are_looked_up_at_each_login_without_any_file() {
    let Some(command) = RootOwnedCopy::of_forge_keys_when_root() else {
        return;
    };
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.start_sshd_with_keys_command(&command.path());
    let alice = env.as_user("alice");
    assert_eq!(
        alice.ssh(Some("whoami")).render(),
        "alice\n[exit 0]",
        "{}",
        env.logs()
    );

    // A key added now works at the next login: nothing is synced or written.
    let bob_key = env.add_user("bob");
    assert!(bob_key.exists());
    let bob = env.as_user("bob");
    assert_eq!(bob.ssh(Some("whoami")).render(), "bob\n[exit 0]");
    assert!(
        !env.path("ssh/authorized_keys").exists(),
        "no file was written"
    );

    // Removed, it is refused at the next login.
    let listed = env.forgectl_ok(["key", "list", "bob", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    env.forgectl_ok(["key", "remove", keys[0]["fingerprint"].as_str().unwrap()]);
    let refused = bob.ssh(Some("whoami"));
    assert_eq!(refused.code, Some(255), "ssh itself refuses: {refused}");
    assert!(refused.stderr.contains("Permission denied"), "{refused}");

    // A removed user's keys go with them.
    env.forgectl_ok(["user", "remove", "alice"]);
    assert_eq!(alice.ssh(Some("whoami")).code, Some(255));
}

#[test]
fn forge_keys_runs_as_an_unprivileged_account_that_may_only_look_up_keys() {
    let Some(command) = RootOwnedCopy::of_forge_keys_when_root() else {
        return;
    };
    let hooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
    let mut env = TestEnv::with_hooks(&hooks, "keys_user = \"nobody\"\n");
    env.start_forged();
    let key = env.add_user("alice");
    env.start_sshd_with_keys_command_as(&command.path(), "nobody");
    let alice = env.as_user("alice");
    assert_eq!(
        alice.ssh(Some("whoami")).render(),
        "alice\n[exit 0]",
        "{}",
        env.logs()
    );

    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let words: Vec<&str> = public.split_whitespace().collect();
    let as_uid = |uid: u32, program: &str, args: &[&str]| {
        let mut command = std::process::Command::new(program);
        command.uid(uid).gid(nobody.gid.as_raw());
        command.arg("--config").arg(&env.config).args(args);
        common::Outcome::of(&mut command, None)
    };
    let looked_up = as_uid(
        nobody.uid.as_raw(),
        common::FORGE_KEYS,
        &[&common::login_user(), words[0], words[1]],
    );
    assert_eq!(looked_up.stdout.lines().count(), 1, "{looked_up}");

    // The keys account may ask nothing else.
    let status = as_uid(nobody.uid.as_raw(), common::FORGECTL, &["status"]);
    assert_ne!(status.code, Some(0), "{status}");
    assert!(status.stderr.contains("may not ask 'status'"), "{status}");

    // An account with no role gets no line, and is told why.
    let stranger = as_uid(
        nobody.uid.as_raw() - 1,
        common::FORGE_KEYS,
        &[&common::login_user(), words[0], words[1]],
    );
    assert_eq!(stranger.stdout, "", "{stranger}");
    assert_ne!(stranger.code, Some(0), "{stranger}");
    assert!(
        stranger.stderr.contains("may not ask 'key_lookup'"),
        "{stranger}"
    );
}

#[test]
fn forge_keys_prints_one_line_for_a_known_key_and_nothing_otherwise() {
    let mut env = TestEnv::new();
    env.start_forged();
    let key = env.add_user("alice");
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let mut words = public.split_whitespace();
    let (key_type, blob) = (words.next().unwrap(), words.next().unwrap());
    let config = env.config.clone();
    let lookup = |login: &str, key_type: &str, blob: &str| {
        let mut command = std::process::Command::new(common::FORGE_KEYS);
        command
            .arg("--config")
            .arg(&config)
            .args([login, key_type, blob]);
        common::Outcome::of(&mut command, None)
    };
    let known = lookup(&common::login_user(), key_type, blob);
    assert_eq!(known.code, Some(0), "{known}");
    assert_eq!(known.stdout.lines().count(), 1, "{known}");
    assert!(known.stdout.starts_with("command=\""), "{known}");
    assert!(
        known
            .stdout
            .contains(&format!("key-1\",restrict {key_type} {blob}\n")),
        "{known}"
    );
    assert_eq!(lookup("someone-else", key_type, blob).render(), "[exit 0]");
    assert_eq!(
        lookup(&common::login_user(), "ssh-ed25519", "AAAAnotakey").render(),
        "[exit 0]"
    );
    env.stop_forged();
    let down = lookup(&common::login_user(), key_type, blob);
    assert_eq!(down.code, Some(75), "{down}");
    assert_eq!(down.stdout, "", "fail closed: nothing printed");
    assert!(
        down.stderr.starts_with("forge-keys: cannot reach forged"),
        "{down}"
    );
}

/// Returns `key list USER --json` as JSON.
fn listed_keys(env: &TestEnv, user: &str) -> serde_json::Value {
    let listed = env.forgectl_ok(["key", "list", user, "--json"]);
    serde_json::from_str(&listed.stdout).unwrap()
}

#[test]
fn an_expired_key_is_refused_at_the_next_login_and_use_is_recorded() {
    let Some(command) = RootOwnedCopy::of_forge_keys_when_root() else {
        return;
    };
    let mut env = TestEnv::new();
    env.start_forged();
    env.start_sshd_with_keys_command(&command.path());
    let key = env.make_key("alice");
    env.forgectl_ok(["user", "add", "alice"]);

    // Seconds ahead: enough for one login on a busy machine, short enough to wait out.
    let expires = Timestamp::from_unix(Timestamp::now().unix() + 8).unwrap();
    let public = format!("{}.pub", key.display());
    env.forgectl_ok([
        "key",
        "add",
        "alice",
        &public,
        "--expires",
        &expires.to_string(),
    ]);
    assert_eq!(
        listed_keys(&env, "alice")[0]["last_used"],
        serde_json::Value::Null
    );

    let alice = env.as_user("alice");
    assert_eq!(
        alice.ssh(Some("whoami")).render(),
        "alice\n[exit 0]",
        "{}",
        env.logs()
    );
    let keys = listed_keys(&env, "alice");
    let last_used = keys[0]["last_used"]
        .as_str()
        .expect("a login records the use");
    let last_used = Timestamp::parse(last_used).unwrap();
    assert!(last_used < expires, "{keys}");

    // Waiting out the expiry is the behaviour under test, not a timing assertion.
    while Timestamp::now() <= expires {
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let refused = alice.ssh(Some("whoami"));
    assert_eq!(refused.code, Some(255), "ssh itself refuses: {refused}");
    assert!(refused.stderr.contains("Permission denied"), "{refused}");
    assert!(
        std::fs::read_to_string(env.path("forged.log"))
            .unwrap_or_default()
            .contains("expired key; no line"),
        "{}",
        env.logs()
    );
}

#[test]
fn a_key_file_with_smuggled_options_or_a_second_key_is_refused_at_key_add() {
    let mut env = TestEnv::new();
    env.start_forged();
    env.forgectl_ok(["user", "add", "mallory"]);
    let key = env.make_key("mallory");
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let other =
        std::fs::read_to_string(format!("{}.pub", env.make_key("extra").display())).unwrap();
    let rows = [
        (
            format!("command=\"/bin/sh\" {public}"),
            "key options such as 'command=' are not accepted; give the bare public key",
        ),
        (
            format!("restrict,from=\"*\" {public}"),
            "key options such as 'command=' are not accepted; give the bare public key",
        ),
        (
            format!("{public}{other}"),
            "found keys on lines 1 and 2 where one was expected; add keys one at a time",
        ),
        (
            format!("{public}command=\"/bin/sh\" {other}"),
            "found keys on lines 1 and 2 where one was expected; add keys one at a time",
        ),
        (
            std::fs::read_to_string(&key).unwrap(),
            "this is a private key, not a public one; give the .pub file beside it (or the output of 'ssh-keygen -y -f KEY')",
        ),
        (
            "root:x:0:0:root:/root:/bin/bash\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n".to_owned(),
            "this is not an OpenSSH public key file (line 1 starts with 'root:x:0:0:root:/root:/bin/bash'); give the .pub file, one line like 'ssh-ed25519 AAAA... alice@laptop'",
        ),
    ];
    for (text, why) in rows {
        let file = env.path("smuggled.pub");
        std::fs::write(&file, &text).unwrap();
        let outcome = env.forgectl(["key", "add", "mallory", file.to_str().unwrap()]);
        assert_eq!(
            outcome.render(),
            format!("forgectl: cannot add key for 'mallory': {why}\n[exit 1]"),
            "{text:?}"
        );
    }
    assert_eq!(
        listed_keys(&env, "mallory"),
        serde_json::json!([]),
        "nothing added"
    );

    if nix::unistd::Uid::effective().is_root() {
        let command = RootOwnedCopy::of_forge_keys();
        env.start_sshd_with_keys_command(&command.path());
        let refused = env.as_user("mallory").ssh(Some("whoami"));
        assert_eq!(refused.code, Some(255), "{refused}");
        assert!(refused.stderr.contains("Permission denied"), "{refused}");
    }
}
