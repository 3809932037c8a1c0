//! The `sessions` table: the write sessions `check` hands out, which pre- and post-receive
//! must quote back. A session is a capability: it exists only because forged granted that
//! user, with that identity, write access to that repository, and only until it expires.
//!
//! Times are given by the caller (unix seconds), so tests can move the clock. Expired rows are
//! pruned each time a session is issued; pending ref updates keep the session id as text and
//! the reconciler needs nothing from this table, so pruning never loses a push.

use super::{Error, Store, parse_stored, stored_instant};
use crate::policy::Access;
use crate::types::identity::Identity;
use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use rusqlite::{OptionalExtension, params};

/// A session forged issued at `check`, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session id the hooks quote back.
    pub id: String,
    /// The user it was issued to.
    pub user: UserName,
    /// The identity the user logged in with.
    pub identity: Identity,
    /// The repository it is for.
    pub repo: RepoName,
    /// The access granted.
    pub access: Access,
    /// When it was issued.
    pub issued: Timestamp,
    /// When it stops being accepted.
    pub expires: Timestamp,
}

impl Store {
    /// Stores `session`, and deletes every session that expired at or before its issue time.
    ///
    /// Not flushed: a session a power cut takes back refuses its push, which is pushed again.
    pub fn issue_session(&self, session: &SessionRecord) -> Result<(), Error> {
        let mut connection = self.lock_unflushed();
        let transaction = connection.transaction()?;
        transaction.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            [session.issued.unix()],
        )?;
        transaction.execute(
            "INSERT INTO sessions (id, user, identity, repo, access, issued_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                session.id,
                session.user.as_str(),
                session.identity.to_string(),
                session.repo.as_str(),
                session.access.as_str(),
                session.issued.unix(),
                session.expires.unix(),
            ],
        )?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Returns the session `id` if it exists and is still open at `now` (unix seconds).
    pub fn open_session(&self, id: &str, now: i64) -> Result<Option<SessionRecord>, Error> {
        let connection = self.lock();
        let row = connection
            .query_row(
                "SELECT user, identity, repo, access, issued_at, expires_at FROM sessions \
                 WHERE id = ?1 AND expires_at > ?2",
                params![id, now],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((user, identity, repo, access, issued, expires)) = row else {
            return Ok(None);
        };
        Ok(Some(SessionRecord {
            id: id.to_owned(),
            user: parse_stored("session user", user, UserName::parse)?,
            identity: parse_stored("session identity", identity, Identity::parse_arg)?,
            repo: parse_stored("session repository", repo, RepoName::parse)?,
            access: parse_stored("session access", access, Access::parse)?,
            issued: stored_instant("session issue time", issued)?,
            expires: stored_instant("session expiry", expires)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::keys::KeyId;

    fn session(id: &str, issued: i64, expires: i64) -> SessionRecord {
        SessionRecord {
            id: id.to_owned(),
            user: UserName::parse("alice").unwrap(),
            identity: Identity::Key(KeyId::new(17)),
            repo: RepoName::parse("acme/widgets").unwrap(),
            access: Access::Write,
            issued: Timestamp::from_unix(issued).unwrap(),
            expires: Timestamp::from_unix(expires).unwrap(),
        }
    }

    #[test]
    fn a_session_is_open_until_it_expires() {
        let store = Store::open_in_memory().unwrap();
        let issued = session("s1", 1_000, 4_600);
        store.issue_session(&issued).unwrap();
        assert_eq!(store.open_session("s1", 1_000).unwrap(), Some(issued));
        assert!(store.open_session("s1", 4_599).unwrap().is_some());
        assert_eq!(store.open_session("s1", 4_600).unwrap(), None);
        assert_eq!(store.open_session("unknown", 1_000).unwrap(), None);
    }

    #[test]
    fn a_certificate_session_keeps_its_identity() {
        let store = Store::open_in_memory().unwrap();
        let mut issued = session("s1", 1_000, 2_000);
        issued.identity = Identity::parse_arg("cert-3:alice").unwrap();
        store.issue_session(&issued).unwrap();
        assert_eq!(store.open_session("s1", 1_500).unwrap(), Some(issued));
    }

    #[test]
    fn issuing_prunes_expired_sessions() {
        let store = Store::open_in_memory().unwrap();
        store.issue_session(&session("old", 1_000, 2_000)).unwrap();
        store.issue_session(&session("new", 2_000, 3_000)).unwrap();
        // Even a clock turned back does not bring a pruned session back.
        assert_eq!(store.open_session("old", 1_500).unwrap(), None);
        assert!(store.open_session("new", 2_500).unwrap().is_some());
    }

    #[test]
    fn a_session_id_is_issued_once() {
        let store = Store::open_in_memory().unwrap();
        store.issue_session(&session("s1", 1_000, 2_000)).unwrap();
        assert!(store.issue_session(&session("s1", 1_000, 2_000)).is_err());
    }
}
