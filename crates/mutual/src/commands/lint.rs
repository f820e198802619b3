//! `mutual lint`: run the lint registry over certificates and CSRs — one file, a directory
//! tree or standard input — in parallel on every core, and report zlint-style.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anstyle::{AnsiColor, Style};
use anyhow::Context;
use mutual_lint::{LintResult, Options, Profile, Report, Status, SubjectKind, TrustMode};

use crate::cli::{LintArgs, LintProfileArg, MinSeverity, ReportFormat, TrustArg};
use crate::exit::{BadInput, ExitStatus};
use crate::input;

const SCHEMA: &str = "mutual.lint/v1";

/// An input named on the command line, or found under a directory named there.
struct Job {
    name: String,
    /// Found by walking a directory: a file holding no certificate or request (a key, a
    /// CRL) is skipped rather than reported.
    from_directory: bool,
}

/// One input, linted and already rendered by the worker that linted it, with what the
/// exit status and the summary need.
struct Linted {
    input: String,
    /// The text block (without its `==> input <==` header) or the JSON document.
    body: Vec<u8>,
    certificates: usize,
    with_errors: usize,
    /// A finding at or above `--min-severity`.
    negative: bool,
    /// Each finding's lint and column (0 error, 1 warn, 2 notice), for the summary table.
    findings: Vec<(&'static str, usize)>,
}

enum Outcome {
    Linted(Linted),
    Skipped,
    Failed(String),
}

/// How workers render what they lint.
struct Render {
    format: ReportFormat,
    colour: bool,
    threshold: mutual_x509::Severity,
    trust: TrustMode,
}

pub(crate) fn run(args: &LintArgs) -> anyhow::Result<ExitStatus> {
    if args.list {
        return list(args.format);
    }
    let now = input::at_or_now(args.at.as_deref())?;
    let options = Options {
        profile: match args.profile {
            LintProfileArg::Auto => None,
            LintProfileArg::Server => Some(Profile::Server),
            LintProfileArg::Client => Some(Profile::Client),
            LintProfileArg::Ca => Some(Profile::Ca),
            LintProfileArg::Ocsp => Some(Profile::Ocsp),
        },
        trust: match args.trust {
            TrustArg::Private => TrustMode::Private,
            TrustArg::Public => TrustMode::Public,
        },
        now,
    };
    let mut status = ExitStatus::Success;
    let mut jobs = Vec::new();
    for name in &args.inputs {
        match expand(name, &mut jobs) {
            Ok(()) => {}
            Err(error) => {
                eprintln!("mutual: {error}");
                status = status.max(ExitStatus::BadInput);
            }
        }
    }
    let render = Render {
        format: args.format,
        colour: args.format == ReportFormat::Text
            && anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never,
        threshold: match args.min_severity {
            MinSeverity::Notice => mutual_x509::Severity::Info,
            MinSeverity::Warn => mutual_x509::Severity::Warning,
            MinSeverity::Error => mutual_x509::Severity::Error,
        },
        trust: options.trust,
    };

    // Reports are written as they come, in input order, instead of all at the end: memory
    // stays flat over a large inventory and the first lines appear at once.
    let mut sink = Sink {
        out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        format: args.format,
        held: None,
        inputs: 0,
        certificates: 0,
        with_errors: 0,
        by_lint: BTreeMap::new(),
        negative: false,
        failed: false,
    };
    lint_all(&jobs, &options, &render, |outcome| sink.accept(outcome)).context("writing")?;
    sink.finish().context("writing")?;
    if sink.failed {
        status = status.max(ExitStatus::BadInput);
    }
    if sink.negative {
        status = status.max(ExitStatus::Negative);
    }
    Ok(status)
}

/// Where outcomes go, in input order: stdout for reports, stderr for failures, and the
/// totals for the summary and the exit status.
struct Sink<W: Write> {
    out: W,
    format: ReportFormat,
    /// Text: the first input's report, held until a second one says that headers are
    /// needed (a single input is printed without one).
    held: Option<Linted>,
    inputs: usize,
    certificates: usize,
    with_errors: usize,
    by_lint: BTreeMap<&'static str, [usize; 3]>,
    negative: bool,
    failed: bool,
}

impl<W: Write> Sink<W> {
    fn accept(&mut self, outcome: Outcome) -> std::io::Result<()> {
        let linted = match outcome {
            Outcome::Linted(linted) => linted,
            Outcome::Skipped => return Ok(()),
            Outcome::Failed(message) => {
                eprintln!("mutual: {message}");
                self.failed = true;
                return Ok(());
            }
        };
        self.inputs += 1;
        self.certificates += linted.certificates;
        self.with_errors += linted.with_errors;
        self.negative |= linted.negative;
        for &(code, column) in &linted.findings {
            self.by_lint.entry(code).or_default()[column] += 1;
        }
        match self.format {
            ReportFormat::Json => self.out.write_all(&linted.body),
            ReportFormat::Text => {
                if self.inputs == 1 {
                    self.held = Some(linted);
                    return Ok(());
                }
                if let Some(first) = self.held.take() {
                    self.with_header(&first)?;
                }
                self.with_header(&linted)
            }
        }
    }

