//! Running git for a user: `exec` of `git-upload-pack` & co. with an argument vector and an
//! environment built anew, never through a shell.

use crate::shim::push_env;
use crate::shim::ssh_command::GitService;
use crate::types::identity::Identity;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `PATH` git runs with; nothing of the caller's environment leaks in.
pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The longest `GIT_PROTOCOL` value passed through.
const MAX_GIT_PROTOCOL_BYTES: usize = 256;

/// Everything git and the hooks get to know about one session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user forged said owns the key.
    pub user: String,
    /// The identity the user logged in with: a key or a certificate.
    pub identity: Identity,
    /// The repository, as forge spells it.
    pub repo: String,
    /// The session id forged handed out; the hooks quote it back.
    pub session: String,
    /// The configuration file the hooks must read, when not the default one.
    pub config: Option<PathBuf>,
    /// The `forge-hook` binary the hook shims run.
    pub forge_hook: PathBuf,
}

/// Returns the environment git runs with: built from nothing but `HOME`, a fixed `PATH`, a
/// well-formed `GIT_PROTOCOL` (so protocol v2 works) and the `FORGE_*` contract of the hooks.
pub fn environment(
    session: &Session,
    home: Option<OsString>,
    git_protocol: Option<OsString>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("PATH".into(), PATH.into()),
        ("HOME".into(), home.unwrap_or_else(|| "/".into())),
        (push_env::ENV_USER.into(), session.user.clone().into()),
        (
            push_env::ENV_IDENTITY.into(),
            session.identity.to_string().into(),
        ),
        (push_env::ENV_REPO.into(), session.repo.clone().into()),
        (push_env::ENV_SESSION.into(), session.session.clone().into()),
        (push_env::ENV_HOOK.into(), session.forge_hook.clone().into()),
    ];
    if let Some(key) = session.identity.key() {
        env.push((push_env::ENV_KEY_ID.into(), key.get().to_string().into()));
    }
    if let Some(config) = &session.config {
        env.push((crate::config::ENV_VAR.into(), config.clone().into()));
    }
    if let Some(protocol) = git_protocol.filter(is_well_formed_git_protocol) {
        env.push(("GIT_PROTOCOL".into(), protocol));
    }
    env
}

/// Forces `core.hooksPath` to `hooks` in `env`, as one more `GIT_CONFIG_KEY_n`/`VALUE_n`
/// entry after any already there (and `GIT_CONFIG_COUNT` raised to match).
///
/// Configuration from the environment outranks every configuration file, so no repository's
/// `core.hooksPath` (set by hand, or by anyone who can write its config) can point a push at
/// other hooks, or at none: then neither ref rules nor the audit log would apply.
pub fn force_hooks_path(env: &mut Vec<(OsString, OsString)>, hooks: &Path) {
    let count = env
        .iter()
        .find(|(name, _)| name == "GIT_CONFIG_COUNT")
        .and_then(|(_, value)| value.to_str()?.parse::<usize>().ok())
        .unwrap_or(0);
    env.retain(|(name, _)| name != "GIT_CONFIG_COUNT");
    env.push((
        format!("GIT_CONFIG_KEY_{count}").into(),
        "core.hooksPath".into(),
    ));
    env.push((format!("GIT_CONFIG_VALUE_{count}").into(), hooks.into()));
    env.push(("GIT_CONFIG_COUNT".into(), (count + 1).to_string().into()));
}

