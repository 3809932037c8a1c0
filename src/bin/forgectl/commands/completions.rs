//! `forgectl completions`: the completion script of a shell, on standard output.

use forge::cli::forgectl::completions::{self, Args};
use forge::exit::{self, Code, Failure};

pub fn run(args: &Args) -> Result<Code, Failure> {
    completions::write(args.shell, &mut std::io::stdout().lock())
        .map_err(|e| Failure::new(exit::io_code(&e), e))?;
    Ok(Code::Success)
}
