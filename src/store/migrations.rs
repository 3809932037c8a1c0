//! The schema, as an append-only list of migrations indexed by `PRAGMA user_version`.
//!
//! Migration `n` (counting from 1) takes the schema from version `n - 1` to `n`. Never edit or
//! remove one: add a new one at the end. All pending migrations run in one EXCLUSIVE
//! transaction, so a crash leaves the database at the old version or the new one.

use super::Error;
use rusqlite::{Connection, TransactionBehavior};

const MIGRATIONS: &[&str] = &[
    // 1: users, keys, repos, grants and the audit log of ref updates.
    "
    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );
    -- AUTOINCREMENT: a key id is never reused, so a stale authorized_keys line naming a
    -- removed key can never log in as whoever got the id next.
    CREATE TABLE keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        algorithm TEXT NOT NULL,
        blob BLOB NOT NULL,
        fingerprint TEXT NOT NULL UNIQUE,
        comment TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL
    );
    CREATE INDEX keys_by_user ON keys(user_id);
    CREATE TABLE repos (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        name_folded TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE grants (
        repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        access TEXT NOT NULL CHECK (access IN ('read', 'write', 'admin')),
        PRIMARY KEY (repo_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX grants_by_user ON grants(user_id);
    -- The audit log. Names are copied, not referenced: history outlives users and repos.
    CREATE TABLE ref_updates (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session TEXT NOT NULL,
        user TEXT NOT NULL,
        key_id INTEGER,
        repo TEXT NOT NULL,
        ref_name TEXT NOT NULL,
        old TEXT NOT NULL,
        new TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
        created_at INTEGER NOT NULL,
        confirmed_at INTEGER,
        UNIQUE (session, ref_name)
    );
    CREATE INDEX ref_updates_pending ON ref_updates(repo, ref_name) WHERE state = 'pending';
    CREATE INDEX ref_updates_by_repo ON ref_updates(repo, id);
    CREATE INDEX ref_updates_by_user ON ref_updates(user, id);
    ",
    // 2: the policy (groups, rules, options), repositories created from patterns (their creator
    // and the roles the creator hands out).
    "
    ALTER TABLE repos ADD COLUMN creator TEXT;
    CREATE TABLE repo_roles (
        repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        member TEXT NOT NULL,
        PRIMARY KEY (repo_id, role, member)
    ) WITHOUT ROWID;
    CREATE TABLE policy_groups (
        kind TEXT NOT NULL CHECK (kind IN ('user', 'repo')),
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        member TEXT NOT NULL,
        PRIMARY KEY (kind, name, position)
    ) WITHOUT ROWID;
    CREATE TABLE policy_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        seq INTEGER NOT NULL,
        repo TEXT NOT NULL,
        who TEXT NOT NULL,
        perm TEXT NOT NULL,
        refex TEXT NOT NULL,
        source TEXT NOT NULL
    );
    CREATE INDEX policy_rules_by_seq ON policy_rules(seq);
    CREATE TABLE policy_roles (
        name TEXT PRIMARY KEY
    ) WITHOUT ROWID;
    CREATE TABLE policy_options (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        seq INTEGER NOT NULL,
        repo TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        source TEXT NOT NULL
    );
    ",
    // 3: the key lifecycle: a title to tell keys apart, an expiry and the time of last use
    // (unix seconds; NULL means never).
    "
    ALTER TABLE keys ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE keys ADD COLUMN expires_at INTEGER;
    ALTER TABLE keys ADD COLUMN last_used_at INTEGER;
    -- Keys added before titles existed get the title a new key gets: its comment, cut to 100.
    UPDATE keys SET title = substr(comment, 1, 100);
    ",
    // 4: user CAs trusted for SSH certificates, and principals mapped to users.
    "
    -- AUTOINCREMENT: a CA id is never reused, so a session naming a removed CA can never act
    -- for whichever CA got the id next.
    CREATE TABLE user_cas (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        algorithm TEXT NOT NULL,
        blob BLOB NOT NULL,
        fingerprint TEXT NOT NULL UNIQUE,
        comment TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL
    );
    CREATE TABLE principals (
        principal TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX principals_by_user ON principals(user_id);
    ",
    // 5: the audit log names the CA of a push made with a certificate (copied, as names are).
    "
    ALTER TABLE ref_updates ADD COLUMN ca TEXT;
    ",
    // 6: the policy version, one row: every change to what the policy is built from raises
    // it in its own transaction, so every forged on the database sees that its policy is old.
    "
    CREATE TABLE policy_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    );
    INSERT INTO policy_version (id, version) VALUES (1, 1);
    ",
    // 7: the write sessions `check` hands out, so that pre- and post-receive can only act for a
    // session forged issued for that user, identity and repository, while it is open. Rows
    // past `expires_at` are pruned; pending ref updates keep their session id as text.
    "
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        identity TEXT NOT NULL,
        repo TEXT NOT NULL,
        access TEXT NOT NULL CHECK (access IN ('read', 'write', 'admin')),
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions(expires_at);
    ",
    // 8: the admin audit, every change of
    // state with who asked (peer uid and name), the op, its arguments without secrets and the
    // result; and the denied access attempts, with where the rule that denied came from and
    // how many attempts the rate limit left out before each row. Names are copied, not
    // referenced: history outlives users, keys and repositories.
    "
    CREATE TABLE admin_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        peer_uid INTEGER NOT NULL,
        peer_name TEXT NOT NULL,
        op TEXT NOT NULL,
        kind TEXT NOT NULL,
        args TEXT NOT NULL,
        result TEXT NOT NULL
    );
    CREATE INDEX admin_audit_by_time ON admin_audit(at);
    CREATE TABLE denied_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        user TEXT NOT NULL,
        key_id INTEGER,
        ca TEXT,
        repo TEXT NOT NULL,
        access TEXT NOT NULL,
        rule TEXT NOT NULL,
        left_out INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX denied_attempts_by_time ON denied_attempts(at);
    ",
    // 9: maintenance mode: while the one row exists, pushes, creations and admin writes are
    // refused with its message, across restarts.
    "
    CREATE TABLE maintenance (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        message TEXT NOT NULL,
        since INTEGER NOT NULL,
        by_uid INTEGER NOT NULL
    );
    ",
];

