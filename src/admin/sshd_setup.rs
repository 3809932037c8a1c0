//! `forgectl setup sshd`: the sshd_config snippet that puts forge behind the system sshd, and
//! installing it without ever leaving sshd with a configuration it rejects.
//!
//! The snippet is one `Match User <git_user>` block in a file of its own, which the main
//! `sshd_config` includes (Debian 12's begins with `Include /etc/ssh/sshd_config.d/*.conf`).
//! sshd ends a `Match` block at the end of the file that holds it, so the block changes
//! nothing for other accounts; [`Plan::install`] also checks that with `sshd -T` before and
//! after, and puts the previous file back when `sshd -t` rejects the result or another
//! account's effective settings changed.

use crate::config::Config;
use crate::exit::{Classify, Code};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the snippet goes by default: a folder Debian's main config includes.
pub const DEFAULT_FILE: &str = "/etc/ssh/sshd_config.d/forge.conf";

/// The main sshd configuration that must include the snippet, and that `sshd -t` validates.
pub const DEFAULT_MAIN_CONFIG: &str = "/etc/ssh/sshd_config";

/// The sshd binary that validates the configuration.
pub const DEFAULT_SSHD: &str = "/usr/sbin/sshd";

/// Where sshd looks for an `Include` pattern that is not an absolute path.
const SSH_DIR: &str = "/etc/ssh";

/// The mode of the written snippet: root writes it, sshd (and anyone) reads it.
const FILE_MODE: u32 = 0o644;

/// Accounts whose effective sshd settings must be the same before and after.
const PROBE_USERS: [&str; 2] = ["root", "nobody"];

/// Why the snippet cannot be written or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user CA path cannot be written into sshd_config.
    #[error(
        "{ca}: give the user CA as an absolute path of letters, digits and . _ / + - only; it is written into sshd_config"
    )]
    CaPath {
        /// The path given.
        ca: PathBuf,
    },
    /// The user CA file is not there.
    #[error("the user CA {ca} is not a file; give the path of the CA's public key")]
    CaMissing {
        /// The path given.
        ca: PathBuf,
    },
    /// The main configuration does not include the snippet's file.
    #[error(
        "{main} does not include {file}; add the line 'Include {folder}/*.conf' at its top, before any Match block"
    )]
    NotIncluded {
        /// The main configuration.
        main: PathBuf,
        /// The snippet's file.
        file: PathBuf,
        /// The snippet's folder.
        folder: PathBuf,
    },
    /// The snippet's folder does not exist.
    #[error("the folder {folder} does not exist; create it (mode 755, owned by root) first")]
    NoFolder {
        /// The folder.
        folder: PathBuf,
    },
    /// A file could not be read, written or removed for want of permission.
    #[error("cannot {action} {path}: permission denied; run as root")]
    Permission {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A file could not be read, written or removed.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// sshd rejected the configuration with the new file in it.
    #[error("sshd -t rejects the configuration with the new file: {said}; {restored}")]
    Rejected {
        /// What sshd said, on one line.
        said: String,
        /// What became of the file.
        restored: Restored,
    },
    /// `sshd -T` fails for an account before anything is written.
    #[error(
        "sshd -T for '{user}' fails, so the other accounts' settings cannot be checked: {said}; fix that first; nothing was written"
    )]
    ProbeBefore {
        /// The account.
        user: String,
        /// What sshd said, on one line.
        said: String,
    },
    /// `sshd -T` fails for an account once the new file is there.
    #[error("sshd -T for '{user}' fails with the new file: {said}; {restored}")]
    ProbeAfter {
        /// The account.
        user: String,
        /// What sshd said, on one line.
        said: String,
        /// What became of the file.
        restored: Restored,
    },
    /// sshd does not apply one of the snippet's settings to the git account.
    #[error(
        "sshd does not apply the new file to the git account: its effective {keyword} is '{found}', not '{expected}'; an earlier Match block or setting wins, remove it; {restored}"
    )]
    NotApplied {
        /// The setting, as `sshd -T` names it.
        keyword: String,
        /// The snippet's value.
        expected: String,
        /// The effective value sshd reported ("" when none).
        found: String,
        /// What became of the file.
        restored: Restored,
    },
    /// The new file changed the effective settings of an account other than the git account.
    #[error(
        "the new file changes sshd's settings for '{user}' ({changed}); check the Include line's place in the main config; {restored}"
    )]
    OthersChanged {
        /// The account.
        user: String,
        /// The first changed setting, as `sshd -T` prints it.
        changed: String,
        /// What became of the file.
        restored: Restored,
    },
    /// sshd could not be reloaded after the file was written.
    #[error(
        "cannot reload sshd: {said}; {file} is written and sshd -t accepts it, but the running sshd still has the old settings: reload it by hand (systemctl reload ssh, or kill -HUP its pid)"
    )]
    Reload {
        /// The snippet's file, written.
        file: PathBuf,
        /// What went wrong, on one line.
        said: String,
    },
}

