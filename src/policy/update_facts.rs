//! Reading from a repository the facts a ref rule decides on: what kind of update `old -> new`
//! is, which paths it changes, and whether it brings merges. pre-receive computes them inside
//! git's quarantine; forged's reconciler uses [`classify`] on the refs as they are.

use crate::policy::{ObjectId, UpdateKind};

/// The most changed paths one update reports for path rules; with more, forged refuses the
/// update if any path rule applies to the pusher.
pub const MAX_PATHS: usize = 10_000;

/// The most commits walked to look for merges; a longer walk counts as holding one.
const MAX_MERGE_WALK: usize = 100_000;

/// Returns what kind of update `old -> new` is in `repo`.
///
/// In pre-receive, `repo` must be opened from the environment git provides, so the pushed
/// objects in the quarantine folder are visible. Anything that is not a commit on both sides
/// (an annotated tag moved, say) counts as a non-fast-forward: the safe side for policy.
pub fn classify(repo: &git2::Repository, old: &ObjectId, new: &ObjectId) -> UpdateKind {
    if old.is_zero() {
        return UpdateKind::Create;
    }
    if new.is_zero() {
        return UpdateKind::Delete;
    }
    let commit = |id: &ObjectId| {
        git2::Oid::from_str(id.as_str())
            .and_then(|oid| repo.find_object(oid, None))
            .and_then(|object| object.peel_to_commit())
            .map(|commit| commit.id())
    };
    match (commit(old), commit(new)) {
        (Ok(old), Ok(new)) if old == new => UpdateKind::FastForward,
        (Ok(old), Ok(new)) if first_parents_reach(repo, new, old) => UpdateKind::FastForward,
        (Ok(old), Ok(new)) if repo.graph_descendant_of(new, old).unwrap_or(false) => {
            UpdateKind::FastForward
        }
        _ => UpdateKind::NonFastForward,
    }
}

/// How many commits [`first_parents_reach`] follows before the general walk decides.
const FIRST_PARENT_STEPS: usize = 64;

/// Returns whether `old` is among the first [`FIRST_PARENT_STEPS`] commits of `new`'s
/// first-parent line: the common fast-forward (a push of a few commits on top of the branch)
/// is then known from as many commit reads, where libgit2's general ancestry walk costs close
/// to a millisecond even for one commit. `false` only means "not found this way".
fn first_parents_reach(repo: &git2::Repository, new: git2::Oid, old: git2::Oid) -> bool {
    let mut current = new;
    for _ in 0..FIRST_PARENT_STEPS {
        let Ok(commit) = repo.find_commit(current) else {
            return false;
        };
        let Ok(parent) = commit.parent_id(0) else {
            return false;
        };
        if parent == old {
            return true;
        }
        current = parent;
    }
    false
}

/// Returns the files that differ between the trees of `old` and `new` (every file of the
/// tree on a create or a delete), as gitolite's path rules see them; `None` when there are
/// more than [`MAX_PATHS`] or the trees cannot be read.
///
/// Every name is listed, whatever its bytes: the wire carries names as JSON strings, so a name
/// that is not UTF-8 is sent with U+FFFD in place of its bad bytes, which path rules refuse
/// to decide (`decide::ref_update`) rather than leave out.
pub fn changed_paths(
    repo: &git2::Repository,
    old: &ObjectId,
    new: &ObjectId,
) -> Option<Vec<String>> {
    let tree = |id: &ObjectId| -> Result<Option<git2::Tree<'_>>, git2::Error> {
        if id.is_zero() {
            return Ok(None);
        }
        let object = repo.find_object(git2::Oid::from_str(id.as_str())?, None)?;
        Ok(Some(object.peel_to_tree()?))
    };
    let (old_tree, new_tree) = (tree(old).ok()?, tree(new).ok()?);
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), new_tree.as_ref(), None)
        .ok()?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            let Some(bytes) = file.path_bytes() else {
                continue;
            };
            let path = String::from_utf8_lossy(bytes);
            if paths.last().is_none_or(|last: &String| *last != path) {
                paths.push(path.into_owned());
            }
        }
        if paths.len() > MAX_PATHS {
            return None;
        }
    }
    paths.dedup();
    Some(paths)
}

