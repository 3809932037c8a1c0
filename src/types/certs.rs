//! SSH user certificates: the [`CaId`] and [`CaName`] of a registered user CA, the
//! [`Principal`]s a certificate names, reading a certificate sshd was shown ([`Presented`]), and
//! rendering the `authorized_principals` line that lets a principal in only through forge-shell.
//!
//! sshd does the cryptography: it verifies a certificate's signature when it parses it and
//! asks `AuthorizedPrincipalsCommand` only about certificates signed by a CA in
//! `TrustedUserCAKeys`. forged checks again what decides who gets in: that the signing CA is
//! registered with forge (so `forgectl ca remove` takes effect at the next login), that it is a
//! user certificate, and that it is valid now.

use crate::exit::{Classify, Code};
use crate::types::keys::{self, CERTIFICATE_SUFFIX, Fingerprint};
use crate::types::shown::shown;
use serde::{Deserialize, Serialize};
use ssh_key::HashAlg;
use ssh_key::certificate::CertType;
use std::fmt;

/// The longest principal forge accepts, in bytes.
pub const MAX_PRINCIPAL_BYTES: usize = 255;

/// The longest CA name forge accepts, in bytes.
pub const MAX_CA_NAME_BYTES: usize = 64;

/// Errors from parsing CA names, principals and presented certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A CA name is empty, too long, or holds a byte outside `[A-Za-z0-9._-]`.
    #[error(
        "CA name '{name}' is not 1 to {max} bytes of letters, digits, '.', '_' and '-' not starting with '.' or '-'",
        max = MAX_CA_NAME_BYTES
    )]
    BadCaName {
        /// The name as given, escaped and shortened for display.
        name: String,
    },
    /// A principal is empty.
    #[error("principal is empty")]
    PrincipalEmpty,
    /// A principal is longer than [`MAX_PRINCIPAL_BYTES`].
    #[error("principal is longer than {max} bytes")]
    PrincipalTooLong {
        /// The limit.
        max: usize,
    },
    /// A principal holds whitespace, a control character, `,` or `"`.
    #[error(
        "principal '{principal}' holds whitespace, a control character, ',' or '\"', which sshd cannot read back"
    )]
    PrincipalBadChar {
        /// The principal, escaped and shortened for display.
        principal: String,
    },
    /// The presented key is not an OpenSSH certificate.
    #[error("'{key_type}' is not a certificate type")]
    NotACertificate {
        /// The type, escaped and shortened for display.
        key_type: String,
    },
    /// The certificate does not decode, or its type label disagrees with its data.
    #[error("the certificate does not decode as '{key_type}'")]
    BadCertificate {
        /// The type it was read as, escaped and shortened for display.
        key_type: String,
    },
    /// The certificate is a host certificate.
    #[error("a host certificate cannot log a user in")]
    HostCertificate,
    /// Now is outside the certificate's validity period.
    #[error("the certificate is not valid now (valid from {after} to {before}, unix seconds)")]
    NotValidNow {
        /// The first second it is valid.
        after: u64,
        /// The first second it is no longer valid.
        before: u64,
    },
}

/// The database id of a registered user CA, which a certificate's forced command names as
/// `cert-<id>:<user>`.
///
/// Serialized as a plain JSON number. Ids are never reused, so a removed CA's sessions cannot
/// come back under a CA added later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaId(i64);

impl CaId {
    /// Returns a CA id for a database id.
    ///
    /// Forge's ids are positive; only those render to a forced command that parses back.
    pub fn new(id: i64) -> CaId {
        CaId(id)
    }

    /// Returns the database id.
    ///
    /// This is the number a forced command carries after `cert-`.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// The name an admin gives a user CA: 1 to 64 bytes of `[A-Za-z0-9._-]`, not starting with
/// `.` or `-` (the alphabet of user names).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaName(String);

impl CaName {
    /// Returns the CA name in `name` after checking every byte.
    pub fn parse(name: &str) -> Result<CaName, Error> {
        let bytes = name.as_bytes();
        let valid = matches!(bytes.first(), Some(first) if !matches!(first, b'.' | b'-'))
            && bytes.len() <= MAX_CA_NAME_BYTES
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(Error::BadCaName { name: shown(name) });
        }
        Ok(CaName(name.to_owned()))
    }

    /// Returns the name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CaName {
    type Error = Error;

    fn try_from(name: String) -> Result<CaName, Error> {
        CaName::parse(&name)
    }
}

impl From<CaName> for String {
    fn from(name: CaName) -> String {
        name.0
    }
}

/// A certificate principal as forge accepts it: 1 to 255 bytes, with no whitespace, control
/// character, `,` or `"`, so it can end an `authorized_principals` line unquoted.
///
/// It maps to a forge user by name unless `forgectl principal map` says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Principal(String);

