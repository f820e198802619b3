//! `mutual verify`: read the leaf, the trust anchors, the untrusted bundles and the CRLs,
//! ask mutual-verify for a verdict, and print it.

use std::path::{Path, PathBuf};

use mutual_verify::{Bundle, CrlSource, Host, OcspOptions, Policy, Purpose, Verdict, Verifier};
use mutual_x509::{Certificate, DecodeError, DecodeOptions, Object, Usage};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{PurposeArg, ReportFormat, VerifyArgs};
use crate::exit::{BadInput, ExitStatus};
use crate::input;

/// Where Debian, Fedora and Alpine/macOS keep the system roots, in that order.
pub(crate) const SYSTEM_ROOTS: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

pub(crate) fn run(args: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    let at = input::at_or_now(args.at.as_deref())?;
    let password = input::password(args.password_file.as_deref(), args.password_env.as_deref())?;
    let options = DecodeOptions { now: at, password };
    let policy = policy(args, at)?;

    let (anchors, trust_sources) = trust_anchors(args, &options)?;
    let mut bundles = Vec::new();
    for name in &args.untrusted {
        let certificates = certificates_in(name, &options)?;
        bundles.push(Bundle {
            source: format!("--untrusted `{name}`"),
            certificates,
        });
    }
    let mut crls = Vec::new();
    for name in &args.crl {
        crls.extend(crls_in(name, &options)?);
    }
    let verifier = Verifier::new(anchors, policy).map_err(|e| BadInput(e.to_string()))?;
    let verifier = if args.batch.is_some() {
        // Many leaves, one pool: strangers in it are expected, so it is not judged for order.
        verifier.with_pool(
            bundles
                .into_iter()
                .flat_map(|bundle| bundle.certificates)
                .collect(),
        )
    } else {
        verifier.with_untrusted(bundles)
    }
    .with_crls(crls);
    let verifier = if args.ocsp {
        verifier.with_ocsp(OcspOptions {
            timeout: std::time::Duration::from_secs(args.ocsp_timeout),
            now: OffsetDateTime::now_utc(),
        })
    } else {
        verifier
    };

    let leaves: Vec<String> = match &args.batch {
        Some(list) => batch_list(list)?,
        None => args.leaf.iter().cloned().collect(),
    };
    let mut results = Vec::with_capacity(leaves.len());
    for name in &leaves {
        let verdict = match leaf_in(name, &options)? {
            LeafInput::Certificate { leaf, chain } => verifier.verify(&leaf, &chain),
            LeafInput::Malformed(detail) => {
                Verdict::malformed(verifier.policy(), &format!("`{name}`"), &detail)
            }
        };
        results.push(Result {
            input: name.clone(),
            verdict,
        });
    }

    let all_valid = results.iter().all(|r| r.verdict.valid);
    match args.format {
        ReportFormat::Json if args.batch.is_some() => println!(
            "{}",
            serde_json::to_string_pretty(&BatchReport {
                schema: "mutual.verify-batch/v1",
                valid: results.iter().filter(|r| r.verdict.valid).count(),
                invalid: results.iter().filter(|r| !r.verdict.valid).count(),
                results: &results,
            })?
        ),
        ReportFormat::Json => {
            for result in &results {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&Report {
                        schema: "mutual.verify/v1",
                        result,
                    })?
                );
            }
        }
        ReportFormat::Text if args.batch.is_some() => {
            for result in &results {
                print!("{}", batch_line(result));
            }
            let invalid = results.iter().filter(|r| !r.verdict.valid).count();
            println!(
                "{} valid, {invalid} invalid ({} {}, {} trust anchors: {trust_sources})",
                results.len() - invalid,
                verifier.policy().purpose,
                purpose_words(verifier.policy()),
                verifier.anchor_count()
            );
        }
        ReportFormat::Text => {
            for result in &results {
                print!(
                    "{}",
                    text(&result.verdict, verifier.anchor_count(), &trust_sources)
                );
            }
        }
    }
    Ok(if all_valid {
        ExitStatus::Success
    } else {
        ExitStatus::Negative
    })
}