    fn with_header(&mut self, linted: &Linted) -> std::io::Result<()> {
        writeln!(self.out, "==> {} <==", linted.input)?;
        self.out.write_all(&linted.body)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if let Some(only) = self.held.take() {
            self.out.write_all(&only.body)?;
        }
        if self.format == ReportFormat::Text && self.certificates > 1 {
            self.summary()?;
        }
        self.out.flush()
    }

    fn summary(&mut self) -> std::io::Result<()> {
        let out = &mut self.out;
        writeln!(
            out,
            "{} certificates and requests linted, {} with errors",
            self.certificates, self.with_errors
        )?;
        if self.by_lint.is_empty() {
            return Ok(());
        }
        let mut rows: Vec<(&str, [usize; 3])> =
            std::mem::take(&mut self.by_lint).into_iter().collect();
        rows.sort_by(|a, b| {
            b.1.iter()
                .sum::<usize>()
                .cmp(&a.1.iter().sum())
                .then(a.0.cmp(b.0))
        });
        let width = rows.iter().map(|(c, _)| c.len()).max().unwrap_or(4).max(4);
        writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}  {:>6}",
            "lint", "error", "warn", "notice"
        )?;
        for (code, [e, w, n]) in rows {
            writeln!(out, "{code:<width$}  {e:>6}  {w:>6}  {n:>6}")?;
        }
        Ok(())
    }
}

/// Adds `name` as a job, or every file under it when it is a directory, in path order,
/// so the output order does not depend on the file system.
fn expand(name: &str, jobs: &mut Vec<Job>) -> Result<(), BadInput> {
    let path = Path::new(name);
    if name != "-" && path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files).map_err(|e| BadInput(format!("`{name}` could not be read: {e}")))?;
        jobs.extend(files.into_iter().map(|f| Job {
            name: f.to_string_lossy().into_owned(),
            from_directory: true,
        }));
    } else {
        jobs.push(Job {
            name: name.to_owned(),
            from_directory: false,
        });
    }
    Ok(())
}

