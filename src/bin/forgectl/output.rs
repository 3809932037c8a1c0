//! forgectl's output: aligned tables for people, JSON for scripts.

use forge::admin::table;
use forge::exit::{Code, Failure};
use forge::types::shown::Escaped;
use serde::Serialize;

/// Prints `rows` under `header` as a table with columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    lines(table::render(header, rows));
}

/// Prints `lines`, one per line, each escaped: they carry what forged returns.
pub fn lines(lines: Vec<String>) {
    for line in lines {
        println!("{}", Escaped(&line));
    }
}

/// Prints `value` as pretty JSON.
pub fn json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::new(Code::Internal, e))?;
    println!("{text}");
    Ok(())
}
