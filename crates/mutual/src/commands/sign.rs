//! `mutual sign CSR --profile P`: the CSR names the subject and its key; the profile
//! decides everything else.

use mutual_ca::csr::request_from_csr;
use mutual_ca::files::{FileKind, create_new_atomic};
use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::issuance::{issue, plan, preview};
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::{AuditAction, AuditNote};

use crate::cli::SignArgs;
use crate::commands::{ca_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

/// Said whenever a server-client certificate is signed.
pub(crate) const SERVER_CLIENT_WARNING: &str = "a server-client certificate serves both directions with one key, and it chains to the server CA (EKU serverAuth only), so strict verifiers accept it as a server certificate only; prefer separate certificates";

/// The profile and the CSR's DER, checked before anything is asked of a CA (local or a
/// service): the profile exists, `--out` would not overwrite, the CSR reads.
pub(crate) fn checked_request(args: &SignArgs) -> anyhow::Result<(ProfileKind, Vec<u8>)> {
    let profile_kind: ProfileKind = args
        .profile
        .parse()
        .map_err(|e| BadInput(format!("--profile: {e}")))?;
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(BadInput(format!(
            "`{}` exists; mutual sign never overwrites",
            out.display()
        ))
        .into());
    }
    let name = args.csr.display().to_string();
    let bytes = crate::input::read_input(&name)?;
    Ok((profile_kind, csr_der(&name, &bytes)?))
}

pub(crate) fn run(args: &SignArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.ca.home.as_deref());
    let (profile_kind, der) = checked_request(args)?;

    let profiles = home.profiles().map_err(ca_error)?;
    let profile = profiles.get(profile_kind);
    let role = IssuingRole::for_profile(profile_kind);
    let requester = std::env::var("USER")
        .ok()
        .map(|user| format!("local:{user}"));
    let from_csr = match request_from_csr(&der, profile_kind, args.days, requester) {
        Ok(request) => request,
        Err(refusals) => return refused(&refusals),
    };
    if profile_kind == ProfileKind::ServerClient && profile.enabled {
        eprintln!("mutual: warning: {SERVER_CLIENT_WARNING}");
    }
    for note in &from_csr.ignored {
        eprintln!("mutual: note: ignored {note}");
    }
    let now = time::OffsetDateTime::now_utc();

    if args.dry_run {
        if !home.is_initialised() {
            return Err(ca_error(mutual_ca::error::CaError::NotInitialised {
                home: home.path().to_path_buf(),
            }));
        }
        let ca_pem = std::fs::read_to_string(home.issuing_certificate(role)).map_err(|e| {
            BadInput(format!(
                "`{}`: {e}",
                home.issuing_certificate(role).display()
            ))
        })?;
        // Name constraints need the CA; a preview CA carries them without its key.
        let ca = mutual_ca::issuance::IssuingCa::preview(&ca_pem)
            .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
        let plan = match plan(&from_csr.request, profile, &ca, now) {
            Ok(plan) => plan,
            Err(refusals) => return refused(&refusals),
        };
        let certificate = preview(&plan, &from_csr.public_key, &ca_pem, now)
            .map_err(|e| crate::commands::issue_error(&e))?;
        println!(
            "Dry run: this is the certificate the CSR would get; nothing was signed or recorded."
        );
        println!("(Its serial and signature are placeholders: both are made at signing.)\n");
        let colour =
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
        print!(
            "{}",
            mutual_x509::text::render_with(
                &mutual_x509::Object::Certificate(Box::new(certificate)),
                colour
            )
        );
        return Ok(ExitStatus::Success);
    }

    let ca = crate::commands::unlock_issuing_ca(&home, role, args.ca.passphrase_file.as_deref())?;
    let plan = match plan(&from_csr.request, profile, &ca, now) {
        Ok(plan) => plan.audited(AuditNote {
            actor: crate::commands::local_actor(),
            action: AuditAction::Sign,
            detail: format!("profile {profile_kind}"),
        }),
        Err(refusals) => return refused(&refusals),
    };
    let runtime = crate::commands::runtime()?;
    let issued = runtime.block_on(async {
        let store = crate::commands::open_database(&home, args.ca.store.get()).await?;
        let issued = issue(plan, &from_csr.public_key, &ca, &store, now)
            .await
            .map_err(|e| crate::commands::issue_error(&e))?;
        anyhow::Ok(issued)
    })?;
    match &args.out {
        Some(out) => {
            create_new_atomic(out, issued.certificate_pem.as_bytes(), FileKind::Public)
                .map_err(|e| BadInput(format!("`{}` could not be written: {e}", out.display())))?;
            eprintln!(
                "mutual: issued {} serial {} to `{}` (chain: the certificate followed by `{}`)",
                profile_kind,
                issued.record.serial,
                out.display(),
                home.issuing_certificate(role).display()
            );
        }
        None => print!("{}", issued.certificate_pem),
    }
    Ok(ExitStatus::Success)
}

/// The CSR's DER, from PEM (`CERTIFICATE REQUEST` / `NEW CERTIFICATE REQUEST`) or DER.
pub(crate) fn csr_der(name: &str, bytes: &[u8]) -> Result<Vec<u8>, BadInput> {
    if !mutual_x509::pem::looks_like_pem(bytes) {
        return Ok(bytes.to_vec());
    }
    let blocks = mutual_x509::pem::parse(bytes).map_err(|e| BadInput(format!("`{name}` {e}")))?;
    blocks
        .into_iter()
        .find(|b| b.label == "CERTIFICATE REQUEST" || b.label == "NEW CERTIFICATE REQUEST")
        .map(|b| b.der)
        .ok_or_else(|| {
            BadInput(format!(
                "`{name}`: expected a CERTIFICATE REQUEST PEM block; found none"
            ))
        })
}

fn refused(refusals: &[mutual_ca::issuance::Refusal]) -> anyhow::Result<ExitStatus> {
    for refusal in refusals {
        eprintln!("mutual: refused [{}]: {refusal}", refusal.code());
    }
    Ok(ExitStatus::Negative)
}
