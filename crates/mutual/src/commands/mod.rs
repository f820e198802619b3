pub(crate) mod inspect;
