//! `mutual`: the binary. Parsing, dispatch and exit codes; the work is in the libraries.

mod cli;
mod client;
mod commands;
mod exit;
mod input;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit::{BadInput, ExitStatus};

/// mimalloc rather than glibc's malloc: see the dependency's note in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => match invalid_choice(&error) {
            Some(line) => {
                eprintln!("mutual: {line}");
                return ExitStatus::BadInput.into();
            }
            None => error.exit(),
        },
    };
    let result = match commands::remote::mode(&cli.client, &cli.command) {
        Err(error) => Err(error.into()),
        Ok(commands::remote::Mode::Service(server)) => {
            commands::remote::run(&server, &cli.client, &cli.command)
        }
        Ok(commands::remote::Mode::Local) => run_local(cli),
    };
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            if let Some(refusal) = error.downcast_ref::<exit::Refusal>() {
                for (code, reason) in &refusal.reasons {
                    eprintln!("mutual: refused [{code}]: {reason}");
                }
                return ExitStatus::Negative.into();
            }
            eprintln!("mutual: {error:#}");
            if error.downcast_ref::<BadInput>().is_some() {
                ExitStatus::BadInput.into()
            } else {
                ExitStatus::Internal.into()
            }
        }
    }
}

/// A value outside an option's choices, as one line naming the option, the value and the
/// choices (clap's own message takes four lines and a blank one).
fn invalid_choice(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::InvalidValue {
        return None;
    }
    let (Some(ContextValue::String(option)), Some(ContextValue::String(value))) = (
        error.get(ContextKind::InvalidArg),
        error.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let Some(ContextValue::Strings(valid)) = error.get(ContextKind::ValidValue) else {
        return None;
    };
    let option = option.split_whitespace().next().unwrap_or(option);
    Some(format!(
        "{option} `{value}`: expected one of {}",
        valid.join(", ")
    ))
}

/// A command on local files (the local CA), or `renew` and `enroll`, which always ask a
/// service.
fn run_local(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Verify(args) => commands::verify::run(&args),
        Command::Lint(args) => commands::lint::run(&args),
        Command::Init(args) => commands::init::run(&args),
        Command::Issue(command) => commands::issue::run(&command),
        Command::List(args) => commands::list::list(&args),
        Command::Show(args) => commands::list::show(&args),
        Command::Revoke(args) => commands::revoke::revoke(&args),
        Command::Crl(args) => commands::revoke::crl(&args),
        Command::Token(command) => commands::token::run(&command),
        Command::Db(command) => commands::db::run(&command),
        Command::Backup(args) => commands::backup::backup(&args),
        Command::Restore(args) => commands::backup::restore(&args),
        Command::Bench(command) => commands::bench::run(&command),
        Command::Sign(args) => commands::sign::run(&args),
        Command::Pkcs12(command) => commands::pkcs12::run(&command),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Audit(args) => commands::audit::run(&args),
        Command::Gateway(args) => commands::gateway::run(&args),
        Command::Renew(args) => commands::renew::run(&cli.client, &args),
        Command::Enroll(args) => commands::enroll::run(&cli.client, &args),
        Command::Config(args) => commands::config::run(&args),
        Command::Probe(args) => commands::probe::run(&args),
    }
}
