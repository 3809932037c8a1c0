//! What `forged` answers: [`Response`], one variant per kind of answer, each documented with
//! its JSON line; the [`ErrorKind`] of an error answer; and the small values answers carry.

use crate::policy::RefName;
use crate::policy::decide::PushNeeds;
use crate::types::identity::Identity;
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;
use crate::wire::listing::{
    AdminAuditEntry, AuditEntry, CaInfo, DeniedEntry, KeyInfo, PrincipalInfo, RepoInfo, StatusInfo,
    UserInfo,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One answer from `forged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Response {
    /// `check` allowed: run git on `path`.
    /// `{"v":1,"answer":"granted","user":"alice","repo":"acme/widgets","path":"/var/lib/forge/repos/acme/widgets.git","session":"5f0c2d4e18a3f601b7d94e2a0c6f1b38","needs":{"paths":false,"merges":false}}`
    Granted {
        /// The key's owner.
        user: UserName,
        /// The repository, as forge spells it.
        repo: RepoName,
        /// The repository's folder.
        path: PathBuf,
        /// The session id the hooks quote back.
        session: String,
        /// Which facts of a push pre-receive must send (a write grant); absent means all.
        #[serde(default)]
        needs: PushNeeds,
    },
    /// Who is behind an identity. `{"v":1,"answer":"identity","user":"alice","key":17}`
    Identity {
        /// The user.
        user: UserName,
        /// The identity asked about.
        #[serde(rename = "key")]
        identity: Identity,
    },
    /// The repositories a user can reach. `{"v":1,"answer":"reachable","user":"alice","repos":[{"repo":"acme/widgets","read":true,"write":true,"create":false,"description":""}]}`
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
    /// Keys. `{"v":1,"answer":"keys","keys":[{"id":17,"user":"alice","algorithm":"ssh-ed25519","fingerprint":"SHA256:FQXBZxl8kfUh6i5NkyCQZLy5lFJiTHfRpXeZE5CKJsQ","comment":"alice@laptop","title":"alice@laptop","created":"2026-12-04T09:30:00Z","expires":null,"last_used":"2026-12-04T09:30:00Z"}]}`
    Keys {
        /// Each key.
        keys: Vec<KeyInfo>,
    },
    /// Repositories. `{"v":1,"answer":"repos","repos":[{"name":"acme/widgets","description":"","public":false,"created":"2026-12-04T09:30:00Z","grants":[{"user":"alice","access":"write"}]}]}`
    Repos {
        /// Each repository.
        repos: Vec<RepoInfo>,
    },
    /// An access decision explained, as `gitolite access` prints it and in words.
    /// `{"v":1,"answer":"explained","allowed":true,"line":"refs/.*","reason":"allowed by rule 'RW+ refs/.* = alice' on 'foo' (policy.toml line 9)"}`
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
    /// The policy. `{"v":1,"answer":"policy","document":{"user_groups":{"@devs":["alice","bob"]},"repo_groups":{},"rules":[{"seq":1,"repo":"acme/widgets","who":"@devs","perm":"RW+","refex":"refs/.*","source":"policy.toml line 3"}],"options":[],"roles":[]}}`
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
        /// What the admin should know but did not stop the change, one line each: a user name
        /// the policy names that is not a user of the forge, say (#13).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// Audit entries, newest first. `{"v":1,"answer":"audit","entries":[{"id":7,"time":"2026-12-04T09:30:00Z","user":"alice","key":17,"ca":null,"repo":"acme/widgets","ref_name":"refs/heads/main","old":"1f7c2a9d0b3e4c5f6a7b8c9d0e1f2a3b4c5d6e7f","new":"8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b","kind":"fast_forward","session":"5f0c2d4e18a3f601b7d94e2a0c6f1b38"}]}`
    Audit {
        /// Each recorded ref update.
        entries: Vec<AuditEntry>,
    },
    /// Admin audit rows, oldest first.
    /// `{"v":1,"answer":"admin_audit","entries":[{"id":3,"time":"2026-12-04T09:30:00Z","peer_uid":0,"peer_name":"root","op":"grant","kind":"grant","args":"{\"access\":\"write\",\"repo\":\"acme/widgets\",\"user\":\"alice\"}","result":"ok"}]}`
    AdminAudit {
        /// Each row.
        entries: Vec<AdminAuditEntry>,
    },
    /// Denied access attempts, oldest first.
    /// `{"v":1,"answer":"denied","entries":[{"id":4,"time":"2026-12-04T09:30:00Z","user":"mallory","key":17,"ca":null,"repo":"acme/widgets","access":"write","rule":"no rule lets mallory write","left_out":0}]}`
    Denied {
        /// Each row.
        entries: Vec<DeniedEntry>,
    },
    /// A removed repository is back. `{"v":1,"answer":"restored","repo":"acme/widgets","from":"/var/lib/forge/repos/.removed/1796376600/acme/widgets.git","others":["1796370000"]}`
    Restored {
        /// The repository.
        repo: RepoName,
        /// Where its folder came from.
        from: PathBuf,
        /// The other removed copies, by the unix seconds of their removal, oldest first.
        others: Vec<String>,
    },
    /// The daemon's state. `{"v":1,"answer":"status","version":"0.1.0","protocol":1,"uptime_seconds":3600,"users":2,"keys":3,"repos":1,"audit_entries":7,"pending_updates":0}`
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
    /// User CAs. `{"v":1,"answer":"cas","cas":[{"id":3,"name":"corp","algorithm":"ssh-ed25519","fingerprint":"SHA256:FQXBZxl8kfUh6i5NkyCQZLy5lFJiTHfRpXeZE5CKJsQ","comment":"corp-ca","created":"2026-12-04T09:30:00Z"}]}`
    Cas {
        /// Each CA.
        cas: Vec<CaInfo>,
    },
    /// Principal mappings. `{"v":1,"answer":"principals","principals":[{"principal":"ops-alice","user":"bob","created":"2026-12-04T09:30:00Z"}]}`
    Principals {
        /// Each mapping.
        principals: Vec<PrincipalInfo>,
    },
    /// Maintenance mode, and the pushes in flight.
    /// `{"v":1,"answer":"maintenance","on":true,"message":"new disks until 06:00 UTC","since":"2026-12-04T05:00:00Z","by_uid":0,"in_flight":0}`
    Maintenance(MaintenanceInfo),
    /// Writes are paused until `resume_writes` with this token, or the lease ends.
    /// `{"v":1,"answer":"paused","token":"5f0c2d4e18a3f601b7d94e2a0c6f1b38","lease_seconds":120}`
    Paused {
        /// The token that resumes.
        token: String,
        /// How long the pause lasts at most.
        lease_seconds: u32,
    },
    /// A database snapshot was made.
    /// `{"v":1,"answer":"db_snapshot","snapshot":"5f0c2d4e18a3f601b7d94e2a0c6f1b38","bytes":1048576,"schema_version":8,"last_audit_id":42}`
    DbSnapshot {
        /// Its id, for `db_snapshot_read` and `db_snapshot_drop`.
        snapshot: String,
        /// Its size.
        bytes: u64,
        /// The schema version it holds.
        schema_version: i64,
        /// The newest confirmed audit row it holds.
        last_audit_id: Option<i64>,
    },
    /// A piece of a snapshot, base64. `{"v":1,"answer":"db_chunk","data":"U1FMaXRl…","eof":false}`
    DbChunk {
        /// The bytes, base64.
        data: String,
        /// Whether this piece ends the file.
        eof: bool,
    },
    /// The request failed. `{"v":1,"answer":"error","kind":"refused","message":"user 'alice' already exists","request":"5f0c2d4e18a3f601b7d94e2a0c6f1b38"}`
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
    /// Maintenance mode is on, or a backup paused writes: the message is the admin's, for
    /// everyone to read; try again later.
    Maintenance,
}

/// Maintenance mode as `forgectl maintenance status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceInfo {
    /// Whether it is on.
    pub on: bool,
    /// The admin's message, while on.
    pub message: Option<String>,
    /// Since when, while on.
    pub since: Option<crate::types::timestamp::Timestamp>,
    /// The uid of the admin who turned it on.
    pub by_uid: Option<u32>,
    /// Pushes in flight: accepted by pre-receive, not yet recorded by post-receive.
    pub in_flight: u64,
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
