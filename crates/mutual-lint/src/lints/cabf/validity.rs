//! CA/B Forum TLS BR §6.3.2: how long a server certificate may be valid, and from when
//! each limit applies (ballots SC-22 for 398 days and SC-081 for 200/100/47 days).
//!
//! Browsers enforce these only on certificates from publicly-trusted roots, so under
//! `--trust private` they are notices.

use crate::meta::prelude::*;
use crate::subject::Cert;

/// BR §1.6.1 "Validity Period": "the period of time measured from the date when the
/// Certificate is issued until the Expiry Date" — notBefore through notAfter inclusive, so
/// one second more than their difference.
fn too_long(c: &Cert, days: i64) -> Outcome {
    let v = &c.validity;
    let seconds = (v.not_after - v.not_before).whole_seconds() + 1;
    Outcome::fail_if(seconds > days * 86_400, || {
        format!(
            "valid for {} days ({} seconds), more than {days}",
            seconds / 86_400,
            seconds
        )
    })
}

macro_rules! limit {
    ($name:ident, $code:literal, $days:literal, $y:literal, $m:ident, $d:literal, $why:literal) => {
        #[doc = $why]
        pub(crate) const $name: Lint<Cert> = Lint {
            meta: Meta::new(
                $code,
                Error,
                Source::CabfBr,
                "§6.3.2",
                concat!(
                    "a server certificate valid for more than ",
                    stringify!($days),
                    " days"
                ),
            )
            .scope(SERVER)
            .effective(date($y, Month::$m, $d))
            .public_only(),
            check: |c| too_long(c, $days),
        };
    };
}

limit!(
    OVER_39_MONTHS,
    "e_server_validity_over_1185_days",
    1185,
    2015,
    April,
    1,
    "BR §6.3.2 (2015): 39 months at most for certificates issued after 2015-04-01."
);
limit!(
    OVER_825,
    "e_server_validity_over_825_days",
    825,
    2018,
    March,
    1,
    "BR §6.3.2 (ballot 193): 825 days at most for certificates issued after 2018-03-01."
);
limit!(
    OVER_398,
    "e_server_validity_over_398_days",
    398,
    2020,
    September,
    1,
    "BR §6.3.2 (ballot SC-31): 398 days at most for certificates issued on or after 2020-09-01."
);
limit!(
    OVER_200,
    "e_server_validity_over_200_days",
    200,
    2026,
    March,
    15,
    "BR §6.3.2 (ballot SC-081): 200 days at most for certificates issued on or after 2026-03-15."
);
limit!(
    OVER_100,
    "e_server_validity_over_100_days",
    100,
    2027,
    March,
    15,
    "BR §6.3.2 (ballot SC-081): 100 days at most for certificates issued on or after 2027-03-15."
);
limit!(
    OVER_47,
    "e_server_validity_over_47_days",
    47,
    2029,
    March,
    15,
    "BR §6.3.2 (ballot SC-081): 47 days at most for certificates issued on or after 2029-03-15."
);

pub(crate) const LINTS: &[&Lint<Cert>] = &[
    &OVER_39_MONTHS,
    &OVER_825,
    &OVER_398,
    &OVER_200,
    &OVER_100,
    &OVER_47,
];
