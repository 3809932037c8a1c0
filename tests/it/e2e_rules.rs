//! End to end through a real sshd and a real git client: the rules a push or a fetch could
//! walk around (issue #11): file names path rules cannot read, refs outside branches and tags,
//! objects no ref reaches, and what git's errors say about the server.

use crate::common;

use common::TestEnv;
use std::os::unix::ffi::OsStrExt;

/// alice writes acme/widgets (a grant: `RW+` on every ref), bob reads it; `policy` (a policy
/// file) is applied first when given.
fn forge(policy: Option<&str>) -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.add_user("bob");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "admin"]);
    env.forgectl_ok(["grant", "acme/widgets", "bob", "read"]);
    if let Some(policy) = policy {
        apply(&env, policy);
    }
    env.start_sshd();
    env
}

fn apply(env: &TestEnv, policy: &str) {
    let file = env.path("policy.toml");
    std::fs::write(&file, policy).unwrap();
    env.forgectl_ok(["policy", "apply", file.to_str().unwrap()]);
}

/// alice's work: main with one commit, pushed.
fn pushed_main(env: &TestEnv) -> (common::sshd::Person, String) {
    let alice = env.as_user("alice");
    let main = alice.start_work("work");
    let pushed = alice.git_in("work", ["push", "-q", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());
    (alice, main)
}

// https://github.com/forge/forge/issues/11
#[test]
fn regression_11_a_path_rule_decides_file_names_that_are_not_utf8() {
    let env = forge(Some(
        r#"
[[rule]]
repos = ["acme/widgets"]
perm = "-"
refs = ["NAME/secrets/"]
users = ["alice"]
"#,
    ));
    let (alice, _) = pushed_main(&env);
    let folder = alice.home.join("work/secrets");
    std::fs::create_dir_all(&folder).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"\xff.conf");
    std::fs::write(folder.join(name), "token").unwrap();
    for args in [
        vec!["add", "secrets"],
        vec!["commit", "-q", "-m", "a secret"],
    ] {
        let outcome = alice.git_in("work", &args);
        assert_eq!(outcome.code, Some(0), "{outcome}");
    }
    let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
    assert_ne!(pushed.code, Some(0), "{pushed}");
    assert!(
        pushed.stderr.contains("forge: refs/heads/main: ") && pushed.stderr.contains("not UTF-8"),
        "{pushed}"
    );
}

// https://github.com/forge/forge/issues/11
#[test]
fn regression_11_a_replace_ref_needs_a_rule_naming_it_and_never_changes_what_is_served() {
    let env = forge(None);
    let (alice, main) = pushed_main(&env);
    // Another commit with other content, standing in for main through refs/replace/<main>.
    alice.git_in("work", ["checkout", "-q", "--orphan", "other"]);
    alice.git_in("work", ["rm", "-q", "-rf", "."]);
    alice.commit("work", "planted", "the writer's content");
    let other = alice.git_in("work", ["rev-parse", "HEAD"]).stdout;
    let replaced = alice.git_in("work", ["replace", &main, other.trim()]);
    assert_eq!(replaced.code, Some(0), "{replaced}");
    let replace_ref = format!("refs/replace/{main}");
    let refused = alice.git_in(
        "work",
        [
            "push",
            "forge:acme/widgets",
            &format!("{replace_ref}:{replace_ref}"),
        ],
    );
    assert_ne!(refused.code, Some(0), "{refused}");
    assert!(
        refused.stderr.contains(&format!(
            "forge: {replace_ref}: denied: refs outside refs/heads/ and refs/tags/ need a rule \
             naming them (refs/replace/); ask an admin"
        )),
        "{refused}"
    );

    apply(
        &env,
        r#"
[[rule]]
repos = ["acme/widgets"]
perm = "RW+"
refs = ["refs/replace/"]
users = ["alice"]
"#,
    );
    let allowed = alice.git_in(
        "work",
        [
            "push",
            "forge:acme/widgets",
            &format!("{replace_ref}:{replace_ref}"),
        ],
    );
    assert_eq!(allowed.code, Some(0), "{allowed}\n{}", env.logs());

    let bob = env.as_user("bob");
    let archive = bob.git([
        "archive",
        "--remote=forge:acme/widgets",
        "--output=main.tar",
        "main",
    ]);
    assert_eq!(archive.code, Some(0), "{archive}");
    let listed = common::Outcome::of(
        std::process::Command::new("tar")
            .arg("-tf")
            .arg(bob.home.join("main.tar")),
        None,
    );
    assert_eq!(
        listed.stdout, "a\n",
        "the archive holds main's own tree: {listed}"
    );
    let cloned = bob.git(["clone", "-q", "forge:acme/widgets", "clone"]);
    assert_eq!(cloned.code, Some(0), "{cloned}");
    assert!(bob.home.join("clone/a").exists() && !bob.home.join("clone/planted").exists());
}

// https://github.com/forge/forge/issues/11
#[test]
fn regression_11_no_protocol_fetches_an_object_that_no_ref_reaches() {
    let env = forge(None);
    let (alice, _) = pushed_main(&env);
    alice.git_in("work", ["checkout", "-q", "-b", "topic"]);
    let secret = alice.commit("work", "credential", "a credential");
    for refspec in ["topic", ":topic"] {
        let pushed = alice.git_in("work", ["push", "-q", "forge:acme/widgets", refspec]);
        assert_eq!(pushed.code, Some(0), "{pushed}");
    }
    let bob = env.as_user("bob");
    let cloned = bob.git(["clone", "-q", "forge:acme/widgets", "clone"]);
    assert_eq!(cloned.code, Some(0), "{cloned}");
    for version in ["0", "1", "2"] {
        let fetched = bob.git_in(
            "clone",
            [
                "-c",
                &format!("protocol.version={version}"),
                "fetch",
                "origin",
                &secret,
            ],
        );
        assert_ne!(
            fetched.code,
            Some(0),
            "protocol v{version} served an object no ref reaches: {fetched}"
        );
        let present = bob.git_in("clone", ["cat-file", "-e", &secret]);
        assert_ne!(present.code, Some(0), "v{version}: {present}");
    }
}

// https://github.com/forge/forge/issues/11
#[test]
fn regression_11_a_failing_git_service_names_no_server_path() {
    let env = forge(None);
    pushed_main(&env);
    let repo = env.path("repos/acme/widgets.git");
    let root = env.root.path().display().to_string();
    std::fs::remove_file(repo.join("HEAD")).unwrap();
    let bob = env.as_user("bob");
    let broken = bob.git(["clone", "forge:acme/widgets", "broken"]);
    assert_ne!(broken.code, Some(0), "{broken}");
    assert!(!broken.stderr.contains(&root), "{broken}");
    assert!(
        broken.stderr.contains("fatal: '.' does not appear"),
        "{broken}"
    );
    std::fs::remove_dir_all(&repo).unwrap();
    let removed = bob.git(["clone", "forge:acme/widgets", "removed"]);
    assert_ne!(removed.code, Some(0), "{removed}");
    assert!(!removed.stderr.contains(&root), "{removed}");
    let archive = bob.git(["archive", "--remote=forge:acme/widgets", "main"]);
    assert!(!archive.stderr.contains(&root), "{archive}");
}
