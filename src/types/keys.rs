//! Public keys as forge accepts and stores them: [`PublicKey`] (parsed from a `.pub` file or
//! re-checked from the database), its [`Fingerprint`], the [`KeyId`] that the forced command
//! carries, and rendering a key's `command="...",restrict` line for `authorized_keys`.
//!
//! Parsing and fingerprinting of the key blob itself is done by the `ssh-key` crate. It already
//! refuses base64 that is unpadded, over-padded or not canonical, a key type label that does not
//! match the blob, trailing bytes after the key, truncated blobs and non-minimal RSA integers.
//! This module adds what forge wants on top: one bare key per input (no options, no
//! certificates), only the types in [`ACCEPTED_ALGORITHMS`], RSA of 2048 to 16384 bits, an
//! odd RSA exponent and modulus, uncompressed EC points that lie on their curve, a bounded
//! printable comment, and a round-trip check that the text we store is exactly the text we
//! were given.

use crate::exit::{Classify, Code};
use std::fmt;
use std::str::FromStr;

use crate::types::shown::shown;
use crate::types::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use ssh_key::HashAlg;
use ssh_key::public::KeyData;

/// The largest `.pub` input [`PublicKey::parse_authorized`] reads, in bytes.
///
/// A 16384-bit RSA key line is under 3 KiB, so 16 KiB leaves room for comments and blank lines
/// while keeping a pasted file of many keys (or a binary file) from being read whole.
pub const MAX_INPUT_BYTES: usize = 16 * 1024;

/// The longest key comment accepted, in bytes.
///
/// The comment is shown in `forgectl key list` and in logs; it is not written to
/// `authorized_keys`.
pub const MAX_COMMENT_BYTES: usize = 1024;

/// The longest key title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 100;

/// The smallest RSA modulus accepted, in bits.
///
/// OpenSSH itself still accepts 1024 bits; forge asks for at least 2048.
pub const MIN_RSA_BITS: usize = 2048;

/// The largest RSA modulus accepted, in bits.
///
/// This is OpenSSL's limit (`OPENSSL_RSA_MAX_MODULUS_BITS`); sshd cannot use a larger key.
pub const MAX_RSA_BITS: usize = 16384;

/// The key types forge accepts, as OpenSSH spells them in `.pub` files.
///
/// DSA, certificates and any type not listed here are refused.
pub const ACCEPTED_ALGORITHMS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// The suffix OpenSSH gives the type name of every certificate.
pub(crate) const CERTIFICATE_SUFFIX: &str = "-cert-v01@openssh.com";

/// The type name of DSA keys, refused with their own message.
const DSA_ALGORITHM: &str = "ssh-dss";

/// `authorized_keys` options that take no value (the others contain `=` and are caught by it).
const BARE_KEY_OPTIONS: &[&str] = &[
    "agent-forwarding",
    "cert-authority",
    "no-agent-forwarding",
    "no-port-forwarding",
    "no-pty",
    "no-touch-required",
    "no-user-rc",
    "no-x11-forwarding",
    "port-forwarding",
    "pty",
    "restrict",
    "user-rc",
    "verify-required",
    "x11-forwarding",
];

/// The characters that separate the fields of a key line, and that surround blank lines.
const BLANK: [char; 3] = [' ', '\t', '\r'];

/// Errors from parsing key ids, fingerprints and public keys.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A forced command argument is not `key-<n>`.
    #[error("'{arg}' is not a key id of the form key-<n> with n a positive number")]
    BadKeyId {
        /// The argument as given, escaped and shortened for display.
        arg: String,
    },
    /// A key named on the command line is neither `key-<n>`, `<n>` nor a fingerprint.
    #[error(
        "'{arg}' names no key: give its id as 'forgectl key list' shows it (key-17, or 17) or its SHA256 fingerprint"
    )]
    BadKeyRef {
        /// The argument as given, escaped and shortened for display.
        arg: String,
    },
    /// A fingerprint uses a hash other than SHA256 (say, `MD5:` from an old ssh-keygen).
    #[error(
        "fingerprint '{fingerprint}' is not a SHA256 fingerprint; get one with 'ssh-keygen -l -E sha256 -f KEY'"
    )]
    FingerprintNotSha256 {
        /// The fingerprint as given, escaped and shortened for display.
        fingerprint: String,
    },
    /// A fingerprint is not `SHA256:` followed by 43 characters of unpadded base64.
    #[error(
        "'{fingerprint}' is not an OpenSSH fingerprint of the form SHA256:<43 base64 characters>"
    )]
    BadFingerprint {
        /// The fingerprint as given, escaped and shortened for display.
        fingerprint: String,
    },
    /// The `.pub` input is larger than [`MAX_INPUT_BYTES`].
    #[error("public key input is {len} bytes, more than the {max} allowed")]
    InputTooLarge {
        /// The size of the input, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// The input holds no key line, only blank lines and comments (or nothing).
    #[error("no public key found in the input")]
    NoKey,
    /// The input holds more than one key line.
    #[error(
        "found keys on lines {first} and {second} where one was expected; add keys one at a time"
    )]
    TooManyKeys {
        /// The line number (from 1) of the first key line.
        first: usize,
        /// The line number (from 1) of the second key line.
        second: usize,
    },
    /// The input is a private key, which must never leave its owner's machine.
    #[error(
        "this is a private key, not a public one; give the .pub file beside it (or the output of 'ssh-keygen -y -f KEY')"
    )]
    PrivateKey,
    /// The input is a PuTTY private key file (`.ppk`).
    #[error(
        "this is a PuTTY private key file; give its OpenSSH public key ('puttygen KEY.ppk -O public-openssh')"
    )]
    PuttyPrivateKey,
    /// The input is a public key in the RFC 4716 format that PuTTY and SSH.com write.
    #[error(
        "this is an RFC 4716 (PuTTY or SSH2) public key; convert it with 'ssh-keygen -i -f KEY' and give that"
    )]
    Rfc4716,
    /// The input has several lines and the first is no key line at all: some other file.
    #[error(
        "this is not an OpenSSH public key file (line {line} starts with '{start}'); give the .pub file, one line like 'ssh-ed25519 AAAA... alice@laptop'"
    )]
    NotPublicKeyFile {
        /// The line number (from 1) of the first line that is not blank or a comment.
        line: usize,
        /// The first field of that line, escaped and shortened for display.
        start: String,
    },
    /// The key line starts with `authorized_keys` options rather than a key type.
    #[error("key options such as 'command=' are not accepted; give the bare public key")]
    KeyOptions,
    /// The key is a DSA key.
    #[error("DSA keys are not accepted; use ed25519")]
    Dsa,
    /// The key is an OpenSSH certificate.
    #[error("certificates are not accepted as keys ('{algorithm}'); give the plain public key")]
    Certificate {
        /// The certificate type, escaped and shortened for display.
        algorithm: String,
    },
    /// The key type is not one of [`ACCEPTED_ALGORITHMS`].
    #[error("key type '{algorithm}' is not accepted; use ed25519")]
    UnsupportedAlgorithm {
        /// The key type as given, escaped and shortened for display.
        algorithm: String,
    },
    /// The key line has a type but no base64 key data after it.
    #[error("the '{algorithm}' key has no key data after its type")]
    MissingKeyData {
        /// The key type of the line.
        algorithm: &'static str,
    },
    /// The type label says one algorithm and the key data holds another.
    #[error("key type is '{label}' but the key data is a '{actual}' key")]
    TypeMismatch {
        /// The type the line or the database row claims.
        label: String,
        /// The type found inside the key data.
        actual: String,
    },
    /// The key data is not a valid blob of its type (bad base64, truncated, trailing bytes...).
    #[error("key data is not a valid '{algorithm}' key")]
    BadKeyData {
        /// The key type the data was read as.
        algorithm: &'static str,
        /// What `ssh-key` found wrong.
        #[source]
        source: ssh_key::Error,
    },
    /// The key data decodes, but the text or bytes given are not its one canonical encoding.
    #[error("key data of the '{algorithm}' key is not in canonical form")]
    NotCanonical {
        /// The key type.
        algorithm: &'static str,
    },
    /// An RSA modulus is shorter than [`MIN_RSA_BITS`] or longer than [`MAX_RSA_BITS`].
    #[error("RSA key has {bits} bits; keys of {min} to {max} bits are accepted")]
    RsaSize {
        /// The size of the modulus, in bits.
        bits: usize,
        /// The smallest size accepted.
        min: usize,
        /// The largest size accepted.
        max: usize,
    },
    /// An RSA key has a public exponent that is not an odd number of at least 3.
    #[error("RSA key has an invalid public exponent")]
    RsaExponent,
    /// An RSA modulus is even, so it cannot be a product of two large primes.
    #[error("RSA key has an even modulus, which no real RSA key has")]
    RsaModulus,
    /// An ECDSA key's point does not lie on its curve.
    #[error("the '{algorithm}' key's point is not on its curve")]
    PointNotOnCurve {
        /// The key type.
        algorithm: &'static str,
    },
    /// An ECDSA key's point is not in the uncompressed form that OpenSSH requires.
    #[error("the '{algorithm}' key's point is not in uncompressed form, which OpenSSH requires")]
    CompressedPoint {
        /// The key type.
        algorithm: &'static str,
    },
    /// The comment is longer than [`MAX_COMMENT_BYTES`].
    #[error("key comment is {len} bytes, more than the {max} allowed")]
    CommentTooLong {
        /// The size of the comment, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// The comment contains a character outside printable ASCII (a tab, an escape, a
    /// right-to-left override, any non-ASCII letter...), which could make a listing lie.
    #[error(
        "key comment has a character outside printable ASCII at byte {offset}; give a comment of plain letters, digits and punctuation"
    )]
    CommentNotPrintable {
        /// The byte offset of the character in the comment.
        offset: usize,
    },
    /// A key title is longer than [`MAX_TITLE_CHARS`].
    #[error("key title is {len} characters, more than the {max} allowed")]
    TitleTooLong {
        /// The length of the title, in characters.
        len: usize,
        /// The limit, in characters.
        max: usize,
    },
    /// A key title contains a control character.
    #[error("key title contains a control character at byte {offset}")]
    TitleControl {
        /// The byte offset of the character in the title.
        offset: usize,
    },
}

