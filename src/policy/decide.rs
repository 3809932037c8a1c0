//! The one decision every caller uses: may this user have this access to this repository
//! ([`access`], [`create`]), may this ref update happen ([`ref_update`]), and why
//! ([`explain`]).
//!
//! Pure functions of a built [`Policy`] and what the caller read about the repository (a
//! [`RepoState`]): no store, no I/O. forged's handlers, the latency bench and forge-http call
//! these, so what is measured and what is served is what decides.

use super::{Access, Need, Op, Policy, RefUpdate, RepoState, Verdict};
use crate::types::shown::shown;
use serde::{Deserialize, Serialize};
use std::fmt;

impl<'a> RepoState<'a> {
    /// Returns the state of a repository that does not exist (yet): no creator, no roles.
    pub fn missing(name: &'a str) -> RepoState<'a> {
        RepoState {
            name,
            exists: false,
            creator: None,
            roles: &[],
        }
    }

    /// Returns the state of an existing repository, created from a pattern by `creator` (if
    /// anyone), with the `roles` its creator handed out.
    pub fn existing(
        name: &'a str,
        creator: Option<&'a str>,
        roles: &'a [(String, String)],
    ) -> RepoState<'a> {
        RepoState {
            name,
            exists: true,
            creator,
            roles,
        }
    }
}

/// The answer to "may this user have this access to this repository", with the verdict that
/// made it (its rule goes to the log, never to the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'p> {
    /// The repository exists and the access is allowed.
    Granted(Verdict<'p>),
    /// The repository exists and the access is refused.
    Denied(Verdict<'p>),
    /// The repository does not exist, but the user may create it from a pattern: create it
    /// (with the user as its creator), then decide again on the repository as created.
    Creatable(Verdict<'p>),
    /// The repository does not exist and the user may not create it. Users must be told the
    /// same as for [`Decision::Denied`].
    Missing(Verdict<'p>),
}

impl<'p> Decision<'p> {
    /// Returns whether the access is allowed now, on an existing repository.
    pub fn is_granted(&self) -> bool {
        matches!(self, Decision::Granted(_))
    }

    /// Returns the verdict behind the decision.
    pub fn verdict(&self) -> &Verdict<'p> {
        match self {
            Decision::Granted(verdict)
            | Decision::Denied(verdict)
            | Decision::Creatable(verdict)
            | Decision::Missing(verdict) => verdict,
        }
    }
}

/// Decides whether `user` may have `access` (`read`, or `write` and above, which both mean
/// pushing) on `repo`, on any ref; a missing repository is a question of creating it.
pub fn access<'p>(
    policy: &'p Policy,
    user: &str,
    repo: &RepoState<'_>,
    access: Access,
) -> Decision<'p> {
    if !repo.exists {
        let verdict = create(policy, user, repo.name);
        return if verdict.allowed {
            Decision::Creatable(verdict)
        } else {
            Decision::Missing(verdict)
        };
    }
    let need = Need::of(if access >= Access::Write {
        Op::Write
    } else {
        Op::Read
    });
    let verdict = policy.access(repo, user, need, None, Some(user));
    if verdict.allowed {
        Decision::Granted(verdict)
    } else {
        Decision::Denied(verdict)
    }
}

/// Decides whether `user` may create the missing repository `name` from a pattern (`C`),
/// as its creator.
pub fn create<'p>(policy: &'p Policy, user: &str, name: &str) -> Verdict<'p> {
    let missing = RepoState::missing(name);
    policy.access(&missing, user, Need::of(Op::CreateRepo), None, Some(user))
}

