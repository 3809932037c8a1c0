//! Values made only by parsing, shared by every side of the socket: repository and user names,
//! keys and their fingerprints, certificates, the identity a forced command names, timestamps,
//! the lines forge writes for sshd, and the one escaper for text shown to people.
//!
//! A value of one of these types is valid by construction, so no function elsewhere takes a
//! repository name, a fingerprint or a key id as a string. Nothing here talks to forged, the
//! database or the file system.

pub mod certs;
pub mod identity;
pub mod keys;
pub mod random_id;
pub mod repo_name;
pub mod shown;
pub mod sshd_line;
pub mod timestamp;
pub mod user_name;
