//! `forgectl repo restore`.

use forge::exit::{Code, Failure};
use forge::types::repo_name::RepoName;
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response};

/// `forgectl repo restore`: says which removed copy came back, and the others when it chose.
pub fn run(client: &Client, name: RepoName, from: Option<String>) -> Result<Code, Failure> {
    let request = Request::RepoRestore {
        repo: name,
        from: from.clone(),
    };
    let (repo, path, others) =
        ask!(client, request, Response::Restored { repo, from, others } => (repo, from, others));
    println!(
        "restored repository '{repo}' from {}, as a private repository without grants",
        Escaped(&path.display().to_string())
    );
    if from.is_none() && !others.is_empty() {
        println!(
            "it was the latest of {} removed copies; the others were removed at {} (unix time): take one with --from",
            others.len() + 1,
            others.join(", ")
        );
    }
    Ok(Code::Success)
}