/// Depth first, each directory's entries sorted by name: the order of sorting the whole
/// paths, for the price of sorting short names.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<std::io::Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// Lints every job on all cores, and hands the outcomes to `accept` in job order as soon
/// as each one's turn comes. Stops early when `accept` fails (stdout closed).
fn lint_all(
    jobs: &[Job],
    options: &Options,
    render: &Render,
    mut accept: impl FnMut(Outcome) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    // Workers take jobs a batch at a time and send each batch's outcomes as one message:
    // per file, a channel hand-over (and waking the writer) cost as much as reading it.
    // Small enough that a few files still spread over every core.
    let batch = (jobs.len() / (workers * 8)).clamp(1, 32);
    let progress = (jobs.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(jobs.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} linting {pos}/{len} files [{bar:40}] {per_sec} {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let next = &AtomicUsize::new(0);
    let stop = &AtomicBool::new(false);
    // Bounded: when stdout is slower than linting, the workers wait instead of piling up
    // rendered reports.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(usize, Vec<Outcome>)>(workers * 4);
    let result = std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let first = next.fetch_add(batch, Ordering::Relaxed);
                    let Some(taken) = jobs.get(first..).filter(|rest| !rest.is_empty()) else {
                        break;
                    };
                    let outcomes = taken
                        .iter()
                        .take(batch)
                        .map(|job| lint_one(job, options, render))
                        .collect();
                    if sender.send((first, outcomes)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Batches that arrived before their turn, by their first job's index.
        let mut waiting: BTreeMap<usize, Vec<Outcome>> = BTreeMap::new();
        let mut turn = 0;
        for (first, outcomes) in receiver {
            if let Some(bar) = &progress {
                bar.inc(outcomes.len() as u64);
            }
            waiting.insert(first, outcomes);
            while let Some(ready) = waiting.remove(&turn) {
                turn += ready.len();
                for outcome in ready {
                    if let Err(error) = accept(outcome) {
                        stop.store(true, Ordering::Relaxed);
                        return Err(error);
                    }
                }
            }
        }
        Ok(())
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    result
}

/// Reads a file found or named: `input::read_input`'s checks and messages, with one
/// `open` and one `fstat` and a buffer of the file's size, instead of a `stat` by path and
/// a buffer grown from nothing — per file of a large inventory, that was a sixth of the
/// time. Standard input goes through `input::read_input`.
fn read(name: &str) -> Result<Vec<u8>, BadInput> {
    use mutual_x509::MAX_INPUT_BYTES;
    use std::io::Read;
    if name == "-" {
        return input::read_input(name);
    }
    let too_large = |size: u64| {
        BadInput(format!(
            "`{name}` is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes, and no certificate object comes near it"
        ))
    };
    let file = std::fs::File::open(name)
        .map_err(|e| BadInput(format!("`{name}` could not be opened: {e}")))?;
    let metadata = file
        .metadata()
        .map_err(|e| BadInput(format!("`{name}` could not be read: {e}")))?;
    if metadata.is_dir() {
        return Err(BadInput(format!(
            "`{name}` is a directory; expected a file"
        )));
    }
    if metadata.len() > MAX_INPUT_BYTES {
        return Err(too_large(metadata.len()));
    }
    // One byte of room past the size: the read that finds the end needs no new buffer.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0) + 1);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| BadInput(format!("`{name}` could not be read: {e}")))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn lint_one(job: &Job, options: &Options, render: &Render) -> Outcome {
    let bytes = match read(&job.name) {
        Ok(bytes) => bytes,
        Err(error) => return Outcome::Failed(error.0),
    };
    let shown = if job.name == "-" {
        "standard input"
    } else {
        job.name.as_str()
    };
    let reports = match mutual_lint::lint_bytes(&bytes, options) {
        Ok(reports) => reports,
        Err(mutual_lint::LintError::NotLintable { .. }) if job.from_directory => {
            return Outcome::Skipped;
        }
        Err(mutual_lint::LintError::NotLintable { found }) => {
            return Outcome::Failed(format!(
                "`{shown}` holds no certificate or certificate request to lint; found {found}"
            ));
        }
        Err(error) => return Outcome::Failed(format!("`{shown}` {error}")),
    };
    let mut linted = Linted {
        input: job.name.clone(),
        body: Vec::with_capacity(match render.format {
            ReportFormat::Json => 12 * 1024 * reports.len(),
            ReportFormat::Text => 1024,
        }),
        certificates: reports.len(),
        with_errors: 0,
        negative: false,
        findings: Vec::new(),
    };
    for report in &reports {
        let worst = report.worst();
        linted.negative |= worst.is_some_and(|w| w >= render.threshold);
        linted.with_errors += usize::from(worst == Some(mutual_x509::Severity::Error));
    }
    let written = match render.format {
        ReportFormat::Json => write_json(&mut linted.body, &job.name, render.trust, &reports),
        ReportFormat::Text => reports.iter().try_for_each(|report| {
            write_text(
                &mut linted.body,
                report,
                render.colour,
                &mut linted.findings,
            )
        }),
    };
    match written {
        Ok(()) => Outcome::Linted(linted),
        Err(error) => Outcome::Failed(format!(
            "`{shown}`: the report could not be written: {error}"
        )),
    }
}

/// Writes one input's JSON document (docs/lint-json.md) as `serde_json`'s pretty printer
/// would write the serde types in the tests below, byte for byte: the printer spent most of
/// its time escaping the same lint ids and indentation again for every certificate, so
/// here only the strings that vary go through `serde_json`.
fn write_json(
    out: &mut Vec<u8>,
    input: &str,
    trust: TrustMode,
    reports: &[Report],
) -> std::io::Result<()> {
    out.extend_from_slice(b"{\n  \"schema\": ");
    json_string(out, SCHEMA)?;
    out.extend_from_slice(b",\n  \"input\": ");
    json_string(out, input)?;
    out.extend_from_slice(b",\n  \"trust\": \"");
    out.extend_from_slice(match trust {
        TrustMode::Private => b"private".as_slice(),
        TrustMode::Public => b"public",
    });
    out.extend_from_slice(b"\",\n  \"certificates\": [");
    for (index, r) in reports.iter().enumerate() {
        out.extend_from_slice(if index == 0 { b"\n" } else { b",\n" });
        out.extend_from_slice(b"    {\n      \"kind\": \"");
        out.extend_from_slice(match r.kind {
            SubjectKind::Certificate => b"certificate".as_slice(),
            SubjectKind::CertificateRequest => b"certificate_request",
        });
        out.extend_from_slice(b"\",\n      \"subject\": ");
        json_string(out, &r.subject)?;
        if let Some(serial) = &r.serial {
            out.extend_from_slice(b",\n      \"serial\": ");
            json_string(out, serial)?;
        }
        if let Some(sha256) = &r.sha256 {
            out.extend_from_slice(b",\n      \"sha256\": ");
            json_string(out, sha256)?;
        }
        out.extend_from_slice(b",\n      \"profiles\": [");
        for (i, profile) in r.profiles.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
            out.extend_from_slice(b"        \"");
            out.extend_from_slice(profile.as_str().as_bytes());
            out.push(b'"');
        }
        if !r.profiles.is_empty() {
            out.extend_from_slice(b"\n      ");
        }
        out.extend_from_slice(b"],\n      \"results\": {");
        let mut first = true;
        in_code_order(&r.results, |result| {
            out.extend_from_slice(if first { b"\n" } else { b",\n" });
            first = false;
            // Lint ids are snake_case (a registry test holds them to it): nothing to escape.
            out.extend_from_slice(b"        \"");
            out.extend_from_slice(result.code.as_bytes());
            out.extend_from_slice(b"\": {\n          \"result\": \"");
            out.extend_from_slice(result.status.as_str().as_bytes());
            out.push(b'"');
            if let Some(details) = &result.details {
                out.extend_from_slice(b",\n          \"details\": ");
                json_string(out, details)?;
            }
            out.extend_from_slice(b"\n        }");
            Ok::<(), std::io::Error>(())
        })?;
        if !r.results.is_empty() {
            out.extend_from_slice(b"\n      ");
        }
        out.extend_from_slice(b"}\n    }");
    }
    out.extend_from_slice(b"\n  ]\n}\n");
    Ok(())
}

/// A JSON string, escaped by `serde_json`.
fn json_string(out: &mut Vec<u8>, text: &str) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, text).map_err(std::io::Error::from)
}

