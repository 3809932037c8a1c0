//! The real gitolite (Debian's gitolite3) in a throwaway HOME, to compare forge with.
//!
//! `scripts/test` installs gitolite3; nothing here installs anything. Every gitolite command
//! runs with an environment built from nothing (HOME, PATH, LC_ALL, and GL_USER when asked).
//! As root, the commands run as `nobody` (uid and gid 65534), in a HOME chowned to it, since
//! gitolite is meant to run as an ordinary account; otherwise they run as the current user.

use super::Outcome;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// gitolite's command.
pub const GITOLITE: &str = "/usr/bin/gitolite";
/// Where Debian's gitolite3 keeps its code.
pub const GITOLITE_SHARE: &str = "/usr/share/gitolite3";
/// The uid and gid gitolite runs as when the tests run as root.
const NOBODY: u32 = 65534;

/// What every scenario conf starts with, as in the gitolite semantics notes.
pub const ADMIN_PREFIX: &str = "repo gitolite-admin\n    RW+ = admin\n";

/// Panics with a clear message unless Debian's gitolite3 is installed.
pub fn require_gitolite() {
    assert!(
        Path::new(GITOLITE).is_file() && Path::new(GITOLITE_SHARE).is_dir(),
        "gitolite3 is not installed ({GITOLITE} or {GITOLITE_SHARE} is missing): \
         run scripts/test, which installs it, or apt-get install gitolite3"
    );
}

/// A gitolite installation in a temporary HOME, removed on drop.
pub struct Gitolite {
    home: tempfile::TempDir,
    as_nobody: bool,
}

impl Gitolite {
    /// Returns a fresh gitolite after `gitolite setup -a admin`, with setup's own conf.
    ///
    /// `gitolite setup` takes most of a second, so it runs once into a template HOME under
    /// the target's tmp folder (shared by test processes, named after the gitolite version
    /// and the account), which each new gitolite copies.
    pub fn setup() -> Gitolite {
        require_gitolite();
        let template = template();
        let gitolite = Gitolite::empty();
        copy_home(&template, gitolite.home());
        if gitolite.as_nobody {
            // `cp -a` keeps the template's owners, which are nobody's only if the template
            // folder was never copied without them (a target/ copied with `cp -r` keeps
            // root's); gitolite, run as nobody, must be able to write its logs.
            give_to_nobody(gitolite.home());
        }
        gitolite
    }

    /// Returns a gitolite whose HOME is an empty folder its account owns.
    fn empty() -> Gitolite {
        let home = tempfile::Builder::new()
            .prefix("forge-gitolite-")
            .tempdir()
            .expect("a temporary folder");
        let as_nobody = nix::unistd::Uid::effective().is_root();
        if as_nobody {
            std::os::unix::fs::chown(home.path(), Some(NOBODY), Some(NOBODY))
                .expect("the temporary HOME can be given to nobody");
        }
        Gitolite { home, as_nobody }
    }

    /// Returns a gitolite that compiled `conf` (after [`ADMIN_PREFIX`]); panics if the
    /// compile fails.
    pub fn with_conf(conf: &str) -> Gitolite {
        let gitolite = Gitolite::setup();
        gitolite.write_conf(conf);
        let outcome = gitolite.compile();
        assert_eq!(
            outcome.code,
            Some(0),
            "gitolite compile failed\n{}",
            gitolite.show(&outcome)
        );
        gitolite
    }

    /// The temporary HOME.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `~/.gitolite/conf`, where gitolite resolves include globs.
    pub fn conf_dir(&self) -> PathBuf {
        self.home().join(".gitolite/conf")
    }

    /// `~/.gitolite/conf/gitolite.conf`.
    pub fn conf_file(&self) -> PathBuf {
        self.conf_dir().join("gitolite.conf")
    }

    /// Writes gitolite.conf: [`ADMIN_PREFIX`], then `conf`.
    pub fn write_conf(&self, conf: &str) {
        self.write_file("gitolite.conf", &format!("{ADMIN_PREFIX}{conf}"));
    }

    /// Writes a file under `~/.gitolite/conf` (for includes), owned by gitolite's account.
    pub fn write_file(&self, relative: &str, text: &str) {
        self.write_admin_file(&format!("conf/{relative}"), text);
    }

