//! `mutual pkcs12 export|import`, and the bundle `mutual issue client --p12` writes.

use std::path::{Path, PathBuf};

use mutual_ca::files::{FileKind, NewFileSet, create_new_atomic};
use mutual_ca::passphrase::{Passphrase, PassphraseError};
use mutual_ca::pkcs12::{self, Pkcs12Error, Pkcs12Flavour, Pkcs12Input};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::cli::{Pkcs12Command, Pkcs12ExportArgs, Pkcs12ImportArgs, ReportFormat};
use crate::commands::issue::file_stem;
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};
use crate::input::read_input;

/// The environment variable every PKCS#12 password is read from when no file is given.
pub(crate) const PASSWORD_ENV: &str = "MUTUAL_P12_PASSWORD";

pub(crate) fn run(command: &Pkcs12Command) -> anyhow::Result<ExitStatus> {
    match command {
        Pkcs12Command::Export(args) => export(args),
        Pkcs12Command::Import(args) => import(args),
    }
}

/// A bundle to write beside a newly issued certificate (`mutual issue client --p12`).
pub(crate) struct BundleRequest {
    pub(crate) path: PathBuf,
    friendly_name: String,
    password: Passphrase,
    flavour: Pkcs12Flavour,
}

impl BundleRequest {
    /// Checks the target and the friendly name and gets the password — before anything is
    /// issued, so a certificate is never recorded whose bundle cannot be written.
    pub(crate) fn prepare(
        path: &Path,
        friendly_name: &str,
        password_file: Option<&Path>,
        legacy: bool,
    ) -> anyhow::Result<Self> {
        refuse_existing("--p12", path)?;
        pkcs12::check_friendly_name(friendly_name)
            .map_err(|e| BadInput(format!("NAME as a PKCS#12 friendly name: {e}")))?;
        let password = password(password_file, "--p12-password-file", true)?;
        Ok(Self {
            path: path.to_owned(),
            friendly_name: friendly_name.to_owned(),
            password,
            flavour: flavour(legacy),
        })
    }

    /// Bundles the key, its certificate and the CA chain into the file's bytes, to be
    /// written (0600) with the PEM files, all or none.
    pub(crate) fn build(
        &self,
        key_pem: &str,
        certificate_pem: &str,
        chain_pems: &[String],
    ) -> anyhow::Result<Vec<u8>> {
        pkcs12::export(
            key_pem,
            certificate_pem,
            chain_pems,
            &self.friendly_name,
            &self.password,
            self.flavour,
        )
        .map_err(|error| failure(format!("--p12 `{}`", self.path.display()), &error))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// One line for the `issue` report.
    pub(crate) fn describe(&self) -> String {
        format!(
            "0600; key, certificate and CA chain, friendly name `{}`, {}",
            self.friendly_name, self.flavour
        )
    }
}

#[derive(Debug, Serialize)]
struct Exported<'a> {
    file: &'a Path,
    friendly_name: &'a str,
    flavour: &'static str,
    protection: &'static str,
}

fn export(args: &Pkcs12ExportArgs) -> anyhow::Result<ExitStatus> {
    refuse_existing("--out", &args.out)?;
    let key_pem = Zeroizing::new(read_text("--key", &args.key)?);
    let certificate_pem = read_text("--cert", &args.cert)?;
    let chain_pems = args
        .chain
        .iter()
        .map(|path| read_text("--chain", path))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let friendly_name = match &args.name {
        Some(name) => name.clone(),
        None => default_friendly_name(&certificate_pem, &args.cert),
    };
    pkcs12::check_friendly_name(&friendly_name).map_err(|e| BadInput(format!("--name: {e}")))?;
    let password = password(args.password_file.as_deref(), "--password-file", true)?;
    let flavour = flavour(args.legacy);

    let der = pkcs12::export(
        &key_pem,
        &certificate_pem,
        &chain_pems,
        &friendly_name,
        &password,
        flavour,
    )
    .map_err(|error| export_failure(&error, args))?;
    write_new(&args.out, &der, FileKind::Secret)?;

    let report = Exported {
        file: &args.out,
        friendly_name: &friendly_name,
        flavour: flavour.as_str(),
        protection: flavour.describe(),
    };
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => {
            println!(
                "Wrote `{}` (0600), friendly name `{}`",
                args.out.display(),
                friendly_name
            );
            println!("  {flavour}: {}", flavour.describe());
        }
    }
    Ok(ExitStatus::Success)
}

