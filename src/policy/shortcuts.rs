//! The rules `forgectl grant` and `forgectl repo create --public` stand for, and the policy a
//! document makes with them: forged, the bench and forge-http all build it this way.
//!
//! Grants and public flags become rules after every rule of the document, so a rule of the
//! document (a protected branch, say) always decides before them.

use super::document::{self, Document, RuleRow};
use super::{Access, Policy};

/// The first `seq` of the shortcut rules: past any rule number a document holds.
const SHORTCUTS_FIRST_SEQ: i64 = 1 << 40;

/// Returns the rules `grants` (`(repository, user, access)`) and the `public` repositories
/// stand for: `read` is `R`, `write` is `RW` (create refs and fast-forward them), `admin` is
/// `RW+` (also force push and delete), and a public repository has `R = @all`, in that order,
/// numbered after every rule of a document.
pub fn rules(grants: &[(String, String, Access)], public: &[String]) -> Vec<RuleRow> {
    let grants = grants.iter().map(|(repo, user, access)| {
        let perm = match access {
            Access::Read => "R",
            Access::Write => "RW",
            Access::Admin => "RW+",
        };
        (repo.clone(), user.clone(), perm, "forgectl grant")
    });
    let public = public
        .iter()
        .map(|repo| (repo.clone(), "@all".to_owned(), "R", "public repository"));
    grants
        .chain(public)
        .enumerate()
        .map(|(index, (repo, who, perm, source))| RuleRow {
            seq: SHORTCUTS_FIRST_SEQ + index as i64,
            repo,
            who,
            perm: perm.to_owned(),
            refex: "refs/.*".to_owned(),
            source: source.to_owned(),
        })
        .collect()
}

/// Returns the `source` every rule of a protection carries, which names it: one protection per
/// repository and branch (or its tags), so protecting again replaces it and `forgectl
/// unprotect` finds it. `branch` is `None` for the tags.
pub fn protection_source(repo: &str, branch: Option<&str>) -> String {
    match branch {
        Some(branch) => format!(
            "forgectl protect {repo} branch '{}'",
            branch.strip_prefix("refs/heads/").unwrap_or(branch)
        ),
        None => format!("forgectl protect {repo} tags"),
    }
}

/// Returns the rules `forgectl protect` stands for, numbered from 1: `RW` for each of the
/// `pushers` on the branch (no force push, no delete), then `-` for everyone else; for the
/// tags (`branch` `None`), the same on `refs/tags/`, where moving a tag needs `+`.
pub fn protection(repo: &str, branch: Option<&str>, pushers: &[String]) -> Vec<RuleRow> {
    let refex = match branch {
        Some(branch) => {
            let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
            format!("refs/heads/{}$", regex_escape(branch))
        }
        None => "refs/tags/".to_owned(),
    };
    let source = protection_source(repo, branch);
    pushers
        .iter()
        .map(|pusher| (pusher.as_str(), "RW"))
        .chain([("@all", "-")])
        .enumerate()
        .map(|(index, (who, perm))| RuleRow {
            seq: index as i64 + 1,
            repo: repo.to_owned(),
            who: who.to_owned(),
            perm: perm.to_owned(),
            refex: refex.clone(),
            source: source.clone(),
        })
        .collect()
}

/// Returns `text` with the characters a refex gives a meaning escaped.
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// Returns `document` with the rules of `grants` and `public` appended after its own.
pub fn with_shortcuts(
    document: &Document,
    grants: &[(String, String, Access)],
    public: &[String],
) -> Document {
    let mut whole = document.clone();
    whole.rules.extend(rules(grants, public));
    whole
}

/// Returns the policy `document`, `grants` and `public` make together.
pub fn build(
    document: &Document,
    grants: &[(String, String, Access)],
    public: &[String],
) -> Result<Policy, document::Error> {
    with_shortcuts(document, grants, public).to_policy()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Need, Op, RepoState};

    fn grant(repo: &str, user: &str, access: Access) -> (String, String, Access) {
        (repo.to_owned(), user.to_owned(), access)
    }

    #[test]
    fn grants_and_public_flags_become_rules_after_the_document() {
        let rows = rules(
            &[
                grant("acme/widgets", "alice", Access::Read),
                grant("acme/widgets", "bob", Access::Admin),
            ],
            &["acme/site".to_owned()],
        );
        let shown: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.seq - SHORTCUTS_FIRST_SEQ,
                    r.repo.as_str(),
                    r.who.as_str(),
                    r.perm.as_str(),
                    r.source.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (0, "acme/widgets", "alice", "R", "forgectl grant"),
                (1, "acme/widgets", "bob", "RW+", "forgectl grant"),
                (2, "acme/site", "@all", "R", "public repository"),
            ]
        );
    }

    #[test]
    fn regression_11_write_fast_forwards_and_only_admin_forces_or_deletes() {
        let grants = [
            grant("acme/widgets", "wanda", Access::Write),
            grant("acme/widgets", "adam", Access::Admin),
        ];
        let policy = build(&Document::default(), &grants, &[]).unwrap();
        let state = RepoState::existing("acme/widgets", None, &[]);
        let may = |user, op| {
            policy
                .access(&state, user, Need::of(op), Some("refs/heads/main"), None)
                .allowed
        };
        for op in [Op::Read, Op::Write] {
            assert!(may("wanda", op) && may("adam", op), "{op:?}");
        }
        // `+`: a force push, and (by default) deleting a branch.
        assert!(!may("wanda", Op::Rewind), "write allows a force push");
        assert!(may("adam", Op::Rewind), "admin refuses a force push");
    }

    #[test]
    fn a_document_rule_decides_before_a_grant() {
        let document = Document {
            rules: vec![RuleRow {
                seq: 1,
                repo: "acme/widgets".to_owned(),
                who: "alice".to_owned(),
                perm: "-".to_owned(),
                refex: "refs/heads/main".to_owned(),
                source: "test".to_owned(),
            }],
            ..Document::default()
        };
        let writer = [grant("acme/widgets", "alice", Access::Write)];
        let policy = build(&document, &writer, &[]).unwrap();
        let state = RepoState {
            name: "acme/widgets",
            exists: true,
            creator: None,
            roles: &[],
        };
        let write = |reference| {
            policy
                .access(&state, "alice", Need::of(Op::Write), Some(reference), None)
                .allowed
        };
        assert!(!write("refs/heads/main"));
        assert!(write("refs/heads/topic"));
    }
}
