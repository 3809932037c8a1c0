//! forged's background work, each in a thread of its own beside the listener: reconciling
//! pending ref updates against the real refs, and bringing repositories' git settings in line.

pub(super) mod reconcile;
pub(super) mod settings;