/// Decides a question as `gitolite access` answers it, for `forgectl access --explain`: `C`,
/// `D` and `M` count as `W`, `+` and `W` unless the repository's options make them count, and
/// a `reference` that is not a full ref (`refs/...`) or a virtual one (`VREF/...`) is a
/// branch. A missing repository is asked about with `user` as its would-be creator.
pub fn explain<'p>(
    policy: &'p Policy,
    user: &str,
    repo: &RepoState<'_>,
    need: Need,
    reference: Option<&str>,
) -> Verdict<'p> {
    let creator = if repo.exists {
        repo.creator
    } else {
        Some(user)
    };
    let on = |option| policy.is_on(repo.name, creator, option);
    let need = match need.op {
        Op::CreateRef if !on("CREATE_IS_C") => Need::of(Op::Write),
        Op::DeleteRef if !on("DELETE_IS_D") => Need::of(Op::Rewind),
        Op::Merge if !on("MERGE_CHECK") => Need::of(Op::Write),
        _ => need,
    };
    let reference = reference.map(|r| {
        if r.starts_with("refs/") || r.starts_with("VREF/") {
            r.to_owned()
        } else {
            format!("refs/heads/{r}")
        }
    });
    policy.access(repo, user, need, reference.as_deref(), Some(user))
}

/// Who pushes, as a ref decision sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pusher<'a> {
    /// A user, over SSH through forge-shell.
    User(&'a str),
    /// A local account that bypassed forge-shell, where `allow_local_push` lets it.
    Local,
}

/// The answer for one ref update: whether it may happen, and the reason the pusher is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefDecision {
    /// Whether the update may happen.
    pub allowed: bool,
    /// Why, in words: the rule that decided, or what refused it.
    pub reason: String,
    /// What decided, named by where the rule came from rather than by its internal number
    /// (see [`crate::policy::Verdict::origin`]), for the record of denied attempts.
    pub rule: String,
}

/// Why every update of a push is refused before any rule is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A local account pushed, bypassing forge-shell, and `allow_local_push` is off.
    LocalPushDisabled,
    /// The key or certificate of the session is gone, expired, or now someone else's.
    NoLongerRegistered,
    /// The repository does not exist (any more).
    NoRepository {
        /// Its name.
        repo: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::LocalPushDisabled => f.write_str(
                "pushes that bypass forge-shell are disabled; push over ssh, or set allow_local_push",
            ),
            Refusal::NoLongerRegistered => {
                f.write_str("this key or certificate is no longer registered to you")
            }
            Refusal::NoRepository { repo } => {
                write!(f, "no repository '{repo}' writable with this key")
            }
        }
    }
}

impl From<&Refusal> for RefDecision {
    fn from(refusal: &Refusal) -> RefDecision {
        RefDecision {
            allowed: false,
            reason: refusal.to_string(),
            rule: refusal.to_string(),
        }
    }
}

/// Decides one ref update on `repo` by `pusher`, as gitolite's update hook does: the ref rule
/// first (with what the update needs: `W`, `+`, `C`, `D`, `M` as the repository's options
/// say), then every changed path against the path rules (`VREF/NAME/...`) that apply to the
/// pusher. A local push that is let through is allowed without rules.
pub fn ref_update(
    policy: &Policy,
    repo: &RepoState<'_>,
    pusher: Pusher<'_>,
    update: &RefUpdate,
) -> RefDecision {
    let decision = |allowed, reason: String| RefDecision {
        allowed,
        rule: reason.clone(),
        reason,
    };
    let Pusher::User(user) = pusher else {
        return decision(true, "local push (allow_local_push)".into());
    };
    let need = policy.need_of(repo, update, update.has_merges);
    let by_ref = policy.access(repo, user, need, Some(update.ref_name.as_str()), Some(user));
    if !by_ref.allowed {
        return RefDecision {
            allowed: false,
            reason: by_ref.reason(),
            rule: by_ref.origin(),
        };
    }
    let vrefs = policy.vrefs(repo, user);
    if let Some(other) = vrefs.iter().find(|v| !v.starts_with("VREF/NAME/")) {
        return decision(
            false,
            format!("path rule '{other}' is of a kind forge does not check; refused"),
        );
    }
    if vrefs.is_empty() {
        return decision(true, by_ref.reason());
    }
    let Some(paths) = &update.paths else {
        return decision(
            false,
            "the changed files were not sent (too many to check the path rules, or the rules \
             changed during the push); push again, in smaller steps if it has many files"
                .into(),
        );
    };
    if let Some(path) = paths.iter().find(|path| !is_decidable_path(path)) {
        return decision(
            false,
            format!(
                "{}: this file name is not UTF-8 or holds a control character, which path \
                 rules cannot decide; rename the file",
                shown(path)
            ),
        );
    }
    for path in paths {
        let name = format!("VREF/NAME/{path}");
        let by_path = policy.access(repo, user, need, Some(&name), Some(user));
        if !by_path.allowed {
            return RefDecision {
                allowed: false,
                reason: format!("{path}: {}", by_path.reason()),
                rule: format!("{path}: {}", by_path.origin()),
            };
        }
    }
    decision(true, by_ref.reason())
}

