//! The forced command: from `SSH_ORIGINAL_COMMAND` to an `exec`'d git, in one round trip to
//! forged.
//!
//! ```text
//! SSH_ORIGINAL_COMMAND -> SshCommand::parse -> forged: check(key, repo, access) -> exec git
//!                                            \-> forged: whoami / info -> print
//! ```

use crate::config::Config;
use crate::exit::{Classify, Code};
use crate::policy::Access;
use crate::shim::git;
use crate::shim::ssh_command::{self, SshCommand, UserCommand};
use crate::types::identity::Identity;
use crate::types::repo_name::RepoName;
use crate::wire::client::{self, Client};
use crate::wire::{ErrorKind, Request, Response};
use std::ffi::OsString;
use std::io::Write;

/// Why the forced command did not run git.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command is not one forge runs.
    #[error(transparent)]
    Command(#[from] ssh_command::Error),
    /// Denied, or no such repository: both read the same.
    #[error("no repository '{repo}' {} with this key; check the name or ask an admin", if *.access >= Access::Write { "writable" } else { "readable" })]
    Denied {
        /// The repository asked for.
        repo: RepoName,
        /// The access the command needed.
        access: Access,
    },
    /// forged refused a user command, saying why (it names no path and no other user's data).
    #[error("{message}")]
    Refused {
        /// forged's line.
        message: String,
    },
    /// The key is not registered, or was removed.
    #[error("this key is not registered with forge (or was removed); ask an admin to add it")]
    UnknownKey,
    /// The certificate's CA or its user is no longer registered.
    #[error("this certificate's CA or user is no longer registered with forge; ask an admin")]
    UnknownCertificate,
    /// forged could not be asked.
    #[error("asking forged failed")]
    Service(#[source] client::Error),
    /// git could not be started.
    #[error(transparent)]
    Exec(git::Error),
    /// Writing the answer to the user failed.
    #[error("cannot write the answer")]
    Write(#[source] std::io::Error),
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Command(_)
            | Error::Denied { .. }
            | Error::UnknownKey
            | Error::UnknownCertificate
            | Error::Refused { .. } => Code::Refused,
            Error::Service(e) => e.code(),
            Error::Exec(_) | Error::Write(_) => Code::Internal,
        }
    }

    /// A denied repository reads exactly like a missing one.
    fn remote_line(&self) -> String {
        match self {
            Error::Command(e) => format!("{e}; the command 'help' lists what forge runs"),
            Error::Service(e) => e.remote_line(),
            Error::Exec(git::Error::Program { program, .. }) => {
                format!("cannot start {program}; tell your admin")
            }
            _ => self.to_string(),
        }
    }
}

/// What the SSH session brought along.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// `SSH_ORIGINAL_COMMAND`, or `None` for an interactive login.
    pub original_command: Option<Vec<u8>>,
    /// `HOME`, passed on to git.
    pub home: Option<OsString>,
    /// `GIT_PROTOCOL`, passed on to git when well formed.
    pub git_protocol: Option<OsString>,
}

