//! What clients ask `forged`: [`Request`], one variant per op, each documented with its JSON
//! line, and the [`Role`] an op needs.

use crate::policy::{Access, ObjectId, RefName, RefUpdate};
use crate::types::certs::{CaName, Principal};
use crate::types::identity::Identity;
use crate::types::keys::{KeyRef, Title};
use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use serde::{Deserialize, Serialize};

/// Who may ask an op, ordered so that a check is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The account sshd runs `forge-keys` as: key and certificate lookups only.
    KeyLookup,
    /// The git service account: shell, hook and key questions.
    Service,
    /// Root and the configured admins: everything, including changes of state.
    Admin,
}

/// One request to `forged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// May the user behind an identity have this access to a repository? A key identity is
    /// its id, a certificate identity `{"ca":3,"user":"alice"}`.
    /// `{"v":1,"op":"check","key":17,"repo":"acme/widgets","access":"read"}`
    Check {
        /// The identity the user logged in with.
        #[serde(rename = "key")]
        identity: Identity,
        /// The repository asked for.
        repo: RepoName,
        /// The access the git service needs.
        access: Access,
    },
    /// Who is behind an identity? `{"v":1,"op":"whoami","key":17}`,
    /// `{"v":1,"op":"whoami","key":{"ca":3,"user":"alice"}}`
    Whoami {
        /// The identity the user logged in with.
        #[serde(rename = "key")]
        identity: Identity,
    },
    /// Which repositories can the user behind an identity reach? `{"v":1,"op":"info","key":17}`
    Info {
        /// The identity the user logged in with.
        #[serde(rename = "key")]
        identity: Identity,
    },
    /// May these ref updates of one push happen? Sent by pre-receive; accepted updates are
    /// stored as pending under the session.
    /// `{"v":1,"op":"check_refs","session":"5f0c2d4e18a3f601b7d94e2a0c6f1b38","user":"alice","key":17,"repo":"acme/widgets","updates":[{"ref_name":"refs/heads/main","old":"1f7c2a9d0b3e4c5f6a7b8c9d0e1f2a3b4c5d6e7f","new":"8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b","kind":"fast_forward"}]}`
    CheckRefs {
        /// The session `check` handed out; absent for a push that did not come through
        /// `forge-shell`.
        session: Option<String>,
        /// The pushing user; absent for a local push.
        user: Option<UserName>,
        /// The identity the user logged in with; absent for a local push.
        #[serde(rename = "key")]
        identity: Option<Identity>,
        /// The repository pushed to.
        repo: RepoName,
        /// Every update of the push, classified.
        updates: Vec<RefUpdate>,
    },
    /// These ref updates happened. Sent by post-receive; confirms pending updates, idempotently.
    /// `{"v":1,"op":"record","session":"5f0c2d4e18a3f601b7d94e2a0c6f1b38","user":"alice","key":17,"repo":"acme/widgets","updates":[{"ref_name":"refs/heads/main","old":"1f7c2a9d0b3e4c5f6a7b8c9d0e1f2a3b4c5d6e7f","new":"8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b"}]}`
    Record {
        /// The session `check` handed out; absent for a local push.
        session: Option<String>,
        /// The pushing user; absent for a local push.
        user: Option<UserName>,
        /// The identity the user logged in with; absent for a local push.
        #[serde(rename = "key")]
        identity: Option<Identity>,
        /// The repository pushed to.
        repo: RepoName,
        /// The updates git made.
        updates: Vec<RefChange>,
    },
    /// Add a user. `{"v":1,"op":"user_add","user":"alice"}`
    UserAdd {
        /// The new user.
        user: UserName,
    },
    /// List users. `{"v":1,"op":"user_list"}`
    UserList,
    /// Remove a user, their keys and their grants. `{"v":1,"op":"user_remove","user":"alice"}`
    UserRemove {
        /// The user to remove.
        user: UserName,
    },
    /// Add a public key to a user.
    /// `{"v":1,"op":"key_add","user":"alice","key":"ssh-ed25519 AAAA… alice@laptop","title":"laptop","expires":"2030-01-31T00:00:00Z"}`
    KeyAdd {
        /// The key's owner.
        user: UserName,
        /// The public key as found in a `.pub` file.
        key: String,
        /// A name for the key; absent: the key's comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<Title>,
        /// When the key stops working; absent: never. Must be in the future.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<Timestamp>,
    },
    /// List keys, of one user or all, optionally only those unused since an instant.
    /// `{"v":1,"op":"key_list","user":"alice","unused_since":"2030-01-01T00:00:00Z"}`
    KeyList {
        /// Only this user's keys.
        user: Option<UserName>,
        /// Only keys last used before this, or never used and added before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unused_since: Option<Timestamp>,
    },
    /// Remove a key. `{"v":1,"op":"key_remove","key":"key-17"}` or `{"v":1,"op":"key_remove","key":"SHA256:FQXBZxl8kfUh6i5NkyCQZLy5lFJiTHfRpXeZE5CKJsQ"}`
    KeyRemove {
        /// The key: its id (`"key-17"`) or its fingerprint; older clients send `fingerprint`.
        #[serde(alias = "fingerprint")]
        key: KeyRef,
    },
    /// Create a repository. `{"v":1,"op":"repo_create","repo":"acme/widgets","description":"","public":false}`
    RepoCreate {
        /// The new repository.
        repo: RepoName,
        /// A line saying what it holds.
        description: String,
        /// Whether every registered user may read it.
        public: bool,
        /// Create it from a pattern on this user's behalf, with them as its creator.
        #[serde(default)]
        creator: Option<UserName>,
    },
    /// List repositories. `{"v":1,"op":"repo_list"}`
    RepoList,
    /// Remove a repository; its files are moved aside, not deleted.
    /// `{"v":1,"op":"repo_remove","repo":"acme/widgets"}`
    RepoRemove {
        /// The repository to remove.
        repo: RepoName,
    },
    /// Grant a user access to a repository, replacing any earlier grant.
    /// `{"v":1,"op":"grant","repo":"acme/widgets","user":"alice","access":"write"}`
    Grant {
        /// The repository.
        repo: RepoName,
        /// The user.
        user: UserName,
        /// The access granted.
        access: Access,
    },
    /// Take a user's grant on a repository away. `{"v":1,"op":"revoke","repo":"acme/widgets","user":"alice"}`
    Revoke {
        /// The repository.
        repo: RepoName,
        /// The user.
        user: UserName,
    },
    /// Would a user be allowed this, and by which rule? Answers as `gitolite access` does.
    /// `{"v":1,"op":"access","user":"alice","repo":"acme/widgets","need":"+","reference":"refs/heads/main"}`
    Access {
        /// The user.
        user: UserName,
        /// The repository; one that does not exist is asked about with the user as its
        /// would-be creator.
        repo: RepoName,
        /// `R`, `W`, `+`, `C`, `D`, `M` or `^C`.
        need: String,
        /// A full ref name or `VREF/NAME/<path>`; none means any ref.
        reference: Option<String>,
    },
    /// Create a repository from a pattern, as its creator (the SSH command `create`).
    /// `{"v":1,"op":"create","key":17,"repo":"pub/alice/tool"}`
    Create {
        /// The identity the user logged in with.
        #[serde(rename = "key")]
        identity: Identity,
        /// The repository to create.
        repo: RepoName,
    },
    /// Show or change the roles of a repository the key's owner created (the SSH command
    /// `perms`). `{"v":1,"op":"perms","key":17,"repo":"pub/alice/tool","change":{"add":{"role":"READERS","member":"bob"}}}`
    Perms {
        /// The identity the user logged in with.
        #[serde(rename = "key")]
        identity: Identity,
        /// The repository.
        repo: RepoName,
        /// What to do.
        change: RoleChange,
    },
    /// Show or change the roles of any repository, as an admin.
    /// `{"v":1,"op":"repo_perms","repo":"pub/alice/tool","change":"list"}`
    RepoPerms {
        /// The repository.
        repo: RepoName,
        /// What to do.
        change: RoleChange,
    },
    /// The policy: groups, rules and options. `{"v":1,"op":"policy_export"}`
    PolicyExport,
    /// Replace the policy, in one transaction; with `dry_run` only say what would change.
    /// `{"v":1,"op":"policy_apply","document":{"user_groups":{"@devs":["alice","bob"]},"repo_groups":{},"rules":[{"seq":1,"repo":"acme/widgets","who":"@devs","perm":"RW+","refex":"refs/.*","source":"policy.toml line 3"}],"options":[],"roles":[]},"dry_run":true}`
    PolicyApply {
        /// The new policy.
        document: crate::policy::document::Document,
        /// Only show the changes.
        dry_run: bool,
    },
    /// Put rules in front of every other rule (`forgectl protect`). Rules already stored with
    /// the same `source` are replaced; every user, `@group` and repository they name must exist.
    /// `{"v":1,"op":"prepend_rules","rules":[{"seq":1,"repo":"acme/widgets","who":"alice","perm":"RW","refex":"refs/heads/main$","source":"forgectl protect acme/widgets branch 'main'"}]}`
    PrependRules {
        /// The rules, numbered from 1 in the order they must apply.
        rules: Vec<crate::policy::document::RuleRow>,
    },
    /// Remove the protection of a branch, or (`branch` null) of the tags (`forgectl unprotect`).
    /// `{"v":1,"op":"unprotect","repo":"acme/widgets","branch":"main"}`
    Unprotect {
        /// The repository.
        repo: RepoName,
        /// The branch; none for the tags.
        branch: Option<String>,
    },
    /// Import users, keys and a policy (`forgectl import gitolite`), in one transaction.
    /// `{"v":1,"op":"import","users":["alice"],"keys":[["alice","ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM alice@laptop"]],"document":{"user_groups":{"@devs":["alice","bob"]},"repo_groups":{},"rules":[{"seq":1,"repo":"acme/widgets","who":"@devs","perm":"RW+","refex":"refs/.*","source":"policy.toml line 3"}],"options":[],"roles":[]},"dry_run":false,"replace":false}`
    Import {
        /// Users to add when missing.
        users: Vec<UserName>,
        /// Keys to add when missing: `(user, key text)`.
        keys: Vec<(UserName, String)>,
        /// Repositories to create when missing.
        #[serde(default)]
        repos: Vec<RepoName>,
        /// The policy, replacing the current one.
        document: crate::policy::document::Document,
        /// Only show the changes.
        dry_run: bool,
        /// Replace a policy the forge holds already; without it, an import that would change
        /// one is refused (#13).
        #[serde(default)]
        replace: bool,
    },
    /// The newest recorded ref updates. `{"v":1,"op":"audit","repo":null,"user":"alice","limit":50}`
    Audit {
        /// Only updates to this repository.
        repo: Option<RepoName>,
        /// Only updates by this user.
        user: Option<UserName>,
        /// At most this many entries, newest first.
        limit: u32,
    },
    /// The admin audit: changes of state, who asked, what and the result, oldest first.
    /// `{"v":1,"op":"admin_audit","since":"2026-12-01T00:00:00Z","limit":50}`
    AdminAudit {
        /// Only rows at or after this instant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Timestamp>,
        /// At most this many of the newest rows.
        limit: u32,
    },
    /// Denied access attempts, oldest first.
    /// `{"v":1,"op":"denied_audit","since":"2026-12-01T00:00:00Z","limit":50}`
    DeniedAudit {
        /// Only rows at or after this instant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Timestamp>,
        /// At most this many of the newest rows.
        limit: u32,
    },
    /// Bring back a removed repository from where `repo_remove` moved it: the latest copy, or
    /// the one removed at `from` (the unix seconds `repo_remove` named its folder by).
    /// `{"v":1,"op":"repo_restore","repo":"acme/widgets","from":"1796376600"}`
    RepoRestore {
        /// The repository.
        repo: RepoName,
        /// Which removed copy; absent: the latest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// Is the daemon up, and how much does it hold? `{"v":1,"op":"status"}`
    Status,
    /// The `authorized_keys` lines of every key. `{"v":1,"op":"authorized_keys"}`
    AuthorizedKeys,
    /// The `authorized_keys` line for one key sshd was shown (`AuthorizedKeysCommand`), found
    /// by fingerprint; none when the login is not the git account or the key is unknown.
    /// `{"v":1,"op":"key_lookup","login":"git","key_type":"ssh-ed25519","key":"AAAA…"}`
    KeyLookup {
        /// The account sshd is logging in (`%u`).
        login: String,
        /// The key type sshd saw (`%t`).
        key_type: String,
        /// The key, base64 (`%k`).
        key: String,
    },
    /// Register a user CA whose certificates log users in.
    /// `{"v":1,"op":"ca_add","name":"corp","key":"ssh-ed25519 AAAA… corp-ca"}`
    CaAdd {
        /// The name to register it under.
        name: CaName,
        /// The CA's public key as found in a `.pub` file.
        key: String,
    },
    /// List user CAs. `{"v":1,"op":"ca_list"}`
    CaList,
    /// Remove a user CA; its certificates are refused from the next request on.
    /// `{"v":1,"op":"ca_remove","name":"corp"}`
    CaRemove {
        /// The CA's name.
        name: CaName,
    },
    /// Log a certificate principal in as a user other than the one of its name.
    /// `{"v":1,"op":"principal_map","principal":"ops-alice","user":"bob"}`
    PrincipalMap {
        /// The certificate principal.
        principal: Principal,
        /// The user it logs in as.
        user: UserName,
    },
    /// Remove a principal's mapping. `{"v":1,"op":"principal_unmap","principal":"ops-alice"}`
    PrincipalUnmap {
        /// The certificate principal.
        principal: Principal,
    },
    /// List principal mappings. `{"v":1,"op":"principal_list"}`
    PrincipalList,
    /// The `authorized_principals` lines for a certificate sshd was shown
    /// (`AuthorizedPrincipalsCommand`): one per principal that resolves to a user, none when
    /// the login is not the git account, the certificate is not a currently valid user
    /// certificate, or its CA is not registered.
    /// `{"v":1,"op":"principals_lookup","login":"git","key_type":"ssh-ed25519-cert-v01@openssh.com","key":"AAAA…"}`
    PrincipalsLookup {
        /// The account sshd is logging in (`%u`).
        login: String,
        /// The certificate type sshd saw (`%t`).
        key_type: String,
        /// The certificate, base64 (`%k`).
        key: String,
    },
    /// Turn maintenance mode on, or change its message: pushes, creations and every other
    /// change of state are refused with the message until it is turned off; reads go on.
    /// `{"v":1,"op":"maintenance_on","message":"moving to new disks until 06:00 UTC"}`
    MaintenanceOn {
        /// One line shown to everyone refused; at most 200 bytes, no control characters.
        message: String,
    },
    /// Turn maintenance mode off. `{"v":1,"op":"maintenance_off"}`
    MaintenanceOff,
    /// Is maintenance mode on, and how many pushes are in flight?
    /// `{"v":1,"op":"maintenance_status"}`
    MaintenanceStatus,
    /// Wait until no push is in flight (pre-receive accepted, post-receive not yet recorded),
    /// at most `timeout_seconds`; answers with the status, in flight count included.
    /// `{"v":1,"op":"maintenance_wait","timeout_seconds":60}`
    MaintenanceWait {
        /// The longest wait; at most 110 seconds, inside an admin's request timeout.
        timeout_seconds: u32,
    },
    /// Pause pushes and changes for a backup: new ones wait briefly or are refused as paused
    /// for maintenance; answers once the pushes in flight landed, with the token that resumes.
    /// The pause ends by itself after `lease_seconds`, should the backup die.
    /// `{"v":1,"op":"pause_writes","lease_seconds":120,"wait_seconds":60}`
    PauseWrites {
        /// How long the pause lasts at most; at most 600 seconds.
        lease_seconds: u32,
        /// How long to wait for the pushes in flight; at most 110 seconds.
        wait_seconds: u32,
    },
    /// Lift a pause; refused if its lease ran out first (the backup is then not consistent).
    /// `{"v":1,"op":"resume_writes","token":"5f0c2d4e18a3f601b7d94e2a0c6f1b38"}`
    ResumeWrites {
        /// The token `pause_writes` answered.
        token: String,
    },
    /// Make a snapshot of the database with SQLite's `VACUUM INTO` in forged's state folder,
    /// to be read with `db_snapshot_read`. Under a pause (`token`), refused unless it is held.
    /// `{"v":1,"op":"db_snapshot","token":"5f0c2d4e18a3f601b7d94e2a0c6f1b38"}`
    DbSnapshot {
        /// The pause it is taken under, if any.
        #[serde(default)]
        token: Option<String>,
    },
    /// A piece of a snapshot, from `offset`.
    /// `{"v":1,"op":"db_snapshot_read","snapshot":"5f0c2d4e18a3f601b7d94e2a0c6f1b38","offset":0}`
    DbSnapshotRead {
        /// The snapshot `db_snapshot` answered.
        snapshot: String,
        /// Where to read from.
        offset: u64,
    },
    /// Remove a snapshot's file. `{"v":1,"op":"db_snapshot_drop","snapshot":"5f0c2d4e18a3f601b7d94e2a0c6f1b38"}`
    DbSnapshotDrop {
        /// The snapshot.
        snapshot: String,
    },
}

