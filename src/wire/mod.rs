//! The protocol between `forged` and its clients: one JSON object per line over a Unix stream
//! socket.
//!
//! A client connects, writes one request line, reads one response line, and may repeat. Every
//! request carries the protocol version `v`; a request of another version, an unknown `op` or a
//! line over [`MAX_REQUEST_BYTES`] gets an [`Response::Error`] answer, not a dropped connection.
//! The peer's uid (`SO_PEERCRED`) decides which ops it may ask: [`Request::required_role`].
//!
//! ```text
//! -> {"v":1,"op":"check","key":17,"repo":"acme/widgets","access":"write"}
//! <- {"v":1,"answer":"granted","user":"alice","repo":"acme/widgets","path":"/var/lib/forge/repos/acme/widgets.git","session":"18a3f0c2d4e5f601"}
//! ```

pub mod client;

use crate::exit::{self, Classify, Code};
use crate::policy::{Access, ObjectId, RefName, RefUpdate, UpdateKind};
use crate::types::certs::{CaId, CaName, Principal};
use crate::types::identity::Identity;
use crate::types::keys::{Fingerprint, KeyId, Title};
use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line `forged` reads, newline included.
pub const MAX_REQUEST_BYTES: usize = 8 << 20;

/// The longest response line a client reads, newline included (a full `authorized_keys` listing
/// of a large site fits).
pub const MAX_RESPONSE_BYTES: usize = 512 << 20;

