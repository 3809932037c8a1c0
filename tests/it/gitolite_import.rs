//! `forgectl import gitolite` against a real forged (issue 4): a conf with includes and a keydir
//! in gitolite's conventions comes in whole (users with and without keys, keys, plain repos,
//! rules), a dry run changes nothing, what forge cannot carry over fails the import unless
//! `--partial`; and then the real daemon, asked through `forgectl access`, answers as Debian's
//! gitolite3 answers `gitolite access` on the same conf and the same wild repos.

use crate::common;

use common::gitolite::Gitolite;
use common::{Outcome, TestEnv};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// The main gitolite.conf, after gitolite's admin repo lines.
const MAIN_CONF: &str = r#"include "groups.conf"
repo alice/plain
    RW = alice
    R = @all
repo pub/CREATOR/..*
    C = @devs
    RW+ = CREATOR
    RW = WRITERS
    R = READERS
repo CREATOR/[a-z]+
    C = @all
    RW+CD = CREATOR
    R = READERS
include "repos/*.conf"
"#;

/// `groups.conf`, included by the main conf.
const GROUPS_CONF: &str = "@devs = alice bob\n@qa = quinn\n";

/// `repos/products.conf`, included through a glob.
const PRODUCTS_CONF: &str = "repo widgets gadgets
    RW+ = @devs
    - master = bob
    RW = carol
    R = @qa
repo tools
    RWC = bob
    RW+D = alice
    RW refs/tags/v[0-9] = carol
    - VREF/NAME/secret/ = carol
    RW+ NAME/ = carol
";

/// Everyone the confs name; only alice and bob have keys.
const CONF_USERS: [&str; 5] = ["admin", "alice", "bob", "carol", "quinn"];

/// The plain repositories gitolite creates for the confs.
const PLAIN_REPOS: [&str; 5] = [
    "alice/plain",
    "gadgets",
    "gitolite-admin",
    "tools",
    "widgets",
];

/// A wild repository: its name, its creator, and the roles the creator hands out.
type Wild = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Wild repositories, created on both sides.
const WILD: &[Wild] = &[
    (
        "pub/alice/one",
        "alice",
        &[("READERS", "carol"), ("WRITERS", "bob")],
    ),
    ("alice/tools", "alice", &[("READERS", "@qa")]),
];

/// Repositories nobody created, asked about too.
const MISSING: [&str; 5] = [
    "pub/alice/new",
    "pub/carol/new",
    "bob/new",
    "tools2",
    "nosuch",
];

/// Permissions as `gitolite access` and `forgectl access` take them.
const PERMS: [&str; 7] = ["R", "W", "+", "C", "D", "M", "^C"];

/// Refs; a short name is a branch, on both sides.
const REFS: [Option<&str>; 7] = [
    None,
    Some("master"),
    Some("refs/heads/dev/x"),
    Some("refs/tags/v1"),
    Some("refs/tags/x"),
    Some("VREF/NAME/secret/a"),
    Some("VREF/NAME/docs/a"),
];

/// A conf folder with the main conf and its includes, and a keydir, as a gitolite admin
/// would hand them over.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::Builder::new()
            .prefix("forge-gitolite-site-")
            .tempdir()
            .expect("a temporary folder");
        let site = Site { dir };
        site.write(
            "conf/gitolite.conf",
            &format!("{}{MAIN_CONF}", common::gitolite::ADMIN_PREFIX),
        );
        site.write("conf/groups.conf", GROUPS_CONF);
        site.write("conf/repos/products.conf", PRODUCTS_CONF);
        for (file, comment) in [
            ("keydir/alice.pub", "alice@desk"),
            ("keydir/alice@laptop.pub", "alice@laptop"),
            ("keydir/sub/bob.pub", "bob"),
        ] {
            site.keygen(file, comment);
        }
        site
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn conf(&self) -> PathBuf {
        self.path("conf/gitolite.conf")
    }

    fn keydir(&self) -> PathBuf {
        self.path("keydir")
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("a file has a folder")).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Makes a key pair whose public half is `relative` (a `.pub` file in the keydir).
    fn keygen(&self, relative: &str, comment: &str) {
        let public = self.path(relative);
        std::fs::create_dir_all(public.parent().unwrap()).unwrap();
        let private = self.path(&format!(
            "private/{}",
            relative.trim_end_matches(".pub").replace('/', "_")
        ));
        std::fs::create_dir_all(private.parent().unwrap()).unwrap();
        common::keygen(&private, comment);
        std::fs::rename(format!("{}.pub", private.display()), &public).unwrap();
    }

    /// Returns the SHA256 fingerprint of the key in `relative`, as ssh-keygen prints it.
    fn fingerprint(&self, relative: &str) -> String {
        let outcome = Outcome::of(
            Command::new("ssh-keygen")
                .args(["-l", "-E", "sha256", "-f"])
                .arg(self.path(relative)),
            None,
        );
        assert_eq!(outcome.code, Some(0), "{outcome}");
        outcome
            .stdout
            .split_whitespace()
            .nth(1)
            .expect("ssh-keygen -l prints bits, fingerprint, comment")
            .to_owned()
    }
}

