//! The policy version: one number every change to what the policy is built from (rules,
//! groups, options, roles, grants, public flags, repository roles, and the users and
//! repositories grants name) raises in its own transaction, so every forged on the database
//! can tell, with one read of one row, that the policy it holds is old.

use super::{Error, Store};
use rusqlite::Transaction;

/// Raises the policy version, inside the `transaction` that changes the policy.
pub(super) fn bump(transaction: &Transaction<'_>) -> Result<(), Error> {
    transaction.execute(
        "UPDATE policy_version SET version = version + 1 WHERE id = 1",
        [],
    )?;
    Ok(())
}

/// Returns the policy version as `transaction` sees it.
pub(super) fn read(transaction: &Transaction<'_>) -> Result<i64, Error> {
    Ok(transaction.query_row(
        "SELECT version FROM policy_version WHERE id = 1",
        [],
        |row| row.get(0),
    )?)
}

impl Store {
    /// Returns the policy version: it rises with every change to what the policy is built
    /// from, whoever makes it; one read of one row by its primary key.
    pub fn policy_version(&self) -> Result<i64, Error> {
        let connection = self.lock();
        Ok(connection.query_row(
            "SELECT version FROM policy_version WHERE id = 1",
            [],
            |row| row.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Access;
    use crate::policy::document::{Document, RuleRow};
    use crate::types::repo_name::RepoName;
    use crate::types::user_name::UserName;

    fn rule(seq: i64, who: &str) -> RuleRow {
        RuleRow {
            seq,
            repo: "acme/widgets".to_owned(),
            who: who.to_owned(),
            perm: "RW+".to_owned(),
            refex: "refs/.*".to_owned(),
            source: "test".to_owned(),
        }
    }

    /// One write to the store, as a test runs it.
    type Change<'a> = Box<dyn Fn() -> Result<(), Error> + 'a>;

    #[test]
    fn every_change_to_what_the_policy_is_built_from_raises_the_version() {
        let store = Store::open_in_memory().unwrap();
        let alice = UserName::parse("alice").unwrap();
        let bob = UserName::parse("bob").unwrap();
        let widgets = RepoName::parse("acme/widgets").unwrap();
        let site = RepoName::parse("acme/site").unwrap();
        let pattern = RepoName::parse("users/alice/x").unwrap();
        store.add_user(&alice).unwrap();
        store.add_user(&bob).unwrap();
        store
            .create_repo(&widgets, "", false, None, Box::new(|| Ok(())))
            .unwrap();
        store
            .create_repo(&pattern, "", false, Some("alice"), Box::new(|| Ok(())))
            .unwrap();
        let document = Document {
            rules: vec![rule(1, "alice")],
            ..Document::default()
        };
        let changes: Vec<(&str, Change<'_>)> = vec![
            (
                "grant",
                Box::new(|| store.grant(&widgets, &bob, Access::Write)),
            ),
            (
                "grant again",
                Box::new(|| store.grant(&widgets, &bob, Access::Read)),
            ),
            ("revoke", Box::new(|| store.revoke(&widgets, &bob))),
            (
                "public repository",
                Box::new(|| store.create_repo(&site, "", true, None, Box::new(|| Ok(())))),
            ),
            (
                "replace policy",
                Box::new(|| store.replace_policy(&Document::default(), &document)),
            ),
            (
                "prepend rules",
                Box::new(|| store.prepend_rules(&[rule(1, "bob")])),
            ),
            (
                "import",
                Box::new(|| {
                    let current = store.policy_document()?;
                    store.import(&[], &[], &current, &Document::default())
                }),
            ),
            (
                "role added",
                Box::new(|| store.set_role(&pattern, "READERS", "bob", true)),
            ),
            (
                "role removed",
                Box::new(|| store.set_role(&pattern, "READERS", "bob", false)),
            ),
            (
                "repository removed",
                Box::new(|| store.remove_repo(&site, Box::new(|| Ok(())))),
            ),
            ("user removed", Box::new(|| store.remove_user(&bob))),
        ];
        for (what, change) in changes {
            let before = store.policy_version().unwrap();
            change().unwrap();
            assert!(store.policy_version().unwrap() > before, "{what}");
        }
    }

    #[test]
    fn a_refused_change_leaves_the_version() {
        let store = Store::open_in_memory().unwrap();
        let before = store.policy_version().unwrap();
        let widgets = RepoName::parse("acme/widgets").unwrap();
        let nobody = UserName::parse("nobody").unwrap();
        assert!(store.grant(&widgets, &nobody, Access::Read).is_err());
        assert!(store.remove_user(&nobody).is_err());
        assert_eq!(store.policy_version().unwrap(), before);
    }

    #[test]
    fn the_loaded_policy_carries_the_version_it_was_read_at() {
        let store = Store::open_in_memory().unwrap();
        let alice = UserName::parse("alice").unwrap();
        store.add_user(&alice).unwrap();
        let widgets = RepoName::parse("acme/widgets").unwrap();
        store
            .create_repo(&widgets, "", true, None, Box::new(|| Ok(())))
            .unwrap();
        assert_eq!(
            store.load_policy().unwrap().version,
            store.policy_version().unwrap()
        );
    }
}