    /// Writes a file under `~/.gitolite` (say, `keydir/alice.pub`), owned by gitolite's
    /// account.
    pub fn write_admin_file(&self, relative: &str, text: &str) {
        let admin = self.home().join(".gitolite");
        let path = admin.join(relative);
        let parent = path.parent().expect("a file has a folder");
        std::fs::create_dir_all(parent).unwrap();
        std::fs::write(&path, text).unwrap();
        if self.as_nobody {
            let mut dir = parent;
            while dir.starts_with(&admin) {
                std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
                dir = dir.parent().expect("under the HOME");
            }
            std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }

    /// Runs `gitolite compile` (with its POST_CREATE triggers for new repos), returning what
    /// it did.
    pub fn compile(&self) -> Outcome {
        self.run(&["compile"], None, None)
    }

    /// Runs `gitolite trigger POST_COMPILE`, as a push to gitolite-admin does after compiling:
    /// among others, ssh-authkeys writes `~/.ssh/authorized_keys` from the keydir.
    pub fn post_compile(&self) -> Outcome {
        self.run(&["trigger", "POST_COMPILE"], None, None)
    }

    /// Returns the users of the gitolite keys in `~/.ssh/authorized_keys` (as the last
    /// [`Gitolite::post_compile`] wrote it from the keydir), each with its key, in file order.
    pub fn authorized_keys(&self) -> Vec<(String, String)> {
        let path = self.home().join(".ssh/authorized_keys");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        text.lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("command=\"")?;
                let (command, key) = rest.split_once("\",")?;
                let user = command.rsplit(' ').next()?.to_owned();
                let key = key.split_once(' ')?.1.to_owned();
                Some((user, key))
            })
            .collect()
    }

    /// Runs `gitolite access REPO USER PERM REF` (REF "" is `any`), with `GL_USER` set if
    /// given; returns whether it exited 0, and its stdout without the final newline.
    pub fn access(
        &self,
        repo: &str,
        user: &str,
        perm: &str,
        ref_name: &str,
        gl_user: Option<&str>,
    ) -> (bool, String) {
        let outcome = self.access_outcome(repo, user, perm, ref_name, gl_user);
        let stdout = outcome.stdout.strip_suffix('\n').unwrap_or(&outcome.stdout);
        (outcome.code == Some(0), stdout.to_owned())
    }

    /// Runs `gitolite access` as [`Gitolite::access`] does, returning all it did (a FATAL goes
    /// to stderr with a non-zero exit).
    pub fn access_outcome(
        &self,
        repo: &str,
        user: &str,
        perm: &str,
        ref_name: &str,
        gl_user: Option<&str>,
    ) -> Outcome {
        let ref_name = if ref_name.is_empty() { "any" } else { ref_name };
        self.run(&["access", repo, user, perm, ref_name], gl_user, None)
    }

    /// Asks `gitolite access % % PERM REF` about many (repo, user) pairs in one run; returns
    /// gitolite's answer for each, in order: the matching refex when allowed, a line with
    /// `DENIED` otherwise. As in the single form, a `DENIED by fallthru` for a `VREF/` ref reads
    /// `allowed by fallthru`. Panics if gitolite fails (say, on an invalid user name).
    pub fn access_batch(
        &self,
        perm: &str,
        ref_name: &str,
        pairs: &[(&str, &str)],
        gl_user: Option<&str>,
    ) -> Vec<String> {
        let ref_name = if ref_name.is_empty() { "any" } else { ref_name };
        let stdin: String = pairs.iter().map(|(r, u)| format!("{r} {u}\n")).collect();
        let outcome = self.run(
            &["access", "%", "%", perm, ref_name],
            gl_user,
            Some(stdin.as_bytes()),
        );
        let lines: Vec<&str> = outcome.stdout.lines().collect();
        assert!(
            outcome.code == Some(0) && lines.len() == pairs.len(),
            "gitolite access batch gave {} answers for {} questions\n{}",
            lines.len(),
            pairs.len(),
            self.show(&outcome)
        );
        let is_vref = ref_name.starts_with("VREF/");
        lines
            .iter()
            .zip(pairs)
            .map(|(line, (repo, user))| {
                let answer = line
                    .strip_prefix(&format!("{repo}\t{user}\t"))
                    .unwrap_or_else(|| panic!("unexpected batch line {line:?}"));
                if is_vref {
                    answer.replace("DENIED by fallthru", "allowed by fallthru")
                } else {
                    answer.to_owned()
                }
            })
            .collect()
    }

    /// Creates the wild repo `repo` as `creator` (`GL_USER=creator gitolite create repo`).
    pub fn create_wild(&self, repo: &str, creator: &str) {
        self.ok(&["create", repo], Some(creator), None);
    }

    /// Runs `GL_USER=creator gitolite perms REPO OP ROLE USER` (OP is `+` or `-`).
    pub fn perms(&self, repo: &str, creator: &str, op: &str, role: &str, user: &str) {
        self.ok(&["perms", repo, op, role, user], Some(creator), None);
    }

    /// Returns what the last compile stored: the rules and options of every repo (split
    /// gl-conf files merged in), the groups and the rule sources.
    pub fn compiled(&self) -> Compiled {
        let mut command = Command::new("perl");
        command
            .args(["-e", DUMP_COMPILED])
            .arg(self.home())
            .env_clear()
            .env("PATH", "/usr/bin:/bin");
        let outcome = Outcome::of(&mut command, None);
        assert_eq!(
            outcome.code,
            Some(0),
            "reading the compiled conf failed\n{}",
            self.show(&outcome)
        );
        serde_json::from_str(&outcome.stdout).unwrap_or_else(|e| {
            panic!(
                "compiled conf dump is not what was expected: {e}\n{}",
                outcome.stdout
            )
        })
    }

    /// Runs `gitolite ARGS` and panics unless it succeeds.
    pub fn ok(&self, args: &[&str], gl_user: Option<&str>, stdin: Option<&[u8]>) -> Outcome {
        let outcome = self.run(args, gl_user, stdin);
        assert_eq!(
            outcome.code,
            Some(0),
            "gitolite failed\n{}",
            self.show(&outcome)
        );
        outcome
    }

    /// Runs `gitolite ARGS` in the HOME, as gitolite's account, with a clean environment.
    pub fn run(&self, args: &[&str], gl_user: Option<&str>, stdin: Option<&[u8]>) -> Outcome {
        let mut command = Command::new(GITOLITE);
        command
            .args(args)
            .current_dir(self.home())
            .env_clear()
            .env("HOME", self.home())
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", "C")
            // Quiets git init's hint about the default branch name.
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "init.defaultBranch")
            .env("GIT_CONFIG_VALUE_0", "master");
        if let Some(user) = gl_user {
            command.env("GL_USER", user);
        }
        if self.as_nobody {
            command.uid(NOBODY).gid(NOBODY);
        }
        Outcome::of(&mut command, stdin)
    }

    /// Renders an outcome with the conf it ran on, for a failing test.
    pub fn show(&self, outcome: &Outcome) -> String {
        let conf = std::fs::read_to_string(self.conf_file()).unwrap_or_default();
        format!(
            "command: {}\nHOME: {}\n{}\n--- gitolite.conf\n{conf}",
            outcome.command,
            self.home().display(),
            outcome.render()
        )
    }
}

