//! Routes and who may use them: the request's host and path pick a route (longest path
//! prefix wins), and the route's rules decide whether the verified identity is admitted.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use metrics::{Counter, Histogram};

use crate::config::{AllowRule, RouteConfig};
use crate::identity::Identity;

/// `*` stands for any run of characters, `?` for one; everything else is literal.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    pattern: Vec<char>,
    case_insensitive: bool,
}

impl Glob {
    pub(crate) fn new(pattern: &str, case_insensitive: bool) -> Self {
        let pattern = if case_insensitive {
            pattern.to_lowercase()
        } else {
            pattern.to_owned()
        };
        Self {
            pattern: pattern.chars().collect(),
            case_insensitive,
        }
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = if self.case_insensitive {
            text.to_lowercase().chars().collect()
        } else {
            text.chars().collect()
        };
        glob_match(&self.pattern, &text)
    }
}

/// Iterative wildcard matching with one backtrack point: linear in practice, never
/// exponential whatever the pattern (a route rule must not be a denial of service).
fn glob_match(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// One compiled `[[route.allow]]` table.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    cn: Vec<Glob>,
    o: Vec<Glob>,
    ou: Vec<Glob>,
    san_dns: Vec<Glob>,
    san_email: Vec<Glob>,
    san_uri: Vec<Glob>,
    issuer: Vec<Glob>,
    /// Lower-case hex without colons.
    fingerprints: Vec<String>,
}

impl Rule {
    pub(crate) fn new(rule: &AllowRule) -> Self {
        let globs = |patterns: &[String], ci: bool| -> Vec<Glob> {
            patterns.iter().map(|p| Glob::new(p, ci)).collect()
        };
        Self {
            cn: globs(&rule.cn, false),
            o: globs(&rule.o, false),
            ou: globs(&rule.ou, false),
            san_dns: globs(&rule.san_dns, true),
            san_email: globs(&rule.san_email, true),
            san_uri: globs(&rule.san_uri, false),
            issuer: globs(&rule.issuer, false),
            fingerprints: rule
                .fingerprint_sha256
                .iter()
                .map(|f| normalize_fingerprint(f))
                .collect(),
        }
    }

    pub(crate) fn admits(&self, identity: &Identity) -> bool {
        let any = |globs: &[Glob], values: &[String]| {
            globs.is_empty() || values.iter().any(|v| globs.iter().any(|g| g.matches(v)))
        };
        any(&self.cn, &identity.cn)
            && any(&self.o, &identity.o)
            && any(&self.ou, &identity.ou)
            && any(&self.san_dns, &identity.san_dns)
            && any(&self.san_email, &identity.san_email)
            && any(&self.san_uri, &identity.san_uri)
            && any(&self.issuer, std::slice::from_ref(&identity.issuer))
            && (self.fingerprints.is_empty()
                || self.fingerprints.contains(&identity.fingerprint_sha256))
    }
}

/// `AB:CD:...` or `abcd...` → `abcd...`.
pub(crate) fn normalize_fingerprint(text: &str) -> String {
    text.chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Who a route lets through.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    /// No certificate needed.
    Public,
    /// Any certificate the trusted client CAs vouch for.
    AnyVerified,
    /// A verified certificate that one of the rules admits.
    Rules(Vec<Rule>),
}

#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) name: String,
    pub(crate) metrics: Arc<RouteMetrics>,
    host: Option<Glob>,
    path: String,
    pub(crate) upstream: http::uri::Uri,
    pub(crate) access: Access,
    pub(crate) forward_pem: bool,
}

impl Route {
    /// `upstream` was checked by [`crate::check`].
    pub(crate) fn new(config: &RouteConfig, upstream: http::uri::Uri) -> Self {
        let access = if config.public {
            Access::Public
        } else if config.allow_any {
            Access::AnyVerified
        } else {
            Access::Rules(config.allow.iter().map(Rule::new).collect())
        };
        let name = route_name(config);
        Self {
            metrics: Arc::new(RouteMetrics::new(&name)),
            name,
            host: config.host.as_deref().map(|h| Glob::new(h, true)),
            path: config.path.clone(),
            upstream,
            access,
            forward_pem: config.forward_pem,
        }
    }

    pub(crate) fn admits(&self, identity: &Identity) -> bool {
        match &self.access {
            Access::Public | Access::AnyVerified => true,
            Access::Rules(rules) => rules.iter().any(|r| r.admits(identity)),
        }
    }
}

/// A route's metric handles, registered once rather than looked up by name per request.
#[derive(Debug)]
pub(crate) struct RouteMetrics {
    name: String,
    pub(crate) upstream_seconds: Histogram,
    requests: RwLock<HashMap<u16, Counter>>,
}

impl RouteMetrics {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            upstream_seconds: metrics::histogram!(crate::metrics::UPSTREAM_SECONDS, "route" => name.to_owned()),
            requests: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn count(&self, status: http::StatusCode) {
        let code = status.as_u16();
        if let Ok(known) = self.requests.read()
            && let Some(counter) = known.get(&code)
        {
            counter.increment(1);
            return;
        }
        let counter = metrics::counter!(
            crate::metrics::REQUESTS,
            "route" => self.name.clone(),
            "status" => status.as_str().to_owned()
        );
        counter.increment(1);
        if let Ok(mut known) = self.requests.write() {
            known.insert(code, counter);
        }
    }
}

