//! The configuration file, `/etc/forge/forge.toml`: defaults for every key, and errors that name
//! the offending key.
//!
//! Every binary finds the file the same way: `--config PATH`, else `$FORGE_CONFIG`, else
//! [`DEFAULT_PATH`]. An empty file is a valid configuration, and so is a missing file at the
//! default path; a file named explicitly must exist.

use crate::exit::{Classify, Code};
use crate::types::sshd_line::is_shell_safe_path;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where forge looks for its configuration when told nothing else.
pub const DEFAULT_PATH: &str = "/etc/forge/forge.toml";

/// The environment variable that names the configuration file for every binary.
pub const ENV_VAR: &str = "FORGE_CONFIG";

/// forge's configuration, as read from `forge.toml`.
///
/// Every key is documented in `man/forge.toml.5` and `packaging/forge.toml`; the tests below
/// find the keys by serializing the defaults, so a new field cannot be left out of either.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The Unix socket `forged` listens on and every client connects to.
    pub socket: PathBuf,
    /// The SQLite database file holding all of forge's state.
    pub database: PathBuf,
    /// The repos root: a repository `acme/widgets` lives in `<repos>/acme/widgets.git`.
    pub repos: PathBuf,
    /// The system account that sshd logs git users in as; it may ask shell and hook questions.
    pub git_user: String,
    /// The system account `forged` runs as, which alone owns the database. When it is the git
    /// account (a test or demo setup) code running as git can rewrite forge's state; forged
    /// says so in its log.
    pub daemon_user: String,
    /// The unprivileged account sshd runs `forge-keys` as (`AuthorizedKeysCommandUser`); it may
    /// only look up keys and certificates.
    pub keys_user: String,
    /// Accounts (`alice`) and groups (`@wheel`) that may change state; root always may.
    pub admins: Vec<String>,
    /// The absolute path of `forge-shell` written into generated `authorized_keys` lines.
    pub forge_shell: PathBuf,
    /// The absolute path of `forge-hook`, which the hook shims run.
    pub forge_hook: PathBuf,
    /// The absolute path of `forge-keys`, which sshd runs as its `AuthorizedKeysCommand` and
    /// `AuthorizedPrincipalsCommand` (see `forgectl setup sshd`).
    pub forge_keys: PathBuf,
    /// The folder of hook shims that every repository's `core.hooksPath` points at.
    pub hooks: PathBuf,
    /// Whether a push that did not come through `forge-shell` (a local `git push` into the
    /// repository folder) is accepted.
    pub allow_local_push: bool,
    /// The log filter of `forged` (`EnvFilter` syntax) when `FORGE_LOG` is not set.
    pub log: String,
    /// The file this configuration was read from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            socket: "/run/forge/forged.sock".into(),
            database: "/var/lib/forge/state/forge.db".into(),
            repos: "/var/lib/forge/repos".into(),
            git_user: "git".into(),
            daemon_user: "forge".into(),
            keys_user: "forge-keys".into(),
            admins: Vec::new(),
            forge_shell: "/usr/lib/forge/forge-shell".into(),
            forge_hook: "/usr/lib/forge/forge-hook".into(),
            forge_keys: "/usr/lib/forge/forge-keys".into(),
            hooks: "/usr/lib/forge/hooks".into(),
            allow_local_push: false,
            log: "info".into(),
            source: None,
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or holds an unknown key or a value of the wrong type.
    #[error("{path} line {line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line the problem is on.
        line: usize,
        /// What the TOML reader said.
        message: String,
    },
    /// The file's own path cannot be written into an `authorized_keys` forced command.
    #[error(
        "{path}: give the configuration as an absolute path of letters, digits and . _ / + - only; it is written into authorized_keys"
    )]
    OwnPath {
        /// The file.
        path: PathBuf,
    },
    /// A key holds a value forge cannot use.
    #[error("{path}: '{key}' {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The offending key.
        key: &'static str,
        /// What is wrong with its value.
        problem: String,
    },
}

impl Config {
    /// Returns the configuration from `explicit`, else `$FORGE_CONFIG`, else [`DEFAULT_PATH`].
    pub fn load(explicit: Option<&Path>) -> Result<Config, Error> {
        let from_env = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty());
        match (explicit, from_env) {
            (Some(path), _) => Config::from_file(path),
            (None, Some(path)) => Config::from_file(Path::new(&path)),
            (None, None) => match std::fs::read_to_string(DEFAULT_PATH) {
                Ok(text) => Config::from_toml(&text, Path::new(DEFAULT_PATH)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
                Err(source) => Err(Error::Read {
                    path: DEFAULT_PATH.into(),
                    source,
                }),
            },
        }
    }

