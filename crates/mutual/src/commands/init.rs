//! `mutual init`: create the CA.

use mutual_ca::home::Home;
use mutual_ca::init::{InitOptions, init};
use mutual_ca::key::KeyType;

use crate::cli::InitArgs;
use crate::commands::ca_error;
use crate::exit::{BadInput, ExitStatus};

pub(crate) fn run(args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.ca.home.as_deref());
    let key_type: KeyType = args
        .key_type
        .parse()
        .map_err(|e| BadInput(format!("--key-type: {e}")))?;
    for (flag, days) in [
        ("--root-days", args.root_days),
        ("--intermediate-days", args.intermediate_days),
    ] {
        if days == 0 || days > 36_500 {
            return Err(BadInput(format!("{flag} {days}: expected 1 to 36500 days")).into());
        }
    }
    if args.intermediate_days > args.root_days {
        return Err(BadInput(format!(
            "--intermediate-days {} is longer than --root-days {}: an intermediate cannot outlive its root",
            args.intermediate_days, args.root_days
        ))
        .into());
    }
    let options = InitOptions {
        name: args.name.clone(),
        key_type,
        root_days: args.root_days,
        intermediate_days: args.intermediate_days,
        permitted_dns: args.permitted_dns.clone(),
        unencrypted_intermediates: args.unencrypted_intermediate,
        database: args.ca.store.database.clone(),
    };
    let passphrase = mutual_ca::passphrase::resolve(
        args.ca.passphrase_file.as_deref(),
        "MUTUAL_PASSPHRASE",
        "Passphrase for the new CA keys: ",
        true,
    )
    .map_err(|e| BadInput(e.to_string()))?;
    let runtime = crate::commands::runtime()?;
    let now = time::OffsetDateTime::now_utc();
    let report = runtime
        .block_on(init(&home, &options, &passphrase, now))
        .map_err(ca_error)?;
    if args.unencrypted_intermediate {
        eprintln!(
            "mutual: warning: the server and client CA keys are stored unencrypted (0600) in `{}`; protect that directory",
            home.ca_dir().display()
        );
    }
    println!("Created a CA in `{}`:", home.path().display());
    println!(
        "  root CA     {}  (give this to relying parties)",
        report.root.display()
    );
    println!(
        "  server CA   {}  (issues server certificates: serverAuth only)",
        report.server_ca.display()
    );
    println!(
        "  client CA   {}  (issues client certificates: clientAuth only; a gateway trusts this one)",
        report.client_ca.display()
    );
    println!("  store       {}", report.store);
    Ok(ExitStatus::Success)
}
