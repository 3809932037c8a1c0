//! Recording denied access attempts, through the rate limit of [`crate::daemon::denials`]:
//! who, with which key or CA, what repository and access, and where the rule that denied came
//! from. A failure to record is logged and changes no answer: the attempt is denied anyway.

use crate::daemon::state::Daemon;
use crate::store::DeniedAttempt;
use crate::types::identity::Identity;
use crate::types::repo_name::RepoName;

/// An attempt to record: the identity used and what it asked.
pub(super) struct Attempt<'a> {
    /// The identity, when there is one (a local push has none).
    pub(super) identity: Option<&'a Identity>,
    /// The user behind it; empty when none is (an unknown key).
    pub(super) user: &'a str,
    /// The CA's name, for a certificate whose CA is registered.
    pub(super) ca: Option<&'a str>,
    /// The repository.
    pub(super) repo: &'a RepoName,
    /// The access asked for.
    pub(super) access: String,
    /// What denied it.
    pub(super) rule: String,
}

/// Records `attempt` unless the rate limit leaves it out.
pub(super) fn record(daemon: &Daemon, attempt: Attempt<'_>) {
    let who = match attempt.identity {
        Some(identity) => identity.to_string(),
        None => attempt.user.to_owned(),
    };
    let now = crate::types::timestamp::Timestamp::now().unix();
    let Some(left_out) = daemon.denials.admit(&who, now) else {
        return;
    };
    let user = if attempt.user.is_empty() {
        format!("({who})")
    } else {
        attempt.user.to_owned()
    };
    let row = DeniedAttempt {
        user,
        key: attempt
            .identity
            .and_then(Identity::key)
            .map(|key| key.get()),
        ca: attempt.ca.map(str::to_owned),
        repo: attempt.repo.to_string(),
        access: attempt.access,
        rule: attempt.rule,
        left_out,
    };
    if let Err(e) = daemon.store.add_denied(&row) {
        tracing::warn!(error = %crate::exit::one_line(e), "cannot record a denied attempt; going on");
    }
}