impl Classify for Error {
    /// Refused (nothing changed) while the files are as they were, internal once the file is
    /// written and something after it failed.
    fn code(&self) -> Code {
        match self {
            Error::Reload { .. } => Code::Internal,
            Error::Rejected { restored, .. }
            | Error::ProbeAfter { restored, .. }
            | Error::NotApplied { restored, .. }
            | Error::OthersChanged { restored, .. } => match restored {
                Restored::Failed(..) => Code::Internal,
                Restored::Previous(_) | Restored::Removed(_) => Code::Refused,
            },
            _ => Code::Refused,
        }
    }
}

/// Returns a function that turns an io error while doing `action` to `path` into an [`Error`],
/// one that says to run as root when permission was denied.
fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_owned();
    move |source| {
        if source.kind() == io::ErrorKind::PermissionDenied {
            Error::Permission { action, path }
        } else {
            Error::Io {
                action,
                path,
                source,
            }
        }
    }
}

/// What became of the snippet's file after a failed install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restored {
    /// The previous file is back, byte for byte.
    Previous(PathBuf),
    /// There was no file before, and the new one is removed.
    Removed(PathBuf),
    /// Putting things back failed too; the admin must.
    Failed(PathBuf, Box<str>),
}

impl std::fmt::Display for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Restored::Previous(path) => write!(f, "the previous {} is back", path.display()),
            Restored::Removed(path) => write!(f, "{} is removed again", path.display()),
            Restored::Failed(path, why) => write!(
                f,
                "and putting the previous {} back failed ({why}), so it holds the new settings: put it right by hand (or remove it) and run sshd -t before sshd reloads or restarts",
                path.display()
            ),
        }
    }
}

/// Returns the snippet for `config`: a `Match User` block for the git account that asks
/// forge-keys for every key, and, with `ca`, trusts that user CA and asks forge-keys for the
/// principals of its certificates.
pub fn render(config: &Config, ca: Option<&Path>) -> Result<String, Error> {
    let keys = config.forge_keys.display();
    let config_arg = config
        .path_for_forced_command()
        .map(|path| format!(" --config {}", path.display()))
        .unwrap_or_default();
    let mut text = format!(
        "# forge: how sshd logs in the git account; written by `forgectl setup sshd`.\n\
         # A Match block ends at the end of its file, so other accounts are not affected.\n\
         # Certificates count only with forge's CA (or none): settings of the main config do not.\n\
         # The principals lines come first: sshd 9.2 ignores AuthorizedPrincipalsCommand after\n\
         # AuthorizedKeysCommand in a Match block.\n\
         # Inside a Match, sshd 9.2 reads 'none' as a file name (~git/none) for every keyword\n\
         # but AuthorizedKeysFile: the others get /dev/null, which holds no CA and no principal.\n\
         Match User {user}\n\
         \x20   AuthorizedKeysFile none\n\
         \x20   AuthorizedPrincipalsFile /dev/null\n",
        user = config.git_user,
    );
    match ca {
        Some(ca) => {
            if !crate::types::sshd_line::is_shell_safe_path(ca) {
                return Err(Error::CaPath { ca: ca.to_owned() });
            }
            if !ca.is_file() {
                return Err(Error::CaMissing { ca: ca.to_owned() });
            }
            text.push_str(&format!(
                "    TrustedUserCAKeys {ca}\n\
                 \x20   AuthorizedPrincipalsCommand {keys}{config_arg} --principals %u %t %k\n\
                 \x20   AuthorizedPrincipalsCommandUser {keys_user}\n",
                ca = ca.display(),
                keys_user = config.keys_user,
            ));
        }
        // No CA is trusted, so no principals command of the main config is ever asked.
        None => text.push_str("    TrustedUserCAKeys /dev/null\n"),
    }
    text.push_str(&format!(
        "    AuthorizedKeysCommand {keys}{config_arg} %u %t %k\n\
         \x20   AuthorizedKeysCommandUser {keys_user}\n\
         \x20   AuthenticationMethods publickey\n",
        keys_user = config.keys_user,
    ));
    text.push_str(
        "    AcceptEnv GIT_PROTOCOL\n    DisableForwarding yes\n    PermitTTY no\n\
         \x20   PermitUserRC no\n\
         \x20   PasswordAuthentication no\n    KbdInteractiveAuthentication no\n",
    );
    Ok(text)
}