/// The most ref updates one `check_refs` or `record` request may carry.
pub const MAX_UPDATES: usize = 10_000;

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
    /// `{"v":1,"op":"check_refs","session":"18a3…","user":"alice","key":17,"repo":"acme/widgets","updates":[{"ref_name":"refs/heads/main","old":"…","new":"…","kind":"fast_forward"}]}`
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
    /// `{"v":1,"op":"record","session":"18a3…","user":"alice","key":17,"repo":"acme/widgets","updates":[{"ref_name":"refs/heads/main","old":"…","new":"…"}]}`
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
    /// Remove a key. `{"v":1,"op":"key_remove","fingerprint":"SHA256:…"}`
    KeyRemove {
        /// The key's fingerprint.
        fingerprint: Fingerprint,
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
    /// `{"v":1,"op":"policy_apply","document":{…},"dry_run":true}`
    PolicyApply {
        /// The new policy.
        document: crate::policy::document::Document,
        /// Only show the changes.
        dry_run: bool,
    },
    /// Put rules in front of every other rule (`forgectl protect`).
    /// `{"v":1,"op":"prepend_rules","rules":[…]}`
    PrependRules {
        /// The rules, numbered from 1 in the order they must apply.
        rules: Vec<crate::policy::document::RuleRow>,
    },
    /// Import users, keys and a policy (`forgectl import gitolite`), in one transaction.
    /// `{"v":1,"op":"import","users":["alice"],"keys":[["alice","ssh-ed25519 …"]],"document":{…},"dry_run":false}`
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

/// One answer from `forged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Response {
    /// `check` allowed: run git on `path`.
    /// `{"v":1,"answer":"granted","user":"alice","repo":"acme/widgets","path":"/var/lib/forge/repos/acme/widgets.git","session":"18a3f0c2d4e5f601"}`
    Granted {
        /// The key's owner.
        user: UserName,
        /// The repository, as forge spells it.
        repo: RepoName,
        /// The repository's folder.
        path: PathBuf,
        /// The session id the hooks quote back.
        session: String,
    },
    /// Who is behind an identity. `{"v":1,"answer":"identity","user":"alice","key":17}`
    Identity {
        /// The user.
        user: UserName,
        /// The identity asked about.
        #[serde(rename = "key")]
        identity: Identity,
    },
    /// The repositories a user can reach. `{"v":1,"answer":"reachable","user":"alice","repos":[{"repo":"acme/widgets","access":"write","description":""}]}`
    Reachable {
        /// The key's owner.
        user: UserName,
        /// Each repository and the access the user has.
        repos: Vec<ReachableRepo>,
    },
    /// The verdict on each ref update of a push, in the order asked.
    /// `{"v":1,"answer":"ref_verdicts","verdicts":[{"ref_name":"refs/heads/main","allowed":true,"reason":"granted write"}]}`
    RefVerdicts {
        /// One verdict per update.
        verdicts: Vec<RefVerdict>,
    },
    /// The request was carried out. `{"v":1,"answer":"done"}`
    Done,
    /// Users. `{"v":1,"answer":"users","users":[{"name":"alice","keys":1,"created":"2026-11-24T02:13:01Z"}]}`
    Users {
        /// Each user.
        users: Vec<UserInfo>,
    },
    /// Keys. `{"v":1,"answer":"keys","keys":[{"id":17,"user":"alice","algorithm":"ssh-ed25519","fingerprint":"SHA256:…","comment":"alice@laptop","title":"alice@laptop","created":"…","expires":null,"last_used":"…"}]}`
    Keys {
        /// Each key.
        keys: Vec<KeyInfo>,
    },
    /// Repositories. `{"v":1,"answer":"repos","repos":[{"name":"acme/widgets","description":"","public":false,"created":"…","grants":[{"user":"alice","access":"write"}]}]}`
    Repos {
        /// Each repository.
        repos: Vec<RepoInfo>,
    },
    /// An access decision explained, as `gitolite access` prints it and in words.
    /// `{"v":1,"answer":"explained","allowed":true,"line":"refs/.*","reason":"allowed by rule 3 'RW+ refs/.* = alice' on 'foo' (policy.toml line 9)"}`
    Explained {
        /// Whether it is allowed.
        allowed: bool,
        /// gitolite's answer line.
        line: String,
        /// The rule that decided, in words, with where it came from.
        reason: String,
    },
    /// The roles of a repository. `{"v":1,"answer":"roles","creator":"alice","roles":[["READERS","bob"]]}`
    Roles {
        /// Who created it.
        creator: Option<String>,
        /// `(role, member)`, sorted.
        roles: Vec<(String, String)>,
    },
    /// The policy. `{"v":1,"answer":"policy","document":{…}}`
    Policy {
        /// Groups, rules and options.
        document: crate::policy::document::Document,
    },
    /// What a policy change changes (or, with `dry_run`, would change).
    /// `{"v":1,"answer":"changes","lines":["+ rule RW+ refs/.* = alice on foo (at 3)"],"applied":true}`
    Changes {
        /// One line per change.
        lines: Vec<String>,
        /// Whether it was applied.
        applied: bool,
    },
    /// Audit entries, newest first. `{"v":1,"answer":"audit","entries":[…]}`
    Audit {
        /// Each recorded ref update.
        entries: Vec<AuditEntry>,
    },
    /// The daemon's state. `{"v":1,"answer":"status","version":"0.1.0","protocol":1,"users":2,…}`
    Status(StatusInfo),
    /// `authorized_keys` lines, one per key, without newlines.
    /// `{"v":1,"answer":"authorized_keys","lines":["command=\"/usr/lib/forge/forge-shell key-17\",restrict ssh-ed25519 AAAA…"]}`
    AuthorizedKeys {
        /// The lines.
        lines: Vec<String>,
    },
    /// `authorized_principals` lines, one per resolved principal, without newlines.
    /// `{"v":1,"answer":"authorized_principals","lines":["command=\"/usr/lib/forge/forge-shell cert-3:alice\",restrict alice"]}`
    AuthorizedPrincipals {
        /// The lines.
        lines: Vec<String>,
    },
    /// User CAs. `{"v":1,"answer":"cas","cas":[{"id":3,"name":"corp","algorithm":"ssh-ed25519","fingerprint":"SHA256:…","comment":"corp-ca","created":"…"}]}`
    Cas {
        /// Each CA.
        cas: Vec<CaInfo>,
    },
    /// Principal mappings. `{"v":1,"answer":"principals","principals":[{"principal":"ops-alice","user":"bob","created":"…"}]}`
    Principals {
        /// Each mapping.
        principals: Vec<PrincipalInfo>,
    },
    /// The request failed. `{"v":1,"answer":"error","kind":"refused","message":"user 'alice' already exists","request":"18a3f0c2d4e5f601"}`
    Error {
        /// What kind of failure, which decides the exit code.
        kind: ErrorKind,
        /// One line saying what failed and why.
        message: String,
        /// The request id under which `forged` logged the details.
        request: String,
    },
}

