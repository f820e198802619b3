//! The command line: every verb, flag and help text in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mutual",
    version,
    about = "Private PKI and mutual-TLS toolkit: decode, issue, verify and serve certificates",
    long_about = None,
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Decode certificates, CSRs, CRLs, PKCS#7/PKCS#12 bundles and keys, or the chain a TLS
    /// server presents, and say what each certificate is for
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual inspect server.pem                       # a certificate, chain or bundle in PEM
  mutual inspect --format json client.p12 --password-file p12.pass
  mutual inspect example.com:443 --sni www.example.com
  openssl s_client -showcerts -connect host:443 </dev/null | mutual inspect -
  mutual inspect bundle.p7b --format pem > chain.pem")]
pub(crate) struct InspectArgs {
    /// Files (PEM or DER, detected), `-` for standard input, or HOST:PORT of a TLS server
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<String>,

    /// Output: human text, JSON (docs/inspect-json.md), or the objects re-encoded as PEM or DER
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,

    /// Read the PKCS#12 password from this file (its first line)
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub(crate) password_file: Option<PathBuf>,

    /// Read the PKCS#12 password from this environment variable
    #[arg(long, value_name = "VAR")]
    pub(crate) password_env: Option<String>,

    /// Server name to send (SNI) when INPUT is HOST:PORT; defaults to HOST when it is a name
    #[arg(long, value_name = "NAME")]
    pub(crate) sni: Option<String>,

    /// Seconds to wait for a TLS server to connect and answer
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub(crate) timeout: u64,

    /// Judge validity ("expires in 41 days") at this RFC 3339 time instead of now
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Pem,
    Der,
}
