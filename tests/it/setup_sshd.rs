//! `forgectl setup sshd` against a private main sshd_config that includes a folder, as
//! Debian's does: the git account gets forge-keys, other accounts keep their settings, a real
//! sshd logs a forge user in through the snippet, and every bad case leaves the files as they
//! were.

use crate::common;

use common::{Outcome, RootOwnedCopy, TestEnv, login_user, sshd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A private main sshd_config, its include folder and the port it listens on.
struct MainConfig {
    main: PathBuf,
    snippet: PathBuf,
    port: u16,
}

/// Writes `<root>/sshd/sshd_config`, which (with `include`) first includes
/// `sshd_config.d/*.conf`, as Debian 12's does, and sets forwarding and TTYs the other way
/// from the snippet so that a leak of the snippet into other accounts would show.
/// It is not `tests/fixtures/sshd_config.in` on purpose: that one is forge's own private sshd,
/// this one stands for the system's main config that `forgectl setup sshd` edits.
fn main_config(env: &TestEnv, include: bool) -> MainConfig {
    let folder = env.path("sshd");
    std::fs::create_dir_all(folder.join("sshd_config.d")).unwrap();
    let host_key = folder.join("host_ed25519");
    if !host_key.exists() {
        common::keygen(&host_key, "host key");
    }
    let port = sshd::free_port();
    let include = if include {
        format!("Include {}/sshd_config.d/*.conf\n", folder.display())
    } else {
        String::new()
    };
    let main = folder.join("sshd_config");
    std::fs::write(
        &main,
        format!(
            "# a private sshd for the test\n{include}\
             ListenAddress 127.0.0.1:{port}\n\
             HostKey {host_key}\n\
             PidFile {pid}\n\
             AuthorizedKeysFile {folder}/authorized_keys\n\
             StrictModes no\n\
             UsePAM no\n\
             PermitRootLogin prohibit-password\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             X11Forwarding yes\n\
             AllowTcpForwarding yes\n\
             PermitTTY yes\n\
             AllowUsers {user}\n\
             LogLevel VERBOSE\n",
            host_key = host_key.display(),
            pid = folder.join("sshd.pid").display(),
            folder = folder.display(),
            user = login_user(),
        ),
    )
    .unwrap();
    MainConfig {
        main,
        snippet: folder.join("sshd_config.d/forge.conf"),
        port,
    }
}

/// Runs `forgectl setup sshd` on `config`'s files with `args`, and no terminal.
fn setup(env: &TestEnv, config: &MainConfig, args: &[&str]) -> Outcome {
    let mut command = Command::new(common::FORGECTL);
    command
        .arg("--config")
        .arg(&env.config)
        .args(["setup", "sshd", "--file"])
        .arg(&config.snippet)
        .arg("--sshd-config")
        .arg(&config.main)
        .args(args);
    Outcome::of(&mut command, None)
}

/// Returns sshd's effective settings for a login of `user` from the loopback address.
fn effective(config: &MainConfig, user: &str) -> String {
    let outcome = Outcome::of(
        Command::new(sshd::SSHD)
            .args(["-T", "-C", &format!("user={user},host=x,addr=127.0.0.1")])
            .arg("-f")
            .arg(&config.main),
        None,
    );
    assert_eq!(outcome.code, Some(0), "{outcome}");
    outcome.stdout
}

/// A forge whose forge-keys (and keys account) sshd accepts: a root-owned copy run as the
/// test's own account when root, else the default path (enough for `sshd -T`).
fn forge_with_keys_command() -> (TestEnv, Option<RootOwnedCopy>) {
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
    if !nix::unistd::Uid::effective().is_root() {
        return (TestEnv::new(), None);
    }
    let copy = RootOwnedCopy::of_forge_keys();
    let env = TestEnv::with_hooks(
        &hooks,
        &format!(
            "keys_user = \"{}\"\nforge_keys = \"{}\"\n",
            login_user(),
            copy.path().display()
        ),
    );
    (env, Some(copy))
}

#[test]
fn the_git_account_gets_forge_keys_and_other_accounts_keep_their_settings() {
    let (mut env, copy) = forge_with_keys_command();
    let config = main_config(&env, true);
    let git = login_user();
    let others_before = ["alice", "nobody"].map(|user| effective(&config, user));

    let outcome = setup(&env, &config, &["--yes", "--no-reload"]);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("Match User "), "{outcome}");
    assert!(outcome.stdout.contains("wrote "), "{outcome}");
    let written = std::fs::read_to_string(&config.snippet).unwrap();
    assert!(
        outcome.stdout.contains(&written),
        "it printed what it wrote"
    );
    let mode = std::fs::metadata(&config.snippet)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);

    let keys = copy
        .as_ref()
        .map_or("/usr/lib/forge/forge-keys".into(), |copy| copy.path());
    let for_git = effective(&config, &git);
    for expected in [
        format!(
            "authorizedkeyscommand {} --config {} %u %t %k",
            keys.display(),
            env.config.display()
        ),
        "authorizedkeysfile none".into(),
        "acceptenv GIT_PROTOCOL".into(),
        "disableforwarding yes".into(),
        "permittty no".into(),
    ] {
        assert!(
            for_git.lines().any(|line| line == expected),
            "{git} lacks '{expected}':\n{for_git}"
        );
    }
    // Every other account's settings are exactly what they were: the Match block ended with
    // its file, and the main config's lines after the Include still apply to everyone else.
    for (user, before) in ["alice", "nobody"].iter().zip(others_before) {
        let after = effective(&config, user);
        assert_eq!(after, before, "{user}'s settings changed");
        assert!(after.contains("\nauthorizedkeyscommand none\n"), "{after}");
        assert!(after.contains("\npermittty yes\n"), "{after}");
        assert!(after.contains("\nx11forwarding yes\n"), "{after}");
    }

    // A second run finds nothing to do.
    let again = setup(&env, &config, &["--yes", "--no-reload"]);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(
        again.stdout.contains("already holds these settings"),
        "{again}"
    );

    if copy.is_none() {
        eprintln!("needs root: sshd runs an AuthorizedKeysCommand only as root; CI runs as root");
        return;
    }
    // The real sshd on that configuration logs a forge user in through forge-keys.
    env.start_forged();
    env.add_user("alice");
    env.sshd = Some(sshd::Sshd::run(env.root.path(), &config.main, config.port));
    let alice = env.as_user("alice");
    assert_eq!(
        alice.ssh(Some("whoami")).render(),
        "alice\n[exit 0]",
        "{}",
        env.logs()
    );
    env.make_key("mallory");
    let refused = env.as_user("mallory").ssh(Some("whoami"));
    assert_eq!(refused.code, Some(255), "ssh itself refuses: {refused}");
}

