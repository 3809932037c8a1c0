//! The command line of `forge-keys`.

use clap::Parser;
use std::path::PathBuf;

/// sshd's AuthorizedKeysCommand: print the forced-command line of a known key, else nothing
///
/// Configure sshd with `AuthorizedKeysCommand /usr/lib/forge/forge-keys %u %t %k`. For SSH user
/// certificates, add `AuthorizedPrincipalsCommand /usr/lib/forge/forge-keys --principals %u %t
/// %k`: %k is then the whole certificate, from which forged reads the signing CA and the
/// principals (sshd's %i and %s, the key id and serial, name neither). When forged is
/// unreachable it prints nothing (no login), says why on stderr and exits 75.
#[derive(Debug, Parser)]
#[command(name = "forge-keys", version)]
pub struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Answer as AuthorizedPrincipalsCommand: one authorized_principals line per principal of
    /// the certificate that maps to a forge user
    #[arg(long)]
    pub principals: bool,
    /// The account being logged in (%u)
    pub login: String,
    /// The key or certificate type (%t)
    pub key_type: String,
    /// The key or certificate, base64 (%k)
    pub key: String,
}