#[derive(Serialize)]
struct Result {
    input: String,
    #[serde(flatten)]
    verdict: Verdict,
}

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    #[serde(flatten)]
    result: &'a Result,
}

#[derive(Serialize)]
struct BatchReport<'a> {
    schema: &'static str,
    valid: usize,
    invalid: usize,
    results: &'a [Result],
}

fn policy(args: &VerifyArgs, at: OffsetDateTime) -> anyhow::Result<Policy> {
    let host = args
        .host
        .as_deref()
        .map(|host| {
            host.parse::<Host>()
                .map_err(|e| BadInput(format!("--host: {e}")))
        })
        .transpose()?;
    let purpose = match args.purpose {
        Some(PurposeArg::Server) => Purpose::Server,
        Some(PurposeArg::Client) => Purpose::Client,
        Some(PurposeArg::Any) => Purpose::Any,
        None if host.is_some() => Purpose::Server,
        None => Purpose::Any,
    };
    let mut policy = Policy::new(purpose, at);
    policy.host = host;
    policy.max_depth = args.max_depth;
    for eku in &args.ekus {
        policy.extra_ekus.push(eku_oid(eku)?);
    }
    Ok(policy)
}

/// `codeSigning` or `1.3.6.1.5.5.7.3.3` to the dotted OID.
fn eku_oid(text: &str) -> anyhow::Result<String> {
    if let Some(usage) = Usage::ALL
        .iter()
        .find(|usage| usage.eku_name().eq_ignore_ascii_case(text))
    {
        return Ok(usage.oid().to_owned());
    }
    let arcs: Vec<&str> = text.split('.').collect();
    let numeric = arcs
        .iter()
        .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    if arcs.len() >= 2 && numeric && matches!(arcs[0], "0" | "1" | "2") {
        return Ok(text.to_owned());
    }
    Err(BadInput(format!(
        "--eku `{text}`: expected a dotted OID such as 1.3.6.1.5.5.7.3.3 or an EKU name (serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning)"
    ))
    .into())
}

/// The anchors and a few words on where they came from.
fn trust_anchors(
    args: &VerifyArgs,
    options: &DecodeOptions,
) -> anyhow::Result<(Vec<Certificate>, String)> {
    let mut anchors = Vec::new();
    let mut sources = Vec::new();
    for path in &args.trusted {
        if path.is_dir() {
            let found = directory_certificates(path, options)?;
            sources.push(format!("{} ({} certificates)", path.display(), found.len()));
            anchors.extend(found);
        } else {
            anchors.extend(certificates_in(&path.to_string_lossy(), options)?);
            sources.push(path.display().to_string());
        }
    }
    if args.system_roots || args.trusted.is_empty() {
        let file = system_roots_file().ok_or_else(|| {
            BadInput(format!(
                "no system trust store found (looked at $SSL_CERT_FILE, {}); give roots with --trusted",
                SYSTEM_ROOTS.join(", ")
            ))
        })?;
        anchors.extend(certificates_in(&file.to_string_lossy(), options)?);
        sources.push(format!("system roots {}", file.display()));
    }
    Ok((anchors, sources.join(", ")))
}

pub(crate) fn system_roots_file() -> Option<PathBuf> {
    std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .into_iter()
        .chain(SYSTEM_ROOTS.iter().map(PathBuf::from))
        .find(|path| path.is_file())
}

