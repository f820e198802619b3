//! `mutual bench issue`: how fast the CA issues on this machine, and where the time goes.
//!
//! First the whole issuance as `mutual issue` does it — a P-256 key pair, the plan, the
//! signature, the by-construction decode and the synced store record — N times: one after
//! another on a current-thread runtime, or with `--concurrency C`, C at a time on a
//! multi-thread runtime, so the store commits several per transaction (group commit). Then
//! each step alone, N times, in the same run, so the parts can be set against the whole;
//! the store step runs C at a time too, and its wall time per certificate is the amortised
//! cost. Certificates go to scratch stores (next to the home's own, so on the same disk),
//! never into a CA's inventory.
//!
//! JSON schema: docs/bench-json.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::init::{InitOptions, init};
use mutual_ca::issuance::{IssuingCa, Request, SubjectAltName, issue, plan};
use mutual_ca::key::KeyType;
use mutual_ca::passphrase::Passphrase;
use mutual_ca::profile::{Profile, ProfileKind};
use mutual_ca::store::{
    AuditAction, AuditNote, CertificateRecord, NewCertificate, Store, WriteStats,
};
use mutual_x509::Severity;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType, SerialNumber,
    SigningKey as _,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{BenchCommand, BenchIssueArgs, BenchProfile, ReportFormat};
use crate::commands::{ca_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

const SCHEMA: &str = "mutual.bench-issue/v1";
/// The subject key type: what `mutual issue` generates by default.
const KEY_TYPE: KeyType = KeyType::EcP256;
/// Issuances before the timed ones (the first commits create the WAL, caches are cold).
const WARM_UP: u32 = 5;

pub(crate) fn run(command: &BenchCommand) -> anyhow::Result<ExitStatus> {
    match command {
        BenchCommand::Issue(args) => bench_issue(args),
        BenchCommand::Http(args) => crate::commands::bench_http::run(args),
    }
}

/// Per-operation times of one step, in microseconds.
#[derive(Debug, Clone, Copy, Serialize)]
struct Stats {
    median_us: f64,
    mean_us: f64,
    p99_us: f64,
    min_us: f64,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut micros: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        micros.sort_by(f64::total_cmp);
        let n = micros.len();
        let at = |i: usize| micros.get(i).copied().unwrap_or(0.0);
        let median = if n % 2 == 1 {
            at(n / 2)
        } else {
            (at(n / 2 - 1) + at(n / 2)) / 2.0
        };
        // The smallest sample at or above 99 % of them.
        let p99 = at((n * 99).div_ceil(100).saturating_sub(1));
        let mean = micros.iter().sum::<f64>() / n.max(1) as f64;
        Stats {
            median_us: round(median),
            mean_us: round(mean),
            p99_us: round(p99),
            min_us: round(at(0)),
        }
    }
}

fn round(micros: f64) -> f64 {
    (micros * 100.0).round() / 100.0
}

/// Each step of an issuance timed alone.
#[derive(Debug, Serialize)]
struct Steps {
    /// `KeyType::EcP256.generate_subject()`: the subject's key pair, as `mutual issue`
    /// generates it.
    keygen: Stats,
    /// `issuance::plan`: profile, name and validity checks.
    plan: Stats,
    /// rcgen building a certificate and signing it in one go with the CA key (the TBS
    /// DER-encoded, signed, the certificate assembled): `der` plus `signature`, which is
    /// what `issue` spends on them (it builds the DER once, for the rehearsal).
    sign: Stats,
    /// One signature by the CA key alone (aws-lc-rs, through rcgen's `KeyPair::sign`), over
    /// a message the size of a certificate.
    signature: Stats,
    /// `sign` with a signer that computes nothing: rcgen's DER encoding alone.
    der: Stats,
    /// What `issue` does between building a certificate and signing it: decode, check and
    /// lint with the DER parsed once (`mutual_lint::decode_and_lint`, the purpose and
    /// findings check, no error-level lint). (`issue` builds each certificate once, with a
    /// placeholder signature, for this check; the CA key then signs those TBS bytes.)
    check: Stats,
    /// The decoding part of `check` measured alone: `mutual_x509::Certificate::from_der`
    /// and the purpose and findings check.
    decode: Stats,
    /// The lints measured alone, on a decoded certificate (`mutual_lint::lint_certificate`,
    /// private trust), which parses the DER again: `check` spares that second parse.
    lint: Stats,
    /// `Store::record` into a separate store, `concurrency` calls at a time: the time each
    /// call waits for the commit that holds its row (synced at commit).
    store: Stats,
}