    /// Returns the configuration in the file at `path`, which must exist.
    pub fn from_file(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text, path)
    }

    /// Returns the configuration in `text`, read from `path`, after checking every value.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, Error> {
        let mut config: Config = toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_owned(),
            line: e
                .span()
                .map_or(1, |span| text[..span.start].matches('\n').count() + 1),
            message: e.message().trim().to_owned(),
        })?;
        config.source = Some(path.to_owned());
        config.validate()?;
        Ok(config)
    }

    /// Returns the `--config` argument a forced command must carry to find this configuration:
    /// none when it lives at the default path.
    pub fn path_for_forced_command(&self) -> Option<&Path> {
        self.source
            .as_deref()
            .filter(|path| *path != Path::new(DEFAULT_PATH))
    }

    fn validate(&self) -> Result<(), Error> {
        let invalid = |key, problem: &str| Error::Invalid {
            path: self.source.clone().unwrap_or_default(),
            key,
            problem: problem.to_owned(),
        };
        let paths = [
            ("socket", &self.socket),
            ("database", &self.database),
            ("repos", &self.repos),
            ("forge_shell", &self.forge_shell),
            ("forge_hook", &self.forge_hook),
            ("forge_keys", &self.forge_keys),
            ("hooks", &self.hooks),
        ];
        for (key, path) in paths {
            if !path.is_absolute() {
                return Err(invalid(key, "must be an absolute path"));
            }
        }
        // OpenSSH runs a forced command through the account's login shell, so every path that
        // ends up in an authorized_keys line must need no quoting at all.
        if !is_shell_safe_path(&self.forge_shell) {
            return Err(invalid(
                "forge_shell",
                "must be a path of letters, digits and . _ / + - only (sshd runs it through a shell)",
            ));
        }
        // sshd splits its AuthorizedKeysCommand line at spaces and expands % tokens in it.
        if !is_shell_safe_path(&self.forge_keys) {
            return Err(invalid(
                "forge_keys",
                "must be a path of letters, digits and . _ / + - only (it is written into sshd_config)",
            ));
        }
        if let Some(source) = self.path_for_forced_command()
            && !is_shell_safe_path(source)
        {
            return Err(Error::OwnPath {
                path: source.to_owned(),
            });
        }
        if crate::types::user_name::UserName::parse(&self.git_user).is_err() {
            return Err(invalid("git_user", "must be a system account name"));
        }
        if crate::types::user_name::UserName::parse(&self.daemon_user).is_err() {
            return Err(invalid("daemon_user", "must be a system account name"));
        }
        if crate::types::user_name::UserName::parse(&self.keys_user).is_err() {
            return Err(invalid("keys_user", "must be a system account name"));
        }
        for admin in &self.admins {
            let name = admin.strip_prefix('@').unwrap_or(admin);
            if crate::types::user_name::UserName::parse(name).is_err() {
                return Err(invalid(
                    "admins",
                    &format!("holds '{admin}', which is neither an account nor an @group name"),
                ));
            }
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            return Err(invalid("log", &format!("is not a log filter: {e}")));
        }
        Ok(())
    }
}

impl Classify for Error {
    /// An unusable configuration is the admin's input: refused, nothing changed.
    fn code(&self) -> Code {
        match self {
            Error::Read { .. }
            | Error::Parse { .. }
            | Error::OwnPath { .. }
            | Error::Invalid { .. } => Code::Refused,
        }
    }

    fn remote_line(&self) -> String {
        "forge is misconfigured on this server; tell your admin".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::from_toml(text, Path::new("/etc/forge/test.toml"))
    }

    #[test]
    fn an_empty_file_gives_every_default() {
        let config = parse("").unwrap();
        assert_eq!(config.socket, Path::new("/run/forge/forged.sock"));
        assert_eq!(config.database, Path::new("/var/lib/forge/state/forge.db"));
        assert_eq!(config.repos, Path::new("/var/lib/forge/repos"));
        assert_eq!(config.git_user, "git");
        assert_eq!(config.daemon_user, "forge");
        assert_eq!(config.keys_user, "forge-keys");
        assert!(config.admins.is_empty());
        assert_eq!(config.forge_shell, Path::new("/usr/lib/forge/forge-shell"));
        assert_eq!(config.forge_keys, Path::new("/usr/lib/forge/forge-keys"));
        assert!(!config.allow_local_push);
    }

