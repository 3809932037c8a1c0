//! `forgectl completions`: the completion script of a shell, on standard output.

use forge::cli::forgectl::completions::{self, Args};
use forge::exit::Code;

pub fn run(args: &Args) -> anyhow::Result<Code> {
    completions::write(args.shell, &mut std::io::stdout().lock())?;
    Ok(Code::Success)
}
