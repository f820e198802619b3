//! `mutual backup` and `mutual restore`: the CA material (the home's `ca/` and
//! `mutual.toml`, keys exactly as stored, so encrypted ones stay encrypted) and a snapshot
//! of every row of the store, in one file, from either database into either. Moving from
//! SQLite to PostgreSQL when one machine is outgrown is a backup and a restore.
//!
//! The file is JSON Lines: a header, the files, the rows table by table, and an end line
//! counting what came before, so a truncated or spliced file is refused as a whole.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Component, Path, PathBuf};

use mutual_ca::files::{FileKind, write_atomic};
use mutual_ca::home::Home;
use mutual_ca::store::{
    AuditRow, CertificateRow, CrlNumberRow, Database, RevocationRow, SanRow, Snapshot, Store,
    TokenRow, schema_status,
};
use serde::{Deserialize, Serialize};

use crate::cli::{BackupArgs, RestoreArgs};
use crate::commands::{ca_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

const FORMAT: &str = "mutual-backup";
const VERSION: u32 = 1;

/// One line of a backup file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Line {
    Header(Header),
    File(FileEntry),
    Certificate(CertificateRow),
    San(SanRow),
    Revocation(RevocationRow),
    CrlNumber(CrlNumberRow),
    Audit(AuditRow),
    Token(TokenRow),
    End(End),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    created_at: String,
    /// Where the rows came from (`sqlite` or `postgres`), for people reading the file.
    source: String,
    /// The store's schema version: a restore refuses a newer one.
    schema_version: i64,
}

/// A file of the home, by its path relative to the home.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    path: String,
    /// Permission bits (0o600 for keys).
    mode: u32,
    contents: String,
}

/// What came before it, by kind: a file cut short misses its end line or miscounts.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    counts: BTreeMap<String, u64>,
}

impl Line {
    fn kind(&self) -> &'static str {
        match self {
            Line::Header(_) => "header",
            Line::File(_) => "file",
            Line::Certificate(_) => "certificate",
            Line::San(_) => "san",
            Line::Revocation(_) => "revocation",
            Line::CrlNumber(_) => "crl_number",
            Line::Audit(_) => "audit",
            Line::Token(_) => "token",
            Line::End(_) => "end",
        }
    }
}