/// Returns whether the commits `new` brings over `old` include a merge (for a repository whose
/// rules check merges); a create or a delete brings none, as in gitolite.
pub fn has_merges(repo: &git2::Repository, old: &ObjectId, new: &ObjectId) -> bool {
    if old.is_zero() || new.is_zero() {
        return false;
    }
    let walk = || -> Result<bool, git2::Error> {
        let mut walk = repo.revwalk()?;
        walk.push(git2::Oid::from_str(new.as_str())?)?;
        // A rewind's old tip may be unrelated; hiding it is still right.
        let _ = walk.hide(git2::Oid::from_str(old.as_str())?);
        for (seen, oid) in walk.enumerate() {
            if seen >= MAX_MERGE_WALK || repo.find_commit(oid?)?.parent_count() > 1 {
                return Ok(true);
            }
        }
        Ok(false)
    };
    walk().unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_utf8_are_listed_not_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let blob = repo.blob(b"token").unwrap();
        let mut secrets = repo.treebuilder(None).unwrap();
        secrets.insert(&b"\xff.conf"[..], blob, 0o100644).unwrap();
        let secrets = secrets.write().unwrap();
        let mut root = repo.treebuilder(None).unwrap();
        root.insert("secrets", secrets, 0o040000).unwrap();
        root.insert("readme", blob, 0o100644).unwrap();
        let tree = repo.find_tree(root.write().unwrap()).unwrap();
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        let commit = repo
            .commit(None, &signature, &signature, "1", &tree, &[])
            .unwrap();
        let zero = ObjectId::parse(&"0".repeat(40)).unwrap();
        let new = ObjectId::parse(&commit.to_string()).unwrap();
        let mut paths = changed_paths(&repo, &zero, &new).unwrap();
        paths.sort();
        assert_eq!(paths, ["readme", "secrets/\u{fffd}.conf"]);
    }

    #[test]
    fn updates_are_classified_by_ancestry() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        let tree = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let first = repo
            .commit(None, &signature, &signature, "1", &tree, &[])
            .unwrap();
        let parent = repo.find_commit(first).unwrap();
        let second = repo
            .commit(None, &signature, &signature, "2", &tree, &[&parent])
            .unwrap();
        let other = repo
            .commit(None, &signature, &signature, "x", &tree, &[])
            .unwrap();
        // A merge whose first parent is `other` and second `second`: a fast-forward of
        // `second` that only the general walk finds.
        let merge = repo
            .commit(
                None,
                &signature,
                &signature,
                "m",
                &tree,
                &[
                    &repo.find_commit(other).unwrap(),
                    &repo.find_commit(second).unwrap(),
                ],
            )
            .unwrap();
        // A line longer than the first-parent steps, ending on `second`.
        let mut long = second;
        for n in 0..FIRST_PARENT_STEPS + 2 {
            let parent = repo.find_commit(long).unwrap();
            long = repo
                .commit(
                    None,
                    &signature,
                    &signature,
                    &n.to_string(),
                    &tree,
                    &[&parent],
                )
                .unwrap();
        }
        let id = |oid: git2::Oid| ObjectId::parse(&oid.to_string()).unwrap();
        let zero = ObjectId::parse(&"0".repeat(40)).unwrap();
        let missing = ObjectId::parse(&"9".repeat(40)).unwrap();
        let rows = [
            (zero.clone(), id(first), UpdateKind::Create),
            (id(first), zero.clone(), UpdateKind::Delete),
            (id(first), id(second), UpdateKind::FastForward),
            (id(second), id(first), UpdateKind::NonFastForward),
            (id(second), id(other), UpdateKind::NonFastForward),
            (missing, id(first), UpdateKind::NonFastForward),
            (id(second), id(merge), UpdateKind::FastForward),
            (id(other), id(merge), UpdateKind::FastForward),
            (id(first), id(long), UpdateKind::FastForward),
            (id(long), id(first), UpdateKind::NonFastForward),
            (id(other), id(long), UpdateKind::NonFastForward),
        ];
        for (old, new, kind) in rows {
            assert_eq!(classify(&repo, &old, &new), kind, "{old} -> {new}");
        }
    }
}