/// Returns whether the main configuration `text` includes `file` unconditionally: an
/// `Include` line before the first `Match` line has a pattern that matches it.
pub fn is_included(text: &str, file: &Path) -> bool {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (keyword, rest) = line
            .split_once(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or((line, ""));
        if keyword.eq_ignore_ascii_case("match") {
            return false;
        }
        if !keyword.eq_ignore_ascii_case("include") {
            continue;
        }
        let patterns = rest
            .trim_start_matches(|c: char| c.is_whitespace() || c == '=')
            .split_whitespace()
            .map(|word| word.trim_matches('"'));
        for pattern in patterns {
            let pattern = if pattern.starts_with('/') {
                pattern.to_owned()
            } else {
                format!("{SSH_DIR}/{pattern}")
            };
            if glob::Pattern::new(&pattern).is_ok_and(|p| p.matches_path_with(file, options)) {
                return true;
            }
        }
    }
    false
}

/// Returns why sshd would refuse to run `path` as an `AuthorizedKeysCommand`, if it would.
///
/// sshd runs such a command only from a file that root owns and no one else may write, in
/// folders that root owns and no one else may write, all the way up to `/`.
pub fn unsafe_reason(path: &Path) -> Option<String> {
    let real = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Some(format!("{} does not exist", path.display()));
        }
        Err(e) => return Some(format!("{} cannot be resolved: {e}", path.display())),
    };
    for (index, step) in real.ancestors().enumerate() {
        let metadata = match fs::metadata(step) {
            Ok(metadata) => metadata,
            Err(e) => return Some(format!("{} cannot be read: {e}", step.display())),
        };
        if index == 0 && !metadata.is_file() {
            return Some(format!("{} is not a file", step.display()));
        }
        if metadata.uid() != 0 {
            return Some(format!(
                "{} is owned by uid {}, not root",
                step.display(),
                metadata.uid()
            ));
        }
        if metadata.mode() & 0o022 != 0 {
            return Some(format!("{} is writable by group or others", step.display()));
        }
    }
    None
}

/// Returns what would stop the snippet from working although sshd accepts it: a forge-keys
/// that sshd refuses to run, or accounts that do not exist; one line each.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(reason) = unsafe_reason(&config.forge_keys) {
        warnings.push(format!(
            "sshd will not run {} as AuthorizedKeysCommand: {reason}; install forge-keys there, in folders only root owns and may write",
            config.forge_keys.display()
        ));
    }
    for (key, account) in [
        ("git_user", &config.git_user),
        ("keys_user", &config.keys_user),
    ] {
        if !matches!(nix::unistd::User::from_name(account), Ok(Some(_))) {
            warnings.push(format!(
                "{key} '{account}' is not an account here; create it (adduser --system {account}) or nobody logs in"
            ));
        }
    }
    warnings
}

/// Returns the line diff from `old` to `new`: each line led by `-`, `+` or a space.
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence, filled from the ends so the walk below goes forwards.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!(" {}\n", a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("-{}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+{}\n", b[j]));
            j += 1;
        }
    }
    out
}

/// The files and the program `setup sshd` works with.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The snippet's file.
    pub file: PathBuf,
    /// The main sshd configuration, which must include the snippet's file.
    pub main_config: PathBuf,
    /// The sshd binary.
    pub sshd: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            file: DEFAULT_FILE.into(),
            main_config: DEFAULT_MAIN_CONFIG.into(),
            sshd: DEFAULT_SSHD.into(),
        }
    }
}

/// What `setup sshd` will write, checked against the main configuration but not yet written.
#[derive(Debug)]
pub struct Plan {
    /// Where everything is.
    pub paths: Paths,
    /// The git account the snippet is for.
    pub git_user: String,
    /// The snippet.
    pub contents: String,
    /// The file already there, byte for byte, and its mode.
    previous: Option<(Vec<u8>, u32)>,
}