impl Request {
    /// Returns the least role a caller needs to ask this.
    pub fn required_role(&self) -> Role {
        match self {
            Request::Check { .. }
            | Request::Whoami { .. }
            | Request::Info { .. }
            | Request::CheckRefs { .. }
            | Request::Record { .. }
            | Request::Create { .. }
            | Request::Perms { .. } => Role::Service,
            Request::KeyLookup { .. } | Request::PrincipalsLookup { .. } => Role::KeyLookup,
            _ => Role::Admin,
        }
    }

    /// Returns the op name, as written on the wire.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Check { .. } => "check",
            Request::Whoami { .. } => "whoami",
            Request::Info { .. } => "info",
            Request::CheckRefs { .. } => "check_refs",
            Request::Record { .. } => "record",
            Request::UserAdd { .. } => "user_add",
            Request::UserList => "user_list",
            Request::UserRemove { .. } => "user_remove",
            Request::KeyAdd { .. } => "key_add",
            Request::KeyList { .. } => "key_list",
            Request::KeyRemove { .. } => "key_remove",
            Request::RepoCreate { .. } => "repo_create",
            Request::RepoList => "repo_list",
            Request::RepoRemove { .. } => "repo_remove",
            Request::Grant { .. } => "grant",
            Request::Revoke { .. } => "revoke",
            Request::Access { .. } => "access",
            Request::Create { .. } => "create",
            Request::Perms { .. } => "perms",
            Request::RepoPerms { .. } => "repo_perms",
            Request::PolicyExport => "policy_export",
            Request::PolicyApply { .. } => "policy_apply",
            Request::PrependRules { .. } => "prepend_rules",
            Request::Unprotect { .. } => "unprotect",
            Request::Import { .. } => "import",
            Request::Audit { .. } => "audit",
            Request::Status => "status",
            Request::AuthorizedKeys => "authorized_keys",
            Request::KeyLookup { .. } => "key_lookup",
            Request::CaAdd { .. } => "ca_add",
            Request::CaList => "ca_list",
            Request::CaRemove { .. } => "ca_remove",
            Request::PrincipalMap { .. } => "principal_map",
            Request::PrincipalUnmap { .. } => "principal_unmap",
            Request::PrincipalList => "principal_list",
            Request::PrincipalsLookup { .. } => "principals_lookup",
            Request::AdminAudit { .. } => "admin_audit",
            Request::DeniedAudit { .. } => "denied_audit",
            Request::RepoRestore { .. } => "repo_restore",
            Request::MaintenanceOn { .. } => "maintenance_on",
            Request::MaintenanceOff => "maintenance_off",
            Request::MaintenanceStatus => "maintenance_status",
            Request::MaintenanceWait { .. } => "maintenance_wait",
            Request::PauseWrites { .. } => "pause_writes",
            Request::ResumeWrites { .. } => "resume_writes",
            Request::DbSnapshot { .. } => "db_snapshot",
            Request::DbSnapshotRead { .. } => "db_snapshot_read",
            Request::DbSnapshotDrop { .. } => "db_snapshot_drop",
        }
    }

    /// Returns what kind of state this request changes, or `None` when it changes none: the
    /// requests with a kind are the ones the admin audit records.
    ///
    /// The match names every op, so a new op does not compile until it says whether it
    /// changes state.
    pub fn changes(&self) -> Option<Changes> {
        match self {
            Request::UserAdd { .. } | Request::UserRemove { .. } => Some(Changes::User),
            Request::KeyAdd { .. } | Request::KeyRemove { .. } => Some(Changes::Key),
            Request::RepoCreate { .. }
            | Request::RepoRemove { .. }
            | Request::RepoRestore { .. }
            | Request::Create { .. } => Some(Changes::Repository),
            Request::Grant { .. } | Request::Revoke { .. } => Some(Changes::Grant),
            Request::Perms { change, .. } | Request::RepoPerms { change, .. } => {
                (*change != RoleChange::List).then_some(Changes::Grant)
            }
            Request::PolicyApply { dry_run, .. } | Request::Import { dry_run, .. } => {
                (!dry_run).then_some(Changes::Policy)
            }
            Request::PrependRules { .. } | Request::Unprotect { .. } => Some(Changes::Policy),
            Request::CaAdd { .. } | Request::CaRemove { .. } => Some(Changes::Ca),
            Request::PrincipalMap { .. } | Request::PrincipalUnmap { .. } => {
                Some(Changes::Principal)
            }
            Request::MaintenanceOn { .. } | Request::MaintenanceOff => Some(Changes::Maintenance),
            // The push path records into the ref-update audit, and `check` issues sessions;
            // neither is an admin's change of state.
            Request::Check { .. }
            | Request::Whoami { .. }
            | Request::Info { .. }
            | Request::CheckRefs { .. }
            | Request::Record { .. }
            | Request::UserList
            | Request::KeyList { .. }
            | Request::RepoList
            | Request::Access { .. }
            | Request::PolicyExport
            | Request::Audit { .. }
            | Request::AdminAudit { .. }
            | Request::DeniedAudit { .. }
            | Request::Status
            | Request::AuthorizedKeys
            | Request::KeyLookup { .. }
            | Request::CaList
            | Request::PrincipalList
            | Request::PrincipalsLookup { .. }
            | Request::MaintenanceStatus
            | Request::MaintenanceWait { .. }
            | Request::PauseWrites { .. }
            | Request::ResumeWrites { .. }
            | Request::DbSnapshot { .. }
            | Request::DbSnapshotRead { .. }
            | Request::DbSnapshotDrop { .. } => None,
        }
    }

    /// Returns whether this changes forge's state, and so is refused in maintenance mode and
    /// waits out a backup's pause: a write `check` (a push), and every request the admin audit
    /// records ([`Request::changes`]) but switching maintenance itself. Not: reads, dry runs,
    /// backup, and pre- and post-receive, whose push the gate follows itself (`check_refs`
    /// passes it as a push in flight; `record` reports what git already did and is never
    /// refused).
    pub fn is_change(&self) -> bool {
        match self {
            Request::Check { access, .. } => *access >= Access::Write,
            Request::MaintenanceOn { .. } | Request::MaintenanceOff => false,
            _ => self.changes().is_some(),
        }
    }

    /// Returns the request's arguments as a JSON object for the admin audit: every field but
    /// the op, with the value of any field named in [`SECRET_FIELDS`] replaced, and a value
    /// longer than [`MAX_AUDITED_VALUE`] bytes (a policy of thousands of rules, say) replaced
    /// by its size.
    pub fn audited_args(&self) -> String {
        audited(serde_json::to_value(self).unwrap_or(serde_json::Value::Null))
    }
}

