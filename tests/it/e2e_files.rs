//! End to end through a real sshd, git and forged: the file system below the repos root and
//! around the git account (issue #11). No symbolic link below the root is followed, a push is
//! never accepted without the hooks that decide it, and forge's files do not depend on a umask.

use crate::common;

use common::TestEnv;
use std::os::unix::fs::symlink;

const NO_EVIL: &str =
    "forge: no repository 'team/evil' readable with this key; check the name or ask an admin";

/// alice may read team/evil (and nothing else); secret holds one commit she may not read.
fn forge_with_a_secret() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.add_user("owner");
    env.forgectl_ok(["repo", "create", "secret"]);
    env.forgectl_ok(["repo", "create", "team/evil"]);
    env.forgectl_ok(["grant", "secret", "owner", "write"]);
    env.forgectl_ok(["grant", "team/evil", "alice", "read"]);
    env.start_sshd();
    let owner = env.as_user("owner");
    owner.start_work("work");
    owner.commit("work", "SECRET", "the secret");
    let pushed = owner.git_in("work", ["push", "-q", "forge:secret", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());
    env
}

/// A link put where a repository's folder was (`team/evil.git -> ../secret.git`) is served as
/// no repository at all, not as the repository it points at (#11).
#[test]
fn regression_11_a_linked_repository_folder_is_not_served() {
    let env = forge_with_a_secret();
    let evil = env.path("repos/team/evil.git");
    std::fs::remove_dir_all(&evil).unwrap();
    symlink("../secret.git", &evil).unwrap();
    let alice = env.as_user("alice");
    let clone = alice.git(["clone", "forge:team/evil", "got"]);
    assert_ne!(clone.code, Some(0), "{clone}");
    assert_eq!(clone.forge_line(), NO_EVIL, "{clone}");
    assert!(!alice.home.join("got/SECRET").exists());
    assert!(env.logs().contains("symbolic link"), "{}", env.logs());
}

/// A linked folder on the way (`team -> /elsewhere`) is not followed either (#11).
#[test]
fn regression_11_a_linked_folder_on_the_way_is_not_served() {
    let env = forge_with_a_secret();
    let team = env.path("repos/team");
    std::fs::rename(&team, env.path("moved-team")).unwrap();
    std::fs::create_dir(env.path("fake")).unwrap();
    symlink(env.path("repos/secret.git"), env.path("fake/evil.git")).unwrap();
    symlink(env.path("fake"), &team).unwrap();
    let alice = env.as_user("alice");
    let clone = alice.git(["clone", "forge:team/evil", "got"]);
    assert_eq!(clone.forge_line(), NO_EVIL, "{clone}");
    assert!(!alice.home.join("got/SECRET").exists());
}

/// `repo create` through a linked folder is refused and makes nothing outside the root (#11).
#[test]
fn regression_11_repo_create_through_a_linked_folder_is_refused() {
    let mut env = TestEnv::new();
    env.start_forged();
    env.forgectl_ok(["repo", "create", "first"]);
    let outside = env.path("outside");
    std::fs::create_dir(&outside).unwrap();
    symlink(&outside, env.path("repos/linked")).unwrap();
    let created = env.forgectl(["repo", "create", "linked/new"]);
    assert_ne!(created.code, Some(0), "{created}");
    assert!(created.stderr.contains("symbolic link"), "{created}");
    let left: Vec<_> = std::fs::read_dir(&outside).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let listed = env.forgectl_ok(["repo", "list"]);
    assert!(!listed.stdout.contains("linked/new"), "{listed}");
}
