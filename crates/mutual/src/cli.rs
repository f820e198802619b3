//! The command line: every verb, flag and help text in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mutual",
    version,
    about = "Private PKI and mutual-TLS toolkit: decode, issue, verify and serve certificates",
    long_about = None,
    propagate_version = true,
    after_help = "\
Client mode: with --server (or $MUTUAL_SERVER), `issue`, `sign`, `revoke`, `list` and `show`
ask a `mutual serve` over HTTPS instead of a local CA, and print and write the same as they do
locally. --cert, --key, --p12 and --password-file go before the verb (after it they are the
verb's own); --server and --ca-cert go anywhere. Administrative calls need an `admin`
certificate: the admin.pem + admin.key.pem (or admin.p12) that `mutual serve` wrote. Nothing
is picked up implicitly but $MUTUAL_CLIENT_CERT and $MUTUAL_CLIENT_KEY.

Examples:
  mutual --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --cert admin.pem --key admin.key.pem issue client alice --p12 alice.p12
  export MUTUAL_SERVER=https://ca.example.internal:8443 MUTUAL_CA_CERT=root.pem
  export MUTUAL_CLIENT_CERT=admin.pem MUTUAL_CLIENT_KEY=admin.key.pem
  mutual list --profile client --format json
  mutual revoke 74BDDD5E9058A2E7996FF6A1EEF158CD --reason keyCompromise
  mutual renew --cert alice.pem --key alice.key.pem
  mutual enroll --token-file device-123.token --subject device-123 --out-dir /etc/device"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) client: ClientArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The client mode: which `mutual serve` to ask, how to trust it and who we are.
#[derive(Debug, Args)]
#[command(next_help_heading = "Client mode (a `mutual serve` instead of a local CA)")]
pub(crate) struct ClientArgs {
    /// Send issue, sign, revoke, list and show to this `mutual serve` (https://HOST:PORT)
    /// instead of a local CA; renew and enroll always use it [env: MUTUAL_SERVER]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) server: Option<String>,

    /// Trust the server when its certificate chains to this CA certificate (PEM; the CA's
    /// root, HOME/ca/root.pem) [env: MUTUAL_CA_CERT; default: the system's roots]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,

    /// Authenticate with this client certificate (PEM; a chain may follow it)
    /// [env: MUTUAL_CLIENT_CERT]
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "p12")]
    pub(crate) cert: Option<PathBuf>,

    /// The client certificate's private key (unencrypted PEM) [env: MUTUAL_CLIENT_KEY]
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub(crate) key: Option<PathBuf>,

    /// Authenticate with the key and certificate in this PKCS#12 bundle (e.g. admin.p12)
    #[arg(long, value_name = "FILE")]
    pub(crate) p12: Option<PathBuf>,

    /// Read the --p12 password from this file (its first line); else $MUTUAL_P12_PASSWORD,
    /// else a prompt
    #[arg(long, value_name = "FILE", requires = "p12")]
    pub(crate) password_file: Option<PathBuf>,
}

/// Where the CA lives, and how to unlock its keys: shared by every command that uses it.
#[derive(Debug, Args)]
pub(crate) struct CaArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    /// Read the CA key passphrase from this file (its first line); else $MUTUAL_PASSPHRASE,
    /// else a prompt
    #[arg(long, value_name = "FILE")]
    pub(crate) passphrase_file: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,
}

/// `--database`, for every command that reads or writes the certificate store.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DatabaseArg {
    /// The certificate store: postgres://USER@HOST:PORT/DB (several nodes share one), or a
    /// SQLite file [default: `database` in the home's mutual.toml, else HOME/mutual.sqlite]
    #[arg(
        long,
        value_name = "URL",
        env = "MUTUAL_DATABASE",
        hide_env_values = true
    )]
    pub(crate) database: Option<mutual_ca::store::Database>,
}