/// Returns the schema version this build creates.
pub(super) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema up to [`latest`], or refuses a database from a newer forge.
pub(super) fn apply(connection: &mut Connection) -> Result<(), Error> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let found: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > latest() {
        return Err(Error::TooNew {
            found,
            known: latest(),
        });
    }
    for migration in &MIGRATIONS[found as usize..] {
        transaction.execute_batch(migration)?;
        // Killed here, the transaction is rolled back: the old schema stays whole.
        crate::fault::point("migrate.after_one");
    }
    transaction.pragma_update(None, "user_version", latest())?;
    transaction.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(connection: &Connection) -> i64 {
        connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut connection = Connection::open_in_memory().unwrap();
        apply(&mut connection).unwrap();
        assert_eq!(version(&connection), latest());
        apply(&mut connection).unwrap();
        assert_eq!(version(&connection), latest());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection
            .pragma_update(None, "user_version", latest() + 1)
            .unwrap();
        assert!(matches!(apply(&mut connection), Err(Error::TooNew { .. })));
    }

    #[test]
    fn every_migration_applies_on_top_of_the_previous_one() {
        let mut connection = Connection::open_in_memory().unwrap();
        for (done, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(version(&connection), done as i64);
            connection.execute_batch(migration).unwrap();
            connection
                .pragma_update(None, "user_version", done as i64 + 1)
                .unwrap();
        }
        apply(&mut connection).unwrap();
    }

    #[test]
    fn keys_from_before_titles_are_titled_by_their_comment() {
        let mut connection = Connection::open_in_memory().unwrap();
        for migration in &MIGRATIONS[..2] {
            connection.execute_batch(migration).unwrap();
        }
        connection.pragma_update(None, "user_version", 2).unwrap();
        let long = "x".repeat(150);
        connection
            .execute_batch(&format!(
                "INSERT INTO users (id, name, created_at) VALUES (1, 'alice', 0);
                 INSERT INTO keys (user_id, algorithm, blob, fingerprint, comment, created_at)
                 VALUES (1, 'ssh-ed25519', x'00', 'SHA256:a', 'alice@laptop', 0),
                        (1, 'ssh-ed25519', x'01', 'SHA256:b', '', 0),
                        (1, 'ssh-ed25519', x'02', 'SHA256:c', '{long}', 0);"
            ))
            .unwrap();
        apply(&mut connection).unwrap();
        let titles: Vec<String> = connection
            .prepare("SELECT title FROM keys ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            titles,
            ["alice@laptop".to_owned(), String::new(), "x".repeat(100)]
        );
    }
}
