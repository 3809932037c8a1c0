//! Exit codes by class, through the real binaries and a real forged: refusals and bad input
//! exit 1, usage 2, an unreachable forged 75, and a closed output pipe ends forgectl quietly.

use crate::common;

use assert_cmd::Command;
use common::TestEnv;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

fn forgectl(env: &TestEnv) -> Command {
    let mut command = Command::new(common::FORGECTL);
    command.arg("--config").arg(&env.config);
    command
}

#[test]
fn a_missing_or_folder_key_file_is_bad_input_not_a_bug() {
    let mut env = TestEnv::new();
    env.start_forged();
    env.forgectl_ok(["user", "add", "alice"]);
    let missing = env.path("nope.pub");
    forgectl(&env)
        .args(["key", "add", "alice"])
        .arg(&missing)
        .assert()
        .code(1)
        .stderr(format!(
            "forgectl: cannot read {}: No such file or directory (os error 2)\n",
            missing.display()
        ));
    forgectl(&env)
        .args(["key", "add", "alice"])
        .arg(env.path(""))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("Is a directory"));
    let listed = env.forgectl_ok(["key", "list", "--json"]);
    assert_eq!(listed.stdout.trim(), "[]", "nothing changed");
}

#[test]
fn a_damaged_marker_line_in_authorized_keys_is_refused_and_the_file_kept() {
    let mut env = TestEnv::new();
    env.start_forged();
    let file = env.path("authorized_keys");
    let damaged = format!("{} \n", forge::admin::authorized_keys::BEGIN_MARKER);
    std::fs::write(&file, &damaged).unwrap();
    forgectl(&env)
        .args(["keys", "sync", "--file"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("fix the file by hand"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), damaged);
}

#[test]
fn a_git_user_that_is_no_account_here_is_a_configuration_to_fix() {
    let mut env = TestEnv::new();
    env.start_forged();
    // forged already runs as this account; only forgectl reads the changed file.
    let text = std::fs::read_to_string(&env.config).unwrap();
    let user = format!("git_user = \"{}\"", common::login_user());
    let changed = text.replace(&user, "git_user = \"no-such-account-here\"");
    assert_ne!(text, changed);
    std::fs::write(&env.config, changed).unwrap();
    forgectl(&env)
        .args(["keys", "sync"])
        .assert()
        .code(1)
        .stderr(
            "forgectl: git_user 'no-such-account-here' is not an account here; give --file or fix forge.toml\n",
        );
}

#[test]
fn an_unreachable_forged_is_try_again_and_a_bad_command_line_is_usage() {
    let env = TestEnv::new();
    forgectl(&env)
        .args(["user", "list"])
        .assert()
        .code(75)
        .stderr(predicates::str::starts_with(
            "forgectl: cannot reach forged at",
        ));
    forgectl(&env).args(["user", "frobnicate"]).assert().code(2);
    forgectl(&env).arg("--no-such-flag").assert().code(2);
}

#[test]
fn a_closed_output_pipe_ends_forgectl_quietly() {
    let mut env = TestEnv::new();
    env.start_forged();
    for index in 0..200 {
        env.forgectl_ok(["user", "add", &format!("user{index}")]);
    }
    for args in [&["user", "list"][..], &["completions", "bash"][..]] {
        let mut child = std::process::Command::new(common::FORGECTL)
            .arg("--config")
            .arg(&env.config)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closing the read end before forgectl writes is `| head -0`: its first write fails.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.signal(),
            Some(nix::sys::signal::Signal::SIGPIPE as i32),
            "forgectl {args:?}: {:?}, stderr {stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
