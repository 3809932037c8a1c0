//! The `admin_audit` table: every change of state an admin (or a user, through `create` and
//! `perms`) asked for, who asked, what, the result and when; and the `denied_attempts` table:
//! access that was refused, and which rule refused it.
//!
//! A change and its audit row commit together: forged enters an [`AuditScope`] for the
//! request, and every write transaction of the store commits through [`commit`], which adds
//! the scope's row to the first transaction that changes something. A request that changed
//! nothing (it was refused, or had nothing to do) gets its row in a transaction of its own
//! when the scope finishes. Requests are served one per thread, so the scope is the thread's.

use super::{Error, Store, now, stored_instant};
use crate::types::timestamp::Timestamp;
use rusqlite::{Transaction, params};
use std::cell::RefCell;

/// Who asked for a change of state, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAction {
    /// The peer's uid, from `SO_PEERCRED`.
    pub peer_uid: u32,
    /// The name of that uid in forged's user database; empty when it has none.
    pub peer_name: String,
    /// The op, as written on the wire.
    pub op: String,
    /// What kind of state it changes (`user`, `key`, `repository`, ...).
    pub kind: String,
    /// The op's arguments as JSON, secrets left out.
    pub args: String,
}

/// One admin audit row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAuditRecord {
    /// The row's number, increasing with time.
    pub id: i64,
    /// When it was asked.
    pub time: Timestamp,
    /// What was asked, and by whom.
    pub action: AdminAction,
    /// `ok`, or the refusal line.
    pub result: String,
}

/// An access that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedAttempt {
    /// The user behind the identity, or what the identity was when it has none.
    pub user: String,
    /// The key id, for a key.
    pub key: Option<i64>,
    /// The CA's name, for a certificate.
    pub ca: Option<String>,
    /// The repository asked for.
    pub repo: String,
    /// The access asked for (`read`, `write`, or a ref update's need).
    pub access: String,
    /// Where the rule that denied it came from, or why nothing allowed it.
    pub rule: String,
    /// How many attempts the rate limit left out before this one.
    pub left_out: i64,
}

/// One denied attempt, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedRecord {
    /// The row's number, increasing with time.
    pub id: i64,
    /// When it was denied.
    pub time: Timestamp,
    /// What was denied.
    pub attempt: DeniedAttempt,
}

/// The result stored for a change that committed.
pub const OK: &str = "ok";

struct Current {
    action: AdminAction,
    written: bool,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// The audit of one request while it is served; see the module doc.
#[must_use = "finish the scope with the request's result"]
pub struct AuditScope<'s> {
    store: &'s Store,
}

