//! End to end through a real sshd and a real git client: per-ref rules, path rules, deny
//! rules, repositories created from patterns and their creators' rights.

use crate::common;

use common::TestEnv;

const POLICY: &str = r#"
[groups]
"@devs" = ["alice", "bob", "mallory"]

[[rule]]
repos = ["acme/widgets"]
perm = "-"
refs = ["refs/heads/release"]
users = ["mallory"]

[[rule]]
repos = ["acme/widgets"]
perm = "RW"
refs = ["NAME/docs/"]
users = ["bob"]

[[rule]]
repos = ["acme/widgets"]
perm = "-"
refs = ["NAME/"]
users = ["bob"]

[[rule]]
repos = ["acme/widgets"]
perm = "RW+"
users = ["alice", "mallory"]

[[rule]]
repos = ["acme/widgets"]
perm = "RW"
users = ["bob"]

[[rule]]
repos = ["users/CREATOR/..*"]
perm = "C"
users = ["@devs"]

[[rule]]
repos = ["users/CREATOR/..*"]
perm = "RW+"
users = ["CREATOR"]

[[rule]]
repos = ["users/CREATOR/..*"]
perm = "R"
users = ["READERS"]
"#;

/// alice and mallory may force-push acme/widgets, bob may push (fast-forward) only the docs;
/// mallory is denied the release branch; everyone in @devs may create users/<self>/...
fn forge_with_policy() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    for name in ["alice", "bob", "mallory", "carol"] {
        env.add_user(name);
    }
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    let file = env.path("policy.toml");
    std::fs::write(&file, POLICY).unwrap();
    env.forgectl_ok(["policy", "apply", file.to_str().unwrap()]);
    env.start_sshd();
    let alice = env.as_user("alice");
    alice.start_work("work");
    alice.commit("work", "docs-readme", "two");
    let pushed = alice.git_in(
        "work",
        [
            "push",
            "-q",
            "forge:acme/widgets",
            "main",
            "main:release",
            "main:topic",
        ],
    );
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());
    env
}

fn clone(env: &TestEnv, name: &str) -> common::sshd::Person {
    let person = env.as_user(name);
    let cloned = person.git(["clone", "-q", "forge:acme/widgets", "clone"]);
    assert_eq!(cloned.code, Some(0), "{cloned}");
    person
}

#[test]
fn a_protected_branch_takes_fast_forwards_from_its_pushers_and_refuses_force() {
    let env = forge_with_policy();
    env.forgectl_ok(["protect", "acme/widgets", "main", "--pushers", "alice"]);
    let alice = clone(&env, "alice");
    alice.commit("clone", "a", "three");
    let forward = alice.git_in("clone", ["push", "origin", "main"]);
    assert_eq!(forward.code, Some(0), "{forward}");
    alice.git_in("clone", ["reset", "-q", "--hard", "HEAD~2"]);
    let forced = alice.git_in("clone", ["push", "--force", "origin", "main"]);
    assert_ne!(forced.code, Some(0), "{forced}");
    assert!(
        forced
            .stderr
            .contains("forge: refs/heads/main: denied by rule")
            && forced
                .stderr
                .contains("forgectl protect acme/widgets branch 'main'"),
        "{forced}"
    );
    let other = clone(&env, "mallory");
    other.commit("clone", "m", "mallory's");
    let refused = other.git_in("clone", ["push", "origin", "main"]);
    assert_ne!(
        refused.code,
        Some(0),
        "only the named pushers push to main: {refused}"
    );

    // #11: protecting again replaces the protection, unknown names are refused, and
    // unprotect undoes it.
    env.forgectl_ok(["protect", "acme/widgets", "main", "--pushers", "mallory"]);
    let pushed = other.git_in("clone", ["push", "origin", "main"]);
    assert_eq!(
        pushed.code,
        Some(0),
        "the second protection's pusher: {pushed}"
    );
    let exported = env.forgectl_ok(["policy", "export"]).stdout;
    assert_eq!(
        exported
            .matches("forgectl protect acme/widgets branch 'main'")
            .count(),
        2,
        "one RW rule and one deny, not four: {exported}"
    );
    for args in [
        ["protect", "acme/widgets", "main", "--pushers", "nobody"],
        ["protect", "acme/nothing", "main", "--pushers", "alice"],
    ] {
        let refused = env.forgectl(args);
        assert_eq!(refused.code, Some(1), "{refused}");
    }
    env.forgectl_ok(["unprotect", "acme/widgets", "main"]);
    assert!(
        !env.forgectl_ok(["policy", "export"])
            .stdout
            .contains("forgectl protect"),
        "unprotect removed the rules"
    );
    let again = env.forgectl(["unprotect", "acme/widgets", "main"]);
    assert_eq!(
        again.render(),
        "forgectl: repository 'acme/widgets' has no protection of branch 'main'; see 'forgectl policy export'\n[exit 1]"
    );
}

