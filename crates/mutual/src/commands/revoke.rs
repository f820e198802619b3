//! `mutual revoke` (record a revocation) and `mutual crl` (sign and write the CRLs).

use std::io::Write;
use std::path::PathBuf;

use mutual_ca::crl::{self, SignedCrl};
use mutual_ca::files::{FileKind, write_atomic};
use mutual_ca::home::{Authority, Home, IssuingRole};
use mutual_ca::store::{Lookup, Revocation, RevocationReason, StoreError};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{CrlArgs, CrlFormat, CrlIssuer, ReportFormat, RevokeArgs};
use crate::commands::list::open_store;
use crate::commands::{ca_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

/// What `revoke` reports (`--format json`).
#[derive(Serialize)]
pub(crate) struct Revoked {
    pub(crate) serial: String,
    pub(crate) subject: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) revoked_at: OffsetDateTime,
    pub(crate) reason: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) invalid_since: Option<OffsetDateTime>,
    pub(crate) revoked_by: Option<String>,
}

pub(crate) fn revoke(args: &RevokeArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.home.as_deref());
    let lookup: Lookup = args
        .id
        .parse()
        .map_err(|e| BadInput(format!("`{}`: {}", args.id, with_causes(&e))))?;
    let reason: RevocationReason = args
        .reason
        .parse()
        .map_err(|e| BadInput(format!("--reason: {}", with_causes(&e))))?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let invalid_since = invalid_since(args.at.as_deref(), now)?;
    let revocation = Revocation {
        at: now,
        reason,
        invalid_since,
        by: std::env::var("USER")
            .ok()
            .map(|user| format!("local:{user}")),
    };

    let store = open_store(&home, args.store.get())?;
    let runtime = crate::commands::runtime()?;
    let record = match runtime.block_on(store.revoke(&lookup, &revocation)) {
        Ok(record) => record,
        Err(error @ StoreError::AlreadyRevoked { .. }) => {
            // Nothing changed: a negative answer, not bad input.
            eprintln!("mutual: {}", with_causes(&error));
            return Ok(ExitStatus::Negative);
        }
        Err(error) => return Err(BadInput(with_causes(&error)).into()),
    };
    runtime.block_on(crate::commands::audit_local(
        &store,
        mutual_ca::store::AuditAction::Revoke,
        &record,
        format!("reason {}", reason.rfc_name()),
    ));
    runtime.block_on(store.close());

    let report = Revoked {
        serial: record.serial.clone(),
        subject: record.subject.clone(),
        revoked_at: revocation.at,
        reason: reason.rfc_name(),
        invalid_since,
        revoked_by: revocation.by.clone(),
    };
    let next = format!(
        "Relying parties learn of it from the next CRL: run `mutual crl` and publish {}",
        home.path().join("crl").display()
    );
    print_revoked(&report, &record.profile, args.format, &next)?;
    Ok(ExitStatus::Success)
}

/// `--at TIME`: since when the certificate has been invalid, which cannot be later than now.
pub(crate) fn invalid_since(
    at: Option<&str>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, BadInput> {
    at.map(|at| {
        let time = crate::input::at_or_now(Some(at))?;
        if time > now {
            return Err(BadInput(format!(
                "--at `{at}` is in the future: it says since when the certificate has been invalid"
            )));
        }
        Ok(time)
    })
    .transpose()
}

/// Prints what `revoke` did, then `next`: how relying parties will learn of it.
pub(crate) fn print_revoked(
    report: &Revoked,
    profile: &str,
    format: ReportFormat,
    next: &str,
) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(report)?),
        ReportFormat::Text => {
            println!(
                "Revoked {} ({profile}), serial {}: {}{}",
                report.subject,
                report.serial,
                report.reason,
                report
                    .invalid_since
                    .map(|at| format!(", invalid since {}", rfc3339(at)))
                    .unwrap_or_default()
            );
            println!("  {next}");
        }
    }
    Ok(())
}

pub(crate) fn crl(args: &CrlArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.ca.home.as_deref());
    let authorities: Vec<Authority> = match args.issuer {
        Some(CrlIssuer::Root) => vec![Authority::Root],
        Some(CrlIssuer::Server) => vec![Authority::Issuing(IssuingRole::Server)],
        Some(CrlIssuer::Client) => vec![Authority::Issuing(IssuingRole::Client)],
        None => Authority::ALL.to_vec(),
    };
    let out_dir = match (&args.out_dir, args.issuer) {
        (Some(dir), _) => Some(dir.clone()),
        (None, None) => Some(home.path().join("crl")),
        (None, Some(_)) => None,
    };
    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| BadInput(format!("--out-dir `{}`: {e}", dir.display())))?;
    }
    let lifetime = home.profiles().map_err(ca_error)?.crl_lifetime();
    let store = open_store(&home, args.ca.store.get())?;
    let runtime = crate::commands::runtime()?;
    // The root key is always encrypted; ask once for every CA that needs it.
    let mut passphrase = None;
    let now = OffsetDateTime::now_utc();
    for authority in authorities {
        let encrypted = match authority {
            Authority::Root => true,
            Authority::Issuing(role) => home.issuing_key_is_encrypted(role).map_err(ca_error)?,
        };
        if encrypted && passphrase.is_none() {
            passphrase = Some(
                mutual_ca::passphrase::resolve(
                    args.ca.passphrase_file.as_deref(),
                    "MUTUAL_PASSPHRASE",
                    "CA key passphrase: ",
                    false,
                )
                .map_err(|e| BadInput(e.to_string()))?,
            );
        }
        let ca = home
            .authority(authority, passphrase.as_ref().filter(|_| encrypted))
            .map_err(ca_error)?;
        let signed = runtime
            .block_on(crl::sign(&ca, &store, now, lifetime))
            .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
        let bytes = match args.format {
            CrlFormat::Pem => signed.pem.as_bytes().to_vec(),
            CrlFormat::Der => signed.der.clone(),
        };
        let target = match (&args.out, &out_dir) {
            (Some(file), _) => Some(file.clone()),
            (None, Some(dir)) => Some(dir.join(file_name(authority, args.format))),
            (None, None) => None,
        };
        match &target {
            Some(path) => write_atomic(path, &bytes, FileKind::Public)
                .map_err(|e| BadInput(format!("`{}` could not be written: {e}", path.display())))?,
            None => std::io::stdout().write_all(&bytes)?,
        }
        eprintln!("{}", describe(&ca.subject, &signed, target));
    }
    runtime.block_on(store.close());
    Ok(ExitStatus::Success)
}

fn file_name(authority: Authority, format: CrlFormat) -> String {
    match format {
        CrlFormat::Pem => format!("{}.crl.pem", authority.file_stem()),
        CrlFormat::Der => format!("{}.crl", authority.file_stem()),
    }
}

fn describe(issuer: &str, signed: &SignedCrl, target: Option<PathBuf>) -> String {
    format!(
        "mutual: CRL #{} of {issuer}: {} revoked, next update {}{}",
        signed.number,
        signed.entries.len(),
        rfc3339(signed.next_update),
        target
            .map(|path| format!(", written to {}", path.display()))
            .unwrap_or_default()
    )
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
