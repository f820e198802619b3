//! A corpus of certificates made by the real `openssl` CLI: a root, an intermediate, and one
//! leaf per shape a certificate can take (purpose, names, key type, validity).
//!
//! Built with `openssl ca` rather than `openssl x509 -req` because OpenSSL 3.0's `x509` cannot
//! set a start date, and the corpus needs a certificate that expired long ago; using one
//! signing path for every certificate also gives each a fixed serial and explicit dates.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;

use time::{Date, Duration, OffsetDateTime};

use crate::tools::openssl;

/// Certificates and keys written by [`Corpus::generate`]: `NAME.pem` and `NAME.key.pem` for
/// `root`, `intermediate` and every name in [`Corpus::names`].
#[derive(Clone, Debug)]
pub struct Corpus {
    dir: PathBuf,
}

#[derive(Clone, Copy, Debug)]
enum Key {
    Rsa2048,
    Rsa3072,
    P256,
    P384,
    Ed25519,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Issuer {
    Root,
    Intermediate,
    SelfSigned,
}

#[derive(Clone, Copy, Debug)]
enum Validity {
    /// From the day before generation for this many days.
    Days(i64),
    /// 2020-01-01 to 2020-02-01.
    LongExpired,
}

struct Shape {
    name: &'static str,
    key: Key,
    subject: &'static str,
    issuer: Issuer,
    validity: Validity,
    /// `openssl x509v3_config` lines; key identifiers are added according to the issuer.
    extensions: &'static [&'static str],
}

const CA_USAGE: &str = "keyUsage = critical, keyCertSign, cRLSign";
const LEAF: &str = "basicConstraints = critical, CA:FALSE";
const SIGN: &str = "keyUsage = critical, digitalSignature";
const SIGN_RSA: &str = "keyUsage = critical, digitalSignature, keyEncipherment";
const SERVER: &str = "extendedKeyUsage = serverAuth";
const CLIENT: &str = "extendedKeyUsage = clientAuth";
const LEAF_DAYS: Validity = Validity::Days(90);

const ROOT: Shape = Shape {
    name: "root",
    key: Key::P256,
    subject: "/O=Mutual Test/CN=Mutual Test Root CA",
    issuer: Issuer::SelfSigned,
    validity: Validity::Days(20 * 365),
    extensions: &["basicConstraints = critical, CA:TRUE", CA_USAGE],
};

const INTERMEDIATE: Shape = Shape {
    name: "intermediate",
    key: Key::P256,
    subject: "/O=Mutual Test/CN=Mutual Test Intermediate CA",
    issuer: Issuer::Root,
    validity: Validity::Days(10 * 365),
    extensions: &["basicConstraints = critical, CA:TRUE, pathlen:0", CA_USAGE],
};

