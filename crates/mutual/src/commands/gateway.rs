//! `mutual gateway`: the mTLS reverse proxy, until SIGTERM or Ctrl-C; `mutual gateway
//! check`: does a configuration load, and if not, every reason why.

use mutual_gateway::config::{
    AdminConfig, AllowRule, FailMode, Limits, ListenerConfig, Mode, NoEku, OcspMode,
    RevocationConfig, RouteConfig,
};
use mutual_gateway::{Config, ConfigError, GatewayError, Running};

use crate::cli::{
    GatewayAction, GatewayArgs, GatewayCheckArgs, GatewayMode, GatewayOcsp, ReportFormat,
};
use crate::exit::{BadInput, ExitStatus};

pub(crate) fn run(args: &GatewayArgs) -> anyhow::Result<ExitStatus> {
    if let Some(GatewayAction::Check(check)) = &args.action {
        return self::check(check);
    }
    // Diagnostics go to standard error; standard output carries the JSON access log.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let (config, path) = match &args.config {
        Some(path) => (
            Config::load(path).map_err(config_error)?,
            Some(path.clone()),
        ),
        None => (from_flags(args)?, None),
    };
    // This thread only loads, reloads, serves the admin port and waits for a signal; the
    // gateway starts its own worker threads for connections.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(mutual_gateway::run(
        config,
        path,
        banner,
        super::serve::shutdown_signal(),
    )) {
        Ok(()) => {
            eprintln!("mutual: gateway stopped");
            Ok(ExitStatus::Success)
        }
        Err(e @ GatewayError::Invalid(_)) => Err(BadInput(e.to_string()).into()),
        Err(e @ GatewayError::Bind { .. }) => Err(BadInput(e.to_string()).into()),
        Err(e @ GatewayError::Runtime(_)) => Err(anyhow::anyhow!(e.to_string())),
    }
}

fn config_error(error: ConfigError) -> anyhow::Error {
    BadInput(error.to_string()).into()
}

fn banner(running: &Running) {
    for addr in &running.listeners {
        eprintln!("Gateway listening on https://{addr}");
    }
    if let Some(admin) = running.admin {
        eprintln!("Admin: http://{admin}/metrics, /debug/refusals, /debug/crls, /health");
    }
}

/// The one-listener, one-route configuration the flags describe.
fn from_flags(args: &GatewayArgs) -> anyhow::Result<Config> {
    let missing: Vec<&str> = [
        ("--cert", args.cert.is_none()),
        ("--key", args.key.is_none()),
        ("--client-ca", args.client_ca.is_empty()),
        ("--upstream", args.upstream.is_none()),
    ]
    .into_iter()
    .filter_map(|(flag, absent)| absent.then_some(flag))
    .collect();
    let (Some(cert), Some(key), Some(upstream)) = (&args.cert, &args.key, &args.upstream) else {
        return Err(BadInput(format!(
            "mutual gateway needs --config FILE, or {} (missing: {})",
            "--cert, --key, --client-ca and --upstream",
            missing.join(", ")
        ))
        .into());
    };
    if args.client_ca.is_empty() {
        return Err(BadInput(
            "mutual gateway needs --client-ca FILE: the CA whose client certificates are accepted"
                .to_owned(),
        )
        .into());
    }
    Ok(Config {
        listeners: vec![ListenerConfig {
            listen: args.listen,
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.client_ca.clone(),
            mode: match args.mode {
                GatewayMode::Require => Mode::Require,
                GatewayMode::Optional => Mode::Optional,
            },
            max_depth: args.max_depth,
            certificates_without_eku: if args.refuse_no_eku {
                NoEku::Refuse
            } else {
                NoEku::Accept
            },
        }],
        routes: vec![RouteConfig {
            name: Some("default".to_owned()),
            host: None,
            path: "/".to_owned(),
            upstream: upstream.clone(),
            allow_any: true,
            public: false,
            forward_pem: args.forward_pem,
            allow: Vec::<AllowRule>::new(),
        }],
        revocation: RevocationConfig {
            crl: args.crl.clone(),
            crl_fail: if args.crl_soft_fail {
                FailMode::Soft
            } else {
                FailMode::Hard
            },
            ocsp: match args.ocsp {
                GatewayOcsp::Off => OcspMode::Off,
                GatewayOcsp::Hard => OcspMode::Hard,
                GatewayOcsp::Soft => OcspMode::Soft,
            },
            ..RevocationConfig::default()
        },
        admin: AdminConfig {
            listen: args.admin_listen,
            ..AdminConfig::default()
        },
        limits: Limits::default(),
    })
}

fn check(args: &GatewayCheckArgs) -> anyhow::Result<ExitStatus> {
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(e @ ConfigError::Read { .. }) => return Err(BadInput(e.to_string()).into()),
        Err(e @ ConfigError::Syntax { .. }) => {
            report(args.format, &[e.to_string()], None)?;
            return Ok(ExitStatus::Negative);
        }
    };
    let runtime = super::runtime()?;
    match runtime.block_on(mutual_gateway::check(&config)) {
        Ok(summary) => {
            report(args.format, &[], Some(&summary))?;
            Ok(ExitStatus::Success)
        }
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            report(args.format, &lines, None)?;
            Ok(ExitStatus::Negative)
        }
    }
}

fn report(
    format: ReportFormat,
    problems: &[String],
    summary: Option<&mutual_gateway::Summary>,
) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => {
            let value = serde_json::json!({
                "valid": problems.is_empty(),
                "problems": problems,
                "summary": summary,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        ReportFormat::Text => {
            if let Some(summary) = summary {
                println!(
                    "valid: {} listener(s) ({}), {} route(s), {} CRL(s)",
                    summary.listeners.len(),
                    summary
                        .listeners
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    summary.routes,
                    summary.crls.len()
                );
                for crl in &summary.crls {
                    println!(
                        "  CRL {} from {}: number {}, {} revoked",
                        crl.issuer,
                        crl.source,
                        crl.number.as_deref().unwrap_or("none"),
                        crl.revoked
                    );
                }
            } else {
                println!("invalid: {} problem(s)", problems.len());
                for problem in problems {
                    println!("  - {problem}");
                }
            }
        }
    }
    Ok(())
}
