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
    assert_eq!(created.code, Some(1), "refused, not a bug: {created}");
    assert!(created.stderr.contains("symbolic link"), "{created}");
    let left: Vec<_> = std::fs::read_dir(&outside).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let listed = env.forgectl_ok(["repo", "list"]);
    assert!(!listed.stdout.contains("linked/new"), "{listed}");
}

/// A forge whose hook shims are a copy in `<root>/hooks`, which a test may break; alice may
/// write `acme/widgets` and has a commit to push.
fn forge_with_own_hooks() -> (TestEnv, std::path::PathBuf) {
    let shims = tempfile::tempdir().unwrap().keep();
    for shim in ["pre-receive", "post-receive"] {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
        std::fs::copy(source.join(shim), shims.join(shim)).unwrap();
    }
    let mut env = TestEnv::with_hooks(&shims, "");
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.start_sshd();
    env.as_user("alice").start_work("work");
    (env, shims)
}

/// Returns forged's count of recorded ref updates.
fn audit_entries(env: &TestEnv) -> u64 {
    let status = env.forgectl_ok(["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    json["audit_entries"].as_u64().unwrap()
}

/// With the hooks folder gone git would run no hook, so a push would be accepted with no
/// decision and no record: forged refuses the write instead, and says why once (#11).
#[test]
fn regression_11_a_push_is_refused_while_the_hook_shims_are_missing() {
    let (env, shims) = forge_with_own_hooks();
    std::fs::remove_dir_all(&shims).unwrap();
    let alice = env.as_user("alice");
    for _ in 0..2 {
        let pushed = alice.git_in("work", ["push", "forge:acme/widgets", "main"]);
        assert_ne!(pushed.code, Some(0), "{pushed}\n{}", env.logs());
    }
    let clone = alice.git(["clone", "-q", "forge:acme/widgets", "read"]);
    assert_eq!(clone.code, Some(0), "reads need no hooks: {clone}");
    let refs = std::process::Command::new("git")
        .args([
            "--git-dir",
            &env.path("repos/acme/widgets.git").display().to_string(),
        ])
        .args(["for-each-ref"])
        .output()
        .unwrap();
    assert!(refs.stdout.is_empty(), "nothing was pushed");
    let status = env.forgectl_ok(["status"]);
    assert!(
        status
            .stdout
            .contains("problem:         pushes are refused: cannot use "),
        "{status}"
    );
    let log = std::fs::read_to_string(env.path("forged.log")).unwrap();
    assert_eq!(
        log.matches("reinstall forge").count(),
        1,
        "said once: {log}"
    );
}

/// A repository whose own config points core.hooksPath elsewhere still runs forge's hooks:
/// forge-shell forces the hooks path through the environment (#11).
#[test]
fn regression_11_a_repository_config_cannot_turn_the_hooks_off() {
    let (env, _shims) = forge_with_own_hooks();
    let config = env.path("repos/acme/widgets.git/config");
    let set = std::process::Command::new("git")
        .args(["config", "--file", &config.display().to_string()])
        .args(["core.hooksPath", "/nonexistent"])
        .status()
        .unwrap();
    assert!(set.success());
    let pushed = env
        .as_user("alice")
        .git_in("work", ["push", "-q", "forge:acme/widgets", "main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());
    assert_eq!(audit_entries(&env), 1, "{}", env.logs());
}

/// The hook shims run forge_hook from forge.toml when nothing set FORGE_HOOK (a local push),
/// not always the packaged path (#11).
#[test]
fn regression_11_the_hook_shims_honour_forge_hook_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("my-forge-hook");
    std::fs::write(&hook, "#!/bin/sh\necho \"ran $*\"\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = dir.path().join("forge.toml");
    std::fs::write(
        &config,
        format!(
            "log = \"info\"\nforge_hook = \"{}\" # ours\n",
            hook.display()
        ),
    )
    .unwrap();
    for shim in ["pre-receive", "post-receive"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("hooks")
            .join(shim);
        let ran = std::process::Command::new(&path)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("FORGE_CONFIG", &config)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout),
            format!("ran {shim}\n"),
            "{ran:?}"
        );
    }
}

/// A scratch system account, removed on drop.
struct ScratchAccount {
    name: String,
}

impl ScratchAccount {
    fn new(home: &std::path::Path) -> ScratchAccount {
        let name = format!("forge11-{}", std::process::id());
        // '*' and not useradd's '!': sshd without PAM refuses a locked account.
        let made = std::process::Command::new("useradd")
            .args(["-M", "-s", "/bin/sh", "-p", "*", "-d"])
            .arg(home)
            .arg(&name)
            .status()
            .unwrap();
        assert!(made.success(), "useradd {name}");
        ScratchAccount { name }
    }

    fn uid(&self) -> u32 {
        nix::unistd::User::from_name(&self.name)
            .unwrap()
            .unwrap()
            .uid
            .as_raw()
    }
}

impl Drop for ScratchAccount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("userdel")
            .arg(&self.name)
            .status();
    }
}

