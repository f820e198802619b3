//! The certificate store against a real SQLite file in a temporary directory and a real
//! PostgreSQL database (on the server scripts/with-postgres starts): every test that does not
//! look at SQLite's files runs against both backends (see `both_backends!` at the end).
#![allow(
    clippy::unwrap_used,
    reason = "helpers outside #[test] fns; a failure is the test failing"
)]

use std::path::{Path, PathBuf};

use mutual_ca::store::{
    AuditAction, AuditEntry, AuditNote, AuditQuery, CertificateRecord, Cursor, Database,
    ExpiryCount, Lookup, NewAuditEntry, NewCertificate, Order, Query, Revocation, RevocationReason,
    Status, StatusFilter, Store, StoreError,
};
use mutual_test::TestDatabase;
use time::{Duration, OffsetDateTime};

/// 2026-01-01T00:00:00Z: every date below is set by hand around it.
const NOW: i64 = 1_767_225_600;
const DAY: i64 = 86_400;
const ISSUER_A: &str = "A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1";
const ISSUER_B: &str = "B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2";

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn now() -> OffsetDateTime {
    at(NOW)
}

struct TempStore {
    _dir: tempfile::TempDir,
    /// The SQLite file, for the tests about SQLite alone.
    path: PathBuf,
    database: Database,
    postgres: Option<TestDatabase>,
}

impl TempStore {
    fn sqlite() -> TempStore {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        TempStore {
            database: Database::Sqlite(path.clone()),
            _dir: dir,
            path,
            postgres: None,
        }
    }

    fn postgres() -> TempStore {
        let postgres = TestDatabase::create();
        let dir = tempfile::tempdir().unwrap();
        TempStore {
            database: postgres.url().parse().unwrap(),
            path: dir.path().join("unused.sqlite"),
            _dir: dir,
            postgres: Some(postgres),
        }
    }

    fn is_sqlite(&self) -> bool {
        matches!(self.database, Database::Sqlite(_))
    }

    async fn open(&self) -> Result<Store, StoreError> {
        Store::open(&self.database).await
    }
}

fn temp_store() -> TempStore {
    TempStore::sqlite()
}

/// The upper-case colon fingerprint the issuer would compute; here made unique per
/// (issuer, serial) instead of hashed.
fn fingerprint(issuer_key_id: &str, serial: &str) -> String {
    let digits = format!("{:0>24}{:0>40}", &issuer_key_id[..24], serial);
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).unwrap())
        .collect::<Vec<_>>()
        .join(":")
}

fn certificate(serial: &str, issuer_key_id: &str, profile: &str, not_after: i64) -> NewCertificate {
    NewCertificate {
        serial: serial.to_owned(),
        issuer_key_id: issuer_key_id.to_owned(),
        issuer: "CN=Acme Internal Server CA,O=Acme".to_owned(),
        subject: format!("CN=host-{serial}.example"),
        sans: vec![
            format!("DNS:host-{serial}.Example"),
            "IP:10.0.0.1".to_owned(),
        ],
        not_before: at(not_after - 90 * DAY),
        not_after: at(not_after),
        profile: profile.to_owned(),
        requester: Some("alice".to_owned()),
        fingerprint_sha256: fingerprint(issuer_key_id, serial),
        pem: format!("-----BEGIN CERTIFICATE-----\n{serial}\n-----END CERTIFICATE-----\n"),
        audit: None,
    }
}

async fn list_serials(store: &Store, query: &Query) -> Vec<String> {
    let page = store.list(query).await.unwrap();
    assert_eq!(page.next, None, "expected a single page");
    page.records.into_iter().map(|r| r.serial).collect()
}

