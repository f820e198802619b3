//! `mutual token create`: a one-time enrollment token, recorded in the CA's store (as the
//! hash of its secret) and printed once.

use mutual_ca::home::Home;
use mutual_ca::store::tokens::{EnrollmentToken, NewToken, TokenError, TokenGrant, human};
use mutual_ca::store::{AuditAction, NewAuditEntry, parse_period};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{ReportFormat, TokenCommand, TokenCreateArgs};
use crate::commands::list::open_store;
use crate::commands::{ca_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

pub(crate) fn run(command: &TokenCommand) -> anyhow::Result<ExitStatus> {
    match command {
        TokenCommand::Create(args) => create(args),
    }
}

/// The JSON report: the same fields `POST /api/v1/tokens` answers with.
#[derive(Serialize)]
struct Created<'a> {
    token: &'a str,
    id: &'a str,
    profile: &'a str,
    subject: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

fn create(args: &TokenCreateArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.home.as_deref());
    let ttl = parse_period(&args.ttl).ok_or_else(|| {
        BadInput(format!(
            "--ttl `{}`: expected a number and a unit, e.g. 15m, 1h, 7d",
            args.ttl
        ))
    })?;
    let store = open_store(&home, args.store.get())?;
    let profiles = home.profiles().map_err(ca_error)?;
    let grant = TokenGrant::new(&profiles, &args.profile, &args.subject, ttl).map_err(|e| {
        let flag = match e {
            TokenError::UnknownProfile { .. }
            | TokenError::ProfileNotEnrollable { .. }
            | TokenError::ProfileDisabled { .. } => "--profile",
            TokenError::InvalidSubject { .. } => "--subject",
            TokenError::TtlOutOfRange { .. } => "--ttl",
            _ => return anyhow::anyhow!(with_causes(&e)),
        };
        BadInput(format!("{flag}: {}", with_causes(&e))).into()
    })?;
    let token = EnrollmentToken::generate().map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let actor = format!(
        "local:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    );
    let runtime = crate::commands::runtime()?;
    let record = runtime
        .block_on(store.create_token(&NewToken::new(&token, &grant, &actor, now)))
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    let audited = runtime.block_on(store.audit(&NewAuditEntry {
        at: now,
        actor,
        action: AuditAction::Token,
        serial: None,
        subject: Some(record.subject.clone()),
        detail: format!(
            "token {} for profile {}, valid {}",
            record.id,
            record.profile,
            human(grant.ttl)
        ),
    }));
    runtime.block_on(store.close());
    if let Err(e) = audited {
        // The token exists and works; say so rather than hide it behind an error.
        eprintln!(
            "mutual: warning: the token was made but the audit trail could not be written: {}",
            with_causes(&e)
        );
    }

    let text = token.expose();
    match args.format {
        ReportFormat::Json => {
            let report = Created {
                token: &text,
                id: &record.id,
                profile: record.profile.as_str(),
                subject: &record.subject,
                expires_at: record.expires_at,
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        ReportFormat::Text => {
            println!("{}", text.as_str());
            eprintln!(
                "Enrollment token {} for `{}` ({} profile), works once until {} ({} from now).",
                record.id,
                record.subject,
                record.profile,
                rfc3339(record.expires_at),
                human(grant.ttl)
            );
            eprintln!(
                "  It is shown only now. The device enrolls with it and a CSR whose CN is `{}`:\n  POST /api/v1/enroll {{\"token\": \"...\", \"csr\": \"...\"}} on `mutual serve`",
                record.subject
            );
        }
    }
    Ok(ExitStatus::Success)
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}