/// `forgectl keys sync` run by root writes the git account's file: never through a `~/.ssh`
/// the git account linked elsewhere, and as the git account's, which sshd accepts (#11).
#[test]
fn regression_11_keys_sync_refuses_a_linked_ssh_folder_and_gives_the_file_away() {
    if !common::running_as_root("only root writes the file of another account") {
        return;
    }
    let mut env = TestEnv::new();
    let home = env.path("git-home");
    std::fs::create_dir(&home).unwrap();
    let account = ScratchAccount::new(&home);
    std::os::unix::fs::chown(&home, Some(account.uid()), None).unwrap();
    // forged runs as the test's own account, as it is configured; only forgectl, which writes
    // the file, reads a forge.toml naming the scratch account as the git account.
    env.start_forged();
    env.add_user("alice");
    let text = std::fs::read_to_string(&env.config).unwrap();
    let line = format!("git_user = \"{}\"", common::login_user());
    assert!(text.contains(&line), "{text}");
    let text = text.replace(&line, &format!("git_user = \"{}\"", account.name));
    std::fs::write(&env.config, text).unwrap();

    let victim = env.path("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("authorized_keys"), "ssh-ed25519 AAAA victim\n").unwrap();
    symlink(&victim, home.join(".ssh")).unwrap();
    let refused = env.forgectl(["keys", "sync"]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("symbolic link"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(victim.join("authorized_keys")).unwrap(),
        "ssh-ed25519 AAAA victim\n"
    );
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1);

    std::fs::remove_file(home.join(".ssh")).unwrap();
    env.forgectl_ok(["keys", "sync"]);
    let file = home.join(".ssh/authorized_keys");
    let found = std::fs::metadata(&file).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(found.uid(), account.uid(), "the git account's file");
    assert_eq!(found.mode() & 0o7777, 0o600);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("forge-shell")
    );
}

/// With forge's block for `setup sshd --ca` in force, a principals file planted at `~git/none`
/// (which sshd 9.2 reads for `AuthorizedPrincipalsFile none` inside a Match) and a planted
/// `~git/.ssh/rc` change nothing: a certificate the file names gets no shell (#11).
#[test]
fn regression_11_a_planted_none_or_rc_in_the_git_home_changes_nothing() {
    let Some(keys) = common::RootOwnedCopy::of_forge_keys_when_root() else {
        return;
    };
    let mut env = TestEnv::new();
    let home = env.path("git-home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let account = ScratchAccount::new(&home);
    std::os::unix::fs::chown(&home, Some(account.uid()), None).unwrap();
    // Whoever can write as the git account plants a principals file and an rc script.
    std::fs::write(home.join("none"), "carol\n").unwrap();
    let marker = env.path("rc-ran");
    std::fs::write(
        home.join(".ssh/rc"),
        format!("#!/bin/sh\ntouch {}\n", marker.display()),
    )
    .unwrap();
    for planted in [home.join("none"), home.join(".ssh/rc"), home.join(".ssh")] {
        std::os::unix::fs::chown(&planted, Some(account.uid()), None).unwrap();
    }
    env.start_forged();
    let ca = env.make_ca("forge-ca");
    let ca_public = std::path::PathBuf::from(format!("{}.pub", ca.display()));
    let certificate = env.sign(&ca, "carol", "carol");

    let mut config = forge::config::Config::from_file(&env.config).unwrap();
    config.git_user = account.name.clone();
    config.keys_user = common::login_user();
    config.forge_keys = keys.path();
    let block = forge::admin::sshd_setup::render(&config, Some(&ca_public)).unwrap();
    let port = common::sshd::free_port();
    let folder = env.path("ssh");
    std::fs::create_dir_all(&folder).unwrap();
    let host_key = folder.join("host_ed25519");
    common::keygen(&host_key, "host key");
    let main = folder.join("sshd_config");
    std::fs::write(
        &main,
        format!(
            "ListenAddress 127.0.0.1:{port}\nHostKey {}\nPidFile {}\nAllowUsers {}\n\
             UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             TrustedUserCAKeys {}\nLogLevel VERBOSE\n{block}",
            host_key.display(),
            folder.join("sshd.pid").display(),
            account.name,
            ca_public.display(),
        ),
    )
    .unwrap();
    env.sshd = Some(common::sshd::Sshd::run(env.root.path(), &main, port));
    let carol = env.as_certificate_holder("carol", &certificate);
    let ssh_config = std::fs::read_to_string(&carol.ssh_config).unwrap();
    let as_git = ssh_config.replace(
        &format!("  User {}\n", common::login_user()),
        &format!("  User {}\n", account.name),
    );
    assert_ne!(as_git, ssh_config);
    std::fs::write(&carol.ssh_config, as_git).unwrap();

    let login = carol.ssh(Some("echo a shell"));
    assert_eq!(login.code, Some(255), "{login}\n{}", env.logs());
    assert!(!login.stdout.contains("a shell"), "{login}");
    assert!(!marker.exists(), "the planted rc ran");
    let sshd_log = std::fs::read_to_string(env.path("sshd.log")).unwrap_or_default();
    assert!(
        !sshd_log.contains(&home.join("none").display().to_string()),
        "sshd read the planted file:\n{sshd_log}"
    );
}