/// Returns a request's JSON `value` as the admin audit stores it; see
/// [`Request::audited_args`].
pub(crate) fn audited(mut value: serde_json::Value) -> String {
    {
        if let serde_json::Value::Object(fields) = &mut value {
            fields.remove("op");
            for (name, field) in fields.iter_mut() {
                if SECRET_FIELDS.contains(&name.as_str()) {
                    *field = serde_json::Value::String("(secret, not recorded)".into());
                    continue;
                }
                let size = field.to_string().len();
                if size > MAX_AUDITED_VALUE {
                    *field = serde_json::Value::String(format!("({size} bytes, not recorded)"));
                }
            }
        }
        value.to_string()
    }
}

/// Fields whose values the admin audit never stores. Webhook and app secrets are to be named
/// here when their ops come.
pub const SECRET_FIELDS: &[&str] = &["secret", "token", "password", "private_key"];

/// The longest argument value, in bytes of JSON, the admin audit stores as it is.
pub const MAX_AUDITED_VALUE: usize = 16 * 1024;

/// What kind of state a request changes; see [`Request::changes`]. A new kind is one line
/// here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Changes {
    /// Users.
    User,
    /// Keys.
    Key,
    /// Repositories.
    Repository,
    /// Grants and repository roles.
    Grant,
    /// The policy: groups, rules, options, protections.
    Policy,
    /// User CAs.
    Ca,
    /// Certificate principals.
    Principal,
    /// forged's settings.
    Settings,
    /// Maintenance mode, switched on or off.
    Maintenance,
}

