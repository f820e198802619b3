//! `mutual issue server|client`: a fresh key pair and a certificate from the right CA.

use std::path::{Path, PathBuf};

use mutual_ca::files::{FileKind, NewFileSet};
use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::issuance::{IssueError, Request, SubjectAltName, issue, plan};
use mutual_ca::key::KeyType;
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::{AuditAction, AuditNote};
use serde::Serialize;

use crate::cli::{IssueClientArgs, IssueCommand, IssueCommon, IssueServerArgs, ReportFormat};
use crate::commands::pkcs12::BundleRequest;
use crate::commands::{ca_error, issue_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

pub(crate) fn run(command: &IssueCommand) -> anyhow::Result<ExitStatus> {
    match command {
        IssueCommand::Server(args) => server(args),
        IssueCommand::Client(args) => client(args),
    }
}

fn server(args: &IssueServerArgs) -> anyhow::Result<ExitStatus> {
    let mut sans: Vec<SubjectAltName> = args
        .hosts
        .iter()
        .cloned()
        .map(SubjectAltName::Dns)
        .collect();
    sans.extend(args.ip.iter().copied().map(SubjectAltName::Ip));
    let name = args
        .hosts
        .first()
        .cloned()
        .or_else(|| args.ip.first().map(ToString::to_string))
        .unwrap_or_default();
    issue_one(ProfileKind::Server, name, sans, &args.common, None)
}

fn client(args: &IssueClientArgs) -> anyhow::Result<ExitStatus> {
    let mut sans: Vec<SubjectAltName> = args
        .email
        .iter()
        .cloned()
        .map(SubjectAltName::Email)
        .collect();
    sans.extend(args.uri.iter().cloned().map(SubjectAltName::Uri));
    sans.extend(args.dns.iter().cloned().map(SubjectAltName::Dns));
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
    issue_one(
        ProfileKind::Client,
        args.name.clone(),
        sans,
        &args.common,
        bundle.as_ref(),
    )
}

/// What `issue` reports (`--format json`): the certificate and the files written.
#[derive(Debug, Serialize)]
pub(crate) struct Written {
    pub(crate) serial: String,
    pub(crate) profile: String,
    pub(crate) subject: String,
    pub(crate) sans: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) not_after: time::OffsetDateTime,
    pub(crate) key: PathBuf,
    pub(crate) certificate: PathBuf,
    pub(crate) chain: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pkcs12: Option<PathBuf>,
}

/// Where a new certificate goes: NAME.key.pem, NAME.pem and NAME.chain.pem in a directory.
pub(crate) struct OutputFiles {
    pub(crate) key: PathBuf,
    pub(crate) certificate: PathBuf,
    pub(crate) chain: PathBuf,
}

impl OutputFiles {
    /// The files for `name` in `out_dir`, checked before anything is issued, so a
    /// certificate is never recorded whose key could not be written.
    pub(crate) fn prepare(out_dir: &Path, name: &str) -> Result<Self, BadInput> {
        let stem = file_stem(name);
        let files = Self {
            key: out_dir.join(format!("{stem}.key.pem")),
            certificate: out_dir.join(format!("{stem}.pem")),
            chain: out_dir.join(format!("{stem}.chain.pem")),
        };
        for path in [&files.key, &files.certificate, &files.chain] {
            if path.exists() {
                return Err(BadInput(format!(
                    "`{}` exists; remove it or choose another --out-dir",
                    path.display()
                )));
            }
        }
        if !out_dir.is_dir() {
            return Err(BadInput(format!(
                "--out-dir `{}` is not a directory",
                out_dir.display()
            )));
        }
        Ok(files)
    }

    /// Writes the key (0600), certificate, chain and the bundle if any: all or none, since a
    /// key without its certificate (or the reverse) helps nobody. The certificate is
    /// recorded by now, so a failure says which one it was.
    pub(crate) fn write(
        &self,
        key_pem: &str,
        certificate_pem: &str,
        chain_pem: &str,
        pkcs12: Option<(&Path, &[u8])>,
        serial: &str,
    ) -> Result<(), BadInput> {
        let mut files = NewFileSet::new();
        let mut outputs = vec![
            (self.key.as_path(), key_pem.as_bytes(), FileKind::Secret),
            (
                self.certificate.as_path(),
                certificate_pem.as_bytes(),
                FileKind::Public,
            ),
            (self.chain.as_path(), chain_pem.as_bytes(), FileKind::Public),
        ];
        if let Some((path, der)) = pkcs12 {
            outputs.push((path, der, FileKind::Secret));
        }
        for (path, bytes, kind) in outputs {
            files.create(path, bytes, kind).map_err(|e| {
                BadInput(format!(
                    "`{}` could not be written: {e}; certificate {serial} was issued and recorded, but none of its files were kept (its key is gone: revoke it and issue again)",
                    path.display(),
                ))
            })?;
        }
        files.keep();
        Ok(())
    }
}

