//! The rows of forged's listings, as admins see them (`forgectl user list`, `key list`, `audit`,
//! ...): plain data, with times as [`Timestamp`]s.

use crate::policy::{Access, UpdateKind};
use crate::types::certs::{CaId, CaName, Principal};
use crate::types::keys::{Fingerprint, KeyId};
use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use serde::{Deserialize, Serialize};

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

/// One row of the admin audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAuditEntry {
    /// The row's number, increasing with time.
    pub id: i64,
    /// When it was asked (RFC 3339, UTC).
    pub time: Timestamp,
    /// The asking peer's uid, from `SO_PEERCRED`.
    pub peer_uid: u32,
    /// That uid's name as forged saw it; empty when it had none.
    pub peer_name: String,
    /// The op.
    pub op: String,
    /// What kind of state it changes.
    pub kind: String,
    /// Its arguments as a JSON object, secrets left out.
    pub args: String,
    /// `ok`, or the refusal line.
    pub result: String,
}

/// One denied access attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeniedEntry {
    /// The row's number, increasing with time.
    pub id: i64,
    /// When it was denied (RFC 3339, UTC).
    pub time: Timestamp,
    /// The user behind the identity, or the identity when no user is.
    pub user: String,
    /// The key, for a key.
    pub key: Option<i64>,
    /// The CA's name, for a certificate.
    pub ca: Option<String>,
    /// The repository asked for.
    pub repo: String,
    /// The access asked for.
    pub access: String,
    /// Where the rule that denied came from, or why nothing allowed it.
    pub rule: String,
    /// How many attempts the rate limit left out before this one.
    pub left_out: i64,
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
    /// What keeps forged from doing its job, one line each (such as hook shims that are not in
    /// place, so that pushes are refused); left out when there is nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// The message of maintenance mode, while it is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<String>,
}
