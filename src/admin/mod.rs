//! Code only `forgectl` runs, as an admin on the forge host: writing sshd's configuration,
//! writing `authorized_keys` files, and importing a gitolite site.
//!
//! None of it is reachable from the shims or from forged; what it changes in forge's state it
//! changes by asking forged over the socket.

pub mod authorized_keys;
pub mod backup;
pub mod gitolite;
pub mod input;
pub mod progress;
pub mod sshd_setup;
pub mod table;
