//! `mutual list` and `mutual show`: the inventory of what the CA has issued.

use mutual_ca::home::Home;
use mutual_ca::store::{Cursor, Database, Lookup, Query, RecordView, StatusFilter, Store};
use time::OffsetDateTime;

use crate::cli::{ListArgs, ReportFormat, ShowArgs, ShowFormat, StatusArg};
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};

/// The home's certificate store, or the one `--database` names.
pub(crate) fn open_store(home: &Home, database: Option<&Database>) -> anyhow::Result<Store> {
    if !home.is_initialised() {
        return Err(BadInput(format!(
            "no CA in `{}`: run `mutual init` first (or pass --home / set MUTUAL_HOME)",
            home.path().display()
        ))
        .into());
    }
    let runtime = crate::commands::runtime()?;
    runtime.block_on(crate::commands::open_database(home, database))
}

/// `30d`, `12h`, `2w`, `90m`.
fn parse_period(text: &str) -> Result<time::Duration, BadInput> {
    mutual_ca::store::parse_period(text).ok_or_else(|| {
        BadInput(format!(
            "--expiring `{text}`: expected a number and a unit, e.g. 30d, 12h, 2w"
        ))
    })
}

pub(crate) fn list(args: &ListArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.home.as_deref());
    let now = OffsetDateTime::now_utc();
    let mut query = Query::new(now);
    query.profile = args.profile.clone();
    query.status = args.status.map(|s| match s {
        StatusArg::Valid => StatusFilter::Valid,
        StatusArg::Revoked => StatusFilter::Revoked,
        StatusArg::Expired => StatusFilter::Expired,
    });
    query.expiring_within = args.expiring.as_deref().map(parse_period).transpose()?;
    query.san = args.san.clone();
    query.limit = args.limit;
    query.after = args
        .after
        .as_deref()
        .map(|c| {
            c.parse::<Cursor>()
                .map_err(|e| BadInput(format!("--after `{c}`: {e}")))
                .and_then(|cursor| {
                    // `list` pages by expiry; a dashboard cursor of another order is refused
                    // here rather than by the store as an internal error.
                    if cursor.order() == query.order {
                        Ok(cursor)
                    } else {
                        Err(BadInput(format!(
                            "--after `{c}`: written for the `{}` order; `mutual list` pages by expiry",
                            cursor.order()
                        )))
                    }
                })
        })
        .transpose()?;
    let store = open_store(&home, args.store.get())?;
    let runtime = crate::commands::runtime()?;
    let page = runtime
        .block_on(store.list(&query))
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    match args.format {
        ReportFormat::Json => {
            let views: Vec<RecordView<'_>> = page.records.iter().map(|r| r.view(now)).collect();
            let doc = serde_json::json!({
                "certificates": views,
                "next": page.next.map(|c| c.to_string()),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Text => {
            let rows: Vec<Row<'_>> = page
                .records
                .iter()
                .map(|record| Row {
                    serial: &record.serial,
                    profile: &record.profile,
                    status: record.status_at(now).as_str(),
                    not_after: record.not_after,
                    subject: &record.subject,
                    sans: &record.sans,
                })
                .collect();
            print_table(&rows, page.next.map(|c| c.to_string()).as_deref());
        }
    }
    Ok(ExitStatus::Success)
}

/// One line of `mutual list`.
pub(crate) struct Row<'a> {
    pub(crate) serial: &'a str,
    pub(crate) profile: &'a str,
    pub(crate) status: &'a str,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) subject: &'a str,
    pub(crate) sans: &'a [String],
}

/// The text of `mutual list`: a table, then the cursor of the next page if there is one.
pub(crate) fn print_table(rows: &[Row<'_>], next: Option<&str>) {
    if rows.is_empty() {
        println!("No certificates match.");
    } else {
        println!(
            "{:<34} {:<13} {:<8} {:<10} SUBJECT / NAMES",
            "SERIAL", "PROFILE", "STATUS", "NOT AFTER"
        );
        for row in rows {
            let names = if row.sans.is_empty() {
                String::new()
            } else {
                format!("  [{}]", row.sans.join(", "))
            };
            println!(
                "{:<34} {:<13} {:<8} {:<10} {}{names}",
                row.serial,
                row.profile,
                row.status,
                row.not_after.date(),
                row.subject
            );
        }
    }
    if let Some(next) = next {
        println!("More: mutual list --after {next} (with the same filters)");
    }
}

pub(crate) fn show(args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.home.as_deref());
    let lookup: Lookup = args
        .id
        .parse()
        .map_err(|e| BadInput(format!("`{}`: {}", args.id, with_causes(&e))))?;
    let store = open_store(&home, args.store.get())?;
    let runtime = crate::commands::runtime()?;
    let record = runtime
        .block_on(store.find(&lookup))
        .map_err(|e| BadInput(with_causes(&e)))?
        .ok_or_else(|| {
            BadInput(format!(
                "no certificate with {lookup} in `{}`",
                home.store().display()
            ))
        })?;
    let now = OffsetDateTime::now_utc();
    match args.format {
        ShowFormat::Pem => print!("{}", record.pem),
        ShowFormat::Json => println!("{}", serde_json::to_string_pretty(&record.view(now))?),
        ShowFormat::Text => print_record(&record.view(now), &record.pem, now)?,
    }
    Ok(ExitStatus::Success)
}

/// The text of `mutual show`: the record, then the decoded certificate.
pub(crate) fn print_record(
    view: &RecordView<'_>,
    pem: &str,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    println!("Serial:       {}", view.serial);
    println!("Profile:      {}", view.profile);
    println!("Status:       {}", view.status);
    if let (Some(at), Some(reason)) = (view.revoked_at, view.revocation_reason) {
        println!("Revoked:      {at} ({reason})");
    }
    println!(
        "Issued at:    {}{}",
        view.issued_at,
        view.requester
            .map(|r| format!(" for {r}"))
            .unwrap_or_default()
    );
    println!();
    let options = mutual_x509::DecodeOptions {
        now,
        password: None,
    };
    let objects = mutual_x509::decode(pem.as_bytes(), &options)
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let colour = anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
    print!("{}", mutual_x509::text::render_all(&objects, colour));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn periods() {
        assert_eq!(
            super::parse_period("30d").ok(),
            Some(time::Duration::days(30))
        );
        assert_eq!(
            super::parse_period("2w").ok(),
            Some(time::Duration::weeks(2))
        );
        assert_eq!(
            super::parse_period("12h").ok(),
            Some(time::Duration::hours(12))
        );
        assert!(super::parse_period("30").is_err());
        assert!(super::parse_period("d").is_err());
        assert!(super::parse_period("3y").is_err());
    }
}