#[test]
fn a_running_sshd_is_reloaded_and_lets_forge_users_in() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("needs root: sshd runs an AuthorizedKeysCommand only as root; CI runs as root");
        return;
    }
    if Path::new("/run/systemd/system").is_dir() {
        eprintln!("systemd runs here: setup would reload the system's ssh.service, not ours");
        return;
    }
    let (mut env, _copy) = forge_with_keys_command();
    let config = main_config(&env, true);
    env.start_forged();
    env.add_user("alice");
    env.sshd = Some(sshd::Sshd::run(env.root.path(), &config.main, config.port));
    let alice = env.as_user("alice");
    assert_eq!(alice.ssh(Some("whoami")).code, Some(255), "no snippet yet");

    // sshd writes its pid file before it accepts the first connection.
    let pid_file = env.path("sshd/sshd.pid");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let outcome = setup(&env, &config, &["--yes"]);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(
        outcome.stdout.contains(&format!(
            "reloaded sshd: sent SIGHUP to pid {} from {}",
            pid.trim(),
            pid_file.display()
        )),
        "{outcome}"
    );
    // sshd re-executes itself on SIGHUP; poll until it answers with the new settings.
    let deadline = Instant::now() + common::DEADLINE;
    loop {
        let login = alice.ssh(Some("whoami"));
        if login.code == Some(0) {
            assert_eq!(login.render(), "alice\n[exit 0]");
            break;
        }
        assert!(Instant::now() < deadline, "{login}\n{}", env.logs());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_main_config_without_the_include_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let config = main_config(&env, false);
    let outcome = setup(&env, &config, &["--yes", "--no-reload"]);
    assert_eq!(outcome.code, Some(1), "{outcome}");
    let line = outcome
        .stderr
        .lines()
        .find(|line| !line.starts_with("forgectl: warning: "))
        .unwrap_or_default();
    assert_eq!(
        line,
        format!(
            "forgectl: {} does not include {}; add the line 'Include {}/*.conf' at its top, before any Match block",
            config.main.display(),
            config.snippet.display(),
            env.path("sshd/sshd_config.d").display()
        ),
        "{outcome}"
    );
    assert!(!config.snippet.exists());
}