/// What kind of failure a [`Response::Error`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Invalid input, or a conflict with the current state; nothing changed.
    Refused,
    /// Access denied (or the thing does not exist, which reads the same).
    Denied,
    /// The caller's account may not ask this.
    Forbidden,
    /// The request was not understood: another protocol version, an unknown op, a bad line.
    BadRequest,
    /// forged failed; details are in its log.
    Internal,
    /// forged cannot take the request now (too many connections, say); try again later.
    Busy,
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

/// A repository (or a pattern) a user can reach, and how, as the SSH command `info` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachableRepo {
    /// The repository name, or a pattern the user may create repositories from.
    pub repo: String,
    /// May read.
    pub read: bool,
    /// May write.
    pub write: bool,
    /// May create repositories from this pattern.
    pub create: bool,
    /// Its description.
    pub description: String,
}

/// The verdict on one ref update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefVerdict {
    /// The ref.
    pub ref_name: RefName,
    /// Whether the update may happen.
    pub allowed: bool,
    /// Why, in words.
    pub reason: String,
}

/// A user, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The name.
    pub name: UserName,
    /// How many keys the user has.
    pub keys: u32,
    /// When the user was added (RFC 3339, UTC).
    pub created: Timestamp,
}

/// A key, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The key id that its forced command carries.
    pub id: KeyId,
    /// The owner.
    pub user: UserName,
    /// The key type, such as `ssh-ed25519`.
    pub algorithm: String,
    /// The SHA256 fingerprint, as `ssh-keygen -l` prints it.
    pub fingerprint: Fingerprint,
    /// The comment given with the key.
    pub comment: String,
    /// The key's title (its comment, cut short, unless one was given).
    #[serde(default)]
    pub title: String,
    /// When the key was added (RFC 3339, UTC).
    pub created: Timestamp,
    /// When the key stops working (RFC 3339, UTC); `null` for never.
    #[serde(default)]
    pub expires: Option<Timestamp>,
    /// When the key was last used to log in, to the minute (RFC 3339, UTC); `null` for never.
    #[serde(default)]
    pub last_used: Option<Timestamp>,
}

/// A user CA, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaInfo {
    /// The id that certificate sessions carry (`cert-<id>:<user>`).
    pub id: CaId,
    /// The name the admin gave it.
    pub name: CaName,
    /// The key type, such as `ssh-ed25519`.
    pub algorithm: String,
    /// The SHA256 fingerprint of its public key, as `ssh-keygen -l` prints it.
    pub fingerprint: Fingerprint,
    /// The comment given with the key.
    pub comment: String,
    /// When the CA was added (RFC 3339, UTC).
    pub created: Timestamp,
}

/// A principal mapped to a user, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalInfo {
    /// The certificate principal.
    pub principal: Principal,
    /// The user it logs in as.
    pub user: UserName,
    /// When the mapping was made (RFC 3339, UTC).
    pub created: Timestamp,
}

/// A repository, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoInfo {
    /// The name.
    pub name: RepoName,
    /// What it holds.
    pub description: String,
    /// Whether every registered user may read it.
    pub public: bool,
    /// When it was created (RFC 3339, UTC).
    pub created: Timestamp,
    /// Who was granted what.
    pub grants: Vec<GrantInfo>,
}

/// One grant on a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantInfo {
    /// The user.
    pub user: UserName,
    /// The access granted.
    pub access: Access,
}

/// One recorded ref update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The entry's number, increasing with time.
    pub id: i64,
    /// When the update was accepted (RFC 3339, UTC).
    pub time: Timestamp,
    /// The pushing user, or `local:<uid>` for a local push.
    pub user: String,
    /// The key used, if the push came over SSH with a key.
    pub key: Option<KeyId>,
    /// The CA that signed the certificate used, if the push came over SSH with a certificate.
    #[serde(default)]
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

/// How much `forged` holds, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// forged's version.
    pub version: String,
    /// The protocol version it speaks.
    pub protocol: u32,
    /// Seconds since it started.
    pub uptime_seconds: u64,
    /// Registered users.
    pub users: u64,
    /// Registered keys.
    pub keys: u64,
    /// Repositories.
    pub repos: u64,
    /// Recorded ref updates.
    pub audit_entries: u64,
    /// Ref updates accepted by pre-receive and not yet confirmed.
    pub pending_updates: u64,
}