#[test]
fn deleting_a_branch_needs_more_than_write() {
    let env = forge_with_policy();
    let bob = clone(&env, "bob");
    let refused = bob.git_in("clone", ["push", "origin", ":topic"]);
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.stderr.contains("forge: refs/heads/topic: denied: no rule lets bob rewind (force-push), delete a branch or move a tag (+)"),
        "{refused}"
    );
    let alice = clone(&env, "alice");
    let deleted = alice.git_in("clone", ["push", "origin", ":topic"]);
    assert_eq!(deleted.code, Some(0), "{deleted}");
}

#[test]
fn immutable_tags_are_created_once_and_never_moved() {
    let env = forge_with_policy();
    env.forgectl_ok(["protect", "acme/widgets", "--tags", "--pushers", "alice"]);
    let alice = clone(&env, "alice");
    alice.git_in("clone", ["tag", "v1"]);
    let created = alice.git_in("clone", ["push", "origin", "v1"]);
    assert_eq!(created.code, Some(0), "{created}");
    alice.commit("clone", "a", "later");
    alice.git_in("clone", ["tag", "-f", "v1"]);
    let moved = alice.git_in("clone", ["push", "--force", "origin", "v1"]);
    assert_ne!(moved.code, Some(0), "{moved}");
    assert!(
        moved.stderr.contains("forge: refs/tags/v1: denied by rule"),
        "{moved}"
    );
    let deleted = alice.git_in("clone", ["push", "origin", ":refs/tags/v1"]);
    assert_ne!(deleted.code, Some(0), "{deleted}");
}

#[test]
fn a_deny_rule_stops_a_user_who_is_otherwise_allowed() {
    let env = forge_with_policy();
    let mallory = clone(&env, "mallory");
    mallory.git_in("clone", ["checkout", "-q", "release"]);
    mallory.commit("clone", "m", "sneaky release");
    let refused = mallory.git_in("clone", ["push", "origin", "release"]);
    assert_ne!(refused.code, Some(0));
    assert!(
        refused
            .stderr
            .contains("forge: refs/heads/release: denied by rule"),
        "{refused}"
    );
    let elsewhere = mallory.git_in("clone", ["push", "origin", "release:mallory-branch"]);
    assert_eq!(
        elsewhere.code,
        Some(0),
        "RW+ still holds elsewhere: {elsewhere}"
    );
    let explained = env.forgectl([
        "access",
        "mallory",
        "acme/widgets",
        "W",
        "release",
        "--explain",
    ]);
    assert_eq!(explained.code, Some(1), "{explained}");
    assert!(
        explained.stdout.contains("(policy.toml line 5)"),
        "{explained}"
    );
}

#[test]
fn path_rules_are_checked_on_the_pushed_commits() {
    let env = forge_with_policy();
    let bob = clone(&env, "bob");
    std::fs::create_dir_all(bob.home.join("clone/docs")).unwrap();
    bob.commit("clone", "docs/guide", "docs are fine");
    let docs = bob.git_in("clone", ["push", "origin", "main"]);
    assert_eq!(docs.code, Some(0), "{docs}");
    bob.commit("clone", "src", "code is not");
    let code = bob.git_in("clone", ["push", "origin", "main"]);
    assert_ne!(code.code, Some(0));
    assert!(
        code.stderr
            .contains("forge: refs/heads/main: src: denied by rule"),
        "{code}"
    );
}

