//! The progress bars of forgectl's long commands: drawn on a terminal (a real pty, through
//! util-linux's `script`), never when stderr is a pipe or with `--quiet`; each command ends
//! with one line saying what it did (#13).

use crate::common::{self, TestEnv};
use std::path::PathBuf;
use std::process::Command;

/// A forge with alice and a repository, a policy file and a small gitolite site to import.
struct Forge {
    env: TestEnv,
    policy: PathBuf,
    conf: PathBuf,
    keydir: PathBuf,
}

fn forge() -> Forge {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    let policy = env.path("policy.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nrepos = [\"acme/widgets\"]\nperm = \"RW+\"\nusers = [\"alice\"]\n",
    )
    .unwrap();
    let conf = env.path("site/conf/gitolite.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(&conf, "repo gadgets\n    RW+ = carol\n").unwrap();
    let keydir = env.path("site/keydir");
    std::fs::create_dir_all(&keydir).unwrap();
    common::keygen(&keydir.join("carol"), "carol@desk");
    std::fs::remove_file(keydir.join("carol")).unwrap();
    Forge {
        env,
        policy,
        conf,
        keydir,
    }
}

impl Forge {
    /// The long commands, each with the word its bar shows and the start of its last line.
    fn commands(&self) -> Vec<(Vec<String>, &'static str, &'static str)> {
        let path = |p: &PathBuf| p.display().to_string();
        vec![
            (
                vec![
                    "keys".into(),
                    "sync".into(),
                    "--file".into(),
                    path(&self.env.path("ssh/authorized_keys")),
                ],
                "asking forged for every key",
                "wrote 1 key(s) to ",
            ),
            (
                vec![
                    "policy".into(),
                    "apply".into(),
                    path(&self.policy),
                    "--dry-run".into(),
                ],
                "comparing 1 rule(s) in forged",
                "dry run: ",
            ),
            (
                vec![
                    "import".into(),
                    "gitolite".into(),
                    path(&self.conf),
                    "--keydir".into(),
                    path(&self.keydir),
                    "--dry-run".into(),
                ],
                "comparing 1 user(s), 1 key(s), 1 repositor(ies)",
                "dry run: ",
            ),
        ]
    }
}

#[test]
fn no_bar_is_drawn_when_stderr_is_not_a_terminal_and_each_command_ends_with_what_it_did() {
    let forge = forge();
    for (args, _, last) in forge.commands() {
        let outcome = forge.env.forgectl_ok(&args);
        assert_eq!(outcome.stderr, "", "{outcome}");
        let line = outcome.stdout.lines().last().unwrap_or("");
        assert!(line.starts_with(last), "{outcome}");
    }
}

/// Returns what forgectl wrote on a terminal: `script` runs it on a fresh pty.
fn on_a_terminal(env: &TestEnv, args: &[String]) -> common::Outcome {
    let quote = |arg: &str| format!("'{}'", arg.replace('\'', r"'\''"));
    let line: Vec<String> = [
        common::FORGECTL,
        "--config",
        &env.config.display().to_string(),
    ]
    .into_iter()
    .map(quote)
    .chain(args.iter().map(|arg| quote(arg)))
    .collect();
    let mut command = Command::new("script");
    command
        .args(["--quiet", "--return", "--command"])
        .arg(line.join(" "))
        .arg("/dev/null")
        .env("TERM", "xterm");
    common::Outcome::of(&mut command, None)
}

#[test]
fn on_a_terminal_a_bar_says_what_is_being_done_unless_quiet() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "util-linux's script is needed to give forgectl a terminal"
        );
        eprintln!("skipped: no `script` to run forgectl on a pty");
        return;
    }
    let forge = forge();
    for (args, step, last) in forge.commands() {
        let shown = on_a_terminal(&forge.env, &args);
        assert_eq!(shown.code, Some(0), "{shown}");
        assert!(
            shown.stdout.contains(step),
            "no bar saying '{step}': {shown}"
        );
        assert!(shown.stdout.contains(last), "{shown}");
        let mut quiet = args.clone();
        quiet.insert(0, "--quiet".into());
        let plain = on_a_terminal(&forge.env, &quiet);
        assert_eq!(plain.code, Some(0), "{plain}");
        assert!(
            !plain.stdout.contains(step),
            "a bar despite --quiet: {plain}"
        );
        assert!(plain.stdout.contains(last), "{plain}");
    }
}