/// Every certificate in the files of `dir` (hashed links and bundles alike); files that
/// hold no certificate (a README) are skipped, but a directory with none is an error.
fn directory_certificates(dir: &Path, options: &DecodeOptions) -> anyhow::Result<Vec<Certificate>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| BadInput(format!("--trusted `{}`: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file())
        .collect();
    entries.sort();
    let mut found = Vec::new();
    for path in entries {
        let Ok(bytes) = input::read_input(&path.to_string_lossy()) else {
            continue;
        };
        if let Ok(objects) = mutual_x509::decode(&bytes, options) {
            found.extend(certificates(objects));
        }
    }
    if found.is_empty() {
        return Err(BadInput(format!(
            "--trusted `{}`: the directory holds no certificate files",
            dir.display()
        ))
        .into());
    }
    Ok(found)
}

fn decode(name: &str, options: &DecodeOptions) -> anyhow::Result<Vec<Object>> {
    let bytes = input::read_input(name)?;
    mutual_x509::decode(&bytes, options).map_err(|e| BadInput(format!("`{name}` {e}")).into())
}

fn certificates(objects: Vec<Object>) -> Vec<Certificate> {
    objects
        .into_iter()
        .flat_map(|object| match object {
            Object::Certificate(certificate) => vec![*certificate],
            Object::Pkcs7(bundle) => bundle.certificates,
            Object::Pkcs12(bundle) => bundle
                .certificates
                .into_iter()
                .map(|c| c.certificate)
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

pub(crate) fn certificates_in(
    name: &str,
    options: &DecodeOptions,
) -> anyhow::Result<Vec<Certificate>> {
    let objects = decode(name, options)?;
    let kinds: Vec<&'static str> = objects.iter().map(Object::type_name).collect();
    let found = certificates(objects);
    if found.is_empty() {
        return Err(BadInput(format!(
            "`{name}`: expected certificates; found {}",
            if kinds.is_empty() {
                "nothing".to_owned()
            } else {
                kinds.join(", ")
            }
        ))
        .into());
    }
    Ok(found)
}

fn crls_in(name: &str, options: &DecodeOptions) -> anyhow::Result<Vec<CrlSource>> {
    let objects = decode(name, options)?;
    let kinds: Vec<&'static str> = objects.iter().map(Object::type_name).collect();
    let crls: Vec<CrlSource> = objects
        .into_iter()
        .flat_map(|object| match object {
            Object::Crl(crl) => vec![*crl],
            Object::Pkcs7(bundle) => bundle.crls,
            _ => Vec::new(),
        })
        .map(|crl| CrlSource {
            source: format!("`{name}`"),
            crl,
        })
        .collect();
    if crls.is_empty() {
        return Err(BadInput(format!(
            "--crl `{name}`: expected a CRL; found {}",
            kinds.join(", ")
        ))
        .into());
    }
    Ok(crls)
}

enum LeafInput {
    Certificate {
        leaf: Box<Certificate>,
        chain: Vec<Certificate>,
    },
    /// It is a certificate, but a broken one: a verdict (exit 1), not a usage error.
    Malformed(String),
}

fn leaf_in(name: &str, options: &DecodeOptions) -> anyhow::Result<LeafInput> {
    let bytes = input::read_input(name)?;
    let objects = match mutual_x509::decode(&bytes, options) {
        Ok(objects) => objects,
        Err(error) if is_broken_certificate(&error) => {
            return Ok(LeafInput::Malformed(error.to_string()));
        }
        Err(error) => return Err(BadInput(format!("`{name}` {error}")).into()),
    };
    // In a PKCS#12 the leaf is the certificate its key belongs to.
    let keyed = objects.iter().find_map(|object| match object {
        Object::Pkcs12(bundle) => bundle
            .keys
            .iter()
            .find_map(|key| key.matches_certificate)
            .map(|index| {
                bundle
                    .certificates
                    .get(index)
                    .map(|c| c.certificate.der.clone())
            }),
        _ => None,
    });
    let kinds: Vec<&'static str> = objects.iter().map(Object::type_name).collect();
    let mut all = certificates(objects);
    if all.is_empty() {
        return Err(BadInput(format!(
            "`{name}`: expected a certificate to verify; found {}",
            kinds.join(", ")
        ))
        .into());
    }
    let index = keyed
        .flatten()
        .and_then(|der| all.iter().position(|c| c.der == der))
        .unwrap_or(0);
    let leaf = all.remove(index);
    Ok(LeafInput::Certificate {
        leaf: Box::new(leaf),
        chain: all,
    })
}

/// A certificate's DER that does not decode (as opposed to input that is no certificate).
fn is_broken_certificate(error: &DecodeError) -> bool {
    match error {
        DecodeError::Der { what, .. } | DecodeError::TrailingData { what, .. } => {
            *what == "certificate"
        }
        DecodeError::InPemBlock { source, .. } => is_broken_certificate(source),
        _ => false,
    }
}

fn batch_list(list: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(list).map_err(|e| {
        BadInput(format!(
            "--batch `{}` could not be read: {e}",
            list.display()
        ))
    })?;
    let base = list.parent().unwrap_or(Path::new("."));
    let leaves: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let path = Path::new(line);
            if path.is_absolute() || path.exists() {
                line.to_owned()
            } else {
                base.join(path).to_string_lossy().into_owned()
            }
        })
        .collect();
    if leaves.is_empty() {
        return Err(BadInput(format!(
            "--batch `{}`: expected one certificate path per line; found none",
            list.display()
        ))
        .into());
    }
    Ok(leaves)
}

fn purpose_words(policy: &Policy) -> String {
    let ekus: Vec<String> = policy
        .required_ekus()
        .iter()
        .map(|oid| {
            Usage::ALL
                .iter()
                .find(|usage| usage.oid() == oid)
                .map_or_else(|| oid.clone(), |usage| usage.eku_name().to_owned())
        })
        .collect();
    if ekus.is_empty() {
        "(no EKU required)".to_owned()
    } else {
        format!("(EKU {})", ekus.join(", "))
    }
}

fn text(verdict: &Verdict, anchors: usize, trust_sources: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let purpose = match verdict.purpose {
        Purpose::Server => "a TLS server",
        Purpose::Client => "a TLS client",
        Purpose::Any => "any purpose",
    };
    let ekus = if verdict.required_ekus.is_empty() {
        String::new()
    } else {
        format!(" (EKU {})", verdict.required_ekus.join(", "))
    };
    let host = verdict
        .host
        .as_ref()
        .map(|host| format!(" for {host}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}: checked as {purpose}{ekus}{host} at {}",
        if verdict.valid { "VALID" } else { "INVALID" },
        rfc3339(verdict.checked_at)
    );
    let _ = writeln!(
        out,
        "trust: {anchors} anchor{} from {trust_sources}",
        if anchors == 1 { "" } else { "s" }
    );
    if !verdict.chain.is_empty() {
        let _ = writeln!(out, "chain:");
        for link in &verdict.chain {
            let role = match link.role {
                mutual_verify::Role::Leaf => "leaf",
                mutual_verify::Role::Intermediate => "intermediate",
                mutual_verify::Role::TrustAnchor => "trust anchor",
                mutual_verify::Role::UntrustedRoot => "untrusted root",
            };
            let _ = writeln!(
                out,
                "  {role:<14} {}  (serial {}, not after {})",
                link.subject,
                link.serial,
                link.not_after.date()
            );
        }
    }
    for diagnosis in verdict.errors.iter().chain(&verdict.warnings) {
        let _ = writeln!(
            out,
            "{} [{}] {}",
            diagnosis.severity, diagnosis.code, diagnosis.message
        );
        for evidence in &diagnosis.evidence {
            let _ = writeln!(out, "    {}: {}", evidence.field, evidence.value);
        }
        if let Some(fix) = &diagnosis.fix {
            let _ = writeln!(out, "    fix: {fix}");
        }
    }
    out
}

fn batch_line(result: &Result) -> String {
    if result.verdict.valid {
        format!("valid    {}\n", result.input)
    } else {
        let first = result
            .verdict
            .errors
            .first()
            .map(|e| format!(" [{}] {}", e.code, e.message))
            .unwrap_or_default();
        format!("INVALID  {}{first}\n", result.input)
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