#[test]
fn regression_11_a_refused_file_name_reaches_the_pusher_and_the_log_escaped() {
    let env = forge_with_policy();
    let bob = clone(&env, "bob");
    let name = "red\u{1b}[31mx\rremote: forge: all good";
    bob.commit("clone", name, "a name that paints the terminal");
    let refused = bob.git_in("clone", ["push", "origin", "main"]);
    assert_ne!(refused.code, Some(0), "{refused}");
    assert!(
        !refused.stderr.contains('\u{1b}') && !refused.stderr.contains('\r'),
        "a raw byte reached the pusher: {:?}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(
            "remote: forge: refs/heads/main: red\\u{1b}[31mx\\rremote: forge: all good: this file name is not UTF-8 or holds a control character"
        ),
        "{refused}"
    );
    let log = std::fs::read_to_string(env.path("forged.log")).unwrap_or_default();
    assert!(!log.contains('\u{1b}') && !log.contains('\r'), "{log:?}");
    assert!(log.contains("red\\u{1b}[31mx\\r"), "{}", env.logs());
}

#[test]
fn pushing_to_a_pattern_creates_the_repository_for_its_creator() {
    let env = forge_with_policy();
    let alice = env.as_user("alice");
    alice.start_work("mine");
    let created = alice.git_in("mine", ["push", "forge:users/alice/tool", "main"]);
    assert_eq!(created.code, Some(0), "{created}\n{}", env.logs());
    assert!(env.path("repos/users/alice/tool.git/HEAD").exists());
    let elsewhere = alice.git_in("mine", ["push", "forge:users/bob/tool", "main"]);
    assert_ne!(elsewhere.code, Some(0));
    assert_eq!(
        elsewhere.forge_line(),
        "forge: no repository 'users/bob/tool' writable with this key; check the name or ask an admin"
    );
    let carol = env.as_user("carol");
    carol.start_work("mine");
    let not_a_dev = carol.git_in("mine", ["push", "forge:users/carol/tool", "main"]);
    assert_ne!(not_a_dev.code, Some(0), "carol is not in @devs");

    // The creator's rights: force push, and handing out READERS.
    alice.commit("mine", "a", "second");
    alice.git_in("mine", ["reset", "-q", "--hard", "HEAD~1"]);
    let forced = alice.git_in(
        "mine",
        ["push", "--force", "forge:users/alice/tool", "main"],
    );
    assert_eq!(forced.code, Some(0), "{forced}");
    let bob = env.as_user("bob");
    assert_ne!(
        bob.git(["clone", "-q", "forge:users/alice/tool", "t"]).code,
        Some(0)
    );
    assert_eq!(
        alice
            .ssh(Some("perms users/alice/tool + READERS bob"))
            .render(),
        "READERS bob\n[exit 0]"
    );
    let read = bob.git(["clone", "-q", "forge:users/alice/tool", "t"]);
    assert_eq!(read.code, Some(0), "{read}");
    let not_creator = bob.ssh(Some("perms users/alice/tool + READERS carol"));
    assert_eq!(not_creator.code, Some(1), "{not_creator}");
    let listed = env.forgectl_ok(["repo", "perms", "users/alice/tool"]);
    assert_eq!(listed.stdout, "creator: alice\nREADERS bob\n");
}

#[test]
fn create_and_info_speak_gitolites_language() {
    let env = forge_with_policy();
    let bob = env.as_user("bob");
    assert_eq!(
        bob.ssh(Some("create users/bob/notes")).render(),
        "created repository 'users/bob/notes'\n[exit 0]"
    );
    let again = bob.ssh(Some("create users/bob/notes"));
    assert_eq!(again.code, Some(1), "{again}");
    let info = bob.ssh(Some("info"));
    assert!(
        info.stdout.contains("     C\tusers/CREATOR/..*\n"),
        "{info}"
    );
    assert!(info.stdout.contains(" R W\tacme/widgets\n"), "{info}");
    assert!(info.stdout.contains(" R W\tusers/bob/notes\n"), "{info}");
    env.forgectl_ok(["repo", "create", "users/alice/x", "--creator", "alice"]);
    let listed = env.forgectl_ok(["repo", "perms", "users/alice/x"]);
    assert_eq!(listed.stdout, "creator: alice\n");
    let refused = env.forgectl(["repo", "create", "users/carol/y", "--creator", "carol"]);
    assert_eq!(refused.code, Some(1), "carol may not create: {refused}");
}
