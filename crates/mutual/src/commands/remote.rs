//! The client mode of `issue`, `sign`, `revoke`, `list` and `show`: the same command line,
//! output and files as the local commands, with the work done by a `mutual serve` over its
//! API (`--server URL` or `$MUTUAL_SERVER`).
//!
//! Which mode a command runs in is decided once, in [`mode`]: an explicit `--server`
//! (or `$MUTUAL_SERVER` when no `--home` is given) means the service; options that only make
//! sense for one mode are refused in the other rather than silently ignored.

use std::net::IpAddr;

use mutual_ca::key::KeyType;
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::{RecordView, RevocationReason, StatusFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::cli::{
    ClientArgs, Command, IssueClientArgs, IssueCommand, IssueCommon, IssueServerArgs, ListArgs,
    ReportFormat, RevokeArgs, ShowArgs, ShowFormat, SignArgs, StatusArg,
};
use crate::client::{Credentials, Service, server_from};
use crate::commands::issue::{OutputFiles, Written, report};
use crate::commands::pkcs12::BundleRequest;
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};

/// Where a command does its work.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// On the local CA (or, for `renew` and `enroll`, their own way).
    Local,
    /// On the `mutual serve` at this URL.
    Service(String),
}

/// Decides the mode of `command`, refusing options that belong to the other one.
pub(crate) fn mode(client: &ClientArgs, command: &Command) -> Result<Mode, BadInput> {
    let identity = client.cert.is_some() || client.p12.is_some();
    let (home, passphrase_file) = match command {
        Command::Issue(IssueCommand::Server(args)) => (
            args.common.ca.home.as_deref(),
            args.common.ca.passphrase_file.as_deref(),
        ),
        Command::Issue(IssueCommand::Client(args)) => (
            args.common.ca.home.as_deref(),
            args.common.ca.passphrase_file.as_deref(),
        ),
        Command::Sign(args) => (args.ca.home.as_deref(), args.ca.passphrase_file.as_deref()),
        Command::Revoke(args) => (args.home.as_deref(), None),
        Command::List(args) => (args.home.as_deref(), None),
        Command::Show(args) => (args.home.as_deref(), None),
        Command::Renew(_) => {
            if identity {
                return Err(BadInput(
                    "`mutual renew` authenticates with the certificate it renews: give it as `renew --cert FILE --key FILE`, after the verb".to_owned(),
                ));
            }
            return Ok(Mode::Local);
        }
        Command::Enroll(_) => {
            if identity {
                return Err(BadInput(
                    "`mutual enroll` authenticates with its token, not a client certificate: leave out --cert, --key and --p12".to_owned(),
                ));
            }
            return Ok(Mode::Local);
        }
        _ => {
            if client.server.is_some() || identity {
                return Err(BadInput(format!(
                    "`mutual {}` works on local files only; --server and the client certificate options are for issue, sign, revoke, list, show, renew and enroll",
                    verb(command)
                )));
            }
            return Ok(Mode::Local);
        }
    };
    let server = match (&client.server, home) {
        (Some(_), Some(home)) => {
            return Err(BadInput(format!(
                "--home `{}` names a local CA and --server a remote one: give one of them",
                home.display()
            )));
        }
        // An explicit --home is a local CA, whatever $MUTUAL_SERVER says.
        (None, Some(_)) => None,
        _ => server_from(client),
    };
    match server {
        Some(server) => {
            if passphrase_file.is_some() {
                return Err(BadInput(
                    "--passphrase-file unlocks a local CA key; with --server (or $MUTUAL_SERVER) the service signs"
                        .to_owned(),
                ));
            }
            Ok(Mode::Service(server))
        }
        None => {
            if identity {
                return Err(BadInput(
                    "--cert, --key and --p12 before the verb authenticate to a `mutual serve`; give --server URL (or set $MUTUAL_SERVER) too".to_owned(),
                ));
            }
            Ok(Mode::Local)
        }
    }
}

