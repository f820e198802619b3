//! `mutual lint`: run the lint registry over certificates and CSRs — one file, a directory
//! tree or standard input — in parallel on every core, and report zlint-style.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anstyle::{AnsiColor, Style};
use anyhow::Context;
use mutual_lint::{Options, Profile, Report, Status, TrustMode};
use serde::Serialize;

use crate::cli::{LintArgs, LintProfileArg, MinSeverity, ReportFormat, TrustArg};
use crate::exit::{BadInput, ExitStatus};
use crate::input;

const SCHEMA: &str = "mutual.lint/v1";

/// The JSON document written for each input; see docs/lint-json.md.
#[derive(Debug, Serialize)]
struct InputReport {
    schema: &'static str,
    input: String,
    trust: TrustMode,
    certificates: Vec<CertificateReport>,
}

/// One certificate or request: what it is, and every lint's result keyed by lint id, as
/// zlint prints them.
#[derive(Debug, Serialize)]
struct CertificateReport {
    kind: mutual_lint::SubjectKind,
    subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    profiles: Vec<Profile>,
    results: BTreeMap<&'static str, ResultJson>,
    #[serde(skip)]
    report: Report,
}

#[derive(Debug, Serialize)]
struct ResultJson {
    result: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<String>,
}

impl CertificateReport {
    fn new(report: Report) -> Self {
        CertificateReport {
            kind: report.kind,
            subject: report.subject.clone(),
            serial: report.serial.clone(),
            sha256: report.sha256.clone(),
            profiles: report.profiles.clone(),
            results: report
                .results
                .iter()
                .map(|r| {
                    (
                        r.code,
                        ResultJson {
                            result: r.status,
                            details: r.details.clone(),
                        },
                    )
                })
                .collect(),
            report,
        }
    }
}

/// An input named on the command line, or found under a directory named there.
struct Job {
    name: String,
    /// Found by walking a directory: a file holding no certificate or request (a key, a
    /// CRL) is skipped rather than reported.
    from_directory: bool,
}

enum Outcome {
    Linted(InputReport),
    Skipped,
    Failed(String),
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
    let outcomes = lint_all(&jobs, &options);

    let threshold = match args.min_severity {
        MinSeverity::Notice => mutual_x509::Severity::Info,
        MinSeverity::Warn => mutual_x509::Severity::Warning,
        MinSeverity::Error => mutual_x509::Severity::Error,
    };
    let mut reports = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Linted(report) => reports.push(report),
            Outcome::Skipped => {}
            Outcome::Failed(message) => {
                eprintln!("mutual: {message}");
                status = status.max(ExitStatus::BadInput);
            }
        }
    }
    let negative = reports
        .iter()
        .flat_map(|r| &r.certificates)
        .any(|c| c.report.worst().is_some_and(|w| w >= threshold));
    if negative {
        status = status.max(ExitStatus::Negative);
    }

    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ReportFormat::Json => {
            for report in &reports {
                serde_json::to_writer_pretty(&mut stdout, report).context("writing JSON")?;
                writeln!(stdout)?;
            }
        }
        ReportFormat::Text => {
            let colour =
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
            write_text(&mut stdout, &reports, colour)?;
        }
    }
    stdout.flush()?;
    Ok(status)
}

/// Adds `name` as a job, or every file under it when it is a directory (sorted, so the
/// output order does not depend on the file system).
fn expand(name: &str, jobs: &mut Vec<Job>) -> Result<(), BadInput> {
    let path = Path::new(name);
    if name != "-" && path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files).map_err(|e| BadInput(format!("`{name}` could not be read: {e}")))?;
        files.sort();
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

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// Lints every job on all cores; outcomes come back in job order.
fn lint_all(jobs: &[Job], options: &Options) -> Vec<Outcome> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let progress = (jobs.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(jobs.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} linting {pos}/{len} files [{bar:40}] {per_sec} {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    let outcome = lint_one(job, options);
                    if let Ok(mut slots) = results.lock() {
                        slots[index] = Some(outcome);
                    }
                    if let Some(bar) = &progress {
                        bar.inc(1);
                    }
                }
            });
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Failed("a worker thread stopped".to_owned())))
        .collect()
}

