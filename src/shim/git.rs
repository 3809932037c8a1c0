//! Running git for a user: `exec` of `git-upload-pack` & co. with an argument vector and an
//! environment built anew, never through a shell.
//!
//! What git is run with closes doors a repository's own configuration could open (issue #11):
//!
//! - replace objects are off (`GIT_NO_REPLACE_OBJECTS`), so no `refs/replace/` ref changes
//!   what `git archive --remote` or anything else serves for a commit;
//! - [`CONFIG`] is set as command-line configuration (`GIT_CONFIG_COUNT`), which beats every
//!   configuration file: a fetch may want only what a ref reaches;
//! - protocol v2 is never asked for: git's v2 `fetch` serves any object the repository holds,
//!   whatever `uploadpack.allow*SHA1InWant` say (checked with git 2.39 and 2.47), where v0 and
//!   v1 refuse an object no ref reaches. `GIT_PROTOCOL` passes only in git's own grammar, and
//!   without a `version=2` item;
//! - git runs inside the repository and is given `.`, so its errors name no server path.

use crate::policy::decide::PushNeeds;
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

/// The configuration every git service runs with, above any configuration file: only objects
/// that a ref reaches may be fetched (these are git's defaults, which a repository's config
/// could otherwise turn on).
pub const CONFIG: &[(&str, &str)] = &[
    ("uploadpack.allowAnySHA1InWant", "false"),
    ("uploadpack.allowReachableSHA1InWant", "false"),
    ("uploadpack.allowTipSHA1InWant", "false"),
    ("core.useReplaceRefs", "false"),
];

/// Why git could not be run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository's folder cannot be entered: it went away after forged's check, say.
    #[error("cannot enter the repository")]
    Repository(#[source] std::io::Error),
    /// The git program cannot be started.
    #[error("cannot start {program}")]
    Program {
        /// The git program.
        program: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

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
    /// Which facts of a push forged needs, as `check` answered.
    pub needs: PushNeeds,
}

/// Returns the environment git runs with: built from nothing but `HOME`, a fixed `PATH`, replace
/// objects off, [`CONFIG`], a well-formed `GIT_PROTOCOL` without `version=2` (see the module
/// doc) and the `FORGE_*` contract of the hooks.
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
        (
            push_env::ENV_NEEDS.into(),
            push_env::needs_value(session.needs).into(),
        ),
        ("GIT_NO_REPLACE_OBJECTS".into(), "1".into()),
        ("GIT_CONFIG_COUNT".into(), CONFIG.len().to_string().into()),
    ];
    for (index, (key, value)) in CONFIG.iter().enumerate() {
        env.push((format!("GIT_CONFIG_KEY_{index}").into(), (*key).into()));
        env.push((format!("GIT_CONFIG_VALUE_{index}").into(), (*value).into()));
    }
    if let Some(key) = session.identity.key() {
        env.push((push_env::ENV_KEY_ID.into(), key.get().to_string().into()));
    }
    if let Some(config) = &session.config {
        env.push((crate::config::ENV_VAR.into(), config.clone().into()));
    }
    if let Some(protocol) = git_protocol.as_deref().and_then(passed_git_protocol) {
        env.push(("GIT_PROTOCOL".into(), protocol.into()));
    }
    env
}