impl Plan {
    /// Returns the plan to write `contents` for `git_user`, after checking that the main
    /// configuration includes the file and that the file's folder exists.
    pub fn new(paths: Paths, git_user: &str, contents: String) -> Result<Plan, Error> {
        let mut paths = paths;
        paths.file = std::path::absolute(&paths.file).map_err(|source| Error::Io {
            action: "resolve",
            path: paths.file.clone(),
            source,
        })?;
        let main =
            fs::read_to_string(&paths.main_config).map_err(io_error("read", &paths.main_config))?;
        let folder = paths.file.parent().unwrap_or(Path::new("/")).to_owned();
        if !is_included(&main, &paths.file) {
            return Err(Error::NotIncluded {
                main: paths.main_config.clone(),
                file: paths.file.clone(),
                folder,
            });
        }
        if !folder.is_dir() {
            return Err(Error::NoFolder { folder });
        }
        let previous = match fs::read(&paths.file) {
            Ok(bytes) => {
                let mode = fs::metadata(&paths.file)
                    .map(|m| m.permissions().mode() & 0o7777)
                    .unwrap_or(FILE_MODE);
                Some((bytes, mode))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(io_error("read", &paths.file)(source)),
        };
        Ok(Plan {
            paths,
            git_user: git_user.to_owned(),
            contents,
            previous,
        })
    }

    /// Returns whether the file already holds exactly the snippet.
    pub fn is_unchanged(&self) -> bool {
        self.previous
            .as_ref()
            .is_some_and(|(bytes, _)| bytes == self.contents.as_bytes())
    }

    /// Returns the diff from the file already there to the snippet, if a file is there.
    pub fn diff(&self) -> Option<String> {
        self.previous
            .as_ref()
            .map(|(bytes, _)| diff(&String::from_utf8_lossy(bytes), &self.contents))
    }

    /// Writes the snippet atomically (mode 644, owned by root when run as root), then has sshd
    /// validate the main configuration and checks that the snippet applies to the git account
    /// and to no one else; on any failure the previous file is put back (or the new one
    /// removed) before the error is returned.
    pub fn install(&self) -> Result<(), Error> {
        let mut before = Vec::new();
        for user in self.probe_users() {
            let settings = self.effective(user).map_err(|said| Error::ProbeBefore {
                user: user.to_owned(),
                said,
            })?;
            before.push((user, settings));
        }
        write_atomically(&self.paths.file, self.contents.as_bytes(), FILE_MODE)?;
        if let Err(said) = self.validate() {
            return Err(Error::Rejected {
                said,
                restored: self.restore(),
            });
        }
        let for_git = match self.effective(&self.git_user) {
            Ok(settings) => settings,
            Err(said) => {
                return Err(Error::ProbeAfter {
                    user: self.git_user.clone(),
                    said,
                    restored: self.restore(),
                });
            }
        };
        if let Some((keyword, expected, found)) = first_unapplied(&self.contents, &for_git) {
            return Err(Error::NotApplied {
                keyword,
                expected,
                found,
                restored: self.restore(),
            });
        }
        let after = before
            .into_iter()
            .map(|(user, settings)| (user, settings, self.effective(user)));
        if let Err(error) = others_unchanged(after) {
            let restored = self.restore();
            return Err(match error {
                Unchanged::ProbeFailed { user, said } => Error::ProbeAfter {
                    user,
                    said,
                    restored,
                },
                Unchanged::Changed { user, changed } => Error::OthersChanged {
                    user,
                    changed,
                    restored,
                },
            });
        }
        Ok(())
    }

    fn probe_users(&self) -> impl Iterator<Item = &'static str> + '_ {
        PROBE_USERS
            .into_iter()
            .filter(move |user| *user != self.git_user)
    }

    /// Runs `sshd -t` on the main configuration; the error is what sshd said, on one line.
    fn validate(&self) -> Result<(), String> {
        self.sshd(&["-t"]).map(|_| ())
    }

    /// Returns `sshd -T` for a connection of `user` from the loopback address.
    fn effective(&self, user: &str) -> Result<String, String> {
        self.sshd(&[
            "-T",
            "-C",
            &format!("user={user},host=localhost,addr=127.0.0.1"),
        ])
    }

    fn sshd(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(&self.paths.sshd)
            .args(args)
            .arg("-f")
            .arg(&self.paths.main_config)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.paths.sshd.display()))?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let said = String::from_utf8_lossy(&output.stderr);
        let said: Vec<&str> = said
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        Err(if said.is_empty() {
            format!("sshd exited with {}", output.status)
        } else {
            said.join("; ")
        })
    }

    fn restore(&self) -> Restored {
        let file = &self.paths.file;
        let outcome = match &self.previous {
            Some((bytes, mode)) => write_atomically(file, bytes, *mode),
            None => fs::remove_file(file).map_err(io_error("remove", file)),
        };
        match (outcome, &self.previous) {
            (Ok(()), Some(_)) => Restored::Previous(file.clone()),
            (Ok(()), None) => Restored::Removed(file.clone()),
            (Err(e), _) => Restored::Failed(file.clone(), crate::exit::one_line(e).into()),
        }
    }
}