impl Principal {
    /// Returns the principal in `text` after checking it.
    pub fn parse(text: &str) -> Result<Principal, Error> {
        if text.is_empty() {
            return Err(Error::PrincipalEmpty);
        }
        if text.len() > MAX_PRINCIPAL_BYTES {
            return Err(Error::PrincipalTooLong {
                max: MAX_PRINCIPAL_BYTES,
            });
        }
        if text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == '"')
        {
            return Err(Error::PrincipalBadChar {
                principal: shown(text),
            });
        }
        Ok(Principal(text.to_owned()))
    }

    /// Returns the principal as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Principal {
    type Error = Error;

    fn try_from(text: String) -> Result<Principal, Error> {
        Principal::parse(&text)
    }
}

impl From<Principal> for String {
    fn from(principal: Principal) -> String {
        principal.0
    }
}

/// The facts forge needs from a certificate sshd was shown (`%t %k`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    ca: Fingerprint,
    principals: Vec<String>,
    is_user: bool,
    valid_after: u64,
    valid_before: u64,
}

impl Presented {
    /// Reads the certificate of type `key_type` (`%t`) whose base64 is `base64` (`%k`).
    ///
    /// The type must be an OpenSSH certificate type that matches the data, and the input at
    /// most [`keys::MAX_INPUT_BYTES`]. The signature is not checked here: sshd checked it.
    pub fn parse(key_type: &str, base64: &str) -> Result<Presented, Error> {
        if !key_type.ends_with(CERTIFICATE_SUFFIX) {
            return Err(Error::NotACertificate {
                key_type: shown(key_type),
            });
        }
        let bad = || Error::BadCertificate {
            key_type: shown(key_type),
        };
        if base64.len() > keys::MAX_INPUT_BYTES || base64.contains(char::is_whitespace) {
            return Err(bad());
        }
        let (certificate, forever) = decode(key_type, base64).ok_or_else(bad)?;
        Ok(Presented {
            ca: Fingerprint::parse(
                &certificate
                    .signature_key()
                    .fingerprint(HashAlg::Sha256)
                    .to_string(),
            )
            .map_err(|_| bad())?,
            principals: certificate.valid_principals().to_vec(),
            is_user: certificate.cert_type() == CertType::User,
            valid_after: certificate.valid_after(),
            valid_before: if forever {
                u64::MAX
            } else {
                certificate.valid_before()
            },
        })
    }

    /// Returns the fingerprint of the CA that signed the certificate.
    ///
    /// It is what `forgectl ca add` stored for that CA, if it was registered.
    pub fn signing_ca(&self) -> &Fingerprint {
        &self.ca
    }

    /// Returns the principals the certificate names, as given; some may not be valid
    /// [`Principal`]s.
    pub fn principals(&self) -> &[String] {
        &self.principals
    }

    /// Checks that it is a user certificate, valid at `now` (unix seconds).
    ///
    /// Valid means `valid_after <= now < valid_before`, as OpenSSH's PROTOCOL.certkeys says.
    pub fn check_at(&self, now: u64) -> Result<(), Error> {
        if !self.is_user {
            return Err(Error::HostCertificate);
        }
        if !(self.valid_after <= now && now < self.valid_before) {
            return Err(Error::NotValidNow {
                after: self.valid_after,
                before: self.valid_before,
            });
        }
        Ok(())
    }
}

/// Decodes the certificate `<key_type> <base64>`; says whether it is valid forever.
///
/// ssh-keygen without `-V` writes `valid_before` as 2^64 - 1, "forever", and ssh-key refuses
/// any time past `i64::MAX` seconds, so such a certificate is decoded with that end instead
/// (#11). Its signature no longer matches, which does not matter: sshd checked it, and
/// decoding does not.
fn decode(key_type: &str, base64: &str) -> Option<(ssh_key::Certificate, bool)> {
    use base64ct::Encoding;
    let mut blob = base64ct::Base64::decode_vec(base64).ok()?;
    let at = valid_before_offset(&blob)?;
    let end = blob.get(at..at + 8)?;
    let forever = u64::from_be_bytes(end.try_into().ok()?) > i64::MAX as u64;
    if forever {
        blob[at..at + 8].copy_from_slice(&(i64::MAX as u64).to_be_bytes());
    }
    let text = format!("{key_type} {}", base64ct::Base64::encode_string(&blob));
    let certificate = ssh_key::Certificate::from_openssh(&text).ok()?;
    Some((certificate, forever))
}

