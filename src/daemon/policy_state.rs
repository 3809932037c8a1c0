//! The policy forged decides with: built from the stored document, the grants made with
//! `forgectl grant` and the public flags, held in memory and rebuilt after every change.

use crate::policy::document::{Document, RuleRow};
use crate::policy::engine::Parts;
use crate::policy::{Access, Policy};
use crate::store::StoredPolicy;

/// Grants and public flags come after every rule of the document, in this range, so a rule
/// (a protected branch, say) always decides before them.
const SHORTCUTS_FIRST_SEQ: i64 = 1 << 40;

/// Returns the rules `forgectl grant` and `--public` stand for: `read` is `R`, `write` and
/// `admin` are `RW+`, and a public repository has `R = @all`.
pub fn shortcut_rules(stored: &StoredPolicy) -> Vec<RuleRow> {
    let grants = stored.grants.iter().map(|(repo, user, access)| {
        let perm = if *access >= Access::Write { "RW+" } else { "R" };
        (repo.clone(), user.clone(), perm, "forgectl grant")
    });
    let public = stored
        .public
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

/// Returns the policy `stored` describes.
pub fn build(stored: &StoredPolicy) -> Result<Policy, crate::policy::document::Error> {
    let mut document: Document = stored.document.clone();
    document.rules.extend(shortcut_rules(stored));
    let parts: Parts = document.to_parts()?;
    Ok(Policy::build(parts)?)
}