/// Calls `each` on `results` in lint-id order, the order of the JSON keys (stable for
/// diffs, as a sorted map would give). Every certificate's results come in registry
/// order, so the order is worked out once per thread and reused for as long as the codes
/// are the same ones (the same `&'static str`s) in the same places.
fn in_code_order<E>(
    results: &[LintResult],
    mut each: impl FnMut(&LintResult) -> Result<(), E>,
) -> Result<(), E> {
    thread_local! {
        static ORDER: RefCell<(Vec<&'static str>, Vec<usize>)> = const {
            RefCell::new((Vec::new(), Vec::new()))
        };
    }
    ORDER.with_borrow_mut(|(codes, order)| {
        let same = codes.len() == results.len()
            && codes
                .iter()
                .zip(results)
                .all(|(c, r)| std::ptr::eq(*c, r.code));
        if !same {
            *codes = results.iter().map(|r| r.code).collect();
            *order = (0..results.len()).collect();
            order.sort_by_key(|&i| results[i].code);
        }
        order.iter().try_for_each(|&i| each(&results[i]))
    })
}

fn style_of(status: Status) -> Style {
    match status {
        Status::Error => AnsiColor::Red.on_default().bold(),
        Status::Warn => AnsiColor::Yellow.on_default().bold(),
        Status::Notice => AnsiColor::Cyan.on_default(),
        _ => Style::new(),
    }
}

