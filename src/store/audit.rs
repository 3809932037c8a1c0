//! The `ref_updates` table: the audit log of every ref update, and the pending updates that
//! pre-receive accepted and post-receive (or reconciliation) has not yet confirmed.

use super::{Error, Store, now};
use crate::policy::{ObjectId, RefName, RefUpdate, UpdateKind};
use crate::types::keys::KeyId;
use crate::types::random_id;
use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use rusqlite::{OptionalExtension, params};

/// Who pushed, where, under which session.
#[derive(Debug, Clone, Copy)]
pub struct Pusher<'a> {
    /// The session `check` handed out; `None` for a local push.
    pub session: Option<&'a str>,
    /// The user name, or `local:<uid>`.
    pub user: &'a str,
    /// The key, for a push over SSH with a key.
    pub key: Option<KeyId>,
    /// The name of the CA, for a push over SSH with a certificate.
    pub ca: Option<&'a str>,
    /// The repository.
    pub repo: &'a RepoName,
}

/// An update pre-receive accepted that is not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpdate {
    /// The row.
    pub id: i64,
    /// The repository.
    pub repo: String,
    /// The ref.
    pub ref_name: String,
    /// The id the ref gets if the update happened.
    pub new: String,
    /// When pre-receive accepted it, in unix seconds.
    pub accepted_at: i64,
}

/// How many rows of each kind the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Users.
    pub users: u64,
    /// Keys.
    pub keys: u64,
    /// Repositories.
    pub repos: u64,
    /// Confirmed ref updates.
    pub audit_entries: u64,
    /// Ref updates accepted by pre-receive and not yet confirmed.
    pub pending_updates: u64,
}

/// A ref update git made, as post-receive reports it: it needs no classifying when pre-receive
/// left a pending row for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefChange {
    /// The full ref name.
    pub ref_name: RefName,
    /// The id the ref had.
    pub old: ObjectId,
    /// The id the ref has now.
    pub new: ObjectId,
}

/// One confirmed ref update, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The row's number, increasing with time.
    pub id: i64,
    /// When the update was accepted.
    pub time: Timestamp,
    /// The pushing user, or `local:<uid>` for a local push.
    pub user: String,
    /// The key used, if the push came over SSH with a key.
    pub key: Option<KeyId>,
    /// The CA that signed the certificate used, if the push came with a certificate.
    pub ca: Option<String>,
    /// The repository.
    pub repo: String,
    /// The ref.
    pub ref_name: String,
    /// The id the ref had.
    pub old: String,
    /// The id the ref got.
    pub new: String,
    /// What kind of update it was.
    pub kind: UpdateKind,
    /// The push session.
    pub session: String,
}

/// Returns `session`, or for a local push (none given) a fresh one: `local-` and 128 random
/// bits, so sessions made by forgeds on different hosts never collide.
fn session_or_fresh(session: Option<&str>) -> Result<String, Error> {
    match session {
        Some(session) => Ok(session.to_owned()),
        None => {
            let id = random_id::fresh().map_err(|e| Error::Outside {
                what: "cannot make a session id".into(),
                source: Box::new(e),
            })?;
            Ok(format!("local-{id}"))
        }
    }
}

impl Store {
    /// Stores the accepted `updates` of one push as pending.
    pub fn add_pending(&self, pusher: Pusher<'_>, updates: &[&RefUpdate]) -> Result<String, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let session = session_or_fresh(pusher.session)?;
        {
            let mut insert = transaction.prepare(
                "INSERT INTO ref_updates \
                     (session, user, key_id, ca, repo, ref_name, old, new, kind, state, created_at) \
                 VALUES (?1, ?2, ?3, ?10, ?4, ?5, ?6, ?7, ?8, 'pending', ?9) \
                 ON CONFLICT (session, ref_name) DO UPDATE \
                     SET old = excluded.old, new = excluded.new, kind = excluded.kind \
                     WHERE state = 'pending'",
            )?;
            for update in updates {
                insert.execute(params![
                    session,
                    pusher.user,
                    pusher.key.map(KeyId::get),
                    pusher.repo.as_str(),
                    update.ref_name.as_str(),
                    update.old.as_str(),
                    update.new.as_str(),
                    update.kind.as_str(),
                    now(),
                    pusher.ca,
                ])?;
            }
        }
        super::admin_audit::commit(transaction)?;
        Ok(session)
    }