/// Every leaf, in the order [`Corpus::names`] lists them. Issued by the intermediate unless
/// the shape says otherwise.
const LEAVES: &[Shape] = &[
    Shape {
        name: "server-rsa2048",
        key: Key::Rsa2048,
        subject: "/CN=server-rsa2048.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN_RSA,
            SERVER,
            "subjectAltName = DNS:server-rsa2048.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "server-rsa3072",
        key: Key::Rsa3072,
        subject: "/CN=server-rsa3072.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN_RSA,
            SERVER,
            "subjectAltName = DNS:server-rsa3072.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "server-p256",
        key: Key::P256,
        subject: "/CN=server-p256.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            SERVER,
            "subjectAltName = DNS:server-p256.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "server-p384",
        key: Key::P384,
        subject: "/CN=server-p384.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            SERVER,
            "subjectAltName = DNS:server-p384.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "server-ed25519",
        key: Key::Ed25519,
        subject: "/CN=server-ed25519.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            SERVER,
            "subjectAltName = DNS:server-ed25519.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "client",
        key: Key::P256,
        subject: "/CN=client",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            CLIENT,
            "subjectAltName = email:client@example.test",
        ],
    },
    Shape {
        name: "server-client",
        key: Key::P256,
        subject: "/CN=server-client.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            "extendedKeyUsage = serverAuth, clientAuth",
            "subjectAltName = DNS:server-client.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "no-eku",
        key: Key::P256,
        subject: "/CN=no-eku.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            "subjectAltName = DNS:no-eku.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "any-eku",
        key: Key::P256,
        subject: "/CN=any-eku.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            "extendedKeyUsage = anyExtendedKeyUsage",
            "subjectAltName = DNS:any-eku.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "ocsp-signer",
        key: Key::P256,
        subject: "/O=Mutual Test/CN=Mutual Test OCSP Signer",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[LEAF, SIGN, "extendedKeyUsage = OCSPSigning"],
    },
    Shape {
        // Says serverAuth, but its key usage allows only CRL signing: no TLS key use at all.
        name: "ku-eku-conflict",
        key: Key::P256,
        subject: "/CN=ku-eku-conflict.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            "keyUsage = critical, cRLSign",
            SERVER,
            "subjectAltName = DNS:ku-eku-conflict.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "server-cn-only",
        key: Key::P256,
        subject: "/CN=server-cn-only.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[LEAF, SIGN, SERVER],
    },
    Shape {
        name: "server-ip-san",
        key: Key::P256,
        subject: "/CN=127.0.0.1",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[LEAF, SIGN, SERVER, "subjectAltName = IP:127.0.0.1"],
    },
    Shape {
        name: "client-email-san",
        key: Key::P256,
        subject: "/O=Mutual Test/OU=People/CN=Alice Example",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            CLIENT,
            "subjectAltName = email:alice@example.test",
        ],
    },
    Shape {
        name: "client-uri-san",
        key: Key::P256,
        subject: "/O=Mutual Test/CN=api",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            CLIENT,
            "subjectAltName = URI:spiffe://example.test/workload/api",
        ],
    },
    Shape {
        name: "client-with-dns-san",
        key: Key::P256,
        subject: "/CN=client-with-dns-san.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            CLIENT,
            "subjectAltName = DNS:client-with-dns-san.example.test",
        ],
    },
    Shape {
        // A leaf that claims to be a CA, below an intermediate whose pathlen:0 forbids one.
        name: "leaf-ca-true",
        key: Key::P256,
        subject: "/CN=leaf-ca-true.example.test",
        issuer: Issuer::Intermediate,
        validity: LEAF_DAYS,
        extensions: &[
            "basicConstraints = critical, CA:TRUE",
            SIGN,
            SERVER,
            "subjectAltName = DNS:leaf-ca-true.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "self-signed-leaf",
        key: Key::P256,
        subject: "/CN=self-signed-leaf.example.test",
        issuer: Issuer::SelfSigned,
        validity: LEAF_DAYS,
        extensions: &[
            LEAF,
            SIGN,
            SERVER,
            "subjectAltName = DNS:self-signed-leaf.example.test, DNS:localhost",
        ],
    },
    Shape {
        name: "expired",
        key: Key::P256,
        subject: "/CN=expired.example.test",
        issuer: Issuer::Intermediate,
        validity: Validity::LongExpired,
        extensions: &[
            LEAF,
            SIGN,
            SERVER,
            "subjectAltName = DNS:expired.example.test, DNS:localhost",
        ],
    },
];

impl Corpus {
    /// Generates the whole corpus into `dir` (created if missing) with `/usr/bin/openssl`'s
    /// CLI. Keys are fresh each time; names, extensions, serials and validity are fixed
    /// (validity relative to today, except `expired`: January 2020).
    pub fn generate(dir: &Path) -> Corpus {
        fs::create_dir_all(dir)
            .unwrap_or_else(|error| panic!("creating `{}`: {error}", dir.display()));
        let corpus = Corpus {
            dir: dir.to_path_buf(),
        };
        let ca = corpus.prepare_ca_database();
        let today = OffsetDateTime::now_utc().date();

        // Key generation dominates (RSA 3072 especially) and is independent per certificate.
        let all: Vec<&Shape> = [&ROOT, &INTERMEDIATE].into_iter().chain(LEAVES).collect();
        thread::scope(|scope| {
            for shape in &all {
                scope.spawn(|| corpus.key_and_request(shape));
            }
        });
        // `openssl ca` keeps one database, so signing is sequential; fixed serials in order.
        for (serial, shape) in (0x1000_u32..).zip(&all) {
            corpus.sign(&ca, shape, serial, today);
        }
        corpus
    }

    /// The directory holding the corpus.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `NAME.pem`: the certificate alone, PEM. `NAME` is `root`, `intermediate` or a leaf.
    pub fn cert(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.pem", known(name)))
    }