/// Returns the template HOME where `gitolite setup -a admin` ran, making it if need be.
fn template() -> PathBuf {
    static TEMPLATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let version = std::fs::read_to_string(Path::new(GITOLITE_SHARE).join("VERSION"))
                .unwrap_or_default();
            let version: String = version
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let uid = nix::unistd::Uid::effective();
            let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
            let ready = tmp.join(format!("gitolite-template-{version}-uid{uid}"));
            if ready.join(".forge-template-ready").is_file() {
                return ready;
            }
            // Set up in a fresh folder, then move it into place; another test process may
            // win the race, and then its template is as good.
            let fresh = Gitolite::empty();
            fresh.ok(&["setup", "-a", "admin"], None, None);
            std::fs::write(fresh.home().join(".forge-template-ready"), "").unwrap();
            let staging = tmp.join(format!("gitolite-template-{}-{}", std::process::id(), uid));
            std::fs::create_dir_all(&staging).unwrap();
            copy_home(fresh.home(), &staging);
            if std::fs::rename(&staging, &ready).is_err() {
                let _ = std::fs::remove_dir_all(&staging);
                assert!(
                    ready.join(".forge-template-ready").is_file(),
                    "cannot put the gitolite template in place at {}",
                    ready.display()
                );
            }
            ready
        })
        .clone()
}