#[test]
fn a_main_configuration_sshd_rejects_leaves_the_previous_file_byte_for_byte() {
    let env = TestEnv::new();
    let config = main_config(&env, true);
    let mut main = std::fs::read_to_string(&config.main).unwrap();
    main.push_str("NoSuchOption yes\n");
    std::fs::write(&config.main, main).unwrap();

    // sshd -T fails before anything is written, so setup stops there.
    let outcome = setup(&env, &config, &["--yes", "--no-reload"]);
    assert_eq!(outcome.code, Some(1), "{outcome}");
    assert!(
        outcome.stderr.contains("forgectl: sshd -T for '"),
        "{outcome}"
    );
    assert!(outcome.stderr.contains("NoSuchOption"), "{outcome}");
    assert!(outcome.stderr.contains("nothing was written"), "{outcome}");
    assert!(!config.snippet.exists());

    // A file before: it is back, byte for byte, with its mode.
    let previous = b"# the admin's own\nMatch User someone\n    PermitTTY no\n";
    std::fs::write(&config.snippet, previous).unwrap();
    std::fs::set_permissions(&config.snippet, std::fs::Permissions::from_mode(0o600)).unwrap();
    let outcome = setup(&env, &config, &["--yes", "--no-reload"]);
    assert_eq!(outcome.code, Some(1), "{outcome}");
    assert!(outcome.stderr.contains("nothing was written"), "{outcome}");
    assert!(
        outcome.stdout.contains("-Match User someone"),
        "the diff: {outcome}"
    );
    assert_eq!(std::fs::read(&config.snippet).unwrap(), previous);
    let mode = std::fs::metadata(&config.snippet)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let names: Vec<_> = std::fs::read_dir(env.path("sshd/sshd_config.d"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["forge.conf"], "no temporary file is left");
}

#[test]
fn without_a_terminal_or_yes_nothing_is_written() {
    let env = TestEnv::new();
    let config = main_config(&env, true);
    let outcome = setup(&env, &config, &["--no-reload"]);
    assert_eq!(outcome.code, Some(2), "{outcome}");
    assert!(
        outcome.stderr.contains(&format!(
            "forgectl: no terminal to ask on, so nothing was written; give --yes to write {} without asking",
            config.snippet.display()
        )),
        "{outcome}"
    );
    assert!(!config.snippet.exists());
}

/// Appends `lines` to `config`'s main sshd_config.
fn append_to_main(config: &MainConfig, lines: &str) {
    let mut main = std::fs::read_to_string(&config.main).unwrap();
    main.push_str(lines);
    std::fs::write(&config.main, main).unwrap();
}

/// Returns whether systemd runs here, in which case setup reloads the system's ssh.service
/// instead of using the pid file; says so on stderr.
fn systemd_runs() -> bool {
    let runs = Path::new("/run/systemd/system").is_dir();
    if runs {
        eprintln!("systemd runs here: setup would reload the system's ssh.service, not ours");
    }
    runs
}

#[test]
fn a_user_ca_of_the_main_config_does_not_let_certificates_in_as_git() {
    let (mut env, copy) = forge_with_keys_command();
    let config = main_config(&env, true);
    let ca = env.make_ca("global-ca");
    append_to_main(
        &config,
        &format!("TrustedUserCAKeys {}.pub\n", ca.display()),
    );
    let git = login_user();
    let trusted = format!("trustedusercakeys {}.pub", ca.display());
    assert!(effective(&config, &git).lines().any(|l| l == trusted));

    // Before setup, a certificate for principal git logs in as git with no forced command.
    let certificate = env.sign(&ca, "carol", &git);
    let root = copy.is_some() && !systemd_runs();
    if root {
        env.start_forged();
        env.sshd = Some(sshd::Sshd::run(env.root.path(), &config.main, config.port));
        let carol = env.as_certificate_holder("carol", &certificate);
        let login = carol.ssh(Some("echo a shell"));
        assert_eq!(login.render(), "a shell\n[exit 0]", "{}", env.logs());
    }

    let args: &[&str] = if root {
        &["--yes"]
    } else {
        &["--yes", "--no-reload"]
    };
    let outcome = setup(&env, &config, args);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    let for_git = effective(&config, &git);
    for expected in [
        "trustedusercakeys /dev/null",
        "authorizedprincipalsfile /dev/null",
        "permituserrc no",
        "authenticationmethods publickey",
    ] {
        assert!(
            for_git.lines().any(|line| line == expected),
            "{git} lacks '{expected}':\n{for_git}"
        );
    }
    let for_others = effective(&config, "alice");
    assert!(for_others.lines().any(|l| l == trusted), "{for_others}");

    if !root {
        eprintln!("needs root and no systemd for the login attempt; CI runs as root");
        return;
    }
    // sshd re-executes itself on SIGHUP; poll until the certificate is refused.
    let carol = env.as_certificate_holder("carol", &certificate);
    let deadline = Instant::now() + common::DEADLINE;
    loop {
        let login = carol.ssh(Some("echo a shell"));
        if login.code == Some(255) {
            assert!(!login.stdout.contains("a shell"), "{login}");
            break;
        }
        assert!(Instant::now() < deadline, "{login}\n{}", env.logs());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_probe_that_fails_before_writing_stops_setup_and_nothing_is_written() {
    let env = TestEnv::new();
    let config = main_config(&env, true);
    // sshd -t accepts this, but sshd -T -C cannot evaluate it without a local port.
    append_to_main(&config, "Match LocalPort 2222\n    PermitTTY no\n");
    let outcome = setup(&env, &config, &["--yes", "--no-reload"]);
    assert_eq!(outcome.code, Some(1), "{outcome}");
    assert!(
        outcome.stderr.contains("forgectl: sshd -T for '"),
        "{outcome}"
    );
    assert!(outcome.stderr.contains("LocalPort"), "{outcome}");
    assert!(outcome.stderr.contains("nothing was written"), "{outcome}");
    assert!(!config.snippet.exists());
}

#[test]
fn a_pid_file_naming_another_program_gets_it_no_signal() {
    if systemd_runs() {
        return;
    }
    let env = TestEnv::new();
    let config = main_config(&env, true);
    let mut other = Command::new("sleep").arg("600").spawn().unwrap();
    let pid_file = env.path("sshd/sshd.pid");
    std::fs::write(&pid_file, format!("{}\n", other.id())).unwrap();

    let outcome = setup(&env, &config, &["--yes"]);
    let alive = other.try_wait().unwrap().is_none();
    let _ = other.kill();
    let _ = other.wait();
    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(alive, "SIGHUP went to pid {}: {outcome}", other.id());
    assert!(
        outcome.stdout.contains(&format!(
            "sshd is not running: {} names pid {}, which is not ",
            pid_file.display(),
            other.id()
        )),
        "{outcome}"
    );
}

#[test]
fn a_reload_that_fails_after_writing_exits_70_and_says_the_file_is_written() {
    if systemd_runs() {
        return;
    }
    let env = TestEnv::new();
    let config = main_config(&env, true);
    std::fs::write(env.path("sshd/sshd.pid"), "not a pid\n").unwrap();
    let outcome = setup(&env, &config, &["--yes"]);
    assert_eq!(outcome.code, Some(70), "{outcome}");
    assert!(
        outcome.stderr.contains(&format!(
            "holds no pid; {} is written and sshd -t accepts it, but the running sshd still has the old settings: reload it by hand",
            config.snippet.display()
        )),
        "{outcome}"
    );
    assert!(config.snippet.exists());
}