impl Changes {
    /// Returns the kind's name, as stored and shown: its serde name, so a new kind needs no
    /// second line.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => format!("{self:?}"),
        }
    }
}

/// A ref update as post-receive reports it: git made it, so it needs no classifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefChange {
    /// The full ref name.
    pub ref_name: RefName,
    /// The id the ref had.
    pub old: ObjectId,
    /// The id the ref has now.
    pub new: ObjectId,
}

/// A change to a repository's roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleChange {
    /// Only list them.
    List,
    /// Give `member` the role.
    Add {
        /// `READERS`, `WRITERS`.
        role: String,
        /// A user or `@group`.
        member: String,
    },
    /// Take the role from `member`.
    Remove {
        /// The role.
        role: String,
        /// The member.
        member: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_of_state_are_told_from_reads_dry_runs_and_maintenance_itself() {
        let parse = |json: &str| -> Request { serde_json::from_str(json).unwrap() };
        let changes = [
            r#"{"op":"check","key":17,"repo":"acme/widgets","access":"write"}"#,
            r#"{"op":"create","key":17,"repo":"pub/alice/tool"}"#,
            r#"{"op":"user_add","user":"alice"}"#,
            r#"{"op":"repo_perms","repo":"pub/alice/tool","change":{"add":{"role":"READERS","member":"bob"}}}"#,
            r#"{"op":"ca_remove","name":"corp"}"#,
        ];
        let not_changes = [
            r#"{"op":"check","key":17,"repo":"acme/widgets","access":"read"}"#,
            r#"{"op":"repo_perms","repo":"pub/alice/tool","change":"list"}"#,
            r#"{"op":"user_list"}"#,
            r#"{"op":"maintenance_off"}"#,
            r#"{"op":"resume_writes","token":"5f0c2d4e18a3f601b7d94e2a0c6f1b38"}"#,
            r#"{"op":"record","session":null,"user":null,"key":null,"repo":"acme/widgets","updates":[]}"#,
        ];
        for json in changes {
            assert!(parse(json).is_change(), "{json}");
        }
        for json in not_changes {
            assert!(!parse(json).is_change(), "{json}");
        }
    }
}