    /// `NAME.key.pem`: the private key, PKCS#8 PEM.
    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.key.pem", known(name)))
    }

    /// The leaves' names (not `root` and `intermediate`).
    pub fn names(&self) -> Vec<&'static str> {
        LEAVES.iter().map(|shape| shape.name).collect()
    }

    fn path(&self, file: &str) -> String {
        let path = self.dir.join(file);
        path.to_str()
            .unwrap_or_else(|| panic!("`{}` is not UTF-8", path.display()))
            .to_owned()
    }

    /// Writes the `openssl ca` configuration and its empty database; returns the config path.
    fn prepare_ca_database(&self) -> String {
        let database = self.dir.join("ca-database");
        fs::create_dir_all(&database).expect("creating the openssl ca database directory");
        fs::write(database.join("index.txt"), "").expect("writing index.txt");
        let database = self.path("ca-database");
        let config = format!(
            "# Written by mutual-test's Corpus: a throwaway `openssl ca` for test certificates.\n\
             [ ca ]\n\
             default_ca = corpus\n\
             \n\
             [ corpus ]\n\
             database = {database}/index.txt\n\
             new_certs_dir = {database}\n\
             serial = {database}/serial\n\
             default_md = sha256\n\
             policy = any_subject\n\
             unique_subject = no\n\
             email_in_dn = no\n\
             copy_extensions = none\n\
             \n\
             [ any_subject ]\n\
             commonName = optional\n"
        );
        fs::write(self.dir.join("ca.cnf"), config).expect("writing ca.cnf");
        self.path("ca.cnf")
    }

    fn key_and_request(&self, shape: &Shape) {
        let key = self.path(&format!("{}.key.pem", shape.name));
        let algorithm: &[&str] = match shape.key {
            Key::Rsa2048 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            Key::Rsa3072 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
            Key::P256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            Key::P384 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            Key::Ed25519 => &["-algorithm", "ED25519"],
        };
        let mut args = vec!["genpkey"];
        args.extend(algorithm);
        args.extend(["-out", &key]);
        openssl(&args);
        let request = self.path(&format!("{}.csr.pem", shape.name));
        openssl(&[
            "req",
            "-new",
            "-key",
            &key,
            "-subj",
            shape.subject,
            "-out",
            &request,
        ]);
    }

    fn sign(&self, ca_config: &str, shape: &Shape, serial: u32, today: Date) {
        let name = shape.name;
        let mut extensions = String::from("[ extensions ]\n");
        for line in shape.extensions {
            extensions.push_str(line);
            extensions.push('\n');
        }
        extensions.push_str("subjectKeyIdentifier = hash\n");
        if shape.issuer != Issuer::SelfSigned {
            extensions.push_str("authorityKeyIdentifier = keyid:always\n");
        }
        let extfile = format!("{name}.ext.cnf");
        fs::write(self.dir.join(&extfile), extensions).expect("writing an extensions file");
        fs::write(
            self.dir.join("ca-database").join("serial"),
            format!("{serial:X}\n"),
        )
        .expect("writing the serial file");

        let (start, end) = match shape.validity {
            Validity::Days(days) => {
                let start = today - Duration::days(1);
                (start, start + Duration::days(days))
            }
            Validity::LongExpired => (
                Date::from_calendar_date(2020, time::Month::January, 1).expect("a valid date"),
                Date::from_calendar_date(2020, time::Month::February, 1).expect("a valid date"),
            ),
        };
        let (start, end) = (generalized_time(start), generalized_time(end));
        let (extfile, request, out) = (
            self.path(&extfile),
            self.path(&format!("{name}.csr.pem")),
            self.path(&format!("{name}.pem")),
        );
        let mut args = vec![
            "ca",
            "-config",
            ca_config,
            "-batch",
            "-notext",
            "-preserveDN",
            "-in",
            &request,
            "-out",
            &out,
            "-startdate",
            &start,
            "-enddate",
            &end,
            "-extfile",
            &extfile,
            "-extensions",
            "extensions",
        ];
        let (own_key, issuer_cert, issuer_key);
        match shape.issuer {
            Issuer::SelfSigned => {
                own_key = self.path(&format!("{name}.key.pem"));
                args.extend(["-selfsign", "-keyfile", &own_key]);
            }
            Issuer::Root | Issuer::Intermediate => {
                let issuer = if shape.issuer == Issuer::Root {
                    "root"
                } else {
                    "intermediate"
                };
                issuer_cert = self.path(&format!("{issuer}.pem"));
                issuer_key = self.path(&format!("{issuer}.key.pem"));
                args.extend(["-cert", &issuer_cert, "-keyfile", &issuer_key]);
            }
        }
        openssl(&args);
    }
}

/// `name` if the corpus has it; a panic listing what it has otherwise.
fn known(name: &str) -> &str {
    let found = [ROOT.name, INTERMEDIATE.name]
        .into_iter()
        .chain(LEAVES.iter().map(|shape| shape.name))
        .any(|known| known == name);
    if !found {
        let names: Vec<&str> = LEAVES.iter().map(|shape| shape.name).collect();
        panic!(
            "the corpus has no `{name}`; it has root, intermediate, {}",
            names.join(", ")
        );
    }
    name
}

/// `YYYYMMDD000000Z`, the form `openssl ca -startdate/-enddate` takes.
fn generalized_time(date: Date) -> String {
    format!(
        "{:04}{:02}{:02}000000Z",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
