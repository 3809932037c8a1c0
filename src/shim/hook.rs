//! What `forge-hook` does inside a push: the `FORGE_*` environment contract between
//! `forge-shell` and the hooks, classifying ref updates, and the pre- and post-receive steps.
//!
//! pre-receive sends every update of the push to forged in one `check_refs` request; forged
//! decides each one and stores the accepted ones as pending under the session. post-receive
//! reports what git actually did with one `record` request, which confirms them. If forged dies
//! in between, it reconciles the pending rows against the real refs when it starts again.

use crate::config::Config;
use crate::exit::{Classify, Code};
use crate::policy::refs::ProposedUpdate;
use crate::policy::{RefUpdate, update_facts};
use crate::shim::push_env::{self, PushEnv};
use crate::wire::client::{self, Client};
use crate::wire::{self, RefChange, Request, Response};
use std::io::BufRead;

/// The most update lines one push may carry.
pub const MAX_UPDATES: usize = wire::MAX_UPDATES;

/// Why a hook failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `FORGE_*` environment does not describe a push.
    #[error("the push environment is not valid")]
    Environment(#[from] push_env::Error),
    /// git handed the hook a line it does not understand.
    #[error("git sent a bad ref update line")]
    BadInput(#[source] crate::policy::refs::Error),
    /// More than [`MAX_UPDATES`] updates.
    #[error("a push may update at most {max} refs")]
    TooManyUpdates {
        /// The limit.
        max: usize,
    },
    /// Reading the hook's input failed.
    #[error("cannot read the ref updates from git")]
    Read(#[source] std::io::Error),
    /// The repository could not be opened to classify an update.
    #[error("cannot open the repository to classify updates")]
    Repository(#[source] git2::Error),
    /// forged could not be asked.
    #[error("asking forged failed")]
    Service(#[source] client::Error),
    /// post-receive could not report the updates git made; forged reconciles them later.
    #[error("recording the push failed")]
    NotRecorded(#[source] client::Error),
    /// forged refused some updates; one line per refused ref.
    #[error("{}", refusals.join("; "))]
    Refused {
        /// `<ref>: <reason>` for each refused update.
        refusals: Vec<String>,
    },
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Service(e) | Error::NotRecorded(e) => e.code(),
            Error::Refused { .. } | Error::TooManyUpdates { .. } | Error::Environment(_) => {
                Code::Refused
            }
            Error::BadInput(_) | Error::Read(_) | Error::Repository(_) => Code::Internal,
        }
    }

    /// The line the pushing user sees (git prefixes it with `remote:`).
    fn remote_line(&self) -> String {
        match self {
            Error::Service(e) => format!("push refused: {}", e.remote_line()),
            Error::NotRecorded(_) => "this push was accepted but not yet recorded; \
                 forge records it by itself once its service is back, nothing to do"
                .into(),
            Error::Refused { refusals } => refusals.join("\nforge: "),
            Error::TooManyUpdates { .. } => self.to_string(),
            _ => format!("push refused: {self}; tell your admin"),
        }
    }
}

/// Returns the update lines git writes on a hook's stdin.
pub fn read_updates(input: impl BufRead) -> Result<Vec<ProposedUpdate>, Error> {
    let mut updates = Vec::new();
    for line in input.lines() {
        let line = line.map_err(Error::Read)?;
        if updates.len() == MAX_UPDATES {
            return Err(Error::TooManyUpdates { max: MAX_UPDATES });
        }
        updates.push(ProposedUpdate::parse_line(&line).map_err(Error::BadInput)?);
    }
    Ok(updates)
}

/// Runs pre-receive: classifies `updates`, asks forged, and refuses the push if any update is
/// refused.
pub fn pre_receive(
    client: &Client,
    push: &PushEnv,
    repo: &git2::Repository,
    updates: Vec<ProposedUpdate>,
) -> Result<(), Error> {
    let classified = updates
        .into_iter()
        .map(|update| RefUpdate {
            kind: update_facts::classify(repo, &update.old, &update.new),
            paths: update_facts::changed_paths(repo, &update.old, &update.new),
            has_merges: update_facts::has_merges(repo, &update.old, &update.new),
            ref_name: update.ref_name,
            old: update.old,
            new: update.new,
        })
        .collect();
    let request = Request::CheckRefs {
        session: push.session.clone(),
        user: push.user.clone(),
        identity: push.identity.clone(),
        repo: push.repo.clone(),
        updates: classified,
    };
    let verdicts = match client.call(&request).map_err(Error::Service)? {
        Response::RefVerdicts { verdicts } => verdicts,
        _ => {
            return Err(Error::Service(client::Error::Unexpected {
                op: request.op(),
            }));
        }
    };
    let refusals: Vec<String> = verdicts
        .into_iter()
        .filter(|verdict| !verdict.allowed)
        .map(|verdict| {
            // The reason may quote a file name of the push: no byte of it reaches a terminal raw.
            let reason = crate::types::shown::Escaped(&verdict.reason);
            format!("{}: {reason}", verdict.ref_name)
        })
        .collect();
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused { refusals })
    }
}

/// Runs post-receive: reports the updates git made.
pub fn post_receive(
    client: &Client,
    push: &PushEnv,
    updates: Vec<ProposedUpdate>,
) -> Result<(), Error> {
    let changes = updates
        .into_iter()
        .map(|update| RefChange {
            ref_name: update.ref_name,
            old: update.old,
            new: update.new,
        })
        .collect();
    let request = Request::Record {
        session: push.session.clone(),
        user: push.user.clone(),
        identity: push.identity.clone(),
        repo: push.repo.clone(),
        updates: changes,
    };
    match client.call(&request).map_err(Error::NotRecorded)? {
        Response::Done => Ok(()),
        _ => Err(Error::NotRecorded(client::Error::Unexpected {
            op: request.op(),
        })),
    }
}

/// Returns the client hooks use to reach the forged named in `config`.
pub fn client(config: &Config) -> Client {
    Client::new(&config.socket, client::SHIM_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn update_lines_are_read_until_the_end() {
        let zero = "0".repeat(40);
        let one = "1".repeat(40);
        let input = format!("{zero} {one} refs/heads/main\n{one} {zero} refs/heads/old\n");
        let updates = read_updates(input.as_bytes()).unwrap();
        assert_eq!(updates.len(), 2);
        assert!(read_updates("garbage\n".as_bytes()).is_err());
    }
}