fn verb(command: &Command) -> &'static str {
    match command {
        Command::Inspect(_) => "inspect",
        Command::Verify(_) => "verify",
        Command::Lint(_) => "lint",
        Command::Init(_) => "init",
        Command::Issue(_) => "issue",
        Command::List(_) => "list",
        Command::Show(_) => "show",
        Command::Revoke(_) => "revoke",
        Command::Crl(_) => "crl",
        Command::Bench(_) => "bench",
        Command::Sign(_) => "sign",
        Command::Pkcs12(_) => "pkcs12",
        Command::Serve(_) => "serve",
        Command::Renew(_) => "renew",
        Command::Enroll(_) => "enroll",
        Command::Config(_) => "config",
        Command::Token(_) => "token",
        Command::Db(_) => "db",
        Command::Backup(_) => "backup",
        Command::Restore(_) => "restore",
        Command::Audit(_) => "audit",
        Command::Gateway(_) => "gateway",
        Command::Probe(_) => "probe",
    }
}

/// Runs `command` against the service at `server`.
pub(crate) fn run(
    server: &str,
    client: &ClientArgs,
    command: &Command,
) -> anyhow::Result<ExitStatus> {
    let service = || {
        Service::new(
            server,
            client.ca_cert.as_deref(),
            Credentials::from_args(client)?,
        )
    };
    match command {
        Command::Issue(IssueCommand::Server(args)) => issue_server(&service()?, args),
        Command::Issue(IssueCommand::Client(args)) => issue_client(service, args),
        Command::Sign(args) => sign(service, args),
        Command::Revoke(args) => revoke(service, args),
        Command::List(args) => list(&service()?, args),
        Command::Show(args) => show(&service()?, args),
        other => Err(anyhow::anyhow!(
            "`mutual {}` has no client mode",
            verb(other)
        )),
    }
}

/// A record as the API sends it: the same fields, in the same order, as
/// [`RecordView`], which it turns back into so that outputs match the local ones exactly.
#[derive(Debug, Deserialize)]
pub(crate) struct RemoteRecord {
    pub(crate) serial: String,
    pub(crate) profile: String,
    pub(crate) status: String,
    pub(crate) subject: String,
    pub(crate) issuer: String,
    pub(crate) sans: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) not_after: OffsetDateTime,
    pub(crate) fingerprint_sha256: String,
    pub(crate) requester: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) revoked_at: Option<OffsetDateTime>,
    pub(crate) revocation_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) issued_at: OffsetDateTime,
}

impl RemoteRecord {
    pub(crate) fn view(&self) -> Result<RecordView<'_>, BadInput> {
        let status = [
            StatusFilter::Valid,
            StatusFilter::Revoked,
            StatusFilter::Expired,
        ]
        .into_iter()
        .map(StatusFilter::as_str)
        .find(|s| *s == self.status)
        .ok_or_else(|| {
            BadInput(format!(
                "the service says certificate {} has status `{}`; expected valid, revoked or expired",
                self.serial, self.status
            ))
        })?;
        let revocation_reason = self
            .revocation_reason
            .as_deref()
            .map(|name| {
                RevocationReason::ALL
                    .into_iter()
                    .map(RevocationReason::rfc_name)
                    .find(|known| *known == name)
                    .ok_or_else(|| {
                        BadInput(format!(
                            "the service gives certificate {} the revocation reason `{name}`, which is not an RFC 5280 reason",
                            self.serial
                        ))
                    })
            })
            .transpose()?;
        Ok(RecordView {
            serial: &self.serial,
            profile: &self.profile,
            status,
            subject: &self.subject,
            issuer: &self.issuer,
            sans: &self.sans,
            not_before: self.not_before,
            not_after: self.not_after,
            fingerprint_sha256: &self.fingerprint_sha256,
            requester: self.requester.as_deref(),
            revoked_at: self.revoked_at,
            revocation_reason,
            issued_at: self.issued_at,
        })
    }
}

/// What every issuing call answers: the record, the certificate and its chain.
#[derive(Debug, Deserialize)]
pub(crate) struct IssuedAnswer {
    #[serde(flatten)]
    pub(crate) record: RemoteRecord,
    pub(crate) certificate: String,
    pub(crate) chain: String,
    /// The new key (`POST /issue` with `format: pem`).
    #[serde(default)]
    key: Option<String>,
    /// What a CSR asked for that the profile overrode (`POST /sign`).
    #[serde(default)]
    ignored: Vec<Value>,
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    service: &Service,
    what: &[&str],
    answer: Value,
) -> Result<T, BadInput> {
    serde_json::from_value(answer).map_err(|e| {
        BadInput(format!(
            "`{}` answered with JSON that is not what the API documents: {e}",
            service.url(what)
        ))
    })
}