    #[test]
    fn the_shipped_example_gives_the_defaults() {
        let example = parse(include_str!("../packaging/forge.toml")).unwrap();
        assert_eq!(example, parse("").unwrap());
    }

    #[test]
    fn set_keys_override_defaults() {
        let config = parse(
            "socket = \"/tmp/f.sock\"\nadmins = [\"alice\", \"@wheel\"]\nallow_local_push = true\n",
        )
        .unwrap();
        assert_eq!(config.socket, Path::new("/tmp/f.sock"));
        assert_eq!(config.admins, ["alice", "@wheel"]);
        assert!(config.allow_local_push);
    }

    /// Returns every key of forge.toml with its default as TOML spells it (a string, array or
    /// boolean reads the same in JSON). JSON rather than TOML, which would leave out a key
    /// whose default is None.
    fn keys_and_defaults() -> Vec<(String, String)> {
        let serde_json::Value::Object(defaults) = serde_json::to_value(Config::default()).unwrap()
        else {
            panic!("Config serializes as a table");
        };
        defaults
            .into_iter()
            .map(|(key, value)| (key, value.to_string()))
            .collect()
    }

    #[test]
    fn the_man_page_gives_every_key_with_its_default() {
        let page = include_str!("../man/forge.toml.5");
        for (key, default) in keys_and_defaults() {
            // Each key is a .TP entry whose tag is the key and its default.
            let tag = format!(
                "\\fB{}\\fR = {}\n",
                key.replace('-', "\\-"),
                default.replace('-', "\\-")
            );
            assert!(
                page.contains(&format!(".TP\n{tag}")),
                "man/forge.toml.5 lacks the entry {tag:?}; document the key there"
            );
        }
    }

    #[test]
    fn the_shipped_example_names_every_key() {
        let example = include_str!("../packaging/forge.toml");
        for (key, _) in keys_and_defaults() {
            assert!(
                example.contains(&format!("\n# {key} = ")),
                "packaging/forge.toml lacks '# {key} = ...'"
            );
        }
    }

    #[test]
    fn errors_name_the_offending_key() {
        let rows = [
            ("sockett = \"/x\"", "line 1: unknown field `sockett`"),
            ("\nallow_local_push = \"yes\"", "line 2: invalid type"),
            (
                "repos = \"relative/path\"",
                "'repos' must be an absolute path",
            ),
            (
                "forge_shell = \"/opt/my forge/forge-shell\"",
                "'forge_shell' must be a path",
            ),
            (
                "forge_shell = \"/opt/$HOME/forge-shell\"",
                "'forge_shell' must be a path",
            ),
            (
                "forge_keys = \"/usr/lib/forge/forge keys\"",
                "'forge_keys' must be a path",
            ),
            (
                "forge_keys = \"forge-keys\"",
                "'forge_keys' must be an absolute path",
            ),
            (
                "git_user = \"\"",
                "'git_user' must be a system account name",
            ),
            (
                "daemon_user = \"a b\"",
                "'daemon_user' must be a system account name",
            ),
            ("admins = [\"@\"]", "'admins' holds '@'"),
            ("log = \"[\"", "'log' is not a log filter"),
        ];
        for (text, expected) in rows {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?} gave {message:?}");
            assert!(!message.contains('\n'), "{message:?} is not one line");
        }
    }

    #[test]
    fn a_config_path_needing_quotes_is_refused() {
        let error = Config::from_toml("", Path::new("/etc/my forge.toml")).unwrap_err();
        assert!(error.to_string().contains("written into authorized_keys"));
    }

    #[test]
    fn the_default_path_needs_no_config_argument() {
        let at_default = Config::from_toml("", Path::new(DEFAULT_PATH)).unwrap();
        assert_eq!(at_default.path_for_forced_command(), None);
        let elsewhere = parse("").unwrap();
        assert_eq!(
            elsewhere.path_for_forced_command(),
            Some(Path::new("/etc/forge/test.toml"))
        );
    }
}