/// The database id of a key, which the forced command names as `key-17`.
///
/// Serialized as a plain JSON number. [`KeyId::new`] takes any `i64` because ids come from the
/// database; [`KeyId::parse_arg`] only accepts the positive ids forge hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(i64);

impl KeyId {
    /// Returns a key id for a database id.
    ///
    /// Forge's ids are positive; only those render to an argument that
    /// [`KeyId::parse_arg`] reads back.
    pub fn new(id: i64) -> KeyId {
        KeyId(id)
    }

    /// Returns the database id.
    ///
    /// This is the number without the `key-` prefix.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses the forced command argument `key-<n>`.
    ///
    /// `n` is a positive decimal number without sign or leading zeros that fits an `i64`;
    /// nothing else is accepted, not even surrounding spaces.
    pub fn parse_arg(arg: &str) -> Result<KeyId, Error> {
        let bad = || Error::BadKeyId { arg: shown(arg) };
        let digits = arg.strip_prefix("key-").ok_or_else(bad)?;
        positive_id(digits).map(KeyId).ok_or_else(bad)
    }
}

/// Returns the positive number `digits` spells in decimal, without sign or leading zeros, if it
/// fits an `i64`: the id in a forced command (`key-17`, `cert-3:alice`).
pub(crate) fn positive_id(digits: &str) -> Option<i64> {
    let well_formed = !digits.is_empty()
        && !digits.starts_with('0')
        && digits.bytes().all(|byte| byte.is_ascii_digit());
    well_formed.then(|| digits.parse().ok()).flatten()
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key-{}", self.0)
    }
}

impl FromStr for KeyId {
    type Err = Error;

    fn from_str(arg: &str) -> Result<KeyId, Error> {
        KeyId::parse_arg(arg)
    }
}

/// A key as an admin names it: the id `forgectl key list` shows (`key-17`, or `17` as its JSON
/// has it) or its SHA256 fingerprint.
///
/// Serialized as that text (`"key-17"` or `"SHA256:..."`), so a fingerprint sent by an older
/// forgectl still reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KeyRef {
    /// The key with this id.
    Id(KeyId),
    /// The key with this fingerprint.
    Fingerprint(Fingerprint),
}

impl KeyRef {
    /// Parses `key-17`, `17` or a fingerprint such as `SHA256:FQXBZx...CKJsQ`.
    ///
    /// Anything starting with `SHA256:` or another hash's prefix is read as a fingerprint, so
    /// its error is the fingerprint's.
    pub fn parse(arg: &str) -> Result<KeyRef, Error> {
        if arg.contains(':') {
            return Fingerprint::parse(arg).map(KeyRef::Fingerprint);
        }
        let digits = arg.strip_prefix("key-").unwrap_or(arg);
        positive_id(digits)
            .map(|id| KeyRef::Id(KeyId(id)))
            .ok_or_else(|| Error::BadKeyRef { arg: shown(arg) })
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRef::Id(id) => id.fmt(f),
            KeyRef::Fingerprint(fingerprint) => f.write_str(fingerprint.as_str()),
        }
    }
}

impl TryFrom<String> for KeyRef {
    type Error = Error;

    fn try_from(text: String) -> Result<KeyRef, Error> {
        KeyRef::parse(&text)
    }
}

impl From<KeyRef> for String {
    fn from(key: KeyRef) -> String {
        key.to_string()
    }
}

/// An OpenSSH SHA256 key fingerprint, exactly as `ssh-keygen -l` prints it.
///
/// That is `SHA256:` followed by the unpadded standard base64 of the SHA-256 of the key blob
/// (43 characters). Serialized as that string; deserializing checks it like
/// [`Fingerprint::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Parses a fingerprint as `ssh-keygen -l` prints it, such as `SHA256:FQXBZx...CKJsQ`.
    ///
    /// The prefix is case-sensitive, there is no padding, and the last character must be a
    /// canonical encoding of the final bits, so each key has exactly one accepted spelling.
    pub fn parse(text: &str) -> Result<Fingerprint, Error> {
        if !text.starts_with("SHA256:") {
            let other_hash = ["MD5:", "SHA1:", "SHA384:", "SHA512:"]
                .iter()
                .any(|prefix| text.starts_with(prefix));
            return Err(if other_hash {
                Error::FingerprintNotSha256 {
                    fingerprint: shown(text),
                }
            } else {
                Error::BadFingerprint {
                    fingerprint: shown(text),
                }
            });
        }
        // ssh-key's decoder checks the alphabet and the digest length; the round trip rejects
        // any second spelling of the same digest.
        match ssh_key::Fingerprint::from_str(text) {
            Ok(parsed) if parsed.is_sha256() && parsed.to_string() == text => {
                Ok(Fingerprint(text.to_owned()))
            }
            _ => Err(Error::BadFingerprint {
                fingerprint: shown(text),
            }),
        }
    }

    /// Returns the fingerprint as text, `SHA256:` included.
    ///
    /// This is the same text that [`fmt::Display`] writes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    fn from_str(text: &str) -> Result<Fingerprint, Error> {
        Fingerprint::parse(text)
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = Error;

    fn try_from(text: String) -> Result<Fingerprint, Error> {
        Fingerprint::parse(&text)
    }
}

impl From<Fingerprint> for String {
    fn from(fingerprint: Fingerprint) -> String {
        fingerprint.0
    }
}

/// A key's title: a short name an admin gives a key to tell it apart in `forgectl key list`.
///
/// At most [`MAX_TITLE_CHARS`] characters without control characters; it may be empty. It is
/// shown, never written to `authorized_keys`. Serialized as a string; deserializing checks it
/// like [`Title::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    /// Parses a title as an admin gives it with `forgectl key add --title`.
    pub fn parse(text: &str) -> Result<Title, Error> {
        let len = text.chars().count();
        if len > MAX_TITLE_CHARS {
            return Err(Error::TitleTooLong {
                len,
                max: MAX_TITLE_CHARS,
            });
        }
        match text.char_indices().find(|(_, c)| c.is_control()) {
            Some((offset, _)) => Err(Error::TitleControl { offset }),
            None => Ok(Title(text.to_owned())),
        }
    }

    /// Returns the title a key gets when none is given: its comment, cut to
    /// [`MAX_TITLE_CHARS`] characters.
    pub fn from_comment(key: &PublicKey) -> Title {
        // A comment never holds control characters, so only its length needs care.
        Title(key.comment().chars().take(MAX_TITLE_CHARS).collect())
    }

    /// Returns the title as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Title {
    type Err = Error;

    fn from_str(text: &str) -> Result<Title, Error> {
        Title::parse(text)
    }
}

impl TryFrom<String> for Title {
    type Error = Error;

    fn try_from(text: String) -> Result<Title, Error> {
        Title::parse(&text)
    }
}

impl From<Title> for String {
    fn from(title: Title) -> String {
        title.0
    }
}

