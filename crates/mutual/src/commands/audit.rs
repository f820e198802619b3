//! `mutual audit`: the audit trail, newest first.

use mutual_ca::home::Home;
use mutual_ca::store::{AuditAction, AuditQuery};

use crate::cli::{AuditArgs, ReportFormat};
use crate::commands::list::open_store;
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};

pub(crate) fn run(args: &AuditArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.home.as_deref());
    let action = args
        .action
        .as_deref()
        .map(|name| {
            AuditAction::ALL
                .into_iter()
                .find(|a| a.as_str() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                    BadInput(format!(
                        "--action `{name}`: expected one of {}",
                        names.join(", ")
                    ))
                })
        })
        .transpose()?;
    let since = args
        .since
        .as_deref()
        .map(|at| {
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    BadInput(format!(
                        "--since `{at}`: expected an RFC 3339 time such as 2026-11-01T00:00:00Z; {e}"
                    ))
                })
        })
        .transpose()?;
    if args.limit == 0 || args.limit > 10_000 {
        return Err(BadInput(format!("--limit {}: expected 1 to 10000", args.limit)).into());
    }
    let store = open_store(&home, args.store.get())?;
    let runtime = crate::commands::runtime()?;
    let query = AuditQuery {
        action,
        since,
        before: None,
        limit: args.limit,
    };
    let entries = runtime
        .block_on(store.audit_log(&query))
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    runtime.block_on(store.close());
    match args.format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "entries": entries }))?
        ),
        ReportFormat::Text => {
            if entries.is_empty() {
                println!(
                    "No audit entries{}.",
                    if action.is_some() || since.is_some() {
                        " match"
                    } else {
                        ""
                    }
                );
            }
            for entry in &entries {
                let at = entry
                    .at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                println!(
                    "{at}  {:<7} {:<40} {} {}{}",
                    entry.action.as_str(),
                    entry.serial.as_deref().unwrap_or("-"),
                    entry.subject.as_deref().unwrap_or("-"),
                    entry.detail,
                    format_args!("  by {}", entry.actor)
                );
            }
        }
    }
    Ok(ExitStatus::Success)
}