async fn record_then_find_by_any_spelling(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let mut new = certificate("0A1B2C3D", ISSUER_A, "server", NOW + 90 * DAY);
    // Spellings the issuer should not use but the store normalises.
    new.serial = "0a:1b:2c:3d".to_owned();
    new.fingerprint_sha256 = fingerprint(ISSUER_A, "0A1B2C3D")
        .to_lowercase()
        .replace(':', "");
    new.issuer_key_id = ISSUER_A.to_lowercase();

    let recorded = store.record(&new).await.unwrap();
    assert_eq!(recorded.serial, "0A1B2C3D");
    assert_eq!(recorded.issuer_key_id, ISSUER_A);
    assert_eq!(
        recorded.fingerprint_sha256,
        fingerprint(ISSUER_A, "0A1B2C3D")
    );
    assert_eq!(recorded.sans, new.sans, "SANs come back as issued");
    assert_eq!(recorded.status, Status::Valid);
    assert_eq!(recorded.revoked_at, None);
    assert_eq!(recorded.not_after, at(NOW + 90 * DAY));
    assert_eq!(recorded.requester.as_deref(), Some("alice"));
    assert_eq!(recorded.status_at(now()), StatusFilter::Valid);

    for serial in [
        "0A1B2C3D",
        "0a1b2c3d",
        "0a:1b:2c:3d",
        "A1B2C3D",
        "00:0A:1B:2C:3D",
    ] {
        let found = store.find(&Lookup::Serial(serial.into())).await.unwrap();
        assert_eq!(found.as_ref(), Some(&recorded), "serial spelled {serial}");
    }
    let colon = fingerprint(ISSUER_A, "0A1B2C3D");
    for spelling in [colon.clone(), colon.to_lowercase(), colon.replace(':', "")] {
        let found = store
            .find(&Lookup::Fingerprint(spelling.clone()))
            .await
            .unwrap();
        assert_eq!(
            found.as_ref(),
            Some(&recorded),
            "fingerprint spelled {spelling}"
        );
        // What `mutual show` parses tells the two apart by length.
        let parsed: Lookup = spelling.parse().unwrap();
        assert_eq!(store.find(&parsed).await.unwrap().as_ref(), Some(&recorded));
    }
    let by_issuer = Lookup::IssuerSerial {
        issuer_key_id: ISSUER_A.to_lowercase(),
        serial: "a1b2c3d".into(),
    };
    assert_eq!(store.find(&by_issuer).await.unwrap(), Some(recorded));

    assert_eq!(
        store.find(&Lookup::Serial("FFFF".into())).await.unwrap(),
        None
    );
    let err = store
        .find(&Lookup::Serial("not-hex".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_serial");
}

async fn serial_is_unique_per_issuer_only(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let first = store
        .record(&certificate("7F01", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap();

    let mut again = certificate("7F01", ISSUER_A, "server", NOW + DAY);
    again.serial = "7f:01".to_owned();
    again.fingerprint_sha256 = fingerprint(ISSUER_A, "FFFF");
    let err = store.record(&again).await.unwrap_err();
    assert_eq!(err.code(), "duplicate_serial", "{err}");
    assert!(err.to_string().contains("7F01"), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the database error is kept"
    );

    let other_issuer = store
        .record(&certificate("7F01", ISSUER_B, "server", NOW + DAY))
        .await
        .unwrap();
    assert_ne!(first.id, other_issuer.id);

    // The same certificate recorded twice.
    let mut same_bytes = certificate("7F02", ISSUER_A, "server", NOW + DAY);
    same_bytes.fingerprint_sha256 = first.fingerprint_sha256.clone();
    let err = store.record(&same_bytes).await.unwrap_err();
    assert_eq!(err.code(), "duplicate_certificate", "{err}");

    // A serial alone no longer names one certificate.
    let err = store
        .find(&Lookup::Serial("7F01".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ambiguous_serial");
    assert!(err.to_string().contains(ISSUER_B), "{err}");
    let lookup = Lookup::IssuerSerial {
        issuer_key_id: ISSUER_B.into(),
        serial: "7F01".into(),
    };
    assert_eq!(store.find(&lookup).await.unwrap(), Some(other_issuer));

    // Refused rows left nothing behind, SANs included.
    let page = store.list(&Query::new(now())).await.unwrap();
    assert_eq!(page.records.len(), 2);
}

async fn malformed_input_is_refused_before_anything_is_written(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let mut bad_san = certificate("01", ISSUER_A, "server", NOW + DAY);
    bad_san.sans.push("host.example".to_owned());
    assert_eq!(
        store.record(&bad_san).await.unwrap_err().code(),
        "invalid_san"
    );
    let mut bad_fingerprint = certificate("02", ISSUER_A, "server", NOW + DAY);
    bad_fingerprint.fingerprint_sha256 = "AB:CD".to_owned();
    assert_eq!(
        store.record(&bad_fingerprint).await.unwrap_err().code(),
        "invalid_fingerprint"
    );
    let mut bad_key_id = certificate("03", ISSUER_A, "server", NOW + DAY);
    bad_key_id.issuer_key_id = "issuer".to_owned();
    assert_eq!(
        store.record(&bad_key_id).await.unwrap_err().code(),
        "invalid_key_id"
    );
    assert!(
        store
            .list(&Query::new(now()))
            .await
            .unwrap()
            .records
            .is_empty()
    );
}

/// Records named by their serial, with dates set around NOW.
async fn inventory(store: &Store) {
    let rows = [
        ("A0", "server", NOW - 10 * DAY), // expired
        ("B0", "server", NOW + 3 * DAY),  // expiring this week
        ("C0", "client", NOW + 6 * DAY),  // expiring this week
        ("D0", "client", NOW + 30 * DAY), // valid, later
        ("E0", "server", NOW + 5 * DAY),  // revoked below
        ("F0", "server", NOW),            // its last valid second is now
        ("01", "server", NOW + 7 * DAY),  // the last second of the week
        ("02", "client", NOW + 7 * DAY + 1),
    ];
    for (serial, profile, not_after) in rows {
        store
            .record(&certificate(serial, ISSUER_A, profile, not_after))
            .await
            .unwrap();
    }
    store
        .revoke(
            &Lookup::Serial("E0".into()),
            &revocation(at(NOW - DAY), RevocationReason::KeyCompromise),
        )
        .await
        .unwrap();
}

async fn list_filters_by_profile_status_expiry_and_san(temp: TempStore) {
    let store = temp.open().await.unwrap();
    inventory(&store).await;

    let all = Query::new(now());
    assert_eq!(
        list_serials(&store, &all).await,
        ["A0", "F0", "B0", "E0", "C0", "01", "02", "D0"],
        "ordered by not_after"
    );

    let mut clients = Query::new(now());
    clients.profile = Some("client".into());
    assert_eq!(list_serials(&store, &clients).await, ["C0", "02", "D0"]);

    let with_status = |status| {
        let mut query = Query::new(now());
        query.status = Some(status);
        query
    };
    assert_eq!(
        list_serials(&store, &with_status(StatusFilter::Valid)).await,
        ["F0", "B0", "C0", "01", "02", "D0"]
    );
    assert_eq!(
        list_serials(&store, &with_status(StatusFilter::Revoked)).await,
        ["E0"]
    );
    assert_eq!(
        list_serials(&store, &with_status(StatusFilter::Expired)).await,
        ["A0"]
    );
    // A day later F0 has expired too.
    let mut tomorrow = with_status(StatusFilter::Expired);
    tomorrow.now = at(NOW + DAY);
    assert_eq!(list_serials(&store, &tomorrow).await, ["A0", "F0"]);

    let mut next_week = Query::new(now());
    next_week.expiring_within = Some(Duration::days(7));
    assert_eq!(
        list_serials(&store, &next_week).await,
        ["F0", "B0", "C0", "01"]
    );
    next_week.profile = Some("server".into());
    assert_eq!(list_serials(&store, &next_week).await, ["F0", "B0", "01"]);

    let mut naming = Query::new(now());
    for san in [
        "DNS:host-C0.example",
        "host-c0.EXAMPLE",
        "dns:HOST-C0.example",
    ] {
        naming.san = Some(san.into());
        assert_eq!(list_serials(&store, &naming).await, ["C0"], "{san}");
    }
    naming.san = Some("IP:10.0.0.1".into());
    assert_eq!(list_serials(&store, &naming).await.len(), 8);
    naming.san = Some("URI:10.0.0.1".into());
    assert!(list_serials(&store, &naming).await.is_empty());
    naming.san = Some("nobody.example".into());
    assert!(list_serials(&store, &naming).await.is_empty());
}

/// The census's expiring counts, now computed as every certificate in range less the
/// revoked ones, agree with `list` (revoked E0 and expired A0 are not counted).
async fn census_counts_expiring_certificates_as_list_does(temp: TempStore) {
    let store = temp.open().await.unwrap();
    inventory(&store).await;
    let census = store.census(now()).await.unwrap();
    let mut within = Query::new(now());
    within.expiring_within = Some(Duration::days(7));
    assert_eq!(
        census.expiring_7_days,
        list_serials(&store, &within).await.len() as u64
    );
    assert_eq!(census.expiring_7_days, 4, "F0, B0, C0 and 01");
    within.expiring_within = Some(Duration::days(30));
    assert_eq!(
        census.expiring_30_days,
        list_serials(&store, &within).await.len() as u64
    );
    assert_eq!(census.expiring_30_days, 6, "and 02, D0");
}

async fn keyset_pagination_returns_every_record_once_in_order(temp: TempStore) {
    let store = temp.open().await.unwrap();
    // Five records share each not_after, so pages split ties and the id breaks them.
    for i in 0..25_i64 {
        let serial = format!("{:02X}", 0x40 + i);
        let not_after = NOW + (i % 5) * DAY;
        store
            .record(&certificate(&serial, ISSUER_A, "server", not_after))
            .await
            .unwrap();
    }

    let mut query = Query::new(now());
    query.limit = 10;
    let mut seen: Vec<CertificateRecord> = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = store.list(&query).await.unwrap();
        sizes.push(page.records.len());
        seen.extend(page.records);
        match page.next {
            // The cursor survives a trip through the command line.
            Some(next) => query.after = Some(next.to_string().parse::<Cursor>().unwrap()),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    let keys: Vec<(OffsetDateTime, i64)> = seen.iter().map(|r| (r.not_after, r.id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "in order, no repeats");
    assert_eq!(keys.len(), 25);

    // An exact multiple of the limit ends without an empty trailing page.
    let mut query = Query::new(now());
    query.limit = 5;
    query.after = None;
    let mut pages = 0;
    loop {
        let page = store.list(&query).await.unwrap();
        pages += 1;
        assert_eq!(page.records.len(), 5);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 5);
}

async fn revoke_marks_once_and_list_sees_it(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let issued = store
        .record(&certificate("C0FFEE", ISSUER_A, "client", NOW + 30 * DAY))
        .await
        .unwrap();

    let revoked = store
        .revoke(
            &Lookup::Fingerprint(issued.fingerprint_sha256.to_lowercase()),
            &revocation(at(NOW), RevocationReason::Superseded),
        )
        .await
        .unwrap();
    assert_eq!(revoked.id, issued.id);
    assert_eq!(revoked.status, Status::Revoked);
    assert_eq!(revoked.revoked_at, Some(at(NOW)));
    assert_eq!(
        revoked.revocation_reason,
        Some(RevocationReason::Superseded)
    );
    assert_eq!(
        revoked.status_at(at(NOW + 365 * DAY)),
        StatusFilter::Revoked
    );
    assert_eq!(
        store.find(&Lookup::Serial("c0ffee".into())).await.unwrap(),
        Some(revoked.clone())
    );

    let mut query = Query::new(now());
    query.status = Some(StatusFilter::Revoked);
    assert_eq!(store.list(&query).await.unwrap().records, [revoked]);
    query.status = Some(StatusFilter::Valid);
    assert!(store.list(&query).await.unwrap().records.is_empty());

    let err = store
        .revoke(
            &Lookup::Serial("C0FFEE".into()),
            &revocation(at(NOW + DAY), RevocationReason::KeyCompromise),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "already_revoked");
    assert!(
        err.to_string()
            .contains("already revoked at 2026-01-01T00:00:00Z (superseded)"),
        "{err}"
    );

    let err = store
        .revoke(
            &Lookup::Serial("0BAD".into()),
            &revocation(at(NOW), RevocationReason::Unspecified),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "certificate_not_found");
    assert!(err.to_string().contains("0BAD"), "{err}");
}

async fn reopening_keeps_records_and_migrations_are_idempotent(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let recorded = store
        .record(&certificate("01", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap();
    store.close().await;
    drop(store);

    for _ in 0..3 {
        let store = temp.open().await.unwrap();
        let found = store.find(&Lookup::Serial("01".into())).await.unwrap();
        assert_eq!(found.as_ref(), Some(&recorded));
        store.close().await;
    }
    let store = temp.open().await.unwrap();
    let second = store
        .record(&certificate("02", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap();
    assert!(second.id > recorded.id);
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_named_in_the_error() {
    let temp = temp_store();
    let long_garbage: Vec<u8> = (0..8192_u32).map(|i| (i * 7 % 251) as u8).collect();
    let inputs: [&[u8]; 3] = [
        b"not a database at all\n",
        &long_garbage,
        b"-----BEGIN CERTIFICATE-----\n",
    ];
    for bytes in inputs {
        std::fs::write(&temp.path, bytes).unwrap();
        let err = Store::open_sqlite(&temp.path).await.unwrap_err();
        assert_eq!(err.code(), "store_not_a_database", "{err:?}");
        assert!(
            err.to_string().contains(&temp.path.display().to_string()),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&temp.path).unwrap(),
            bytes,
            "the file is left alone"
        );
    }
}

#[tokio::test]
async fn a_missing_directory_is_an_open_error() {
    let temp = temp_store();
    let path = temp.path.with_file_name("missing").join("store.sqlite");
    let err = Store::open_sqlite(&path).await.unwrap_err();
    assert_eq!(err.code(), "store_open_failed", "{err:?}");
    assert!(err.to_string().contains("missing"), "{err}");
}

async fn pretend_newer_build_migrated(path: &Path) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_store_from_a_newer_build_is_refused() {
    let temp = temp_store();
    Store::open_sqlite(&temp.path).await.unwrap().close().await;
    pretend_newer_build_migrated(&temp.path).await;
    let err = Store::open_sqlite(&temp.path).await.unwrap_err();
    assert_eq!(err.code(), "store_schema_too_new", "{err:?}");
    let message = err.to_string();
    assert!(message.contains("99990101000000"), "{message}");
    assert!(
        message.contains(&temp.path.display().to_string()),
        "{message}"
    );
}

async fn two_handles_record_concurrently(temp: TempStore) {
    // Opened at the same time: the migrations must not race each other.
    let (first, second) = tokio::join!(temp.open(), temp.open());
    let handles = [first.unwrap(), second.unwrap()];

    let mut tasks = Vec::new();
    for (h, store) in handles.iter().enumerate() {
        for i in 0..40 {
            let store = store.clone();
            let serial = format!("{:02X}{:02X}", h + 1, i);
            tasks.push(tokio::spawn(async move {
                store
                    .record(&certificate(&serial, ISSUER_A, "server", NOW + i * DAY))
                    .await
            }));
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Every operation can run on a spawned task (its future is `Send + 'static`-able).
    let store = handles[1].clone();
    let listed = tokio::spawn(async move {
        let mut query = Query::new(now());
        query.limit = 1000;
        store.list(&query).await
    });
    assert_eq!(listed.await.unwrap().unwrap().records.len(), 80);
    let store = handles[0].clone();
    let revoked = tokio::spawn(async move {
        let lookup = Lookup::Serial("0227".into());
        store
            .revoke(&lookup, &revocation(now(), RevocationReason::Superseded))
            .await?;
        store.find(&lookup).await
    });
    let found = revoked.await.unwrap().unwrap().unwrap();
    assert_eq!(found.status, Status::Revoked);
}

/// Group commit: records made at once share transactions, each call returns its own
/// committed record, and every one is there after the store is closed and reopened.
async fn concurrent_records_share_commits_and_all_survive_a_reopen(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let count = 300;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let store = store.clone();
        tasks.spawn(async move {
            let serial = format!("5E{i:04X}");
            let recorded = store
                .record(&certificate(&serial, ISSUER_A, "server", NOW + DAY + i))
                .await
                .unwrap();
            assert_eq!(recorded.serial, serial);
            recorded
        });
    }
    let recorded = tasks.join_all().await;
    let stats = store.write_stats();
    assert_eq!(stats.records, count as u64);
    if temp.is_sqlite() {
        // Started together, they did not each get a transaction of their own.
        assert!(stats.commits < stats.records, "{stats:?}");
    }
    let mut ids: Vec<i64> = recorded.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count as usize, "every call got its own row");
    store.close().await;
    drop(store);

    let store = temp.open().await.unwrap();
    for record in &recorded {
        let found = store
            .find(&Lookup::Serial(record.serial.clone()))
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(record));
    }
    let mut query = Query::new(now());
    query.limit = 1000;
    assert_eq!(
        store.list(&query).await.unwrap().records.len(),
        count as usize
    );
    // The SAN index was written for batched rows too.
    query.san = Some("host-5E012B.example".to_owned());
    let by_san = store.list(&query).await.unwrap().records;
    assert_eq!(by_san.len(), 1);
    assert_eq!(by_san[0].serial, "5E012B");
}

/// In one batch, the rows the database refuses fail their own calls only: the rest of the
/// batch is committed.
async fn a_duplicate_inside_a_batch_fails_only_its_own_record(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let existing = store
        .record(&certificate("D0", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap();
    let before = store.write_stats();

    let mut batch: Vec<NewCertificate> = (1..=20)
        .map(|i| certificate(&format!("D1{i:02X}"), ISSUER_A, "client", NOW + DAY))
        .collect();
    // A serial recorded before, under a new fingerprint.
    let mut old_serial = certificate("D0", ISSUER_A, "server", NOW + DAY);
    old_serial.fingerprint_sha256 = fingerprint(ISSUER_A, "D0D0");
    // The same serial twice within the batch.
    let mut twin = certificate("D101", ISSUER_A, "client", NOW + DAY);
    twin.fingerprint_sha256 = fingerprint(ISSUER_A, "D1D1");
    // A certificate recorded before, under a new serial.
    let mut old_certificate = certificate("D2", ISSUER_A, "server", NOW + DAY);
    old_certificate.fingerprint_sha256 = existing.fingerprint_sha256.clone();
    batch.insert(5, old_serial);
    batch.insert(10, twin);
    batch.push(old_certificate);
    for new in &mut batch {
        new.audit = Some(note(AuditAction::Sign));
    }

    let mut tasks = tokio::task::JoinSet::new();
    for (index, new) in batch.into_iter().enumerate() {
        let store = store.clone();
        tasks.spawn(async move { (index, new.serial.clone(), store.record(&new).await) });
    }
    let mut outcomes = tasks.join_all().await;
    outcomes.sort_by_key(|(index, _, _)| *index);
    let after = store.write_stats();
    if temp.is_sqlite() {
        assert_eq!(
            after.commits - before.commits,
            1,
            "the 23 records were meant to share one transaction: {after:?}"
        );
    }
    assert_eq!(after.records - before.records, 20);

    let code = |index: usize| match &outcomes[index].2 {
        Ok(_) => "recorded",
        Err(error) => error.code(),
    };
    assert_eq!(code(5), "duplicate_serial");
    assert!(matches!(
        outcomes[5].2,
        Err(StoreError::DuplicateSerial { ref serial, .. }) if serial == "D0"
    ));
    assert!(
        std::error::Error::source(outcomes[5].2.as_ref().unwrap_err()).is_some(),
        "the database's own error is kept"
    );
    assert_eq!(code(outcomes.len() - 1), "duplicate_certificate");
    // The twins: one is recorded, the other is the duplicate.
    let twins: Vec<&str> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, (_, serial, _))| serial == "D101")
        .map(|(index, _)| code(index))
        .collect();
    assert_eq!(twins.len(), 2);
    assert!(
        twins.contains(&"recorded") && twins.contains(&"duplicate_serial"),
        "{twins:?}"
    );
    let recorded: Vec<CertificateRecord> = outcomes
        .into_iter()
        .filter_map(|(_, _, outcome)| outcome.ok())
        .collect();
    assert_eq!(recorded.len(), 20);
    // The batch was recorded row by row after the refusals: the audit entries of the rows
    // recorded are there, one each, and none of the refused ones.
    let mut audited: Vec<String> = audit_trail(&store)
        .await
        .into_iter()
        .filter_map(|entry| entry.serial)
        .collect();
    audited.sort();
    let mut serials: Vec<String> = recorded.iter().map(|r| r.serial.clone()).collect();
    serials.sort();
    assert_eq!(audited, serials);
    store.close().await;
    drop(store);

    let store = temp.open().await.unwrap();
    for record in &recorded {
        let lookup = Lookup::Fingerprint(record.fingerprint_sha256.clone());
        assert_eq!(store.find(&lookup).await.unwrap().as_ref(), Some(record));
    }
    let mut query = Query::new(now());
    query.profile = Some("client".to_owned());
    assert_eq!(store.list(&query).await.unwrap().records.len(), 20);
    assert_eq!(
        store.find(&Lookup::Serial("D0".into())).await.unwrap(),
        Some(existing)
    );
    assert_eq!(
        store.find(&Lookup::Serial("D2".into())).await.unwrap(),
        None
    );
}

/// `close` lets the writer finish what was queued; a record after it is refused, not lost
/// in silence.
async fn records_queued_before_close_are_committed(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .record(&certificate(
                    &format!("C{i}"),
                    ISSUER_A,
                    "server",
                    NOW + DAY,
                ))
                .await
        });
    }
    // Queued behind the records: the tasks above run (and queue theirs) first.
    let closing = store.clone();
    let closed = tokio::spawn(async move { closing.close().await });
    for outcome in tasks.join_all().await {
        outcome.unwrap();
    }
    closed.await.unwrap();
    let err = store
        .record(&certificate("CF", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store_query_failed", "{err}");
    drop(store);

    let store = temp.open().await.unwrap();
    let mut query = Query::new(now());
    query.limit = 100;
    assert_eq!(store.list(&query).await.unwrap().records.len(), 10);
}

/// Regression: switching a new database to WAL takes a lock SQLite's busy timeout does not
/// wait for, so processes creating the same store at once failed with "database is locked".
async fn concurrent_first_opens_of_a_new_store_all_succeed(make: fn() -> TempStore) {
    for _ in 0..10 {
        let temp = make();
        let opens = (0..6).map(|_| {
            let database = temp.database.clone();
            tokio::spawn(async move { Store::open(&database).await })
        });
        for open in opens.collect::<Vec<_>>() {
            open.await.unwrap().unwrap().close().await;
        }
    }
}

/// A revocation by a test user, without an invalidity date.
fn revocation(at: OffsetDateTime, reason: RevocationReason) -> Revocation {
    Revocation {
        at,
        reason,
        invalid_since: None,
        by: Some("test".to_owned()),
    }
}

/// A store as builds before migration 0003 left it: 0001 and 0002 applied by sqlx's
/// migrator (so the checksums match this build's), rows written as the writer wrote them
/// then (colon-hex fingerprint, SAN rows), one of them revoked.
async fn store_before_lean_indexes(path: &Path) -> Vec<NewCertificate> {
    use sqlx::Connection;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

    let old = tempfile::tempdir().unwrap();
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for name in ["0001_certificates.sql", "0002_revocations.sql"] {
        std::fs::copy(migrations.join(name), old.path().join(name)).unwrap();
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();

    let rows = vec![
        certificate("0A01", ISSUER_A, "server", NOW + 30 * DAY),
        certificate("0A02", ISSUER_A, "client", NOW + 60 * DAY),
        certificate("0A01", ISSUER_B, "server", NOW + 90 * DAY),
    ];
    for (id, row) in (1_i64..).zip(&rows) {
        sqlx::query(
            "INSERT INTO certificates (id, serial, issuer_key_id, issuer, subject, sans, \
             not_before, not_after, profile, requester, fingerprint_sha256, pem, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id)
        .bind(&row.serial)
        .bind(&row.issuer_key_id)
        .bind(&row.issuer)
        .bind(&row.subject)
        .bind(serde_json::to_string(&row.sans).unwrap())
        .bind(row.not_before.unix_timestamp())
        .bind(row.not_after.unix_timestamp())
        .bind(&row.profile)
        .bind(row.requester.as_deref())
        .bind(&row.fingerprint_sha256)
        .bind(&row.pem)
        .bind(NOW)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO certificate_sans (certificate_id, position, kind, value) \
             VALUES ($1, 0, 'DNS', lower(substr($2, 5))), ($1, 1, 'IP', '10.0.0.1')",
        )
        .bind(id)
        .bind(&row.sans[0])
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query(
        "UPDATE certificates SET status = 'revoked', revoked_at = $1, revocation_reason = 1 \
         WHERE id = 2",
    )
    .bind(NOW - DAY)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("INSERT INTO revocations (certificate_id, revoked_by) VALUES (2, 'test')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

/// Migration 0003 replaces the indexes of a store that already holds certificates: every
/// lookup still finds them (the fingerprint through its new 32-byte index), CRLs still list
/// the revoked one, and the unique indexes still refuse duplicates.
#[tokio::test]
async fn a_store_from_before_the_lean_indexes_migrates_and_finds_what_it_holds() {
    let temp = temp_store();
    let rows = store_before_lean_indexes(&temp.path).await;
    let store = Store::open_sqlite(&temp.path).await.unwrap();

    for row in &rows {
        let colon = row.fingerprint_sha256.clone();
        for spelling in [colon.clone(), colon.to_lowercase(), colon.replace(':', "")] {
            let found = store
                .find(&Lookup::Fingerprint(spelling.clone()))
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("no certificate found by fingerprint {spelling}"));
            assert_eq!(found.serial, row.serial);
            assert_eq!(found.issuer_key_id, row.issuer_key_id);
            assert_eq!(found.fingerprint_sha256, colon, "shown as colon hex still");
        }
        let by_issuer = Lookup::IssuerSerial {
            issuer_key_id: row.issuer_key_id.clone(),
            serial: row.serial.to_lowercase(),
        };
        let found = store.find(&by_issuer).await.unwrap().unwrap();
        assert_eq!(found.fingerprint_sha256, row.fingerprint_sha256);
    }
    let found = store.find(&Lookup::Serial("0a02".into())).await.unwrap();
    assert_eq!(found.map(|r| r.status), Some(Status::Revoked));
    let err = store
        .find(&Lookup::Serial("0A01".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ambiguous_serial");

    let revoked = store.revoked_serials(ISSUER_A, now()).await.unwrap();
    assert_eq!(
        revoked
            .iter()
            .map(|r| r.serial.as_str())
            .collect::<Vec<_>>(),
        ["0A02"]
    );
    let mut query = Query::new(now());
    query.status = Some(StatusFilter::Revoked);
    assert_eq!(list_serials(&store, &query).await, ["0A02"]);
    query.status = Some(StatusFilter::Valid);
    assert_eq!(list_serials(&store, &query).await, ["0A01", "0A01"]);
    query.status = None;
    query.san = Some("host-0A02.example".into());
    assert_eq!(list_serials(&store, &query).await, ["0A02"]);
    // The subject keys of rows from before migration 0006 were computed on opening.
    query.san = None;
    query.subject = Some("HOST-0a02".into());
    assert_eq!(list_serials(&store, &query).await, ["0A02"]);
    query.subject = None;

    // The unique indexes of 0003 hold against the rows recorded before it.
    let mut same_serial = certificate("0A01", ISSUER_A, "server", NOW + DAY);
    same_serial.fingerprint_sha256 = fingerprint(ISSUER_A, "FFFF");
    assert_eq!(
        store.record(&same_serial).await.unwrap_err().code(),
        "duplicate_serial"
    );
    let mut same_certificate = certificate("0A03", ISSUER_A, "server", NOW + DAY);
    same_certificate.fingerprint_sha256 = rows[0].fingerprint_sha256.to_lowercase();
    assert_eq!(
        store.record(&same_certificate).await.unwrap_err().code(),
        "duplicate_certificate"
    );
    let recorded = store
        .record(&certificate("0A03", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap();
    assert_eq!(recorded.id, 4, "row ids carry on after the old rows");
    store.close().await;

    // The indexes are the ones 0003 says, whatever else later migrations add.
    use sqlx::Connection;
    let url = format!("sqlite://{}", temp.path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'certificates' \
         AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "certificates_fingerprint",
            "certificates_not_after",
            "certificates_profile",
            "certificates_revoked_issuer",
            "certificates_revoked_not_after",
            "certificates_serial_issuer",
            "certificates_subject_key",
        ]
    );
    conn.close().await.unwrap();
}

fn note(action: AuditAction) -> AuditNote {
    AuditNote {
        actor: "admin:0123".to_owned(),
        action,
        detail: "profile server".to_owned(),
    }
}

async fn audit_trail(store: &Store) -> Vec<AuditEntry> {
    store
        .audit_log(&AuditQuery {
            limit: 10_000,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

/// Makes every INSERT into the audit table fail (or, `false`, succeed again), through a
/// connection of its own: a full disk or a broken trail, as the writer would meet it.
async fn refuse_audit_rows(temp: &TempStore, refuse: bool) {
    use sqlx::Connection;
    if let Some(postgres) = &temp.postgres {
        postgres.execute(if refuse {
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'audit trail refused by the test'; END $$; \
             CREATE TRIGGER refuse_audit BEFORE INSERT ON audit \
             FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
        } else {
            "DROP TRIGGER refuse_audit ON audit; DROP FUNCTION refuse_audit()"
        });
        return;
    }
    let url = format!("sqlite://{}", temp.path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let sql = if refuse {
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit \
         BEGIN SELECT RAISE(ABORT, 'audit trail refused by the test'); END"
    } else {
        "DROP TRIGGER refuse_audit"
    };
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// A certificate's page lists the audit entries about it, and only those.
async fn audit_of_serial_lists_one_certificates_entries_newest_first(temp: TempStore) {
    let store = temp.open().await.unwrap();
    for serial in ["b1", "b2"] {
        let mut signed = certificate(serial, ISSUER_A, "server", NOW + DAY);
        signed.audit = Some(note(AuditAction::Sign));
        store.record(&signed).await.unwrap();
    }
    store
        .audit(&NewAuditEntry {
            at: at(NOW + 60),
            actor: "admin:0123".to_owned(),
            action: AuditAction::Revoke,
            serial: Some("B1".to_owned()),
            subject: None,
            detail: "reason keyCompromise".to_owned(),
        })
        .await
        .unwrap();
    let entries = store
        .audit_of_serial("B1", &AuditQuery::default())
        .await
        .unwrap();
    let actions: Vec<AuditAction> = entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [AuditAction::Revoke, AuditAction::Sign],
        "{entries:#?}"
    );
    assert!(entries.iter().all(|e| e.serial.as_deref() == Some("B1")));
    assert!(
        store
            .audit_of_serial("C9", &AuditQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Audit entries written before migration 0008, found by their serial then, are found by
/// their certificate's id after it: the migration links each entry to the certificate with
/// its serial, the same serial under two issuers to the first, and a token's to none.
async fn audit_entries_from_before_migration_0008_stay_on_their_certificates(temp: TempStore) {
    // The schema as the build before 0008 left it: migrations 0001-0007, run by sqlx.
    let dir = tempfile::tempdir().unwrap();
    let backend = if temp.is_sqlite() {
        "sqlite"
    } else {
        "postgres"
    };
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0008" {
            std::fs::copy(&path, dir.path().join(name)).unwrap();
        }
    }
    let before = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    assert_eq!(before.iter().count(), 7);
    let fingerprint = |byte: &str| vec![byte; 32].join(":");
    let rows = [
        format!(
            "INSERT INTO certificates (serial, issuer_key_id, issuer, subject, sans, \
             not_before, not_after, profile, fingerprint_sha256, pem, created_at) VALUES \
             ('D1', '{ISSUER_A}', 'CN=CA', 'CN=d1', '[]', {NOW}, {}, 'server', '{}', 'pem', {NOW}), \
             ('D2', '{ISSUER_A}', 'CN=CA', 'CN=d2', '[]', {NOW}, {}, 'server', '{}', 'pem', {NOW}), \
             ('D1', '{ISSUER_B}', 'CN=CB', 'CN=d1b', '[]', {NOW}, {}, 'server', '{}', 'pem', {NOW})",
            NOW + DAY,
            fingerprint("D1"),
            NOW + DAY,
            fingerprint("D2"),
            NOW + DAY,
            fingerprint("DB"),
        ),
        format!(
            "INSERT INTO audit (at, actor, action, serial, subject, detail) VALUES \
             ({NOW}, 'local:ca', 'sign', 'D1', 'CN=d1', ''), \
             ({NOW}, 'local:ca', 'sign', 'D2', 'CN=d2', ''), \
             ({NOW}, 'local:ca', 'token', NULL, 'CN=d3', 'token t1'), \
             ({}, 'local:ca', 'revoke', 'D1', 'CN=d1', 'reason keyCompromise')",
            NOW + 60
        ),
    ];
    if temp.is_sqlite() {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&temp.path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        before.run(&pool).await.unwrap();
        for sql in &rows {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let url = temp.postgres.as_ref().unwrap().url();
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        before.run(&pool).await.unwrap();
        for sql in &rows {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }

    let store = temp.open().await.unwrap();
    let actions = |entries: Vec<AuditEntry>| -> Vec<AuditAction> {
        entries.iter().map(|e| e.action).collect()
    };
    let d1 = store
        .audit_of_serial("D1", &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(actions(d1), [AuditAction::Revoke, AuditAction::Sign]);
    let d2 = store
        .audit_of_serial("D2", &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(actions(d2), [AuditAction::Sign]);
    assert_eq!(
        store.audit_log(&AuditQuery::default()).await.unwrap().len(),
        4
    );
    // Entries written after the migration are linked as they are recorded.
    let mut signed = certificate("D4", ISSUER_A, "server", NOW + DAY);
    signed.audit = Some(note(AuditAction::Sign));
    store.record(&signed).await.unwrap();
    let d4 = store
        .audit_of_serial("D4", &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(actions(d4), [AuditAction::Sign]);
    store.close().await;
}

/// An issuance's audit entry is written in its certificate's transaction: recorded with
/// the certificate's serial, subject and recording time, exactly once, and never without
/// the certificate nor the certificate without it.
async fn a_certificate_and_its_audit_entry_commit_together_or_not_at_all(temp: TempStore) {
    let store = temp.open().await.unwrap();

    let mut signed = certificate("a1", ISSUER_A, "server", NOW + DAY);
    signed.audit = Some(note(AuditAction::Sign));
    let before = store.write_stats();
    let record = store.record(&signed).await.unwrap();
    assert_eq!(
        store.write_stats().commits - before.commits,
        1,
        "one transaction for the certificate and its audit entry"
    );
    let trail = audit_trail(&store).await;
    assert_eq!(trail.len(), 1, "{trail:#?}");
    let entry = &trail[0];
    assert_eq!(entry.action, AuditAction::Sign);
    assert_eq!(entry.actor, "admin:0123");
    assert_eq!(entry.detail, "profile server");
    // As the store normalised them.
    assert_eq!(entry.serial.as_deref(), Some("A1"));
    assert_eq!(entry.subject.as_deref(), Some(record.subject.as_str()));
    assert_eq!(entry.at, record.created_at);

    // No note, no entry (the CA's own certificates, `mutual init`).
    store
        .record(&certificate("A2", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap();
    assert_eq!(audit_trail(&store).await.len(), 1);

    // A refused certificate leaves no entry behind.
    let mut again = certificate("A1", ISSUER_A, "server", NOW + DAY);
    again.fingerprint_sha256 = fingerprint(ISSUER_A, "A1A1");
    again.audit = Some(note(AuditAction::Sign));
    let err = store.record(&again).await.unwrap_err();
    assert_eq!(err.code(), "duplicate_serial", "{err}");
    assert_eq!(audit_trail(&store).await.len(), 1);

    // An audit entry that cannot be written fails its certificate too: nothing recorded.
    refuse_audit_rows(&temp, true).await;
    let mut lost = certificate("A3", ISSUER_A, "server", NOW + DAY);
    lost.audit = Some(note(AuditAction::Issue));
    let err = store.record(&lost).await.unwrap_err();
    assert!(
        format!("{:?}", err).contains("audit trail refused by the test"),
        "{err:?}"
    );
    assert_eq!(
        store.find(&Lookup::Serial("A3".into())).await.unwrap(),
        None
    );
    // Without a note the same store still records.
    store
        .record(&certificate("A4", ISSUER_A, "server", NOW + DAY))
        .await
        .unwrap();

    // In a batch, only the certificates whose entries failed are lost, each with its own
    // error; the others are recorded.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            let mut new = certificate(&format!("B{i:02X}"), ISSUER_A, "client", NOW + DAY);
            if i % 2 == 0 {
                new.audit = Some(note(AuditAction::Enroll));
            }
            (i, store.record(&new).await)
        });
    }
    for (i, outcome) in tasks.join_all().await {
        assert_eq!(outcome.is_ok(), i % 2 == 1, "B{i:02X}: {outcome:?}");
    }
    refuse_audit_rows(&temp, false).await;
    assert_eq!(audit_trail(&store).await.len(), 1);

    // Many at once, each with its entry: one entry per certificate, whatever the batches.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let store = store.clone();
        tasks.spawn(async move {
            let mut new = certificate(&format!("C{i:02X}"), ISSUER_A, "client", NOW + DAY);
            new.audit = Some(note(AuditAction::Renew));
            store.record(&new).await.unwrap()
        });
    }
    let recorded = tasks.join_all().await;
    let renewals: Vec<AuditEntry> = audit_trail(&store)
        .await
        .into_iter()
        .filter(|entry| entry.action == AuditAction::Renew)
        .collect();
    assert_eq!(renewals.len(), 100);
    for record in &recorded {
        let entries: Vec<&AuditEntry> = renewals
            .iter()
            .filter(|entry| entry.serial.as_deref() == Some(record.serial.as_str()))
            .collect();
        assert_eq!(entries.len(), 1, "{}", record.serial);
        assert_eq!(entries[0].at, record.created_at);
        assert_eq!(entries[0].subject.as_deref(), Some(record.subject.as_str()));
    }
    let stats = store.write_stats();
    if temp.is_sqlite() {
        assert!(stats.commits < stats.records, "{stats:?}");
    }
    store.close().await;
}

/// Two handles (two nodes) taking CRL numbers at once: each number once, none skipped.
async fn crl_numbers_never_repeat_under_concurrency(temp: TempStore) {
    let handles = [temp.open().await.unwrap(), temp.open().await.unwrap()];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let store = handles[i % 2].clone();
        tasks.spawn(async move { store.next_crl_number(ISSUER_B).await.unwrap() });
    }
    let mut numbers = tasks.join_all().await;
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=100).collect::<Vec<u64>>());
    assert_eq!(handles[0].next_crl_number(ISSUER_A).await.unwrap(), 1);
}

/// A store with a bit of everything: certificates with SANs, a revocation, CRL numbers,
/// audit entries and a token.
async fn populate(store: &Store) {
    for i in 0..30 {
        let mut new = certificate(&format!("BA{i:02X}"), ISSUER_A, "client", NOW + i * DAY);
        if i % 3 == 0 {
            new.audit = Some(note(AuditAction::Sign));
        }
        store.record(&new).await.unwrap();
    }
    store
        .revoke(
            &Lookup::Serial("BA07".into()),
            &Revocation {
                invalid_since: Some(at(NOW - DAY)),
                ..revocation(now(), RevocationReason::KeyCompromise)
            },
        )
        .await
        .unwrap();
    assert_eq!(store.next_crl_number(ISSUER_A).await.unwrap(), 1);
    assert_eq!(store.next_crl_number(ISSUER_A).await.unwrap(), 2);
    store
        .create_token(&mutual_ca::store::tokens::NewToken {
            id: "tok1".to_owned(),
            secret_sha256: "ab".repeat(32),
            profile: mutual_ca::profile::ProfileKind::Client,
            subject: "device-1".to_owned(),
            created_at: now(),
            expires_at: now() + Duration::hours(1),
            created_by: "local:test".to_owned(),
        })
        .await
        .unwrap();
}

/// Backup and restore across backends: every row arrives with its id, the copy exports
/// the same snapshot, the counters continue (ids, CRL numbers), and a store in use is
/// never restored into.
async fn a_snapshot_moves_between_backends(from: TempStore, to: TempStore) {
    let source = from.open().await.unwrap();
    populate(&source).await;
    let snapshot = source.export().await.unwrap();
    assert_eq!(snapshot.certificates.len(), 30);
    assert_eq!(snapshot.sans.len(), 60);
    assert_eq!(snapshot.revocations.len(), 1);
    assert_eq!(snapshot.audit.len(), 10);
    assert_eq!(snapshot.tokens.len(), 1);

    let target = to.open().await.unwrap();
    target.import(&snapshot).await.unwrap();
    assert_eq!(target.export().await.unwrap(), snapshot);
    // Each certificate's page lists the same entries from the copy.
    for serial in snapshot.audit.iter().filter_map(|e| e.serial.as_deref()) {
        let query = AuditQuery::default();
        let (before, after) = (
            source.audit_of_serial(serial, &query).await.unwrap(),
            target.audit_of_serial(serial, &query).await.unwrap(),
        );
        assert!(!after.is_empty(), "{serial}: nothing after the restore");
        assert_eq!(after, before, "{serial}");
    }
    let revoked = target
        .find(&Lookup::Serial("BA07".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.status, Status::Revoked);
    let crl = target.revoked_serials(ISSUER_A, now()).await.unwrap();
    assert_eq!(crl.len(), 1);
    assert_eq!(crl[0].invalid_since, Some(at(NOW - DAY)));
    assert_eq!(target.next_crl_number(ISSUER_A).await.unwrap(), 3);
    let mut by_san = Query::new(now());
    by_san.san = Some("host-ba0a.example".to_owned());
    assert_eq!(list_serials(&target, &by_san).await, ["BA0A"]);
    let next = target
        .record(&certificate("BB", ISSUER_A, "server", NOW))
        .await
        .unwrap();
    let largest = snapshot.certificates.iter().map(|c| c.id).max().unwrap();
    assert!(next.id > largest, "{} after {largest}", next.id);

    let err = target.import(&snapshot).await.unwrap_err();
    assert_eq!(err.code(), "store_not_empty", "{err}");
}

#[tokio::test]
async fn a_snapshot_moves_from_sqlite_to_postgres() {
    a_snapshot_moves_between_backends(TempStore::sqlite(), TempStore::postgres()).await;
}

#[tokio::test]
async fn a_snapshot_moves_from_postgres_to_sqlite() {
    a_snapshot_moves_between_backends(TempStore::postgres(), TempStore::sqlite()).await;
}

/// Records whose subjects are `subjects`, in order, all expiring at NOW + 30 days; their
/// serials are `5000`, `5001`, ...
async fn record_subjects(store: &Store, subjects: &[&str]) -> Vec<String> {
    let mut serials = Vec::new();
    for (i, subject) in subjects.iter().enumerate() {
        let serial = format!("{:04X}", 0x5000 + i);
        let mut new = certificate(&serial, ISSUER_A, "client", NOW + 30 * DAY);
        new.subject = (*subject).to_owned();
        new.sans = vec![format!("email:{i}@example.test")];
        store.record(&new).await.unwrap();
        serials.push(serial);
    }
    serials
}

/// The subject search is a case-insensitive prefix of the common name (the whole subject
/// when there is none); the one search box is that or a SAN.
async fn list_searches_subjects_by_common_name_prefix(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let serials = record_subjects(
        &store,
        &[
            "CN=Alice Smith,O=Acme",   // 5000
            "CN=alice-laptop",         // 5001
            "O=Acme,CN=ALICE.example", // 5002: the CN need not come first
            "CN=Bob,O=Alice Corp",     // 5003: "alice" only outside the CN
            "O=No Common Name,C=DE",   // 5004
            "CN=Ünïcode Ñame",         // 5005
            "CN=al",                   // 5006
            "CN=<script>&\\\"x\\\"",   // 5007: markup and an escaped quote
        ],
    )
    .await;
    let by_subject = |prefix: &str| {
        let mut query = Query::new(now());
        query.subject = Some(prefix.to_owned());
        query.order = Order::Subject;
        query
    };
    let serial = |i: usize| serials[i].clone();
    for prefix in ["alice", "ALICE", " Alice "] {
        assert_eq!(
            list_serials(&store, &by_subject(prefix)).await,
            [serial(0), serial(1), serial(2)],
            "{prefix}: `alice smith`, `alice-laptop`, `alice.example`: by their keys' bytes"
        );
    }
    assert_eq!(
        list_serials(&store, &by_subject("al")).await,
        [serial(6), serial(0), serial(1), serial(2)]
    );
    assert_eq!(
        list_serials(&store, &by_subject("o=no common")).await,
        [serial(4)]
    );
    assert_eq!(list_serials(&store, &by_subject("ÜNÏ")).await, [serial(5)]);
    assert_eq!(
        list_serials(&store, &by_subject("<script>&\"")).await,
        [serial(7)]
    );
    assert!(list_serials(&store, &by_subject("smith")).await.is_empty());
    assert!(list_serials(&store, &by_subject("alicex")).await.is_empty());

    // The one search box: a SAN or the start of a common name, each certificate once.
    let mut search = Query::new(now());
    search.search = Some("bob".into());
    assert_eq!(list_serials(&store, &search).await, [serial(3)]);
    search.search = Some("email:1@example.test".into());
    assert_eq!(list_serials(&store, &search).await, [serial(1)]);
    // Filters still apply beside it.
    search.search = Some("alice".into());
    search.profile = Some("server".into());
    assert!(list_serials(&store, &search).await.is_empty());
    search.profile = None;
    assert_eq!(list_serials(&store, &search).await.len(), 3);
    assert_eq!(store.count(&search).await.unwrap(), 3);
}

/// Every order pages through records sharing their sort key (same not_after, same common
/// name in other cases) and returns each exactly once, in that order; a cursor is only
/// good for the order that wrote it.
async fn each_order_pages_through_ties_once(temp: TempStore) {
    let store = temp.open().await.unwrap();
    let names = ["CN=zed", "CN=Amy", "CN=ZED", "CN=bo", "CN=amy,O=Other"];
    for i in 0..23_i64 {
        let serial = format!("{:02X}", 0x60 + i);
        let mut new = certificate(&serial, ISSUER_A, "server", NOW + (i % 4) * DAY);
        new.subject = names[i as usize % names.len()].to_owned();
        store.record(&new).await.unwrap();
    }
    let mut everything = Query::new(now());
    everything.limit = 1000;
    let all = store.list(&everything).await.unwrap().records;
    assert_eq!(all.len(), 23);
    let key = |r: &CertificateRecord| {
        r.subject
            .trim_start_matches("CN=")
            .split(',')
            .next()
            .unwrap()
            .to_lowercase()
    };

    for order in Order::ALL {
        let mut expected = all.clone();
        match order {
            Order::ExpirySoonest => expected.sort_by_key(|r| (r.not_after, r.id)),
            Order::ExpiryLatest => expected.sort_by_key(|r| std::cmp::Reverse((r.not_after, r.id))),
            Order::Newest => expected.sort_by_key(|r| std::cmp::Reverse(r.id)),
            Order::Subject => expected.sort_by_key(|r| (key(r), r.id)),
        }
        let mut query = Query::new(now());
        query.order = order;
        query.limit = 4;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.list(&query).await.unwrap();
            pages += 1;
            seen.extend(page.records.iter().map(|r| r.id));
            match page.next {
                Some(next) => {
                    // Through its text, as the dashboard's address carries it.
                    let text = next.to_string();
                    let next: Cursor = text.parse().unwrap();
                    assert_eq!(next.order(), order, "{text}");
                    query.after = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(pages, 6, "{order}: 23 records, 4 a page");
        assert_eq!(
            seen,
            expected.iter().map(|r| r.id).collect::<Vec<_>>(),
            "{order}"
        );
    }

    // A cursor of one order given to another is refused, not read as a position in it.
    let mut subject = Query::new(now());
    subject.order = Order::Subject;
    subject.limit = 4;
    let cursor = store.list(&subject).await.unwrap().next.unwrap();
    for order in [Order::ExpirySoonest, Order::ExpiryLatest, Order::Newest] {
        let mut other = Query::new(now());
        other.order = order;
        other.after = Some(cursor.clone());
        let err = store.list(&other).await.unwrap_err();
        assert_eq!(err.code(), "cursor_order_mismatch", "{order}: {err}");
    }
    // The old cursor text still reads as the expiry order.
    let mut expiry = Query::new(now());
    expiry.after = Some(format!("{NOW}-0").parse().unwrap());
    assert_eq!(store.list(&expiry).await.unwrap().records.len(), 23);
}

/// The timeline's counts: valid certificates per week and profile, counted in the
/// database, revoked and expired ones left out, the week's edge in the next week.
async fn expiry_counts_group_by_week_and_profile_less_revoked(temp: TempStore) {
    let store = temp.open().await.unwrap();
    inventory(&store).await;
    let counts = store
        .expiry_counts(now(), Duration::days(7), 2, &["server", "client", "admin"])
        .await
        .unwrap();
    let count = |bucket, profile: &str, count| ExpiryCount {
        bucket,
        profile: profile.to_owned(),
        count,
    };
    assert_eq!(
        counts,
        [
            count(0, "client", 1), // C0
            count(0, "server", 2), // F0, B0 (E0 revoked, A0 expired)
            count(1, "client", 1), // 02
            count(1, "server", 1), // 01, at exactly NOW + 7 days
        ]
    );
    // The sum is what `list` and the census count as expiring within two weeks, less the
    // instant at the end of the range (the list includes it).
    let mut within = Query::new(now());
    within.expiring_within = Some(Duration::days(14) - Duration::seconds(1));
    let total: u64 = counts.iter().map(|c| c.count).sum();
    assert_eq!(store.count(&within).await.unwrap(), total);
    assert_eq!(
        store
            .expiring_count(now(), Duration::days(14) - Duration::seconds(1))
            .await
            .unwrap(),
        total
    );
    // Only the profiles asked for.
    let servers = store
        .expiry_counts(now(), Duration::days(7), 2, &["server"])
        .await
        .unwrap();
    assert_eq!(servers, [count(0, "server", 2), count(1, "server", 1)]);
    assert!(
        store
            .expiry_counts(
                now() + Duration::days(400),
                Duration::days(7),
                13,
                &["server"]
            )
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_subject_key_of_a_row_missing_it_is_filled_in_when_the_store_opens() {
    use sqlx::Connection;
    let temp = temp_store();
    let store = temp.open().await.unwrap();
    record_subjects(&store, &["CN=Later,O=Acme"]).await;
    store.close().await;
    // As a row written before migration 0006 (or restored from a backup) is.
    let url = format!("sqlite://{}", temp.path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE certificates SET subject_key = NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let store = temp.open().await.unwrap();
    let mut query = Query::new(now());
    query.subject = Some("later".into());
    assert_eq!(list_serials(&store, &query).await, ["5000"]);
    store.close().await;
}

/// One `#[tokio::test]` per backend for each test that takes a [`TempStore`].
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::TempStore::sqlite()).await
                }
            )*
            #[tokio::test]
            async fn concurrent_first_opens_of_a_new_store_all_succeed() {
                super::concurrent_first_opens_of_a_new_store_all_succeed(super::TempStore::sqlite)
                    .await
            }
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::TempStore::postgres()).await
                }
            )*
            #[tokio::test]
            async fn concurrent_first_opens_of_a_new_store_all_succeed() {
                super::concurrent_first_opens_of_a_new_store_all_succeed(super::TempStore::postgres)
                    .await
            }
        }
    };
}

both_backends!(
    list_searches_subjects_by_common_name_prefix,
    each_order_pages_through_ties_once,
    expiry_counts_group_by_week_and_profile_less_revoked,
    a_certificate_and_its_audit_entry_commit_together_or_not_at_all,
    audit_of_serial_lists_one_certificates_entries_newest_first,
    audit_entries_from_before_migration_0008_stay_on_their_certificates,
    crl_numbers_never_repeat_under_concurrency,
    record_then_find_by_any_spelling,
    serial_is_unique_per_issuer_only,
    malformed_input_is_refused_before_anything_is_written,
    list_filters_by_profile_status_expiry_and_san,
    census_counts_expiring_certificates_as_list_does,
    keyset_pagination_returns_every_record_once_in_order,
    revoke_marks_once_and_list_sees_it,
    reopening_keeps_records_and_migrations_are_idempotent,
    two_handles_record_concurrently,
    concurrent_records_share_commits_and_all_survive_a_reopen,
    a_duplicate_inside_a_batch_fails_only_its_own_record,
    records_queued_before_close_are_committed,
);

/// The SQLite writer's other path: on a multi-thread runtime (`mutual serve`) a
/// blocking-pool thread leads the group commit instead of the recording task's own thread.
mod sqlite_multi_thread {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_records_share_commits_and_all_survive_a_reopen() {
        super::concurrent_records_share_commits_and_all_survive_a_reopen(super::TempStore::sqlite())
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_record_concurrently() {
        super::two_handles_record_concurrently(super::TempStore::sqlite()).await
    }
}