pub(crate) fn route_name(config: &RouteConfig) -> String {
    config
        .name
        .clone()
        .unwrap_or_else(|| format!("{}{}", config.host.as_deref().unwrap_or("*"), config.path))
}

/// The routes, tried by specificity: a route naming the host beats one that does not, and
/// a longer path prefix beats a shorter one.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    pub(crate) fn new(mut routes: Vec<Route>) -> Self {
        routes.sort_by_key(|r| {
            (
                std::cmp::Reverse(r.host.is_some()),
                std::cmp::Reverse(r.path.len()),
            )
        });
        Self { routes }
    }

    /// `host` without its port.
    pub(crate) fn find(&self, host: Option<&str>, path: &str) -> Option<&Route> {
        self.routes.iter().find(|r| {
            r.path_matches(path)
                && match (&r.host, host) {
                    (None, _) => true,
                    (Some(glob), Some(host)) => glob.matches(host),
                    (Some(_), None) => false,
                }
        })
    }
}

impl Route {
    /// `/api` matches `/api`, `/api/x` and `/api?q`, not `/apix`; `/api/` matches below it.
    fn path_matches(&self, path: &str) -> bool {
        match path.strip_prefix(self.path.as_str()) {
            Some(rest) => {
                self.path.ends_with('/')
                    || rest.is_empty()
                    || rest.starts_with('/')
                    || rest.starts_with('?')
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str, t: &str) -> bool {
        Glob::new(p, false).matches(t)
    }

    #[test]
    fn globs_match_stars_and_question_marks() {
        assert!(glob("device-*", "device-123"));
        assert!(glob("device-*", "device-"));
        assert!(!glob("device-*", "devices"));
        assert!(glob("spiffe://acme/*/api", "spiffe://acme/ns/prod/api"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*", ""));
        assert!(!glob("alice", "Alice"));
        assert!(Glob::new("*.EXAMPLE.internal", true).matches("api.example.INTERNAL"));
        // Pathological patterns stay fast.
        let text = "a".repeat(10_000);
        assert!(!glob(&format!("{}b", "*a".repeat(50)), &text));
    }

    fn identity() -> Identity {
        Identity {
            subject: "CN=alice,O=Acme".into(),
            cn: vec!["alice".into()],
            o: vec!["Acme".into()],
            ou: vec![],
            issuer: "CN=Acme Client CA".into(),
            serial: "01".into(),
            fingerprint_sha256: "ab".repeat(32),
            san_dns: vec![],
            san_email: vec!["alice@acme.example".into()],
            san_uri: vec!["spiffe://acme.internal/user/alice".into()],
            not_after: time::OffsetDateTime::UNIX_EPOCH,
            pem: String::new(),
        }
    }

    #[test]
    fn a_rule_needs_every_field_it_names() {
        let rule = |r: AllowRule| Rule::new(&r).admits(&identity());
        assert!(rule(AllowRule {
            cn: vec!["alice".into()],
            ..Default::default()
        }));
        assert!(rule(AllowRule {
            cn: vec!["bob".into(), "ali*".into()],
            issuer: vec!["CN=Acme Client CA".into()],
            ..Default::default()
        }));
        assert!(!rule(AllowRule {
            cn: vec!["alice".into()],
            ou: vec!["ops".into()],
            ..Default::default()
        }));
        assert!(rule(AllowRule {
            fingerprint_sha256: vec!["AB:".repeat(31) + "AB"],
            ..Default::default()
        }));
        assert!(!rule(AllowRule {
            fingerprint_sha256: vec!["cd".repeat(32)],
            ..Default::default()
        }));
        assert!(rule(AllowRule {
            san_uri: vec!["spiffe://acme.internal/user/*".into()],
            san_email: vec!["*@ACME.example".into()],
            ..Default::default()
        }));
    }

    fn route(host: Option<&str>, path: &str, name: &str) -> Route {
        Route::new(
            &RouteConfig {
                name: Some(name.into()),
                host: host.map(Into::into),
                path: path.into(),
                upstream: "http://127.0.0.1:1".into(),
                allow_any: true,
                public: false,
                forward_pem: false,
                allow: vec![],
            },
            "http://127.0.0.1:1".parse().unwrap(),
        )
    }

    #[test]
    fn the_most_specific_route_wins() {
        let table = RouteTable::new(vec![
            route(None, "/", "default"),
            route(None, "/api", "api"),
            route(Some("*.admin.internal"), "/", "admin"),
        ]);
        let find = |h: Option<&str>, p: &str| table.find(h, p).map(|r| r.name.as_str());
        assert_eq!(find(Some("x"), "/api/v1"), Some("api"));
        assert_eq!(find(Some("x"), "/api"), Some("api"));
        assert_eq!(find(Some("x"), "/apix"), Some("default"));
        assert_eq!(find(Some("ops.admin.internal"), "/api"), Some("admin"));
        assert_eq!(find(None, "/"), Some("default"));
        let only_api = RouteTable::new(vec![route(None, "/api/", "api")]);
        assert!(only_api.find(None, "/").is_none());
    }
}