impl DatabaseArg {
    pub(crate) fn get(&self) -> Option<&mutual_ca::store::Database> {
        self.database.as_ref()
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Decode certificates, CSRs, CRLs, PKCS#7/PKCS#12 bundles and keys, or the chain a TLS
    /// server presents, and say what each certificate is for
    Inspect(InspectArgs),
    /// Validate a certificate for a purpose (server, client) and host, and explain every
    /// failure with its evidence and fix
    Verify(VerifyArgs),
    /// Lint certificates and CSRs against RFC 5280, the CA/B Forum BR, Mozilla's policy and
    /// the server/client/OCSP profiles; files, directories or `-`
    Lint(LintArgs),
    /// Create a private CA: a root, a server CA (serverAuth only) and a client CA
    /// (clientAuth only)
    Init(InitArgs),
    /// Issue a server or client certificate with a fresh key pair
    #[command(subcommand)]
    Issue(IssueCommand),
    /// List the certificates the CA has issued
    List(ListArgs),
    /// Show one issued certificate by serial or SHA-256 fingerprint
    Show(ShowArgs),
    /// Revoke an issued certificate (recorded at once; `mutual crl` publishes it)
    Revoke(RevokeArgs),
    /// Sign the CRLs of the root, the server CA and the client CA
    Crl(CrlArgs),
    /// Make one-time enrollment tokens: a device trades one and a CSR for its first
    /// certificate (`POST /api/v1/enroll` on `mutual serve`)
    #[command(subcommand)]
    Token(TokenCommand),
    /// The certificate store's schema: which migrations are applied, and applying the rest
    /// (SQLite or PostgreSQL)
    #[command(subcommand)]
    Db(DbCommand),
    /// Write the CA (its ca/ directory and mutual.toml, keys as stored) and every row of
    /// the store to one file, from SQLite or PostgreSQL
    Backup(BackupArgs),
    /// Make a new home and an empty store (SQLite or PostgreSQL) from a `mutual backup`
    /// file: how a CA moves from SQLite to PostgreSQL
    Restore(RestoreArgs),
    /// Measure this machine: how many certificates per second the CA issues, and where
    /// the time goes
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Sign a CSR under a profile: the profile decides the key usage, EKU and validity
    Sign(SignArgs),
    /// Bundle a key, its certificate and CA chain as PKCS#12 (.p12) for browsers, OS
    /// keychains and Java, or unpack a bundle into PEM files
    #[command(subcommand)]
    Pkcs12(Pkcs12Command),
    /// Run the CA as a service: REST API over HTTPS with client-certificate auth, OCSP,
    /// CRLs and CA certificates (also over plain HTTP); sets up a fresh home first
    Serve(ServeArgs),
    /// Renew a certificate over mTLS with the certificate itself (`mutual serve`), and
    /// replace its file in place; with --new-key, its key too
    Renew(RenewArgs),
    /// Get a certificate from a `mutual serve` with a one-time enrollment token: the key is
    /// made here and never leaves this machine
    Enroll(EnrollArgs),
    /// The audit trail: who issued, revoked, enrolled and renewed what, and when
    Audit(AuditArgs),
    /// An mTLS reverse proxy: admits only the right client certificates, forwards the
    /// verified identity upstream, and says why it refuses the others
    Gateway(GatewayArgs),
    /// Print the nginx, Apache or Envoy configuration that does what `mutual gateway`
    /// does: require and verify client certificates, forward the identity upstream
    Config(ConfigArgs),
    /// Troubleshoot a TLS or mutual-TLS endpoint: the chain it sends and what `verify`
    /// makes of it, what it asks of clients, and why it refuses a client certificate
    Probe(ProbeArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
The service (--server or $MUTUAL_SERVER) authenticates the call with the certificate being
renewed, which must still be current and unrevoked, and issues the same identity again. The
new certificate replaces --cert atomically (a file that held a chain gets the new chain); with
--new-key a fresh key is made here, sent as a CSR, and replaces --key (0600) as well. A failure
leaves both files as they were.

Examples:
  mutual renew --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --cert alice.pem --key alice.key.pem
  mutual renew --cert /etc/device/device-123.pem --key /etc/device/device-123.key.pem --new-key")]
pub(crate) struct RenewArgs {
    /// The certificate to renew (PEM), replaced by the new one
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: PathBuf,

    /// Its private key (unencrypted PEM): proves possession, and is replaced with --new-key
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,

    /// Make a new key pair (of the same type) and replace --key with it
    #[arg(long)]
    pub(crate) new_key: bool,

    /// Output: text, or JSON describing what was written
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The token (from `mutual token create` on the CA) works once, for the subject and profile it
names, until it expires. The key is generated here; only a CSR is sent. Files are written as
`mutual issue` writes them: NAME.key.pem (0600), NAME.pem and NAME.chain.pem, all or none.

Examples:
  mutual enroll --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --token-file device-123.token --subject device-123 --out-dir /etc/device
  MUTUAL_TOKEN=... mutual enroll --subject device-123 --key-type ec-p384")]
pub(crate) struct EnrollArgs {
    /// The enrollment token [env: MUTUAL_TOKEN]; prefer --token-file, since other users
    /// can read a command line
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub(crate) token: Option<String>,

    /// Read the enrollment token from this file (its first line)
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,

    /// The subject the token was made for (the certificate's CN); names the files
    #[arg(long, value_name = "NAME")]
    pub(crate) subject: String,

    /// Key type of the new key pair
    #[arg(long, default_value = "ec-p256", value_name = "TYPE")]
    pub(crate) key_type: String,

    /// Directory to write NAME.key.pem, NAME.pem and NAME.chain.pem into
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub(crate) out_dir: PathBuf,

    /// Output: text, or JSON describing what was written
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual audit
  mutual audit --action revoke --since 2026-11-01T00:00:00Z --format json")]
pub(crate) struct AuditArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,

    /// Only this action: issue, sign, revoke, enroll, renew, token
    #[arg(long, value_name = "ACTION")]
    pub(crate) action: Option<String>,

    /// Only entries at or after this RFC 3339 time
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,

    /// At most this many, newest first
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub(crate) limit: u32,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
On a fresh home, `serve` first creates the CA (as `mutual init`, the issuing keys unencrypted
so it starts unattended; the root key encrypted with --passphrase-file, $MUTUAL_PASSPHRASE,
or a passphrase it makes up and writes to HOME/root-passphrase.txt), its own server
certificate, and the first administrator's client certificate HOME/admin.p12.

Examples:
  mutual serve
  mutual serve --home /var/lib/mutual --listen 0.0.0.0:8443 --http-listen 0.0.0.0:8080 \\
      --public-url http://ca.example.internal:8080 --name ca.example.internal
  curl --cacert mutual-data/ca/root.pem --cert mutual-data/admin.pem \\
      --key mutual-data/admin.key.pem https://localhost:8443/api/v1/certificates")]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) ca: CaArgs,

    /// HTTPS address: the API and everything public
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub(crate) listen: std::net::SocketAddr,

    /// Plain HTTP address for OCSP, CRLs and CA certificates, which relying parties fetch
    /// without TLS
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) http_listen: std::net::SocketAddr,

    /// No plain HTTP listener
    #[arg(long, conflicts_with = "http_listen")]
    pub(crate) no_http: bool,

    /// The base URL issued certificates name for OCSP, CRLs and CA certificates (written to
    /// mutual.toml when the CA is created) [default: http:// + --http-listen]
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,

    /// A DNS name or IP address the service's own certificate must carry, beside
    /// localhost, 127.0.0.1, ::1 and the listen address (repeatable)
    #[arg(long = "name", value_name = "NAME")]
    pub(crate) names: Vec<String>,

    /// The largest request body accepted, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 65536)]
    pub(crate) max_body: usize,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual init --name \"Acme Internal\" --passphrase-file ca.pass
  mutual init --key-type rsa-3072 --permitted-dns example.internal --unencrypted-intermediate")]
pub(crate) struct InitArgs {
    #[command(flatten)]
    pub(crate) ca: CaArgs,

    /// Organisation name, used in the CA names ("NAME Root CA", "NAME Server CA"...)
    #[arg(long, default_value = "Mutual")]
    pub(crate) name: String,

    /// Key type of the CA keys: ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072, rsa-4096
    #[arg(long, default_value = "ec-p256", value_name = "TYPE")]
    pub(crate) key_type: String,

    /// Validity of the root CA in days
    #[arg(long, default_value_t = 3650, value_name = "N")]
    pub(crate) root_days: u32,

    /// Validity of the server and client CAs in days
    #[arg(long, default_value_t = 1825, value_name = "N")]
    pub(crate) intermediate_days: u32,

    /// Only names under this DNS domain may be issued (name constraints); repeatable
    #[arg(long, value_name = "DOMAIN")]
    pub(crate) permitted_dns: Vec<String>,

    /// Store the server and client CA keys unencrypted (0600), for a service that must
    /// start unattended; the root key stays encrypted
    #[arg(long)]
    pub(crate) unencrypted_intermediate: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum IssueCommand {
    /// A server certificate (EKU serverAuth) for one or more host names
    Server(IssueServerArgs),
    /// A client certificate (EKU clientAuth) for a user, device or service
    Client(IssueClientArgs),
}

/// What every issue command shares.
#[derive(Debug, Args)]
pub(crate) struct IssueCommon {
    #[command(flatten)]
    pub(crate) ca: CaArgs,

    /// Validity in days [default: the profile's]
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<u32>,

    /// Key type of the new key pair
    #[arg(long, default_value = "ec-p256", value_name = "TYPE")]
    pub(crate) key_type: String,

    /// Directory to write NAME.key.pem, NAME.pem and NAME.chain.pem into
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub(crate) out_dir: PathBuf,

    /// Output: text, or JSON describing what was written
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual issue server api.example.internal www.example.internal --ip 10.0.0.7
  mutual issue server localhost --ip 127.0.0.1 --days 30 --out-dir /etc/ssl/api
  mutual --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --cert admin.pem --key admin.key.pem issue server api.example.internal")]
pub(crate) struct IssueServerArgs {
    /// Host names (DNS SANs); the first names the files
    #[arg(required_unless_present = "ip", value_name = "HOST")]
    pub(crate) hosts: Vec<String>,

    /// IP addresses (IP SANs); repeatable
    #[arg(long, value_name = "ADDR")]
    pub(crate) ip: Vec<std::net::IpAddr>,

    #[command(flatten)]
    pub(crate) common: IssueCommon,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual issue client alice --email alice@example.com
  mutual issue client billing-worker --uri spiffe://example.internal/billing/worker
  mutual issue client alice --p12 alice.p12 --p12-password-file alice.p12.pass
  MUTUAL_P12_PASSWORD=... mutual issue client bob --p12 bob.p12 --legacy-p12
  mutual --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --cert admin.pem --key admin.key.pem issue client alice --p12 alice.p12")]
pub(crate) struct IssueClientArgs {
    /// The client's name (the certificate's CN); names the files
    #[arg(value_name = "NAME")]
    pub(crate) name: String,

    /// Email addresses (email SANs); repeatable
    #[arg(long, value_name = "EMAIL")]
    pub(crate) email: Vec<String>,

    /// URIs (URI SANs), e.g. SPIFFE IDs; repeatable
    #[arg(long, value_name = "URI")]
    pub(crate) uri: Vec<String>,

    /// DNS names, only if mutual.toml allows them on client certificates; repeatable
    #[arg(long, value_name = "NAME")]
    pub(crate) dns: Vec<String>,

    /// Also write a PKCS#12 bundle here (key, certificate, client CA and root; friendly
    /// name NAME), mode 0600, for browsers and OS keychains
    #[arg(long, value_name = "FILE")]
    pub(crate) p12: Option<PathBuf>,

    /// Read the PKCS#12 password from this file (its first line); else
    /// $MUTUAL_P12_PASSWORD, else a prompt
    #[arg(long, value_name = "FILE", requires = "p12")]
    pub(crate) p12_password_file: Option<PathBuf>,

    /// Protect the PKCS#12 with 3DES and 40-bit RC2 and a SHA-1 MAC, for older Windows,
    /// macOS and Java that cannot read the default (AES-256, PBKDF2-SHA256)
    #[arg(long, requires = "p12")]
    pub(crate) legacy_p12: bool,

    #[command(flatten)]
    pub(crate) common: IssueCommon,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Pkcs12Command {
    /// Write a key, its certificate and the CA chain as a PKCS#12 bundle
    Export(Pkcs12ExportArgs),
    /// Unpack a PKCS#12 bundle into NAME.key.pem (0600), NAME.pem and NAME.chain.pem
    Import(Pkcs12ImportArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
The password comes from --password-file, else $MUTUAL_P12_PASSWORD, else a prompt (typed
twice); it needs at least 8 characters. Modern bundles use AES-256-CBC with PBKDF2-HMAC-SHA256
(600,000 iterations) and an HMAC-SHA256 MAC; --legacy bundles use 3DES for the key, 40-bit RC2
for the certificates and an HMAC-SHA1 MAC (2,048 iterations), which old Windows, macOS and Java
keystores need and OpenSSL 3 reads only with -legacy.

Examples:
  mutual pkcs12 export --cert alice.pem --key alice.key.pem --chain mutual-data/ca/client-ca.pem \\
      --out alice.p12 --password-file alice.p12.pass
  mutual pkcs12 export --cert alice.pem --key alice.key.pem --out alice-legacy.p12 --legacy")]
pub(crate) struct Pkcs12ExportArgs {
    /// The certificate (PEM); further certificates in the file join the chain
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: String,

    /// Its private key: an unencrypted PKCS#8 `PRIVATE KEY` PEM
    #[arg(long, value_name = "FILE")]
    pub(crate) key: String,

    /// CA certificates to include (PEM, one or more per file), issuer first; repeatable
    #[arg(long, value_name = "FILE")]
    pub(crate) chain: Vec<String>,

    /// Where to write the bundle (mode 0600; never overwrites)
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,

    /// Use 3DES, 40-bit RC2 and a SHA-1 MAC, for older Windows, macOS and Java
    #[arg(long)]
    pub(crate) legacy: bool,

    /// The friendly name keychains and browsers show [default: the certificate's CN]
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,

    /// Read the password from this file (its first line); else $MUTUAL_P12_PASSWORD, else a
    /// prompt
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,

    /// Output: text, or JSON describing what was written
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
NAME is the bundle's friendly name, else the file name without its extension. NAME.chain.pem
holds the certificate followed by the bundle's CA certificates, issuer first. Existing files
are never overwritten.

Examples:
  mutual pkcs12 import alice.p12 --password-file alice.p12.pass --out-dir ./alice
  MUTUAL_P12_PASSWORD=... mutual pkcs12 import exported-from-windows.pfx")]
pub(crate) struct Pkcs12ImportArgs {
    /// The PKCS#12 file (.p12, .pfx), or `-` for standard input
    #[arg(value_name = "FILE")]
    pub(crate) input: String,

    /// Read the password from this file (its first line); else $MUTUAL_P12_PASSWORD, else a
    /// prompt
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,

    /// Directory to write NAME.key.pem, NAME.pem and NAME.chain.pem into
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub(crate) out_dir: PathBuf,

    /// Output: text, or JSON describing what was written
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual list --expiring 30d
  mutual list --profile client --status revoked --format json
  mutual --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --p12 admin.p12 --password-file admin.p12.password list --expiring 30d")]
pub(crate) struct ListArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,

    /// Only certificates that expire within this period: 30d, 12h, 2w
    #[arg(long, value_name = "PERIOD")]
    pub(crate) expiring: Option<String>,

    /// Only this profile: server, client, server-client, ocsp-signer, intermediate, root
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: Option<String>,

    /// Only valid, revoked or expired certificates
    #[arg(long, value_enum, value_name = "STATUS")]
    pub(crate) status: Option<StatusArg>,

    /// Only certificates naming this host, address, email or URI (`DNS:api.example`, or a bare value)
    #[arg(long, value_name = "NAME")]
    pub(crate) san: Option<String>,

    /// At most this many (the output ends with the cursor for the next page)
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub(crate) limit: u32,

    /// Continue after this cursor (printed at the end of a full page)
    #[arg(long, value_name = "CURSOR")]
    pub(crate) after: Option<String>,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual show 74BDDD5E9058A2E7996FF6A1EEF158CD
  mutual show 74BDDD5E9058A2E7996FF6A1EEF158CD --format pem > alice.pem
  mutual --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --cert admin.pem --key admin.key.pem show 74BDDD5E9058A2E7996FF6A1EEF158CD --format json")]
pub(crate) struct ShowArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,

    /// Serial (hex, colons optional) or SHA-256 fingerprint
    #[arg(value_name = "SERIAL|FINGERPRINT")]
    pub(crate) id: String,

    /// text (the record and the decoded certificate), json, or pem
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub(crate) format: ShowFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual revoke 74BDDD5E9058A2E7996FF6A1EEF158CD --reason keyCompromise
  mutual revoke 74BDDD5E9058A2E7996FF6A1EEF158CD --reason keyCompromise --at 2026-11-20T09:00:00Z
  mutual crl                                          # then publish the new CRLs
  mutual --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --cert admin.pem --key admin.key.pem revoke 74BDDD5E9058A2E7996FF6A1EEF158CD")]
pub(crate) struct RevokeArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,

    /// Serial (hex, colons optional) or SHA-256 fingerprint, as `mutual list` shows
    #[arg(value_name = "SERIAL|FINGERPRINT")]
    pub(crate) id: String,

    /// unspecified, keyCompromise, cACompromise, affiliationChanged, superseded,
    /// cessationOfOperation, certificateHold, privilegeWithdrawn or aACompromise
    #[arg(long, default_value = "unspecified", value_name = "REASON")]
    pub(crate) reason: String,

    /// Since when the certificate is known or suspected to be invalid (RFC 3339; the CRL
    /// entry's invalidityDate), e.g. when a laptop was lost; the revocation itself is dated now
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual crl                                   # all three into HOME/crl/ (root, server-ca, client-ca)
  mutual crl --issuer client --out client-ca.crl.pem
  mutual crl --issuer server --format der > server-ca.crl")]
pub(crate) struct CrlArgs {
    #[command(flatten)]
    pub(crate) ca: CaArgs,

    /// Only this CA's CRL: root (it lists revoked intermediates), server or client
    #[arg(long, value_enum)]
    pub(crate) issuer: Option<CrlIssuer>,

    /// Write the one CRL here (atomically, replacing it) instead of standard output
    #[arg(
        long,
        value_name = "FILE",
        requires = "issuer",
        conflicts_with = "out_dir"
    )]
    pub(crate) out: Option<PathBuf>,

    /// Write each CRL here as root.crl.pem, server-ca.crl.pem, client-ca.crl.pem (.crl
    /// with --format der) [default: HOME/crl when no --issuer is given]
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = CrlFormat::Pem)]
    pub(crate) format: CrlFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CrlIssuer {
    Root,
    Server,
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CrlFormat {
    Pem,
    Der,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The file is JSON Lines, written atomically with mode 0600: it holds the CA keys (encrypted
ones stay encrypted). The rows are read in one transaction, so the snapshot is consistent
while the service keeps issuing.

Examples:
  mutual backup --out mutual-$(date +%F).backup
  mutual backup --database postgres://mutual@db.internal/mutual --out ca.backup")]
pub(crate) struct BackupArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,

    /// Where to write the backup
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The home must not hold a CA yet and the store must be empty: a restore never merges. Without
--database the rows go into the new home's SQLite file; with a PostgreSQL URL (without a
password) the restored mutual.toml names it, so later commands find it.

Examples:
  mutual restore ca.backup --home /etc/mutual
  mutual restore ca.backup --home /etc/mutual --database postgres://mutual@db.internal/mutual")]
pub(crate) struct RestoreArgs {
    /// A file written by `mutual backup`
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,

    /// The new home [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Which schema migrations the store has and which this build would apply, without
    /// changing anything; exit 1 when some are pending or the store is newer than this build
    Status(DbArgs),
    /// Apply the pending migrations (every command that opens the store does so too; this
    /// does it alone, e.g. before starting several `mutual serve` nodes on a new database)
    Migrate(DbArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual db status
  mutual db migrate --database postgres://mutual@db.internal:5432/mutual
  MUTUAL_DATABASE=postgres://mutual@db.internal/mutual mutual db status --format json")]
pub(crate) struct DbArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a token that enrolls one subject under one profile, once, until it expires;
    /// printed once and stored only as a hash
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
The token is printed on standard output (the details on standard error), so it can be
captured: TOKEN=$(mutual token create ...). Hand it to the device over a channel you trust;
it is a bearer credential until it is used or expires. The device enrolls with it:
POST /api/v1/enroll {\"token\": ..., \"csr\": ...} on `mutual serve`, with a CSR whose CN is
the subject (and whose SANs, if any, are the subject itself).

Examples:
  mutual token create --profile client --subject device-123 --ttl 1h
  mutual token create --profile server --subject build-7.example.internal --ttl 15m --format json")]
pub(crate) struct TokenCreateArgs {
    /// The CA's home directory [default: $MUTUAL_HOME, else ./mutual-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) store: DatabaseArg,

    /// The profile the certificate is issued under: client, server, server-client (when
    /// enabled) or admin
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: String,

    /// The common name the enrolling CSR must carry, e.g. a device id or host name
    #[arg(long, value_name = "NAME")]
    pub(crate) subject: String,

    /// How long the token works: 1m to 30d, as a number and m, h, d or w
    #[arg(long, default_value = "1h", value_name = "PERIOD")]
    pub(crate) ttl: String,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShowFormat {
    Text,
    Json,
    Pem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusArg {
    Valid,
    Revoked,
    Expired,
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

#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 valid, 1 invalid (every error is listed with its code, evidence and fix),
2 bad usage or unreadable input.

Examples:
  mutual verify server.pem --trusted root.pem --host api.example.internal
  mutual verify alice.pem --trusted ca/root.pem --untrusted ca/client-ca.pem --purpose client
  mutual verify fullchain.pem --system-roots --host example.com --at 2026-01-01T00:00:00Z
  mutual verify leaf.pem --trusted root.pem --crl client-ca.crl --format json
  mutual verify --batch leaves.txt --trusted root.pem --untrusted intermediates.pem")]
pub(crate) struct VerifyArgs {
    /// The certificate to validate: PEM (a chain may follow it: untrusted intermediates),
    /// DER or PKCS#12; `-` for standard input
    #[arg(value_name = "LEAF", required_unless_present = "batch")]
    pub(crate) leaf: Option<String>,

    /// Trust anchors: PEM/DER files or directories of them (repeatable) [default: the
    /// system's roots]
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub(crate) trusted: Vec<PathBuf>,

    /// Trust the system's roots (/etc/ssl/certs/ca-certificates.crt, or $SSL_CERT_FILE) as
    /// well as --trusted
    #[arg(long)]
    pub(crate) system_roots: bool,

    /// Untrusted certificates to build the path with: intermediates, cross-signed roots
    /// (repeatable)
    #[arg(long, value_name = "BUNDLE")]
    pub(crate) untrusted: Vec<String>,

    /// What the leaf must be good for: server (EKU serverAuth), client (clientAuth) or any
    /// [default: server with --host, else any]
    #[arg(long, value_enum)]
    pub(crate) purpose: Option<PurposeArg>,

    /// A further EKU the leaf must allow: a dotted OID or a name such as codeSigning
    /// (repeatable)
    #[arg(long = "eku", value_name = "OID")]
    pub(crate) ekus: Vec<String>,

    /// The DNS name or IP address the leaf must be valid for (subjectAltName only)
    #[arg(long, value_name = "NAME_OR_IP")]
    pub(crate) host: Option<String>,

    /// Validate at this RFC 3339 time instead of now
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,

    /// The most intermediate CA certificates a path may hold (the leaf and the trust anchor
    /// do not count, as with openssl verify -verify_depth)
    #[arg(long, value_name = "N")]
    pub(crate) max_depth: Option<usize>,

    /// Check revocation against this CRL (PEM or DER; repeatable). With any CRL given, a
    /// leaf none of them covers is rejected (hard fail)
    #[arg(long, value_name = "FILE")]
    pub(crate) crl: Vec<String>,

    /// Ask the OCSP responder named in the leaf's AIA (now, whatever --at says); a status
    /// that cannot be confirmed is rejected (hard fail)
    #[arg(long)]
    pub(crate) ocsp: bool,

    /// Seconds to wait for the OCSP responder
    #[arg(long, value_name = "SECONDS", default_value_t = 10, requires = "ocsp")]
    pub(crate) ocsp_timeout: u64,

    /// Validate every leaf listed in this file (one path per line, `#` comments) under one
    /// trust setup; exit 0 only when all are valid
    #[arg(long, value_name = "LIST", conflicts_with = "leaf")]
    pub(crate) batch: Option<PathBuf>,

    /// Read the PKCS#12 password from this file (its first line)
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub(crate) password_file: Option<PathBuf>,

    /// Read the PKCS#12 password from this environment variable
    #[arg(long, value_name = "VAR")]
    pub(crate) password_env: Option<String>,

    /// Output: text, or JSON (docs/verify-json.md)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PurposeArg {
    Server,
    Client,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Pem,
    Der,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mutual sign api.csr --profile server --out api.pem
  mutual sign alice.csr --profile client --days 90
  mutual sign api.csr --profile server --dry-run      # show the certificate it would get
  mutual --server https://ca.example.internal:8443 --ca-cert root.pem \\
      --cert admin.pem --key admin.key.pem sign api.csr --profile server --out api.pem")]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(crate) ca: CaArgs,

    /// The certificate signing request (PEM or DER)
    #[arg(value_name = "CSR")]
    pub(crate) csr: PathBuf,

    /// server, client, server-client (if enabled in mutual.toml) or ocsp-signer
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: String,

    /// Validity in days [default: the profile's]
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<u32>,

    /// Write the certificate here (refuses to overwrite) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,

    /// Print the certificate the CSR would get, decoded, without signing or recording it
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Issue N certificates as `mutual issue` does (P-256 key pair, plan, sign, check,
    /// store), then time each step alone
    Issue(BenchIssueArgs),
    /// Load an HTTP endpoint (the service's OCSP responder, its API, or another server
    /// beside it) with N connections for a fixed time; with --server-pid, the server's
    /// CPU time per request
    Http(BenchHttpArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  openssl ocsp -issuer client-ca.pem -cert alice.pem -no_nonce -reqout req.der
  mutual bench http http://127.0.0.1:8080/ocsp --body req.der \\
      --content-type application/ocsp-request --connections 16 --server-pid $(pidof mutual)
  mutual bench http https://localhost:8443/api/v1/sign --body sign.json \\
      --ca-cert mutual-data/ca/root.pem --cert mutual-data/admin.pem \\
      --key mutual-data/admin.key.pem --expect-status 201")]
pub(crate) struct BenchHttpArgs {
    /// http://HOST:PORT/PATH or https://...
    pub(crate) url: String,

    /// POST this file as the body (else GET)
    #[arg(long, value_name = "FILE")]
    pub(crate) body: Option<PathBuf>,

    #[arg(long, default_value = "application/json", value_name = "TYPE")]
    pub(crate) content_type: String,

    /// Connections, each sending requests back to back
    #[arg(long, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) connections: u32,

    /// Seconds measured
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub(crate) duration: f64,

    /// Seconds of load before measuring (caches, connection pools)
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub(crate) warmup: f64,

    /// A new connection for every request (as most OCSP relying parties do)
    #[arg(long)]
    pub(crate) close: bool,

    /// Let TLS resume sessions on new connections (default: every handshake is a full
    /// one, with the client certificate sent and verified)
    #[arg(long)]
    pub(crate) resume: bool,

    /// The status every answer must have
    #[arg(long, default_value_t = 200, value_name = "CODE")]
    pub(crate) expect_status: u16,

    /// Report this process's CPU time (with its children's) per request
    #[arg(long, value_name = "PID")]
    pub(crate) server_pid: Option<u32>,

    /// For https: the root to trust
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,

    /// For https: a client certificate (PEM, with its chain) and its key
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,

    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The certificates are recorded in a scratch store (inside the home when --home is given, so
on the same disk) that is removed afterwards, never in a CA's inventory.

Examples:
  mutual bench issue                              # a temporary CA, 1000 server certificates
  mutual bench issue --count 200 --profile client --format json
  mutual bench issue --count 2000 --concurrency 32   # group commit: many per transaction
  mutual bench issue --home /srv/ca --passphrase-file ca.pass")]
pub(crate) struct BenchIssueArgs {
    /// How many certificates to issue (and how many times each step is timed alone)
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) count: u32,

    /// Issuances in flight at once, on a multi-thread runtime, so the store can commit
    /// several in one transaction (1: one after another, as `mutual issue` does)
    #[arg(long, default_value_t = 1, value_name = "C",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(crate) concurrency: u32,

    /// Issue from this CA (its keys and profiles) [default: a temporary CA with
    /// unencrypted intermediates, removed afterwards]
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    /// Read the CA key passphrase from this file (its first line) when the issuing key in
    /// --home is encrypted; else $MUTUAL_PASSPHRASE, else a prompt
    #[arg(long, value_name = "FILE", requires = "home")]
    pub(crate) passphrase_file: Option<PathBuf>,

    /// Which profile, and so which issuing CA
    #[arg(long, value_enum, default_value_t = BenchProfile::Server)]
    pub(crate) profile: BenchProfile,

    /// Output: text, or JSON (docs/bench-json.md)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchProfile {
    Server,
    Client,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The profile (server, client, ca, ocsp) is read from each certificate's purpose unless
--profile says otherwise. Under --trust private (the default) rules that bind only
publicly-trusted certificates (policies, AIA, internal names, reserved IPs, CT, validity
limits, exact encodings) are reported as notices.

Exit status: 0 no finding at or above --min-severity, 1 some, 2 unreadable input.

Examples:
  mutual lint server.pem
  mutual lint --trust public --min-severity warn fullchain.pem
  mutual lint /etc/ssl/inventory --format json > lint.json
  mutual lint --profile client alice.csr
  mutual lint --list")]
pub(crate) struct LintArgs {
    /// Files (certificates or CSRs: PEM, DER, PKCS#7, PKCS#12), directories (recursively),
    /// or `-` for standard input
    #[arg(value_name = "INPUT", required_unless_present = "list")]
    pub(crate) inputs: Vec<String>,

    /// Lint as this profile instead of the one each certificate's purpose says
    #[arg(long, value_enum, default_value_t = LintProfileArg::Auto)]
    pub(crate) profile: LintProfileArg,

    /// private: public-trust-only rules are notices; public: as the CA/B Forum says
    #[arg(long, value_enum, default_value_t = TrustArg::Private)]
    pub(crate) trust: TrustArg,

    /// Exit 1 when a finding at or above this severity exists
    #[arg(long, value_enum, default_value_t = MinSeverity::Error)]
    pub(crate) min_severity: MinSeverity,

    /// Output: text (findings grouped by certificate), or JSON (docs/lint-json.md)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,

    /// Print the registry of lints and exit
    #[arg(long)]
    pub(crate) list: bool,

    /// Judge CSRs as if issued at this RFC 3339 time instead of now (certificates use their
    /// notBefore)
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LintProfileArg {
    Auto,
    Server,
    Client,
    Ca,
    Ocsp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TrustArg {
    Private,
    Public,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum MinSeverity {
    Notice,
    Warn,
    Error,
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "\
With --config, everything comes from the file (see docs/gateway.md); without it, the flags
make one listener and one route: any certificate from --client-ca reaches --upstream.
Requests are logged to standard output, one JSON line each; refusals carry the diagnosis
code of `mutual verify` (expired, unknown_issuer, eku_mismatch, revoked, ...). SIGHUP, or a
changed file, reloads certificates, CRLs and routes without dropping a connection.

Examples:
  mutual gateway --listen 0.0.0.0:8443 --cert server.pem --key server.key.pem \\
      --client-ca mutual-data/ca/client-ca.pem --upstream http://127.0.0.1:8080
  mutual gateway --config /etc/mutual/gateway.toml
  mutual gateway check --config /etc/mutual/gateway.toml"
)]
pub(crate) struct GatewayArgs {
    #[command(subcommand)]
    pub(crate) action: Option<GatewayAction>,

    /// The configuration file (TOML); the other flags are for the one-listener case
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key", "client_ca", "upstream"])]
    pub(crate) config: Option<std::path::PathBuf>,

    /// Address to accept TLS connections on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub(crate) listen: std::net::SocketAddr,

    /// The gateway's server certificate, followed by its intermediates (PEM)
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<std::path::PathBuf>,

    /// The server certificate's private key (PEM)
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<std::path::PathBuf>,

    /// A CA whose client certificates are accepted; only these are trusted (repeatable)
    #[arg(long, value_name = "FILE")]
    pub(crate) client_ca: Vec<std::path::PathBuf>,

    /// Where admitted requests go: http://HOST:PORT
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: Option<String>,

    /// `require`: a handshake without a valid client certificate fails with a TLS alert;
    /// `optional`: it completes and the request is answered 496 (none) or 495 (invalid)
    /// with the reason
    #[arg(long, value_enum, default_value_t = GatewayMode::Require)]
    pub(crate) mode: GatewayMode,

    /// The most intermediate CAs between a client certificate and a --client-ca
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub(crate) max_depth: usize,

    /// A CRL file or http:// URL to check client certificates against (repeatable)
    #[arg(long, value_name = "FILE|URL")]
    pub(crate) crl: Vec<String>,

    /// Admit a certificate whose revocation status no CRL gives (default: refuse it)
    #[arg(long)]
    pub(crate) crl_soft_fail: bool,

    /// Ask the OCSP responder named in each client certificate (answers are reused for
    /// 5 minutes): `hard` refuses when it cannot answer, `soft` admits and logs a warning
    #[arg(long, value_enum, default_value_t = GatewayOcsp::Off)]
    pub(crate) ocsp: GatewayOcsp,

    /// Refuse client certificates that carry no EKU (default: accept them, as RFC 5280 does)
    #[arg(long)]
    pub(crate) refuse_no_eku: bool,

    /// Plain-HTTP admin address for /metrics, /debug/refusals, /debug/crls and /health
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin_listen: Option<std::net::SocketAddr>,

    /// Send the client certificate upstream too, as URL-encoded PEM (X-Client-Cert)
    #[arg(long)]
    pub(crate) forward_pem: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GatewayAction {
    /// Check a configuration as the gateway would load it (files read, keys matched to
    /// certificates, CRLs fetched, routes compiled); exit 1 listing every problem
    Check(GatewayCheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GatewayCheckArgs {
    #[arg(long, value_name = "FILE")]
    pub(crate) config: std::path::PathBuf,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GatewayOcsp {
    Off,
    Hard,
    Soft,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GatewayMode {
    Require,
    Optional,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The output does what `mutual gateway` does with the same settings, as far as the server can,
and says in comments what it cannot: it trusts only the --client-ca certificates, verifies
client certificates (mode require, or optional with 495/496 answers), checks the CRLs, speaks
TLS 1.2 and 1.3 only, forwards the verified identity in X-Client-Cert-* headers after removing
any a client sent, and proxies to --upstream over pooled HTTP/1.1 connections. Paths are
written absolute. nginx and Apache (OpenSSL) end every path at a self-signed root, so the root
must be among the --client-ca certificates for them; Envoy trusts an intermediate CA on its
own. Each server reads one CRL file, and Apache and Envoy one CA file: join several with `cat`.
nginx checks the CRL of every CA on the path, the others only the client certificate's CA's.

Examples:
  cat mutual-data/crl/client-ca.crl.pem mutual-data/crl/root.crl.pem > crls.pem
  mutual config nginx --cert localhost.chain.pem --key localhost.key.pem \\
      --client-ca mutual-data/ca/client-ca.pem --client-ca mutual-data/ca/root.pem \\
      --crl crls.pem --upstream http://127.0.0.1:8080 --out /etc/nginx/conf.d/mutual-gateway.conf
  cat mutual-data/ca/client-ca.pem mutual-data/ca/root.pem > client-cas.pem
  mutual config apache --cert api.chain.pem --key api.key.pem --client-ca client-cas.pem \\
      --upstream http://127.0.0.1:8080 --server-name api.example.internal --mode optional
  mutual config envoy --cert api.chain.pem --key api.key.pem \\
      --client-ca mutual-data/ca/client-ca.pem --crl mutual-data/crl/client-ca.crl.pem \\
      --upstream http://127.0.0.1:8080 --forward-pem > envoy.yaml")]
pub(crate) struct ConfigArgs {
    // Not `server`: that id is the global --server's.
    /// The server to configure
    #[arg(value_enum, value_name = "SERVER")]
    pub(crate) target: ConfigServer,

    /// The server certificate (PEM), its chain after it (NAME.chain.pem)
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: PathBuf,

    /// The server certificate's private key (unencrypted PEM)
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,

    /// Accept client certificates from these CAs only (PEM; repeatable): the client CA,
    /// and for nginx and Apache its root too
    #[arg(long, value_name = "FILE", required = true)]
    pub(crate) client_ca: Vec<PathBuf>,

    /// Where to proxy requests: http://HOST:PORT
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: String,

    /// The address to listen on
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub(crate) listen: std::net::SocketAddr,

    /// As `mutual gateway --mode`: require, no request without a valid client certificate;
    /// optional, a request without one is answered 496, with an invalid one 495 (where the
    /// server can)
    #[arg(long, value_enum, default_value_t = GatewayMode::Require)]
    pub(crate) mode: GatewayMode,

    /// As `mutual gateway --max-depth`: the most intermediate CAs between a client
    /// certificate and a --client-ca (each server counts differently; the output says how)
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(0..=16))]
    pub(crate) max_depth: u32,

    /// Refuse client certificates these CRLs revoke (PEM or DER; repeatable; `mutual crl`
    /// writes them)
    #[arg(long, value_name = "FILE")]
    pub(crate) crl: Vec<PathBuf>,

    /// The host name clients use [default: any]
    #[arg(long, value_name = "NAME")]
    pub(crate) server_name: Option<String>,

    /// Also forward the client certificate itself, URL-encoded PEM, in X-Client-Cert
    #[arg(long)]
    pub(crate) forward_pem: bool,

    /// Write the configuration here (atomically, replacing it) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ConfigServer {
    Nginx,
    Apache,
    Envoy,
}

#[derive(Debug, Args)]
#[command(
    after_help = "\
Examples:
  mutual probe example.com:443 --system-roots
  mutual probe 10.0.0.5:8443 --sni api.internal --trusted ca.pem
  mutual probe api.internal:443 --trusted ca.pem --cert alice.pem --key alice.key --http /
  mutual probe api.internal:443 --trusted ca.pem --p12 alice.p12 --password-file p12.pass
  mutual probe api.internal:443 --trusted ca.pem --format json | jq .problems

Exit status: 0 healthy, 1 a problem was found (each listed with its code), 2 bad usage or
no TLS server to talk to (name does not resolve, connection refused, timeout, not TLS).",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub(crate) struct ProbeArgs {
    #[command(subcommand)]
    pub(crate) command: Option<ProbeCommand>,

    /// The endpoint: HOST:PORT, or [IPv6]:PORT
    #[arg(value_name = "HOST:PORT", required = true)]
    pub(crate) target: Option<String>,

    /// The server name to send (SNI) and to check the certificate against; default the
    /// target's host
    #[arg(long, value_name = "NAME")]
    pub(crate) sni: Option<String>,

    /// Trust anchors for the server's chain (PEM, DER or PKCS#7; repeatable); without
    /// --trusted, the system roots
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted: Vec<PathBuf>,

    /// Trust the system roots too
    #[arg(long)]
    pub(crate) system_roots: bool,

    /// A client certificate to present when the server asks (PEM, followed by its
    /// intermediates)
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) cert: Option<String>,

    /// The private key of --cert (PEM or DER, unencrypted)
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub(crate) key: Option<String>,

    /// The client certificate, its chain and key as PKCS#12 (.p12, .pfx) instead of
    /// --cert/--key
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key"])]
    pub(crate) p12: Option<String>,

    /// The --p12 password's file (first line); else $MUTUAL_P12_PASSWORD, else a prompt
    #[arg(long, value_name = "FILE", requires = "p12")]
    pub(crate) password_file: Option<PathBuf>,

    /// After the handshake, send `GET PATH` and report the answer
    #[arg(long, value_name = "PATH")]
    pub(crate) http: Option<String>,

    /// Bound on connecting, the handshake and the HTTP answer: 10s, 500ms, 1m
    #[arg(long, default_value = "10s", value_parser = parse_timeout, value_name = "DURATION")]
    pub(crate) timeout: std::time::Duration,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProbeCommand {
    /// Does the server really check client certificates? Present throwaway certificates
    /// from a CA it trusts, each broken in one way, and report which it wrongly accepts
    Audit(ProbeAuditArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
With --home, the test certificates are signed by the home's client CA (its server CA with
--client-ca-name server) and recorded in its store (subject OU mutual-probe-audit, valid for
minutes); the `revoked` one is revoked and a fresh CRL written (default
HOME/crl/client-ca.crl.pem, or --crl-out) before it is presented, and all are revoked at the
end with the CRL written again. The server must load that CRL: give --reload with the
command that makes it do so. When the home's mutual.toml sets [server] url, the test
certificates name its CRL and OCSP responder as the CA's own certificates do, and the audit
asks that responder (up to 10 s) until it answers `revoked` before presenting the case. With --issuer-cert/--issuer-key (no store),
`revoked` is tested only with --crl-out.

A case passes when the server refuses it: a TLS alert, or HTTP 400/403/495/496 to GET --http.
2xx, 3xx and 404 are acceptance; anything else is inconclusive.

Examples:
  mutual probe audit api.internal:443 --home /srv/ca --reload 'nginx -s reload; sleep 1'
  mutual probe audit 10.0.0.5:8443 --sni api.internal --issuer-cert client-ca.pem \\
      --issuer-key client-ca.key --crl-out /etc/nginx/client-ca.crl.pem --format json

Exit status: 0 every broken certificate refused and the control accepted, 1 some case
failed (each listed with its fix), 2 bad usage, unreadable CA, or no TLS server to talk to.")]
pub(crate) struct ProbeAuditArgs {
    /// The endpoint: HOST:PORT, or [IPv6]:PORT
    #[arg(value_name = "HOST:PORT")]
    pub(crate) target: String,

    #[command(flatten)]
    pub(crate) ca: CaArgs,

    /// Sign with this CA certificate (PEM) instead of a home's client CA
    #[arg(
        long,
        value_name = "FILE",
        requires = "issuer_key",
        conflicts_with = "home"
    )]
    pub(crate) issuer_cert: Option<PathBuf>,

    /// The --issuer-cert's private key (PEM; encrypted keys use --passphrase-file)
    #[arg(long, value_name = "FILE", requires = "issuer_cert")]
    pub(crate) issuer_key: Option<PathBuf>,

    /// Which issuing CA of the --home signs the test certificates: the one the server
    /// trusts for clients (`client`, the default) or the server CA (`server`), for servers
    /// set up to trust that one
    #[arg(
        long,
        value_enum,
        value_name = "NAME",
        default_value_t = ClientCaName::Client,
        conflicts_with = "issuer_cert"
    )]
    pub(crate) client_ca_name: ClientCaName,

    /// Write the CRL that lists the revoked test certificates here
    #[arg(long, value_name = "FILE")]
    pub(crate) crl_out: Option<PathBuf>,

    /// A shell command run after each CRL is written, so the server loads it
    /// (e.g. `nginx -s reload; sleep 1`)
    #[arg(long, value_name = "COMMAND")]
    pub(crate) reload: Option<String>,

    /// The server name to send (SNI); default the target's host
    #[arg(long, value_name = "NAME")]
    pub(crate) sni: Option<String>,

    /// The path requested after each handshake
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub(crate) http: String,

    /// Bound on connecting, the handshake and the HTTP answer, per case: 10s, 500ms, 1m
    #[arg(long, default_value = "10s", value_parser = parse_timeout, value_name = "DURATION")]
    pub(crate) timeout: std::time::Duration,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

/// An issuing CA of a home, by the name `probe audit --client-ca-name` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClientCaName {
    /// The client CA (`ca/client-ca.pem`)
    Client,
    /// The server CA (`ca/server-ca.pem`)
    Server,
}

/// `10s`, `500ms`, `1m`, or a number of seconds.
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 10s, 500ms or 1m; found `{text}`"))?;
    let duration = match unit {
        "ms" => std::time::Duration::from_millis(value),
        "s" => std::time::Duration::from_secs(value),
        "m" => std::time::Duration::from_secs(value.saturating_mul(60)),
        _ => {
            return Err(format!(
                "expected a duration such as 10s, 500ms or 1m; found `{text}`"
            ));
        }
    };
    if duration.is_zero() {
        return Err("the timeout must be more than zero".to_owned());
    }
    Ok(duration)
}
