//! `forgectl maintenance on|off|status`.

use forge::cli::forgectl::maintenance::Command;
use forge::exit::{Code, Failure};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{MaintenanceInfo, Request, Response};

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    match command {
        Command::On {
            message,
            wait,
            timeout,
        } => {
            let mut info = ask!(client, Request::MaintenanceOn { message }, Response::Maintenance(info) => info);
            if wait {
                let request = Request::MaintenanceWait {
                    timeout_seconds: timeout,
                };
                info = ask!(client, request, Response::Maintenance(info) => info);
                if info.in_flight > 0 {
                    eprintln!(
                        "forgectl: maintenance is on, but {} pushes are still in flight after {timeout} seconds; run 'forgectl maintenance on --wait' again",
                        info.in_flight
                    );
                    return Ok(Code::Unavailable);
                }
            }
            show(&info);
            Ok(Code::Success)
        }
        Command::Off => {
            let info = ask!(client, Request::MaintenanceOff, Response::Maintenance(info) => info);
            show(&info);
            Ok(Code::Success)
        }
        Command::Status { json } => {
            let info =
                ask!(client, Request::MaintenanceStatus, Response::Maintenance(info) => info);
            if json {
                crate::output::json(&info)?;
            } else {
                show(&info);
            }
            Ok(Code::Success)
        }
    }
}

fn show(info: &MaintenanceInfo) {
    match (&info.message, info.since) {
        (Some(message), Some(since)) => println!(
            "maintenance: on since {since} (uid {}): {}",
            info.by_uid.unwrap_or_default(),
            Escaped(message)
        ),
        _ => println!("maintenance: off"),
    }
    println!("pushes in flight: {}", info.in_flight);
}