/// Which facts of a push forged could need to decide its ref updates, as `check` tells
/// forge-shell, which passes them to pre-receive (`FORGE_NEEDS`): pre-receive computes only
/// these. What is not sent is decided on the safe side (`ref_update`): no changed paths
/// refuse the update if a path rule applies after all, and an unknown merge counts as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushNeeds {
    /// Whether a path rule (`VREF/...`) applies to the pusher on the repository, so the
    /// changed paths of each update are needed.
    pub paths: bool,
    /// Whether the repository checks merges (`MERGE_CHECK`), so whether each update brings
    /// a merge is needed.
    pub merges: bool,
}

impl PushNeeds {
    /// Every fact: what pre-receive computes when it is not told otherwise.
    pub const ALL: PushNeeds = PushNeeds {
        paths: true,
        merges: true,
    };
}

impl Default for PushNeeds {
    /// [`PushNeeds::ALL`], so that an answer without the field means compute everything.
    fn default() -> PushNeeds {
        PushNeeds::ALL
    }
}

/// Returns which facts of a push by `user` to `repo` a ref decision could read: the changed
/// paths when any virtual ref rule applies to the user there, merges when the repository
/// checks them.
pub fn push_needs(policy: &Policy, user: &str, repo: &RepoState<'_>) -> PushNeeds {
    PushNeeds {
        paths: !policy.vrefs(repo, user).is_empty(),
        merges: policy.is_on(repo.name, repo.creator, "MERGE_CHECK"),
    }
}

