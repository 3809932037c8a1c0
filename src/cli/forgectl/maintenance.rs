//! `forgectl maintenance`.

use clap::Subcommand;

/// The longest `--wait` by default, in seconds.
pub const DEFAULT_WAIT_SECONDS: u32 = 60;

/// Turn maintenance mode on or off, or show it
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Refuse pushes, repository creation and admin changes with a message; reads go on
    ///
    /// Persisted: it survives restarts of forged until `maintenance off`. Refused clients exit
    /// 75 (try again later) and read the message.
    On {
        /// The one line refused users and admins read
        #[arg(long, default_value = "forge is under maintenance")]
        message: String,
        /// Return only once no push is in flight (accepted by pre-receive, not yet recorded)
        #[arg(long)]
        wait: bool,
        /// The longest wait, in seconds (at most 110); exit 75 if pushes are still in flight
        #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_WAIT_SECONDS)]
        timeout: u32,
    },
    /// Let pushes, creations and changes through again
    Off,
    /// Show whether maintenance mode is on, its message and the pushes in flight
    Status {
        /// Print JSON instead of lines
        #[arg(long)]
        json: bool,
    },
}
