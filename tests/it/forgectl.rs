//! forgectl against a real forged on a temporary socket and SQLite file.

use crate::common;

use assert_cmd::Command;
use common::TestEnv;

fn forgectl(env: &TestEnv) -> Command {
    let mut command = Command::new(common::FORGECTL);
    command.arg("--config").arg(&env.config);
    command
}

fn running() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    env
}

#[test]
fn users_are_added_listed_and_removed() {
    let env = running();
    forgectl(&env)
        .args(["user", "add", "alice"])
        .assert()
        .success()
        .stdout("added user 'alice'\n");
    forgectl(&env)
        .args(["user", "add", "alice"])
        .assert()
        .code(1)
        .stderr("forgectl: user 'alice' already exists\n");
    forgectl(&env)
        .args(["user", "add", "../x"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("user name may only hold letters"));
    let listed = env.forgectl_ok(["user", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(users[0]["name"], "alice");
    assert_eq!(users[0]["keys"], 0);
    forgectl(&env)
        .args(["user", "remove", "alice"])
        .assert()
        .success();
    forgectl(&env)
        .args(["user", "remove", "alice"])
        .assert()
        .code(1)
        .stderr("forgectl: user 'alice' does not exist\n");
}

#[test]
fn a_key_belongs_to_one_user_and_bad_keys_are_refused() {
    let env = running();
    let key = env.make_key("alice");
    let public = format!("{}.pub", key.display());
    env.forgectl_ok(["user", "add", "alice"]);
    env.forgectl_ok(["user", "add", "bob"]);
    forgectl(&env)
        .args(["key", "add", "alice", &public])
        .assert()
        .success()
        .stdout(predicates::str::starts_with(
            "added ssh-ed25519 key SHA256:",
        ));
    forgectl(&env)
        .args(["key", "add", "bob", &public])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "(it belongs to 'alice'); remove it first",
        ));
    let text = std::fs::read_to_string(&public).unwrap();
    for (hostile, why) in [
        (format!("command=\"/bin/sh\" {text}"), "options"),
        (format!("{text}{text}"), "one key"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP== x\n".to_owned(), "DSA"),
        ("not a key\n".to_owned(), "key type"),
    ] {
        let outcome = forgectl(&env)
            .args(["key", "add", "bob", "-"])
            .write_stdin(hostile.clone())
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&outcome.get_output().stderr).into_owned();
        assert!(
            stderr.starts_with("forgectl: cannot add key for 'bob': "),
            "{hostile:?} -> {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        let _ = why;
    }
    let listed = env.forgectl_ok(["key", "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    let fingerprint = keys[0]["fingerprint"].as_str().unwrap();
    let keygen = std::process::Command::new("ssh-keygen")
        .args(["-l", "-f", &public])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&keygen.stdout).contains(fingerprint),
        "forge's fingerprint is ssh-keygen's"
    );
    forgectl(&env)
        .args(["key", "remove", fingerprint])
        .assert()
        .success();
    forgectl(&env)
        .args(["key", "remove", fingerprint])
        .assert()
        .code(1);
    forgectl(&env)
        .args(["key", "remove", "SHA256:nope"])
        .assert()
        .code(1);
}

/// #13: `key remove` takes the id `key list` shows (`key-1`), the plain number its JSON has,
/// or the fingerprint; a bad or unknown one changes nothing.
#[test]
fn regression_13_key_remove_takes_the_id_key_list_shows() {
    let env = running();
    env.forgectl_ok(["user", "add", "alice"]);
    for name in ["one", "two", "three"] {
        let public = format!("{}.pub", env.make_key(name).display());
        env.forgectl_ok(["key", "add", "alice", &public]);
    }
    let table = env.forgectl_ok(["key", "list"]).stdout;
    let shown: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(1))
        .collect();
    assert_eq!(shown, ["key-1", "key-2", "key-3"], "{table}");
    let listed = env.forgectl_ok(["key", "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let third = keys[2]["fingerprint"].as_str().unwrap().to_owned();

    for bad in ["key-0", "alice", "key-2x"] {
        forgectl(&env)
            .args(["key", "remove", bad])
            .assert()
            .code(1)
            .stderr(predicates::str::contains(
                "names no key: give its id as 'forgectl key list' shows it",
            ));
    }
    forgectl(&env)
        .args(["key", "remove", "key-9"])
        .assert()
        .code(1)
        .stderr("forgectl: key key-9 does not exist\n");
    forgectl(&env)
        .args(["key", "remove", "key-2"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with("removed key-2 SHA256:"));
    forgectl(&env)
        .args(["key", "remove", "1"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with("removed key-1 SHA256:"));
    forgectl(&env)
        .args(["key", "remove", "key-1"])
        .assert()
        .code(1);
    forgectl(&env)
        .args(["key", "remove", &third])
        .assert()
        .success()
        .stdout(format!("removed key-3 {third} of 'alice'\n"));
    let left = env.forgectl_ok(["key", "list", "--json"]).stdout;
    assert_eq!(left.trim(), "[]");
}

#[test]
fn repository_names_are_checked_and_case_collisions_refused() {
    let env = running();
    forgectl(&env)
        .args([
            "repo",
            "create",
            "acme/widgets.git",
            "--description",
            "widgets",
        ])
        .assert()
        .success()
        .stdout("created private repository 'acme/widgets'\n");
    assert!(env.path("repos/acme/widgets.git/HEAD").exists());
    for bad in [
        "/acme/x", "~/x", "acme/x/", "../etc", "a/.git/b", "x.GIT/y", "-rf", "a b",
    ] {
        forgectl(&env)
            .args(["repo", "create", "--", bad])
            .assert()
            .code(1);
    }
    forgectl(&env)
        .args(["repo", "create", "Acme/Widgets"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "names may not differ only in letter case",
        ));
    forgectl(&env)
        .args(["repo", "remove", "acme/widgets"])
        .assert()
        .code(1);
    forgectl(&env)
        .args(["repo", "remove", "acme/widgets", "--yes"])
        .assert()
        .success();
    assert!(!env.path("repos/acme/widgets.git").exists());
    assert!(
        env.path("repos/.removed").is_dir(),
        "removed repositories are kept aside"
    );
}

#[test]
fn access_explains_and_exits_by_the_decision() {
    let env = running();
    env.forgectl_ok(["user", "add", "alice"]);
    env.forgectl_ok(["repo", "create", "docs", "--public"]);
    env.forgectl_ok(["repo", "create", "secret"]);
    forgectl(&env)
        .args(["access", "alice", "docs", "R", "--explain"])
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with("refs/.*\nallowed by rule "))
        .stdout(predicates::str::contains(
            "'R refs/.* = @all' on 'docs' (public repository)",
        ));
    forgectl(&env)
        .args(["access", "alice", "docs", "write"])
        .assert()
        .code(1)
        .stdout("W any docs alice DENIED by fallthru\n");
    env.forgectl_ok(["grant", "secret", "alice", "read"]);
    // #13: a rule is shown by where it came from, not by its internal number (1099511627776).
    forgectl(&env)
        .args(["access", "alice", "secret", "R", "--explain"])
        .assert()
        .code(0)
        .stdout("refs/.*\nallowed by rule 'R refs/.* = alice' on 'secret' (forgectl grant)\n");
    forgectl(&env)
        .args(["access", "alice", "secret", "W", "main", "--explain"])
        .assert()
        .code(1)
        .stdout("W refs/heads/main secret alice DENIED by fallthru\ndenied: no rule lets alice push (W)\n");
    env.forgectl_ok(["grant", "secret", "alice", "write"]);
    forgectl(&env)
        .args(["access", "alice", "secret", "W"])
        .assert()
        .code(0);
    // #11: write is RW, so no force push; admin is RW+.
    forgectl(&env)
        .args(["access", "alice", "secret", "+", "refs/heads/main"])
        .assert()
        .code(1);
    env.forgectl_ok(["grant", "secret", "alice", "admin"]);
    forgectl(&env)
        .args(["access", "alice", "secret", "+", "refs/heads/main"])
        .assert()
        .code(0);
    env.forgectl_ok(["revoke", "secret", "alice"]);
    forgectl(&env)
        .args(["access", "alice", "secret", "R"])
        .assert()
        .code(1);
    forgectl(&env)
        .args(["access", "alice", "secret", "X"])
        .assert()
        .code(1);
    forgectl(&env)
        .args(["access", "ghost", "secret", "R"])
        .assert()
        .code(1)
        .stderr("forgectl: user 'ghost' does not exist\n");
    forgectl(&env).args(["access", "alice"]).assert().code(2);
}

#[test]
fn keys_sync_rewrites_only_forges_block() {
    let env = running();
    let key = env.make_key("alice");
    env.forgectl_ok(["user", "add", "alice"]);
    env.forgectl_ok(["key", "add", "alice", &format!("{}.pub", key.display())]);
    let file = env.path("authorized_keys");
    let before = "# admin's own key, kept as is\r\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5Lr8/ZkhA7gAd/J8vG1tqfr1hqVgD1tC1hCq7ny6aa admin\n";
    std::fs::write(&file, before).unwrap();
    for _ in 0..2 {
        env.forgectl_ok(["keys", "sync", "--file", file.to_str().unwrap()]);
    }
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        after.starts_with(before),
        "lines outside the block are kept byte for byte"
    );
    let block: Vec<&str> = after[before.len()..].lines().collect();
    assert_eq!(block.len(), 3, "{after}");
    assert!(block[0].starts_with("# forge: begin"));
    assert_eq!(block[2], "# forge: end managed keys");
    assert_strict_forced_command(block[1], &env);
}

/// Checks a generated line against the only shape forge writes:
/// `command="<abs path> --config <abs path> key-<n>",restrict <type> <base64>`.
fn assert_strict_forced_command(line: &str, env: &TestEnv) {
    let rest = line
        .strip_prefix("command=\"")
        .expect("starts with command=\"");
    let (command, rest) = rest
        .split_once("\",restrict ")
        .expect("command then restrict");
    let words: Vec<&str> = command.split(' ').collect();
    assert_eq!(words.len(), 4, "{command}");
    assert_eq!(words[0], common::FORGE_SHELL);
    assert_eq!(
        (words[1], words[2]),
        ("--config", env.config.to_str().unwrap())
    );
    let id = words[3].strip_prefix("key-").expect("key-<n>");
    assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'));
    for path in [words[0], words[2]] {
        assert!(
            path.starts_with('/')
                && path
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/._+-".contains(&b)),
            "{path}"
        );
    }
    let (algorithm, blob) = rest.split_once(' ').expect("type and key");
    assert_eq!(algorithm, "ssh-ed25519");
    assert!(
        blob.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
        "{blob}"
    );
    assert!(!blob.contains(' '), "no comment is copied");
}

/// #13: the line says how to start forged, and tells a missing socket from one nobody listens
/// on.
#[test]
fn an_unreachable_forged_exits_75_with_one_line() {
    let env = TestEnv::new();
    let socket = env.path("forged.sock");
    let outcome = env.forgectl(["user", "list"]);
    assert_eq!(outcome.code, Some(75), "{outcome}");
    assert_eq!(
        outcome.stderr,
        format!(
            "forgectl: cannot reach forged at {}: no socket there; start it with 'systemctl start forged.socket' (or run forged), or check 'socket' in the config\n",
            socket.display()
        ),
        "{outcome}"
    );
    // A socket file left by a forged that died: refused, not missing.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let outcome = env.forgectl(["user", "list"]);
    assert_eq!(outcome.code, Some(75), "{outcome}");
    assert_eq!(
        outcome.stderr,
        format!(
            "forgectl: cannot reach forged at {}: nothing listens on the socket (forged stopped or crashed); start it with 'systemctl start forged.socket' (or run forged), and see 'journalctl -u forged'\n",
            socket.display()
        ),
        "{outcome}"
    );
}

#[test]
fn a_config_that_would_need_shell_quoting_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spaced = dir.path().join("my forge.toml");
    std::fs::write(&spaced, "").unwrap();
    let outcome = Command::new(common::FORGECTL)
        .arg("--config")
        .arg(&spaced)
        .arg("status")
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&outcome.get_output().stderr).into_owned();
    assert!(stderr.contains("written into authorized_keys"), "{stderr}");
    std::fs::write(
        dir.path().join("bad.toml"),
        "forge_shell = \"/usr/lib/forge/forge shell\"\n",
    )
    .unwrap();
    Command::new(common::FORGED)
        .arg("--config")
        .arg(dir.path().join("bad.toml"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("'forge_shell' must be a path"));
    std::fs::write(dir.path().join("typo.toml"), "sokcet = \"/x\"\n").unwrap();
    Command::new(common::FORGED)
        .arg("--config")
        .arg(dir.path().join("typo.toml"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("unknown field `sokcet`"));
}

#[test]
fn status_counts_what_forged_holds() {
    let env = running();
    env.forgectl_ok(["user", "add", "alice"]);
    env.forgectl_ok(["repo", "create", "docs"]);
    let status = env.forgectl_ok(["status"]);
    assert!(status.stdout.starts_with("forged 0.1.0 is up"), "{status}");
    assert!(status.stdout.contains("users:           1\n"), "{status}");
    assert!(status.stdout.contains("repositories:    1\n"), "{status}");
}

#[test]
fn a_second_forged_does_not_steal_a_live_socket_and_a_stale_one_is_replaced() {
    let mut env = running();
    Command::new(common::FORGED)
        .arg("--config")
        .arg(&env.config)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "another forged is already listening",
        ));
    env.forgectl_ok(["status"]);
    let status = env.stop_forged();
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    assert!(!env.socket().exists(), "a clean stop removes the socket");
    // A crash leaves the socket file behind; the next forged replaces it.
    env.start_forged();
    env.kill_forged();
    assert!(env.socket().exists());
    env.start_forged();
    env.forgectl_ok(["status"]);
}

#[test]
fn accounts_without_a_role_are_refused() {
    if !common::running_as_root("forgectl runs as another account") {
        return;
    }
    let env = running();
    use assert_cmd::assert::OutputAssertExt;
    use std::os::unix::process::CommandExt;
    let outcome = std::process::Command::new(common::FORGECTL)
        .arg("--config")
        .arg(&env.config)
        .args(["user", "list"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap()
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&outcome.get_output().stderr).into_owned();
    assert!(stderr.contains("may not ask 'user_list'"), "{stderr}");
}

#[test]
fn policy_export_then_apply_changes_nothing_and_dry_runs_change_nothing() {
    let env = running();
    let file = env.path("policy.toml");
    std::fs::write(
        &file,
        "[groups]\n\"@devs\" = [\"alice\"]\n\n[[rule]]\nrepos = [\"team/.*\"]\nperm = \"RW+\"\nusers = [\"@devs\"]\n",
    )
    .unwrap();
    let dry = env.forgectl_ok(["policy", "apply", file.to_str().unwrap(), "--dry-run"]);
    assert!(dry.stdout.contains("+ group @devs = alice"), "{dry}");
    assert!(
        dry.stdout.ends_with("dry run: 2 change(s) not applied\n"),
        "{dry}"
    );
    assert_eq!(
        env.forgectl_ok(["policy", "export"])
            .stdout
            .matches("[[rule]]")
            .count(),
        0
    );
    let applied = env.forgectl_ok(["policy", "apply", file.to_str().unwrap()]);
    assert!(
        applied.stdout.ends_with("applied 2 change(s)\n"),
        "{applied}"
    );
    let exported = env.forgectl_ok(["policy", "export"]).stdout;
    let again = env.path("exported.toml");
    std::fs::write(&again, &exported).unwrap();
    let unchanged = env.forgectl_ok(["policy", "apply", again.to_str().unwrap()]);
    assert_eq!(unchanged.stdout, "no changes\n");
    let broken = env.path("broken.toml");
    std::fs::write(
        &broken,
        "[[rule]]\nrepos = [\"x\"]\nperm = \"W\"\nusers = [\"a\"]\n",
    )
    .unwrap();
    forgectl(&env)
        .args(["policy", "apply", broken.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr("forgectl: broken.toml line 1: 'W' is not a permission; use -, C, R, RW, RW+, RWC, RWD, RW+CD (M may follow)\n");
    assert_eq!(
        env.forgectl_ok(["policy", "export"]).stdout,
        exported,
        "a refused file changes nothing"
    );
}

/// #13: a policy naming users the forge does not have applies with one warning line per name
/// on stderr, saying where; one that would hand the only force-push access to a typo is
/// refused and changes nothing.
#[test]
fn regression_13_a_policy_naming_unknown_users_warns_and_refuses_a_lockout() {
    let env = running();
    env.forgectl_ok(["user", "add", "alice"]);
    env.forgectl_ok(["repo", "create", "infra"]);
    let file = env.path("policy.toml");
    let write = |admins: &str, readers: &str| {
        std::fs::write(
            &file,
            format!(
                "[groups]\n\"@admins\" = [{admins}]\n\n[[rule]]\nrepos = [\"infra\"]\nperm = \"RW+\"\nusers = [\"@admins\"]\n\n[[rule]]\nrepos = [\"infra\"]\nperm = \"R\"\nusers = [{readers}]\n"
            ),
        )
        .unwrap();
    };
    let apply = || env.forgectl(["policy", "apply", file.to_str().unwrap()]);
    write("\"alice\", \"dave\"", "\"erin\", \"alice\"");
    let applied = apply();
    assert_eq!(applied.code, Some(0), "{applied}");
    assert_eq!(
        applied.stderr,
        "forgectl: warning: 'dave' (group @admins) is not a user of this forge; add it with 'forgectl user add', or fix the name\n\
         forgectl: warning: 'erin' (policy.toml line 9) is not a user of this forge; add it with 'forgectl user add', or fix the name\n",
        "{applied}"
    );
    let before = env.forgectl_ok(["policy", "export"]).stdout;
    write("\"alcie\"", "\"alice\"");
    let refused = apply();
    assert_eq!(refused.code, Some(1), "{refused}");
    assert_eq!(
        refused.stderr,
        "forgectl: the policy gives force push (RW+) on 'infra' only to 'alcie', not users of this forge, and takes it from those who hold it now; nothing was changed: fix the name, or add the user first with 'forgectl user add'\n",
        "{refused}"
    );
    assert_eq!(env.forgectl_ok(["policy", "export"]).stdout, before);
    env.forgectl_ok(["user", "add", "alcie"]);
    let now = apply();
    assert_eq!(now.code, Some(0), "once the user exists it applies\n{now}");
    assert_eq!(now.stderr, "", "{now}");
}

#[test]
fn keys_get_a_title_and_an_expiry_and_list_shows_them() {
    let env = running();
    env.forgectl_ok(["user", "add", "alice"]);
    let laptop = format!("{}.pub", env.make_key("laptop").display());
    let desk = format!("{}.pub", env.make_key("desk").display());
    forgectl(&env)
        .args(["key", "add", "alice", &laptop, "--title", "work laptop"])
        .args(["--expires", "2100-01-31"])
        .assert()
        .success()
        .stdout(predicates::str::ends_with(
            "to 'alice' as key-1, expires 2100-01-31T00:00:00Z\n",
        ));
    env.forgectl_ok([
        "key",
        "add",
        "alice",
        &desk,
        "--expires",
        "2100-01-31T12:00:00+02:00",
    ]);

    let listed = env.forgectl_ok(["key", "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(keys[0]["title"], "work laptop");
    assert_eq!(keys[0]["expires"], "2100-01-31T00:00:00Z");
    assert_eq!(keys[0]["last_used"], serde_json::Value::Null);
    assert_eq!(keys[1]["title"], "desk", "no title given: the comment");
    assert_eq!(keys[1]["expires"], "2100-01-31T10:00:00Z");

    let table = env.forgectl_ok(["key", "list", "alice"]).stdout;
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "USER",
            "ID",
            "TYPE",
            "FINGERPRINT",
            "TITLE",
            "CREATED",
            "LAST-USED",
            "EXPIRES"
        ]
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].starts_with("alice  key-1  ssh-ed25519  SHA256:"),
        "{table}"
    );
    assert!(lines[1].contains("  work laptop  "), "{table}");
    assert!(
        lines[1].ends_with("  never      2100-01-31T00:00:00Z"),
        "{table}"
    );

    // Keys never used count as unused since any date after they were added.
    let unused = |date: &str| {
        let listed = env.forgectl_ok(["key", "list", "--unused-since", date, "--json"]);
        let keys: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
        keys.as_array().unwrap().len()
    };
    assert_eq!(unused("2000-01-01"), 0);
    assert_eq!(unused("2099-01-01T00:00:00Z"), 2);

    // A key that expires carries OpenSSH's own expiry in authorized_keys.
    let file = env.path("authorized_keys");
    env.forgectl_ok(["keys", "sync", "--file", file.to_str().unwrap()]);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.contains("\",restrict,expiry-time=\"21000131000000Z\" ssh-ed25519 AAAA"),
        "{written}"
    );
    assert!(!written.contains("work laptop") && !written.contains(" laptop\n"));
}

#[test]
fn past_or_unreadable_expiries_and_bad_titles_are_refused_and_add_nothing() {
    let env = running();
    env.forgectl_ok(["user", "add", "alice"]);
    let public = format!("{}.pub", env.make_key("alice").display());
    forgectl(&env)
        .args(["key", "add", "alice", &public, "--expires", "2001-02-03"])
        .assert()
        .code(1)
        .stderr(
            "forgectl: cannot add key for 'alice': expiry 2001-02-03T00:00:00Z is already past; \
             give a later date\n",
        );
    let long_title = "t".repeat(101);
    for (flag, value, why) in [
        (
            "--expires",
            "tomorrow",
            "is not a date (YYYY-MM-DD) or an RFC 3339 time",
        ),
        ("--expires", "2030-02-30", "is not a date"),
        ("--expires", "2030-01-31T00:00:00", "is not a date"),
        ("--expires", "1969-12-31", "outside the years 1970 to 9999"),
        (
            "--title",
            long_title.as_str(),
            "key title is 101 characters, more than the 100 allowed",
        ),
        (
            "--title",
            "a\u{1b}[31mred",
            "key title contains a control character at byte 1",
        ),
    ] {
        let outcome = forgectl(&env)
            .args(["key", "add", "alice", &public, flag, value])
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&outcome.get_output().stderr).into_owned();
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.contains(why), "{flag} {value:?}: {stderr}");
    }
    forgectl(&env)
        .args(["key", "list", "--unused-since", "last week"])
        .assert()
        .code(1);
    let listed = env.forgectl_ok(["key", "list", "--json"]);
    assert_eq!(listed.stdout.trim(), "[]", "nothing was added");
}

