//! What `forge-hook` does inside a push: the `FORGE_*` environment contract between
//! `forge-shell` and the hooks, classifying ref updates, and the pre- and post-receive steps.
//!
//! pre-receive sends the updates of the push to forged in `check_refs` requests, as few as fit
//! the git account's line limit ([`wire::MAX_SERVICE_REQUEST_BYTES`]: a push of many branches
//! with many changed files each is larger); forged decides each one and stores the accepted
//! ones as pending under the session, and one refusal in any request refuses the push. post-receive
//! reports what git actually did with one `record` request, which confirms them. If forged dies
//! in between, it reconciles the pending rows against the real refs when it starts again.

use crate::config::Config;
use crate::exit::{Classify, Code};
use crate::policy::decide::PushNeeds;
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

/// Returns `update` with the facts forged decides on: its kind always, its changed paths and
/// whether it brings merges only where `needs` says forged could read them. A fact left out
/// is sent on the safe side: no paths (refused if a path rule applies after all) and a merge.
pub fn facts(repo: &git2::Repository, needs: PushNeeds, update: ProposedUpdate) -> RefUpdate {
    let (old, new) = (&update.old, &update.new);
    RefUpdate {
        kind: update_facts::classify(repo, old, new),
        paths: if needs.paths {
            update_facts::changed_paths(repo, old, new)
        } else {
            None
        },
        has_merges: !needs.merges || update_facts::has_merges(repo, old, new),
        ref_name: update.ref_name,
        old: update.old,
        new: update.new,
    }
}

/// Runs pre-receive: classifies `updates` (with the facts `push.needs` asks for), asks
/// forged in as many `check_refs` requests as fit the git account's line limit, and refuses
/// the push if any update is refused.
pub fn pre_receive(
    client: &Client,
    push: &PushEnv,
    repo: &git2::Repository,
    updates: Vec<ProposedUpdate>,
) -> Result<(), Error> {
    let classified: Vec<RefUpdate> = updates
        .into_iter()
        .map(|update| facts(repo, push.needs, update))
        .collect();
    let request = |updates| Request::CheckRefs {
        session: push.session.clone(),
        user: push.user.clone(),
        identity: push.identity.clone(),
        repo: push.repo.clone(),
        updates,
    };
    let budget = wire::MAX_SERVICE_REQUEST_BYTES
        .saturating_sub(json_len(&request(Vec::new())) + ENVELOPE_SLACK);
    for batch in batches(classified, budget) {
        let request = request(batch);
        let verdicts = match client.call(&request).map_err(Error::Service)? {
            Response::RefVerdicts { verdicts } => verdicts,
            _ => {
                return Err(Error::Service(client::Error::Unexpected {
                    op: request.op(),
                }));
            }
        };
        let mut refusals: Vec<String> = Vec::new();
        for verdict in verdicts.into_iter().filter(|verdict| !verdict.allowed) {
            // The reason may quote a file name of the push: no byte of it reaches a terminal raw.
            let reason = crate::types::shown::Escaped(&verdict.reason);
            let line = format!("{}: {reason}", verdict.ref_name);
            // An update split over several pieces may be refused by more than one of them.
            if !refusals.contains(&line) {
                refusals.push(line);
            }
        }
        // git refuses the whole push when pre-receive fails, so the batches after a refusal
        // need no answer; what forged stored as pending for earlier ones is dropped when it
        // reconciles, since those refs never move.
        if !refusals.is_empty() {
            return Err(Error::Refused { refusals });
        }
    }
    // Every update was accepted and is pending; git has not moved a ref yet. The push is in
    // flight for forged until post-receive records it.
    crate::fault::point("push.after_pre_receive");
    Ok(())
}

/// Room left in a request line for the version field, the newline and the separators.
const ENVELOPE_SLACK: usize = 64;

/// Returns `updates` in batches whose serialized updates take at most `budget` bytes each, in
/// their order; an update too large for one batch is split into pieces that differ only in
/// their paths.
///
/// Splitting is sound because forged decides an update's paths one by one, each path rule
/// refusing on its own (as gitolite's `VREF/NAME`): the pieces are all allowed exactly when
/// the whole update is, and storing each as pending under the same session and ref stores the
/// same row.
fn batches(updates: Vec<RefUpdate>, budget: usize) -> Vec<Vec<RefUpdate>> {
    let mut batches = Vec::new();
    let mut batch = Vec::new();
    let mut size = 0;
    for piece in updates
        .into_iter()
        .flat_map(|update| pieces(update, budget))
    {
        let len = json_len(&piece) + 1;
        if !batch.is_empty() && size + len > budget {
            batches.push(std::mem::take(&mut batch));
            size = 0;
        }
        size += len;
        batch.push(piece);
    }
    if !batch.is_empty() || batches.is_empty() {
        batches.push(batch);
    }
    batches
}

