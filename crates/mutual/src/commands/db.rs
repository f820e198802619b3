//! `mutual db status` and `mutual db migrate`: the certificate store's schema.

use mutual_ca::home::Home;
use mutual_ca::store::{Database, SchemaStatus, Store, schema_status};

use crate::cli::{DbArgs, DbCommand, ReportFormat};
use crate::commands::{ca_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

pub(crate) fn run(command: &DbCommand) -> anyhow::Result<ExitStatus> {
    match command {
        DbCommand::Status(args) => status(args),
        DbCommand::Migrate(args) => migrate(args),
    }
}

fn database(args: &DbArgs) -> anyhow::Result<Database> {
    let home = Home::resolve(args.home.as_deref());
    home.database(args.store.get()).map_err(ca_error)
}

fn status(args: &DbArgs) -> anyhow::Result<ExitStatus> {
    let database = database(args)?;
    let runtime = crate::commands::runtime()?;
    let status = runtime
        .block_on(schema_status(&database))
        .map_err(|e| BadInput(with_causes(&e)))?;
    match args.format {
        ReportFormat::Text => print!("{}", describe(&status)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&status)?),
    }
    Ok(if status.pending.is_empty() && status.unknown.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Negative
    })
}

fn migrate(args: &DbArgs) -> anyhow::Result<ExitStatus> {
    let database = database(args)?;
    let runtime = crate::commands::runtime()?;
    let status = runtime.block_on(async {
        let before = schema_status(&database).await?;
        // Opening migrates, under the database's own lock (several nodes may start at once).
        Store::open(&database).await?.close().await;
        let after = schema_status(&database).await?;
        Ok::<_, mutual_ca::store::StoreError>((before, after))
    });
    let (before, after) = status.map_err(|e| BadInput(with_causes(&e)))?;
    let applied: Vec<_> = after
        .applied
        .iter()
        .filter(|m| !before.applied.iter().any(|b| b.version == m.version))
        .collect();
    match args.format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "applied_now": applied,
                "status": after,
            }))?
        ),
        ReportFormat::Text => {
            if applied.is_empty() {
                println!("Already up to date: {}", after.database);
            } else {
                println!("Applied to {}:", after.database);
                for migration in &applied {
                    println!("  {:04} {}", migration.version, migration.description);
                }
            }
            print!("{}", describe(&after));
        }
    }
    Ok(ExitStatus::Success)
}

/// The status as a few lines a person reads.
fn describe(status: &SchemaStatus) -> String {
    let mut text = format!("store     {} ({})\n", status.database, status.backend);
    if !status.exists {
        text.push_str("schema    none yet: the file does not exist; the first command that opens the store creates it\n");
    }
    let latest = status.applied.iter().map(|m| m.version).max().unwrap_or(0);
    text.push_str(&format!(
        "schema    version {latest} applied, {} known to this build\n",
        status.latest_known()
    ));
    for migration in &status.pending {
        text.push_str(&format!(
            "pending   {:04} {}  (mutual db migrate applies it)\n",
            migration.version, migration.description
        ));
    }
    for version in &status.unknown {
        text.push_str(&format!(
            "unknown   {version:04}  applied by a newer mutual: this build refuses to open the store; upgrade it\n"
        ));
    }
    if status.pending.is_empty() && status.unknown.is_empty() && status.exists {
        text.push_str("status    up to date\n");
    }
    text
}