/// Why the other accounts' settings do not pass.
#[derive(Debug, PartialEq, Eq)]
enum Unchanged {
    /// `sshd -T` failed for the account with the new file.
    ProbeFailed { user: String, said: String },
    /// A line of the account's `sshd -T` output is new.
    Changed { user: String, changed: String },
}

/// Checks each account's `sshd -T` output after writing against the one before; a probe that
/// failed after writing fails the check, so it is never skipped.
fn others_unchanged<'a>(
    probes: impl IntoIterator<Item = (&'a str, String, Result<String, String>)>,
) -> Result<(), Unchanged> {
    for (user, before, after) in probes {
        let after = after.map_err(|said| Unchanged::ProbeFailed {
            user: user.to_owned(),
            said,
        })?;
        if let Some(changed) = after
            .lines()
            .find(|line| !before.lines().any(|b| b == *line))
        {
            return Err(Unchanged::Changed {
                user: user.to_owned(),
                changed: changed.to_owned(),
            });
        }
    }
    Ok(())
}

/// Returns the first setting of the snippet's Match block that `settings` (the git account's
/// `sshd -T` output) does not hold exactly: the keyword as `sshd -T` names it, the snippet's
/// value and the values sshd reported (joined with ", ", "" when none).
fn first_unapplied(contents: &str, settings: &str) -> Option<(String, String, String)> {
    let block = contents
        .lines()
        .map(str::trim)
        .skip_while(|line| !line.starts_with("Match "))
        .skip(1)
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    for line in block {
        let (keyword, expected) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let keyword = keyword.to_ascii_lowercase();
        let expected = expected.trim();
        let found: Vec<&str> = settings
            .lines()
            .filter_map(|line| line.split_once(' '))
            .filter(|(key, _)| *key == keyword)
            .map(|(_, value)| value)
            .collect();
        if found != [expected] {
            return Some((keyword, expected.to_owned(), found.join(", ")));
        }
    }
    None
}

/// Returns the value of `keyword` in `sshd -T` output, or "" when it is not there.
fn setting<'a>(settings: &'a str, keyword: &str) -> &'a str {
    settings
        .lines()
        .find_map(|line| {
            line.split_once(' ')
                .filter(|(key, _)| *key == keyword)
                .map(|(_, value)| value)
        })
        .unwrap_or_default()
}

/// Writes `contents` to `path` through a temporary file in the same folder and a rename, so
/// sshd never reads half a file; the file gets `mode`, and root as owner when run as root.
fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    let folder = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // A leading dot and no .conf ending: no Include pattern picks the temporary file up.
    let temp = folder.join(format!(".{name}.forge-tmp-{}", std::process::id()));
    let _ = fs::remove_file(&temp);
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
            .map_err(io_error("create", &temp))?;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io_error("set the mode of", &temp))?;
        if nix::unistd::Uid::effective().is_root() {
            std::os::unix::fs::fchown(&file, Some(0), Some(0))
                .map_err(io_error("give root", &temp))?;
        }
        file.write_all(contents).map_err(io_error("write", &temp))?;
        file.sync_all().map_err(io_error("sync", &temp))?;
        fs::rename(&temp, path).map_err(io_error("replace", path))?;
        if let Ok(dir) = fs::File::open(folder) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// What reloading sshd did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// `systemctl reload ssh` succeeded.
    Systemd,
    /// sshd's pid file named a running sshd, which got SIGHUP.
    Signalled {
        /// The process.
        pid: i32,
        /// The pid file.
        pid_file: PathBuf,
    },
    /// The pid file names a process that is not the sshd binary: a stale file, whose pid
    /// another program may have now. It got no signal; sshd counts as not running.
    NotSshd {
        /// The process.
        pid: i32,
        /// The pid file.
        pid_file: PathBuf,
        /// What the process runs, or why that cannot be told.
        runs: String,
    },
    /// No sshd runs; the new settings count when it starts.
    NotRunning,
}

/// The systemd unit of OpenSSH's server on Debian.
const SSH_UNIT: &str = "ssh";

/// Reloads the running sshd so that it reads the new snippet: with `systemctl reload ssh`
/// where systemd runs, else with SIGHUP to the process in the main configuration's pid file,
/// if that process runs the sshd binary of `paths`. Called once the file is written, so every
/// failure is an [`Error::Reload`] saying so.
pub fn reload(paths: &Paths) -> Result<Reload, Error> {
    reload_sshd(paths).map_err(|said| Error::Reload {
        file: paths.file.clone(),
        said,
    })
}