/// Why a line could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket failed.
    #[error("socket i/o failed")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection before a whole line.
    #[error("connection closed before a whole line arrived")]
    Closed,
    /// The line was longer than allowed.
    #[error("line longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The line is not the JSON expected.
    #[error("malformed message: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The peer speaks another protocol version.
    #[error("protocol version {theirs} is not {ours}; upgrade forge on both ends")]
    VersionMismatch {
        /// Ours.
        ours: u32,
        /// Theirs.
        theirs: u64,
    },
}

/// Reads one line of at most `max` bytes; `Ok(None)` at a clean end of stream.
pub fn read_line<R: BufRead>(reader: &mut R, max: usize) -> Result<Option<Vec<u8>>, Error> {
    let mut line = Vec::new();
    let mut limited = std::io::Read::take(reader, max as u64 + 1);
    let read = limited.read_until(b'\n', &mut line)?;
    match (read, line.last()) {
        (0, _) => Ok(None),
        (_, Some(b'\n')) => {
            line.pop();
            Ok(Some(line))
        }
        _ if line.len() > max => Err(Error::TooLong { max }),
        _ => Err(Error::Closed),
    }
}

/// Writes `message` with the version field as one line, and flushes.
pub fn write_message(writer: &mut impl Write, message: &impl Serialize) -> Result<(), Error> {
    let mut value = serde_json::to_value(message).map_err(Error::Malformed)?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("v".into(), PROTOCOL_VERSION.into());
    }
    let mut line = serde_json::to_vec(&value).map_err(Error::Malformed)?;
    line.push(b'\n');
    writer.write_all(&line)?;
    writer.flush()?;
    Ok(())
}

