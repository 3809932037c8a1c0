//! End to end through a real sshd whose `AuthorizedKeysCommand` is forge-keys: keys work and
//! stop working at the next login, with no file written.

mod common;

use common::TestEnv;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

/// sshd runs an AuthorizedKeysCommand only from a root-owned path that no one else may write,
/// all the way up; a folder under /run is that, where a temporary folder is not.
struct RootOwnedCopy(PathBuf);

impl RootOwnedCopy {
    fn of_forge_keys() -> RootOwnedCopy {
        let folder = PathBuf::from(format!("/run/forge-test-keys-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        let binary = folder.join("forge-keys");
        std::fs::copy(common::FORGE_KEYS, &binary).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        RootOwnedCopy(folder)
    }
}

impl Drop for RootOwnedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn keys_are_looked_up_at_each_login_without_any_file() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("needs root: sshd runs an AuthorizedKeysCommand only as root; CI runs as root");
        return;
    }
    let command = RootOwnedCopy::of_forge_keys();
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.start_sshd_with_keys_command(&command.0.join("forge-keys"));
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
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("needs root: sshd runs an AuthorizedKeysCommand only as root; CI runs as root");
        return;
    }
    let command = RootOwnedCopy::of_forge_keys();
    let hooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
    let mut env = TestEnv::with_hooks(&hooks, "keys_user = \"nobody\"\n");
    env.start_forged();
    let key = env.add_user("alice");
    env.start_sshd_with_keys_command_as(&command.0.join("forge-keys"), "nobody");
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
