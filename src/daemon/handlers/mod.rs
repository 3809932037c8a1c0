//! One `match` that sends each request to its handler, after one check that the caller may ask
//! it at all, so a new op cannot skip that check.

mod admin;
mod answer;
mod cas;
mod creation;
mod denied;
mod hook;
mod listing;
mod maintenance;
mod policy;
mod shell;
#[cfg(test)]
mod tests;

use crate::daemon::peer::Caller;
use crate::daemon::state::Daemon;
use crate::daemon::throttle::{LOG_EVERY, Throttle};
use crate::store::AdminAction;
use crate::wire::{ErrorKind, Request, Response};

static FORBIDDEN: Throttle = Throttle::new(LOG_EVERY);

/// Answers `request` from `caller`; `id` names the request in the log and in error answers.
pub(super) fn handle(daemon: &Daemon, caller: &Caller, request: Request, id: &str) -> Response {
    let span = tracing::info_span!("request", request = %id, op = request.op());
    let _entered = span.enter();
    let role = daemon.roles.role_of(caller);
    if role < Some(request.required_role()) {
        // Any local account can ask in a loop: one line per interval, not one per request.
        if let Some(left_out) = FORBIDDEN.allow() {
            tracing::warn!(
                peer_uid = caller.uid,
                left_out,
                "caller may not ask this; refused"
            );
        }
        return Response::Error {
            kind: ErrorKind::Forbidden,
            message: format!(
                "account uid {} may not ask '{}'; run as root, the git account or a forge admin",
                caller.uid,
                request.op()
            ),
            request: id.to_owned(),
        };
    }
    // Every change of state is audited here, for every op that says it changes one: its row
    // commits with the change (or, refused, on its own), so no handler can leave it out.
    let audit = request.changes().map(|kind| {
        daemon.store.audit_scope(AdminAction {
            peer_uid: caller.uid,
            peer_name: caller.name(),
            op: request.op().to_owned(),
            kind: kind.name(),
            args: request.audited_args(),
        })
    });
    // The maintenance gate: a change is refused while maintenance is on, or waits out a
    // backup's pause; the refusal is audited like any other.
    let outcome = match request.is_change() {
        true => maintenance::admit(daemon).and_then(|()| dispatch(daemon, caller, request)),
        false => dispatch(daemon, caller, request),
    };
    if let Some(audit) = audit {
        let result = outcome.as_ref().map(|_| ()).map_err(|f| f.message.as_str());
        if let Err(e) = audit.finish(result) {
            tracing::error!(error = %crate::exit::one_line(e), "cannot record the admin audit row");
        }
    }
    outcome.unwrap_or_else(|failure| {
        match failure.kind {
            ErrorKind::Internal => {
                tracing::error!(error = %crate::types::shown::Escaped(&failure.message), "request failed")
            }
            ErrorKind::Denied => {}
            _ => tracing::info!(reason = %crate::types::shown::Escaped(&failure.message), "request refused"),
        }
        Response::Error {
            kind: failure.kind,
            message: failure.message,
            request: id.to_owned(),
        }
    })
}

