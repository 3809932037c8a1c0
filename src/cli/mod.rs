//! The command lines of forge's binaries, as clap types.
//!
//! Each binary parses its arguments with the types here and nothing else, so the binaries, the
//! man pages under `man/` (rendered from these types by `tests/it/man_pages.rs`) and the shell
//! completions (`forgectl completions`) all read one definition. Only the shape of each command
//! line lives here; what a command does stays with its binary.
//!
//! | binary | its arguments |
//! |---|---|
//! | `forged` | [`forged::Args`] |
//! | `forge-shell` | [`forge_shell::Args`] |
//! | `forge-hook` | [`forge_hook::Args`] |
//! | `forge-keys` | [`forge_keys::Args`] |
//! | `forgectl` | [`forgectl::Args`], one module per command group |

pub mod forge_hook;
pub mod forge_keys;
pub mod forge_shell;
pub mod forgectl;
pub mod forged;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_command_line_is_well_formed() {
        // clap checks names, conflicts and requirements only when asked, or at run time.
        super::forged::Args::command().debug_assert();
        super::forge_shell::Args::command().debug_assert();
        super::forge_hook::Args::command().debug_assert();
        super::forge_keys::Args::command().debug_assert();
        super::forgectl::Args::command().debug_assert();
    }
}