fn issue_server(service: &Service, args: &IssueServerArgs) -> anyhow::Result<ExitStatus> {
    let name = args
        .hosts
        .first()
        .cloned()
        .or_else(|| args.ip.first().map(ToString::to_string))
        .unwrap_or_default();
    issue(
        service,
        ProfileKind::Server,
        &name,
        Names {
            dns: &args.hosts,
            ip: &args.ip,
            email: &[],
            uri: &[],
        },
        &args.common,
        None,
    )
}

fn issue_client(
    service: impl FnOnce() -> anyhow::Result<Service>,
    args: &IssueClientArgs,
) -> anyhow::Result<ExitStatus> {
    // The bundle's password is asked for before anything is sent, as locally.
    let bundle = args
        .p12
        .as_deref()
        .map(|path| {
            BundleRequest::prepare(
                path,
                &args.name,
                args.p12_password_file.as_deref(),
                args.legacy_p12,
            )
        })
        .transpose()?;
    issue(
        &service()?,
        ProfileKind::Client,
        &args.name,
        Names {
            dns: &args.dns,
            ip: &[],
            email: &args.email,
            uri: &args.uri,
        },
        &args.common,
        bundle.as_ref(),
    )
}

struct Names<'a> {
    dns: &'a [String],
    ip: &'a [IpAddr],
    email: &'a [String],
    uri: &'a [String],
}

/// `POST /issue` for a PEM key, then the files `issue` writes, the PKCS#12 built here with
/// the user's password as locally (the password never travels).
fn issue(
    service: &Service,
    profile: ProfileKind,
    name: &str,
    names: Names<'_>,
    common: &IssueCommon,
    bundle: Option<&BundleRequest>,
) -> anyhow::Result<ExitStatus> {
    let key_type: KeyType = common
        .key_type
        .parse()
        .map_err(|e| BadInput(format!("--key-type: {e}")))?;
    let files = OutputFiles::prepare(&common.out_dir, name)?;
    // The root completes the bundle's chain; fetched first, so nothing is issued for a
    // bundle that cannot be built.
    let root = match bundle {
        Some(_) => Some(root_pem(service)?),
        None => None,
    };
    let body = json!({
        "profile": profile.as_str(),
        "name": name,
        "dns": names.dns,
        "ip": names.ip,
        "email": names.email,
        "uri": names.uri,
        "days": common.days,
        "key_type": key_type.as_str(),
        "format": "pem",
    });
    let answer = service.post(&["issue"], &body)?;
    let issued: IssuedAnswer = parse(service, &["issue"], answer)?;
    let key_pem = Zeroizing::new(issued.key.clone().ok_or_else(|| {
        BadInput(format!(
            "`{}` answered without the key it made (asked for `format: pem`)",
            service.url(&["issue"])
        ))
    })?);
    let p12 = match (bundle, root) {
        (Some(bundle), Some(root)) => {
            let mut chain_pems = issuer_pems(&issued.chain);
            chain_pems.push(root);
            Some((
                bundle.path(),
                bundle.build(&key_pem, &issued.certificate, &chain_pems)?,
            ))
        }
        _ => None,
    };
    files.write(
        &key_pem,
        &issued.certificate,
        &issued.chain,
        p12.as_ref().map(|(path, der)| (*path, der.as_slice())),
        &issued.record.serial,
    )?;
    let written = Written {
        serial: issued.record.serial.clone(),
        profile: profile.to_string(),
        subject: issued.record.subject.clone(),
        sans: issued.record.sans.clone(),
        not_after: issued.record.not_after,
        key: files.key,
        certificate: files.certificate,
        chain: files.chain,
        pkcs12: bundle.map(|bundle| bundle.path.clone()),
    };
    report(&written, common.format, &issued.record.issuer, bundle)?;
    Ok(ExitStatus::Success)
}

