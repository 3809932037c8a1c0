//! The test environment: a temporary root holding a real forged, a real sshd and the people who
//! use them, removed on drop. A failing test prints the last lines of the forged and sshd logs.
#![allow(dead_code)]

pub mod faults;
pub mod gitolite;
pub mod outcome;
pub mod sshd;
pub mod template;

pub use outcome::Outcome;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long anything gets to come up before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub const FORGED: &str = env!("CARGO_BIN_EXE_forged");
pub const FORGECTL: &str = env!("CARGO_BIN_EXE_forgectl");
pub const FORGE_SHELL: &str = env!("CARGO_BIN_EXE_forge-shell");
pub const FORGE_HOOK: &str = env!("CARGO_BIN_EXE_forge-hook");
pub const FORGE_KEYS: &str = env!("CARGO_BIN_EXE_forge-keys");

/// The account the tests run as; sshd logs everyone in as it, like the `git` account.
pub fn login_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::current())
        .ok()
        .flatten()
        .map(|user| user.name)
        .expect("the current uid has an account name")
}

/// Makes an ed25519 key pair, `path` and `path.pub`, with no passphrase and `comment`.
pub fn keygen(path: &Path, comment: &str) {
    let outcome = Outcome::of(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
            .arg(path),
        None,
    );
    assert_eq!(outcome.code, Some(0), "{outcome}");
}

/// Returns whether the tests run as root. When not, says on stderr that the calling test is
/// skipped and `why`; under CI (`CI=true`), which runs as root, it fails instead, so that no
/// test passes there by skipping.
pub fn running_as_root(why: &str) -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but not root: {why}; run the suite as root"
    );
    eprintln!("skipped: not root: {why}");
    false
}

/// A copy of forge-keys where sshd agrees to run it, removed on drop.
///
/// sshd runs an AuthorizedKeysCommand or AuthorizedPrincipalsCommand only from a root-owned
/// path that no one else may write, all the way up; a folder under /run is that, where a
/// temporary folder under /tmp (world-writable) is not.
pub struct RootOwnedCopy(tempfile::TempDir);

impl RootOwnedCopy {
    /// Returns the copy when the tests run as root, as CI does; otherwise says on stderr that
    /// the calling test is skipped (sshd runs these commands only as root) and returns `None`.
    pub fn of_forge_keys_when_root() -> Option<RootOwnedCopy> {
        running_as_root("sshd runs forge-keys only as root").then(RootOwnedCopy::of_forge_keys)
    }

    pub fn of_forge_keys() -> RootOwnedCopy {
        let folder = tempfile::Builder::new()
            .prefix("forge-test-keys-")
            .tempdir_in("/run")
            .expect("a folder under /run (the tests run as root)");
        std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let binary = folder.path().join("forge-keys");
        std::fs::copy(FORGE_KEYS, &binary).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        RootOwnedCopy(folder)
    }

    /// Returns the copy's path.
    pub fn path(&self) -> PathBuf {
        self.0.path().join("forge-keys")
    }
}

/// A temporary forge: configuration, state, repositories, a forged and (on demand) an sshd.
pub struct TestEnv {
    pub root: tempfile::TempDir,
    pub config: PathBuf,
    forged: Option<Child>,
    pub sshd: Option<sshd::Sshd>,
}