fn reload_sshd(paths: &Paths) -> Result<Reload, String> {
    if Path::new("/run/systemd/system").is_dir() {
        let systemctl = |args: &[&str]| {
            Command::new("systemctl")
                .args(args)
                .output()
                .map_err(|e| format!("cannot run systemctl: {e}"))
        };
        if !systemctl(&["is-active", "--quiet", SSH_UNIT])?
            .status
            .success()
        {
            return Ok(Reload::NotRunning);
        }
        let output = systemctl(&["reload", SSH_UNIT])?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr)
                .trim()
                .replace('\n', "; "));
        }
        return Ok(Reload::Systemd);
    }
    let output = Command::new(&paths.sshd)
        .arg("-T")
        .arg("-f")
        .arg(&paths.main_config)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", paths.sshd.display()))?;
    let settings = String::from_utf8_lossy(&output.stdout);
    let pid_file = match setting(&settings, "pidfile") {
        "" | "none" => "/run/sshd.pid",
        path => path,
    };
    let pid_file = PathBuf::from(pid_file);
    let text = match fs::read_to_string(&pid_file) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Reload::NotRunning),
        Err(e) => return Err(format!("cannot read {}: {e}", pid_file.display())),
    };
    let pid: i32 = match text.trim().parse() {
        Ok(pid) if pid > 0 => pid,
        _ => return Err(format!("{} holds no pid", pid_file.display())),
    };
    let sshd = fs::canonicalize(&paths.sshd)
        .map_err(|e| format!("cannot resolve {}: {e}", paths.sshd.display()))?;
    let runs = match fs::read_link(format!("/proc/{pid}/exe")) {
        Ok(exe) => exe,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Reload::NotRunning),
        Err(e) => {
            return Ok(Reload::NotSshd {
                pid,
                pid_file,
                runs: format!("cannot tell: /proc/{pid}/exe: {e}"),
            });
        }
    };
    // A binary replaced since the process started (an upgrade) reads "<path> (deleted)".
    let exe = runs.to_string_lossy();
    if Path::new(exe.strip_suffix(" (deleted)").unwrap_or(&exe)) != sshd {
        return Ok(Reload::NotSshd {
            pid,
            pid_file,
            runs: exe.into_owned(),
        });
    }
    let pid = nix::unistd::Pid::from_raw(pid);
    match nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP) {
        Ok(()) => Ok(Reload::Signalled {
            pid: pid.as_raw(),
            pid_file,
        }),
        Err(nix::errno::Errno::ESRCH) => Ok(Reload::NotRunning),
        Err(e) => Err(format!(
            "cannot signal pid {pid} from {}: {e}",
            pid_file.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str, path: &str) -> Config {
        Config::from_toml(text, Path::new(path)).unwrap()
    }

    #[test]
    fn the_shipped_example_is_what_setup_writes_for_the_default_config() {
        let rendered = render(&config("", crate::config::DEFAULT_PATH), None).unwrap();
        assert_eq!(rendered, include_str!("../../packaging/sshd-forge.conf"));
    }

    #[test]
    fn the_snippet_names_the_accounts_and_the_config_when_not_default() {
        let text = render(
            &config(
                "git_user = \"forge\"\nkeys_user = \"nobody\"\nforge_keys = \"/opt/forge/bin/forge-keys\"\n",
                "/etc/forge/other.toml",
            ),
            None,
        )
        .unwrap();
        assert!(text.contains("\nMatch User forge\n"), "{text}");
        assert!(
            text.contains(
                "    AuthorizedKeysCommand /opt/forge/bin/forge-keys --config /etc/forge/other.toml %u %t %k\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("    AuthorizedKeysCommandUser nobody\n"),
            "{text}"
        );
        // Without --ca, no certificate trust of the main config reaches the git account.
        for line in [
            "    AuthorizedPrincipalsFile /dev/null\n",
            "    TrustedUserCAKeys /dev/null\n",
            "    AuthenticationMethods publickey\n",
            "    PermitUserRC no\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
    }

    #[test]
    fn a_ca_adds_the_principals_command() {
        let ca = tempfile::NamedTempFile::new_in("/tmp").unwrap();
        let text = render(&config("", crate::config::DEFAULT_PATH), Some(ca.path())).unwrap();
        assert!(
            text.contains(&format!("    TrustedUserCAKeys {}\n", ca.path().display())),
            "{text}"
        );
        assert!(text.contains(
            "    AuthorizedPrincipalsCommand /usr/lib/forge/forge-keys --principals %u %t %k\n    AuthorizedPrincipalsCommandUser forge-keys\n"
        ));
        let bad = render(
            &config("", crate::config::DEFAULT_PATH),
            Some(Path::new("/etc/ssh/my ca.pub")),
        );
        assert!(matches!(bad, Err(Error::CaPath { .. })), "{bad:?}");
        let missing = render(
            &config("", crate::config::DEFAULT_PATH),
            Some(Path::new("/nonexistent/ca.pub")),
        );
        assert!(
            matches!(missing, Err(Error::CaMissing { .. })),
            "{missing:?}"
        );
    }

    /// sshd 9.2 honours `none` inside a Match block for AuthorizedKeysFile only: for the other
    /// keywords it is a file name relative to the home folder, which the git account (or
    /// whoever runs as it) could write (#11).
    #[test]
    fn regression_11_no_keyword_but_authorized_keys_file_is_given_none() {
        let ca = tempfile::NamedTempFile::new_in("/tmp").unwrap();
        let config = config("", crate::config::DEFAULT_PATH);
        for text in [
            render(&config, None).unwrap(),
            render(&config, Some(ca.path())).unwrap(),
        ] {
            let nones: Vec<&str> = text
                .lines()
                .filter(|line| !line.starts_with('#'))
                .filter(|line| line.split_whitespace().nth(1) == Some("none"))
                .collect();
            assert_eq!(nones, ["    AuthorizedKeysFile none"], "{text}");
            assert!(text.contains("\n    PermitUserRC no\n"), "{text}");
        }
    }

    #[test]
    fn principals_lines_come_before_the_keys_command() {
        // sshd 9.2 drops AuthorizedPrincipalsCommand after AuthorizedKeysCommand in a Match.
        let ca = tempfile::NamedTempFile::new_in("/tmp").unwrap();
        let config = config("", crate::config::DEFAULT_PATH);
        for text in [
            render(&config, None).unwrap(),
            render(&config, Some(ca.path())).unwrap(),
        ] {
            let keys = text.find("    AuthorizedKeysCommand ").unwrap();
            for principals in [
                "    AuthorizedPrincipalsFile ",
                "    AuthorizedPrincipalsCommand ",
            ] {
                if let Some(at) = text.find(principals) {
                    assert!(at < keys, "{text}");
                }
            }
        }
    }

    #[test]
    fn every_line_of_the_block_must_be_in_effect() {
        let contents = "# c\nMatch User git\n    AuthorizedKeysFile none\n    # note\n    TrustedUserCAKeys none\n    AcceptEnv GIT_PROTOCOL\n";
        let settings =
            "authorizedkeysfile none\ntrustedusercakeys none\nacceptenv GIT_PROTOCOL\nport 22\n";
        assert_eq!(first_unapplied(contents, settings), None);
        assert_eq!(
            first_unapplied(
                contents,
                "authorizedkeysfile none\ntrustedusercakeys /etc/ssh/ca.pub\nacceptenv GIT_PROTOCOL\n"
            ),
            Some((
                "trustedusercakeys".into(),
                "none".into(),
                "/etc/ssh/ca.pub".into()
            ))
        );
        // An extra value inherited from elsewhere counts as not applied.
        assert_eq!(
            first_unapplied(contents, &format!("{settings}acceptenv LANG\n")),
            Some((
                "acceptenv".into(),
                "GIT_PROTOCOL".into(),
                "GIT_PROTOCOL, LANG".into()
            ))
        );
        assert_eq!(
            first_unapplied(contents, "authorizedkeysfile none\n").map(|m| m.2),
            Some(String::new())
        );
    }

    #[test]
    fn a_probe_that_fails_after_writing_fails_the_check() {
        let before = "port 22\npermittty yes\n".to_owned();
        assert_eq!(
            others_unchanged([("root", before.clone(), Ok(before.clone()))]),
            Ok(())
        );
        assert_eq!(
            others_unchanged([
                ("root", before.clone(), Ok(before.clone())),
                ("nobody", before.clone(), Err("bad line".into())),
            ]),
            Err(Unchanged::ProbeFailed {
                user: "nobody".into(),
                said: "bad line".into()
            })
        );
        assert_eq!(
            others_unchanged([("root", before, Ok("port 22\npermittty no\n".into()))]),
            Err(Unchanged::Changed {
                user: "root".into(),
                changed: "permittty no".into()
            })
        );
    }

    #[test]
    fn failures_after_writing_exit_internal_and_permission_errors_say_run_as_root() {
        use crate::exit::Code;
        let file = PathBuf::from("/etc/ssh/sshd_config.d/forge.conf");
        let denied = io_error("create", &file)(io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(
            denied.to_string(),
            "cannot create /etc/ssh/sshd_config.d/forge.conf: permission denied; run as root"
        );
        assert_eq!(denied.code(), Code::Refused);
        let reload = Error::Reload {
            file: file.clone(),
            said: "x".into(),
        };
        assert_eq!(reload.code(), Code::Internal);
        let rejected = |restored| Error::Rejected {
            said: "x".into(),
            restored,
        };
        assert_eq!(
            rejected(Restored::Removed(file.clone())).code(),
            Code::Refused
        );
        assert_eq!(
            rejected(Restored::Failed(file, "disk full".into())).code(),
            Code::Internal
        );
    }

    #[test]
    fn include_lines_are_matched_as_sshd_globs_them() {
        let file = Path::new("/etc/ssh/sshd_config.d/forge.conf");
        let valid = [
            "Include /etc/ssh/sshd_config.d/*.conf\n",
            "# comment\n\n  include\t/etc/ssh/sshd_config.d/*.conf\nPort 22\n",
            "Include sshd_config.d/*.conf\n",
            "Include=/etc/ssh/sshd_config.d/forge.conf\n",
            "Include /etc/ssh/other.conf \"/etc/ssh/sshd_config.d/f?rge.conf\"\n",
            "Include /etc/ssh/sshd_config.d/*\n",
        ];
        for text in valid {
            assert!(is_included(text, file), "{text:?} includes it");
        }
        let invalid = [
            "",
            "#Include /etc/ssh/sshd_config.d/*.conf\n",
            "Include /etc/ssh/sshd_config.d/*.cfg\n",
            "Include /etc/ssh/*.conf\n",
            "Match User alice\n    Include /etc/ssh/sshd_config.d/*.conf\n",
            "IncludeX /etc/ssh/sshd_config.d/*.conf\n",
        ];
        for text in invalid {
            assert!(!is_included(text, file), "{text:?} does not include it");
        }
        assert!(!is_included(
            "Include /etc/ssh/sshd_config.d/*\n",
            Path::new("/etc/ssh/sshd_config.d/.forge.conf")
        ));
    }

    #[test]
    fn the_diff_marks_removed_and_added_lines() {
        assert_eq!(diff("a\nb\nc\n", "a\nc\nd\n"), " a\n-b\n c\n+d\n");
        assert_eq!(diff("", "x\n"), "+x\n");
        assert_eq!(diff("a\nold\nz\n", "a\nnew\nz\n"), " a\n-old\n+new\n z\n");
        assert_eq!(diff("same\n", "same\n"), " same\n");
    }

    #[test]
    fn paths_sshd_would_refuse_are_named() {
        // /tmp is writable by everyone, so nothing under it is safe.
        let folder = tempfile::tempdir_in("/tmp").unwrap();
        let file = folder.path().join("forge-keys");
        fs::write(&file, "").unwrap();
        let reason = unsafe_reason(&file).unwrap();
        assert!(
            reason.contains("writable by group or others") || reason.contains("not root"),
            "{reason}"
        );
        assert!(
            unsafe_reason(Path::new("/nonexistent/forge-keys"))
                .unwrap()
                .contains("does not exist")
        );
        if nix::unistd::Uid::effective().is_root() {
            assert_eq!(unsafe_reason(Path::new("/usr/sbin/sshd")), None);
        }
    }

    #[test]
    fn written_files_replace_the_old_whole_with_the_given_mode() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("forge.conf");
        fs::write(&path, "old\n").unwrap();
        write_atomically(&path, b"new\n", 0o644).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new\n");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let names: Vec<_> = fs::read_dir(folder.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
    }

    #[test]
    fn a_missing_include_or_folder_is_refused_before_anything_is_written() {
        let folder = tempfile::tempdir().unwrap();
        let main = folder.path().join("sshd_config");
        let file = folder.path().join("d/forge.conf");
        fs::write(&main, "Port 22\n").unwrap();
        let paths = Paths {
            file: file.clone(),
            main_config: main.clone(),
            sshd: DEFAULT_SSHD.into(),
        };
        let error = Plan::new(paths.clone(), "git", "x".into()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} does not include {}; add the line 'Include {}/*.conf' at its top, before any Match block",
                main.display(),
                file.display(),
                folder.path().join("d").display()
            )
        );
        fs::write(
            &main,
            format!("Include {}/d/*.conf\n", folder.path().display()),
        )
        .unwrap();
        let error = Plan::new(paths, "git", "x".into()).unwrap_err();
        assert!(matches!(error, Error::NoFolder { .. }), "{error}");
        assert!(!file.exists());
    }
}
