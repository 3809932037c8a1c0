//! The lines forge writes for sshd: `authorized_keys` lines for keys and
//! `authorized_principals` lines for certificates. Both start with the same options,
//! `command="<forge-shell> [--config <file>] <identity>",restrict`, so every way in goes through
//! forge-shell, quoted the same way; this module is the one place that renders them.

use crate::types::certs::Principal;
use crate::types::identity::Identity;
use crate::types::keys::{KeyId, PublicKey};
use crate::types::timestamp::Timestamp;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Renders the `authorized_keys` line that lets `key` in only through forge-shell.
///
/// The line is `command="<forge_shell> [--config <config>] key-<id>",restrict <algorithm>
/// <base64>`, without the key's comment and without a trailing newline. `restrict` turns off
/// forwarding, pty and `~/.ssh/rc`; the forced command receives the key id. A key that
/// `expires` gets `,expiry-time="YYYYMMDDHHMMSSZ"` after `restrict`, so that sshd itself
/// refuses it after that instant, even from a stale file.
///
/// Precondition: `forge_shell` and `config` satisfy [`is_shell_safe_path`] and `id` is
/// positive. Config validation guarantees this, so the function refuses nothing; debug builds
/// assert it.
pub fn authorized_keys_line(
    forge_shell: &Path,
    config: Option<&Path>,
    id: KeyId,
    key: &PublicKey,
    expires: Option<Timestamp>,
) -> String {
    debug_assert!(id.get() > 0, "key id {} is not positive", id.get());
    let expiry = expires
        .map(|at| format!(",expiry-time=\"{}\"", at.to_openssh()))
        .unwrap_or_default();
    format!(
        "{}{expiry} {}",
        forced_command_options(forge_shell, config, &Identity::Key(id)),
        key.to_openssh()
    )
}

/// Renders the options that start every line forge writes for sshd:
/// `command="<forge_shell> [--config <config>] <identity>",restrict`.
///
/// `authorized_keys` lines put the key after them, `authorized_principals` lines the principal,
/// so both let a user in only through forge-shell, quoted the same way. The identity's text
/// (`key-17`, `cert-3:alice`) holds only bytes that need no quoting.
///
/// Precondition: `forge_shell` and `config` satisfy [`is_shell_safe_path`]; debug builds
/// assert it.
pub fn forced_command_options(
    forge_shell: &Path,
    config: Option<&Path>,
    identity: &Identity,
) -> String {
    debug_assert!(
        is_shell_safe_path(forge_shell),
        "forge-shell path {} is not shell-safe",
        forge_shell.display()
    );
    debug_assert!(
        config.is_none_or(is_shell_safe_path),
        "config path is not shell-safe"
    );
    let mut command = forge_shell.display().to_string();
    if let Some(config) = config {
        command.push_str(" --config ");
        command.push_str(&config.display().to_string());
    }
    format!("command=\"{command} {identity}\",restrict")
}

/// Renders the `authorized_principals` line that lets `principal` in as `identity` only
/// through forge-shell.
///
/// The options are exactly those of [`sshd_line::authorized_keys_line`] (the same forced command,
/// quoting and `restrict`), followed by the principal.
///
/// Precondition: as for [`sshd_line::authorized_keys_line`], the paths are shell-safe.
pub fn authorized_principals_line(
    forge_shell: &Path,
    config: Option<&Path>,
    identity: &Identity,
    principal: &Principal,
) -> String {
    format!(
        "{} {principal}",
        forced_command_options(forge_shell, config, identity)
    )
}