/// Returns where `valid_before` starts in a certificate blob (PROTOCOL.certkeys): after the
/// type, the nonce, the public key's fields (how many depends on the type), the serial, the
/// certificate type, the key id, the principals and `valid_after`.
fn valid_before_offset(blob: &[u8]) -> Option<usize> {
    fn skip_string(blob: &[u8], at: usize) -> Option<usize> {
        let len = u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?) as usize;
        let end = at.checked_add(4)?.checked_add(len)?;
        (end <= blob.len()).then_some(end)
    }
    let type_end = skip_string(blob, 0)?;
    let label = std::str::from_utf8(blob.get(4..type_end)?).ok()?;
    let key_fields = match label.strip_suffix(CERTIFICATE_SUFFIX)? {
        "ssh-ed25519" => 1,
        "ssh-rsa" | "sk-ssh-ed25519" => 2,
        "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" => 2,
        "sk-ecdsa-sha2-nistp256" => 3,
        "ssh-dss" => 4,
        _ => return None,
    };
    let mut at = skip_string(blob, type_end)?; // the nonce
    for _ in 0..key_fields {
        at = skip_string(blob, at)?;
    }
    at += 8 + 4; // serial, type
    at = skip_string(blob, at)?; // key id
    at = skip_string(blob, at)?; // principals
    Some(at + 8) // valid_after
}

impl Classify for Error {
    /// Every error here is input that cannot be used (certificates, CA names and principals): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with ssh-keygen (OpenSSH 9.2): a CA `ssh-keygen -t ed25519 -C corp-ca`, and the key
    // user.pub signed by it with `-n alice,ops-alice -V 20200101:21000101` (GOOD), with
    // `-n alice -V 20200101:20200102` (EXPIRED) and as a host certificate (HOST).
    const CA_FP: &str = "SHA256:ma9pi2jzF53gn4fskSJeiXsJz4o/jMhotisuRHcyu9M";
    const CERT_TYPE: &str = "ssh-ed25519-cert-v01@openssh.com";
    const GOOD: &str = "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIH0a7qrA1IzSCOFG34x7dEBbPSSya+YTfZWSK+0STV8fAAAAILOm4cCUAGwNNSDlP/p2AYhNc4AWOBkwwQDZSn41f+N7AAAAAAAAAAAAAAABAAAABnNvbWVpZAAAABYAAAAFYWxpY2UAAAAJb3BzLWFsaWNlAAAAAF4L4QAAAAAA9IZXAAAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIMAhFN8hDRErHeXcZHKD+s2cl3KlUSddK26x2fjV+/FlAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEA9cTSJ0UioC/Z6rALp2zR4Kqnc2Yt80Ub2cVLEroLOQRgRuT959iSMSUyC5zI8x3yBiVZsZUkxyb/gUMNj8d0K";
    const EXPIRED: &str = "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIM5O3zPUSdQAjBZFUnCrVCz8rE2YDr2zOiyhDDOs5ZExAAAAILOm4cCUAGwNNSDlP/p2AYhNc4AWOBkwwQDZSn41f+N7AAAAAAAAAAIAAAABAAAAB2V4cGlyZWQAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAXg0ygAAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIMAhFN8hDRErHeXcZHKD+s2cl3KlUSddK26x2fjV+/FlAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDGbPSATeAyBEcQF6e2Ltt3CRq0ATRGukef+0zuDoj88froujStrPUbK4IjCo0QQxO/TdgRwzZdl8c3rd+T0aED";
    const HOST: &str = "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIFIN1N8IBKSgo2exix+RXUBbFMYqwBWDzGyBtWr9yHJkAAAAILOm4cCUAGwNNSDlP/p2AYhNc4AWOBkwwQDZSn41f+N7AAAAAAAAAAAAAAACAAAABGhvc3QAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAA9IZXAAAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgwCEU3yENESsd5dxkcoP6zZyXcqVRJ10rbrHZ+NX78WUAAABTAAAAC3NzaC1lZDI1NTE5AAAAQJy416zX+Qmo1ZaxppH3vYOMFfGzigAG5dvktm1W6c6oyNiIPrRkDRSxPOvpVsbSiU9Th2kKLcfpIi+0Ai9dngU=";
    const USER_KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAILOm4cCUAGwNNSDlP/p2AYhNc4AWOBkwwQDZSn41f+N7";
    /// 2026-01-01, inside GOOD's validity and after EXPIRED's.
    const NOW: u64 = 1_767_225_600;

    #[test]
    fn a_certificate_names_its_ca_and_principals() {
        let presented = Presented::parse(CERT_TYPE, GOOD).unwrap();
        assert_eq!(presented.signing_ca().as_str(), CA_FP);
        assert_eq!(presented.principals(), ["alice", "ops-alice"]);
        assert_eq!(presented.check_at(NOW), Ok(()));
    }