/// A user's SSH public key that forge accepts.
///
/// It can only be made by [`PublicKey::parse_authorized`] or [`PublicKey::from_stored`], so a
/// `PublicKey` you hold is of an accepted type, structurally valid, canonically encoded, and has
/// a short printable comment.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: &'static str,
    blob: Vec<u8>,
    base64: String,
    comment: String,
    fingerprint: Fingerprint,
}

impl PublicKey {
    /// Parses the content of a `.pub` file as given to `forgectl key add`.
    ///
    /// The input is at most [`MAX_INPUT_BYTES`] and holds exactly one key line,
    /// `<algorithm> <base64> [comment]`, fields separated by spaces or tabs; blank lines and
    /// lines starting with `#` (after optional spaces) are ignored. Refused: `authorized_keys`
    /// options before the key, DSA keys, certificates, types outside [`ACCEPTED_ALGORITHMS`],
    /// base64 that is not the canonical padded encoding, a blob of another type than its label,
    /// trailing or missing bytes in the blob, RSA outside [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`],
    /// an even RSA modulus, compressed EC points or points off their curve, and a comment over
    /// [`MAX_COMMENT_BYTES`] or with a character outside printable ASCII (#11: a right-to-left
    /// override made `forgectl key list` lie). The comment is everything after the key data, without surrounding blanks.
    pub fn parse_authorized(input: &str) -> Result<PublicKey, Error> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(Error::InputTooLarge {
                len: input.len(),
                max: MAX_INPUT_BYTES,
            });
        }
        let mut key_lines = input
            .lines()
            .enumerate()
            .filter(|(_, line)| is_key_line(line));
        let (first, line) = key_lines.next().ok_or(Error::NoKey)?;
        if let Some(kind) = other_file_kind(input) {
            return Err(kind);
        }
        if let Some((second, _)) = key_lines.next() {
            let (label, after_label) = split_field(line);
            if !is_key_type(label) && !looks_like_options(label, after_label) {
                return Err(Error::NotPublicKeyFile {
                    line: first + 1,
                    start: shown(label),
                });
            }
            return Err(Error::TooManyKeys {
                first: first + 1,
                second: second + 1,
            });
        }

        let (label, after_label) = split_field(line);
        let (base64, rest) = split_field(after_label);
        let comment = rest.trim_matches(BLANK);
        if looks_like_options(label, after_label) {
            return Err(Error::KeyOptions);
        }
        let algorithm = accepted_algorithm(label)?;
        if base64.is_empty() {
            return Err(Error::MissingKeyData { algorithm });
        }

        let key_data = decode_base64_key(algorithm, base64)?;
        check_comment(comment)?;
        let key = PublicKey::from_key_data(algorithm, key_data, comment)?;
        // ssh-key's base64 decoder is strict today; this keeps us strict if it ever relaxes,
        // so that the text shown back to the admin is the text they gave.
        if key.base64 != base64 {
            return Err(Error::NotCanonical { algorithm });
        }
        Ok(key)
    }

    /// Re-validates a key loaded from the database.
    ///
    /// `algorithm` is the stored type label, `blob` the raw key blob and `comment` the stored
    /// comment. The same rules as [`PublicKey::parse_authorized`] apply, so a row written by an
    /// older forge with laxer rules is refused rather than served; only a comment may hold
    /// non-ASCII text, as comments stored before #11 could.
    pub fn from_stored(algorithm: &str, blob: &[u8], comment: &str) -> Result<PublicKey, Error> {
        let algorithm = accepted_algorithm(algorithm)?;
        if blob.len() > MAX_INPUT_BYTES {
            return Err(Error::InputTooLarge {
                len: blob.len(),
                max: MAX_INPUT_BYTES,
            });
        }
        let parsed = ssh_key::PublicKey::from_bytes(blob)
            .map_err(|source| Error::BadKeyData { algorithm, source })?;
        let actual = parsed.algorithm();
        if actual.as_str() != algorithm {
            return Err(Error::TypeMismatch {
                label: algorithm.to_owned(),
                actual: shown(actual.as_str()),
            });
        }
        check_stored_comment(comment)?;
        let key = PublicKey::from_key_data(algorithm, parsed.key_data().clone(), comment)?;
        if key.blob != blob {
            return Err(Error::NotCanonical { algorithm });
        }
        Ok(key)
    }

    /// Returns the key type, such as `ssh-ed25519`.
    ///
    /// It is always one of [`ACCEPTED_ALGORITHMS`].
    pub fn algorithm(&self) -> &str {
        self.algorithm
    }

    /// Returns the raw key blob, the bytes that the base64 in a `.pub` file encodes.
    ///
    /// This is what the database stores and what the fingerprint hashes.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    /// Returns the key's comment, possibly empty.
    ///
    /// It is at most [`MAX_COMMENT_BYTES`] and has no control characters.
    pub fn comment(&self) -> &str {
        &self.comment
    }

    /// Returns the key's SHA256 fingerprint, as `ssh-keygen -l` prints it.
    ///
    /// This is what logs and admin output use to name a key.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint.clone()
    }

    /// Returns the key as `<algorithm> <base64>`, the way a `.pub` file starts.
    ///
    /// The comment is never included: it is user text and has no place in `authorized_keys`.
    pub fn to_openssh(&self) -> String {
        format!("{} {}", self.algorithm, self.base64)
    }

    /// Checks what ssh-key does not, then builds the key with its canonical encodings.
    fn from_key_data(
        algorithm: &'static str,
        key_data: KeyData,
        comment: &str,
    ) -> Result<PublicKey, Error> {
        check_key_data(algorithm, &key_data)?;
        let parsed = ssh_key::PublicKey::from(key_data);
        let bad_data = |source| Error::BadKeyData { algorithm, source };
        let blob = parsed.to_bytes().map_err(bad_data)?;
        // With an empty comment ssh-key writes `<algorithm> <base64>`.
        let text = parsed.to_openssh().map_err(bad_data)?;
        let base64 = text
            .strip_prefix(algorithm)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or(Error::NotCanonical { algorithm })?
            .to_owned();
        let fingerprint = Fingerprint(parsed.fingerprint(HashAlg::Sha256).to_string());
        Ok(PublicKey {
            algorithm,
            blob,
            base64,
            comment: comment.to_owned(),
            fingerprint,
        })
    }
}

impl fmt::Debug for PublicKey {
    // Keys are named by fingerprint in output and logs, never by their key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm)
            .field("fingerprint", &self.fingerprint.as_str())
            .field("comment", &self.comment)
            .finish()
    }
}

/// Returns whether a key that `expires` (`None`: never) no longer works at `now`.
///
/// A key stops working at the instant it expires, the same instant `expiry-time` names.
pub fn is_expired(expires: Option<Timestamp>, now: Timestamp) -> bool {
    expires.is_some_and(|expires| expires <= now)
}

/// Returns the error for an input that is a well-known kind of file other than an OpenSSH
/// public key, so the admin learns what they gave and what to give instead.
fn other_file_kind(input: &str) -> Option<Error> {
    let first = input.lines().map(str::trim).find(|line| !line.is_empty())?;
    if first.starts_with("-----BEGIN ") && first.contains("PRIVATE KEY") {
        Some(Error::PrivateKey)
    } else if first.starts_with("PuTTY-User-Key-File-") {
        Some(Error::PuttyPrivateKey)
    } else if first == "---- BEGIN SSH2 PUBLIC KEY ----" {
        Some(Error::Rfc4716)
    } else {
        None
    }
}

/// Returns whether a line of a `.pub` input holds a key (it is neither blank nor a comment).
fn is_key_line(line: &str) -> bool {
    let line = line.trim_start_matches(BLANK);
    !line.is_empty() && !line.starts_with('#')
}

/// Splits off the first blank-separated field; the rest keeps its leading blanks.
fn split_field(text: &str) -> (&str, &str) {
    let text = text.trim_start_matches(BLANK);
    match text.find(BLANK) {
        Some(end) => text.split_at(end),
        None => (text, ""),
    }
}

/// Returns whether a key type name is one OpenSSH knows, accepted by forge or not.
fn is_key_type(name: &str) -> bool {
    ACCEPTED_ALGORITHMS.contains(&name)
        || name == DSA_ALGORITHM
        || name.ends_with(CERTIFICATE_SUFFIX)
}

/// Returns whether a line starts with `authorized_keys` options instead of a key type.
///
/// Options are a comma-separated list before the key type, such as `restrict` or
/// `command="..."`; either the first field looks like one, or a key type follows it.
fn looks_like_options(first: &str, rest: &str) -> bool {
    if is_key_type(first) {
        return false;
    }
    let option_syntax = first.contains(['=', '"', ',']);
    let bare_option = BARE_KEY_OPTIONS
        .iter()
        .any(|option| option.eq_ignore_ascii_case(first));
    let key_type_follows = rest.split(BLANK).any(is_key_type);
    option_syntax || bare_option || key_type_follows
}