/// The certificate's CN, else the `--cert` file name without its extensions.
fn default_friendly_name(certificate_pem: &str, certificate_path: &str) -> String {
    let common_name = mutual_x509::pem::parse(certificate_pem.as_bytes())
        .ok()
        .and_then(|blocks| blocks.into_iter().find(|b| b.label == "CERTIFICATE"))
        .and_then(|block| {
            mutual_x509::Certificate::from_der(&block.der, time::OffsetDateTime::now_utc()).ok()
        })
        .and_then(|certificate| certificate.subject.values("CN").next().map(str::to_owned));
    common_name.unwrap_or_else(|| {
        let file_name = Path::new(certificate_path)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = file_name.split('.').next().unwrap_or_default();
        if stem.is_empty() {
            "certificate".to_owned()
        } else {
            stem.to_owned()
        }
    })
}

/// An export error, naming the input it is about.
fn export_failure(error: &Pkcs12Error, args: &Pkcs12ExportArgs) -> anyhow::Error {
    let flag = |input: &Pkcs12Input| match input {
        Pkcs12Input::Chain { index } => args
            .chain
            .get(*index)
            .map_or_else(|| "--chain".to_owned(), |path| format!("--chain `{path}`")),
        _ => format!("--cert `{}`", args.cert),
    };
    // The library names these inputs by position; here they have file names.
    match error {
        Pkcs12Error::NoCertificate { input, found } => {
            let found = if found.is_empty() {
                "no PEM blocks".to_owned()
            } else {
                let labels: Vec<String> = found.iter().map(|label| format!("`{label}`")).collect();
                labels.join(", ")
            };
            return BadInput(format!(
                "{}: expected a `CERTIFICATE` PEM block; found {found}",
                flag(input)
            ))
            .into();
        }
        Pkcs12Error::Certificate { input, detail } => {
            return BadInput(format!("{}: {detail}", flag(input))).into();
        }
        _ => {}
    }
    let input = match error {
        Pkcs12Error::Key { .. } => format!("--key `{}`", args.key),
        Pkcs12Error::KeyMismatch { .. } => {
            format!("--key `{}` and --cert `{}`", args.key, args.cert)
        }
        Pkcs12Error::FriendlyName { .. } => "--name".to_owned(),
        _ => format!("--out `{}`", args.out.display()),
    };
    failure(input, error)
}

#[derive(Debug, Serialize)]
struct Imported<'a> {
    input: &'a str,
    friendly_name: Option<&'a str>,
    key: PathBuf,
    certificate: PathBuf,
    chain: PathBuf,
    ca_certificates: usize,
}

