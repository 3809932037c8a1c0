//! forge's one integration-test binary: every former `tests/*.rs` crate is a module here, so the
//! suite links once instead of once per file.
//!
//! Each module runs the real binaries: against a real forged on a temporary socket and SQLite
//! file (`forgectl`, `forge_shell`, ...), or end to end through a real sshd and git (`e2e_*`),
//! all through `common`. `modules` fails when a `.rs` file under `tests/` is not declared here
//! (or in the `mod.rs` of its folder), since cargo would then silently never build it.

mod common;

mod admin_audit;
mod backup;
mod demo_script;
mod e2e_certs;
mod e2e_clone;
mod e2e_connections;
mod e2e_files;
mod e2e_keys;
mod e2e_policy;
mod e2e_push;
mod e2e_rules;
mod e2e_sessions;
mod exit_codes;
mod faults_admin;
mod forge_shell;
mod forgectl;
mod gitolite_import;
mod gitolite_parity;
mod gitolite_parse;
mod layout;
mod maintenance;
mod man_pages;
mod modules;
mod progress;
mod setup_sshd;
mod socket_activation;