#[test]
fn user_cas_are_added_listed_and_removed_and_never_double_as_keys() {
    let env = running();
    let ca = env.make_ca("corp");
    let ca_public = format!("{}.pub", ca.display());
    forgectl(&env)
        .args(["ca", "add", "corp", &ca_public])
        .assert()
        .success()
        .stdout(
            predicates::str::is_match("^added ssh-ed25519 user CA SHA256:\\S+ as 'corp'\n$")
                .unwrap(),
        );
    forgectl(&env)
        .args(["ca", "add", "other", &ca_public])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "(registered as 'corp') already exists; remove it first",
        ));
    // A CA's key is no user's key, and a user's key is no CA.
    env.forgectl_ok(["user", "add", "alice"]);
    forgectl(&env)
        .args(["key", "add", "alice", &ca_public])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "it is registered as user CA 'corp'",
        ));
    let alice_key = env.add_user("bob");
    forgectl(&env)
        .args(["ca", "add", "bobs", &format!("{}.pub", alice_key.display())])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("it is a key of user 'bob'"));
    // Bad input changes nothing and says what was wrong.
    let certificate = env.sign(&ca, "carol", "carol");
    for (args, why) in [
        (vec!["ca", "add", "co/rp", &ca_public], "CA name 'co/rp'"),
        (
            vec!["ca", "add", "cert", certificate.to_str().unwrap()],
            "certificates are not accepted",
        ),
    ] {
        forgectl(&env)
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicates::str::contains(why));
    }
    let listed = env.forgectl_ok(["ca", "list", "--json"]);
    let cas: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(cas.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(cas[0]["name"], "corp");
    assert_eq!(cas[0]["comment"], "corp");
    let table = env.forgectl_ok(["ca", "list"]);
    assert!(
        table.stdout.starts_with("NAME  TYPE         FINGERPRINT"),
        "{table}"
    );
    forgectl(&env)
        .args(["ca", "remove", "corp"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with(
            "removed user CA 'corp' (SHA256:",
        ));
    forgectl(&env)
        .args(["ca", "remove", "corp"])
        .assert()
        .code(1)
        .stderr("forgectl: CA 'corp' does not exist\n");
}

#[test]
fn principal_mappings_need_a_user_a_valid_principal_and_no_earlier_mapping() {
    let env = running();
    env.forgectl_ok(["user", "add", "bob"]);
    forgectl(&env)
        .args(["principal", "map", "ops-alice", "bob"])
        .assert()
        .success()
        .stdout("mapped principal 'ops-alice' to user 'bob'\n");
    forgectl(&env)
        .args(["principal", "map", "ops-alice", "bob"])
        .assert()
        .code(1)
        .stderr("forgectl: a mapping of principal 'ops-alice' (to 'bob') already exists; unmap it first\n");
    forgectl(&env)
        .args(["principal", "map", "ops-carol", "ghost"])
        .assert()
        .code(1)
        .stderr("forgectl: user 'ghost' does not exist\n");
    for bad in ["a b", "a,b", "a\"b", ""] {
        forgectl(&env)
            .args(["principal", "map", bad, "bob"])
            .assert()
            .code(1)
            .stderr(predicates::str::contains("principal"));
    }
    let listed = env.forgectl_ok(["principal", "list", "--json"]);
    let principals: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(principals.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(principals[0]["principal"], "ops-alice");
    assert_eq!(principals[0]["user"], "bob");
    forgectl(&env)
        .args(["principal", "unmap", "ops-alice"])
        .assert()
        .success()
        .stdout("unmapped principal 'ops-alice'\n");
    forgectl(&env)
        .args(["principal", "unmap", "ops-alice"])
        .assert()
        .code(1)
        .stderr("forgectl: a mapping of principal 'ops-alice' does not exist\n");
}

/// Runs `forgectl completions SHELL` with neither a configuration file nor forged.
fn completions(shell: &str) -> String {
    let output = forgectl_without_forged()
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "forgectl completions {shell}: {output:?}"
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn completions_need_neither_config_nor_forged_and_cover_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let script = completions(shell);
        for word in [
            "user",
            "repo",
            "grant",
            "sync",
            "unused-since",
            "completions",
        ] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    forgectl_without_forged()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(
            "[possible values: bash, zsh, fish]",
        ));
}

fn forgectl_without_forged() -> Command {
    let mut command = Command::new(common::FORGECTL);
    command.env("FORGE_CONFIG", "/nonexistent/forge.toml");
    command
}

#[test]
fn bash_accepts_the_bash_completions() {
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), completions("bash")).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(script.path())
        .output()
        .unwrap();
    assert!(checked.status.success(), "bash -n: {checked:?}");
    // Sourcing it registers the completion function for forgectl.
    let sourced = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p forgectl",
            script.path().display()
        ))
        .output()
        .unwrap();
    let registered = String::from_utf8_lossy(&sourced.stdout);
    assert!(
        sourced.status.success() && registered.contains("forgectl"),
        "sourcing the completions: {sourced:?}"
    );
}
