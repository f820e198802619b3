//! `mutual list` and `mutual show`: the inventory of what the CA has issued.

use mutual_ca::home::Home;
use mutual_ca::store::{CertificateRecord, Cursor, Lookup, Query, StatusFilter, Store};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{ListArgs, ReportFormat, ShowArgs, ShowFormat, StatusArg};
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};

/// A record as `list --format json` and `show --format json` print it.
#[derive(Debug, Serialize)]
struct RecordView<'a> {
    serial: &'a str,
    profile: &'a str,
    status: &'static str,
    subject: &'a str,
    issuer: &'a str,
    sans: &'a [String],
    #[serde(with = "time::serde::rfc3339")]
    not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    fingerprint_sha256: &'a str,
    requester: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    revocation_reason: Option<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    issued_at: OffsetDateTime,
}

impl<'a> RecordView<'a> {
    fn new(record: &'a CertificateRecord, now: OffsetDateTime) -> Self {
        RecordView {
            serial: &record.serial,
            profile: &record.profile,
            status: record.status_at(now).as_str(),
            subject: &record.subject,
            issuer: &record.issuer,
            sans: &record.sans,
            not_before: record.not_before,
            not_after: record.not_after,
            fingerprint_sha256: &record.fingerprint_sha256,
            requester: record.requester.as_deref(),
            revoked_at: record.revoked_at,
            revocation_reason: record.revocation_reason.map(|r| r.rfc_name()),
            issued_at: record.created_at,
        }
    }
}

pub(crate) fn open_store(home: &Home) -> anyhow::Result<Store> {
    if !home.is_initialised() {
        return Err(BadInput(format!(
            "no CA in `{}`: run `mutual init` first (or pass --home / set MUTUAL_HOME)",
            home.path().display()
        ))
        .into());
    }
    let runtime = crate::commands::runtime()?;
    runtime
        .block_on(Store::open_sqlite(&home.store()))
        .map_err(|e| {
            BadInput(format!(
                "certificate store `{}`: {}",
                home.store().display(),
                with_causes(&e)
            ))
            .into()
        })
}

/// `30d`, `12h`, `2w`, `90m`.
fn parse_period(text: &str) -> Result<time::Duration, BadInput> {
    let bad = || {
        BadInput(format!(
            "--expiring `{text}`: expected a number and a unit, e.g. 30d, 12h, 2w"
        ))
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    Ok(match unit {
        "m" => time::Duration::minutes(n),
        "h" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        "w" => time::Duration::weeks(n),
        _ => return Err(bad()),
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
        })
        .transpose()?;
    let store = open_store(&home)?;
    let runtime = crate::commands::runtime()?;
    let page = runtime
        .block_on(store.list(&query))
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    match args.format {
        ReportFormat::Json => {
            let views: Vec<RecordView<'_>> = page
                .records
                .iter()
                .map(|r| RecordView::new(r, now))
                .collect();
            let doc = serde_json::json!({
                "certificates": views,
                "next": page.next.map(|c| c.to_string()),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Text => {
            if page.records.is_empty() {
                println!("No certificates match.");
            } else {
                println!(
                    "{:<34} {:<13} {:<8} {:<10} SUBJECT / NAMES",
                    "SERIAL", "PROFILE", "STATUS", "NOT AFTER"
                );
                for record in &page.records {
                    let names = if record.sans.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", record.sans.join(", "))
                    };
                    println!(
                        "{:<34} {:<13} {:<8} {:<10} {}{names}",
                        record.serial,
                        record.profile,
                        record.status_at(now).as_str(),
                        record.not_after.date(),
                        record.subject
                    );
                }
            }
            if let Some(next) = page.next {
                println!("More: mutual list --after {next} (with the same filters)");
            }
        }
    }
    Ok(ExitStatus::Success)
}

pub(crate) fn show(args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.home.as_deref());
    let lookup: Lookup = args
        .id
        .parse()
        .map_err(|e| BadInput(format!("`{}`: {}", args.id, with_causes(&e))))?;
    let store = open_store(&home)?;
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
        ShowFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&RecordView::new(&record, now))?
        ),
        ShowFormat::Text => {
            let view = RecordView::new(&record, now);
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
            let objects = mutual_x509::decode(record.pem.as_bytes(), &options)
                .map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let colour =
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
            print!("{}", mutual_x509::text::render_all(&objects, colour));
        }
    }
    Ok(ExitStatus::Success)
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
