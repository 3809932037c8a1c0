//! SSH user certificates: the CAs admins register and the principals they map
//! (`forgectl ca`, `forgectl principal`), and the `authorized_principals` lines `forge-keys
//! --principals` asks for at each certificate login.

use super::answer::{Failure, Handled};
use super::listing;
use crate::daemon::state::Daemon;
use crate::store;
use crate::types::certs::{CaName, Presented, Principal};
use crate::types::identity::Identity;
use crate::types::keys::PublicKey;
use crate::types::sshd_line;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use crate::wire::Response;

pub(super) fn ca_add(daemon: &Daemon, name: CaName, text: &str) -> Handled {
    let key = PublicKey::parse_authorized(text)
        .map_err(|e| Failure::refused(format!("cannot add CA '{name}': {e}")))?;
    let info = daemon.store.add_ca(&name, &key).map_err(|e| match e {
        store::Error::AlreadyExists { what } => Failure::refused(format!(
            "cannot add CA '{name}': {what} already exists; remove it first"
        )),
        other => other.into(),
    })?;
    tracing::info!(ca = %info.name, fingerprint = %info.fingerprint, "user CA added");
    Ok(Response::Cas {
        cas: vec![listing::ca(info)],
    })
}

pub(super) fn ca_list(daemon: &Daemon) -> Handled {
    Ok(Response::Cas {
        cas: daemon
            .store
            .list_cas()?
            .into_iter()
            .map(listing::ca)
            .collect(),
    })
}

pub(super) fn ca_remove(daemon: &Daemon, name: CaName) -> Handled {
    let info = daemon.store.remove_ca(&name)?;
    tracing::info!(ca = %info.name, fingerprint = %info.fingerprint, "user CA removed; its certificates are refused");
    Ok(Response::Cas {
        cas: vec![listing::ca(info)],
    })
}

pub(super) fn principal_map(daemon: &Daemon, principal: Principal, user: UserName) -> Handled {
    daemon
        .store
        .map_principal(&principal, &user)
        .map_err(|e| match e {
            store::Error::AlreadyExists { what } => {
                Failure::refused(format!("{what} already exists; unmap it first"))
            }
            other => other.into(),
        })?;
    tracing::info!(principal = %crate::types::shown::Escaped(principal.as_str()), user = %user, "principal mapped");
    Ok(Response::Done)
}

pub(super) fn principal_unmap(daemon: &Daemon, principal: Principal) -> Handled {
    let user = daemon.store.unmap_principal(&principal)?;
    tracing::info!(principal = %crate::types::shown::Escaped(principal.as_str()), user = %user, "principal unmapped");
    Ok(Response::Done)
}

pub(super) fn principal_list(daemon: &Daemon) -> Handled {
    Ok(Response::Principals {
        principals: daemon
            .store
            .list_principals()?
            .into_iter()
            .map(listing::principal)
            .collect(),
    })
}

/// `principals_lookup`: the `authorized_principals` line of the one user a certificate's
/// principals resolve to; none when they resolve to several users, and none unless the login is the git account and the certificate is a user
/// certificate, valid now, signed by a registered CA.
pub(super) fn principals_lookup(
    daemon: &Daemon,
    login: &str,
    key_type: &str,
    key: &str,
) -> Handled {
    let none = || Ok(Response::AuthorizedPrincipals { lines: Vec::new() });
    if login != daemon.config.git_user {
        return none();
    }
    let presented = match Presented::parse(key_type, key) {
        Ok(presented) => presented,
        Err(e) => {
            tracing::info!(login = %crate::types::shown::Escaped(login), reason = %e, "presented certificate does not parse; no line");
            return none();
        }
    };
    if let Err(e) = presented.check_at(Timestamp::now().unix().max(0) as u64) {
        tracing::info!(ca_fingerprint = %presented.signing_ca(), reason = %e, "certificate refused; no line");
        return none();
    }
    let Some((ca, ca_name)) = daemon.store.ca_by_fingerprint(presented.signing_ca())? else {
        tracing::info!(ca_fingerprint = %presented.signing_ca(), "certificate signed by an unregistered CA; no line");
        return none();
    };
    let principals: Vec<Principal> = presented
        .principals()
        .iter()
        .filter_map(|text| Principal::parse(text).ok())
        .collect();
    let mut resolved = daemon.store.users_for_principals(&principals)?;
    // sshd logs in with the first line that matches, so a certificate of several users would
    // silently be the first of them: refuse it, and say so (#11). Several principals of one
    // user give one line.
    let mut users: Vec<String> = resolved.iter().map(|(_, user)| user.to_string()).collect();
    users.sort();
    users.dedup();
    if users.len() > 1 {
        tracing::warn!(ca = %ca_name, users = %users.join(","), "the certificate's principals are several users; no line");
        return none();
    }
    resolved.truncate(1);
    let config = &daemon.config;
    let lines: Vec<String> = resolved
        .into_iter()
        .map(|(principal, user)| {
            tracing::info!(ca = %ca_name, principal = %crate::types::shown::Escaped(principal.as_str()), user = %user, "certificate principal known; forced command given");
            sshd_line::authorized_principals_line(
                &config.forge_shell,
                config.path_for_forced_command(),
                &Identity::Certificate { ca, user },
                &principal,
            )
        })
        .collect();
    if lines.is_empty() {
        tracing::info!(ca = %ca_name, principals = presented.principals().len(), "no principal of the certificate is known; no line");
    }
    Ok(Response::AuthorizedPrincipals { lines })
}
