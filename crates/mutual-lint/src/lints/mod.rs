//! The lints, one folder per source and one file per family of rules.

pub(crate) mod cabf {
    pub(crate) mod extensions;
    pub(crate) mod keys;
    pub(crate) mod names;
    pub(crate) mod revocation;
    pub(crate) mod signature;
    pub(crate) mod validity;
}
pub(crate) mod mozilla {
    pub(crate) mod policy;
}
pub(crate) mod mutual {
    pub(crate) mod purpose;
    pub(crate) mod revocation;
}
pub(crate) mod rfc2986 {
    pub(crate) mod request;
}
pub(crate) mod rfc5280 {
    pub(crate) mod extensions;
    pub(crate) mod names;
    pub(crate) mod structure;
}
pub(crate) mod rfc5480 {
    pub(crate) mod keys;
}
pub(crate) mod rfc6818 {
    pub(crate) mod policies;
}
pub(crate) mod rfc8813 {
    pub(crate) mod key_usage;
}