#[derive(Debug, Serialize)]
struct CaReport {
    subject: String,
    key_type: String,
    /// Null for the temporary CA the command made and removed.
    home: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Report {
    schema: &'static str,
    count: u32,
    /// Issuances (and, in the store step, records) in flight at once.
    concurrency: u32,
    profile: String,
    key_type: String,
    ca: CaReport,
    /// The scratch store the issuance loop recorded into (removed afterwards); its
    /// filesystem decides what a synced commit costs.
    store: PathBuf,
    total_seconds: f64,
    certificates_per_second: f64,
    /// One whole issuance: key pair, plan, sign, decode and check, store record.
    issue: Stats,
    steps: Steps,
    /// Sum of the step medians as `issue` runs them: `der` (the rehearsal, with a placeholder
    /// signature) and `signature` (the CA's, over the rehearsed TBS); `sign` left out (it
    /// is rcgen building and signing in one go, which `issue` no longer does).
    steps_median_sum_us: f64,
    /// Median issuance minus the median key pair and the median signature: the plan, DER,
    /// parsing, decoding and storage around the signature.
    around_signature_us: f64,
    /// `around_signature_us` / `steps.signature.median_us`.
    around_signature_ratio: f64,
    /// The store step's wall time divided by `count`: what recording costs per certificate
    /// once commits are shared (with `concurrency` 1, about its mean).
    store_per_certificate_us: f64,
    /// Certificates per commit in the store step.
    store_batch_mean: f64,
    /// Certificates per commit in the timed issuance loop.
    issue_batch_mean: f64,
    /// plan + der + decode + lint + `store_per_certificate_us`: the parsing and checking,
    /// DER and storage each certificate costs besides its key pair and its signature.
    around_signature_steps_us: f64,
    /// `around_signature_steps_us` / `steps.signature.median_us`.
    around_signature_steps_ratio: f64,
    certificate_bytes: usize,
}

/// The CA to issue from and a scratch directory on the same disk, removed on drop.
struct Setup {
    home: Home,
    temporary: bool,
    scratch: tempfile::TempDir,
}

fn bench_issue(args: &BenchIssueArgs) -> anyhow::Result<ExitStatus> {
    let kind = match args.profile {
        BenchProfile::Server => ProfileKind::Server,
        BenchProfile::Client => ProfileKind::Client,
    };
    let concurrency = args.concurrency.max(1);
    let runtime = if concurrency > 1 {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        crate::commands::runtime()?
    };
    let setup = match &args.home {
        Some(dir) => existing(dir)?,
        None => runtime.block_on(temporary())?,
    };
    let issuer = Arc::new(Issuer::load(
        &setup.home,
        kind,
        args.passphrase_file.as_deref(),
    )?);
    let subjects = Arc::new(Subjects::new(kind, &issuer.profile, &issuer.ca));
    let store_path = setup.scratch.path().join("issue.sqlite");
    if args.format == ReportFormat::Text {
        eprintln!(
            "mutual: issuing {} {kind} certificates, {concurrency} at a time, from {} ({}), recording them in `{}`",
            args.count,
            issuer.ca.subject,
            if setup.temporary {
                "a temporary CA"
            } else {
                "its keys and profiles, a scratch store"
            },
            store_path.display()
        );
    }

    let run = runtime.block_on(time_issue(
        args.count,
        concurrency,
        &store_path,
        &issuer,
        &subjects,
    ))?;
    let ders = run
        .issued
        .iter()
        .map(|record| der_of(&record.pem))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (profile, now) = (&issuer.profile, OffsetDateTime::now_utc());
    let store_run = runtime.block_on(time_store(
        &setup.scratch.path().join("store-only.sqlite"),
        concurrency,
        &run.warm,
        &run.issued,
    ))?;
    let steps = Steps {
        keygen: time_keygen(args.count)?,
        plan: time_plan(args.count, &subjects, profile, &issuer.ca, now)?,
        sign: time_sign(args.count, &subjects, &issuer, now)?,
        signature: time_signature(args.count, &issuer.ca_key, &ders[0])?,
        der: time_der(args.count, &subjects, &issuer, now)?,
        check: time_check(&ders, profile, now)?,
        decode: time_decode(&ders, profile, now)?,
        lint: time_lint(&ders, now)?,
        store: Stats::of(&store_run.times),
    };
    let issue = Stats::of(&run.times);
    let around = issue.median_us - steps.keygen.median_us - steps.signature.median_us;
    let store_per_certificate = store_run.total.as_secs_f64() * 1e6 / f64::from(args.count);
    let around_steps =
        steps.plan.median_us + steps.der.median_us + steps.check.median_us + store_per_certificate;
    let report = Report {
        schema: SCHEMA,
        count: args.count,
        concurrency,
        profile: kind.to_string(),
        key_type: KEY_TYPE.to_string(),
        ca: CaReport {
            subject: issuer.ca.subject.clone(),
            key_type: issuer.key_type.clone(),
            home: (!setup.temporary).then(|| setup.home.path().to_path_buf()),
        },
        store: store_path,
        total_seconds: run.total.as_secs_f64(),
        certificates_per_second: f64::from(args.count) / run.total.as_secs_f64(),
        issue,
        // `issue` builds the DER once (the rehearsal) and signs its TBS.
        steps_median_sum_us: round(
            steps.keygen.median_us
                + steps.plan.median_us
                + steps.der.median_us
                + steps.signature.median_us
                + steps.check.median_us
                + steps.store.median_us,
        ),
        around_signature_us: round(around),
        around_signature_ratio: round(around / steps.signature.median_us),
        store_per_certificate_us: round(store_per_certificate),
        store_batch_mean: round(batch_mean(store_run.writes)),
        issue_batch_mean: round(batch_mean(run.writes)),
        around_signature_steps_us: round(around_steps),
        around_signature_steps_ratio: round(around_steps / steps.signature.median_us),
        certificate_bytes: ders[0].len(),
        steps,
    };
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => print_text(&report),
    }
    Ok(ExitStatus::Success)
}

