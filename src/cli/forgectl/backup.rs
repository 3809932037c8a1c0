//! `forgectl backup` and `forgectl restore`.

use std::path::PathBuf;

/// The arguments of `forgectl backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The backup folder: new or empty; it gets forge.db, repos/ and manifest.json
    pub dir: PathBuf,
    /// Only the database (no pause of pushes is needed); for frequent snapshots
    #[arg(long)]
    pub db_only: bool,
    /// How long pushes stay paused at most should this command die while it holds them
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub pause_lease: u32,
    /// Print nothing on success
    #[arg(long)]
    pub quiet: bool,
}

/// The arguments of `forgectl restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup folder `forgectl backup` made
    pub dir: PathBuf,
    /// Only check the backup: the database is sound, every repository fscks, ref tips equal
    /// the manifest, the audit log agrees with the tips; change nothing
    #[arg(long)]
    pub verify: bool,
    /// Restore only the database
    #[arg(long)]
    pub db_only: bool,
    /// Restore over a forge that holds data; what it held is moved aside, not deleted
    #[arg(long)]
    pub force: bool,
    /// Print nothing on success
    #[arg(long)]
    pub quiet: bool,
}
