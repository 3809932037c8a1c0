//! One module per forgectl command group.

/// Sends `$request` and returns the fields of the expected answer, or an error naming the op.
macro_rules! ask {
    ($client:expr, $request:expr, $pattern:pat => $value:expr) => {{
        let request = $request;
        match $client.call(&request)? {
            $pattern => $value,
            _ => {
                return Err(forge::wire::client::Error::Unexpected { op: request.op() }.into());
            }
        }
    }};
}

pub mod access;
pub mod admin_audit;
pub mod audit;
pub mod backup;
pub mod ca;
pub mod completions;
pub mod import;
pub mod key;
pub mod keys;
pub mod maintenance;
pub mod policy;
pub mod principal;
pub mod repo;
pub mod repo_restore;
pub mod setup;
pub mod status;
pub mod user;