/// The CA certificates after the leaf in a chain PEM, each as its own PEM.
fn issuer_pems(chain: &str) -> Vec<String> {
    mutual_x509::pem::parse(chain.as_bytes())
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.label == "CERTIFICATE")
                .skip(1)
                .map(|b| mutual_x509::pem::encode(&b.label, &b.der))
                .collect()
        })
        .unwrap_or_default()
}

/// The CA's root certificate, from `GET /ca`.
fn root_pem(service: &Service) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Ca {
        root: String,
    }
    let answer = service.get(&["ca"], &[])?;
    let ca: Ca = parse(service, &["ca"], answer)?;
    Ok(ca.root)
}

fn sign(
    service: impl FnOnce() -> anyhow::Result<Service>,
    args: &SignArgs,
) -> anyhow::Result<ExitStatus> {
    if args.dry_run {
        return Err(BadInput(
            "--dry-run previews with the local CA's certificate; the service has no dry run: leave out --server (and $MUTUAL_SERVER) to preview".to_owned(),
        )
        .into());
    }
    let (profile, der) = crate::commands::sign::checked_request(args)?;
    let service = service()?;
    let body = json!({
        "csr": mutual_x509::pem::encode("CERTIFICATE REQUEST", &der),
        "profile": profile.as_str(),
        "days": args.days,
    });
    let answer = service.post(&["sign"], &body)?;
    let issued: IssuedAnswer = parse(&service, &["sign"], answer)?;
    if profile == ProfileKind::ServerClient {
        eprintln!(
            "mutual: warning: {}",
            crate::commands::sign::SERVER_CLIENT_WARNING
        );
    }
    for note in &issued.ignored {
        match note {
            Value::String(text) => eprintln!("mutual: note: ignored {text}"),
            other => eprintln!("mutual: note: ignored {other}"),
        }
    }
    match &args.out {
        Some(out) => {
            mutual_ca::files::create_new_atomic(
                out,
                issued.certificate.as_bytes(),
                mutual_ca::files::FileKind::Public,
            )
            .map_err(|e| BadInput(format!("`{}` could not be written: {e}", out.display())))?;
            eprintln!(
                "mutual: issued {} serial {} to `{}` (chain: the certificate followed by {})",
                profile,
                issued.record.serial,
                out.display(),
                issued.record.issuer
            );
        }
        None => print!("{}", issued.certificate),
    }
    Ok(ExitStatus::Success)
}

fn revoke(
    service: impl FnOnce() -> anyhow::Result<Service>,
    args: &RevokeArgs,
) -> anyhow::Result<ExitStatus> {
    let reason: RevocationReason = args
        .reason
        .parse()
        .map_err(|e| BadInput(format!("--reason: {}", with_causes(&e))))?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let invalid_since = crate::commands::revoke::invalid_since(args.at.as_deref(), now)?;
    let service = service()?;
    let mut body = json!({
        "certificate": args.id,
        "reason": reason.rfc_name(),
    });
    if let Some(at) = invalid_since {
        body["invalid_since"] = at
            .format(&time::format_description::well_known::Rfc3339)?
            .into();
    }
    let answer = service.post(&["revoke"], &body)?;
    let record: RemoteRecord = parse(&service, &["revoke"], answer)?;
    let view = record.view()?;
    let report = crate::commands::revoke::Revoked {
        serial: record.serial.clone(),
        subject: record.subject.clone(),
        revoked_at: view.revoked_at.unwrap_or(now),
        reason: view.revocation_reason.unwrap_or(reason.rfc_name()),
        invalid_since,
        // The service records the administrator's certificate; its answer does not say.
        revoked_by: None,
    };
    let next = format!(
        "Relying parties learn of it from the service at once (OCSP) and from its next CRL ({})",
        service.url(&["crl"])
    );
    crate::commands::revoke::print_revoked(&report, &record.profile, args.format, &next)?;
    Ok(ExitStatus::Success)
}