/// The issuing CA as `issue` uses it, plus its key and certificate again for the steps
/// `issue` keeps to itself.
struct Issuer {
    kind: ProfileKind,
    profile: Profile,
    ca: IssuingCa,
    ca_key: KeyPair,
    ca_der: Vec<u8>,
    key_type: String,
}

impl Issuer {
    fn load(
        home: &Home,
        kind: ProfileKind,
        passphrase_file: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let role = IssuingRole::for_profile(kind);
        let passphrase = crate::commands::issuing_ca_passphrase(home, role, passphrase_file)?;
        let profile = home.profiles().map_err(ca_error)?.get(kind).clone();
        let ca = home
            .issuing_ca(role, passphrase.as_ref())
            .map_err(ca_error)?;
        let ca_key = read_ca_key(home, role, passphrase.as_ref())?;
        let ca_der = read_ca_der(home, role)?;
        let key_type = KeyType::of(&ca_key).map_or_else(|| "other".to_owned(), |t| t.to_string());
        Ok(Issuer {
            kind,
            profile,
            ca,
            ca_key,
            ca_der,
            key_type,
        })
    }
}

/// The whole-issuance loop's results.
struct IssueRun {
    times: Vec<Duration>,
    total: Duration,
    issued: Vec<CertificateRecord>,
    /// The warm-up issuances, untimed.
    warm: Vec<CertificateRecord>,
    /// The store's commits during the timed loop.
    writes: WriteStats,
}

/// One issuance as `mutual issue` does it.
async fn issue_one(
    store: &Store,
    issuer: &Issuer,
    subjects: &Subjects,
    i: u32,
) -> anyhow::Result<CertificateRecord> {
    let now = OffsetDateTime::now_utc();
    let key = KEY_TYPE
        .generate_subject()
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    // With its audit entry, as `mutual issue` records it: the trail and its index are part
    // of what an issuance writes.
    let plan = plan(&subjects.request(i), &issuer.profile, &issuer.ca, now)
        .map_err(refused(issuer.kind))?
        .audited(bench_audit_note());
    let issued = issue(plan, &key, &issuer.ca, store, now)
        .await
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    Ok(issued.record)
}