impl Store {
    /// Starts auditing `action` on this thread until the returned scope finishes or drops.
    pub fn audit_scope(&self, action: AdminAction) -> AuditScope<'_> {
        CURRENT.with(|current| {
            *current.borrow_mut() = Some(Current {
                action,
                written: false,
            })
        });
        AuditScope { store: self }
    }

    /// Returns the admin audit rows at or after `since`, oldest first, at most `limit` of the
    /// newest.
    pub fn admin_audit(
        &self,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<AdminAuditRecord>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, at, peer_uid, peer_name, op, kind, args, result FROM admin_audit \
             WHERE at >= ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows =
            statement.query_map(params![since.map_or(0, Timestamp::unix), limit], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    AdminAction {
                        peer_uid: row.get(2)?,
                        peer_name: row.get(3)?,
                        op: row.get(4)?,
                        kind: row.get(5)?,
                        args: row.get(6)?,
                    },
                    row.get::<_, String>(7)?,
                ))
            })?;
        let mut records = Vec::new();
        for row in rows {
            let (id, at, action, result) = row?;
            records.push(AdminAuditRecord {
                id,
                time: stored_instant("admin_audit.at", at)?,
                action,
                result,
            });
        }
        records.reverse();
        Ok(records)
    }

    /// Records a denied attempt, in a transaction of its own.
    ///
    /// Not flushed (see the store's module doc): nothing was acknowledged to anyone, so a
    /// power cut may take the newest rows back, and a denied login costs no fsync.
    pub fn add_denied(&self, attempt: &DeniedAttempt) -> Result<(), Error> {
        let mut connection = self.lock_unflushed();
        let transaction = connection.transaction()?;
        transaction.execute(
            "INSERT INTO denied_attempts (at, user, key_id, ca, repo, access, rule, left_out) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                now(),
                attempt.user,
                attempt.key,
                attempt.ca,
                attempt.repo,
                attempt.access,
                attempt.rule,
                attempt.left_out
            ],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// Returns the denied attempts at or after `since`, oldest first, at most `limit` of the
    /// newest.
    pub fn denied(&self, since: Option<Timestamp>, limit: u32) -> Result<Vec<DeniedRecord>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, at, user, key_id, ca, repo, access, rule, left_out FROM denied_attempts \
             WHERE at >= ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows =
            statement.query_map(params![since.map_or(0, Timestamp::unix), limit], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    DeniedAttempt {
                        user: row.get(2)?,
                        key: row.get(3)?,
                        ca: row.get(4)?,
                        repo: row.get(5)?,
                        access: row.get(6)?,
                        rule: row.get(7)?,
                        left_out: row.get(8)?,
                    },
                ))
            })?;
        let mut records = Vec::new();
        for row in rows {
            let (id, at, attempt) = row?;
            records.push(DeniedRecord {
                id,
                time: stored_instant("denied_attempts.at", at)?,
                attempt,
            });
        }
        records.reverse();
        Ok(records)
    }
}

impl AuditScope<'_> {
    /// Ends the scope with the request's result: `Ok` when it succeeded, else its refusal
    /// line. A request that committed no change gets its row now, in a transaction of its
    /// own; one that failed after committing gets a second row saying so.
    pub fn finish(self, result: Result<(), &str>) -> Result<(), Error> {
        let Some(current) = CURRENT.with(|current| current.borrow_mut().take()) else {
            return Ok(());
        };
        let line = match result {
            Ok(()) if current.written => return Ok(()),
            Ok(()) => OK,
            Err(line) => line,
        };
        let mut connection = self.store.lock();
        let transaction = connection.transaction()?;
        insert(&transaction, &current.action, line)?;
        transaction.commit()?;
        Ok(())
    }
}

impl Drop for AuditScope<'_> {
    fn drop(&mut self) {
        CURRENT.with(|current| current.borrow_mut().take());
    }
}

fn insert(transaction: &Transaction<'_>, action: &AdminAction, result: &str) -> Result<(), Error> {
    transaction.execute(
        "INSERT INTO admin_audit (at, peer_uid, peer_name, op, kind, args, result) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            now(),
            action.peer_uid,
            action.peer_name,
            action.op,
            action.kind,
            action.args,
            result
        ],
    )?;
    Ok(())
}

/// Commits `transaction`, with the audit row of the request being served when this is its
/// first change. Every write of the store commits through here.
pub(super) fn commit(transaction: Transaction<'_>) -> Result<(), Error> {
    let action = CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .filter(|current| !current.written)
            .map(|current| current.action.clone())
    });
    if let Some(action) = &action {
        insert(&transaction, action, OK)?;
    }
    transaction.commit()?;
    if action.is_some() {
        CURRENT.with(|current| {
            if let Some(current) = current.borrow_mut().as_mut() {
                current.written = true;
            }
        });
    }
    Ok(())
}