/// Sends `request` to its handler.
fn dispatch(daemon: &Daemon, caller: &Caller, request: Request) -> answer::Handled {
    match request {
        Request::Check {
            identity,
            repo,
            access,
        } => shell::check(daemon, caller, identity, repo, access),
        Request::Whoami { identity } => shell::whoami(daemon, identity),
        Request::Info { identity } => shell::info(daemon, identity),
        Request::CheckRefs {
            session,
            user,
            identity,
            repo,
            updates,
        } => hook::check_refs(daemon, caller, session, user, identity, repo, updates),
        Request::Record {
            session,
            user,
            identity,
            repo,
            updates,
        } => hook::record(daemon, caller, session, user, identity, repo, updates),
        Request::UserAdd { user } => admin::user_add(daemon, user),
        Request::UserList => admin::user_list(daemon),
        Request::UserRemove { user } => admin::user_remove(daemon, user),
        Request::KeyAdd {
            user,
            key,
            title,
            expires,
        } => admin::key_add(daemon, user, &key, title, expires),
        Request::KeyList { user, unused_since } => admin::key_list(daemon, user, unused_since),
        Request::KeyRemove { key } => admin::key_remove(daemon, key),
        Request::RepoCreate {
            repo,
            description,
            public,
            creator,
        } => admin::repo_create(daemon, repo, &description, public, creator),
        Request::RepoList => admin::repo_list(daemon),
        Request::RepoRemove { repo } => admin::repo_remove(daemon, repo),
        Request::Grant { repo, user, access } => admin::grant(daemon, repo, user, access),
        Request::Revoke { repo, user } => admin::revoke(daemon, repo, user),
        Request::Access {
            user,
            repo,
            need,
            reference,
        } => policy::access(daemon, user, repo, &need, reference),
        Request::Create { identity, repo } => policy::create(daemon, identity, repo),
        Request::Perms {
            identity,
            repo,
            change,
        } => policy::perms(daemon, identity, repo, change),
        Request::RepoPerms { repo, change } => policy::roles(daemon, repo, change),
        Request::PolicyExport => policy::export(daemon),
        Request::PolicyApply { document, dry_run } => policy::apply(daemon, document, dry_run),
        Request::PrependRules { rules } => policy::prepend(daemon, rules),
        Request::Unprotect { repo, branch } => policy::unprotect(daemon, &repo, branch.as_deref()),
        Request::Import {
            users,
            keys,
            repos,
            document,
            dry_run,
            replace,
        } => policy::import(
            daemon,
            users,
            keys,
            repos,
            document,
            policy::Replace { dry_run, replace },
        ),
        Request::Audit { repo, user, limit } => admin::audit(daemon, repo, user, limit),
        Request::Status => admin::status(daemon),
        Request::AuthorizedKeys => admin::authorized_keys(daemon),
        Request::KeyLookup {
            login,
            key_type,
            key,
        } => shell::key_lookup(daemon, &login, &key_type, &key),
        Request::CaAdd { name, key } => cas::ca_add(daemon, name, &key),
        Request::CaList => cas::ca_list(daemon),
        Request::CaRemove { name } => cas::ca_remove(daemon, name),
        Request::PrincipalMap { principal, user } => cas::principal_map(daemon, principal, user),
        Request::PrincipalUnmap { principal } => cas::principal_unmap(daemon, principal),
        Request::PrincipalList => cas::principal_list(daemon),
        Request::PrincipalsLookup {
            login,
            key_type,
            key,
        } => cas::principals_lookup(daemon, &login, &key_type, &key),
        Request::AdminAudit { since, limit } => admin::admin_audit(daemon, since, limit),
        Request::DeniedAudit { since, limit } => admin::denied_audit(daemon, since, limit),
        Request::RepoRestore { repo, from } => admin::repo_restore(daemon, repo, from),
        Request::MaintenanceOn { message } => maintenance::on(daemon, caller, message),
        Request::MaintenanceOff => maintenance::off(daemon, caller),
        Request::MaintenanceStatus => maintenance::status(daemon),
        Request::MaintenanceWait { timeout_seconds } => maintenance::wait(daemon, timeout_seconds),
        Request::PauseWrites {
            lease_seconds,
            wait_seconds,
        } => maintenance::pause(daemon, lease_seconds, wait_seconds),
        Request::ResumeWrites { token } => maintenance::resume(daemon, &token),
        Request::DbSnapshot { token } => maintenance::snapshot(daemon, token.as_deref()),
        Request::DbSnapshotRead { snapshot, offset } => {
            maintenance::read(daemon, &snapshot, offset)
        }
        Request::DbSnapshotDrop { snapshot } => maintenance::drop(daemon, &snapshot),
    }
}