fn import(args: &Pkcs12ImportArgs) -> anyhow::Result<ExitStatus> {
    if !args.out_dir.is_dir() {
        return Err(BadInput(format!(
            "--out-dir `{}` is not a directory",
            args.out_dir.display()
        ))
        .into());
    }
    let bytes = Zeroizing::new(read_input(&args.input)?);
    let password = password(args.password_file.as_deref(), "--password-file", false)?;
    let bundle = pkcs12::import(&bytes, &password)
        .map_err(|error| failure(format!("`{}`", args.input), &error))?;

    let name = bundle.friendly_name.clone().unwrap_or_else(|| {
        Path::new(&args.input)
            .file_stem()
            .filter(|_| args.input != "-")
            .map_or_else(
                || "certificate".to_owned(),
                |stem| stem.to_string_lossy().into_owned(),
            )
    });
    let stem = file_stem(&name);
    let key_path = args.out_dir.join(format!("{stem}.key.pem"));
    let certificate_path = args.out_dir.join(format!("{stem}.pem"));
    let chain_path = args.out_dir.join(format!("{stem}.chain.pem"));
    for path in [&key_path, &certificate_path, &chain_path] {
        refuse_existing("--out-dir", path)?;
    }
    let mut chain = bundle.certificate_pem.clone();
    for pem in &bundle.chain_pems {
        chain.push_str(pem);
    }
    // All or none, like `issue`: a key without its certificate is a puzzle for later.
    let mut files = NewFileSet::new();
    for (path, bytes, kind) in [
        (&key_path, bundle.key_pem.as_bytes(), FileKind::Secret),
        (
            &certificate_path,
            bundle.certificate_pem.as_bytes(),
            FileKind::Public,
        ),
        (&chain_path, chain.as_bytes(), FileKind::Public),
    ] {
        files
            .create(path, bytes, kind)
            .map_err(|e| BadInput(format!("`{}` could not be written: {e}", path.display())))?;
    }
    files.keep();

    let report = Imported {
        input: &args.input,
        friendly_name: bundle.friendly_name.as_deref(),
        key: key_path,
        certificate: certificate_path,
        chain: chain_path,
        ca_certificates: bundle.chain_pems.len(),
    };
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => {
            match report.friendly_name {
                Some(name) => println!("Unpacked `{}` (friendly name `{name}`)", args.input),
                None => println!("Unpacked `{}` (no friendly name)", args.input),
            }
            println!(
                "  key          {}  (0600; keep it on the machine that uses it)",
                report.key.display()
            );
            println!("  certificate  {}", report.certificate.display());
            println!(
                "  chain        {}  (certificate + {} CA certificate{})",
                report.chain.display(),
                report.ca_certificates,
                if report.ca_certificates == 1 { "" } else { "s" }
            );
        }
    }
    Ok(ExitStatus::Success)
}

fn flavour(legacy: bool) -> Pkcs12Flavour {
    if legacy {
        Pkcs12Flavour::Legacy
    } else {
        Pkcs12Flavour::Modern
    }
}

/// The PKCS#12 password: from `file`, else [`PASSWORD_ENV`], else a prompt. A `new` one (for
/// export) needs at least 8 characters and is typed twice at the prompt.
fn password(file: Option<&Path>, flag: &str, new: bool) -> anyhow::Result<Passphrase> {
    mutual_ca::passphrase::resolve(file, PASSWORD_ENV, "PKCS#12 password: ", new).map_err(
        |error| {
            let text = match &error {
                PassphraseError::NoTerminal { .. } => format!(
                    "no PKCS#12 password: standard input is not a terminal to ask on; pass `{flag} FILE` or set `{PASSWORD_ENV}`"
                ),
                PassphraseError::TooShort {
                    origin,
                    length,
                    minimum,
                } => format!(
                    "the PKCS#12 password from {origin} has {length} characters; a new bundle needs at least {minimum}"
                ),
                other => format!("PKCS#12 password: {}", with_causes(other)),
            };
            BadInput(text).into()
        },
    )
}

/// A file given as PEM text.
fn read_text(flag: &str, path: &str) -> anyhow::Result<String> {
    let bytes = read_input(path).map_err(|e| BadInput(format!("{flag}: {e}")))?;
    String::from_utf8(bytes).map_err(|_| {
        BadInput(format!(
            "{flag} `{path}`: expected PEM text; found binary data (DER? convert it with `openssl x509 -inform der` or `openssl pkey -inform der`)"
        ))
        .into()
    })
}

/// Refuses a target that exists (a dangling symlink counts) or whose directory does not.
fn refuse_existing(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path.symlink_metadata().is_ok() {
        return Err(BadInput(format!(
            "{flag}: `{}` exists; mutual never overwrites it: remove it or choose another name",
            path.display()
        ))
        .into());
    }
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(BadInput(format!(
            "{flag}: `{}` cannot be written: directory `{}` does not exist",
            path.display(),
            parent.display()
        ))
        .into());
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8], kind: FileKind) -> anyhow::Result<()> {
    create_new_atomic(path, bytes, kind)
        .map_err(|e| BadInput(format!("`{}` could not be written: {e}", path.display())).into())
}

/// A library error as the binary reports it: `INPUT: message: causes`, exit 2 when the
/// input is at fault, 3 otherwise.
fn failure(input: String, error: &Pkcs12Error) -> anyhow::Error {
    let text = format!("{input}: {}", with_causes(error));
    if error.is_user_error() {
        BadInput(text).into()
    } else {
        anyhow::anyhow!(text)
    }
}