/// Returns whether path rules can decide `path`: it names the file as it is (no U+FFFD, which
/// stands for bytes that were not UTF-8, see `update_facts::changed_paths`)
/// and holds no control character, which a rule's `.` or `$` would read differently from git.
fn is_decidable_path(path: &str) -> bool {
    !path
        .chars()
        .any(|c| c == char::REPLACEMENT_CHARACTER || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::document::{Document, OptionRow, RuleRow};
    use crate::policy::{ObjectId, RefName, Refex, UpdateKind, shortcuts};

    const OLD: &str = "1111111111111111111111111111111111111111";
    const NEW: &str = "2222222222222222222222222222222222222222";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    /// Returns the policy of `rules` (`repo perm refex = who`) and `options` (`repo name`, on).
    fn policy(rules: &[(&str, &str, &str, &str)], options: &[(&str, &str)]) -> Policy {
        let rules = rules
            .iter()
            .enumerate()
            .map(|(index, (repo, perm, refex, who))| RuleRow {
                seq: index as i64 + 1,
                repo: (*repo).to_owned(),
                who: (*who).to_owned(),
                perm: (*perm).to_owned(),
                refex: Refex::parse(refex).unwrap().as_str().to_owned(),
                source: format!("test rule {}", index + 1),
            })
            .collect();
        let options = options
            .iter()
            .enumerate()
            .map(|(index, (repo, name))| OptionRow {
                seq: 1000 + index as i64,
                repo: (*repo).to_owned(),
                name: (*name).to_owned(),
                value: "1".to_owned(),
                source: "test option".to_owned(),
            })
            .collect();
        let document = Document {
            rules,
            options,
            ..Document::default()
        };
        shortcuts::build(&document, &[], &[]).unwrap()
    }

    fn update(reference: &str, old: &str, new: &str, kind: UpdateKind) -> RefUpdate {
        RefUpdate {
            ref_name: RefName::parse(reference).unwrap(),
            old: ObjectId::parse(old).unwrap(),
            new: ObjectId::parse(new).unwrap(),
            kind,
            paths: Some(Vec::new()),
            has_merges: false,
        }
    }

    fn with_paths(mut update: RefUpdate, paths: Option<&[&str]>) -> RefUpdate {
        update.paths = paths.map(|paths| paths.iter().map(|p| (*p).to_owned()).collect());
        update
    }

    fn name(decision: &Decision<'_>) -> &'static str {
        match decision {
            Decision::Granted(_) => "granted",
            Decision::Denied(_) => "denied",
            Decision::Creatable(_) => "creatable",
            Decision::Missing(_) => "missing",
        }
    }

    #[test]
    fn access_reads_and_writes_by_the_rules() {
        let policy = policy(
            &[
                ("acme/widgets", "RW+", "", "alice"),
                ("acme/widgets", "R", "", "bob"),
            ],
            &[],
        );
        let repo = RepoState::existing("acme/widgets", None, &[]);
        for (user, wanted, expected) in [
            ("alice", Access::Read, "granted"),
            ("alice", Access::Write, "granted"),
            ("alice", Access::Admin, "granted"),
            ("bob", Access::Read, "granted"),
            ("bob", Access::Write, "denied"),
            ("mallory", Access::Read, "denied"),
        ] {
            let decision = access(&policy, user, &repo, wanted);
            assert_eq!(name(&decision), expected, "{user} {wanted}");
            assert_eq!(decision.is_granted(), expected == "granted");
        }
    }

    #[test]
    fn a_missing_repository_is_creatable_from_a_pattern_or_missing() {
        let policy = policy(
            &[
                ("users/CREATOR/..*", "C", "", "@all"),
                ("users/CREATOR/..*", "RW+", "", "@CREATOR"),
            ],
            &[],
        );
        let ask = |user, repo| {
            name(&access(
                &policy,
                user,
                &RepoState::missing(repo),
                Access::Write,
            ))
        };
        assert_eq!(ask("alice", "users/alice/new"), "creatable");
        assert_eq!(ask("mallory", "users/alice/new"), "missing");
        assert_eq!(ask("alice", "acme/widgets"), "missing");
        assert!(create(&policy, "alice", "users/alice/new").allowed);
        let roles = Vec::new();
        let created = RepoState::existing("users/alice/new", Some("alice"), &roles);
        assert!(access(&policy, "alice", &created, Access::Write).is_granted());
        assert!(!access(&policy, "mallory", &created, Access::Read).is_granted());
        assert!(!create(&policy, "alice", "users/bob/new").allowed);
    }

    #[test]
    fn denied_and_missing_repositories_say_why_in_the_log_only() {
        let policy = policy(&[("acme/widgets", "R", "", "alice")], &[]);
        let denied = access(
            &policy,
            "bob",
            &RepoState::existing("acme/widgets", None, &[]),
            Access::Read,
        );
        assert!(
            denied
                .verdict()
                .reason()
                .starts_with("denied: no rule lets bob")
        );
        let missing = access(
            &policy,
            "bob",
            &RepoState::missing("acme/other"),
            Access::Read,
        );
        assert!(!missing.verdict().allowed);
    }

    #[test]
    fn ref_updates_need_what_they_do() {
        let policy = policy(
            &[
                ("acme/widgets", "-", "main$", "intern"),
                ("acme/widgets", "RW", "main$", "@all"),
                ("acme/widgets", "RW+", "dev/", "@all"),
            ],
            &[],
        );
        let repo = RepoState::existing("acme/widgets", None, &[]);
        let ff = update("refs/heads/main", OLD, NEW, UpdateKind::FastForward);
        let force = update("refs/heads/main", OLD, NEW, UpdateKind::NonFastForward);
        let dev = update("refs/heads/dev/x", OLD, ZERO, UpdateKind::Delete);
        let decide =
            |user, update: &RefUpdate| ref_update(&policy, &repo, Pusher::User(user), update);
        assert!(decide("alice", &ff).allowed);
        let refused = decide("alice", &force);
        assert!(!refused.allowed);
        assert!(
            refused.reason.starts_with("denied: no rule lets alice"),
            "{}",
            refused.reason
        );
        assert!(decide("alice", &dev).allowed);
        let intern = decide("intern", &ff);
        assert!(!intern.allowed);
        assert!(
            intern.reason.starts_with(
                "denied by rule '- refs/heads/main$ = intern' on 'acme/widgets' (test rule 1)"
            ),
            "{}",
            intern.reason
        );
    }

    #[test]
    fn merges_are_checked_only_where_the_option_says() {
        let rules = [("acme/.*", "RW", "", "alice")];
        let mut merge = update("refs/heads/main", OLD, NEW, UpdateKind::FastForward);
        merge.has_merges = true;
        let plain = policy(&rules, &[]);
        let checked = policy(&rules, &[("acme/.*", "MERGE_CHECK")]);
        let repo = RepoState::existing("acme/widgets", None, &[]);
        assert!(ref_update(&plain, &repo, Pusher::User("alice"), &merge).allowed);
        assert!(!ref_update(&checked, &repo, Pusher::User("alice"), &merge).allowed);
    }

    #[test]
    fn path_rules_refuse_a_changed_path_by_name() {
        let policy = policy(
            &[
                ("acme/widgets", "RW+", "", "alice"),
                ("acme/widgets", "-", "VREF/NAME/secrets/", "alice"),
            ],
            &[],
        );
        let repo = RepoState::existing("acme/widgets", None, &[]);
        let base = update("refs/heads/main", OLD, NEW, UpdateKind::FastForward);
        let decide = |paths| {
            ref_update(
                &policy,
                &repo,
                Pusher::User("alice"),
                &with_paths(base.clone(), paths),
            )
        };
        assert!(decide(Some(&["src/lib.rs"])).allowed);
        let secret = decide(Some(&["src/lib.rs", "secrets/token"]));
        assert!(!secret.allowed);
        assert!(
            secret.reason.starts_with(
                "secrets/token: denied by rule '- VREF/NAME/secrets/ = alice' on 'acme/widgets' (test rule 2)"
            ),
            "{}",
            secret.reason
        );
        let unknown = decide(None);
        assert!(!unknown.allowed);
        assert!(
            unknown
                .reason
                .starts_with("the changed files were not sent"),
            "{}",
            unknown.reason
        );
    }

    #[test]
    fn a_push_needs_paths_only_where_a_path_rule_applies_to_the_pusher() {
        let policy = policy(
            &[
                ("acme/.*", "RW+", "", "@all"),
                ("acme/widgets", "-", "VREF/NAME/secrets/", "alice"),
                ("acme/tools", "-", "VREF/NAME/secrets/", "@all"),
            ],
            &[],
        );
        let widgets = RepoState::existing("acme/widgets", None, &[]);
        let tools = RepoState::existing("acme/tools", None, &[]);
        let other = RepoState::existing("acme/other", None, &[]);
        let needs = |user, repo| push_needs(&policy, user, repo);
        assert!(needs("alice", &widgets).paths);
        assert!(!needs("bob", &widgets).paths, "the rule is alice's");
        assert!(needs("bob", &tools).paths, "@all holds bob");
        assert!(!needs("alice", &other).paths);
        assert!(!needs("alice", &widgets).merges);
    }

    #[test]
    fn a_push_needs_merges_only_where_the_repository_checks_them() {
        let policy = policy(
            &[("acme/.*", "RW+", "", "@all")],
            &[("acme/widgets", "MERGE_CHECK")],
        );
        let needs = |name| push_needs(&policy, "alice", &RepoState::existing(name, None, &[]));
        assert_eq!(
            needs("acme/widgets"),
            PushNeeds {
                paths: false,
                merges: true
            }
        );
        assert!(!needs("acme/other").merges);
    }

    #[test]
    fn an_answer_without_needs_means_every_fact() {
        assert_eq!(PushNeeds::default(), PushNeeds::ALL);
        const { assert!(PushNeeds::ALL.paths && PushNeeds::ALL.merges) };
    }

    // https://github.com/forge/forge/issues/11
    #[test]
    fn regression_11_a_file_name_path_rules_cannot_decide_is_refused() {
        let policy = policy(
            &[
                ("acme/widgets", "RW+", "", "alice"),
                ("acme/widgets", "-", "VREF/NAME/secrets/", "alice"),
            ],
            &[],
        );
        let repo = RepoState::existing("acme/widgets", None, &[]);
        let base = update("refs/heads/main", OLD, NEW, UpdateKind::FastForward);
        for (path, allowed) in [
            ("docs/\u{e9}t\u{e9}.md", true),
            ("docs/\u{fffd}.conf", false),
            ("secrets/\u{fffd}.conf", false),
            ("docs/a\nb", false),
            ("docs/\u{1b}[31m", false),
            ("docs/\u{7f}", false),
            ("docs/\u{85}", false),
        ] {
            let decided = ref_update(
                &policy,
                &repo,
                Pusher::User("alice"),
                &with_paths(base.clone(), Some(&["src/lib.rs", path])),
            );
            assert_eq!(decided.allowed, allowed, "{path:?}: {}", decided.reason);
            if !allowed {
                assert!(
                    decided.reason.contains(
                        "this file name is not UTF-8 or holds a control character, which path \
                         rules cannot decide; rename the file"
                    ) && !decided.reason.chars().any(char::is_control),
                    "{}",
                    decided.reason
                );
            }
        }
        let unruled = policy_without_path_rules();
        let odd = with_paths(base, Some(&["docs/\u{fffd}.conf"]));
        assert!(
            ref_update(&unruled, &repo, Pusher::User("alice"), &odd).allowed,
            "without a path rule, no name needs deciding"
        );
    }

    fn policy_without_path_rules() -> Policy {
        policy(&[("acme/widgets", "RW+", "", "alice")], &[])
    }

    #[test]
    fn path_rules_of_other_kinds_refuse() {
        let policy = policy(
            &[
                ("acme/widgets", "RW+", "", "alice"),
                ("acme/widgets", "-", "VREF/COUNT/5", "alice"),
            ],
            &[],
        );
        let repo = RepoState::existing("acme/widgets", None, &[]);
        let ff = update("refs/heads/main", OLD, NEW, UpdateKind::FastForward);
        let refused = ref_update(&policy, &repo, Pusher::User("alice"), &ff);
        assert_eq!(
            refused.reason,
            "path rule 'VREF/COUNT/5' is of a kind forge does not check; refused"
        );
    }

    #[test]
    fn local_pushes_let_through_skip_the_rules() {
        let policy = policy(&[], &[]);
        let repo = RepoState::existing("acme/widgets", None, &[]);
        let ff = update("refs/heads/main", OLD, NEW, UpdateKind::FastForward);
        assert_eq!(
            ref_update(&policy, &repo, Pusher::Local, &ff),
            RefDecision {
                allowed: true,
                reason: "local push (allow_local_push)".into(),
                rule: "local push (allow_local_push)".into()
            }
        );
    }

    #[test]
    fn refusals_read_as_the_pusher_is_shown_them() {
        for (refusal, text) in [
            (
                Refusal::LocalPushDisabled,
                "pushes that bypass forge-shell are disabled; push over ssh, or set allow_local_push",
            ),
            (
                Refusal::NoLongerRegistered,
                "this key or certificate is no longer registered to you",
            ),
            (
                Refusal::NoRepository {
                    repo: "acme/widgets".into(),
                },
                "no repository 'acme/widgets' writable with this key",
            ),
        ] {
            let decision = RefDecision::from(&refusal);
            assert_eq!((decision.allowed, decision.reason.as_str()), (false, text));
        }
    }

    #[test]
    fn explain_counts_create_delete_and_merge_as_gitolite_does() {
        let rules = [("acme/.*", "RW", "", "alice")];
        let plain = policy(&rules, &[]);
        let strict = policy(&rules, &[("acme/.*", "CREATE_IS_C")]);
        let repo = RepoState::existing("acme/widgets", None, &[]);
        let need = Need::parse("C").unwrap();
        assert!(explain(&plain, "alice", &repo, need, Some("main")).allowed);
        let refused = explain(&strict, "alice", &repo, need, Some("main"));
        assert!(!refused.allowed);
        assert_eq!(refused.reference.as_deref(), Some("refs/heads/main"));
    }
}
