//! A private OpenSSH sshd on a free loopback port, and the people who reach it with ssh and git.

use super::{DEADLINE, Outcome, login_user};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd, stopped on drop.
pub struct Sshd {
    pub port: u16,
    child: Child,
}

/// Returns a loopback port that nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

impl Sshd {
    /// Starts sshd with a generated host key and a config that reads `<root>/ssh/authorized_keys`.
    pub fn start(root: &Path) -> Sshd {
        Sshd::start_with(root, "")
    }

    /// Starts sshd as [`Sshd::start`] does, with `extra` lines first in its config (sshd takes
    /// the first value of each keyword, so they win).
    pub fn start_with(root: &Path, extra: &str) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (scripts/test does)"
        );
        let folder = root.join("ssh");
        std::fs::create_dir_all(&folder).unwrap();
        let host_key = folder.join("host_ed25519");
        if !host_key.exists() {
            super::keygen(&host_key, "host key");
        }
        let port = free_port();
        let config = folder.join("sshd_config");
        let text = super::template::fill(
            super::template::SSHD_CONFIG,
            &[
                ("WRITER", "forge's tests (tests/it/common/sshd.rs)"),
                ("FIRST", extra),
                ("PORT", &port.to_string()),
                ("HOST_KEY", &host_key.display().to_string()),
                ("PID_FILE", &folder.join("sshd.pid").display().to_string()),
                (
                    "AUTHORIZED_KEYS",
                    &folder.join("authorized_keys").display().to_string(),
                ),
                ("USER", &login_user()),
                ("LOG_LEVEL", "VERBOSE"),
            ],
        );
        std::fs::write(&config, text).unwrap();
        Sshd::run(root, &config, port)
    }

    /// Starts sshd on the config file `config` (written by the caller, listening on
    /// 127.0.0.1:`port`), logging to `<root>/sshd.log`, and waits for its banner.
    pub fn run(root: &Path, config: &Path, port: u16) -> Sshd {
        if nix::unistd::Uid::effective().is_root() {
            // sshd refuses to start as root without its privilege separation folder.
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(config)
            .arg("-E")
            .arg(root.join("sshd.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd starts");
        let mut sshd = Sshd { port, child };
        sshd.wait_for_banner(root);
        sshd
    }

    fn wait_for_banner(&mut self, root: &Path) {
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                stream
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                let mut banner = [0u8; 8];
                if stream.read_exact(&mut banner).is_ok() && banner.starts_with(b"SSH-2.0") {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(root.join("sshd.log")).unwrap_or_default();
                panic!("sshd exited with {status}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("sshd did not come up on port {}", self.port);
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Someone with their own key, home folder and ssh config, who uses the private sshd.
pub struct Person {
    pub name: String,
    pub home: PathBuf,
    pub ssh_config: PathBuf,
}

impl Person {
    /// Returns `name`, who logs in with `key` and, when given, the certificate of that key.
    pub fn new(
        root: &Path,
        name: &str,
        key: &Path,
        certificate: Option<&Path>,
        port: u16,
    ) -> Person {
        let home = root.join("people").join(name).join("home");
        std::fs::create_dir_all(&home).unwrap();
        let ssh_config = root.join("people").join(name).join("ssh_config");
        let certificate = certificate
            .map(|path| format!("  CertificateFile {}\n", path.display()))
            .unwrap_or_default();
        std::fs::write(
            &ssh_config,
            format!(
                "Host forge\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {key}\n\
                 {certificate}\x20 IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n\
                 \x20 BatchMode yes\n  LogLevel ERROR\n",
                user = login_user(),
                key = key.display(),
            ),
        )
        .unwrap();
        Person {
            name: name.to_owned(),
            home,
            ssh_config,
        }
    }

    fn scrubbed(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env(
                "GIT_SSH_COMMAND",
                format!("ssh -F {}", self.ssh_config.display()),
            )
            .env("GIT_AUTHOR_NAME", &self.name)
            .env("GIT_AUTHOR_EMAIL", format!("{}@example.com", self.name))
            .env("GIT_COMMITTER_NAME", &self.name)
            .env("GIT_COMMITTER_EMAIL", format!("{}@example.com", self.name))
            .env("GIT_TERMINAL_PROMPT", "0")
            .current_dir(&self.home);
        command
    }

    /// Runs git in `dir` (relative to this person's home).
    pub fn git_in<I, S>(&self, dir: &str, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.git_with(dir, &[], args)
    }

    /// Runs git in `dir` with `extra` variables added to the scrubbed environment.
    pub fn git_with<I, S>(&self, dir: &str, extra: &[(&str, &str)], args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = self.scrubbed("git");
        command
            .current_dir(self.home.join(dir))
            .envs(extra.iter().copied())
            .args(args);
        Outcome::of(&mut command, None)
    }

    /// Starts a repository `dir` on branch main with one commit; returns the commit's id.
    pub fn start_work(&self, dir: &str) -> String {
        let init = self.git(["init", "-q", "-b", "main", dir]);
        assert_eq!(init.code, Some(0), "{init}");
        self.commit(dir, "a", "one")
    }

    /// Runs git in this person's home.
    pub fn git<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.git_in(".", args)
    }

    /// Runs `ssh forge <command>`; `None` logs in without a command.
    pub fn ssh(&self, command: Option<&str>) -> Outcome {
        let mut ssh = self.scrubbed("ssh");
        ssh.arg("-F").arg(&self.ssh_config).arg("forge");
        if let Some(remote) = command {
            ssh.arg(remote);
        }
        Outcome::of(&mut ssh, None)
    }

    /// Runs a command of the OpenSSH suite (scp, sftp) with this person's config.
    pub fn ssh_tool(&self, program: &str, args: &[&str]) -> Outcome {
        let mut tool = self.scrubbed(program);
        tool.arg("-F").arg(&self.ssh_config).args(args);
        Outcome::of(&mut tool, Some(b""))
    }

    /// Makes a commit in the clone `dir` touching `file`; returns its id.
    pub fn commit(&self, dir: &str, file: &str, text: &str) -> String {
        std::fs::write(self.home.join(dir).join(file), text).unwrap();
        for args in [vec!["add", file], vec!["commit", "-q", "-m", text]] {
            let outcome = self.git_in(dir, &args);
            assert_eq!(outcome.code, Some(0), "{outcome}");
        }
        self.git_in(dir, ["rev-parse", "HEAD"])
            .stdout
            .trim()
            .to_owned()
    }
}