/// Returns `update` whole if it fits `budget`, else split by its paths into pieces that do.
fn pieces(mut update: RefUpdate, budget: usize) -> Vec<RefUpdate> {
    if json_len(&update) <= budget {
        return vec![update];
    }
    let Some(paths) = update.paths.take() else {
        return vec![update];
    };
    update.paths = Some(Vec::new());
    let base = json_len(&update);
    let piece = |paths| RefUpdate {
        paths: Some(paths),
        ..update.clone()
    };
    let mut pieces = Vec::new();
    let mut part = Vec::new();
    let mut size = base;
    for path in paths {
        let len = json_len(&path) + 1;
        if !part.is_empty() && size + len > budget {
            pieces.push(piece(std::mem::take(&mut part)));
            size = base;
        }
        size += len;
        part.push(path);
    }
    pieces.push(piece(part));
    pieces
}

/// Returns how many bytes `value` takes as JSON, without building the text.
fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        // Cannot happen for these types; a value that would not serialize goes alone.
        Err(_) => usize::MAX / 2,
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
    fn update(name: &str, paths: usize) -> RefUpdate {
        RefUpdate {
            ref_name: crate::policy::RefName::parse(&format!("refs/heads/{name}")).unwrap(),
            old: crate::policy::ObjectId::parse(&"0".repeat(40)).unwrap(),
            new: crate::policy::ObjectId::parse(&"1".repeat(40)).unwrap(),
            kind: crate::policy::UpdateKind::Create,
            paths: Some((0..paths).map(|i| format!("src/file-{i:05}.txt")).collect()),
            has_merges: false,
        }
    }

    /// A repository with a merge `main` over `base`, which adds `b.txt`; returns the repository
    /// and the update `base -> main`.
    fn merged() -> (tempfile::TempDir, git2::Repository, ProposedUpdate) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let line = {
            let signature = git2::Signature::now("t", "t@example.com").unwrap();
            let empty = repo.treebuilder(None).unwrap().write().unwrap();
            let mut builder = repo.treebuilder(None).unwrap();
            builder
                .insert("b.txt", repo.blob(b"b").unwrap(), 0o100644)
                .unwrap();
            let full = builder.write().unwrap();
            let commit = |tree, parents: &[git2::Oid]| {
                let tree = repo.find_tree(tree).unwrap();
                let parents: Vec<git2::Commit<'_>> = parents
                    .iter()
                    .map(|p| repo.find_commit(*p).unwrap())
                    .collect();
                let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
                repo.commit(None, &signature, &signature, "c", &tree, &parents)
                    .unwrap()
            };
            let base = commit(empty, &[]);
            let side = commit(full, &[]);
            let main = commit(full, &[base, side]);
            format!("{base} {main} refs/heads/main")
        };
        let update = ProposedUpdate::parse_line(&line).unwrap();
        (dir, repo, update)
    }

    #[test]
    fn every_fact_is_computed_when_needed_or_not_said() {
        let (_dir, repo, update) = merged();
        let all = facts(&repo, PushNeeds::ALL, update);
        assert_eq!(all.kind, crate::policy::UpdateKind::FastForward);
        assert_eq!(all.paths, Some(vec!["b.txt".to_owned()]));
        assert!(all.has_merges);
        let none_said = crate::shim::push_env::needs_from(None);
        assert_eq!(none_said, PushNeeds::ALL);
    }

    #[test]
    fn facts_not_needed_are_sent_on_the_safe_side() {
        let (_dir, repo, update) = merged();
        let none = PushNeeds {
            paths: false,
            merges: false,
        };
        let sent = facts(&repo, none, update.clone());
        assert_eq!(sent.kind, crate::policy::UpdateKind::FastForward);
        assert_eq!(
            sent.paths, None,
            "no paths: refused should a path rule apply"
        );
        assert!(sent.has_merges, "an unknown merge counts as one");
        let paths_only = PushNeeds {
            paths: true,
            merges: false,
        };
        assert_eq!(
            facts(&repo, paths_only, update).paths,
            Some(vec!["b.txt".to_owned()])
        );
    }

    #[test]
    fn a_large_push_is_sent_in_batches_that_each_fit_and_keep_every_path() {
        let updates: Vec<RefUpdate> = (0..100).map(|i| update(&format!("b{i}"), 5000)).collect();
        let total = json_len(&updates);
        let budget = 1 << 20;
        let sent = batches(updates.clone(), budget);
        assert!(sent.len() > 1 && total > budget, "{} batches", sent.len());
        for batch in &sent {
            assert!(json_len(batch) <= budget, "{}", json_len(batch));
        }
        let flat: Vec<RefUpdate> = sent.into_iter().flatten().collect();
        assert_eq!(flat, updates);
    }

    #[test]
    fn an_update_too_large_for_one_batch_is_split_by_paths() {
        let huge = update("main", 10_000);
        let sent = batches(vec![huge.clone()], 64 << 10);
        assert!(sent.len() > 1);
        let mut paths = Vec::new();
        for batch in &sent {
            assert!(json_len(batch) <= 64 << 10);
            for piece in batch {
                assert_eq!(
                    (&piece.ref_name, &piece.old, &piece.new),
                    (&huge.ref_name, &huge.old, &huge.new)
                );
                paths.extend(piece.paths.clone().unwrap());
            }
        }
        assert_eq!(Some(paths), huge.paths);
    }

    #[test]
    fn a_small_push_is_one_request_and_no_updates_still_ask() {
        assert_eq!(
            batches(vec![update("a", 3), update("b", 3)], 1 << 20).len(),
            1
        );
        assert_eq!(batches(Vec::new(), 1 << 20), vec![Vec::new()]);
    }

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