/// Runs `op(i)` for every `i` below `count`, `concurrency` at a time, each in a task of its
/// own (so a multi-thread runtime spreads them over its threads); returns each `i`'s time
/// and result, in order of `i`, and the wall time of the whole.
async fn in_flight<T, F, Fut>(
    count: u32,
    concurrency: u32,
    op: F,
) -> anyhow::Result<(Vec<(Duration, T)>, Duration)>
where
    T: Send + 'static,
    F: Fn(u32) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
{
    let next = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(count) {
        let (next, op) = (Arc::clone(&next), op.clone());
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return anyhow::Ok(done);
                }
                let started = Instant::now();
                let value = op(i).await?;
                done.push((i, started.elapsed(), value));
            }
        });
    }
    let mut all = Vec::with_capacity(count as usize);
    while let Some(worker) = workers.join_next().await {
        all.extend(worker??);
    }
    let total = started.elapsed();
    all.sort_by_key(|(i, _, _)| *i);
    Ok((all.into_iter().map(|(_, t, v)| (t, v)).collect(), total))
}

/// Mean certificates per commit.
fn batch_mean(writes: WriteStats) -> f64 {
    writes.records as f64 / writes.commits.max(1) as f64
}

fn writes_since(store: &Store, before: WriteStats) -> WriteStats {
    let now = store.write_stats();
    WriteStats {
        commits: now.commits - before.commits,
        records: now.records - before.records,
    }
}

/// Issues `count` certificates, `concurrency` at a time, as `mutual issue` does each, after
/// a few untimed ones one after the other (the first commits create the WAL; caches start
/// cold).
async fn time_issue(
    count: u32,
    concurrency: u32,
    store_path: &Path,
    issuer: &Arc<Issuer>,
    subjects: &Arc<Subjects>,
) -> anyhow::Result<IssueRun> {
    let store = open(store_path).await?;
    let mut warm = Vec::with_capacity(WARM_UP as usize);
    for i in 0..WARM_UP {
        warm.push(issue_one(&store, issuer, subjects, count + i).await?);
    }
    let before = store.write_stats();
    let (store_, issuer, subjects) = (store.clone(), Arc::clone(issuer), Arc::clone(subjects));
    let (done, total) = in_flight(count, concurrency, move |i| {
        let (store, issuer, subjects) =
            (store_.clone(), Arc::clone(&issuer), Arc::clone(&subjects));
        async move { issue_one(&store, &issuer, &subjects, i).await }
    })
    .await?;
    let writes = writes_since(&store, before);
    store.close().await;
    let (times, issued) = done.into_iter().unzip();
    Ok(IssueRun {
        times,
        total,
        issued,
        warm,
        writes,
    })
}

/// A CA made by `mutual init` elsewhere: its keys and profiles, a scratch store beside its own.
fn existing(dir: &Path) -> anyhow::Result<Setup> {
    let home = Home::resolve(Some(dir));
    if !home.is_initialised() {
        return Err(BadInput(format!(
            "--home `{}` holds no CA; create one with `mutual init --home {}`, or leave --home out to measure a temporary one",
            dir.display(),
            dir.display()
        ))
        .into());
    }
    let scratch = tempfile::Builder::new()
        .prefix(".mutual-bench-")
        .tempdir_in(home.path())
        .map_err(|e| {
            BadInput(format!(
                "--home `{}`: a scratch directory could not be made in it: {e}",
                dir.display()
            ))
        })?;
    Ok(Setup {
        home,
        temporary: false,
        scratch,
    })
}