/// One certificate's block: what it is, one line per finding, and its counts. Each
/// finding's lint and column go to `findings` for the summary table.
fn write_text(
    out: &mut Vec<u8>,
    r: &Report,
    colour: bool,
    findings: &mut Vec<(&'static str, usize)>,
) -> std::io::Result<()> {
    let what = match r.kind {
        SubjectKind::Certificate => "certificate",
        SubjectKind::CertificateRequest => "certificate request",
    };
    let subject = if r.subject.is_empty() {
        "(empty subject)"
    } else {
        r.subject.as_str()
    };
    write!(out, "{what} {subject}")?;
    if let Some(serial) = &r.serial {
        write!(out, " (serial {serial})")?;
    }
    write!(out, "; linted as ")?;
    if r.profiles.is_empty() {
        write!(out, "a leaf of no particular profile")?;
    }
    for (i, profile) in r.profiles.iter().enumerate() {
        let and = if i > 0 { " and " } else { "" };
        write!(out, "{and}{}", profile.as_str())?;
    }
    writeln!(out)?;
    let mut counts = [0usize; 3];
    let (mut passed, mut na) = (0usize, 0usize);
    for result in &r.results {
        let column = match result.status {
            Status::Pass => {
                passed += 1;
                continue;
            }
            Status::NotApplicable | Status::NotEffective => {
                na += 1;
                continue;
            }
            Status::Error => 0,
            Status::Warn => 1,
            Status::Notice => 2,
        };
        counts[column] += 1;
        findings.push((result.code, column));
        let status = result.status.as_str();
        if colour {
            let style = style_of(result.status);
            write!(out, "  {style}{status:<6}{style:#}")?;
        } else {
            write!(out, "  {status:<6}")?;
        }
        write!(out, " {}: {}", result.code, result.meta.summary)?;
        if let Some(details) = &result.details {
            write!(out, " — {details}")?;
        }
        writeln!(
            out,
            " [{} {}]",
            result.meta.source.as_str(),
            result.meta.citation
        )?;
    }
    writeln!(
        out,
        "  {} error(s), {} warning(s), {} notice(s); {passed} passed, {na} not applicable or not yet effective\n",
        counts[0], counts[1], counts[2]
    )
}

fn list(format: ReportFormat) -> anyhow::Result<ExitStatus> {
    let entries = mutual_lint::registry();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &entries).context("writing JSON")?;
            writeln!(stdout)?;
        }
        ReportFormat::Text => {
            let width = entries.iter().map(|e| e.code.len()).max().unwrap_or(0);
            for e in &entries {
                let mut notes = vec![format!("applies to {}", e.applies_to)];
                if !e.effective.is_empty() {
                    notes.push(format!("from {}", e.effective));
                }
                if e.public_only {
                    notes.push("public trust only".to_owned());
                }
                if e.subjects != mutual_lint::Subjects::Both {
                    notes.push(format!("{} only", e.subjects.as_str()));
                }
                writeln!(
                    stdout,
                    "{:<width$}  {}\n{:<width$}  {} {}; {}",
                    e.code,
                    e.summary,
                    "",
                    e.source,
                    e.citation,
                    notes.join(", ")
                )?;
            }
            writeln!(stdout, "\n{} lints", entries.len())?;
        }
    }
    stdout.flush()?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;

    /// The schema of docs/lint-json.md as serde types: what `write_json` must print.
    #[derive(Serialize)]
    struct InputJson<'a> {
        schema: &'static str,
        input: &'a str,
        trust: TrustMode,
        certificates: Vec<CertificateJson<'a>>,
    }

    #[derive(Serialize)]
    struct CertificateJson<'a> {
        kind: SubjectKind,
        subject: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        serial: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256: Option<&'a str>,
        profiles: &'a [Profile],
        results: BTreeMap<&'static str, ResultJson<'a>>,
    }

    #[derive(Serialize)]
    struct ResultJson<'a> {
        result: Status,
        #[serde(skip_serializing_if = "Option::is_none")]
        details: Option<&'a str>,
    }

    fn reference(input: &str, trust: TrustMode, reports: &[Report]) -> String {
        let document = InputJson {
            schema: SCHEMA,
            input,
            trust,
            certificates: reports
                .iter()
                .map(|r| CertificateJson {
                    kind: r.kind,
                    subject: &r.subject,
                    serial: r.serial.as_deref(),
                    sha256: r.sha256.as_deref(),
                    profiles: &r.profiles,
                    results: r
                        .results
                        .iter()
                        .map(|x| {
                            (
                                x.code,
                                ResultJson {
                                    result: x.status,
                                    details: x.details.as_deref(),
                                },
                            )
                        })
                        .collect(),
                })
                .collect(),
        };
        serde_json::to_string_pretty(&document).unwrap() + "\n"
    }

    fn pem(edit: impl FnOnce(&mut rcgen::CertificateParams)) -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::default();
        edit(&mut params);
        params.self_signed(&key).unwrap().pem()
    }

    /// Byte for byte what serde_json prints: a chain, a certificate with no profile and an
    /// empty subject, a request, strings that need escaping, both trust modes.
    #[test]
    fn write_json_prints_what_serde_json_would() {
        let server = pem(|p| {
            p.distinguished_name
                .push(rcgen::DnType::CommonName, "quote \" back\\slash \u{1} é");
            p.subject_alt_names = vec![rcgen::SanType::DnsName("a_b.internal".try_into().unwrap())];
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        });
        let bare = pem(|p| p.distinguished_name = rcgen::DistinguishedName::new());
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let request = rcgen::CertificateParams::new(["www.example.com".to_owned()])
            .unwrap()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap();
        for trust in [TrustMode::Private, TrustMode::Public] {
            let options = Options {
                profile: None,
                trust,
                now: time::OffsetDateTime::now_utc(),
            };
            for input in [[server.clone(), bare.clone()].concat(), request.clone()] {
                let reports = mutual_lint::lint_bytes(input.as_bytes(), &options).unwrap();
                let mut out = Vec::new();
                write_json(&mut out, "dir/\"odd\" name.pem", trust, &reports).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    reference("dir/\"odd\" name.pem", trust, &reports)
                );
            }
        }
    }
}