#[cfg(test)]
impl Store {
    /// Returns every row of every table that holds state an admin changes, as text: all
    /// tables but the push path's (sessions, ref updates, a key's last use) and the audits
    /// themselves. Two equal dumps mean no change of state happened in between.
    pub(crate) fn dump_state(&self) -> String {
        const NOT_STATE: &[&str] = &[
            "sessions",
            "ref_updates",
            "admin_audit",
            "denied_attempts",
            "sqlite_sequence",
        ];
        let connection = self.lock();
        let tables: Vec<String> = connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| row.get(0))?
                    .collect::<Result<_, _>>()
            })
            .expect("the schema lists its tables");
        let mut dump = String::new();
        for table in tables.iter().filter(|t| !NOT_STATE.contains(&t.as_str())) {
            let mut statement = connection
                .prepare(&format!("SELECT * FROM {table}"))
                .expect("a table can be read");
            let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
            let mut rows = statement.query([]).expect("a table can be read");
            while let Some(row) = rows.next().expect("a row can be read") {
                dump.push_str(table);
                for (index, name) in names.iter().enumerate() {
                    if name == "last_used_at" {
                        continue;
                    }
                    let value: rusqlite::types::Value = row.get(index).expect("a value");
                    dump.push_str(&format!(" {name}={value:?}"));
                }
                dump.push('\n');
            }
        }
        dump
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::user_name::UserName;

    fn action(op: &str) -> AdminAction {
        AdminAction {
            peer_uid: 1000,
            peer_name: "ada".into(),
            op: op.into(),
            kind: "user".into(),
            args: r#"{"user":"alice"}"#.into(),
        }
    }

    #[test]
    fn a_change_and_its_row_commit_together_once() {
        let store = Store::open_in_memory().unwrap();
        let scope = store.audit_scope(action("user_add"));
        store.add_user(&UserName::parse("alice").unwrap()).unwrap();
        store.add_user(&UserName::parse("bob").unwrap()).unwrap();
        scope.finish(Ok(())).unwrap();
        let rows = store.admin_audit(None, 10).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (rows[0].action.op.as_str(), rows[0].result.as_str()),
            ("user_add", OK)
        );
    }

    #[test]
    fn a_change_that_rolls_back_takes_its_row_with_it_and_the_refusal_is_recorded() {
        let store = Store::open_in_memory().unwrap();
        let alice = UserName::parse("alice").unwrap();
        store.add_user(&alice).unwrap();
        let scope = store.audit_scope(action("user_add"));
        let refused = store.add_user(&alice).unwrap_err().to_string();
        scope.finish(Err(&refused)).unwrap();
        let rows = store.admin_audit(None, 10).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].result, "user 'alice' already exists");
    }

    #[test]
    fn writes_outside_a_scope_are_not_audited() {
        let store = Store::open_in_memory().unwrap();
        drop(store.audit_scope(action("user_add")));
        store.add_user(&UserName::parse("alice").unwrap()).unwrap();
        assert!(store.admin_audit(None, 10).unwrap().is_empty());
    }

    #[test]
    fn every_write_of_the_store_commits_through_the_audit() {
        let sources = [
            ("audit.rs", include_str!("audit.rs")),
            ("cas.rs", include_str!("cas.rs")),
            ("keys.rs", include_str!("keys.rs")),
            ("policy.rs", include_str!("policy.rs")),
            ("repos.rs", include_str!("repos.rs")),
            ("sessions.rs", include_str!("sessions.rs")),
            ("users.rs", include_str!("users.rs")),
        ];
        for (name, source) in sources {
            assert!(
                !source.contains(".commit()"),
                "{name} commits a transaction itself; use super::commit(transaction)"
            );
        }
    }

    #[test]
    fn denied_attempts_are_listed_since_an_instant() {
        let store = Store::open_in_memory().unwrap();
        let attempt = DeniedAttempt {
            user: "mallory".into(),
            key: Some(3),
            ca: None,
            repo: "acme/widgets".into(),
            access: "write".into(),
            rule: "no rule lets mallory write".into(),
            left_out: 0,
        };
        store.add_denied(&attempt).unwrap();
        assert_eq!(store.denied(None, 10).unwrap()[0].attempt, attempt);
        let later = Timestamp::from_unix(now() + 3600).unwrap();
        assert!(store.denied(Some(later), 10).unwrap().is_empty());
    }
}