pub(crate) fn backup(args: &BackupArgs) -> anyhow::Result<ExitStatus> {
    let home = Home::resolve(args.home.as_deref());
    if !home.is_initialised() {
        return Err(BadInput(format!(
            "no CA in `{}`: nothing to back up (pass --home or set MUTUAL_HOME)",
            home.path().display()
        ))
        .into());
    }
    let database = home.database(args.store.get()).map_err(ca_error)?;
    let files = home_files(&home)?;
    let runtime = crate::commands::runtime()?;
    let (snapshot, schema_version) = runtime
        .block_on(async {
            let store = Store::open(&database).await?;
            let snapshot = store.export().await;
            store.close().await;
            let status = schema_status(&database).await?;
            let version = status.applied.iter().map(|m| m.version).max().unwrap_or(0);
            Ok::<_, mutual_ca::store::StoreError>((snapshot?, version))
        })
        .map_err(|e| BadInput(with_causes(&e)))?;

    let mut lines = vec![Line::Header(Header {
        format: FORMAT.to_owned(),
        version: VERSION,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
        source: match database {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
        .to_owned(),
        schema_version,
    })];
    lines.extend(files.into_iter().map(Line::File));
    let counts = snapshot.counts();
    let Snapshot {
        certificates,
        sans,
        revocations,
        crl_numbers,
        audit,
        tokens,
    } = snapshot;
    lines.extend(certificates.into_iter().map(Line::Certificate));
    lines.extend(sans.into_iter().map(Line::San));
    lines.extend(revocations.into_iter().map(Line::Revocation));
    lines.extend(crl_numbers.into_iter().map(Line::CrlNumber));
    lines.extend(audit.into_iter().map(Line::Audit));
    lines.extend(tokens.into_iter().map(Line::Token));
    let mut end = End::default();
    let mut text = String::new();
    for line in &lines {
        *end.counts.entry(line.kind().to_owned()).or_default() += 1;
        text.push_str(&serde_json::to_string(line)?);
        text.push('\n');
    }
    text.push_str(&serde_json::to_string(&Line::End(end))?);
    text.push('\n');
    // It holds the CA's keys: owner only, whatever the keys' own encryption.
    write_atomic(&args.out, text.as_bytes(), FileKind::Secret)
        .map_err(|e| BadInput(format!("--out `{}`: {e}", args.out.display())))?;

    let unencrypted: Vec<&str> = lines
        .iter()
        .filter_map(|line| match line {
            Line::File(file)
                if file.contents.contains("-----BEGIN PRIVATE KEY-----")
                    || file.contents.contains("-----BEGIN EC PRIVATE KEY-----")
                    || file.contents.contains("-----BEGIN RSA PRIVATE KEY-----") =>
            {
                Some(file.path.as_str())
            }
            _ => None,
        })
        .collect();
    println!(
        "Backed up the CA in `{}` and the store {database} to `{}` (mode 0600):",
        home.path().display(),
        args.out.display()
    );
    for (table, count) in counts {
        println!("  {table:<18} {count}");
    }
    if !unencrypted.is_empty() {
        eprintln!(
            "mutual: warning: the backup holds unencrypted private keys ({}): keep it as safe as the CA itself",
            unencrypted.join(", ")
        );
    }
    Ok(ExitStatus::Success)
}

/// The home's `ca/` (every regular file, recursively) and its `mutual.toml`.
fn home_files(home: &Home) -> anyhow::Result<Vec<FileEntry>> {
    let mut files = Vec::new();
    let mut pending = vec![home.ca_dir()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| BadInput(format!("`{}`: {e}", dir.display())))?;
        for entry in entries {
            let path = entry?.path();
            let metadata = std::fs::symlink_metadata(&path)?;
            if metadata.is_dir() {
                pending.push(path);
            } else if metadata.is_file() {
                files.push(file_entry(home, &path, &metadata)?);
            }
        }
    }
    let config = home.config();
    if let Ok(metadata) = std::fs::symlink_metadata(&config)
        && metadata.is_file()
    {
        files.push(file_entry(home, &config, &metadata)?);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn file_entry(home: &Home, path: &Path, metadata: &std::fs::Metadata) -> anyhow::Result<FileEntry> {
    use std::os::unix::fs::PermissionsExt;
    let contents = std::fs::read_to_string(path).map_err(|e| {
        BadInput(format!(
            "`{}`: {e} (the CA's files are PEM and TOML text)",
            path.display()
        ))
    })?;
    let relative = path
        .strip_prefix(home.path())
        .map_err(|_| anyhow::anyhow!("`{}` is outside the home", path.display()))?;
    Ok(FileEntry {
        path: relative.to_string_lossy().into_owned(),
        mode: metadata.permissions().mode() & 0o777,
        contents,
    })
}

pub(crate) fn restore(args: &RestoreArgs) -> anyhow::Result<ExitStatus> {
    let (header, files, snapshot) = read_backup(&args.file)?;
    let home = Home::resolve(args.home.as_deref());
    if home.is_initialised() {
        return Err(BadInput(format!(
            "`{}` already holds a CA: restore into a new home (--home DIR)",
            home.path().display()
        ))
        .into());
    }
    let known = mutual_ca::store::known_schema_version();
    if header.schema_version > known {
        return Err(BadInput(format!(
            "`{}` was made from a store at schema version {}, newer than this build knows ({known}): restore it with that mutual or a newer one",
            args.file.display(),
            header.schema_version
        ))
        .into());
    }
    // The target is what the command line says, else the new home's own SQLite file: the
    // `database` in the backed-up mutual.toml names where the rows came from.
    let database = args
        .store
        .get()
        .cloned()
        .unwrap_or_else(|| Database::Sqlite(home.store()));

    std::fs::create_dir_all(home.path())
        .map_err(|e| BadInput(format!("--home `{}`: {e}", home.path().display())))?;
    let staging = home
        .path()
        .join(format!(".restore-staging-{}", std::process::id()));
    let written = stage_files(&staging, &files, &database);
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    let runtime = crate::commands::runtime()?;
    let imported = runtime.block_on(async {
        let store = Store::open(&database).await?;
        let imported = store.import(&snapshot).await;
        store.close().await;
        imported
    });
    if let Err(error) = imported {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(BadInput(with_causes(&error)).into());
    }
    // The rows are committed; now the files, the CA directory in one rename.
    std::fs::rename(staging.join("ca"), home.ca_dir()).map_err(|e| {
        anyhow::anyhow!(
            "moving the restored CA into `{}`: {e}",
            home.ca_dir().display()
        )
    })?;
    if staging.join("mutual.toml").exists() {
        std::fs::rename(staging.join("mutual.toml"), home.config())?;
    }
    let _ = std::fs::remove_dir_all(&staging);

    println!(
        "Restored the CA into `{}` and {} rows into the store {database} (backup of {}, from {}):",
        home.path().display(),
        snapshot.counts().iter().map(|(_, n)| n).sum::<usize>(),
        header.created_at,
        header.source
    );
    for (table, count) in snapshot.counts() {
        println!("  {table:<18} {count}");
    }
    if matches!(database, Database::Postgres(_)) && database_line(&database).is_none() {
        println!(
            "The URL carries a password, so it was not written to mutual.toml: give it to every command as --database or $MUTUAL_DATABASE (or use PGPASSWORD / ~/.pgpass)"
        );
    }
    Ok(ExitStatus::Success)
}

/// The files under `staging`, with their modes; mutual.toml names the restored store.
fn stage_files(staging: &Path, files: &[FileEntry], database: &Database) -> anyhow::Result<()> {
    std::fs::create_dir_all(staging.join("ca"))?;
    for file in files {
        let path = staging.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let kind = if file.mode & 0o077 == 0 {
            FileKind::Secret
        } else {
            FileKind::Public
        };
        let contents = if file.path == "mutual.toml" {
            with_database(&file.contents, database)
        } else {
            file.contents.clone()
        };
        write_atomic(&path, contents.as_bytes(), kind)?;
    }
    if !files.iter().any(|f| f.path == "mutual.toml")
        && let Some(line) = database_line(database)
    {
        write_atomic(
            &staging.join("mutual.toml"),
            line.as_bytes(),
            FileKind::Public,
        )?;
    }
    Ok(())
}

/// `database = "..."` for a store other than the home's own file, unless its URL carries a
/// password (which does not belong in a config file).
fn database_line(database: &Database) -> Option<String> {
    match database {
        Database::Sqlite(_) => None,
        Database::Postgres(url) if url.redacted() != url.expose() => None,
        Database::Postgres(url) => Some(format!("database = \"{}\"\n", url.expose())),
    }
}

/// `config` without its top-level `database` key, and with the restored store's when it
/// needs naming. Top-level keys come before the first table, so the line goes first.
fn with_database(config: &str, database: &Database) -> String {
    let mut in_table = false;
    let kept: Vec<&str> = config
        .lines()
        .filter(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with('[') {
                in_table = true;
            }
            in_table || !(trimmed.starts_with("database ") || trimmed.starts_with("database="))
        })
        .collect();
    let mut text = database_line(database).unwrap_or_default();
    text.push_str(&kept.join("\n"));
    text.push('\n');
    text
}

/// Parses `path` line by line; any line that is not what a backup holds, a missing header or
/// end line, or a miscount is one error naming the line.
fn read_backup(path: &Path) -> anyhow::Result<(Header, Vec<FileEntry>, Snapshot)> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| BadInput(format!("`{shown}`: {e}")))?;
    let mut header = None;
    let mut files = Vec::new();
    let mut snapshot = Snapshot::default();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut end = None;
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| BadInput(format!("`{shown}` line {number}: {e}")))?;
        if end.is_some() {
            return Err(BadInput(format!(
                "`{shown}` line {number}: expected nothing after the end line, found more"
            ))
            .into());
        }
        let parsed: Line = serde_json::from_str(&line).map_err(|e| {
            BadInput(format!(
                "`{shown}` line {number}: expected a line of a mutual backup, found {}: {e}",
                preview(&line)
            ))
        })?;
        if number == 1 {
            let Line::Header(found) = parsed else {
                return Err(BadInput(format!(
                    "`{shown}`: expected a mutual backup (a `header` line first), found {}",
                    preview(&line)
                ))
                .into());
            };
            if found.format != FORMAT || found.version != VERSION {
                return Err(BadInput(format!(
                    "`{shown}`: expected {FORMAT} version {VERSION}, found {} version {}",
                    found.format, found.version
                ))
                .into());
            }
            *counts.entry("header".to_owned()).or_default() += 1;
            header = Some(found);
            continue;
        }
        let kind = parsed.kind().to_owned();
        match parsed {
            Line::Header(_) => {
                return Err(BadInput(format!(
                    "`{shown}` line {number}: expected one header, found a second"
                ))
                .into());
            }
            Line::End(found) => {
                end = Some(found);
                continue;
            }
            Line::File(entry) => {
                check_path(&entry.path)
                    .map_err(|why| BadInput(format!("`{shown}` line {number}: {why}")))?;
                files.push(entry);
            }
            Line::Certificate(row) => snapshot.certificates.push(row),
            Line::San(row) => snapshot.sans.push(row),
            Line::Revocation(row) => snapshot.revocations.push(row),
            Line::CrlNumber(row) => snapshot.crl_numbers.push(row),
            Line::Audit(row) => snapshot.audit.push(row),
            Line::Token(row) => snapshot.tokens.push(row),
        }
        *counts.entry(kind).or_default() += 1;
    }
    let header = header.ok_or_else(|| {
        BadInput(format!(
            "`{shown}`: expected a mutual backup, found an empty file"
        ))
    })?;
    let end = end.ok_or_else(|| {
        BadInput(format!(
            "`{shown}`: expected an end line, found none: the file was cut short"
        ))
    })?;
    if end.counts != counts {
        return Err(BadInput(format!(
            "`{shown}`: the end line counts {:?}, but the file holds {counts:?}: lines were lost or added",
            end.counts
        ))
        .into());
    }
    if !files.iter().any(|f| f.path == "ca/root.pem") {
        return Err(BadInput(format!(
            "`{shown}`: expected the CA's files (ca/root.pem), found none"
        ))
        .into());
    }
    Ok((header, files, snapshot))
}

/// A restored file goes under `ca/` or is `mutual.toml`: nothing else, nothing outside.
fn check_path(path: &str) -> Result<(), String> {
    let relative = PathBuf::from(path);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let allowed = path == "mutual.toml" || relative.starts_with("ca");
    if plain && allowed && relative.components().count() >= 1 {
        Ok(())
    } else {
        Err(format!(
            "expected a file under ca/ or mutual.toml, found `{path}`"
        ))
    }
}

/// The start of a line, for an error message.
fn preview(line: &str) -> String {
    let short: String = line.chars().take(60).collect();
    if short.len() < line.len() {
        format!("`{short}...`")
    } else {
        format!("`{short}`")
    }
}