/// Maps a key type label to its entry in [`ACCEPTED_ALGORITHMS`], or says why it is refused.
fn accepted_algorithm(label: &str) -> Result<&'static str, Error> {
    if let Some(algorithm) = ACCEPTED_ALGORITHMS.iter().find(|known| **known == label) {
        return Ok(algorithm);
    }
    Err(if label == DSA_ALGORITHM {
        Error::Dsa
    } else if label.ends_with(CERTIFICATE_SUFFIX) {
        Error::Certificate {
            algorithm: shown(label),
        }
    } else {
        Error::UnsupportedAlgorithm {
            algorithm: shown(label),
        }
    })
}

/// Decodes the base64 field of a key line as a key of type `algorithm`.
fn decode_base64_key(algorithm: &'static str, base64: &str) -> Result<KeyData, Error> {
    match ssh_key::PublicKey::from_openssh(&format!("{algorithm} {base64}")) {
        Ok(parsed) => Ok(parsed.key_data().clone()),
        Err(ssh_key::Error::AlgorithmUnknown) => {
            // ssh-key reports a label that disagrees with the blob as an unknown algorithm.
            // Finding the blob's own type lets the error name both.
            let actual = ACCEPTED_ALGORITHMS
                .iter()
                .chain([&DSA_ALGORITHM])
                .find(|other| {
                    ssh_key::PublicKey::from_openssh(&format!("{other} {base64}")).is_ok()
                });
            Err(match actual {
                Some(actual) => Error::TypeMismatch {
                    label: algorithm.to_owned(),
                    actual: (*actual).to_owned(),
                },
                None => Error::BadKeyData {
                    algorithm,
                    source: ssh_key::Error::AlgorithmUnknown,
                },
            })
        }
        Err(source) => Err(Error::BadKeyData { algorithm, source }),
    }
}

/// Checks the parts of a blob that ssh-key leaves unchecked.
fn check_key_data(algorithm: &'static str, key_data: &KeyData) -> Result<(), Error> {
    if let Some(rsa) = key_data.rsa() {
        let bits = rsa.n.as_positive_bytes().map_or(0, bit_length);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(Error::RsaSize {
                bits,
                min: MIN_RSA_BITS,
                max: MAX_RSA_BITS,
            });
        }
        let modulus_odd = rsa
            .n
            .as_positive_bytes()
            .and_then(<[u8]>::last)
            .is_some_and(|low| low % 2 == 1);
        if !modulus_odd {
            return Err(Error::RsaModulus);
        }
        let exponent = rsa.e.as_positive_bytes().unwrap_or_default();
        let odd = exponent.last().is_some_and(|low| low % 2 == 1);
        if !odd || bit_length(exponent) < 2 {
            return Err(Error::RsaExponent);
        }
    }
    // OpenSSH reads only uncompressed points (SEC1 tag 0x04); ssh-key also takes compressed ones.
    let point = key_data
        .ecdsa()
        .map(|ecdsa| ecdsa.as_sec1_bytes())
        .or_else(|| key_data.sk_ecdsa_p256().map(|sk| sk.ec_point().as_bytes()));
    let Some(point) = point else {
        return Ok(());
    };
    if point.first() != Some(&0x04) {
        return Err(Error::CompressedPoint { algorithm });
    }
    // ssh-key checks only the length and tag of a point; the curve crates check the equation.
    let on_curve = match point.len() {
        65 => p256::PublicKey::from_sec1_bytes(point).is_ok(),
        97 => p384::PublicKey::from_sec1_bytes(point).is_ok(),
        133 => p521::PublicKey::from_sec1_bytes(point).is_ok(),
        _ => false,
    };
    if !on_curve {
        return Err(Error::PointNotOnCurve { algorithm });
    }
    Ok(())
}

/// Returns the number of significant bits in a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let bytes = match bytes.iter().position(|byte| *byte != 0) {
        Some(start) => &bytes[start..],
        None => return 0,
    };
    let top_bits = 8 - bytes[0].leading_zeros() as usize;
    (bytes.len() - 1) * 8 + top_bits
}

/// Checks the length and characters of a key comment as given: printable ASCII and spaces only.
fn check_comment(comment: &str) -> Result<(), Error> {
    check_stored_comment(comment)?;
    match comment
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_graphic() || *c == ' '))
    {
        Some((offset, _)) => Err(Error::CommentNotPrintable { offset }),
        None => Ok(()),
    }
}

/// Checks a comment read back from the database: its length, and no control characters.
///
/// Rows stored before #11 may hold non-ASCII comments; they keep working (every place that
/// shows a comment escapes it), while a new key must pass [`check_comment`].
fn check_stored_comment(comment: &str) -> Result<(), Error> {
    if comment.len() > MAX_COMMENT_BYTES {
        return Err(Error::CommentTooLong {
            len: comment.len(),
            max: MAX_COMMENT_BYTES,
        });
    }
    match comment.char_indices().find(|(_, c)| c.is_control()) {
        Some((offset, _)) => Err(Error::CommentNotPrintable { offset }),
        None => Ok(()),
    }
}

impl Classify for Error {
    /// Every error here is input that cannot be used (keys, fingerprints, key ids and titles): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::error::Error as _;

    // Generated with ssh-keygen (OpenSSH 9.2); fingerprints from `ssh-keygen -lf`.
    pub(crate) const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM alice@laptop";
    const ED25519_FP: &str = "SHA256:FQXBZxl8kfUh6i5NkyCQZLy5lFJiTHfRpXeZE5CKJsQ";
    const ECDSA256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFlHbq+D5Wdsf5UwEnxxd0GWSvpDY2VnatLLdb4KbKtgDRebvRY+nr/fDL31rCkjvcCmtFVST2Hpzi/Qrct7zJ8= bob@desk";
    const ECDSA256_FP: &str = "SHA256:itwz1FNGRify68zUVu5zMuwb2X3m1dR62t+Qm0jXF30";
    const ECDSA384: &str = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBPIdsQLojN56TUh5XtL+1jqFZjN5DJ0W0Z8+B0F7BcvslggyfueTb7B85ehM9L8Skj+oWis4ZRkQ0XY9hnhT18VdCC1tZqrZV8cBD7N+8ICG/T87CdxZsrH8FXba6S1RiA== carol";
    const ECDSA384_FP: &str = "SHA256:J62KdNj8jjUaCF26uFBuR7bJW/Q079/kSBk23irb1HY";
    pub(crate) const ECDSA521: &str = "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAB2Pwx6Afw03o4qqnuC8+8hyM/mQWFcN2qXhD/gDSAdfWigTkGtK6rrNHetly06I4MVVLN25ebp1aSs0oC4zRQb2gH89xUXRrJYISGi+p+wIBMUq1q/7py9jO9ERlzLXbU89M84x+tSRlnze7PXZoyeOhRmMF234+fwIcLZPjLp+MqnyA== dave@ci";
    const ECDSA521_FP: &str = "SHA256:Nuqzihfvke9WcS4FPuRrRN4/tWcHSQPpxMAmN+0WMrs";
    pub(crate) const RSA2048: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCZhKF6STodNJpsmPuYn4G8mlah71LsUEj9pf8dC0A4KEkdiUCnYBh2rekzPJjh+LgbK/EioJv9ZzG7MKwl39MSOJ51PtT80qWzIl6+tU3bKOd9gCvhwVOgh2CrTEOuFTWNzsv5HbHrwkScY8CrLrhbXvv0XB7wqD3vXlthCA+oEGQqTBsEJgHLEOvO037hv6XRi4IVPwqaL622vMKisn4KjDVPoo/uD/y0wR15BNDRCMfSVAxmRPweuh85+46Rr8I/zqdgdTW+iUbvgsqxjYbm4Ok8Y36XKcnAc5ltWTGsgxraQEPdxdDdn1d0C2931vwE2JsdV5T4UbGAOf7LinPb erin@old";
    const RSA2048_FP: &str = "SHA256:L8jC97H7bYu60k+HQBxhieQQSCY1fmWPgMu6jhJS9IU";
    // Built by hand from the ed25519 and nistp256 points above with application "ssh:";
    // `ssh-keygen -lf` accepts them and prints these fingerprints.
    const SK_ED25519: &str = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcMAAAABHNzaDo= frank@yubikey";
    const SK_ED25519_FP: &str = "SHA256:x7D6YSJ1bxqXGgPCbWqBmrWa7DASbvIxV7H5UhmIDSM";
    pub(crate) const SK_ECDSA: &str = "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBFlHbq+D5Wdsf5UwEnxxd0GWSvpDY2VnatLLdb4KbKtgDRebvRY+nr/fDL31rCkjvcCmtFVST2Hpzi/Qrct7zJ8AAAAEc3NoOg== grace@yubikey";
    const SK_ECDSA_FP: &str = "SHA256:bIkerveUrjFYFkBJjJ28Dxc1YVny1M7LWyNwtEorfMU";
    // Refused types, also from ssh-keygen.
    const RSA1024: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDvpELge3j1R3ipzUA9whlawITwZ4JzbDSa2lbeXQ7D1+1uPuXO8PaZ3pnpG1SsvQFg3TDf8X3gZJmewqyWYAQX6h8SKvofLDsSyXm4cbQefshMq0RZDS1BGc0nd3TCSUwOg16u73UjaGWghCfhv50cnrqPlL9K8ZPrtE1aepkDAw== weak";
    const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBAJuIqzrODE+4VmXeuHZiLotiqtsHLD28Lp9FGa3CfpFN4SRhfSOlQp2mlPMbQXJ/0GLBiTE58j43KN/Njy5+HBTcoO1Rs/3Z1Lz55ldf3BBlr9Ubu2WQy8Y1x5rLfYcjkZG2tpAZ3ry+BGMefM/3x+S8ymUf5pyp4vXpLMA7HJR1AAAAFQCnXIhUrn/nyJqOKyIMPnqWVR+onQAAAIAi9gr9QGIVE+KmOqIEzIJFCa1qmB6vEaj9JfU3Qxc8ZuzFRPJ3IYF8AuGLWpFqIqPyurCD4vt6PGfZDdPspF3GloGyIddwzDz0J0DA0wjDhwvyJbzEo1oVOm+OwB1LNWWak/z6sjfD9UsJQXMO0ay8Xj+O5BaQwvNjgQcFxXHR/gAAAIAmGy233Cmo3T234WJ+ZAYuw7DZV0QGoNf1KuPWehekvOmXTUbyIpKL9MvX/QfdILBrH9U8IwAChvZHHqHwgr9d5BUupRGv6FtWXEPIxehCZrcCSWyMZXoLF8ksXx4CI5qw2ixRLOc2/n2T18UKyi0OPD/tlxv2iG2iQ2xxPTOdKw== ancient";
    const CERT: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIKJjgD9cddDvcyuMqA1Da6qqu5/u2jkWN7riqQlaTjozAAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcMAAAAAAAAAAAAAAABAAAABGNlcnQAAAAJAAAABWFsaWNlAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcMAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDz/iAbJL0ae4P1CyOimWU5z511/PMsnPSKRNuyubAyYG3zTpSqC8J9Bjz6Douo/Bj3DDpjIJv+d5Zw9gYkhQ4J alice@laptop";

