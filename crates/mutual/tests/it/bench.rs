//! `mutual bench issue`: the report's shape, never its timings (those are machine facts,
//! not properties to assert).

use serde_json::Value;

use crate::mutual;

#[test]
fn bench_issue_reports_every_step_in_json() {
    let output = mutual()
        .args(["bench", "issue", "--count", "5", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "mutual bench issue failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["schema"], "mutual.bench-issue/v1");
    assert_eq!(report["count"], 5);
    assert_eq!(report["concurrency"], 1);
    assert_eq!(report["profile"], "server");
    assert_eq!(report["key_type"], "ec-p256");
    assert_eq!(report["ca"]["key_type"], "ec-p256");
    assert!(report["ca"]["home"].is_null(), "{report}");
    for number in [
        "total_seconds",
        "certificates_per_second",
        "steps_median_sum_us",
        "around_signature_us",
        "around_signature_ratio",
        "store_per_certificate_us",
        "store_batch_mean",
        "issue_batch_mean",
        "around_signature_steps_us",
        "around_signature_steps_ratio",
        "certificate_bytes",
    ] {
        assert!(report[number].is_number(), "{number} in {report}");
    }
    let stats = |value: &Value, name: &str| {
        for field in ["median_us", "mean_us", "p99_us", "min_us"] {
            assert!(value[field].is_number(), "{name}.{field} in {report}");
        }
    };
    stats(&report["issue"], "issue");
    for step in [
        "keygen",
        "plan",
        "sign",
        "signature",
        "der",
        "decode",
        "lint",
        "store",
    ] {
        stats(&report["steps"][step], step);
    }
    // docs/bench-json.md documents every field the report has.
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/bench-json.md"),
    )
    .unwrap();
    let mut fields = Vec::new();
    for (key, value) in report.as_object().unwrap() {
        match value.as_object() {
            Some(inner) if key != "issue" => {
                fields.extend(inner.keys().map(|inner| format!("`{key}.{inner}`")));
            }
            _ => fields.push(format!("`{key}`")),
        }
    }
    for field in fields {
        assert!(doc.contains(&field), "{field} is not in docs/bench-json.md");
    }
    // The scratch stores go with the temporary CA.
    let store = report["store"].as_str().unwrap();
    assert!(
        !std::path::Path::new(store).exists(),
        "{store} was left behind"
    );
}

/// `--concurrency`: several issuances in flight on a multi-thread runtime, every one
/// recorded (the store may share commits between them; how many is the machine's business).
#[test]
fn bench_issue_runs_issuances_concurrently() {
    let output = mutual()
        .args([
            "bench",
            "issue",
            "--count",
            "12",
            "--concurrency",
            "4",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "mutual bench issue --concurrency failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["count"], 12);
    assert_eq!(report["concurrency"], 4);
    for mean in ["issue_batch_mean", "store_batch_mean"] {
        let mean = report[mean].as_f64().unwrap();
        assert!((1.0..=4.0).contains(&mean), "{mean} in {report}");
    }
    for step in ["keygen", "plan", "sign", "signature", "decode", "store"] {
        assert!(report["steps"][step]["median_us"].is_number(), "{step}");
    }
    let store = report["store"].as_str().unwrap();
    assert!(
        !std::path::Path::new(store).exists(),
        "{store} was left behind"
    );

    let text = mutual()
        .args(["bench", "issue", "--count", "4", "--concurrency", "2"])
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("2 at a time"), "{text}");
    assert!(text.contains("per commit"), "{text}");
}

/// With `--home`, the bench issues from that CA but records in a scratch store it removes:
/// the inventory keeps only what `init` put there.
#[test]
fn bench_issue_leaves_a_homes_inventory_alone() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    let init = mutual()
        .args(["init", "--home"])
        .arg(&home)
        .arg("--passphrase-file")
        .arg(&pass)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let output = mutual()
        .args([
            "bench",
            "issue",
            "--count",
            "3",
            "--profile",
            "client",
            "--home",
        ])
        .arg(&home)
        .arg("--passphrase-file")
        .arg(&pass)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("certificates/s"));
    let list = mutual()
        .args(["list", "--format", "json", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    let profiles: Vec<&str> = listed["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["profile"].as_str().unwrap())
        .collect();
    assert!(
        profiles
            .iter()
            .all(|p| *p == "root" || *p == "intermediate"),
        "{profiles:?}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name.to_string_lossy().starts_with(".mutual-bench"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