fn list(service: &Service, args: &ListArgs) -> anyhow::Result<ExitStatus> {
    if let Some(period) = &args.expiring
        && mutual_ca::store::parse_period(period).is_none()
    {
        return Err(BadInput(format!(
            "--expiring `{period}`: expected a number and a unit, e.g. 30d, 12h, 2w"
        ))
        .into());
    }
    let mut query: Vec<(&str, String)> = vec![("limit", args.limit.to_string())];
    if let Some(profile) = &args.profile {
        query.push(("profile", profile.clone()));
    }
    if let Some(status) = args.status {
        let status = match status {
            StatusArg::Valid => StatusFilter::Valid,
            StatusArg::Revoked => StatusFilter::Revoked,
            StatusArg::Expired => StatusFilter::Expired,
        };
        query.push(("status", status.as_str().to_owned()));
    }
    if let Some(period) = &args.expiring {
        query.push(("expiring_within", period.clone()));
    }
    if let Some(san) = &args.san {
        query.push(("san", san.clone()));
    }
    if let Some(after) = &args.after {
        query.push(("after", after.clone()));
    }
    #[derive(Deserialize)]
    struct Page {
        certificates: Vec<RemoteRecord>,
        next: Option<String>,
    }
    let answer = service.get(&["certificates"], &query)?;
    let page: Page = parse(service, &["certificates"], answer)?;
    let views = page
        .certificates
        .iter()
        .map(RemoteRecord::view)
        .collect::<Result<Vec<_>, _>>()?;
    match args.format {
        ReportFormat::Json => {
            let doc = json!({
                "certificates": views,
                "next": page.next,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Text => {
            let rows: Vec<crate::commands::list::Row<'_>> = views
                .iter()
                .map(|view| crate::commands::list::Row {
                    serial: view.serial,
                    profile: view.profile,
                    status: view.status,
                    not_after: view.not_after,
                    subject: view.subject,
                    sans: view.sans,
                })
                .collect();
            crate::commands::list::print_table(&rows, page.next.as_deref());
        }
    }
    Ok(ExitStatus::Success)
}

fn show(service: &Service, args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    // Checked here for the local command's message; the service checks again.
    args.id
        .parse::<mutual_ca::store::Lookup>()
        .map_err(|e| BadInput(format!("`{}`: {}", args.id, with_causes(&e))))?;
    #[derive(Deserialize)]
    struct Shown {
        #[serde(flatten)]
        record: RemoteRecord,
        certificate: String,
    }
    let path = ["certificates", args.id.as_str()];
    let answer = service.get(&path, &[])?;
    let shown: Shown = parse(service, &path, answer)?;
    let view = shown.record.view()?;
    match args.format {
        ShowFormat::Pem => print!("{}", shown.certificate),
        ShowFormat::Json => println!("{}", serde_json::to_string_pretty(&view)?),
        ShowFormat::Text => crate::commands::list::print_record(
            &view,
            &shown.certificate,
            OffsetDateTime::now_utc(),
        )?,
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::RemoteRecord;

    /// The API's record, read back here, prints exactly as the local view does (a field
    /// added to `RecordView` breaks `RemoteRecord::view` at compile time; this checks the
    /// encodings).
    #[test]
    fn a_record_round_trips_to_the_same_json() {
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap();
        let sans = vec!["email:alice@example.com".to_owned()];
        for (status, revoked_at, reason) in [
            ("valid", None, None),
            ("revoked", Some(now), Some("keyCompromise")),
        ] {
            let local = mutual_ca::store::RecordView {
                serial: "74BDDD5E9058A2E7996FF6A1EEF158CD",
                profile: "client",
                status,
                subject: "CN=alice",
                issuer: "CN=Mutual Client CA,O=Mutual",
                sans: &sans,
                not_before: now,
                not_after: now + time::Duration::days(90),
                fingerprint_sha256: "AB:12",
                requester: Some("admin:ab12"),
                revoked_at,
                revocation_reason: reason,
                issued_at: now,
            };
            let local = serde_json::to_string_pretty(&local).unwrap();
            let remote: RemoteRecord = serde_json::from_str(&local).unwrap();
            let again = serde_json::to_string_pretty(&remote.view().unwrap()).unwrap();
            assert_eq!(local, again);
        }
    }
}