/// Copies the gitolite HOME `from` into the existing folder `to`, keeping owners, and points
/// the absolute symbolic links gitolite made (the repos' hooks, into `~/.gitolite/hooks`) at
/// the copy's `.gitolite`.
/// Gives `dir` and everything under it (links themselves, not their targets) to nobody.
fn give_to_nobody(dir: &Path) {
    std::os::unix::fs::lchown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            give_to_nobody(&path);
        } else {
            std::os::unix::fs::lchown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }
}

fn copy_home(from: &Path, to: &Path) {
    let mut command = Command::new("cp");
    command
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to);
    let outcome = Outcome::of(&mut command, None);
    assert_eq!(
        outcome.code,
        Some(0),
        "copying a gitolite HOME failed\n{}",
        outcome.render()
    );
    repoint_links(to, to);
}

/// Re-points the links under `dir` into some HOME's `.gitolite` to the same place in `home`.
fn repoint_links(home: &Path, dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            let components: Vec<_> = target.components().collect();
            let Some(at) = components.iter().position(|c| c.as_os_str() == ".gitolite") else {
                continue;
            };
            if !target.is_absolute() {
                continue;
            }
            let new_target: PathBuf = home.join(components[at..].iter().collect::<PathBuf>());
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(&new_target, &path).unwrap();
            use std::os::unix::fs::MetadataExt;
            std::os::unix::fs::lchown(&path, Some(meta.uid()), Some(meta.gid())).unwrap();
        } else if meta.is_dir() {
            repoint_links(home, &path);
        }
    }
}

/// One stored rule: `[seq, perm, refex]`.
pub type StoredRule = (u32, String, String);
/// One stored config: `[seq, key, value]`.
pub type StoredConfig = (u32, String, String);

/// What `gitolite compile` stored, read back from its Perl data files.
#[derive(Debug, serde::Deserialize)]
pub struct Compiled {
    /// `%repos` with every current gl-conf's `%one_repo` merged in: repo -> user -> rules.
    pub repos: BTreeMap<String, BTreeMap<String, Vec<StoredRule>>>,
    /// `%configs` with every current gl-conf's `%one_config` merged in: repo -> configs.
    pub configs: BTreeMap<String, Vec<StoredConfig>>,
    /// `%groups`, inside out as gitolite stores it: member -> the groups holding it.
    pub groups: BTreeMap<String, Vec<String>>,
    /// `conf/rule_info`: seq -> (file as gitolite names it, line).
    pub rule_info: BTreeMap<u32, (String, u32)>,
}

/// Prints the compiled conf as JSON. Only the gl-conf files this compile wrote (`%split_conf`)
/// are read, so repos left over from an earlier compile cannot leak in.
const DUMP_COMPILED: &str = r#"
use strict;
use warnings;
use JSON::PP;
our ( %repos, %configs, %groups, %patterns, %split_conf, %one_repo, %one_config, $data_version );
my $home = shift;
do "$home/.gitolite/conf/gitolite.conf-compiled.pm";
die "compiled conf: $@" if $@;
my %all_repos   = %repos;
my %all_configs = %configs;
for my $repo ( sort keys %split_conf ) {
    %one_repo   = ();
    %one_config = ();
    do "$home/repositories/$repo.git/gl-conf";
    die "gl-conf of $repo: $@" if $@;
    %all_repos   = ( %all_repos,   %one_repo );
    %all_configs = ( %all_configs, %one_config );
}
my %rule_info;
open my $ri, '<', "$home/.gitolite/conf/rule_info" or die "rule_info: $!";
while (<$ri>) {
    chomp;
    my ( $seq, $file, $line ) = split /\t/;
    $rule_info{$seq} = [ $file, $line + 0 ];
}
for my $list ( values %groups ) { @$list = sort @$list; }
print JSON::PP->new->canonical->encode(
    { repos => \%all_repos, configs => \%all_configs, groups => \%groups, rule_info => \%rule_info } );
"#;
