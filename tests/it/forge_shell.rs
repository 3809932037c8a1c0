//! forge-shell with SSH_ORIGINAL_COMMAND set directly (no sshd), against a real forged.

use crate::common;

use assert_cmd::Command;
use common::TestEnv;

fn forge_shell(env: &TestEnv, key: &str, original: Option<&[u8]>) -> Command {
    let mut command = Command::new(common::FORGE_SHELL);
    command
        .env_clear()
        .arg("--config")
        .arg(&env.config)
        .arg(key);
    if let Some(original) = original {
        use std::os::unix::ffi::OsStrExt;
        command.env(
            "SSH_ORIGINAL_COMMAND",
            std::ffi::OsStr::from_bytes(original),
        );
    }
    command
}

fn with_alice() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env
}

#[test]
fn hostile_commands_are_refused_with_one_line_and_run_nothing() {
    let env = with_alice();
    let long = format!("git-upload-pack '{}'", "a".repeat(1100));
    let hostile: Vec<&[u8]> = vec![
        b"",
        b"ls",
        b"bash",
        b"scp -t /tmp",
        b"/usr/lib/openssh/sftp-server",
        b"internal-sftp",
        b"rsync --server . /",
        b"git-upload-pack 'acme/widgets'; id",
        b"git-upload-pack 'acme/widgets' && id",
        b"git-upload-pack `id`",
        b"git-upload-pack $(id)",
        b"git-upload-pack \"acme/widgets\"",
        b"git-upload-pack 'acme/widgets'\nid",
        b"git-upload-pack 'acme/widgets\x7f'",
        b"git-upload-pack '\x1b[31macme'",
        b"git-upload-pack  'acme/widgets'",
        b"git-upload-pack '../../etc'",
        b"git-upload-pack '/acme/../../etc'",
        b"git-upload-pack --upload-pack=id 'x'",
        b"env GIT_DIR=/ git-upload-pack 'x'",
        b"git-upload-pack '\xc3\xa4'",
        long.as_bytes(),
    ];
    for original in hostile {
        let outcome = forge_shell(&env, "key-1", Some(original)).assert().code(1);
        let output = outcome.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.stdout.is_empty(), "{original:?}");
        assert!(stderr.starts_with("forge: "), "{original:?} -> {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{original:?} -> {stderr}");
        assert!(
            stderr
                .bytes()
                .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
            "{stderr:?}"
        );
    }
}

#[test]
fn user_commands_answer_without_git() {
    let env = with_alice();
    forge_shell(&env, "key-1", Some(b"whoami"))
        .assert()
        .success()
        .stdout("alice\n");
    forge_shell(&env, "key-1", Some(b"help"))
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "create REPO                 create a repository",
        ));
    forge_shell(&env, "key-1", None)
        .assert()
        .code(1)
        .stdout(predicates::str::starts_with("hi alice!"));
    forge_shell(&env, "key-999", Some(b"whoami"))
        .assert()
        .code(1)
        .stderr("forge: this key is not registered with forge (or was removed); ask an admin to add it\n");
}

#[test]
fn denied_and_missing_repositories_read_the_same() {
    let env = with_alice();
    env.forgectl_ok(["repo", "create", "secret"]);
    let denied = forge_shell(&env, "key-1", Some(b"git-upload-pack 'secret'"))
        .assert()
        .code(1);
    let missing = forge_shell(&env, "key-1", Some(b"git-upload-pack 'secreu'"))
        .assert()
        .code(1);
    let text = |o: &assert_cmd::assert::Assert| {
        String::from_utf8_lossy(&o.get_output().stderr).into_owned()
    };
    assert_eq!(
        text(&denied),
        "forge: no repository 'secret' readable with this key; check the name or ask an admin\n"
    );
    assert_eq!(text(&missing).replace("secreu", "secret"), text(&denied));
    forge_shell(&env, "key-2", Some(b"git-upload-pack 'acme/widgets'"))
        .assert()
        .code(1)
        .stderr("forge: no repository 'acme/widgets' readable with this key; check the name or ask an admin\n");
}

#[test]
fn with_forged_down_nothing_runs_and_the_exit_is_75() {
    let mut env = with_alice();
    env.stop_forged();
    forge_shell(&env, "key-1", Some(b"git-receive-pack 'acme/widgets'"))
        .assert()
        .code(75)
        .stdout("")
        .stderr(
            "forge: authorization service unavailable; try again in a minute, or tell your admin\n",
        );
}

#[test]
fn a_malformed_key_argument_is_a_usage_error() {
    let env = with_alice();
    for key in [
        "17",
        "key-",
        "key-01",
        "key--1",
        "key-1x",
        "key-99999999999999999999",
    ] {
        forge_shell(&env, key, Some(b"whoami")).assert().code(2);
    }
}
