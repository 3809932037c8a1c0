//! Store records as the wire lists them: the one place that knows both sides, so the store
//! stays free of the protocol and the protocol free of the tables.

use crate::store::{
    AdminAuditRecord, AuditRecord, CaRecord, DeniedRecord, GrantRecord, KeyRecord, PrincipalRecord,
    RepoRecord, UserRecord,
};
use crate::wire::{
    AdminAuditEntry, AuditEntry, CaInfo, DeniedEntry, GrantInfo, KeyInfo, PrincipalInfo, RepoInfo,
    UserInfo,
};

/// Returns `record` as `user_list` lists it.
pub(super) fn user(record: UserRecord) -> UserInfo {
    UserInfo {
        name: record.name,
        keys: record.keys,
        created: record.created,
    }
}

/// Returns `record` as `key_list`, `key_add` and `key_remove` list it.
pub(super) fn key(record: KeyRecord) -> KeyInfo {
    KeyInfo {
        id: record.id,
        user: record.user,
        algorithm: record.algorithm,
        fingerprint: record.fingerprint,
        comment: record.comment,
        title: record.title,
        created: record.created,
        expires: record.expires,
        last_used: record.last_used,
    }
}

/// Returns `record` as `ca_list`, `ca_add` and `ca_remove` list it.
pub(super) fn ca(record: CaRecord) -> CaInfo {
    CaInfo {
        id: record.id,
        name: record.name,
        algorithm: record.algorithm,
        fingerprint: record.fingerprint,
        comment: record.comment,
        created: record.created,
    }
}

/// Returns `record` as `principal_list` lists it.
pub(super) fn principal(record: PrincipalRecord) -> PrincipalInfo {
    PrincipalInfo {
        principal: record.principal,
        user: record.user,
        created: record.created,
    }
}

/// Returns `record` as `repo_list` lists it, grants and all.
pub(super) fn repo(record: RepoRecord) -> RepoInfo {
    RepoInfo {
        name: record.name,
        description: record.description,
        public: record.public,
        created: record.created,
        grants: record.grants.into_iter().map(grant).collect(),
    }
}

fn grant(record: GrantRecord) -> GrantInfo {
    GrantInfo {
        user: record.user,
        access: record.access,
    }
}

/// Returns `record` as `audit` lists it.
pub(super) fn audit_entry(record: AuditRecord) -> AuditEntry {
    AuditEntry {
        id: record.id,
        time: record.time,
        user: record.user,
        key: record.key,
        ca: record.ca,
        repo: record.repo,
        ref_name: record.ref_name,
        old: record.old,
        new: record.new,
        kind: record.kind,
        session: record.session,
    }
}

pub(super) fn admin_audit_entry(record: AdminAuditRecord) -> AdminAuditEntry {
    AdminAuditEntry {
        id: record.id,
        time: record.time,
        peer_uid: record.action.peer_uid,
        peer_name: record.action.peer_name,
        op: record.action.op,
        kind: record.action.kind,
        args: record.action.args,
        result: record.result,
    }
}

pub(super) fn denied_entry(record: DeniedRecord) -> DeniedEntry {
    DeniedEntry {
        id: record.id,
        time: record.time,
        user: record.attempt.user,
        key: record.attempt.key,
        ca: record.attempt.ca,
        repo: record.attempt.repo,
        access: record.attempt.access,
        rule: record.attempt.rule,
        left_out: record.attempt.left_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::timestamp::Timestamp;
    use crate::types::user_name::UserName;

    #[test]
    fn times_reach_the_wire_as_the_rfc_3339_text_sqlite_used_to_format() {
        // 1795486381 is what strftime('%Y-%m-%dT%H:%M:%SZ', ..., 'unixepoch') rendered as
        // 2026-11-24T02:13:01Z; the JSON must keep that exact text.
        let record = UserRecord {
            name: UserName::parse("alice").unwrap(),
            keys: 1,
            created: Timestamp::from_unix(1_795_486_381).unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&user(record)).unwrap(),
            r#"{"name":"alice","keys":1,"created":"2026-11-24T02:13:01Z"}"#
        );
    }
}
