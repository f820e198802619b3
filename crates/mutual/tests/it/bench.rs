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
    for step in ["keygen", "plan", "sign", "signature", "decode", "store"] {
        stats(&report["steps"][step], step);
    }
    // The scratch stores go with the temporary CA.
    let store = report["store"].as_str().unwrap();
    assert!(
        !std::path::Path::new(store).exists(),
        "{store} was left behind"
    );
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