/// Returns whether a path can go into a forced command without quoting.
///
/// It must be absolute and consist only of the bytes `A-Z a-z 0-9 . _ / + -`: no spaces,
/// quotes, backslashes, `$` or anything sshd or a shell would interpret.
pub fn is_shell_safe_path(path: &Path) -> bool {
    let bytes = path.as_os_str().as_bytes();
    bytes.first() == Some(&b'/')
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._/+-".contains(byte))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::certs::CaId;
    use crate::types::keys::ACCEPTED_ALGORITHMS;
    use crate::types::keys::tests::{ECDSA521, ED25519, RSA2048, SK_ECDSA, base64_of};
    use crate::types::user_name::UserName;
    use std::ffi::OsStr;
    use std::path::PathBuf;

    /// Checks a rendered line against the one shape forge writes, piece by piece.
    fn is_well_formed_line(line: &str) -> bool {
        let Some(rest) = line.strip_prefix("command=\"") else {
            return false;
        };
        let Some((command, rest)) = rest.split_once("\",restrict") else {
            return false;
        };
        let key = match rest.strip_prefix(",expiry-time=\"") {
            Some(expiry) => match expiry.split_once("\" ") {
                Some((time, key))
                    if time.len() == 15
                        && time.ends_with('Z')
                        && time[..14].bytes().all(|byte| byte.is_ascii_digit()) =>
                {
                    key
                }
                _ => return false,
            },
            None => match rest.strip_prefix(' ') {
                Some(key) => key,
                None => return false,
            },
        };
        let words: Vec<&str> = command.split(' ').collect();
        let (shell, config, arg) = match words.as_slice() {
            [shell, arg] => (shell, None, arg),
            [shell, "--config", config, arg] => (shell, Some(config), arg),
            _ => return false,
        };
        let Some((algorithm, base64)) = key.split_once(' ') else {
            return false;
        };
        is_shell_safe_path(Path::new(shell))
            && config.is_none_or(|config| is_shell_safe_path(Path::new(config)))
            && KeyId::parse_arg(arg).is_ok()
            && ACCEPTED_ALGORITHMS.contains(&algorithm)
            && !base64.is_empty()
            && base64
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"+/=".contains(&byte))
    }

    #[test]
    fn authorized_keys_lines_force_the_shell_and_drop_the_comment() {
        let key = PublicKey::parse_authorized(ED25519).unwrap();
        let shell = Path::new("/usr/local/bin/forge-shell");
        let config = PathBuf::from("/etc/forge/forge.toml");
        let rows = [
            (
                None,
                17,
                format!(
                    "command=\"/usr/local/bin/forge-shell key-17\",restrict ssh-ed25519 {}",
                    base64_of(ED25519)
                ),
            ),
            (
                Some(config.as_path()),
                9,
                format!(
                    "command=\"/usr/local/bin/forge-shell --config /etc/forge/forge.toml key-9\",restrict ssh-ed25519 {}",
                    base64_of(ED25519)
                ),
            ),
        ];
        for (config, id, expected) in rows {
            let line = authorized_keys_line(shell, config, KeyId::new(id), &key, None);
            assert_eq!(line, expected);
            assert!(is_well_formed_line(&line), "{line}");
            assert!(!line.contains("alice@laptop"));
            assert!(!line.contains('\n'));
        }
        for input in [ECDSA521, RSA2048, SK_ECDSA] {
            let key = PublicKey::parse_authorized(input).unwrap();
            let line = authorized_keys_line(shell, None, KeyId::new(i64::MAX), &key, None);
            assert!(is_well_formed_line(&line), "{line}");
        }
    }

    #[test]
    fn keys_that_expire_carry_openssh_expiry_time() {
        let key = PublicKey::parse_authorized(ED25519).unwrap();
        let shell = Path::new("/usr/bin/forge-shell");
        let expires = Timestamp::parse("2030-01-31T12:34:56Z").unwrap();
        let line = authorized_keys_line(shell, None, KeyId::new(3), &key, Some(expires));
        assert_eq!(
            line,
            format!(
                "command=\"/usr/bin/forge-shell key-3\",restrict,expiry-time=\"20300131123456Z\" ssh-ed25519 {}",
                base64_of(ED25519)
            )
        );
        assert!(is_well_formed_line(&line), "{line}");
    }

    #[test]
    fn only_plain_absolute_paths_are_shell_safe() {
        let valid = [
            "/",
            "/usr/bin/forge-shell",
            "/etc/forge/forge.toml",
            "/opt/forge+2/bin/forge_shell.v2",
            "/srv/Git/forge-1.0/../bin",
        ];
        for path in valid {
            assert!(is_shell_safe_path(Path::new(path)), "{path:?} refused");
        }
        let invalid = [
            "",
            "forge-shell",
            "./forge-shell",
            "~/bin/forge-shell",
            "/usr/local/bin/forge shell",
            "/usr/bin/forge\"shell",
            "/usr/bin/forge'shell",
            "/usr/bin/forge\\shell",
            "/usr/bin/$HOME",
            "/usr/bin/forge;rm",
            "/usr/bin/forge`id`",
            "/usr/bin/forge,shell",
            "/usr/bin/forge\tshell",
            "/usr/bin/forge\nshell",
            "/usr/bin/forgé",
            "/usr/bin/forge*",
        ];
        for path in invalid {
            assert!(!is_shell_safe_path(Path::new(path)), "{path:?} accepted");
        }
        let not_utf8 = OsStr::from_bytes(b"/usr/bin/forge\xff");
        assert!(!is_shell_safe_path(Path::new(not_utf8)));
    }

    #[test]
    fn a_principal_line_has_the_forced_command_of_a_key_line() {
        let identity = Identity::Certificate {
            ca: CaId::new(3),
            user: UserName::parse("bob").unwrap(),
        };
        let line = authorized_principals_line(
            Path::new("/usr/lib/forge/forge-shell"),
            Some(Path::new("/etc/forge/forge.toml")),
            &identity,
            &Principal::parse("ops-bob").unwrap(),
        );
        assert_eq!(
            line,
            "command=\"/usr/lib/forge/forge-shell --config /etc/forge/forge.toml cert-3:bob\",restrict ops-bob"
        );
    }
}