    /// Records that `changes` happened: confirms their pending rows, idempotently.
    ///
    /// A change with no pending row (reconciliation dropped it while the push was still in
    /// flight, say) is recorded all the same, with the kind `classify` gives it: git made the
    /// change, so the audit log must hold it. Returns how many rows became confirmed.
    ///
    /// Confirming pending rows is not flushed: a power cut that takes it back leaves them
    /// pending, flushed, for the reconciler. A row recorded without one is the only record of
    /// its change, so then the WAL is flushed (a checkpoint) before this returns.
    pub fn confirm(
        &self,
        pusher: Pusher<'_>,
        changes: &[RefChange],
        classify: &dyn Fn(&ObjectId, &ObjectId) -> UpdateKind,
    ) -> Result<usize, Error> {
        let mut connection = self.lock_unflushed();
        let transaction = connection.transaction()?;
        let mut confirmed = 0;
        let mut without_pending = 0;
        for change in changes {
            let updated = transaction.execute(
                "UPDATE ref_updates SET state = 'confirmed', confirmed_at = ?6 \
                 WHERE id = (SELECT id FROM ref_updates \
                             WHERE repo = ?2 AND ref_name = ?3 AND old = ?4 AND new = ?5 \
                               AND state = 'pending' AND (?1 IS NULL OR session = ?1) \
                             ORDER BY id LIMIT 1)",
                params![
                    pusher.session,
                    pusher.repo.as_str(),
                    change.ref_name.as_str(),
                    change.old.as_str(),
                    change.new.as_str(),
                    now()
                ],
            )?;
            if updated > 0 {
                confirmed += updated;
                continue;
            }
            let already = transaction
                .query_row(
                    "SELECT 1 FROM ref_updates WHERE session = ?1 AND ref_name = ?2 \
                       AND new = ?3 AND state = 'confirmed'",
                    params![
                        pusher.session,
                        change.ref_name.as_str(),
                        change.new.as_str()
                    ],
                    |_| Ok(()),
                )
                .optional()?;
            if already.is_some() {
                continue;
            }
            transaction.execute(
                "INSERT INTO ref_updates (session, user, key_id, ca, repo, ref_name, old, \
                     new, kind, state, created_at, confirmed_at) \
                 VALUES (?1, ?2, ?3, ?10, ?4, ?5, ?6, ?7, ?8, 'confirmed', ?9, ?9)",
                params![
                    session_or_fresh(pusher.session)?,
                    pusher.user,
                    pusher.key.map(KeyId::get),
                    pusher.repo.as_str(),
                    change.ref_name.as_str(),
                    change.old.as_str(),
                    change.new.as_str(),
                    classify(&change.old, &change.new).as_str(),
                    now(),
                    pusher.ca,
                ],
            )?;
            confirmed += 1;
            without_pending += 1;
        }
        super::admin_audit::commit(transaction)?;
        if without_pending > 0 {
            // A checkpoint flushes the WAL before it copies it into the database.
            connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(confirmed)
    }

    /// Returns the pending updates accepted at or before `accepted_before` (unix seconds).
    pub fn pending(&self, accepted_before: i64) -> Result<Vec<PendingUpdate>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, repo, ref_name, new, created_at FROM ref_updates \
             WHERE state = 'pending' AND created_at <= ?1 ORDER BY id",
        )?;
        let rows = statement.query_map([accepted_before], |row| {
            Ok(PendingUpdate {
                id: row.get(0)?,
                repo: row.get(1)?,
                ref_name: row.get(2)?,
                new: row.get(3)?,
                accepted_at: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Confirms the pending rows in `happened` and deletes those in `did_not_happen`.
    pub fn resolve_pending(&self, happened: &[i64], did_not_happen: &[i64]) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        for id in happened {
            transaction.execute(
                "UPDATE ref_updates SET state = 'confirmed', confirmed_at = ?2 \
                 WHERE id = ?1 AND state = 'pending'",
                params![id, now()],
            )?;
        }
        for id in did_not_happen {
            transaction.execute(
                "DELETE FROM ref_updates WHERE id = ?1 AND state = 'pending'",
                [id],
            )?;
        }
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Returns the newest confirmed ref updates, filtered by repository and user.
    pub fn audit(
        &self,
        repo: Option<&RepoName>,
        user: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, created_at, user, key_id, repo, ref_name, old, new, kind, session, ca \
             FROM ref_updates \
             WHERE state = 'confirmed' AND (?1 IS NULL OR repo = ?1) AND (?2 IS NULL OR user = ?2) \
             ORDER BY id DESC LIMIT ?3",
        )?;
        let rows =
            statement.query_map(params![repo.map(RepoName::as_str), user, limit], |row| {
                let kind: String = row.get(8)?;
                let time: i64 = row.get(1)?;
                Ok(AuditRecord {
                    id: row.get(0)?,
                    time: Timestamp::from_unix(time).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            1,
                            rusqlite::types::Type::Integer,
                            format!("{time} is not a time forge keeps").into(),
                        )
                    })?,
                    user: row.get(2)?,
                    key: row.get::<_, Option<i64>>(3)?.map(KeyId::new),
                    repo: row.get(4)?,
                    ref_name: row.get(5)?,
                    old: row.get(6)?,
                    new: row.get(7)?,
                    kind: UpdateKind::from_word(&kind).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            8,
                            rusqlite::types::Type::Text,
                            format!("'{kind}' is not an update kind").into(),
                        )
                    })?,
                    session: row.get(9)?,
                    ca: row.get(10)?,
                })
            })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Returns how much the store holds, for `forgectl status`.
    pub fn counts(&self) -> Result<Counts, Error> {
        let connection = self.lock();
        let count = |sql: &str| -> Result<u64, Error> {
            Ok(connection.query_row(sql, [], |row| row.get::<_, i64>(0))? as u64)
        };
        Ok(Counts {
            users: count("SELECT count(*) FROM users")?,
            keys: count("SELECT count(*) FROM keys")?,
            repos: count("SELECT count(*) FROM repos")?,
            audit_entries: count("SELECT count(*) FROM ref_updates WHERE state = 'confirmed'")?,
            pending_updates: count("SELECT count(*) FROM ref_updates WHERE state = 'pending'")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: &str = "0000000000000000000000000000000000000000";
    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn update(ref_name: &str, old: &str, new: &str, kind: UpdateKind) -> RefUpdate {
        RefUpdate {
            ref_name: RefName::parse(ref_name).unwrap(),
            old: ObjectId::parse(old).unwrap(),
            new: ObjectId::parse(new).unwrap(),
            kind,
            paths: None,
            has_merges: false,
        }
    }

    fn change(update: &RefUpdate) -> RefChange {
        RefChange {
            ref_name: update.ref_name.clone(),
            old: update.old.clone(),
            new: update.new.clone(),
        }
    }

    fn no_classifying(_: &ObjectId, _: &ObjectId) -> UpdateKind {
        panic!("a pending row existed, so nothing needed classifying")
    }

    fn pusher<'a>(session: Option<&'a str>, repo: &'a RepoName) -> Pusher<'a> {
        Pusher {
            session,
            user: "alice",
            key: Some(KeyId::new(3)),
            ca: None,
            repo,
        }
    }

    #[test]
    fn a_certificate_push_is_audited_with_its_ca() {
        let store = Store::open_in_memory().unwrap();
        let repo = RepoName::parse("acme/widgets").unwrap();
        let main = update("refs/heads/main", ZERO, A, UpdateKind::Create);
        let by_certificate = Pusher {
            key: None,
            ca: Some("corp"),
            ..pusher(Some("s1"), &repo)
        };
        store.add_pending(by_certificate, &[&main]).unwrap();
        store
            .confirm(by_certificate, &[change(&main)], &no_classifying)
            .unwrap();
        let entries = store.audit(None, None, 10).unwrap();
        assert_eq!(
            (entries[0].key, entries[0].ca.as_deref()),
            (None, Some("corp"))
        );
    }

    #[test]
    fn pending_updates_are_invisible_until_confirmed() {
        let store = Store::open_in_memory().unwrap();
        let repo = RepoName::parse("acme/widgets").unwrap();
        let main = update("refs/heads/main", ZERO, A, UpdateKind::Create);
        store
            .add_pending(pusher(Some("s1"), &repo), &[&main])
            .unwrap();
        assert!(store.audit(None, None, 10).unwrap().is_empty());
        assert_eq!(store.counts().unwrap().pending_updates, 1);

        let confirmed = store
            .confirm(pusher(Some("s1"), &repo), &[change(&main)], &no_classifying)
            .unwrap();
        assert_eq!(confirmed, 1);
        let entries = store.audit(None, None, 10).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].old.as_str(), entries[0].new.as_str()),
            (ZERO, A)
        );
        assert_eq!(entries[0].kind, UpdateKind::Create);
        assert_eq!(entries[0].key, Some(KeyId::new(3)));
    }

    #[test]
    fn confirming_twice_records_once() {
        let store = Store::open_in_memory().unwrap();
        let repo = RepoName::parse("acme/widgets").unwrap();
        let main = update("refs/heads/main", A, B, UpdateKind::FastForward);
        store
            .add_pending(pusher(Some("s1"), &repo), &[&main])
            .unwrap();
        for _ in 0..2 {
            store
                .confirm(pusher(Some("s1"), &repo), &[change(&main)], &no_classifying)
                .unwrap();
        }
        assert_eq!(store.audit(None, None, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_change_without_a_pending_row_is_still_recorded() {
        let store = Store::open_in_memory().unwrap();
        let repo = RepoName::parse("acme/widgets").unwrap();
        let main = update("refs/heads/main", A, B, UpdateKind::NonFastForward);
        store
            .confirm(pusher(Some("s9"), &repo), &[change(&main)], &|_, _| {
                UpdateKind::NonFastForward
            })
            .unwrap();
        let entries = store.audit(Some(&repo), Some("alice"), 10).unwrap();
        assert_eq!(entries[0].kind, UpdateKind::NonFastForward);
    }

    #[test]
    fn local_pushes_get_a_fresh_session_and_confirm_by_content() {
        let store = Store::open_in_memory().unwrap();
        let repo = RepoName::parse("local").unwrap();
        let main = update("refs/heads/main", ZERO, A, UpdateKind::Create);
        let session = store.add_pending(pusher(None, &repo), &[&main]).unwrap();
        assert!(session.starts_with("local-"), "{session}");
        store
            .confirm(pusher(None, &repo), &[change(&main)], &no_classifying)
            .unwrap();
        assert_eq!(store.audit(None, None, 10).unwrap()[0].session, session);
    }

    #[test]
    fn resolving_confirms_some_and_drops_the_rest() {
        let store = Store::open_in_memory().unwrap();
        let repo = RepoName::parse("acme/widgets").unwrap();
        let main = update("refs/heads/main", ZERO, A, UpdateKind::Create);
        let topic = update("refs/heads/topic", ZERO, B, UpdateKind::Create);
        store
            .add_pending(pusher(Some("s1"), &repo), &[&main, &topic])
            .unwrap();
        let pending = store.pending(i64::MAX).unwrap();
        assert_eq!(pending.len(), 2);
        store
            .resolve_pending(&[pending[0].id], &[pending[1].id])
            .unwrap();
        let entries = store.audit(None, None, 10).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].ref_name, "refs/heads/main");
        assert!(store.pending(i64::MAX).unwrap().is_empty());
    }
}
