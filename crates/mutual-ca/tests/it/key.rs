//! Key storage against the real `openssl`: keys `mutual` encrypts are read by `openssl pkey`,
//! keys `openssl pkcs8 -topk8` encrypts are read by `mutual`, and bad input gets a stable
//! error code, never a panic.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::fs;
use std::path::{Path, PathBuf};

use mutual_ca::files::{FileKind, write_atomic};
use mutual_ca::key::{KeyError, KeyType, decrypt_pem, encrypt_pem, read_key, unencrypted_pem};
use mutual_ca::passphrase::Passphrase;
use mutual_test::{openssl, openssl_output, pem_to_der};
use rcgen::{KeyPair, PublicKeyData};
use tempfile::TempDir;

const PASSPHRASE: &str = "correct horse battery staple";

/// A temporary directory holding the passphrase file `passphrase` (for `-passin file:`).
struct Workspace {
    dir: TempDir,
    passphrase_file: PathBuf,
    passphrase: Passphrase,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let passphrase_file = dir.path().join("passphrase");
        fs::write(&passphrase_file, format!("{PASSPHRASE}\n")).unwrap();
        let passphrase = Passphrase::from_file(&passphrase_file).unwrap();
        Self {
            dir,
            passphrase_file,
            passphrase,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn passin(&self) -> String {
        format!("file:{}", self.passphrase_file.display())
    }

    /// `openssl genpkey GENPKEY_ARGS` into `NAME.plain.pem`, then `openssl pkcs8 -topk8
    /// PKCS8_ARGS` into `NAME.pem` under the workspace passphrase. Returns both paths.
    fn openssl_key(
        &self,
        name: &str,
        genpkey_args: &[&str],
        pkcs8_args: &[&str],
    ) -> (PathBuf, PathBuf) {
        let plain = self.path(&format!("{name}.plain.pem"));
        let encrypted = self.path(&format!("{name}.pem"));
        let mut args = vec!["genpkey"];
        args.extend_from_slice(genpkey_args);
        args.extend_from_slice(&["-out", text(&plain)]);
        openssl(&args);
        let passout = self.passin();
        let mut args = vec![
            "pkcs8",
            "-topk8",
            "-in",
            text(&plain),
            "-out",
            text(&encrypted),
        ];
        args.extend_from_slice(&["-passout", &passout]);
        args.extend_from_slice(pkcs8_args);
        openssl(&args);
        (plain, encrypted)
    }
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

/// What `openssl pkey -pubout` prints for the key in `path`.
fn openssl_public_key(path: &Path, passin: &str) -> String {
    openssl(&["pkey", "-in", text(path), "-passin", passin, "-pubout"])
}

fn assert_code(result: Result<KeyPair, KeyError>, code: &str) -> KeyError {
    match result {
        Ok(_) => panic!("expected `{code}`, got a key"),
        Err(error) => {
            assert_eq!(error.code(), code, "{error}");
            assert_no_secrets(&error);
            error
        }
    }
}

fn assert_no_secrets(error: &KeyError) {
    for rendered in [
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ] {
        assert!(!rendered.contains(PASSPHRASE), "{rendered}");
        assert!(!rendered.contains("correct horse"), "{rendered}");
    }
}

/// Generates a key, stores it encrypted, and has `openssl` read it back.
fn round_trip_through_openssl(key_type: KeyType, openssl_says: &[&str]) {
    let workspace = Workspace::new();
    let key = key_type.generate().unwrap();
    assert_eq!(KeyType::of(&key), Some(key_type));

    let pem = encrypt_pem(&key, &workspace.passphrase).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
        "{}",
        *pem
    );
    assert!(
        pem.ends_with("-----END ENCRYPTED PRIVATE KEY-----\n"),
        "{}",
        *pem
    );
    let path = workspace.path("key.pem");
    write_atomic(&path, pem.as_bytes(), FileKind::Secret).unwrap();
    let passin = workspace.passin();

    // openssl decrypts it and sees the right algorithm and size.
    let description = openssl(&[
        "pkey",
        "-in",
        text(&path),
        "-passin",
        &passin,
        "-noout",
        "-text",
    ]);
    for expected in openssl_says {
        assert!(
            description.contains(expected),
            "{key_type}: no `{expected}` in\n{description}"
        );
    }
    assert_eq!(
        openssl_public_key(&path, &passin),
        key.public_key_pem(),
        "{key_type}: openssl sees another public key"
    );

    // PBES2 with scrypt (N = 2^14 = 0x4000, r = 15 = 0x0F, p = 1) and AES-256-CBC.
    let structure = openssl(&["asn1parse", "-in", text(&path)]);
    for expected in [":PBES2", ":scrypt", ":4000", ":0F", ":01", ":aes-256-cbc"] {
        assert!(
            structure.contains(expected),
            "{key_type}: no `{expected}` in\n{structure}"
        );
    }

    // The wrong passphrase does not open it (for us: `wrong_passphrase_has_its_own_code`).
    let wrong = openssl_output(&[
        "pkey",
        "-in",
        text(&path),
        "-passin",
        "pass:not the passphrase",
        "-noout",
    ]);
    assert!(
        !wrong.status.success(),
        "{key_type}: openssl accepted a wrong passphrase"
    );

    // We read back exactly the key we wrote.
    let decrypted = decrypt_pem(&pem, &workspace.passphrase).unwrap();
    assert_eq!(
        decrypted.subject_public_key_info(),
        key.subject_public_key_info()
    );
    assert_eq!(decrypted.serialized_der(), key.serialized_der());
    assert_eq!(decrypted.algorithm(), key.algorithm());
    assert_eq!(KeyType::of(&decrypted), Some(key_type));

    // Unencrypted, it is PKCS#8 that openssl reads too (v1: OpenSSL 3.0 rejects v2).
    let plain = unencrypted_pem(&key).unwrap();
    assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let plain_path = workspace.path("plain.pem");
    write_atomic(&plain_path, plain.as_bytes(), FileKind::Secret).unwrap();
    assert_eq!(
        openssl_public_key(&plain_path, "pass:"),
        key.public_key_pem()
    );
    let unencrypted = read_key(&plain, None).unwrap();
    assert_eq!(unencrypted.serialized_der(), key.serialized_der());

    // The file holds no piece of the plaintext key: neither its base64 nor any 16-byte run
    // of its DER.
    let plain_base64: String = key
        .serialize_pem()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let stored_base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    assert!(!stored_base64.contains(&plain_base64[..24]));
    let stored = &pem_to_der(&path)[0];
    for window in key.serialized_der().windows(16) {
        assert!(
            !stored.windows(16).any(|run| run == window),
            "{key_type}: plaintext key bytes in the encrypted file"
        );
    }
}

#[test]
fn ec_p256_key_is_read_by_openssl() {
    round_trip_through_openssl(
        KeyType::EcP256,
        &["Private-Key: (256 bit)", "NIST CURVE: P-256"],
    );
}

#[test]
fn ec_p384_key_is_read_by_openssl() {
    round_trip_through_openssl(
        KeyType::EcP384,
        &["Private-Key: (384 bit)", "NIST CURVE: P-384"],
    );
}

#[test]
fn ed25519_key_is_read_by_openssl() {
    round_trip_through_openssl(KeyType::Ed25519, &["ED25519 Private-Key:"]);
}

#[test]
fn rsa_2048_key_is_read_by_openssl() {
    round_trip_through_openssl(KeyType::Rsa2048, &["Private-Key: (2048 bit, 2 primes)"]);
}

#[test]
fn rsa_3072_key_is_read_by_openssl() {
    round_trip_through_openssl(KeyType::Rsa3072, &["Private-Key: (3072 bit, 2 primes)"]);
}

#[test]
fn rsa_4096_key_is_read_by_openssl() {
    round_trip_through_openssl(KeyType::Rsa4096, &["Private-Key: (4096 bit, 2 primes)"]);
}

#[test]
fn keys_encrypted_by_openssl_are_read() {
    let workspace = Workspace::new();
    let p256 = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
    let cases: [(&str, &[&str], &[&str], KeyType); 6] = [
        // OpenSSL 3's `-v2` default: PBKDF2 with HMAC-SHA-256, 2048 iterations.
        (
            "p256-pbkdf2",
            &p256,
            &["-v2", "aes-256-cbc"],
            KeyType::EcP256,
        ),
        (
            "p256-scrypt",
            &p256,
            &["-v2", "aes-256-cbc", "-scrypt"],
            KeyType::EcP256,
        ),
        (
            "p256-aes128",
            &p256,
            &["-v2", "aes-128-cbc"],
            KeyType::EcP256,
        ),
        (
            "p384-sha512",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"],
            KeyType::EcP384,
        ),
        (
            "ed25519",
            &["-algorithm", "ED25519"],
            &["-v2", "aes-256-cbc"],
            KeyType::Ed25519,
        ),
        (
            "rsa2048",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            &["-v2", "aes-256-cbc"],
            KeyType::Rsa2048,
        ),
    ];
    for (name, genpkey, pkcs8, key_type) in cases {
        let (plain, encrypted) = workspace.openssl_key(name, genpkey, pkcs8);
        let key = decrypt_pem(&read(&encrypted), &workspace.passphrase)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(KeyType::of(&key), Some(key_type), "{name}");
        assert_eq!(
            key.public_key_pem(),
            openssl_public_key(&plain, "pass:"),
            "{name}: another public key"
        );
        // The plain PKCS#8 openssl wrote reads without a passphrase.
        let unencrypted = read_key(&read(&plain), None).unwrap();
        assert_eq!(unencrypted.serialized_der(), key.serialized_der(), "{name}");
    }
}

#[test]
fn wrong_passphrase_has_its_own_code() {
    let workspace = Workspace::new();
    let key = KeyType::EcP256.generate().unwrap();
    let pem = encrypt_pem(&key, &workspace.passphrase).unwrap();
    for wrong in ["", "correct horse battery stapl"] {
        let wrong = Passphrase::new(wrong.to_owned());
        assert_code(decrypt_pem(&pem, &wrong), "wrong_passphrase");
    }
    let wrong = Passphrase::new("Correct horse battery staple".to_owned());
    assert_code(read_key(&pem, Some(&wrong)), "wrong_passphrase");
    assert_eq!(
        read_key(&pem, Some(&workspace.passphrase))
            .unwrap()
            .serialized_der(),
        key.serialized_der()
    );
}

/// Regression: a wrong AES key still gives valid CBC padding about once in 256 tries; the
/// noise that comes out must be reported as a wrong passphrase, not as a corrupt key. One
/// PBKDF2 iteration makes 2000 tries cheap (and all but certain to hit that case).
#[test]
fn wrong_passphrase_with_lucky_padding_is_still_wrong_passphrase() {
    let workspace = Workspace::new();
    let (_, encrypted) = workspace.openssl_key(
        "cheap",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &["-v2", "aes-256-cbc", "-iter", "1"],
    );
    let pem = read(&encrypted);
    for attempt in 0..2000 {
        let wrong = Passphrase::new(format!("wrong {attempt}"));
        assert_code(decrypt_pem(&pem, &wrong), "wrong_passphrase");
    }
    assert!(decrypt_pem(&pem, &workspace.passphrase).is_ok());
}

#[test]
fn encrypted_key_needs_a_passphrase_and_plain_key_is_not_encrypted() {
    let workspace = Workspace::new();
    let key = KeyType::Ed25519.generate().unwrap();
    let encrypted = encrypt_pem(&key, &workspace.passphrase).unwrap();
    let error = assert_code(read_key(&encrypted, None), "passphrase_required");
    assert!(error.to_string().contains("--passphrase-file"), "{error}");

    let plain = key.serialize_pem();
    assert_eq!(
        read_key(&plain, None).unwrap().serialized_der(),
        key.serialized_der()
    );
    assert_code(
        decrypt_pem(&plain, &workspace.passphrase),
        "key_not_encrypted",
    );
}

#[test]
fn garbage_and_truncated_input_is_corrupt_never_a_panic() {
    let workspace = Workspace::new();
    let key = KeyType::EcP256.generate().unwrap();
    let pem = encrypt_pem(&key, &workspace.passphrase).unwrap();
    let pem: &str = &pem;
    let passphrase = &workspace.passphrase;

    assert_code(decrypt_pem("", passphrase), "no_private_key");
    assert_code(decrypt_pem("hello, world\n", passphrase), "no_private_key");
    assert_code(
        decrypt_pem("\u{0}\u{ff}é\r\n", passphrase),
        "no_private_key",
    );
    let cases = [
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n".to_owned(),
        "-----BEGIN ENCRYPTED PRIVATE KEY\nAAAA\n".to_owned(),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED PRIVATE KEY-----\n"
            .to_owned(),
        // Base64 that decodes, but not to DER.
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
            .to_owned(),
        // DER, but an INTEGER instead of an EncryptedPrivateKeyInfo.
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAgEB\n-----END ENCRYPTED PRIVATE KEY-----\n"
            .to_owned(),
        // Half a file: the END line is gone.
        pem[..pem.len() / 2].to_owned(),
        // A line missing from the middle.
        {
            let mut lines: Vec<&str> = pem.lines().collect();
            lines.remove(2);
            lines.join("\n")
        },
    ];
    for case in &cases {
        assert_code(decrypt_pem(case, passphrase), "key_corrupt");
        let error = read_key(case, None).err().unwrap();
        assert!(
            ["key_corrupt", "passphrase_required"].contains(&error.code()),
            "{error}"
        );
    }

    assert_code(
        read_key(
            "-----BEGIN PRIVATE KEY-----\nAgEB\n-----END PRIVATE KEY-----\n",
            None,
        ),
        "key_corrupt",
    );

    // Every cut of the file fails cleanly.
    for end in 0..pem.len() - 1 {
        let error = decrypt_pem(&pem[..end], passphrase).err().unwrap();
        assert!(
            ["no_private_key", "key_corrupt"].contains(&error.code()),
            "cut at {end}: {error}"
        );
    }

    // DER cut short inside, re-wrapped in a well-formed PEM.
    let der = workspace.path("cut.der");
    let full = pem_to_der({
        let path = workspace.path("full.pem");
        fs::write(&path, pem).unwrap();
        path
    })
    .remove(0);
    fs::write(&der, &full[..full.len() - 20]).unwrap();
    let base64 = openssl(&["base64", "-e", "-in", text(&der)]);
    let rewrapped = format!(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{base64}-----END ENCRYPTED PRIVATE KEY-----\n"
    );
    assert_code(decrypt_pem(&rewrapped, passphrase), "key_corrupt");

    // A changed byte in the ciphertext: the passphrase no longer opens it.
    let mut damaged = full.clone();
    let last = damaged.len() - 20;
    damaged[last] ^= 0x01;
    fs::write(&der, &damaged).unwrap();
    let base64 = openssl(&["base64", "-e", "-in", text(&der)]);
    let damaged = format!(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{base64}-----END ENCRYPTED PRIVATE KEY-----\n"
    );
    assert_code(decrypt_pem(&damaged, passphrase), "wrong_passphrase");
}

#[test]
fn the_key_is_found_among_other_pem_blocks() {
    let workspace = Workspace::new();
    let key = KeyType::EcP256.generate().unwrap();
    let encrypted = encrypt_pem(&key, &workspace.passphrase).unwrap();
    let bundle = format!(
        "subject=CN = example\n{}\n{}",
        key.public_key_pem(),
        *encrypted
    );
    let found = decrypt_pem(&bundle, &workspace.passphrase).unwrap();
    assert_eq!(found.serialized_der(), key.serialized_der());
    let error = assert_code(
        decrypt_pem(&key.public_key_pem(), &workspace.passphrase),
        "no_private_key",
    );
    assert!(error.to_string().contains("`PUBLIC KEY`"), "{error}");
}

#[test]
fn legacy_openssl_formats_say_how_to_convert() {
    let workspace = Workspace::new();
    let (plain, _) = workspace.openssl_key(
        "legacy",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &["-v2", "aes-256-cbc"],
    );
    let traditional = openssl(&["pkey", "-in", text(&plain), "-traditional"]);
    assert!(traditional.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    let error = assert_code(read_key(&traditional, None), "legacy_key_format");
    assert!(
        error.to_string().contains("openssl pkcs8 -topk8"),
        "{error}"
    );
}

#[test]
fn unsupported_encryption_names_the_algorithm() {
    let workspace = Workspace::new();
    let p256 = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
    let cases: [(&str, &[&str], &str); 3] = [
        (
            "pbes1",
            &["-v1", "PBE-SHA1-3DES"],
            "pbeWithSHAAnd3-KeyTripleDES-CBC",
        ),
        ("des3", &["-v2", "des3"], "des-ede3-cbc"),
        (
            "sha1",
            &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"],
            "hmacWithSHA1",
        ),
    ];
    for (name, pkcs8, algorithm) in cases {
        let (_, encrypted) = workspace.openssl_key(name, &p256, pkcs8);
        let error = assert_code(
            decrypt_pem(&read(&encrypted), &workspace.passphrase),
            "unsupported_key_encryption",
        );
        assert!(error.to_string().contains(algorithm), "{name}: {error}");
    }
}

#[test]
fn keys_mutual_cannot_sign_with() {
    let workspace = Workspace::new();
    let (plain, _) =
        workspace.openssl_key("ed448", &["-algorithm", "ED448"], &["-v2", "aes-256-cbc"]);
    let error = assert_code(read_key(&read(&plain), None), "unsupported_key_type");
    assert!(error.to_string().contains("Ed448 (1.3.101.113)"), "{error}");

    // P-521 signs (rcgen supports it) but is no `KeyType`.
    let (plain, _) = workspace.openssl_key(
        "p521",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
        &["-v2", "aes-256-cbc"],
    );
    let key = read_key(&read(&plain), None).unwrap();
    assert_eq!(KeyType::of(&key), None);
}