fn issue_one(
    profile_kind: ProfileKind,
    name: String,
    sans: Vec<SubjectAltName>,
    common: &IssueCommon,
    bundle: Option<&BundleRequest>,
) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(common.ca.home.as_deref());
    let key_type: KeyType = common
        .key_type
        .parse()
        .map_err(|e| BadInput(format!("--key-type: {e}")))?;
    let files = OutputFiles::prepare(&common.out_dir, &name)?;

    let profiles = home.profiles().map_err(ca_error)?;
    let profile = profiles.get(profile_kind);
    let role = IssuingRole::for_profile(profile_kind);
    let ca = crate::commands::unlock_issuing_ca(&home, role, common.ca.passphrase_file.as_deref())?;
    let now = time::OffsetDateTime::now_utc();
    let request = Request {
        profile: profile_kind,
        common_name: name,
        sans,
        days: common.days,
        key_type,
        requester: std::env::var("USER")
            .ok()
            .map(|user| format!("local:{user}")),
    };
    let plan = match plan(&request, profile, &ca, now) {
        Ok(plan) => plan.audited(AuditNote {
            actor: crate::commands::local_actor(),
            action: AuditAction::Issue,
            detail: format!("profile {profile_kind}"),
        }),
        Err(refusals) => {
            for refusal in &refusals {
                eprintln!("mutual: refused [{}]: {refusal}", refusal.code());
            }
            return Ok(ExitStatus::Negative);
        }
    };
    let key = key_type
        .generate_subject()
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    let runtime = crate::commands::runtime()?;
    let issued = runtime.block_on(async {
        let store = crate::commands::open_database(&home, common.ca.store.get()).await?;
        let issued = issue(plan, &key, &ca, &store, now)
            .await
            .map_err(|e: IssueError| issue_error(&e))?;
        anyhow::Ok(issued)
    })?;

    let key_pem = key
        .unencrypted_pem()
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    let mut chain_pems = vec![ca.certificate_pem.clone()];
    let p12 = bundle
        .map(|bundle| {
            let root_path = home.root_certificate();
            let root_pem = std::fs::read_to_string(&root_path).map_err(|e| {
                BadInput(format!(
                    "root certificate `{}` could not be read: {e}",
                    root_path.display()
                ))
            })?;
            chain_pems.push(root_pem);
            let der = bundle.build(&key_pem, &issued.certificate_pem, &chain_pems)?;
            anyhow::Ok((bundle.path(), der))
        })
        .transpose()?;

    files.write(
        &key_pem,
        &issued.certificate_pem,
        &issued.chain_pem,
        p12.as_ref().map(|(path, der)| (*path, der.as_slice())),
        &issued.record.serial,
    )?;

    let written = Written {
        serial: issued.record.serial.clone(),
        profile: profile_kind.to_string(),
        subject: issued.record.subject.clone(),
        sans: issued.record.sans.clone(),
        not_after: issued.record.not_after,
        key: files.key,
        certificate: files.certificate,
        chain: files.chain,
        pkcs12: bundle.map(|bundle| bundle.path.clone()),
    };
    report(&written, common.format, &ca.subject, bundle)?;
    Ok(ExitStatus::Success)
}

/// Prints what `issue` did: the certificate, and each file with what it is for.
pub(crate) fn report(
    written: &Written,
    format: ReportFormat,
    issuer: &str,
    bundle: Option<&BundleRequest>,
) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&written)?),
        ReportFormat::Text => {
            println!(
                "Issued a {} certificate for {} ({}), serial {}, valid until {}",
                written.profile,
                written.subject,
                if written.sans.is_empty() {
                    "no SANs".to_owned()
                } else {
                    written.sans.join(", ")
                },
                written.serial,
                written.not_after.date()
            );
            println!(
                "  key          {}  (0600; keep it on the machine that uses it)",
                written.key.display()
            );
            println!("  certificate  {}", written.certificate.display());
            println!(
                "  chain        {}  (certificate + {issuer}; what a TLS peer sends)",
                written.chain.display(),
            );
            if let Some(bundle) = bundle {
                println!(
                    "  pkcs12       {}  ({})",
                    bundle.path.display(),
                    bundle.describe()
                );
            }
        }
    }
    Ok(())
}

/// A file name from a host or client name: `*.example.com` becomes `wildcard.example.com`,
/// and anything but letters, digits, `.`, `-` and `_` becomes `_`.
pub(crate) fn file_stem(name: &str) -> String {
    let name = name
        .strip_prefix("*.")
        .map_or_else(|| name.to_owned(), |rest| format!("wildcard.{rest}"));
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.').to_owned();
    if stem.is_empty() {
        "certificate".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_stems() {
        assert_eq!(
            super::file_stem("api.example.internal"),
            "api.example.internal"
        );
        assert_eq!(
            super::file_stem("*.example.internal"),
            "wildcard.example.internal"
        );
        assert_eq!(super::file_stem("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(super::file_stem("Alice Smith"), "Alice_Smith");
        assert_eq!(super::file_stem(""), "certificate");
    }
}