/// Returns the message in `line` after checking its protocol version.
pub fn parse_message<T: serde::de::DeserializeOwned>(line: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(Error::Malformed)?;
    match value.get("v").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        Some(theirs) => {
            return Err(Error::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs,
            });
        }
        None => {
            return Err(Error::Malformed(serde::de::Error::custom(
                "missing protocol version 'v'",
            )));
        }
    }
    serde_json::from_value(value).map_err(Error::Malformed)
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Io(e) => exit::io_code(e),
            Error::Closed => Code::Unavailable,
            Error::TooLong { .. } | Error::Malformed(_) | Error::VersionMismatch { .. } => {
                Code::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(request: &Request) -> Request {
        let mut line = Vec::new();
        write_message(&mut line, request).unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        parse_message(&line[..line.len() - 1]).unwrap()
    }

    #[test]
    fn requests_carry_op_and_version() {
        let request = Request::Check {
            identity: Identity::Key(KeyId::new(17)),
            repo: RepoName::parse("acme/widgets").unwrap(),
            access: Access::Write,
        };
        let mut line = Vec::new();
        write_message(&mut line, &request).unwrap();
        let text = String::from_utf8(line).unwrap();
        assert!(text.contains("\"op\":\"check\""), "{text}");
        assert!(text.contains("\"v\":1"), "{text}");
        assert_eq!(round_trip(&request), request);
        assert_eq!(round_trip(&Request::Status), Request::Status);
    }

    #[test]
    fn key_add_and_key_list_from_older_clients_still_parse() {
        let request: Request =
            parse_message(br#"{"v":1,"op":"key_add","user":"alice","key":"ssh-ed25519 AAAA"}"#)
                .unwrap();
        assert!(matches!(
            request,
            Request::KeyAdd {
                title: None,
                expires: None,
                ..
            }
        ));
        let request: Request = parse_message(br#"{"v":1,"op":"key_list","user":null}"#).unwrap();
        assert!(matches!(
            request,
            Request::KeyList {
                unused_since: None,
                ..
            }
        ));
        let with_both = Request::KeyAdd {
            user: UserName::parse("alice").unwrap(),
            key: "ssh-ed25519 AAAA".into(),
            title: Some(Title::parse("laptop").unwrap()),
            expires: Some(Timestamp::parse("2030-01-31").unwrap()),
        };
        assert_eq!(round_trip(&with_both), with_both);
        for bad in [
            &br#"{"v":1,"op":"key_add","user":"a","key":"k","expires":"soon"}"#[..],
            br#"{"v":1,"op":"key_add","user":"a","key":"k","title":"a\u001bb"}"#,
        ] {
            assert!(matches!(
                parse_message::<Request>(bad),
                Err(Error::Malformed(_))
            ));
        }
    }

    #[test]
    fn a_key_identity_reads_as_before_certificates_and_a_certificate_as_an_object() {
        let key = parse_message::<Request>(br#"{"v":1,"op":"whoami","key":17}"#).unwrap();
        assert_eq!(
            key,
            Request::Whoami {
                identity: Identity::Key(KeyId::new(17))
            }
        );
        let certificate = Request::Check {
            identity: Identity::Certificate {
                ca: CaId::new(3),
                user: UserName::parse("alice").unwrap(),
            },
            repo: RepoName::parse("acme/widgets").unwrap(),
            access: Access::Read,
        };
        let mut line = Vec::new();
        write_message(&mut line, &certificate).unwrap();
        let text = String::from_utf8(line).unwrap();
        assert!(text.contains(r#""key":{"ca":3,"user":"alice"}"#), "{text}");
        assert_eq!(round_trip(&certificate), certificate);
        let push = parse_message::<Request>(
            br#"{"v":1,"op":"record","session":"s","user":"alice","key":17,"repo":"x","updates":[]}"#,
        )
        .unwrap();
        assert!(matches!(
            push,
            Request::Record {
                identity: Some(Identity::Key(_)),
                ..
            }
        ));
    }

    #[test]
    fn another_version_is_a_clear_error() {
        let error = parse_message::<Request>(br#"{"v":2,"op":"status"}"#).unwrap_err();
        assert!(matches!(error, Error::VersionMismatch { theirs: 2, .. }));
        let error = parse_message::<Request>(br#"{"op":"status"}"#).unwrap_err();
        assert!(error.to_string().contains("missing protocol version"));
    }

    #[test]
    fn unknown_ops_and_invalid_fields_are_malformed() {
        for line in [
            &br#"{"v":1,"op":"rm_rf"}"#[..],
            br#"{"v":1,"op":"check","key":1,"repo":"../etc","access":"read"}"#,
            br#"{"v":1,"op":"check","key":1,"repo":"x","access":"root"}"#,
            b"not json",
        ] {
            assert!(matches!(
                parse_message::<Request>(line),
                Err(Error::Malformed(_))
            ));
        }
    }

    #[test]
    fn lines_are_bounded() {
        let mut input = std::io::Cursor::new(vec![b'a'; 100]);
        assert!(matches!(
            read_line(&mut input, 10),
            Err(Error::TooLong { max: 10 })
        ));
        let mut input = std::io::Cursor::new(b"abc\ndef".to_vec());
        assert_eq!(read_line(&mut input, 10).unwrap().unwrap(), b"abc");
        assert!(matches!(read_line(&mut input, 10), Err(Error::Closed)));
        let mut empty = std::io::Cursor::new(Vec::new());
        assert!(read_line(&mut empty, 10).unwrap().is_none());
    }

    #[test]
    fn shell_and_hook_ops_need_only_the_service_role() {
        assert_eq!(
            Request::Whoami {
                identity: Identity::Key(KeyId::new(1))
            }
            .required_role(),
            Role::Service
        );
        assert_eq!(Request::CaList.required_role(), Role::Admin);
        assert_eq!(Request::PrincipalList.required_role(), Role::Admin);
        assert_eq!(Request::UserList.required_role(), Role::Admin);
        assert_eq!(Request::AuthorizedKeys.required_role(), Role::Admin);
    }

    #[test]
    fn the_keys_account_may_look_up_keys_and_nothing_else() {
        assert!(Role::KeyLookup < Role::Service && Role::Service < Role::Admin);
        let lookup = Request::KeyLookup {
            login: "git".into(),
            key_type: "ssh-ed25519".into(),
            key: "AAAA".into(),
        };
        assert_eq!(lookup.required_role(), Role::KeyLookup);
        let principals = Request::PrincipalsLookup {
            login: "git".into(),
            key_type: "ssh-ed25519-cert-v01@openssh.com".into(),
            key: "AAAA".into(),
        };
        assert_eq!(principals.required_role(), Role::KeyLookup);
        assert!(
            Request::Whoami {
                identity: Identity::Key(KeyId::new(1))
            }
            .required_role()
                > Role::KeyLookup
        );
    }
}
