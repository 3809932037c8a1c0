//! `forgectl setup sshd`: show the sshd snippet for the git account, ask, write it, validate
//! it with sshd and reload sshd.

use forge::admin::input;
use forge::admin::sshd_setup::{self, Plan, Reload};
use forge::cli::forgectl::setup::Command;
use forge::config::Config;
use forge::exit::{Code, Failure};

pub fn run(config: &Config, command: Command) -> Result<Code, Failure> {
    let Command::Sshd(args) = command;
    let contents = sshd_setup::render(config, args.ca.as_deref())?;
    let paths = sshd_setup::Paths {
        file: args.file,
        main_config: args.sshd_config,
        sshd: args.sshd,
    };
    let plan = Plan::new(paths, &config.git_user, contents)?;
    let file = plan.paths.file.display().to_string();
    for warning in sshd_setup::warnings(config) {
        eprintln!("forgectl: warning: {warning}");
    }
    if plan.is_unchanged() {
        println!("{file} already holds these settings; nothing to do");
        return Ok(Code::Success);
    }
    println!("{file} will hold:\n\n{}", plan.contents);
    if let Some(diff) = plan.diff() {
        println!("changes to the {file} there now:\n\n{diff}");
    }
    if !args.yes {
        let question = if args.no_reload {
            format!("Write {file}?")
        } else {
            format!("Write {file} and reload sshd?")
        };
        let hint = format!("give --yes to write {file} without asking");
        if !input::confirm(&question, &hint)? {
            println!("nothing written");
            return Ok(Code::Refused);
        }
    }
    plan.install()?;
    println!(
        "wrote {file}; sshd -t accepts {}",
        plan.paths.main_config.display()
    );
    if args.no_reload {
        println!("sshd not reloaded (--no-reload): the settings count once it reloads");
        return Ok(Code::Success);
    }
    match sshd_setup::reload(&plan.paths)? {
        Reload::Systemd => println!("reloaded sshd with systemctl reload ssh"),
        Reload::Signalled { pid, pid_file } => println!(
            "reloaded sshd: sent SIGHUP to pid {pid} from {}",
            pid_file.display()
        ),
        Reload::NotSshd {
            pid,
            pid_file,
            runs,
        } => println!(
            "sshd is not running: {} names pid {pid}, which is not {} ({runs}), so it got no signal; the settings count when sshd starts (if sshd does run, reload it by hand)",
            pid_file.display(),
            plan.paths.sshd.display()
        ),
        Reload::NotRunning => println!("sshd is not running; the settings count when it starts"),
    }
    Ok(Code::Success)
}
