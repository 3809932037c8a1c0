//! The protocol between `forged` and its clients: one JSON object per line over a Unix stream
//! socket.
//!
//! A client connects, writes one request line, reads one response line, and may repeat. Every
//! request carries the protocol version `v`; a request of another version, an unknown `op` or a
//! line over the limit of the caller's role ([`max_request_bytes`]) gets an
//! [`Response::Error`] answer, not a silently dropped connection.
//! The peer's uid (`SO_PEERCRED`) decides which ops it may ask: [`Request::required_role`].
//!
//! ```text
//! -> {"v":1,"op":"check","key":17,"repo":"acme/widgets","access":"write"}
//! <- {"v":1,"answer":"granted","user":"alice","repo":"acme/widgets","path":"/var/lib/forge/repos/acme/widgets.git","session":"5f0c2d4e18a3f601b7d94e2a0c6f1b38"}
//! ```

//!
//! - [`framing`]: lines, the version field, size limits, [`Error`].
//! - [`request`]: [`Request`] and the [`Role`] each op needs.
//! - [`response`]: [`Response`] and [`ErrorKind`].
//! - [`listing`]: the rows of admin listings.
//! - [`client`]: the client every caller of forged uses (the shims, forgectl); forged itself
//!   only answers.

pub mod client;
pub mod framing;
pub mod listing;
pub mod request;
pub mod response;

pub use framing::{
    Error, MAX_ADMIN_REQUEST_BYTES, MAX_LOOKUP_REQUEST_BYTES, MAX_REQUEST_BYTES,
    MAX_RESPONSE_BYTES, MAX_SERVICE_REQUEST_BYTES, MAX_UPDATES, PROTOCOL_VERSION,
    max_request_bytes, parse_message, read_line, write_message,
};
pub use listing::{
    AdminAuditEntry, AuditEntry, CaInfo, DeniedEntry, GrantInfo, KeyInfo, PrincipalInfo, RepoInfo,
    StatusInfo, UserInfo,
};
pub use request::{Changes, RefChange, Request, Role, RoleChange};
pub use response::{ErrorKind, MaintenanceInfo, ReachableRepo, RefVerdict, Response};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Access;
    use crate::types::certs::CaId;
    use crate::types::identity::Identity;
    use crate::types::keys::{KeyId, Title};
    use crate::types::repo_name::RepoName;
    use crate::types::timestamp::Timestamp;
    use crate::types::user_name::UserName;

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

    /// Returns every JSON line the doc comments of `source` show: the spans between backticks,
    /// and the `-> ` / `<- ` lines of a protocol sketch, that open with the version field.
    fn documented_lines(source: &str) -> Vec<String> {
        let mut lines = Vec::new();
        for line in source.lines() {
            let Some(doc) = line
                .trim_start()
                .strip_prefix("///")
                .or_else(|| line.trim_start().strip_prefix("//!"))
            else {
                continue;
            };
            let doc = doc.trim();
            if let Some(sketch) = doc.strip_prefix("-> ").or_else(|| doc.strip_prefix("<- ")) {
                lines.push(sketch.to_owned());
                continue;
            }
            for (index, span) in doc.split('`').enumerate() {
                if index % 2 == 1 && span.starts_with("{\"v\":") {
                    lines.push(span.to_owned());
                }
            }
        }
        lines
    }

    /// Checks that every field `documented` shows is in `parsed`, with the same value.
    fn shows_only_real_fields(documented: &serde_json::Value, parsed: &serde_json::Value) -> bool {
        match (documented, parsed) {
            (serde_json::Value::Object(doc), serde_json::Value::Object(real)) => {
                doc.iter().all(|(key, value)| {
                    real.get(key)
                        .is_some_and(|r| shows_only_real_fields(value, r))
                })
            }
            (serde_json::Value::Array(doc), serde_json::Value::Array(real)) => {
                doc.len() == real.len()
                    && doc
                        .iter()
                        .zip(real)
                        .all(|(d, r)| shows_only_real_fields(d, r))
            }
            _ => documented == parsed,
        }
    }

    /// Returns how many documented lines `source` holds, and what is wrong with each bad one.
    fn check_documented<T: serde::de::DeserializeOwned + serde::Serialize>(
        source: &str,
    ) -> (usize, Vec<String>) {
        let lines = documented_lines(source);
        let mut wrong = Vec::new();
        for line in &lines {
            let parsed: T = match parse_message(line.as_bytes()) {
                Ok(parsed) => parsed,
                Err(e) => {
                    wrong.push(format!("does not parse ({e}): {line}"));
                    continue;
                }
            };
            let mut again = serde_json::to_value(&parsed).expect("messages serialize");
            again["v"] = serde_json::json!(PROTOCOL_VERSION);
            let documented: serde_json::Value =
                serde_json::from_str(line).expect("a line that parsed is JSON");
            if !shows_only_real_fields(&documented, &again) {
                wrong.push(format!(
                    "shows what the type does not have: {line}\n    real: {again}"
                ));
            }
        }
        (lines.len(), wrong)
    }

    #[test]
    fn every_documented_line_is_a_real_message() {
        let (requests, mut wrong) = check_documented::<Request>(include_str!("request.rs"));
        let (responses, wrong_responses) =
            check_documented::<Response>(include_str!("response.rs"));
        wrong.extend(wrong_responses);
        let sketch = documented_lines(include_str!("mod.rs"));
        assert_eq!(sketch.len(), 2, "{sketch:?}");
        wrong.extend(check_documented::<Request>(&format!("/// `{}`", sketch[0])).1);
        wrong.extend(check_documented::<Response>(&format!("/// `{}`", sketch[1])).1);
        assert!(
            wrong.is_empty(),
            "stale documented lines:\n{}",
            wrong.join("\n")
        );
        assert!(requests >= 30, "only {requests} documented requests found");
        assert!(
            responses >= 15,
            "only {responses} documented responses found"
        );
    }
}
