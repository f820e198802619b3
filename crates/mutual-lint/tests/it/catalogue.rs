//! docs/lints.md is the registry for people: its hand-written introduction, then a
//! catalogue rendered here from every lint's metadata. The test fails when the file and
//! the registry disagree; `MUTUAL_UPDATE_DOCS=1 cargo test -p mutual-lint --test it
//! catalogue` rewrites the catalogue part.

use std::collections::BTreeMap;

use mutual_lint::{Entry, Scope, Source, Subjects, registry};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lints.md");
const MARKER: &str = "<!-- Everything below is generated from the registry";

/// "`server` certificates and requests", "leaf certificates", "all requests".
fn applies_to(e: &Entry) -> String {
    let which = match e.meta.scope {
        Scope::Any => "all".to_owned(),
        Scope::Leaf => "leaf (non-CA)".to_owned(),
        Scope::Only(profiles) => profiles
            .iter()
            .map(|p| format!("`{}`", p.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let what = match e.subjects {
        Subjects::Certificates => "certificates",
        Subjects::Requests => "requests",
        Subjects::Both => "certificates and requests",
    };
    format!("{which} {what}")
}

fn severity(e: &Entry) -> String {
    if e.public_only {
        format!(
            "{} (public trust; `notice` under `--trust private`)",
            e.severity
        )
    } else {
        e.severity.to_owned()
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The generated part of docs/lints.md, from the marker line on.
fn catalogue() -> String {
    let entries = registry();
    let mut by_source: BTreeMap<Source, Vec<&Entry>> = BTreeMap::new();
    for e in &entries {
        by_source.entry(e.meta.source).or_default().push(e);
    }
    let count = |severity: &str| entries.iter().filter(|e| e.severity == severity).count();
    let mut out = format!(
        "{MARKER} by crates/mutual-lint/tests/it/catalogue.rs: edit the lints, not this part. -->\n\n\
         {} lints: {} errors, {} warnings, {} notices; {} bind publicly-trusted certificates only.\n",
        entries.len(),
        count("error"),
        count("warn"),
        count("notice"),
        entries.iter().filter(|e| e.public_only).count(),
    );
    for (source, list) in &by_source {
        let lints = if list.len() == 1 { "lint" } else { "lints" };
        out.push_str(&format!(
            "\n## {} ({} {lints})\n\n| id | severity | applies to | effective | citation | a finding means |\n|---|---|---|---|---|---|\n",
            source.as_str(),
            list.len()
        ));
        for e in list {
            let effective = if e.effective.is_empty() {
                "always"
            } else {
                e.effective.as_str()
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} |\n",
                e.code,
                severity(e),
                applies_to(e),
                effective,
                cell(e.citation),
                cell(e.summary),
            ));
        }
    }
    out
}

#[test]
fn docs_lints_md_is_the_registry() {
    let text = std::fs::read_to_string(DOC).expect("docs/lints.md");
    let start = text
        .find(MARKER)
        .expect("docs/lints.md has no generated part (its marker line is gone)");
    let (intro, generated) = text.split_at(start);
    let wanted = catalogue();
    if generated == wanted {
        return;
    }
    if std::env::var_os("MUTUAL_UPDATE_DOCS").is_some() {
        std::fs::write(DOC, format!("{intro}{wanted}")).expect("writing docs/lints.md");
        return;
    }
    panic!(
        "docs/lints.md is out of date with the registry; rewrite it with \
         `MUTUAL_UPDATE_DOCS=1 cargo test -p mutual-lint --test it catalogue`"
    );
}

/// Every lint id appears in the catalogue exactly once, in a row of its own.
#[test]
fn every_lint_has_one_row() {
    let text = catalogue();
    for e in registry() {
        let rows = text
            .lines()
            .filter(|l| l.starts_with(&format!("| `{}` |", e.code)))
            .count();
        assert_eq!(rows, 1, "{}", e.code);
    }
}