fn running() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    env
}

fn import_args<'a>(site: &'a Site, extra: &[&'a str]) -> Vec<String> {
    let mut args = vec![
        "import".to_owned(),
        "gitolite".to_owned(),
        site.conf().display().to_string(),
        "--keydir".to_owned(),
        site.keydir().display().to_string(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

fn json(outcome: &Outcome) -> serde_json::Value {
    serde_json::from_str(&outcome.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{outcome}"))
}

fn user_names(env: &TestEnv) -> BTreeSet<String> {
    let users = json(&env.forgectl_ok(["user", "list", "--json"]));
    users
        .as_array()
        .expect("a list of users")
        .iter()
        .map(|u| u["name"].as_str().expect("a name").to_owned())
        .collect()
}

fn repo_names(env: &TestEnv) -> BTreeSet<String> {
    let repos = json(&env.forgectl_ok(["repo", "list", "--json"]));
    repos
        .as_array()
        .expect("a list of repos")
        .iter()
        .map(|r| r["name"].as_str().expect("a name").to_owned())
        .collect()
}

/// Returns each key's owner and fingerprint, sorted.
fn keys(env: &TestEnv) -> Vec<(String, String)> {
    let keys = json(&env.forgectl_ok(["key", "list", "--json"]));
    let mut keys: Vec<(String, String)> = keys
        .as_array()
        .expect("a list of keys")
        .iter()
        .map(|k| {
            (
                k["user"].as_str().expect("a user").to_owned(),
                k["fingerprint"].as_str().expect("a fingerprint").to_owned(),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// Everything an import could have changed, to show that something did not.
fn state(env: &TestEnv) -> String {
    format!(
        "users {:?}\nkeys {:?}\nrepos {:?}\n--- policy\n{}",
        user_names(env),
        keys(env),
        repo_names(env),
        env.forgectl_ok(["policy", "export"]).stdout
    )
}

#[test]
fn import_brings_every_user_key_and_plain_repo_and_a_dry_run_nothing() {
    let site = Site::new();
    let env = running();
    let before = state(&env);

    let dry = env.forgectl(import_args(&site, &["--dry-run"]));
    assert_eq!(dry.code, Some(0), "{dry}\n{}", env.logs());
    for line in ["+ user quinn", "+ user alice", "+ repository widgets"] {
        assert!(
            dry.stdout.lines().any(|l| l == line),
            "the dry run does not list '{line}'\n{dry}"
        );
    }
    assert!(
        dry.stdout.contains("dry run:"),
        "the dry run does not say it is one\n{dry}"
    );
    assert_eq!(state(&env), before, "the dry run changed something");

    let import = env.forgectl(import_args(&site, &[]));
    assert_eq!(import.code, Some(0), "{import}\n{}", env.logs());

    let users = user_names(&env);
    for user in CONF_USERS {
        assert!(
            users.contains(user),
            "user '{user}' of the conf was not imported: {users:?}\n{import}"
        );
    }
    let expected_keys: BTreeSet<(String, String)> = [
        ("alice", "keydir/alice.pub"),
        ("alice", "keydir/alice@laptop.pub"),
        ("bob", "keydir/sub/bob.pub"),
    ]
    .iter()
    .map(|(user, file)| ((*user).to_owned(), site.fingerprint(file)))
    .collect();
    let imported_keys: BTreeSet<(String, String)> = keys(&env).into_iter().collect();
    assert_eq!(imported_keys, expected_keys, "{import}");

    let repos = repo_names(&env);
    let mut missing = Vec::new();
    for repo in PLAIN_REPOS {
        let on_disk = env.path(&format!("repos/{repo}.git")).is_dir();
        if !repos.contains(repo) || !on_disk {
            missing.push(format!(
                "{repo} (listed: {}, on disk: {on_disk})",
                repos.contains(repo)
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "plain repositories of the conf were not created: {missing:?}\nrepo list: {repos:?}\n{import}\n{}",
        env.logs()
    );

    let again = env.forgectl_ok(import_args(&site, &[]));
    assert!(
        again.stdout.contains("no changes"),
        "a second import of the same site changes something\n{again}"
    );
}

#[test]
fn unsupported_vrefs_fail_the_import_with_a_list_unless_partial() {
    let site = Site::new();
    site.write(
        "conf/repos/products.conf",
        &format!(
            "{PRODUCTS_CONF}repo widgets\n    - VREF/COUNT/5 = carol\n    \
             - VREF/MAX_NEWBIN_SIZE/1000 = @all\n"
        ),
    );
    let env = running();
    let before = state(&env);

    let refused = env.forgectl(import_args(&site, &[]));
    assert_eq!(refused.code, Some(1), "{refused}");
    for what in ["VREF/COUNT/5", "VREF/MAX_NEWBIN_SIZE/1000", "--partial"] {
        assert!(
            refused.stderr.contains(what),
            "the refusal does not name {what}\n{refused}"
        );
    }
    let listed: Vec<&str> = refused
        .stderr
        .lines()
        .filter(|l| l.starts_with("forgectl: cannot import: "))
        .collect();
    assert_eq!(listed.len(), 2, "one line per problem\n{refused}");
    assert_eq!(
        state(&env),
        before,
        "a refused import changed something\n{refused}"
    );

    let partial = env.forgectl(import_args(&site, &["--partial"]));
    assert_eq!(partial.code, Some(0), "{partial}\n{}", env.logs());
    assert!(
        partial.stderr.contains("VREF/COUNT/5"),
        "a partial import still lists what it leaves out\n{partial}"
    );
    let policy = env.forgectl_ok(["policy", "export"]).stdout;
    assert!(
        !policy.contains("VREF/COUNT") && policy.contains("VREF/NAME/secret/"),
        "the partial import left out the wrong rules\n{policy}"
    );
    let users = user_names(&env);
    assert!(CONF_USERS.iter().all(|u| users.contains(*u)), "{users:?}");
}

/// One sampled question.
#[derive(Debug, Clone)]
struct Question {
    user: &'static str,
    repo: &'static str,
    perm: &'static str,
    reference: Option<&'static str>,
}

/// A small deterministic generator (xorshift64), so a failing run can be repeated.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}

/// Returns the answer as a line and an exit code: `forgectl access` (the daemon) or
/// `gitolite access` (with `GL_USER` the asking user, the would-be creator of a missing repo).
fn render(code: Option<i32>, stdout: &str) -> String {
    format!(
        "exit {} {:?}",
        code.map_or("signal".to_owned(), |c| c.to_string()),
        stdout.lines().next().unwrap_or("")
    )
}

#[test]
fn the_daemon_answers_access_questions_as_gitolite_does_after_an_import() {
    let site = Site::new();
    let real = Gitolite::setup();
    real.write_file("groups.conf", GROUPS_CONF);
    real.write_file("repos/products.conf", PRODUCTS_CONF);
    real.write_conf(MAIN_CONF);
    let compiled = real.compile();
    assert_eq!(compiled.code, Some(0), "{}", real.show(&compiled));

    let env = running();
    env.forgectl_ok(import_args(&site, &[]));
    // The import is meant to create the plain repos (the test above holds it to that); any it
    // left out are created here, so that this test compares decisions, not existence.
    let imported = repo_names(&env);
    for repo in PLAIN_REPOS {
        if !imported.contains(repo) {
            env.forgectl_ok(["repo", "create", repo]);
        }
    }
    for (repo, creator, roles) in WILD {
        real.create_wild(repo, creator);
        env.forgectl_ok(["repo", "create", repo, "--creator", creator]);
        for (role, member) in *roles {
            real.perms(repo, creator, "+", role, member);
            env.forgectl_ok(["repo", "perms", repo, "+", role, member]);
        }
    }

    let repos: Vec<&str> = PLAIN_REPOS
        .iter()
        .chain(WILD.iter().map(|(repo, _, _)| repo))
        .chain(MISSING.iter())
        .copied()
        .collect();
    // These questions hit corners on purpose; the rest are drawn at random.
    let mut questions = vec![
        Question {
            user: "alice",
            repo: "alice/plain",
            perm: "C",
            reference: Some("master"),
        },
        Question {
            user: "bob",
            repo: "alice/tools",
            perm: "R",
            reference: None,
        },
        Question {
            user: "carol",
            repo: "tools",
            perm: "W",
            reference: Some("VREF/NAME/secret/a"),
        },
        Question {
            user: "alice",
            repo: "pub/alice/new",
            perm: "^C",
            reference: None,
        },
        Question {
            user: "bob",
            repo: "widgets",
            perm: "W",
            reference: Some("master"),
        },
    ];
    let mut rng = XorShift(0x1f2e_3d4c_5b6a_7988);
    while questions.len() < 200 {
        questions.push(Question {
            user: CONF_USERS[rng.below(CONF_USERS.len())],
            repo: repos[rng.below(repos.len())],
            perm: PERMS[rng.below(PERMS.len())],
            reference: REFS[rng.below(REFS.len())],
        });
    }

    let compare = |question: &Question| -> Option<String> {
        let theirs = real.access_outcome(
            question.repo,
            question.user,
            question.perm,
            question.reference.unwrap_or(""),
            Some(question.user),
        );
        let mut args = vec!["access", question.user, question.repo, question.perm];
        args.extend(question.reference);
        let ours = env.forgectl(&args);
        let (theirs, ours) = (
            render(theirs.code, &theirs.stdout),
            render(ours.code, &ours.stdout),
        );
        (theirs != ours).then(|| {
            format!(
                "GL_USER={user} gitolite access {repo} {user} {perm} {reference}\n    \
                 gitolite:          {theirs}\n    forgectl access:   {ours}",
                user = question.user,
                repo = question.repo,
                perm = question.perm,
                reference = question.reference.unwrap_or("any"),
            )
        })
    };
    let halves = questions.split_at(questions.len() / 2);
    let mismatches: Vec<String> = std::thread::scope(|scope| {
        let first = scope.spawn(|| halves.0.iter().filter_map(compare).collect::<Vec<_>>());
        let mut second: Vec<String> = halves.1.iter().filter_map(compare).collect();
        let mut all = first.join().expect("the first half ran");
        all.append(&mut second);
        all
    });
    println!(
        "{} questions asked of forgectl access and gitolite access",
        questions.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} answers differ\n--- gitolite.conf\n{MAIN_CONF}--- groups.conf\n{GROUPS_CONF}\
         --- repos/products.conf\n{PRODUCTS_CONF}--- wild repos: {WILD:?}\n{}",
        mismatches.len(),
        questions.len(),
        mismatches.join("\n")
    );
}

/// #13: an import into a forge that holds a policy already shows what it would change (what
/// rules and groups go, what come) and changes nothing, unless `--replace`.
#[test]
fn regression_13_an_import_over_a_policy_shows_the_diff_and_needs_replace() {
    let site = Site::new();
    let env = running();
    env.forgectl_ok(["user", "add", "dave"]);
    env.forgectl_ok(["repo", "create", "infra"]);
    let policy = env.path("policy.toml");
    std::fs::write(
        &policy,
        "[groups]\n\"@ops\" = [\"dave\"]\n\n[[rule]]\nrepos = [\"infra\"]\nperm = \"RW+\"\nusers = [\"@ops\"]\n",
    )
    .unwrap();
    env.forgectl_ok(["policy", "apply", policy.to_str().unwrap()]);
    let before = state(&env);

    let refused = env.forgectl(import_args(&site, &[]));
    assert_eq!(refused.code, Some(1), "{refused}");
    for line in [
        "forgectl: the import would change the forge's policy so:",
        "  - group @ops = dave",
        "  + group @devs = alice bob",
        "  - rule RW+ refs/.* = @ops on infra",
        "  + rule RW+ refs/.* = @devs on widgets (at 11)",
    ] {
        assert!(
            refused.stderr.lines().any(|l| l == line),
            "{line:?} is not shown\n{refused}"
        );
    }
    let last = refused.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("forgectl: cannot import: the forge holds a policy already")
            && last.ends_with("nothing was changed: pass --replace to replace it"),
        "{refused}"
    );
    assert_eq!(refused.stdout, "", "{refused}");
    assert_eq!(state(&env), before, "a refused import changed something");

    let dry = env.forgectl(import_args(&site, &["--dry-run"]));
    assert_eq!(dry.code, Some(0), "a dry run needs no --replace\n{dry}");
    assert_eq!(state(&env), before, "a dry run changed something");

    let replaced = env.forgectl(import_args(&site, &["--replace"]));
    assert_eq!(replaced.code, Some(0), "{replaced}");
    let exported = env.forgectl_ok(["policy", "export"]).stdout;
    assert!(
        exported.contains("\"@devs\"") && !exported.contains("\"@ops\""),
        "--replace did not replace the policy\n{exported}"
    );
}
