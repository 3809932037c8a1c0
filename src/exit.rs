//! Exit codes, and the one function that turns an error into a user's line and a code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success |
//! | 1    | refused: denied, or invalid input; nothing changed |
//! | 2    | usage: the command line is wrong (clap's code) |
//! | 70   | internal error: a bug; details in the forged log |
//! | 75   | forged unreachable or timed out: try again later |

use crate::{client, config, hooks, shell, ssh_command, wire};
use std::process::ExitCode;

/// What a binary's exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success.
    Success = 0,
    /// Denied, or invalid input; nothing changed.
    Refused = 1,
    /// The command line is wrong.
    Usage = 2,
    /// A bug; details in the forged log.
    Internal = 70,
    /// forged unreachable or timed out; try again later.
    Unavailable = 75,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// Who reads a binary's error line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// An admin at a terminal: the whole error chain, on one line.
    Admin,
    /// A git user at the other end of an SSH channel: one cleaned line, with no paths, SQL or
    /// socket names, in which a denied repository reads exactly like a missing one.
    RemoteUser,
}

/// Returns the exit code an error calls for.
pub fn code_of(error: &anyhow::Error) -> Code {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<shell::Error>() {
            return e.code();
        }
        if let Some(e) = cause.downcast_ref::<hooks::Error>() {
            return e.code();
        }
        if let Some(e) = cause.downcast_ref::<client::Error>() {
            return client_code(e);
        }
        if let Some(e) = cause.downcast_ref::<crate::sshd_setup::Error>() {
            return e.code();
        }
        if cause.is::<config::Error>()
            || cause.is::<ssh_command::Error>()
            || cause.is::<crate::policy::document::Error>()
            || cause.is::<crate::gitolite::Error>()
            || cause.is::<crate::gitolite::keydir::Error>()
        {
            return Code::Refused;
        }
    }
    Code::Internal
}

/// Returns the exit code for a failed question to forged.
pub fn client_code(error: &client::Error) -> Code {
    match error {
        client::Error::Unreachable { .. } | client::Error::TimedOut { .. } => Code::Unavailable,
        client::Error::NoPermission { .. } => Code::Refused,
        client::Error::Answer { kind, .. } => match kind {
            wire::ErrorKind::Refused | wire::ErrorKind::Denied | wire::ErrorKind::Forbidden => {
                Code::Refused
            }
            wire::ErrorKind::BadRequest | wire::ErrorKind::Internal => Code::Internal,
        },
        client::Error::Protocol(wire::Error::Closed) => Code::Unavailable,
        client::Error::Protocol(_) | client::Error::Unexpected { .. } => Code::Internal,
    }
}

/// Returns the one line a remote git user sees for a failed question to forged.
pub fn client_user_line(error: &client::Error) -> String {
    match (client_code(error), error) {
        (Code::Unavailable, _) => {
            "authorization service unavailable; try again in a minute, or tell your admin".into()
        }
        (_, client::Error::Answer { request, .. }) if !request.is_empty() => {
            format!("internal error; tell your admin and quote ref {request}")
        }
        _ => "internal error; tell your admin".into(),
    }
}

/// Writes `error` for `audience` as `<tool>: <line>` on stderr, and returns its exit code.
pub fn report(tool: &str, audience: Audience, error: &anyhow::Error) -> ExitCode {
    let line = match audience {
        Audience::Admin => format!("{error:#}"),
        Audience::RemoteUser => remote_line(error),
    };
    eprintln!("{tool}: {line}");
    code_of(error).into()
}

fn remote_line(error: &anyhow::Error) -> String {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<shell::Error>() {
            return e.user_line();
        }
        if let Some(e) = cause.downcast_ref::<hooks::Error>() {
            return e.user_line();
        }
        if let Some(e) = cause.downcast_ref::<client::Error>() {
            return client_user_line(e);
        }
    }
    if error.chain().any(|cause| cause.is::<config::Error>()) {
        return "forge is misconfigured on this server; tell your admin".into();
    }
    "internal error; tell your admin".into()
}

/// Writes `line` as `<tool>: <line>` on stderr and returns `code`; for refusals found by the
/// binaries themselves, which are not errors of the library.
pub fn refuse(tool: &str, line: &str, code: Code) -> ExitCode {
    eprintln!("{tool}: {line}");
    code.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn an_unreachable_forged_is_unavailable_and_names_no_socket_to_users() {
        let error = anyhow::Error::new(client::Error::Unreachable {
            socket: PathBuf::from("/run/forge/forged.sock"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        assert_eq!(code_of(&error), Code::Unavailable);
        let line = remote_line(&error);
        assert!(
            line.starts_with("authorization service unavailable"),
            "{line}"
        );
        assert!(!line.contains("/run"), "{line}");
    }

    #[test]
    fn internal_answers_quote_the_request_id() {
        let error = anyhow::Error::new(client::Error::Answer {
            kind: wire::ErrorKind::Internal,
            message: "database error: disk I/O error at /var/lib/forge/forge.db".into(),
            request: "7f3a".into(),
        });
        assert_eq!(code_of(&error), Code::Internal);
        assert_eq!(
            remote_line(&error),
            "internal error; tell your admin and quote ref 7f3a"
        );
    }

    #[test]
    fn refusals_exit_1_and_unknown_errors_exit_70() {
        let refused = anyhow::Error::new(client::Error::Answer {
            kind: wire::ErrorKind::Refused,
            message: "user 'alice' already exists".into(),
            request: String::new(),
        });
        assert_eq!(code_of(&refused), Code::Refused);
        assert_eq!(code_of(&anyhow::anyhow!("something odd")), Code::Internal);
    }
}