/// A fresh CA in a temporary directory, as `mutual init --unencrypted-intermediate` makes
/// it; the directory, keys and all, goes when the run ends.
async fn temporary() -> anyhow::Result<Setup> {
    let scratch = tempfile::Builder::new()
        .prefix("mutual-bench-")
        .tempdir()
        .map_err(|e| anyhow::anyhow!("a temporary directory could not be made: {e}"))?;
    let home = Home::resolve(Some(&scratch.path().join("home")));
    let options = InitOptions {
        name: "Mutual Bench".to_owned(),
        unencrypted_intermediates: true,
        ..InitOptions::default()
    };
    // Only the root key is encrypted with it, and it is deleted with the directory.
    let passphrase = Passphrase::new("mutual bench: a throwaway root".to_owned());
    init(&home, &options, &passphrase, OffsetDateTime::now_utc())
        .await
        .map_err(ca_error)?;
    Ok(Setup {
        home,
        temporary: true,
        scratch,
    })
}

fn read_ca_key(
    home: &Home,
    role: IssuingRole,
    passphrase: Option<&Passphrase>,
) -> anyhow::Result<KeyPair> {
    let path = home.issuing_key(role);
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| BadInput(format!("`{}`: {e}", path.display())))?;
    mutual_ca::key::read_key(&pem, passphrase)
        .map_err(|e| BadInput(format!("`{}`: {}", path.display(), with_causes(&e))).into())
}

fn read_ca_der(home: &Home, role: IssuingRole) -> anyhow::Result<Vec<u8>> {
    let path = home.issuing_certificate(role);
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| BadInput(format!("`{}`: {e}", path.display())))?;
    der_of(&pem).map_err(|e| BadInput(format!("`{}`: {e:#}", path.display())).into())
}

/// The DER of the first certificate in a PEM text.
fn der_of(pem: &str) -> anyhow::Result<Vec<u8>> {
    mutual_x509::pem::parse(pem.as_bytes())?
        .into_iter()
        .find(|block| block.label == "CERTIFICATE")
        .map(|block| block.der)
        .ok_or_else(|| anyhow::anyhow!("no CERTIFICATE block"))
}

async fn open(path: &Path) -> anyhow::Result<Store> {
    Store::open_sqlite(path).await.map_err(|e| {
        anyhow::anyhow!(
            "certificate store `{}`: {}",
            path.display(),
            with_causes(&e)
        )
    })
}

fn refused(kind: ProfileKind) -> impl Fn(Vec<mutual_ca::issuance::Refusal>) -> anyhow::Error {
    move |refusals| {
        let reasons: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        BadInput(format!(
            "the {kind} profile refuses the bench's requests: {}",
            reasons.join("; ")
        ))
        .into()
    }
}

/// The names certificate `i` is issued for: `bench-i` under the CA's first permitted
/// domain (so name constraints allow it), else under `bench.invalid`; one SAN each.
struct Subjects {
    kind: ProfileKind,
    domain: String,
    uri: bool,
}

impl Subjects {
    fn new(kind: ProfileKind, profile: &Profile, ca: &IssuingCa) -> Subjects {
        let domain = ca
            .permitted_dns
            .first()
            .map(|d| d.trim_start_matches('.').to_owned())
            .unwrap_or_else(|| "bench.invalid".to_owned());
        Subjects {
            kind,
            domain,
            uri: profile.allowed_sans.uri,
        }
    }

    fn request(&self, i: u32) -> Request {
        let (common_name, sans) = match self.kind {
            ProfileKind::Client => {
                let name = format!("bench-{i}");
                let sans = if self.uri {
                    vec![SubjectAltName::Uri(format!(
                        "spiffe://{}/{name}",
                        self.domain
                    ))]
                } else {
                    Vec::new()
                };
                (name, sans)
            }
            _ => {
                let host = format!("bench-{i}.{}", self.domain);
                (host.clone(), vec![SubjectAltName::Dns(host)])
            }
        };
        Request {
            profile: self.kind,
            common_name,
            sans,
            days: None,
            key_type: KEY_TYPE,
            requester: Some("mutual bench".to_owned()),
        }
    }
}

fn time_keygen(count: u32) -> anyhow::Result<Stats> {
    let mut times = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let op = Instant::now();
        let key = KEY_TYPE
            .generate_subject()
            .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
        times.push(op.elapsed());
        drop(key);
    }
    Ok(Stats::of(&times))
}

