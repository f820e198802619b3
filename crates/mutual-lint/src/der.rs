//! The DER reader of mutual-x509, with the `Option` results the lints are written with:
//! for the facts a decoded certificate no longer shows (how a time was encoded, the exact
//! AlgorithmIdentifier bytes, which optional fields are present).

pub(crate) use mutual_x509::tlv::{
    GENERALIZED_TIME, INTEGER, NULL, OID, SEQUENCE, Tlv, UTC_TIME, oid_dotted,
};

/// Reads one element; `None` on anything DER does not allow (long tags, indefinite or
/// truncated lengths).
pub(crate) fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    mutual_x509::tlv::read(input).ok()
}

/// The elements inside a constructed value, in order; `None` when one does not parse.
pub(crate) fn children(value: &[u8]) -> Option<Vec<Tlv<'_>>> {
    mutual_x509::tlv::children(value).ok()
}
