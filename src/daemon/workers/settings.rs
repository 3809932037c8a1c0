//! Bringing every registered repository's git configuration in line with forge's at start-up:
//! `core.hooksPath` pointing at the configured hook shims, and the settings new repositories get
//! (see [`crate::daemon::disk::create_bare`]). A repository created before the hooks folder moved, or
//! put in place by hand, is then decided by forged like any other. One reached through a
//! symbolic link below the repos root is left alone, and named in the log.
//!
//! It runs in a thread of its own after forged starts listening, so a restart at thousands of
//! repositories does not keep clients waiting.

use crate::daemon::disk;
use crate::daemon::state::Daemon;

/// Checks every registered repository that has a folder and fixes the settings that differ.
pub(crate) fn align_all(daemon: &Daemon) {
    // Said once at start-up, not at the first push that is refused for it.
    let _ = disk::check_hook_shims(&daemon.config.hooks);
    let names = match daemon.store.repo_names() {
        Ok(names) => names,
        Err(e) => {
            tracing::error!(error = %e, "cannot list repositories to check their settings");
            return;
        }
    };
    let (mut aligned, mut failed) = (0usize, 0usize);
    for repo in &names {
        match disk::align_settings(&daemon.config.repos, repo, &daemon.config.hooks) {
            Err(disk::Error::Missing { .. }) => {}
            Ok(changed) if changed.is_empty() => {}
            Ok(changed) => {
                aligned += 1;
                tracing::info!(repo = %repo, settings = %changed.join(", "), "repository settings brought in line with forge's");
            }
            Err(e) => {
                failed += 1;
                tracing::warn!(repo = %repo, error = %e, "cannot check the repository's settings");
            }
        }
    }
    tracing::info!(
        repositories = names.len(),
        aligned,
        failed,
        "repository settings checked"
    );
}