fn time_plan(
    count: u32,
    subjects: &Subjects,
    profile: &Profile,
    ca: &IssuingCa,
    now: OffsetDateTime,
) -> anyhow::Result<Stats> {
    let mut times = Vec::with_capacity(count as usize);
    for i in 0..count {
        let request = subjects.request(i);
        let op = Instant::now();
        let planned = plan(&request, profile, ca, now).map_err(refused(subjects.kind))?;
        times.push(op.elapsed());
        drop(planned);
    }
    Ok(Stats::of(&times))
}

/// Signs as `issuance::issue` does, from the parameters `issuance::plan` builds (the plan
/// keeps its own to itself, so they are built here the same way).
fn time_sign(
    count: u32,
    subjects: &Subjects,
    issuer: &Issuer,
    now: OffsetDateTime,
) -> anyhow::Result<Stats> {
    let Issuer {
        profile,
        ca_key,
        ca_der,
        ..
    } = issuer;
    let subject_key = KEY_TYPE
        .generate()
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    // Parsed once, as `IssuingCa` keeps it.
    let issuer = rcgen::Issuer::from_ca_cert_der(&ca_der.as_slice().into(), ca_key)?;
    let mut times = Vec::with_capacity(count as usize);
    for i in 0..count {
        let mut params = params(&subjects.request(i), profile, now)?;
        let op = Instant::now();
        params.serial_number = Some(serial(i));
        let certificate = params.signed_by(&subject_key, &issuer)?;
        times.push(op.elapsed());
        drop(certificate);
    }
    Ok(Stats::of(&times))
}

/// What `time_sign` times, with a signer that returns a fixed signature instead of
/// computing one: the DER encoding of the certificate alone.
fn time_der(
    count: u32,
    subjects: &Subjects,
    issuer: &Issuer,
    now: OffsetDateTime,
) -> anyhow::Result<Stats> {
    let Issuer {
        profile,
        ca_key,
        ca_der,
        ..
    } = issuer;
    let subject_key = KEY_TYPE
        .generate()
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    let issuer = rcgen::Issuer::from_ca_cert_der(&ca_der.as_slice().into(), NoSignature(ca_key))?;
    let mut times = Vec::with_capacity(count as usize);
    for i in 0..count {
        let mut params = params(&subjects.request(i), profile, now)?;
        let op = Instant::now();
        params.serial_number = Some(serial(i));
        let certificate = params.signed_by(&subject_key, &issuer)?;
        times.push(op.elapsed());
        drop(certificate);
    }
    Ok(Stats::of(&times))
}

/// A signer for measuring DER alone: the CA key's public half and algorithm, and a fixed
/// 72-byte value (an ECDSA P-256 signature's usual size) in place of a signature.
struct NoSignature<'a>(&'a KeyPair);

impl rcgen::PublicKeyData for NoSignature<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0.der_bytes()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.0.algorithm()
    }
}

impl rcgen::SigningKey for NoSignature<'_> {
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(vec![0x30; 72])
    }
}

/// `issuance::plan`'s certificate parameters for `request`.
fn params(
    request: &Request,
    profile: &Profile,
    now: OffsetDateTime,
) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, request.common_name.as_str());
    params.distinguished_name = subject;
    for san in &request.sans {
        params.subject_alt_names.push(match san {
            SubjectAltName::Dns(v) => SanType::DnsName(v.as_str().try_into()?),
            SubjectAltName::Ip(v) => SanType::IpAddress(*v),
            SubjectAltName::Email(v) => SanType::Rfc822Name(v.as_str().try_into()?),
            SubjectAltName::Uri(v) => SanType::URI(v.as_str().try_into()?),
        });
    }
    params.not_before = now - time::Duration::minutes(1);
    params.not_after =
        now + time::Duration::days(i64::from(request.days.unwrap_or(profile.default_days)));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = profile.key_usages(request.key_type);
    params.extended_key_usages = profile.extended_key_usages();
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// A 16-byte positive serial like `issue`'s; counted rather than random, which saves the
/// ~0.1 µs of drawing 16 bytes from the CSPRNG.
fn serial(i: u32) -> SerialNumber {
    let mut bytes = [0x5a_u8; 16];
    bytes[0] = 0x40;
    bytes[12..].copy_from_slice(&i.to_be_bytes());
    SerialNumber::from_slice(&bytes)
}