    /// Returns the second field of a key line.
    pub(crate) fn base64_of(line: &str) -> &str {
        line.split(' ')
            .nth(1)
            .expect("test key lines have a base64 field")
    }

    /// Returns the blob of a key line that parses.
    fn blob_of(line: &str) -> Vec<u8> {
        PublicKey::parse_authorized(line).unwrap().blob().to_vec()
    }

    /// Encodes bytes as standard padded base64, independently of ssh-key.
    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let word = chunk.iter().enumerate().fold(0u32, |word, (i, byte)| {
                word | u32::from(*byte) << (16 - 8 * i)
            });
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(word >> (18 - 6 * i)) as usize & 63]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// Encodes an SSH wire-format string: a big-endian u32 length, then the bytes.
    fn ssh_string(bytes: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    /// Builds an ssh-rsa blob with exponent `e` and an odd modulus of exactly `bits` bits.
    fn rsa_blob(bits: usize, e: &[u8]) -> Vec<u8> {
        let mut n = vec![0x5a_u8; bits.div_ceil(8)];
        let top_bits = bits - (n.len() - 1) * 8;
        n[0] = 1 << (top_bits - 1);
        *n.last_mut().unwrap() |= 1;
        if n[0] >= 0x80 {
            n.insert(0, 0);
        }
        let mut blob = ssh_string(b"ssh-rsa");
        blob.extend(ssh_string(e));
        blob.extend(ssh_string(&n));
        blob
    }

    /// Builds an ecdsa-sha2-nistp256 blob holding the bob@desk point in compressed form.
    fn compressed_p256_blob() -> Vec<u8> {
        let uncompressed = blob_of(ECDSA256);
        // The point is the last 65 bytes: 0x04, x, y.
        let point = &uncompressed[uncompressed.len() - 65..];
        let mut compressed = vec![0x02 | (point[64] & 1)];
        compressed.extend_from_slice(&point[1..33]);
        let mut blob = ssh_string(b"ecdsa-sha2-nistp256");
        blob.extend(ssh_string(b"nistp256"));
        blob.extend(ssh_string(&compressed));
        blob
    }

    fn line(algorithm: &str, blob: &[u8]) -> String {
        format!("{algorithm} {}", base64(blob))
    }

    /// Returns the blob of a key line with the last byte of its EC point (the low byte of y)
    /// flipped, which takes the point off its curve. The point ends the blob, except in a
    /// security key, where the application string follows it.
    fn off_curve_blob(key: &str) -> Vec<u8> {
        let mut blob = blob_of(key);
        let end = if key.starts_with("sk-") {
            let application = b"ssh:";
            assert!(blob.ends_with(application));
            blob.len() - application.len() - 4
        } else {
            blob.len()
        };
        blob[end - 1] ^= 1;
        blob
    }

    /// Returns an ECDSA blob whose point is `0x04` and zeros: the point at infinity is not a
    /// valid key, and (0, 0) is on none of the curves.
    fn zero_point_blob(curve: &str, coordinate_bytes: usize) -> Vec<u8> {
        let mut point = vec![0x04];
        point.resize(1 + 2 * coordinate_bytes, 0);
        let mut blob = ssh_string(format!("ecdsa-sha2-{curve}").as_bytes());
        blob.extend(ssh_string(curve.as_bytes()));
        blob.extend(ssh_string(&point));
        blob
    }

    #[test]
    fn points_off_their_curve_and_even_rsa_moduli_are_refused() {
        let mut even_modulus = rsa_blob(2048, &[1, 0, 1]);
        *even_modulus.last_mut().unwrap() &= 0xfe;
        let invalid: Vec<(&str, &str, Vec<u8>)> = vec![
            (
                "p256 off curve",
                "ecdsa-sha2-nistp256",
                off_curve_blob(ECDSA256),
            ),
            (
                "p384 off curve",
                "ecdsa-sha2-nistp384",
                off_curve_blob(ECDSA384),
            ),
            (
                "p521 off curve",
                "ecdsa-sha2-nistp521",
                off_curve_blob(ECDSA521),
            ),
            (
                "security key p256 off curve",
                "sk-ecdsa-sha2-nistp256@openssh.com",
                off_curve_blob(SK_ECDSA),
            ),
            (
                "p256 zero point",
                "ecdsa-sha2-nistp256",
                zero_point_blob("nistp256", 32),
            ),
            (
                "p384 zero point",
                "ecdsa-sha2-nistp384",
                zero_point_blob("nistp384", 48),
            ),
            (
                "p521 zero point",
                "ecdsa-sha2-nistp521",
                zero_point_blob("nistp521", 66),
            ),
            ("even rsa modulus", "ssh-rsa", even_modulus),
        ];
        for (name, algorithm, blob) in &invalid {
            for outcome in [
                PublicKey::parse_authorized(&line(algorithm, blob)),
                PublicKey::from_stored(algorithm, blob, ""),
            ] {
                match outcome {
                    Ok(key) => panic!("{name}: accepted as {key:?}"),
                    Err(err) => assert!(
                        matches!(err, Error::PointNotOnCurve { .. } | Error::RsaModulus),
                        "{name}: wrong error {err:?} ({err})"
                    ),
                }
            }
        }
        assert_eq!(
            PublicKey::parse_authorized(&line("ecdsa-sha2-nistp256", &off_curve_blob(ECDSA256)))
                .unwrap_err()
                .to_string(),
            "the 'ecdsa-sha2-nistp256' key's point is not on its curve"
        );
    }

    #[test]
    fn titles_are_short_and_printable_and_default_to_the_comment() {
        let hundred = "é".repeat(MAX_TITLE_CHARS);
        for valid in ["", "laptop", "CI deploy key (2030)", hundred.as_str()] {
            let title = Title::parse(valid).unwrap_or_else(|err| panic!("{valid:?}: {err}"));
            assert_eq!(title.as_str(), valid);
        }
        let too_long = "x".repeat(MAX_TITLE_CHARS + 1);
        type Check = fn(&Error) -> bool;
        let invalid: [(&str, Check); 4] = [
            (&too_long, |e| {
                matches!(e, Error::TitleTooLong { len: 101, max: 100 })
            }),
            ("a\nb", |e| matches!(e, Error::TitleControl { offset: 1 })),
            ("tab\there", |e| {
                matches!(e, Error::TitleControl { offset: 3 })
            }),
            ("\u{1b}[31m", |e| {
                matches!(e, Error::TitleControl { offset: 0 })
            }),
        ];
        for (text, check) in invalid {
            match Title::parse(text) {
                Ok(title) => panic!("{text:?} accepted as {title:?}"),
                Err(err) => assert!(check(&err), "{text:?}: wrong error {err:?}"),
            }
        }
        assert!(serde_json::from_str::<Title>("\"a\\u0007\"").is_err());

        let key = PublicKey::parse_authorized(ED25519).unwrap();
        assert_eq!(Title::from_comment(&key).as_str(), "alice@laptop");
        let long = format!(
            "{} {}",
            &ED25519[..ED25519.rfind(' ').unwrap()],
            "c".repeat(300)
        );
        let key = PublicKey::parse_authorized(&long).unwrap();
        assert_eq!(
            Title::from_comment(&key).as_str(),
            "c".repeat(MAX_TITLE_CHARS)
        );
    }

    #[test]
    fn test_base64_encoder_matches_ssh_keygen_output() {
        for key in [ED25519, ECDSA256, ECDSA384, RSA2048, SK_ECDSA] {
            assert_eq!(base64(&blob_of(key)), base64_of(key));
        }
    }

    #[test]
    fn every_accepted_type_parses_with_the_fingerprint_ssh_keygen_prints() {
        let rows = [
            (ED25519, "ssh-ed25519", ED25519_FP, "alice@laptop"),
            (ECDSA256, "ecdsa-sha2-nistp256", ECDSA256_FP, "bob@desk"),
            (ECDSA384, "ecdsa-sha2-nistp384", ECDSA384_FP, "carol"),
            (ECDSA521, "ecdsa-sha2-nistp521", ECDSA521_FP, "dave@ci"),
            (RSA2048, "ssh-rsa", RSA2048_FP, "erin@old"),
            (
                SK_ED25519,
                "sk-ssh-ed25519@openssh.com",
                SK_ED25519_FP,
                "frank@yubikey",
            ),
            (
                SK_ECDSA,
                "sk-ecdsa-sha2-nistp256@openssh.com",
                SK_ECDSA_FP,
                "grace@yubikey",
            ),
        ];
        assert_eq!(rows.len(), ACCEPTED_ALGORITHMS.len());
        for (input, algorithm, fingerprint, comment) in rows {
            let key = PublicKey::parse_authorized(input)
                .unwrap_or_else(|err| panic!("{algorithm}: {err}"));
            assert_eq!(key.algorithm(), algorithm);
            assert_eq!(key.fingerprint().as_str(), fingerprint, "{algorithm}");
            assert_eq!(key.comment(), comment);
            assert_eq!(
                key.to_openssh(),
                format!("{algorithm} {}", base64_of(input))
            );
        }
    }

    #[test]
    fn valid_inputs_yield_the_key_and_its_comment() {
        let long_comment = "c".repeat(MAX_COMMENT_BYTES);
        let ed = base64_of(ED25519);
        let valid: Vec<(String, &str)> = vec![
            (format!("ssh-ed25519 {ed}"), ""),
            (format!("ssh-ed25519 {ed}\n"), ""),
            (format!("ssh-ed25519 {ed} alice@laptop\r\n"), "alice@laptop"),
            (format!("ssh-ed25519\t{ed}\talice"), "alice"),
            (format!("  ssh-ed25519  {ed}   alice  "), "alice"),
            (
                format!("ssh-ed25519 {ed} Alice's key (2024)"),
                "Alice's key (2024)",
            ),
            (
                format!("# my key\n\n   # indented comment\nssh-ed25519 {ed} a\n\n"),
                "a",
            ),
            (
                format!("\n\t\nssh-ed25519 {ed} x\n# trailing comment\n"),
                "x",
            ),
            (
                format!("ssh-ed25519 {ed} {long_comment}"),
                long_comment.as_str(),
            ),
        ];
        for (input, comment) in &valid {
            let key =
                PublicKey::parse_authorized(input).unwrap_or_else(|err| panic!("{input:?}: {err}"));
            assert_eq!(key.algorithm(), "ssh-ed25519", "{input:?}");
            assert_eq!(key.fingerprint().as_str(), ED25519_FP, "{input:?}");
            assert_eq!(key.comment(), *comment, "{input:?}");
        }
    }

    #[test]
    fn invalid_inputs_are_refused_with_their_reason() {
        let ed = base64_of(ED25519);
        let rsa_1024 = base64_of(RSA1024);
        let ed_blob = blob_of(ED25519);
        let mut ed_with_trailing_byte = ed_blob.clone();
        ed_with_trailing_byte.push(0);
        let ed_truncated = &ed_blob[..ed_blob.len() - 1];
        // `8=` ends the nistp256 base64; `9=` decodes to the same bytes with stray low bits set.
        let p256_noncanonical = base64_of(ECDSA256).replace("8=", "9=");
        let too_large = format!("{ED25519}\n#{}\n", "x".repeat(MAX_INPUT_BYTES));

        type Check = fn(&Error) -> bool;
        let invalid: Vec<(&str, String, Check)> = vec![
            ("empty input", String::new(), |e| matches!(e, Error::NoKey)),
            ("blank lines", " \n\t\n\r\n".into(), |e| {
                matches!(e, Error::NoKey)
            }),
            ("only comments", "# one\n  # two\n".into(), |e| {
                matches!(e, Error::NoKey)
            }),
            ("two keys", format!("{ED25519}\n# and\n{ECDSA256}\n"), |e| {
                matches!(
                    e,
                    Error::TooManyKeys {
                        first: 1,
                        second: 3
                    }
                )
            }),
            ("dsa", DSA.into(), |e| matches!(e, Error::Dsa)),
            ("rsa 1024", RSA1024.into(), |e| {
                matches!(e, Error::RsaSize { bits: 1024, .. })
            }),
            ("certificate", CERT.into(), |e| {
                matches!(e, Error::Certificate { .. })
            }),
            (
                "command option",
                format!("command=\"ls -l\" {ED25519}"),
                |e| matches!(e, Error::KeyOptions),
            ),
            ("from option", format!("from=\"10.0.0.1\" {ED25519}"), |e| {
                matches!(e, Error::KeyOptions)
            }),
            ("restrict", format!("restrict {ED25519}"), |e| {
                matches!(e, Error::KeyOptions)
            }),
            (
                "bare options",
                format!("no-pty,no-port-forwarding {ED25519}"),
                |e| matches!(e, Error::KeyOptions),
            ),
            ("single bare option", format!("NO-PTY {ED25519}"), |e| {
                matches!(e, Error::KeyOptions)
            }),
            ("options before dsa", format!("no-pty {DSA}"), |e| {
                matches!(e, Error::KeyOptions)
            }),
            (
                "unknown type",
                format!("ssh-foo {ed} x"),
                |e| matches!(e, Error::UnsupportedAlgorithm { algorithm } if algorithm == "ssh-foo"),
            ),
            (
                "signature name as type",
                format!("rsa-sha2-256 {ed}"),
                |e| matches!(e, Error::UnsupportedAlgorithm { .. }),
            ),
            ("xmss", format!("ssh-xmss@openssh.com {ed}"), |e| {
                matches!(e, Error::UnsupportedAlgorithm { .. })
            }),
            ("type in wrong case", format!("SSH-ED25519 {ed}"), |e| {
                matches!(e, Error::UnsupportedAlgorithm { .. })
            }),
            ("no key data", "ssh-ed25519".into(), |e| {
                matches!(e, Error::MissingKeyData { .. })
            }),
            ("no key data but spaces", "ssh-ed25519   \n".into(), |e| {
                matches!(e, Error::MissingKeyData { .. })
            }),
            ("ed25519 labelled rsa", format!("ssh-rsa {ed}"), |e| {
                matches!(e, Error::TypeMismatch { label, actual }
                    if label == "ssh-rsa" && actual == "ssh-ed25519")
            }),
            (
                "nistp256 labelled nistp384",
                format!("ecdsa-sha2-nistp384 {}", base64_of(ECDSA256)),
                |e| matches!(e, Error::TypeMismatch { actual, .. } if actual == "ecdsa-sha2-nistp256"),
            ),
            (
                "sk-ed25519 labelled ed25519",
                format!("ssh-ed25519 {}", base64_of(SK_ED25519)),
                |e| matches!(e, Error::TypeMismatch { .. }),
            ),
            (
                "certificate blob under a plain label",
                format!("ssh-ed25519 {}", base64_of(CERT)),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            (
                "characters outside base64",
                "ssh-ed25519 AAAA!!!!".into(),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            (
                "url-safe base64",
                format!(
                    "ecdsa-sha2-nistp256 {}",
                    base64_of(ECDSA256).replace('+', "-")
                ),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            (
                "unpadded base64",
                format!("ssh-rsa {}", rsa_1024.trim_end_matches('=')),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            (
                "short padding",
                format!("ssh-rsa {}", &rsa_1024[..rsa_1024.len() - 1]),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            ("extra padding", format!("ssh-ed25519 {ed}="), |e| {
                matches!(e, Error::BadKeyData { .. })
            }),
            (
                "extra padding after padding",
                format!("ssh-rsa {rsa_1024}="),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            (
                "padding in the middle",
                format!("ssh-ed25519 AA=={ed}"),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            (
                "non-canonical final bits",
                format!("ecdsa-sha2-nistp256 {p256_noncanonical}"),
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            (
                "trailing bytes in blob",
                line("ssh-ed25519", &ed_with_trailing_byte),
                |e| {
                    matches!(e, Error::BadKeyData { source, .. }
                    if source.to_string().contains("trailing data"))
                },
            ),
            ("truncated blob", line("ssh-ed25519", ed_truncated), |e| {
                matches!(e, Error::BadKeyData { .. })
            }),
            (
                "compressed point",
                line("ecdsa-sha2-nistp256", &compressed_p256_blob()),
                |e| matches!(e, Error::CompressedPoint { .. }),
            ),
            (
                "rsa 2047 bits",
                line("ssh-rsa", &rsa_blob(2047, &[1, 0, 1])),
                |e| matches!(e, Error::RsaSize { bits: 2047, .. }),
            ),
            (
                "rsa 16385 bits",
                line("ssh-rsa", &rsa_blob(16385, &[1, 0, 1])),
                |e| matches!(e, Error::RsaSize { bits: 16385, .. }),
            ),
            (
                "rsa even exponent",
                line("ssh-rsa", &rsa_blob(2048, &[2])),
                |e| matches!(e, Error::RsaExponent),
            ),
            (
                "rsa exponent one",
                line("ssh-rsa", &rsa_blob(2048, &[1])),
                |e| matches!(e, Error::RsaExponent),
            ),
            (
                "rsa exponent zero",
                line("ssh-rsa", &rsa_blob(2048, &[])),
                |e| matches!(e, Error::RsaExponent),
            ),
            (
                "rsa negative exponent",
                line("ssh-rsa", &rsa_blob(2048, &[0x81])),
                |e| matches!(e, Error::RsaExponent),
            ),
            (
                "comment too long",
                format!("ssh-ed25519 {ed} {}", "c".repeat(MAX_COMMENT_BYTES + 1)),
                |e| {
                    matches!(
                        e,
                        Error::CommentTooLong {
                            len: 1025,
                            max: 1024
                        }
                    )
                },
            ),
            (
                "bell in comment",
                format!("ssh-ed25519 {ed} alice\u{7}"),
                |e| matches!(e, Error::CommentNotPrintable { offset: 5 }),
            ),
            (
                "escape sequence in comment",
                format!("ssh-ed25519 {ed} a\u{1b}[31mred"),
                |e| matches!(e, Error::CommentNotPrintable { offset: 1 }),
            ),
            (
                "tab inside comment",
                format!("ssh-ed25519 {ed} alice\tlaptop"),
                |e| matches!(e, Error::CommentNotPrintable { offset: 5 }),
            ),
            ("nul in comment", format!("ssh-ed25519 {ed} a\0b"), |e| {
                matches!(e, Error::CommentNotPrintable { offset: 1 })
            }),
            (
                "c1 control in comment",
                format!("ssh-ed25519 {ed} a\u{9b}b"),
                |e| matches!(e, Error::CommentNotPrintable { offset: 1 }),
            ),
            ("input over 16 KiB", too_large, |e| {
                matches!(
                    e,
                    Error::InputTooLarge {
                        max: MAX_INPUT_BYTES,
                        ..
                    }
                )
            }),
        ];
        for (name, input, check) in &invalid {
            match PublicKey::parse_authorized(input) {
                Ok(key) => panic!("{name}: accepted as {key:?}"),
                Err(err) => assert!(check(&err), "{name}: wrong error {err:?} ({err})"),
            }
        }
    }

    #[test]
    fn rsa_sizes_at_the_limits_are_accepted() {
        for bits in [MIN_RSA_BITS, 4096, MAX_RSA_BITS] {
            let blob = rsa_blob(bits, &[1, 0, 1]);
            let parsed = PublicKey::parse_authorized(&line("ssh-rsa", &blob))
                .unwrap_or_else(|err| panic!("{bits} bits: {err}"));
            assert_eq!(parsed.blob(), blob.as_slice());
            assert_eq!(
                PublicKey::from_stored("ssh-rsa", &blob, "").unwrap(),
                parsed
            );
        }
    }

    #[test]
    fn the_refusals_the_admin_sees_read_as_promised() {
        let message = |input: &str| PublicKey::parse_authorized(input).unwrap_err().to_string();
        assert_eq!(
            message(&format!("command=\"x\" {ED25519}")),
            "key options such as 'command=' are not accepted; give the bare public key"
        );
        assert_eq!(message(DSA), "DSA keys are not accepted; use ed25519");
        assert!(message(CERT).starts_with("certificates are not accepted as keys"));
        assert_eq!(
            message(RSA1024),
            "RSA key has 1024 bits; keys of 2048 to 16384 bits are accepted"
        );
        assert_eq!(
            message(&format!("ssh-rsa {}", base64_of(ED25519))),
            "key type is 'ssh-rsa' but the key data is a 'ssh-ed25519' key"
        );
    }

    #[test]
    fn regression_11_other_files_are_named_and_comments_are_printable_ascii() {
        let message = |input: &str| PublicKey::parse_authorized(input).unwrap_err().to_string();
        let private = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
        assert!(
            message(private).starts_with("this is a private key"),
            "{}",
            message(private)
        );
        let rsa_private =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(message(rsa_private).starts_with("this is a private key"));
        let ppk = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: alice\nPublic-Lines: 2\n";
        assert!(
            message(ppk).starts_with("this is a PuTTY private key file"),
            "{}",
            message(ppk)
        );
        let rfc4716 = "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"alice\"\nAAAAC3NzaC1lZDI1NTE5AAAAIA\n---- END SSH2 PUBLIC KEY ----\n";
        assert!(
            message(rfc4716).starts_with("this is an RFC 4716"),
            "{}",
            message(rfc4716)
        );
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
        assert_eq!(
            message(passwd),
            "this is not an OpenSSH public key file (line 1 starts with 'root:x:0:0:root:/root:/bin/bash'); give the .pub file, one line like 'ssh-ed25519 AAAA... alice@laptop'"
        );
        let base = &ED25519[..ED25519.rfind(' ').unwrap()];
        for comment in ["alice\u{202e}pot\u{202c}", "j\u{fc}rgen", "a\u{200b}b"] {
            assert!(
                message(&format!("{base} {comment}"))
                    .starts_with("key comment has a character outside printable ASCII at byte"),
                "{comment:?} accepted"
            );
        }
        assert!(PublicKey::parse_authorized(&format!("{base} alice@laptop (work) #2")).is_ok());
    }

    #[test]
    fn user_text_in_errors_is_escaped_and_shortened() {
        let err = PublicKey::parse_authorized("ssh-\u{1b}[2J AAAA").unwrap_err();
        assert_eq!(
            err.to_string(),
            "key type 'ssh-\\u{1b}[2J' is not accepted; use ed25519"
        );
        let long = format!("x{} AAAA", "y".repeat(500));
        let err = PublicKey::parse_authorized(&long).unwrap_err();
        assert!(err.to_string().len() < 120, "{err}");
    }

    #[test]
    fn ssh_key_errors_stay_reachable_as_source() {
        let err = PublicKey::parse_authorized("ssh-ed25519 AAAA!!!!").unwrap_err();
        assert!(err.source().is_some(), "{err:?}");
    }

    #[test]
    fn stored_keys_round_trip_through_from_stored() {
        for input in [
            ED25519, ECDSA256, ECDSA384, ECDSA521, RSA2048, SK_ED25519, SK_ECDSA,
        ] {
            let key = PublicKey::parse_authorized(input).unwrap();
            let stored = PublicKey::from_stored(key.algorithm(), key.blob(), key.comment())
                .unwrap_or_else(|err| panic!("{input}: {err}"));
            assert_eq!(stored, key);
            assert_eq!(stored.to_openssh(), key.to_openssh());
        }
    }

    #[test]
    fn invalid_stored_rows_are_refused() {
        let ed_blob = blob_of(ED25519);
        let mut trailing = ed_blob.clone();
        trailing.push(0);
        type Check = fn(&Error) -> bool;
        let invalid: Vec<(&str, &str, Vec<u8>, &str, Check)> = vec![
            ("label mismatch", "ssh-rsa", ed_blob.clone(), "", |e| {
                matches!(e, Error::TypeMismatch { label, actual }
                    if label == "ssh-rsa" && actual == "ssh-ed25519")
            }),
            ("trailing bytes", "ssh-ed25519", trailing, "", |e| {
                matches!(e, Error::BadKeyData { .. })
            }),
            (
                "truncated",
                "ssh-ed25519",
                ed_blob[..ed_blob.len() - 3].to_vec(),
                "",
                |e| matches!(e, Error::BadKeyData { .. }),
            ),
            ("empty blob", "ssh-ed25519", Vec::new(), "", |e| {
                matches!(e, Error::BadKeyData { .. })
            }),
            // The label is refused before the blob is looked at.
            ("dsa label", "ssh-dss", ed_blob.clone(), "", |e| {
                matches!(e, Error::Dsa)
            }),
            ("unknown label", "ssh-foo", ed_blob.clone(), "", |e| {
                matches!(e, Error::UnsupportedAlgorithm { .. })
            }),
            (
                "certificate label",
                "ssh-ed25519-cert-v01@openssh.com",
                ed_blob.clone(),
                "",
                |e| matches!(e, Error::Certificate { .. }),
            ),
            (
                "small rsa",
                "ssh-rsa",
                rsa_blob(1024, &[1, 0, 1]),
                "",
                |e| matches!(e, Error::RsaSize { .. }),
            ),
            (
                "compressed point",
                "ecdsa-sha2-nistp256",
                compressed_p256_blob(),
                "",
                |e| matches!(e, Error::CompressedPoint { .. }),
            ),
            (
                "control char in comment",
                "ssh-ed25519",
                ed_blob.clone(),
                "a\nb",
                |e| matches!(e, Error::CommentNotPrintable { offset: 1 }),
            ),
            (
                "oversized blob",
                "ssh-ed25519",
                vec![0; MAX_INPUT_BYTES + 1],
                "",
                |e| matches!(e, Error::InputTooLarge { .. }),
            ),
        ];
        for (name, algorithm, blob, comment, check) in &invalid {
            match PublicKey::from_stored(algorithm, blob, comment) {
                Ok(key) => panic!("{name}: accepted as {key:?}"),
                Err(err) => assert!(check(&err), "{name}: wrong error {err:?} ({err})"),
            }
        }
    }

    #[test]
    fn debug_output_names_the_key_by_fingerprint_only() {
        let key = PublicKey::parse_authorized(ED25519).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(ED25519_FP), "{debug}");
        assert!(!debug.contains(base64_of(ED25519)), "{debug}");
    }

    #[test]
    fn key_id_args_parse_only_in_canonical_form() {
        let valid = [
            ("key-1", 1),
            ("key-17", 17),
            ("key-9223372036854775807", i64::MAX),
        ];
        for (arg, id) in valid {
            let parsed = KeyId::parse_arg(arg).unwrap_or_else(|err| panic!("{arg}: {err}"));
            assert_eq!(parsed.get(), id);
            assert_eq!(parsed.to_string(), arg);
            assert_eq!(arg.parse::<KeyId>().unwrap(), parsed);
        }
        let invalid = [
            "",
            "17",
            "key",
            "key-",
            "key-0",
            "key-00",
            "key-017",
            "key--1",
            "key-+1",
            "key- 1",
            " key-1",
            "key-1 ",
            "key-1\n",
            "KEY-1",
            "Key-1",
            "key_1",
            "key-1a",
            "key-0x1f",
            "key-1.0",
            "key-\u{661}",
            "key-9223372036854775808",
            "key-99999999999999999999999",
        ];
        for arg in invalid {
            assert!(
                matches!(KeyId::parse_arg(arg), Err(Error::BadKeyId { .. })),
                "{arg:?} was accepted"
            );
        }
    }

    #[test]
    fn key_ids_serialize_as_json_numbers() {
        let id = KeyId::new(17);
        assert_eq!(serde_json::to_string(&id).unwrap(), "17");
        assert_eq!(serde_json::from_str::<KeyId>("17").unwrap(), id);
        assert!(serde_json::from_str::<KeyId>("\"key-17\"").is_err());
        assert!(KeyId::new(2) > KeyId::new(1));
    }

    #[test]
    fn key_refs_are_ids_as_key_list_shows_them_or_fingerprints() {
        let valid = [
            ("key-17", KeyRef::Id(KeyId(17))),
            ("17", KeyRef::Id(KeyId(17))),
            (
                ED25519_FP,
                KeyRef::Fingerprint(Fingerprint::parse(ED25519_FP).unwrap()),
            ),
        ];
        for (arg, expected) in valid {
            assert_eq!(KeyRef::parse(arg).unwrap(), expected, "{arg}");
        }
        assert_eq!(KeyRef::parse("17").unwrap().to_string(), "key-17");
        let invalid = [
            ("", "names no key"),
            ("key-", "names no key"),
            ("key-0", "names no key"),
            ("017", "names no key"),
            ("-3", "names no key"),
            ("alice", "names no key"),
            ("key-17 ", "names no key"),
            ("SHA256:nope", "not an OpenSSH fingerprint"),
            ("MD5:aa:bb", "not a SHA256 fingerprint"),
        ];
        for (arg, expected) in invalid {
            let error = KeyRef::parse(arg).unwrap_err().to_string();
            assert!(error.contains(expected), "{arg:?}: {error}");
        }
        let json = serde_json::to_string(&KeyRef::parse("key-5").unwrap()).unwrap();
        assert_eq!(json, "\"key-5\"");
        let back: KeyRef = serde_json::from_str(&format!("\"{ED25519_FP}\"")).unwrap();
        assert_eq!(back.to_string(), ED25519_FP);
        assert!(serde_json::from_str::<KeyRef>("\"bob\"").is_err());
    }

    #[test]
    fn fingerprints_parse_only_as_ssh_keygen_prints_them() {
        for valid in [
            ED25519_FP,
            ECDSA256_FP,
            ECDSA384_FP,
            ECDSA521_FP,
            RSA2048_FP,
            SK_ED25519_FP,
            SK_ECDSA_FP,
        ] {
            let parsed = Fingerprint::parse(valid).unwrap_or_else(|err| panic!("{valid}: {err}"));
            assert_eq!(parsed.as_str(), valid);
            assert_eq!(parsed.to_string(), valid);
            assert_eq!(valid.parse::<Fingerprint>().unwrap(), parsed);
        }
        let body = ED25519_FP.strip_prefix("SHA256:").unwrap();
        let invalid = [
            String::new(),
            "SHA256:".into(),
            body.into(),
            format!("sha256:{body}"),
            format!("SHA256 {body}"),
            format!("SHA256:{body}="),
            format!("SHA256:{}", &body[..42]),
            format!("SHA256:{body}A"),
            format!(" {ED25519_FP}"),
            format!("{ED25519_FP} "),
            format!("{ED25519_FP}\n"),
            format!("SHA256:{}", body.replace('l', "-")),
            format!("SHA256:{}", body.replace('l', "_")),
            // 43 characters whose last one carries bits beyond the 256 of the digest.
            format!("SHA256:{}R", &body[..42]),
            format!("SHA512:{body}"),
        ];
        for text in &invalid {
            assert!(
                matches!(
                    Fingerprint::parse(text),
                    Err(Error::BadFingerprint { .. } | Error::FingerprintNotSha256 { .. })
                ),
                "{text:?} was accepted"
            );
        }
        assert!(matches!(
            Fingerprint::parse("MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"),
            Err(Error::FingerprintNotSha256 { .. })
        ));
    }

    #[test]
    fn fingerprints_serialize_as_strings_and_deserialize_checked() {
        let fingerprint = Fingerprint::parse(ED25519_FP).unwrap();
        let json = serde_json::to_string(&fingerprint).unwrap();
        assert_eq!(json, format!("\"{ED25519_FP}\""));
        assert_eq!(
            serde_json::from_str::<Fingerprint>(&json).unwrap(),
            fingerprint
        );
        assert!(serde_json::from_str::<Fingerprint>("\"SHA256:nope\"").is_err());
    }
}
