pub(crate) mod audit;
pub(crate) mod backup;
pub(crate) mod bench;
pub(crate) mod bench_http;
pub(crate) mod config;
pub(crate) mod db;
pub(crate) mod enroll;
pub(crate) mod gateway;
pub(crate) mod init;
pub(crate) mod inspect;
pub(crate) mod issue;
pub(crate) mod lint;
pub(crate) mod list;
pub(crate) mod pkcs12;
pub(crate) mod probe;
pub(crate) mod probe_audit;
pub(crate) mod remote;
pub(crate) mod renew;
pub(crate) mod revoke;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod token;
pub(crate) mod verify;

use crate::exit::BadInput;

/// The async runtime for commands that use the store: one thread is plenty for a CLI.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Opens the certificate store of `home`: `explicit` (`--database`, $MUTUAL_DATABASE), else
/// the one its mutual.toml names, else its SQLite file. Failing to open it is one line.
pub(crate) async fn open_database(
    home: &mutual_ca::home::Home,
    explicit: Option<&mutual_ca::store::Database>,
) -> anyhow::Result<mutual_ca::store::Store> {
    let database = home.database(explicit).map_err(ca_error)?;
    mutual_ca::store::Store::open(&database)
        .await
        .map_err(|e| BadInput(with_causes(&e)).into())
}

/// The passphrase of the issuing CA for `role` (file, $MUTUAL_PASSPHRASE, prompt), asked
/// for only when its key is stored encrypted.
pub(crate) fn issuing_ca_passphrase(
    home: &mutual_ca::home::Home,
    role: mutual_ca::home::IssuingRole,
    passphrase_file: Option<&std::path::Path>,
) -> anyhow::Result<Option<mutual_ca::passphrase::Passphrase>> {
    if !home.issuing_key_is_encrypted(role).map_err(ca_error)? {
        return Ok(None);
    }
    let passphrase = mutual_ca::passphrase::resolve(
        passphrase_file,
        "MUTUAL_PASSPHRASE",
        "CA key passphrase: ",
        false,
    )
    .map_err(|e| BadInput(e.to_string()))?;
    Ok(Some(passphrase))
}

/// Loads the issuing CA for `role`, unlocking its key when it is encrypted.
pub(crate) fn unlock_issuing_ca(
    home: &mutual_ca::home::Home,
    role: mutual_ca::home::IssuingRole,
    passphrase_file: Option<&std::path::Path>,
) -> anyhow::Result<mutual_ca::issuance::IssuingCa> {
    let passphrase = issuing_ca_passphrase(home, role, passphrase_file)?;
    home.issuing_ca(role, passphrase.as_ref()).map_err(ca_error)
}

/// A CA error as the binary reports it: the user's doing (exit 2) or not (exit 3), with
/// its causes on one line.
pub(crate) fn ca_error(error: mutual_ca::error::CaError) -> anyhow::Error {
    let text = with_causes(&error);
    if error.is_user_error() {
        BadInput(text).into()
    } else {
        anyhow::anyhow!(text)
    }
}

/// An issuance failure as the binary reports it: a lint refusal is exit 1 (one line per
/// lint), a full disk exit 2 (the user can fix that), anything else 3.
pub(crate) fn issue_error(error: &mutual_ca::issuance::IssueError) -> anyhow::Error {
    if let mutual_ca::issuance::IssueError::Linted { lints } = error {
        return crate::exit::Refusal {
            reasons: lints
                .iter()
                .map(|lint| {
                    (
                        "lint_refused".to_owned(),
                        format!("the certificate would break lint {lint}; nothing was signed or recorded"),
                    )
                })
                .collect(),
        }
        .into();
    }
    let text = with_causes(error);
    if error.is_out_of_space() {
        BadInput(text).into()
    } else {
        anyhow::anyhow!(text)
    }
}

/// An error and its causes on one line: `a: b: c`.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Who a local command acts as in the audit trail: `local:$USER`.
pub(crate) fn local_actor() -> String {
    format!(
        "local:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    )
}

/// Appends to the audit trail for a local command. The change itself is already
/// committed, so a failure here is reported, not fatal.
pub(crate) async fn audit_local(
    store: &mutual_ca::store::Store,
    action: mutual_ca::store::AuditAction,
    record: &mutual_ca::store::CertificateRecord,
    detail: String,
) {
    let entry = mutual_ca::store::NewAuditEntry {
        at: time::OffsetDateTime::now_utc(),
        actor: local_actor(),
        action,
        serial: Some(record.serial.clone()),
        subject: Some(record.subject.clone()),
        detail,
    };
    if let Err(e) = store.audit(&entry).await {
        eprintln!(
            "mutual: warning: {action} of serial {} is done, but the audit trail could not be written: {}",
            record.serial,
            with_causes(&e)
        );
    }
}
