//! Who may hold how many connections: a cap per peer uid that depends on its role, a cap on
//! all the accounts with no role together, and a global cap kept below the file limit, so no
//! account can take the connections (or the file descriptors) another one needs.

use crate::wire::Role;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The most connections forged serves at once, whatever its file limit.
const MAX_CONNECTIONS: usize = 4096;

/// The file descriptors kept free of connections: the database and its journal, repositories
/// a handler opens, the log; plus a share of the limit.
const FD_RESERVE: usize = 64;

/// The most connections one account with no role may hold. It may ask nothing, so it needs
/// only enough to be told so.
const PER_STRANGER: usize = 8;

/// The most connections all accounts with no role may hold together, so that many of them
/// cannot fill the global cap either.
const ALL_STRANGERS: usize = 64;

/// The most connections the keys account may hold: sshd runs forge-keys once per key offered,
/// and by default (`MaxStartups`) lets at most 100 logins authenticate at once.
const PER_KEY_LOOKUP: usize = 128;

/// The most connections the git account may hold: every clone, fetch and push asks once from
/// forge-shell and once or twice from forge-hook, each briefly.
const PER_SERVICE: usize = 1024;

/// The most connections one admin account may hold.
const PER_ADMIN: usize = 64;

/// Returns the most connections one account with `role` may hold at once.
pub(super) fn per_uid_cap(role: Option<Role>) -> usize {
    match role {
        None => PER_STRANGER,
        Some(Role::KeyLookup) => PER_KEY_LOOKUP,
        Some(Role::Service) => PER_SERVICE,
        Some(Role::Admin) => PER_ADMIN,
    }
}

/// Returns the global cap for a soft file limit of `nofile`: below it by a reserve, so that
/// accepting never fails for want of a descriptor while the caps hold.
pub(super) fn global_cap(nofile: u64) -> usize {
    let nofile = usize::try_from(nofile).unwrap_or(usize::MAX);
    let reserve = FD_RESERVE + nofile / 8;
    nofile.saturating_sub(reserve).clamp(1, MAX_CONNECTIONS)
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Its account holds as many connections as its role may.
    Account {
        /// That account's cap.
        cap: usize,
    },
    /// The accounts with no role hold as many as they may together.
    Strangers {
        /// Their cap.
        cap: usize,
    },
    /// forged serves as many connections as it may.
    Global {
        /// The global cap.
        cap: usize,
    },
}