fn lint_one(job: &Job, options: &Options) -> Outcome {
    let bytes = match input::read_input(&job.name) {
        Ok(bytes) => bytes,
        Err(error) => return Outcome::Failed(error.0),
    };
    let shown = if job.name == "-" {
        "standard input"
    } else {
        job.name.as_str()
    };
    match mutual_lint::lint_bytes(&bytes, options) {
        Ok(reports) => Outcome::Linted(InputReport {
            schema: SCHEMA,
            input: job.name.clone(),
            trust: options.trust,
            certificates: reports.into_iter().map(CertificateReport::new).collect(),
        }),
        Err(mutual_lint::LintError::NotLintable { .. }) if job.from_directory => Outcome::Skipped,
        Err(mutual_lint::LintError::NotLintable { found }) => Outcome::Failed(format!(
            "`{shown}` holds no certificate or certificate request to lint; found {found}"
        )),
        Err(error) => Outcome::Failed(format!("`{shown}` {error}")),
    }
}

fn style_of(status: Status) -> Style {
    match status {
        Status::Error => AnsiColor::Red.on_default().bold(),
        Status::Warn => AnsiColor::Yellow.on_default().bold(),
        Status::Notice => AnsiColor::Cyan.on_default(),
        _ => Style::new(),
    }
}

fn write_text(out: &mut impl Write, reports: &[InputReport], colour: bool) -> anyhow::Result<()> {
    let several = reports.len() > 1;
    let paint = |status: Status| {
        let text = format!("{:<6}", status.as_str());
        if colour {
            let style = style_of(status);
            format!("{style}{text}{style:#}")
        } else {
            text
        }
    };
    let mut by_lint: BTreeMap<&'static str, [usize; 3]> = BTreeMap::new();
    let mut certificates = 0usize;
    let mut with_errors = 0usize;
    for report in reports {
        if several {
            writeln!(out, "==> {} <==", report.input)?;
        }
        for cert in &report.certificates {
            certificates += 1;
            let r = &cert.report;
            let what = match r.kind {
                mutual_lint::SubjectKind::Certificate => "certificate",
                mutual_lint::SubjectKind::CertificateRequest => "certificate request",
            };
            let profiles: Vec<&str> = r.profiles.iter().map(|p| p.as_str()).collect();
            let subject = if r.subject.is_empty() {
                "(empty subject)"
            } else {
                r.subject.as_str()
            };
            writeln!(
                out,
                "{what} {subject}{}; linted as {}",
                r.serial
                    .as_deref()
                    .map(|s| format!(" (serial {s})"))
                    .unwrap_or_default(),
                if profiles.is_empty() {
                    "a leaf of no particular profile".to_owned()
                } else {
                    profiles.join(" and ")
                }
            )?;
            let mut counts = [0usize; 3];
            for finding in r.findings() {
                let slot = match finding.status {
                    Status::Error => 0,
                    Status::Warn => 1,
                    _ => 2,
                };
                counts[slot] += 1;
                by_lint.entry(finding.code).or_default()[slot] += 1;
                writeln!(
                    out,
                    "  {} {}: {}{} [{} {}]",
                    paint(finding.status),
                    finding.code,
                    finding.meta.summary,
                    finding
                        .details
                        .as_deref()
                        .map(|d| format!(" — {d}"))
                        .unwrap_or_default(),
                    finding.meta.source.as_str(),
                    finding.meta.citation,
                )?;
            }
            if counts[0] > 0 {
                with_errors += 1;
            }
            let passed = r
                .results
                .iter()
                .filter(|x| x.status == Status::Pass)
                .count();
            let na = r
                .results
                .iter()
                .filter(|x| matches!(x.status, Status::NotApplicable | Status::NotEffective))
                .count();
            writeln!(
                out,
                "  {} error(s), {} warning(s), {} notice(s); {passed} passed, {na} not applicable or not yet effective\n",
                counts[0], counts[1], counts[2]
            )?;
        }
    }
    if certificates > 1 {
        writeln!(
            out,
            "{certificates} certificates and requests linted, {with_errors} with errors"
        )?;
        if !by_lint.is_empty() {
            let mut rows: Vec<(&str, [usize; 3])> = by_lint.into_iter().collect();
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
        }
    }
    Ok(())
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
