//! `mutual serve`: the CA as a service, until SIGTERM or Ctrl-C.

use mutual_ca::home::Home;
use mutual_server::{Bootstrap, Running, ServeError, ServeOptions, serve};

use crate::cli::ServeArgs;
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<ExitStatus> {
    // Logs go to standard error; RUST_LOG refines them (e.g. RUST_LOG=mutual_server=debug).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let home = Home::resolve(args.ca.home.as_deref());
    let mut options = ServeOptions::new(home, args.listen);
    options.http_listen = (!args.no_http).then_some(args.http_listen);
    options.public_url = args.public_url.clone();
    options.names = args.names.clone();
    options.max_body = args.max_body;
    options.passphrase = passphrase(args)?;
    options.database = args.ca.store.database.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve(options, banner, shutdown_signal()));
    match result {
        Ok(()) => {
            eprintln!("mutual: stopped");
            Ok(ExitStatus::Success)
        }
        Err(e) => Err(serve_error(&e)),
    }
}

/// The passphrase from --passphrase-file or $MUTUAL_PASSPHRASE; never a prompt (a
/// service starts unattended), and none at all is fine for a home whose issuing keys are
/// unencrypted.
fn passphrase(args: &ServeArgs) -> anyhow::Result<Option<mutual_ca::passphrase::Passphrase>> {
    use mutual_ca::passphrase::Passphrase;
    if let Some(path) = &args.ca.passphrase_file {
        return Ok(Some(
            Passphrase::from_file(path).map_err(|e| BadInput(with_causes(&e)))?,
        ));
    }
    if std::env::var_os("MUTUAL_PASSPHRASE").is_some() {
        return Ok(Some(
            Passphrase::from_env("MUTUAL_PASSPHRASE").map_err(|e| BadInput(with_causes(&e)))?,
        ));
    }
    Ok(None)
}

fn serve_error(error: &ServeError) -> anyhow::Error {
    let text = with_causes(error);
    if error.is_user_error() {
        BadInput(text).into()
    } else {
        anyhow::anyhow!(text)
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    eprintln!("mutual: shutting down: finishing requests in flight");
}

/// What the user needs to know, on standard output, once both listeners are bound.
fn banner(running: &Running, boot: &Bootstrap) {
    let home = running.home.display();
    if boot.created_ca {
        println!("Created a CA in `{home}`.");
        if let Some(path) = &boot.root_passphrase_file {
            println!(
                "  The root key's passphrase is in `{}` (0600): move it somewhere safe and offline.",
                path.display()
            );
        }
    }
    if boot.tls_issued {
        println!(
            "Issued the service's server certificate `{}`.",
            boot.tls_certificate.display()
        );
    }
    if let Some((p12, password)) = &boot.admin_p12 {
        println!(
            "The first administrator's client certificate is `{}` (password in `{}`), also as admin.pem + admin.key.pem.",
            p12.display(),
            password.display()
        );
    }
    println!("Serving:");
    println!(
        "  API      https://{}/api/v1  (OpenAPI: /api/v1/openapi.json; admin calls need the admin certificate)",
        running.https
    );
    if let Some(http) = running.http {
        println!("  OCSP     http://{http}/ocsp");
        println!("  CRLs     http://{http}/crl/client-ca.crl, server-ca.crl, root.crl");
        println!("  CA       http://{http}/ca/root.crt, server-ca.crt, client-ca.crt");
    }
    if let Some(url) = &boot.public_url {
        println!("  Issued certificates point relying parties at {url}");
    }
    println!("Next:");
    println!(
        "  curl --cacert {} --cert {home}/admin.pem --key {home}/admin.key.pem https://{}/api/v1/certificates",
        boot.root_certificate.display(),
        running.https
    );
    // The banner is read by people and scripts waiting for the service: get it out now.
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