/// Returns whether `value` looks like what git sends in `GIT_PROTOCOL`: `:`-separated
/// `key[=value]` items of printable ASCII without spaces, at most 256 bytes.
fn is_well_formed_git_protocol(value: &OsString) -> bool {
    let bytes = value.as_encoded_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_GIT_PROTOCOL_BYTES
        && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// Replaces this process with `service` serving the repository at `path`; returns only on
/// failure.
pub fn exec(service: GitService, path: &Path, env: Vec<(OsString, OsString)>) -> std::io::Error {
    Command::new(service.program())
        .arg(path)
        .env_clear()
        .envs(env)
        .current_dir("/")
        .exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            user: "alice".into(),
            identity: Identity::Key(crate::types::keys::KeyId::new(17)),
            repo: "acme/widgets".into(),
            session: "abc".into(),
            config: None,
            forge_hook: "/usr/lib/forge/forge-hook".into(),
        }
    }

    fn value<'a>(env: &'a [(OsString, OsString)], name: &str) -> Option<&'a OsString> {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    #[test]
    fn the_environment_holds_only_what_git_and_the_hooks_need() {
        let env = environment(&session(), Some("/var/lib/forge".into()), None);
        let names: Vec<_> = env
            .iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "PATH",
                "HOME",
                "FORGE_USER",
                "FORGE_IDENTITY",
                "FORGE_REPO",
                "FORGE_SESSION",
                "FORGE_HOOK",
                "FORGE_KEY_ID"
            ]
        );
        assert_eq!(value(&env, "FORGE_IDENTITY").unwrap(), "key-17");
        assert_eq!(value(&env, "FORGE_KEY_ID").unwrap(), "17");
    }

    #[test]
    fn a_certificate_session_names_its_identity_and_no_key() {
        let mut certificate = session();
        certificate.identity = Identity::Certificate {
            ca: crate::types::certs::CaId::new(3),
            user: crate::types::user_name::UserName::parse("alice").unwrap(),
        };
        let env = environment(&certificate, None, None);
        assert_eq!(value(&env, "FORGE_IDENTITY").unwrap(), "cert-3:alice");
        assert_eq!(value(&env, "FORGE_KEY_ID"), None);
    }

    #[test]
    fn git_protocol_passes_only_when_well_formed() {
        for (given, passed) in [
            ("version=2", true),
            ("version=2:object-format=sha256", true),
            ("version=2 x", false),
            ("version=2\n", false),
            ("", false),
        ] {
            let env = environment(&session(), None, Some(given.into()));
            assert_eq!(value(&env, "GIT_PROTOCOL").is_some(), passed, "{given:?}");
        }
        let long = "v".repeat(300);
        assert!(
            value(
                &environment(&session(), None, Some(long.into())),
                "GIT_PROTOCOL"
            )
            .is_none()
        );
    }

    #[test]
    fn the_hooks_path_is_forced_after_other_config_entries() {
        let mut env = environment(&session(), None, None);
        force_hooks_path(&mut env, Path::new("/usr/lib/forge/hooks"));
        assert_eq!(value(&env, "GIT_CONFIG_COUNT").unwrap(), "1");
        assert_eq!(value(&env, "GIT_CONFIG_KEY_0").unwrap(), "core.hooksPath");
        assert_eq!(
            value(&env, "GIT_CONFIG_VALUE_0").unwrap(),
            "/usr/lib/forge/hooks"
        );
        let mut more = vec![
            ("GIT_CONFIG_COUNT".into(), "1".into()),
            ("GIT_CONFIG_KEY_0".into(), "x.y".into()),
            ("GIT_CONFIG_VALUE_0".into(), "z".into()),
        ];
        force_hooks_path(&mut more, Path::new("/h"));
        assert_eq!(value(&more, "GIT_CONFIG_COUNT").unwrap(), "2");
        assert_eq!(value(&more, "GIT_CONFIG_KEY_1").unwrap(), "core.hooksPath");
        assert_eq!(value(&more, "GIT_CONFIG_KEY_0").unwrap(), "x.y");
    }

    #[test]
    fn an_explicit_config_is_passed_to_the_hooks() {
        let mut with_config = session();
        with_config.config = Some("/etc/forge/other.toml".into());
        let env = environment(&with_config, None, None);
        assert_eq!(
            value(&env, "FORGE_CONFIG").unwrap(),
            "/etc/forge/other.toml"
        );
    }
}