impl TestEnv {
    /// Returns a forge whose configuration lives in a fresh temporary root.
    pub fn new() -> TestEnv {
        TestEnv::with_hooks(&Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks"), "")
    }

    /// Returns a forge whose repositories use the hook shims in `hooks`, with `extra` appended
    /// to its forge.toml.
    pub fn with_hooks(hooks: &Path, extra: &str) -> TestEnv {
        let root = tempfile::Builder::new()
            .prefix("forge-test-")
            .tempdir()
            .expect("a temporary folder");
        // sshd and a second account must be able to walk into the root.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = root.path();
        let config = path.join("forge.toml");
        let bin = Path::new(FORGE_SHELL)
            .parent()
            .expect("forge-shell is in a folder");
        assert_eq!(bin, Path::new(FORGE_HOOK).parent().unwrap());
        let mut text = template::fill(
            template::FORGE_TOML,
            &[
                ("WRITER", "forge's tests (tests/it/common)"),
                ("STATE", &path.display().to_string()),
                ("USER", &login_user()),
                ("BIN", &bin.display().to_string()),
                ("HOOKS", &hooks.display().to_string()),
                ("ALLOW_LOCAL_PUSH", "false"),
                ("LOG", "debug"),
            ],
        );
        text.push_str(extra);
        std::fs::write(&config, text).unwrap();
        TestEnv {
            root,
            config,
            forged: None,
            sshd: None,
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    pub fn socket(&self) -> PathBuf {
        self.path("forged.sock")
    }

    /// Starts forged and waits until it answers `status`.
    pub fn start_forged(&mut self) {
        assert!(self.forged.is_none(), "forged is already running");
        let child = self
            .as_forged(Command::new(FORGED).arg("--config").arg(&self.config))
            .spawn()
            .expect("forged starts");
        self.forged = Some(child);
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if self.forgectl(["status"]).code == Some(0) {
                return;
            }
            if let Some(status) = self.forged.as_mut().unwrap().try_wait().unwrap() {
                panic!("forged exited with {status}\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("forged did not come up\n{}", self.logs());
    }

    /// Sets `command` up to run forged as the tests do: no stdin, its output appended to
    /// `forged.log` (which [`TestEnv::logs`] shows), and the configured log filter in force.
    pub fn as_forged<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("forged.log"))
            .unwrap();
        command
            .env_remove("FORGE_LOG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
    }

    /// Stops forged with SIGTERM and waits for it.
    pub fn stop_forged(&mut self) -> std::process::ExitStatus {
        let mut child = self.forged.take().expect("forged is running");
        signal(&child, nix::sys::signal::Signal::SIGTERM);
        child.wait().unwrap()
    }

    /// Kills forged with SIGKILL, as a crash would.
    pub fn kill_forged(&mut self) {
        let mut child = self.forged.take().expect("forged is running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Reaps a forged that something else killed (or kills it).
    pub fn kill_forged_if_running(&mut self) {
        if let Some(mut child) = self.forged.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Returns the pid of the running forged.
    pub fn forged_pid(&self) -> u32 {
        self.forged.as_ref().expect("forged is running").id()
    }

    /// Runs forgectl with this forge's configuration.
    pub fn forgectl<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(FORGECTL);
        command.arg("--config").arg(&self.config).args(args);
        Outcome::of(&mut command, None)
    }

    /// Runs forgectl and fails the test unless it succeeds.
    pub fn forgectl_ok<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let outcome = self.forgectl(args);
        assert_eq!(outcome.code, Some(0), "{outcome}\n{}", self.logs());
        outcome
    }

    /// Makes a key pair for `name` and returns the private key's path.
    pub fn make_key(&self, name: &str) -> PathBuf {
        let folder = self.path(&format!("people/{name}"));
        std::fs::create_dir_all(&folder).unwrap();
        let key = folder.join("id_ed25519");
        if !key.exists() {
            keygen(&key, name);
        }
        key
    }

    /// Adds forge user `name` with a fresh key; returns the private key's path.
    pub fn add_user(&self, name: &str) -> PathBuf {
        let key = self.make_key(name);
        self.forgectl_ok(["user", "add", name]);
        self.forgectl_ok(["key", "add", name, &format!("{}.pub", key.display())]);
        key
    }

    /// Writes the sshd's authorized_keys with `forgectl keys sync`.
    pub fn sync_keys(&self) -> Outcome {
        self.forgectl_ok([
            "keys",
            "sync",
            "--file",
            &self.path("ssh/authorized_keys").display().to_string(),
        ])
    }

    /// Starts a private sshd that logs forge users in through authorized_keys.
    pub fn start_sshd(&mut self) {
        self.sync_keys();
        self.sshd = Some(sshd::Sshd::start(self.root.path()));
    }

    /// Starts a private sshd that asks `forge-keys` (copied to `keys_command`, a root-owned
    /// path as sshd requires) for every key, and reads no authorized_keys file.
    pub fn start_sshd_with_keys_command(&mut self, keys_command: &Path) {
        self.start_sshd_with_keys_command_as(keys_command, &login_user());
    }

    /// Starts a private sshd like [`TestEnv::start_sshd_with_keys_command`] that runs
    /// `forge-keys` as `account` (`AuthorizedKeysCommandUser`).
    pub fn start_sshd_with_keys_command_as(&mut self, keys_command: &Path, account: &str) {
        let extra = format!(
            "AuthorizedKeysFile none\nAuthorizedKeysCommand {} --config {} %u %t %k\nAuthorizedKeysCommandUser {account}\n",
            keys_command.display(),
            self.config.display(),
        );
        self.sshd = Some(sshd::Sshd::start_with(self.root.path(), &extra));
    }

    /// Starts a private sshd that trusts the user CA `ca_public` and asks `forge-keys
    /// --principals` (copied to `command`, a root-owned path as sshd requires) which principals
    /// of a certificate may log in; it reads no authorized_keys file and asks for no key.
    pub fn start_sshd_with_principals_command(&mut self, command: &Path, ca_public: &Path) {
        let extra = format!(
            "AuthorizedKeysFile none\nTrustedUserCAKeys {}\n\
             AuthorizedPrincipalsCommand {} --config {} --principals %u %t %k\n\
             AuthorizedPrincipalsCommandUser {}\n",
            ca_public.display(),
            command.display(),
            self.config.display(),
            login_user()
        );
        self.sshd = Some(sshd::Sshd::start_with(self.root.path(), &extra));
    }

    /// Makes a user CA key pair `cas/<name>` and returns the private key's path.
    pub fn make_ca(&self, name: &str) -> PathBuf {
        let folder = self.path("cas");
        std::fs::create_dir_all(&folder).unwrap();
        let key = folder.join(name);
        keygen(&key, name);
        key
    }

    /// Signs `name`'s key (made if needed) with the CA `ca` for `principals` (comma-separated),
    /// valid from five minutes ago for an hour; returns the certificate's path, which ssh also
    /// finds by itself next to the key.
    pub fn sign(&self, ca: &Path, name: &str, principals: &str) -> PathBuf {
        let key = self.make_key(name);
        let outcome = Outcome::of(
            Command::new("ssh-keygen")
                .args(["-q", "-s"])
                .arg(ca)
                .args(["-I", &format!("{name}-id"), "-n", principals])
                .args(["-V", "-5m:+1h"])
                .arg(format!("{}.pub", key.display())),
            None,
        );
        assert_eq!(outcome.code, Some(0), "{outcome}");
        PathBuf::from(format!("{}-cert.pub", key.display()))
    }

    /// Returns `name`, who uses git and ssh with their own key through the private sshd.
    pub fn as_user(&self, name: &str) -> sshd::Person {
        let sshd = self.sshd.as_ref().expect("sshd is running");
        sshd::Person::new(
            self.root.path(),
            name,
            &self.make_key(name),
            None,
            sshd.port,
        )
    }

    /// Returns `name`, who logs in with their key and the certificate `certificate`.
    pub fn as_certificate_holder(&self, name: &str, certificate: &Path) -> sshd::Person {
        let sshd = self.sshd.as_ref().expect("sshd is running");
        let key = self.make_key(name);
        sshd::Person::new(self.root.path(), name, &key, Some(certificate), sshd.port)
    }

    /// Returns the last lines of the forged and sshd logs, for failure messages.
    pub fn logs(&self) -> String {
        let tail = |file: &str| {
            let text = std::fs::read_to_string(self.path(file)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        format!(
            "--- forged.log (last lines)\n{}\n--- sshd.log (last lines)\n{}",
            tail("forged.log"),
            tail("sshd.log")
        )
    }
}

pub fn signal(child: &Child, signal: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, signal);
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
        if let Some(mut child) = self.forged.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