fn time_signature(count: u32, ca_key: &KeyPair, message: &[u8]) -> anyhow::Result<Stats> {
    let mut times = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let op = Instant::now();
        let signature = ca_key.sign(message)?;
        times.push(op.elapsed());
        drop(signature);
    }
    Ok(Stats::of(&times))
}

/// What `issue`'s construction check does with a rehearsed certificate: decode, check and
/// lint, the DER parsed once.
fn time_check(ders: &[Vec<u8>], profile: &Profile, now: OffsetDateTime) -> anyhow::Result<Stats> {
    let options = mutual_lint::Options {
        profile: None,
        trust: mutual_lint::TrustMode::Private,
        now,
    };
    let mut times = Vec::with_capacity(ders.len());
    for der in ders {
        let op = Instant::now();
        let (decoded, report) = mutual_lint::decode_and_lint(der, now, &options)?;
        let as_promised = decoded.purpose.kind == profile.expected_purpose()
            && !decoded
                .findings
                .iter()
                .any(|f| f.severity == Severity::Error)
            && !report
                .findings()
                .any(|r| r.status.severity() == Some(Severity::Error));
        times.push(op.elapsed());
        anyhow::ensure!(
            as_promised,
            "an issued certificate failed the construction check or the lints"
        );
    }
    Ok(Stats::of(&times))
}

/// The decoding part of [`time_check`] alone.
fn time_decode(ders: &[Vec<u8>], profile: &Profile, now: OffsetDateTime) -> anyhow::Result<Stats> {
    let mut times = Vec::with_capacity(ders.len());
    for der in ders {
        let op = Instant::now();
        let decoded = mutual_x509::Certificate::from_der(der, now)?;
        let as_promised = decoded.purpose.kind == profile.expected_purpose()
            && !decoded
                .findings
                .iter()
                .any(|f| f.severity == Severity::Error);
        times.push(op.elapsed());
        anyhow::ensure!(
            as_promised,
            "an issued certificate failed the construction check"
        );
    }
    Ok(Stats::of(&times))
}

/// The store step's results.
struct StoreRun {
    times: Vec<Duration>,
    total: Duration,
    writes: WriteStats,
}

/// The lints alone on a decoded certificate, parsing it again.
fn time_lint(ders: &[Vec<u8>], now: OffsetDateTime) -> anyhow::Result<Stats> {
    let mut times = Vec::with_capacity(ders.len());
    for der in ders {
        let decoded = mutual_x509::Certificate::from_der(der, now)?;
        let options = mutual_lint::Options {
            profile: None,
            trust: mutual_lint::TrustMode::Private,
            now: decoded.validity.not_before,
        };
        let op = Instant::now();
        let report = mutual_lint::lint_certificate(&decoded, &options)?;
        times.push(op.elapsed());
        anyhow::ensure!(
            !report
                .findings()
                .any(|r| r.status.severity() == Some(Severity::Error)),
            "an issued certificate failed the pre-issuance lints"
        );
    }
    Ok(Stats::of(&times))
}

/// Records the issued certificates again, into a store of their own, `concurrency` at a
/// time.
async fn time_store(
    path: &Path,
    concurrency: u32,
    warm: &[CertificateRecord],
    issued: &[CertificateRecord],
) -> anyhow::Result<StoreRun> {
    let store = open(path).await?;
    for record in warm {
        store
            .record(&new_certificate(record))
            .await
            .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    }
    let before = store.write_stats();
    let rows: Arc<Vec<NewCertificate>> = Arc::new(issued.iter().map(new_certificate).collect());
    let count = u32::try_from(rows.len())?;
    let store_ = store.clone();
    let (done, total) = in_flight(count, concurrency, move |i| {
        let (store, rows) = (store_.clone(), Arc::clone(&rows));
        async move {
            let row = rows
                .get(i as usize)
                .ok_or_else(|| anyhow::anyhow!("no certificate {i}"))?;
            store
                .record(row)
                .await
                .map_err(|e| anyhow::anyhow!(with_causes(&e)))
        }
    })
    .await?;
    let writes = writes_since(&store, before);
    store.close().await;
    Ok(StoreRun {
        times: done.into_iter().map(|(time, _)| time).collect(),
        total,
        writes,
    })
}