impl Refusal {
    /// Returns which cap was reached, for the log.
    pub(super) fn cap_name(&self) -> &'static str {
        match self {
            Refusal::Account { .. } => "account",
            Refusal::Strangers { .. } => "accounts without a role",
            Refusal::Global { .. } => "global",
        }
    }

    /// Returns the cap that was reached.
    pub(super) fn cap(&self) -> usize {
        match self {
            Refusal::Account { cap } | Refusal::Strangers { cap } | Refusal::Global { cap } => *cap,
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    strangers: usize,
    by_uid: HashMap<u32, usize>,
}

/// The open connections, counted per uid, per the class of no role, and in all.
#[derive(Debug)]
pub(super) struct Admission {
    global: usize,
    counts: Mutex<Counts>,
}

/// One admitted connection; dropping it gives its place back.
#[derive(Debug)]
pub(super) struct Ticket {
    admission: Arc<Admission>,
    uid: u32,
    stranger: bool,
}

impl Admission {
    /// Returns an admission that serves at most `global` connections at once.
    pub(super) fn new(global: usize) -> Arc<Admission> {
        Arc::new(Admission {
            global,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Returns a ticket for one more connection from `uid` with `role`, or which cap it would
    /// exceed.
    pub(super) fn admit(self: &Arc<Self>, uid: u32, role: Option<Role>) -> Result<Ticket, Refusal> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        // No one account may take more than half of all connections, whatever its role.
        let cap = per_uid_cap(role).min((self.global / 2).max(1));
        let held = counts.by_uid.get(&uid).copied().unwrap_or(0);
        if held >= cap {
            return Err(Refusal::Account { cap });
        }
        let stranger = role.is_none();
        if stranger && counts.strangers >= ALL_STRANGERS {
            return Err(Refusal::Strangers { cap: ALL_STRANGERS });
        }
        if counts.total >= self.global {
            return Err(Refusal::Global { cap: self.global });
        }
        counts.total += 1;
        counts.strangers += usize::from(stranger);
        *counts.by_uid.entry(uid).or_insert(0) += 1;
        Ok(Ticket {
            admission: Arc::clone(self),
            uid,
            stranger,
        })
    }

    /// Returns how many connections are open.
    pub(super) fn open(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counts = self
            .admission
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if self.stranger {
            counts.strangers = counts.strangers.saturating_sub(1);
        }
        if let Some(held) = counts.by_uid.get_mut(&self.uid) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                // An account that holds nothing takes no room: the map stays as small as the
                // set of accounts connected right now.
                counts.by_uid.remove(&self.uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_with_no_role_is_capped_and_others_still_get_in() {
        let admission = Admission::new(1000);
        let held: Vec<Ticket> = (0..PER_STRANGER)
            .map(|_| admission.admit(65534, None).unwrap())
            .collect();
        assert_eq!(
            admission.admit(65534, None).unwrap_err(),
            Refusal::Account { cap: PER_STRANGER }
        );
        assert!(admission.admit(65533, None).is_ok());
        assert!(admission.admit(998, Some(Role::Service)).is_ok());
        assert!(admission.admit(997, Some(Role::KeyLookup)).is_ok());
        assert!(admission.admit(0, Some(Role::Admin)).is_ok());
        drop(held);
        assert!(admission.admit(65534, None).is_ok());
    }

    #[test]
    fn the_git_account_is_counted_apart_from_everyone_else() {
        let admission = Admission::new(10_000);
        let git: Vec<Ticket> = (0..PER_SERVICE)
            .map(|_| admission.admit(998, Some(Role::Service)).unwrap())
            .collect();
        assert!(matches!(
            admission.admit(998, Some(Role::Service)),
            Err(Refusal::Account { .. })
        ));
        assert!(admission.admit(0, Some(Role::Admin)).is_ok());
        assert!(admission.admit(1000, None).is_ok());
        assert_eq!(git.len(), PER_SERVICE);
    }

    #[test]
    fn many_accounts_with_no_role_cannot_fill_the_global_cap() {
        let admission = Admission::new(ALL_STRANGERS * 2);
        let strangers: Vec<Ticket> = (0..ALL_STRANGERS as u32)
            .map(|uid| admission.admit(10_000 + uid, None).unwrap())
            .collect();
        assert_eq!(
            admission.admit(20_000, None).unwrap_err(),
            Refusal::Strangers { cap: ALL_STRANGERS }
        );
        let git: Vec<Ticket> = (0..ALL_STRANGERS)
            .map(|_| admission.admit(998, Some(Role::Service)).unwrap())
            .collect();
        assert_eq!(
            admission.admit(0, Some(Role::Admin)).unwrap_err(),
            Refusal::Global {
                cap: ALL_STRANGERS * 2
            }
        );
        assert_eq!(admission.open(), strangers.len() + git.len());
    }

    #[test]
    fn no_account_takes_more_than_half_of_a_small_global_cap() {
        let admission = Admission::new(100);
        let git: Vec<Ticket> = (0..50)
            .map(|_| admission.admit(998, Some(Role::Service)).unwrap())
            .collect();
        assert_eq!(
            admission.admit(998, Some(Role::Service)).unwrap_err(),
            Refusal::Account { cap: 50 }
        );
        assert!(admission.admit(0, Some(Role::Admin)).is_ok());
        assert_eq!(git.len(), 50);
    }

    #[test]
    fn tickets_give_their_place_back_and_leave_no_entry() {
        let admission = Admission::new(10);
        let tickets: Vec<Ticket> = (0..10)
            .map(|uid| admission.admit(uid, Some(Role::Admin)).unwrap())
            .collect();
        assert!(matches!(
            admission.admit(99, Some(Role::Admin)),
            Err(Refusal::Global { cap: 10 })
        ));
        drop(tickets);
        assert_eq!(admission.open(), 0);
        let counts = admission.counts.lock().unwrap();
        assert!(counts.by_uid.is_empty());
        assert_eq!(counts.strangers, 0);
    }

    #[test]
    fn the_global_cap_stays_below_the_file_limit() {
        for nofile in [16, 64, 256, 1024, 20_000, 65_536, u64::MAX] {
            let cap = global_cap(nofile);
            assert!(cap >= 1);
            assert!(cap <= MAX_CONNECTIONS);
            if nofile > 128 {
                assert!((cap as u64) < nofile - 64, "{nofile}: {cap}");
            }
        }
        assert_eq!(global_cap(65_536), MAX_CONNECTIONS);
        assert_eq!(global_cap(1024), 1024 - 64 - 128);
    }
}