/// Returns the `GIT_PROTOCOL` git is given for `value` the client sent: `None` unless `value`
/// is in the grammar git sends, and without a `version` item other than `version=0` or
/// `version=1` (so git speaks v0; see the module doc); `None` when nothing is left.
fn passed_git_protocol(value: &std::ffi::OsStr) -> Option<String> {
    let text = value.to_str()?;
    if !is_well_formed_git_protocol(text) {
        return None;
    }
    let kept: Vec<&str> = text
        .split(':')
        .filter(|item| !item.starts_with("version=") || matches!(*item, "version=0" | "version=1"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(":"))
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

/// Returns whether `text` is what git sends in `GIT_PROTOCOL`: at most 256 bytes of
/// `:`-separated items, each `key` or `key=value`, keys of `[a-z0-9-]`, values of ASCII
/// letters, digits and `-._,+/`, and a `version` value all digits.
fn is_well_formed_git_protocol(text: &str) -> bool {
    let is_key = |key: &str| {
        !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let is_value = |value: &str| {
        !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._,+/".contains(&b))
    };
    let is_item = |item: &str| match item.split_once('=') {
        None => is_key(item),
        Some(("version", version)) => {
            !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())
        }
        Some((key, value)) => is_key(key) && is_value(value),
    };
    !text.is_empty() && text.len() <= MAX_GIT_PROTOCOL_BYTES && text.split(':').all(is_item)
}

/// Replaces this process with `service` serving the repository at `path`, run inside it and
/// given `.` so that nothing git prints names the server's folders; returns only on failure.
pub fn exec(service: GitService, path: &Path, env: Vec<(OsString, OsString)>) -> Error {
    // Entered here rather than with `Command::current_dir`, so that a repository gone since
    // forged's check is told apart from a git that cannot start.
    if let Err(source) = std::env::set_current_dir(path) {
        return Error::Repository(source);
    }
    let source = Command::new(service.program())
        .arg(".")
        .env_clear()
        .envs(env)
        .exec();
    Error::Program {
        program: service.program(),
        source,
    }
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
            needs: PushNeeds::ALL,
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
                "FORGE_NEEDS",
                "GIT_NO_REPLACE_OBJECTS",
                "GIT_CONFIG_COUNT",
                "GIT_CONFIG_KEY_0",
                "GIT_CONFIG_VALUE_0",
                "GIT_CONFIG_KEY_1",
                "GIT_CONFIG_VALUE_1",
                "GIT_CONFIG_KEY_2",
                "GIT_CONFIG_VALUE_2",
                "GIT_CONFIG_KEY_3",
                "GIT_CONFIG_VALUE_3",
                "FORGE_KEY_ID"
            ]
        );
        assert_eq!(value(&env, "GIT_NO_REPLACE_OBJECTS").unwrap(), "1");
        assert_eq!(value(&env, "FORGE_NEEDS").unwrap(), "paths,merges");
        assert_eq!(value(&env, "GIT_CONFIG_COUNT").unwrap(), "4");
        assert_eq!(
            value(&env, "GIT_CONFIG_KEY_0").unwrap(),
            "uploadpack.allowAnySHA1InWant"
        );
        assert_eq!(value(&env, "GIT_CONFIG_VALUE_0").unwrap(), "false");
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
    fn git_protocol_passes_only_in_gits_grammar() {
        let valid = [
            "version=0",
            "version=1",
            "version=2",
            "version=10",
            "version=2:object-format=sha256",
            "object-format=sha256",
            "agent=git/2.47.3",
            "a:b-c:d=e.f_g,h+i",
        ];
        let long = format!("version=1:{}", "a".repeat(300));
        let invalid = [
            "",
            ":",
            "version=2:",
            ":version=2",
            "version=2::x",
            "version=",
            "version=x",
            "version=-1",
            "version=2 x",
            "version=2\n",
            "version=2\0",
            "Version=2",
            "=2",
            "key=",
            "key=a=b",
            "key=a b",
            "key=$(id)",
            "key=a;b",
            "key=`x`",
            "key=a|b",
            "key='x'",
            "ke y=1",
            "key=\u{e9}",
            "key=\x1b[31m",
            long.as_str(),
        ];
        for given in valid {
            assert!(is_well_formed_git_protocol(given), "{given:?}");
        }
        for given in invalid {
            assert!(!is_well_formed_git_protocol(given), "{given:?}");
            let env = environment(&session(), None, Some(given.into()));
            assert_eq!(value(&env, "GIT_PROTOCOL"), None, "{given:?}");
        }
        use std::os::unix::ffi::OsStringExt;
        let not_utf8 = OsString::from_vec(b"version=1:k=\xff".to_vec());
        assert_eq!(
            value(
                &environment(&session(), None, Some(not_utf8)),
                "GIT_PROTOCOL"
            ),
            None
        );
    }

    #[test]
    fn git_is_never_asked_for_protocol_v2() {
        for (given, passed) in [
            ("version=0", Some("version=0")),
            ("version=1", Some("version=1")),
            ("version=2", None),
            ("version=3", None),
            (
                "version=2:object-format=sha256",
                Some("object-format=sha256"),
            ),
            (
                "object-format=sha256:version=2",
                Some("object-format=sha256"),
            ),
        ] {
            let env = environment(&session(), None, Some(given.into()));
            assert_eq!(
                value(&env, "GIT_PROTOCOL").map(|v| v.to_str().unwrap()),
                passed,
                "{given:?}"
            );
        }
    }

    #[test]
    fn a_repository_gone_since_the_check_is_told_apart_from_git_not_starting() {
        let gone = tempfile::tempdir().unwrap().path().join("acme/widgets.git");
        let failed = exec(GitService::UploadPack, &gone, Vec::new());
        assert!(matches!(failed, Error::Repository(_)), "{failed:?}");
    }

    #[test]
    fn the_hooks_path_is_forced_after_other_config_entries() {
        let mut env = environment(&session(), None, None);
        force_hooks_path(&mut env, Path::new("/usr/lib/forge/hooks"));
        let last = CONFIG.len();
        let count = (last + 1).to_string();
        assert_eq!(value(&env, "GIT_CONFIG_COUNT").unwrap(), count.as_str());
        let key = format!("GIT_CONFIG_KEY_{last}");
        assert_eq!(value(&env, &key).unwrap(), "core.hooksPath");
        assert_eq!(
            value(&env, &format!("GIT_CONFIG_VALUE_{last}")).unwrap(),
            "/usr/lib/forge/hooks"
        );
        let counts = env.iter().filter(|(name, _)| name == "GIT_CONFIG_COUNT");
        assert_eq!(counts.count(), 1, "one count, raised");
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