fn new_certificate(record: &CertificateRecord) -> NewCertificate {
    NewCertificate {
        serial: record.serial.clone(),
        issuer_key_id: record.issuer_key_id.clone(),
        issuer: record.issuer.clone(),
        subject: record.subject.clone(),
        sans: record.sans.clone(),
        not_before: record.not_before,
        not_after: record.not_after,
        profile: record.profile.clone(),
        requester: record.requester.clone(),
        fingerprint_sha256: record.fingerprint_sha256.clone(),
        pem: record.pem.clone(),
        audit: Some(bench_audit_note()),
    }
}

/// The audit entry `mutual issue` writes beside each certificate.
fn bench_audit_note() -> AuditNote {
    AuditNote {
        actor: crate::commands::local_actor(),
        action: AuditAction::Issue,
        detail: "profile server (mutual bench issue)".to_owned(),
    }
}

/// `850 µs`, `2.41 ms`.
fn human(micros: f64) -> String {
    if micros >= 1000.0 {
        format!("{:.2} ms", micros / 1000.0)
    } else {
        format!("{micros:.1} µs")
    }
}

fn print_text(report: &Report) {
    let issue = &report.issue;
    let at_a_time = if report.concurrency > 1 {
        format!(", {} at a time,", report.concurrency)
    } else {
        String::new()
    };
    println!(
        "Issued {} {} certificates ({} keys){at_a_time} in {:.2} s: {:.0} certificates/s",
        report.count,
        report.profile,
        report.key_type,
        report.total_seconds,
        report.certificates_per_second
    );
    println!(
        "  per certificate: median {}, mean {}, p99 {}{}",
        human(issue.median_us),
        human(issue.mean_us),
        human(issue.p99_us),
        if report.concurrency > 1 {
            " (each, from start to recorded)"
        } else {
            ""
        }
    );
    println!(
        "  store: {:.1} certificates per commit",
        report.issue_batch_mean
    );
    println!(
        "  CA: {} ({}{})",
        report.ca.subject,
        report.ca.key_type,
        if report.ca.home.is_none() {
            ", temporary"
        } else {
            ""
        }
    );
    println!();
    println!("Each step alone, {} times (median, mean):", report.count);
    let steps = &report.steps;
    let signature = format!(
        "  of which one {} signature ({} bytes)",
        report.ca.key_type, report.certificate_bytes
    );
    let store = if report.concurrency > 1 {
        format!(
            "store record ({} at a time, wait for commit)",
            report.concurrency
        )
    } else {
        "store record (SQLite, synced commit)".to_owned()
    };
    let rows: [(&str, &Stats); 9] = [
        ("key pair", &steps.keygen),
        ("plan (profile and name checks)", &steps.plan),
        ("sign (rcgen: DER and signature)", &steps.sign),
        (&signature, &steps.signature),
        ("  the same without signing: DER alone", &steps.der),
        ("decode, check and lint (one parse)", &steps.check),
        ("  decode and check alone (mutual-x509)", &steps.decode),
        ("  lints alone, parsing again (mutual-lint)", &steps.lint),
        (&store, &steps.store),
    ];
    for (name, stats) in rows {
        println!(
            "  {name:<44} {:>10} {:>10}",
            human(stats.median_us),
            human(stats.mean_us)
        );
    }
    println!(
        "  {:<44} {:>10}",
        "sum of the steps",
        human(report.steps_median_sum_us)
    );
    println!(
        "  {:<44} {:>10}   ({:.1} per commit)",
        "store, wall time per certificate",
        human(report.store_per_certificate_us),
        report.store_batch_mean
    );
    println!();
    println!(
        "Around the signature (an issuance less its key pair and signature): {} = {:.1}x one signature",
        human(report.around_signature_us),
        report.around_signature_ratio
    );
    println!(
        "Parsing, DER and storage per certificate (plan, DER, decode-check-lint, store per certificate): {} = {:.2}x one signature",
        human(report.around_signature_steps_us),
        report.around_signature_steps_ratio
    );
}