    /// Made with ssh-keygen (OpenSSH 9.2) without `-V`: `-s ca -I forever -n alice`, valid
    /// forever (`valid_before` is 2^64 - 1), by another CA.
    const FOREVER: &str = "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIEDx1Ipnu9G1N/7nPQgIdazax0Xmu4Gd0q4OVM6yo5MNAAAAIHfgRLKLaKvsevtfD8gt33CW4+NhPtk8BkukyGu8nDYDAAAAAAAAAAAAAAABAAAAB2ZvcmV2ZXIAAAAJAAAABWFsaWNlAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIGM5Co2KoyU1kn1PZLqrtZEj2FPhuTbZ5awj9vXCA1D2AAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDbEGkHX8Z97Yv2+O4+KY1hgE/yAcmRthQULf8yEJkH/UbExy5KtO66nryWqaMybk5QDIKf3jtMpX5KbeL8LJ8C";
    const FOREVER_CA_FP: &str = "SHA256:lY1GjvouzWMGPmhEDnfUq+hy0JnvfvTJtHITwkvSXsc";

    #[test]
    fn regression_11_a_certificate_made_without_validity_is_valid_forever() {
        let forever = Presented::parse(CERT_TYPE, FOREVER).unwrap();
        assert_eq!(forever.signing_ca().as_str(), FOREVER_CA_FP);
        assert_eq!(forever.principals(), ["alice"]);
        assert_eq!(forever.check_at(0), Ok(()));
        assert_eq!(forever.check_at(u64::MAX - 1), Ok(()));
        // Clamping the end does not make another certificate's bytes acceptable.
        assert!(Presented::parse(CERT_TYPE, &FOREVER[..FOREVER.len() - 8]).is_err());
    }

    #[test]
    fn validity_is_checked_at_both_ends() {
        let good = Presented::parse(CERT_TYPE, GOOD).unwrap();
        let after = 1_577_836_800; // 2020-01-01
        assert_eq!(good.check_at(after), Ok(()));
        assert!(matches!(
            good.check_at(after - 1),
            Err(Error::NotValidNow { .. })
        ));
        let expired = Presented::parse(CERT_TYPE, EXPIRED).unwrap();
        assert_eq!(
            expired.check_at(NOW),
            Err(Error::NotValidNow {
                after,
                before: after + 86_400
            })
        );
    }

    #[test]
    fn a_host_certificate_logs_no_user_in() {
        let host = Presented::parse(CERT_TYPE, HOST).unwrap();
        assert_eq!(host.check_at(NOW), Err(Error::HostCertificate));
    }

    #[test]
    fn what_is_not_a_certificate_is_refused() {
        let rows: &[(&str, &str)] = &[
            ("ssh-ed25519", USER_KEY),
            ("ssh-ed25519-cert-v01@openssh.com", USER_KEY),
            ("ssh-rsa-cert-v01@openssh.com", GOOD),
            (CERT_TYPE, "AAAA"),
            (CERT_TYPE, &GOOD[..GOOD.len() - 4]),
            (CERT_TYPE, ""),
        ];
        for (key_type, base64) in rows {
            assert!(Presented::parse(key_type, base64).is_err(), "{key_type}");
        }
        let spaced = format!("{GOOD} extra");
        assert!(Presented::parse(CERT_TYPE, &spaced).is_err());
    }

    #[test]
    fn principals_are_checked() {
        let long = "p".repeat(MAX_PRINCIPAL_BYTES);
        for valid in ["alice", "ops-alice", "alice@EXAMPLE.COM", "a/b:c", &long] {
            assert_eq!(Principal::parse(valid).unwrap().as_str(), valid);
        }
        let too_long = "p".repeat(MAX_PRINCIPAL_BYTES + 1);
        let rows: &[(&str, Error)] = &[
            ("", Error::PrincipalEmpty),
            (
                &too_long,
                Error::PrincipalTooLong {
                    max: MAX_PRINCIPAL_BYTES,
                },
            ),
        ];
        for (text, expected) in rows {
            assert_eq!(Principal::parse(text).as_ref(), Err(expected));
        }
        for invalid in [
            "al ice", "alice\t", "a,b", "a\"b", "a\nb", "a\u{7f}", "\u{a0}x", " alice",
        ] {
            assert!(
                matches!(
                    Principal::parse(invalid),
                    Err(Error::PrincipalBadChar { .. })
                ),
                "{invalid:?}"
            );
        }
        assert!(serde_json::from_str::<Principal>("\"a b\"").is_err());
    }

    #[test]
    fn ca_names_are_checked() {
        for valid in ["corp", "corp-2026", "ops_ca", "a.b", "9"] {
            assert_eq!(CaName::parse(valid).unwrap().as_str(), valid);
        }
        for invalid in ["", "-corp", ".corp", "co rp", "co/rp", &"c".repeat(65)] {
            assert!(CaName::parse(invalid).is_err(), "{invalid:?}");
        }
    }
}