/// Serves one SSH session for the user behind `identity` (a key or a certificate): runs git
/// (and does not return) or answers a user command on `out`.
pub fn run(
    config: &Config,
    identity: Identity,
    invocation: Invocation,
    out: &mut impl Write,
) -> Result<Code, Error> {
    let client = Client::new(&config.socket, client::SHIM_TIMEOUT);
    let Some(original) = invocation.original_command.as_deref() else {
        let user = client
            .whoami(&identity)
            .map_err(Error::Service)?
            .ok_or_else(|| unknown(&identity))?;
        // An interactive login: greet, and say what does work. Exit 1: no shell is offered.
        writeln!(
            out,
            "hi {user}! you have reached forge, which serves git but offers no shell; \
             the command 'info' lists your repositories"
        )
        .map_err(Error::Write)?;
        return Ok(Code::Refused);
    };
    match SshCommand::parse(original)? {
        SshCommand::Git { service, repo } => {
            let access = service.required_access();
            let grant = client
                .check(&identity, &repo, access)
                .map_err(Error::Service)?
                .ok_or_else(|| Error::Denied {
                    repo: repo.clone(),
                    access,
                })?;
            let session = git::Session {
                user: grant.user.to_string(),
                identity,
                repo: grant.repo.to_string(),
                session: grant.session,
                config: config.path_for_forced_command().map(ToOwned::to_owned),
                forge_hook: config.forge_hook.clone(),
                needs: grant.needs,
            };
            let mut env = git::environment(&session, invocation.home, invocation.git_protocol);
            git::force_hooks_path(&mut env, &config.hooks);
            match git::exec(service, &grant.path, env) {
                // Gone since forged's check: it reads exactly like a missing repository.
                git::Error::Repository(_) => Err(Error::Denied { repo, access }),
                failed => Err(Error::Exec(failed)),
            }
        }
        SshCommand::User(UserCommand::Whoami) => {
            let user = client
                .whoami(&identity)
                .map_err(Error::Service)?
                .ok_or_else(|| unknown(&identity))?;
            writeln!(out, "{user}").map_err(Error::Write)?;
            Ok(Code::Success)
        }
        SshCommand::User(UserCommand::Info) => {
            let (user, repos) = client
                .info(&identity)
                .map_err(Error::Service)?
                .ok_or_else(|| unknown(&identity))?;
            let mut text = format!(
                "hello {user}, this is forge {}\n\n",
                env!("CARGO_PKG_VERSION")
            );
            for reachable in &repos {
                let column = |on: bool, letter: &str| {
                    if on {
                        format!(" {letter}")
                    } else {
                        "  ".to_owned()
                    }
                };
                let create = if reachable.create { " C" } else { "" };
                text.push_str(&format!(
                    "{}{}{create}\t{}\n",
                    column(reachable.read, "R"),
                    column(reachable.write, "W"),
                    reachable.repo
                ));
            }
            if repos.is_empty() {
                text.push_str(" (no repositories yet)\n");
            }
            out.write_all(text.as_bytes()).map_err(Error::Write)?;
            Ok(Code::Success)
        }
        SshCommand::Create { repo } => {
            ask_refusable(
                &client,
                &Request::Create {
                    identity,
                    repo: repo.clone(),
                },
            )?;
            writeln!(out, "created repository '{repo}'").map_err(Error::Write)?;
            Ok(Code::Success)
        }
        SshCommand::Perms { repo, change } => {
            let Response::Roles { roles, .. } = ask_refusable(
                &client,
                &Request::Perms {
                    identity,
                    repo,
                    change,
                },
            )?
            else {
                return Err(Error::Service(client::Error::Unexpected { op: "perms" }));
            };
            for (role, member) in roles {
                writeln!(out, "{role} {member}").map_err(Error::Write)?;
            }
            Ok(Code::Success)
        }
        SshCommand::User(UserCommand::Help) => {
            out.write_all(HELP.as_bytes()).map_err(Error::Write)?;
            Ok(Code::Success)
        }
    }
}

/// Returns the error for an identity forged no longer knows, in the words of its kind.
fn unknown(identity: &Identity) -> Error {
    match identity {
        Identity::Key(_) => Error::UnknownKey,
        Identity::Certificate { .. } => Error::UnknownCertificate,
    }
}

/// Asks forged a user command whose refusal (not the creator, may not create) is forged's own
/// line for the user.
fn ask_refusable(client: &Client, request: &Request) -> Result<Response, Error> {
    client.call(request).map_err(|e| match e {
        client::Error::Answer {
            kind: ErrorKind::Refused,
            message,
            ..
        } => Error::Refused { message },
        e => Error::Service(e),
    })
}

const HELP: &str = "\
forge serves git over ssh. Use it with git:
  git clone git@HOST:REPO        git push, git fetch, git ls-remote, git archive --remote
Commands (ssh git@HOST COMMAND):
  info                        the repositories you can reach, with R (read) and W (write),
                              and the patterns you may create repositories in (C)
  create REPO                 create a repository from a pattern you may create in
  perms REPO -l               list the roles of a repository you created
  perms REPO + ROLE USER      give USER a role (READERS, WRITERS) on it; - takes it away
  whoami                      the forge user your key belongs to
  help                        this text
";
