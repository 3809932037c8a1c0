//! `forgectl status`.

/// The arguments of `forgectl status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of lines
    #[arg(long)]
    pub json: bool,
}
