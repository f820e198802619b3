//! The diagnostic path: from the leaf up, the certificates a validator would try, found by
//! name and key identifier among the supplied ones and the trust anchors — built even when
//! it is broken, so that every link can be examined and the break named.
//!
//! This is not what decides validity (rustls-webpki does); it is what explains it.

use mutual_x509::{Certificate, ExtensionValue, SignatureCheck};

/// Deep enough for any real PKI; bounds the search on hostile input.
const MAX_LENGTH: usize = 12;

/// The certificates from the leaf upwards (the trust anchor, if reached, is in `end`).
#[derive(Debug, Clone)]
pub(crate) struct Path<'a> {
    pub(crate) certs: Vec<&'a Certificate>,
    pub(crate) end: End<'a>,
}

#[derive(Debug, Clone)]
pub(crate) enum End<'a> {
    /// The last certificate is issued by this trust anchor.
    Anchor(&'a Certificate),
    /// The last certificate is self-signed and not in the trust store.
    SelfSigned,
    /// Nobody supplied the last certificate's issuer. `impostors` have the issuer's name
    /// but another key.
    MissingIssuer { impostors: Vec<&'a Certificate> },
    /// The search gave up at [`MAX_LENGTH`] certificates.
    TooLong,
}

impl<'a> Path<'a> {
    /// The certificate that issued `certs[index]`, if the path has one.
    pub(crate) fn issuer_of(&self, index: usize) -> Option<&'a Certificate> {
        match self.certs.get(index + 1) {
            Some(issuer) => Some(issuer),
            None => match self.end {
                End::Anchor(anchor) => Some(anchor),
                _ => None,
            },
        }
    }

    pub(crate) fn anchor(&self) -> Option<&'a Certificate> {
        match self.end {
            End::Anchor(anchor) => Some(anchor),
            _ => None,
        }
    }

    /// Intermediate CA certificates: neither the leaf nor the anchor.
    pub(crate) fn intermediates(&self) -> &[&'a Certificate] {
        self.certs.get(1..).unwrap_or(&[])
    }

    /// Every certificate including the anchor, leaf first.
    pub(crate) fn all(&self) -> Vec<&'a Certificate> {
        let mut all = self.certs.clone();
        // A trusted self-signed leaf is its own anchor: list it once.
        if let Some(anchor) = self.anchor()
            && !all.iter().any(|c| std::ptr::eq(*c, anchor))
        {
            all.push(anchor);
        }
        all
    }

    fn rank(&self) -> u8 {
        match self.end {
            End::Anchor(_) => 3,
            End::SelfSigned => 2,
            End::MissingIssuer { .. } => 1,
            End::TooLong => 0,
        }
    }
}

/// Builds the most complete path from `leaf`: one that reaches an anchor if any does,
/// else one that reaches a self-signed root, else the longest.
pub(crate) fn build<'a>(
    leaf: &'a Certificate,
    anchors: &'a [Certificate],
    pool: &[&'a Certificate],
) -> Path<'a> {
    extend(vec![leaf], anchors, pool)
}

fn extend<'a>(
    certs: Vec<&'a Certificate>,
    anchors: &'a [Certificate],
    pool: &[&'a Certificate],
) -> Path<'a> {
    let Some(&head) = certs.last() else {
        return Path {
            certs,
            end: End::TooLong,
        };
    };
    // A copy of a trust anchor among the supplied certificates is the anchor itself.
    if certs.len() > 1
        && let Some(anchor) = anchors.iter().find(|anchor| same_certificate(anchor, head))
    {
        let mut certs = certs;
        certs.pop();
        return Path {
            certs,
            end: End::Anchor(anchor),
        };
    }

    let mut impostors = Vec::new();
    if let Some(anchor) = pick_issuer(head, anchors.iter(), &mut impostors) {
        return Path {
            certs,
            end: End::Anchor(anchor),
        };
    }
    if head.self_signed {
        return Path {
            certs,
            end: End::SelfSigned,
        };
    }
    if certs.len() >= MAX_LENGTH {
        return Path {
            certs,
            end: End::TooLong,
        };
    }

    let mut best: Option<Path<'a>> = None;
    let unused = pool
        .iter()
        .copied()
        .filter(|candidate| !certs.iter().any(|c| same_certificate(c, candidate)));
    for candidate in unused {
        match link(head, candidate) {
            Link::Issuer => {}
            Link::Impostor => {
                impostors.push(candidate);
                continue;
            }
            Link::Unrelated => continue,
        }
        let mut longer = certs.clone();
        longer.push(candidate);
        let path = extend(longer, anchors, pool);
        if best.as_ref().is_none_or(|best| path.rank() > best.rank()) {
            let done = path.rank() == 3;
            best = Some(path);
            if done {
                break;
            }
        }
    }
    best.unwrap_or(Path {
        certs,
        end: End::MissingIssuer { impostors },
    })
}

/// Among `candidates`, the issuer of `child`: one whose signature verifies if any, else one
/// whose key identifier matches (its signature is then reported as bad).
fn pick_issuer<'a>(
    child: &Certificate,
    candidates: impl Iterator<Item = &'a Certificate>,
    impostors: &mut Vec<&'a Certificate>,
) -> Option<&'a Certificate> {
    let mut fallback = None;
    for candidate in candidates {
        match link(child, candidate) {
            Link::Issuer => {
                if child.signature_by(candidate) != SignatureCheck::Invalid {
                    return Some(candidate);
                }
                fallback.get_or_insert(candidate);
            }
            Link::Impostor => impostors.push(candidate),
            Link::Unrelated => {}
        }
    }
    fallback
}

enum Link {
    /// Names match and the key identifiers agree (or one is missing and the signature
    /// verifies).
    Issuer,
    /// The issuer's name with another key.
    Impostor,
    Unrelated,
}

fn link(child: &Certificate, candidate: &Certificate) -> Link {
    if child.issuer.rfc4514 != candidate.subject.rfc4514 {
        return Link::Unrelated;
    }
    match (authority_key_id(child), subject_key_id(candidate)) {
        (Some(wanted), Some(found)) if wanted == found => Link::Issuer,
        (Some(_), Some(_)) => Link::Impostor,
        // Without identifiers only the signature can tell a broken signature from another key.
        _ => match child.signature_by(candidate) {
            SignatureCheck::Invalid => Link::Impostor,
            SignatureCheck::Valid | SignatureCheck::Unsupported => Link::Issuer,
        },
    }
}

pub(crate) fn same_certificate(a: &Certificate, b: &Certificate) -> bool {
    a.der == b.der
        || (a.subject.rfc4514 == b.subject.rfc4514
            && a.public_key.spki_sha256 == b.public_key.spki_sha256
            && a.self_signed
            && b.self_signed)
}

pub(crate) fn subject_key_id(certificate: &Certificate) -> Option<&str> {
    certificate.extensions.iter().find_map(|e| match &e.value {
        ExtensionValue::SubjectKeyIdentifier { key_id } => Some(key_id.as_str()),
        _ => None,
    })
}

pub(crate) fn authority_key_id(certificate: &Certificate) -> Option<&str> {
    certificate.extensions.iter().find_map(|e| match &e.value {
        ExtensionValue::AuthorityKeyIdentifier {
            key_id: Some(key_id),
            ..
        } => Some(key_id.as_str()),
        _ => None,
    })
}
