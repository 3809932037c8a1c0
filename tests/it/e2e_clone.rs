//! End to end through a real sshd and a real git client: reading, and everything that must not
//! get in.

use crate::common;

use common::TestEnv;

const DENIED_SECRET: &str =
    "forge: no repository 'secret' readable with this key; check the name or ask an admin";

/// alice writes acme/widgets and has pushed one commit; bob may only read it; secret is
/// private to alice; mallory has a key but no grants.
fn forge_with_people() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    for name in ["alice", "bob", "mallory"] {
        env.add_user(name);
    }
    env.forgectl_ok(["repo", "create", "acme/widgets", "--description", "widgets"]);
    env.forgectl_ok(["repo", "create", "secret"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.forgectl_ok(["grant", "acme/widgets", "bob", "read"]);
    env.forgectl_ok(["grant", "secret", "alice", "write"]);
    env.start_sshd();
    let alice = env.as_user("alice");
    assert_eq!(
        alice.git(["init", "-q", "-b", "main", "work"]).code,
        Some(0)
    );
    alice.commit("work", "README", "hello");
    let pushed = alice.git_in("work", ["push", "-q", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());
    env
}

#[test]
fn a_reader_clones_in_every_url_form() {
    let env = forge_with_people();
    let bob = env.as_user("bob");
    for (url, dir) in [
        ("forge:acme/widgets", "a"),
        ("forge:acme/widgets.git", "b"),
        ("forge:/acme/widgets.git", "c"),
        ("ssh://forge/acme/widgets", "d"),
        ("ssh://forge/~/acme/widgets.git", "e"),
    ] {
        let outcome = bob.git(["clone", "-q", url, dir]);
        assert_eq!(outcome.code, Some(0), "{outcome}");
        assert!(bob.home.join(dir).join("README").exists(), "{url}");
    }
}

#[test]
fn private_and_missing_repositories_read_the_same() {
    let env = forge_with_people();
    let bob = env.as_user("bob");
    let private = bob.git(["clone", "forge:secret", "s"]);
    let missing = bob.git(["clone", "forge:nonexistent", "s"]);
    assert_ne!(private.code, Some(0));
    assert_eq!(private.forge_line(), DENIED_SECRET, "{private}");
    assert_eq!(
        missing.stderr.replace("nonexistent", "secret"),
        private.stderr,
        "a missing repository must read exactly like a denied one"
    );
    assert!(!bob.home.join("s").exists());
}

/// forge never asks git for protocol v2, whose fetch serves objects no ref reaches (#11); a v2
/// client is answered in v0 and works all the same.
#[test]
fn a_protocol_version_2_client_is_served_in_v0() {
    let env = forge_with_people();
    let bob = env.as_user("bob");
    let outcome = bob.git_with(
        ".",
        &[("GIT_TRACE_PACKET", "1")],
        [
            "-c",
            "protocol.version=2",
            "ls-remote",
            "forge:acme/widgets",
        ],
    );
    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("refs/heads/main"), "{outcome}");
    assert!(
        !outcome.stderr.contains("ls-remote< version 2"),
        "the server spoke protocol v2:\n{outcome}"
    );
}

#[test]
fn a_removed_key_is_refused_at_once_without_a_sync() {
    let env = forge_with_people();
    let bob = env.as_user("bob");
    assert_eq!(bob.git(["ls-remote", "forge:acme/widgets"]).code, Some(0));
    let listed = env.forgectl_ok(["key", "list", "bob", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let fingerprint = keys[0]["fingerprint"].as_str().unwrap();
    env.forgectl_ok(["key", "remove", fingerprint]);
    let refused = bob.git(["ls-remote", "forge:acme/widgets"]);
    assert_ne!(refused.code, Some(0));
    assert_eq!(
        refused.forge_line(),
        "forge: no repository 'acme/widgets' readable with this key; check the name or ask an admin"
    );
    let whoami = bob.ssh(Some("whoami"));
    assert_eq!(
        whoami.render(),
        "forge: this key is not registered with forge (or was removed); ask an admin to add it\n[exit 1]"
    );
}

#[test]
fn with_forged_stopped_a_clone_fails_closed_with_one_clear_line() {
    let mut env = forge_with_people();
    env.stop_forged();
    let bob = env.as_user("bob");
    let outcome = bob.git(["clone", "forge:acme/widgets", "w"]);
    assert_ne!(outcome.code, Some(0));
    assert_eq!(
        outcome.forge_line(),
        "forge: authorization service unavailable; try again in a minute, or tell your admin",
        "{outcome}"
    );
    // git-upload-pack never started: the client saw no ref advertisement at all.
    assert!(
        !outcome
            .stderr
            .contains("warning: You appear to have cloned")
    );
    assert!(!bob.home.join("w").exists());
    let ssh = bob.ssh(Some("git-upload-pack 'acme/widgets'"));
    assert_eq!(ssh.code, Some(75), "{ssh}");
    assert_eq!(ssh.stdout, "", "no git process wrote anything");
}

#[test]
fn user_commands_answer_and_interactive_logins_are_greeted() {
    let env = forge_with_people();
    let alice = env.as_user("alice");
    let whoami = alice.ssh(Some("whoami"));
    assert_eq!(whoami.render(), "alice\n[exit 0]");
    let info = alice.ssh(Some("info"));
    assert_eq!(info.code, Some(0), "{info}");
    assert!(info.stdout.contains(" R W\tacme/widgets\n"), "{info}");
    assert!(info.stdout.contains(" R W\tsecret\n"), "{info}");
    let bob_info = env.as_user("bob").ssh(Some("info"));
    assert!(
        bob_info.stdout.contains(" R  \tacme/widgets\n"),
        "{bob_info}"
    );
    assert!(!bob_info.stdout.contains("secret"), "{bob_info}");
    let login = alice.ssh(None);
    assert_eq!(login.code, Some(1), "{login}");
    assert!(login.stdout.starts_with("hi alice!"), "{login}");
}

#[test]
fn mallory_gets_no_shell_no_sftp_no_scp_and_no_metacharacters() {
    let env = forge_with_people();
    let mallory = env.as_user("mallory");
    let marker = env.path("pwned");
    let hostile = [
        format!("git-upload-pack 'acme/widgets'; touch {}", marker.display()),
        format!("touch {}", marker.display()),
        format!("git-upload-pack '$(touch {})'", marker.display()),
        "sh -c id".to_owned(),
        "env GIT_DIR=/ git-upload-pack 'x'".to_owned(),
    ];
    for command in &hostile {
        let outcome = mallory.ssh(Some(command));
        assert_eq!(outcome.code, Some(1), "{outcome}");
        assert_eq!(outcome.stdout, "", "{outcome}");
        assert!(outcome.stderr.starts_with("forge: "), "{outcome}");
        assert_eq!(outcome.stderr.lines().count(), 1, "{outcome}");
    }
    let sftp = mallory.ssh_tool("sftp", &["-b", "-", "forge"]);
    assert_ne!(sftp.code, Some(0), "{sftp}");
    let scp = mallory.ssh_tool("scp", &["-O", "forge:/etc/passwd", "/dev/null"]);
    assert_ne!(scp.code, Some(0), "{scp}");
    let scp_upload = mallory.ssh_tool(
        "scp",
        &[
            "-O",
            "/etc/hostname",
            &format!("forge:{}", marker.display()),
        ],
    );
    assert_ne!(scp_upload.code, Some(0), "{scp_upload}");
    assert!(!marker.exists(), "a hostile command ran");
    let clone = mallory.git(["clone", "forge:acme/widgets", "w"]);
    assert_eq!(
        clone.forge_line(),
        "forge: no repository 'acme/widgets' readable with this key; check the name or ask an admin"
    );
}
