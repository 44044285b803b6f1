//! Caller identity and per-method authorization for the gRPC server.
//!
//! Callers authenticate with a static API key sent as `authorization: Bearer <secret>`.
//! The server only knows the SHA-256 digest of each secret (configured through
//! `CUSTGRADE_API_KEYS`, see [`ApiKeys::parse`]), so the configuration never holds a
//! usable credential. [`AuthLayer`] checks every request before it reaches tonic's
//! router: it resolves the key to a [`CallerIdentity`], checks the [`Role`] the method
//! needs (see [`required_role`]) and stores the identity in the request extensions,
//! where handlers read it with `request.extensions().get::<CallerIdentity>()`.
//!
//! Roles do not imply each other: a key that must both read and write is configured
//! with `reader,writer`. When no keys are configured the server runs open and every
//! request carries the [`CallerIdentity::anonymous`] identity, which holds all roles.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use sha2::{Digest, Sha256};
use tonic::Status;

/// A permission a caller can hold; methods require one of these (see [`required_role`]).
///
/// Roles are independent: holding `Writer` does not grant `Reader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// May call read-only methods (`Get*`, `List*`).
    Reader,
    /// May call methods that change customers or figures.
    Writer,
    /// May manage scoring models.
    ModelAdmin,
    /// May override grades.
    Officer,
}

impl Role {
    /// Every role, in declaration order; the anonymous identity holds all of them.
    pub const ALL: [Role; 4] = [Role::Reader, Role::Writer, Role::ModelAdmin, Role::Officer];

    /// The configuration spelling of the role (`reader`, `writer`, `model-admin`, `officer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::ModelAdmin => "model-admin",
            Role::Officer => "officer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when a string is not one of the role names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected reader, writer, model-admin or officer)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Returns the lowercase hex SHA-256 of `secret`, the form an API key takes in
/// `CUSTGRADE_API_KEYS`; operators use it to turn a freshly generated secret into an entry.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(digest(secret))
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares two digests without stopping at the first differing byte, so the time taken
/// does not reveal how much of a guessed key matched.
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One configured API key: who it belongs to, the SHA-256 of its secret and its roles.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Caller name used in logs and in [`CallerIdentity::name`]; 1-64 chars of `[a-z0-9_-]`.
    pub name: String,
    /// SHA-256 digest of the secret the caller presents.
    pub key_hash: [u8; 32],
    /// Roles granted to the caller; never empty for a parsed key.
    pub roles: BTreeSet<Role>,
}

impl fmt::Debug for ApiKey {
    // The digest is left out so it cannot end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("key_hash", &"<redacted>")
            .field("roles", &self.roles)
            .finish()
    }
}

/// What is wrong with an entry of the API key configuration.
///
/// Entries are numbered from 1, counting only non-empty `;`-separated entries. Messages
/// never contain the configured hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeysError {
    /// The entry does not have exactly three `:`-separated fields.
    #[error(
        "api key entry {entry}: expected NAME:SHA256HEX:ROLE[,ROLE...], found {fields} field(s)"
    )]
    Shape {
        /// 1-based entry number.
        entry: usize,
        /// Number of `:`-separated fields found.
        fields: usize,
    },
    /// The name is empty, too long or has characters outside `[a-z0-9_-]`.
    #[error("api key entry {entry}: name must be 1-64 characters of [a-z0-9_-]")]
    Name {
        /// 1-based entry number.
        entry: usize,
    },
    /// The hash is not exactly 64 hex characters.
    #[error(
        "api key entry {entry}: key hash must be exactly 64 hex characters (sha256), found {len} characters"
    )]
    Hash {
        /// 1-based entry number.
        entry: usize,
        /// Length of the hash field, in characters.
        len: usize,
    },
    /// The role list is empty or has an empty item.
    #[error("api key entry {entry}: at least one role is required and roles must not be empty")]
    NoRole {
        /// 1-based entry number.
        entry: usize,
    },
    /// A role is not one of the known role names.
    #[error("api key entry {entry}: {source}")]
    Role {
        /// 1-based entry number.
        entry: usize,
        /// The unrecognised role.
        source: UnknownRole,
    },
    /// Another entry already uses this name.
    #[error("api key entry {entry}: name {name:?} is already used by entry {first}")]
    DuplicateName {
        /// 1-based entry number.
        entry: usize,
        /// The repeated name.
        name: String,
        /// 1-based number of the entry that first used the name.
        first: usize,
    },
    /// Another entry already uses this hash, so the same secret would map to two callers.
    #[error("api key entry {entry}: key hash is already used by entry {first}")]
    DuplicateHash {
        /// 1-based entry number.
        entry: usize,
        /// 1-based number of the entry that first used the hash.
        first: usize,
    },
}

/// The configured API keys; empty means the server runs open (no authentication).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    keys: Vec<ApiKey>,
}

impl ApiKeys {
    /// Parses the `CUSTGRADE_API_KEYS` format: `;`-separated entries of the form
    /// `NAME:SHA256HEX:ROLE[,ROLE...]`, e.g. `billing-backend:5e88…42d8:reader,writer`.
    ///
    /// Whitespace around entries, fields and roles is ignored, as are empty entries, so an
    /// empty or blank string yields no keys. Names must be 1-64 chars of `[a-z0-9_-]`,
    /// hashes exactly 64 hex digits (see [`hash_secret`]), and names and hashes unique.
    pub fn parse(config: &str) -> Result<Self, ApiKeysError> {
        let mut keys: Vec<ApiKey> = Vec::new();
        let entries = config.split(';').map(str::trim).filter(|e| !e.is_empty());
        for (index, raw) in entries.enumerate() {
            let entry = index + 1;
            let key = parse_entry(entry, raw)?;
            if let Some(first) = keys.iter().position(|k| k.name == key.name) {
                return Err(ApiKeysError::DuplicateName {
                    entry,
                    name: key.name,
                    first: first + 1,
                });
            }
            if let Some(first) = keys.iter().position(|k| k.key_hash == key.key_hash) {
                return Err(ApiKeysError::DuplicateHash {
                    entry,
                    first: first + 1,
                });
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// Builds the set from already-validated keys (e.g. in tests); no uniqueness checks.
    pub fn from_keys(keys: Vec<ApiKey>) -> Self {
        Self { keys }
    }

    /// True when no keys are configured, i.e. the server runs open.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of configured keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The configured keys, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &ApiKey> {
        self.keys.iter()
    }

    /// Finds the key whose hash matches `secret`.
    ///
    /// Every stored hash is compared in full, so timing does not reveal which key or how
    /// many bytes matched.
    pub fn authenticate(&self, secret: &str) -> Option<&ApiKey> {
        let presented = digest(secret);
        self.keys.iter().fold(None, |found, key| {
            let matches = digests_equal(&presented, &key.key_hash);
            if matches && found.is_none() {
                Some(key)
            } else {
                found
            }
        })
    }
}

impl FromStr for ApiKeys {
    type Err = ApiKeysError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn parse_entry(entry: usize, raw: &str) -> Result<ApiKey, ApiKeysError> {
    let fields: Vec<&str> = raw.split(':').map(str::trim).collect();
    let [name, hash, roles] = fields[..] else {
        return Err(ApiKeysError::Shape {
            entry,
            fields: fields.len(),
        });
    };

    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !name_ok {
        return Err(ApiKeysError::Name { entry });
    }

    let mut key_hash = [0u8; 32];
    if hash.len() != 64 || hex::decode_to_slice(hash, &mut key_hash).is_err() {
        return Err(ApiKeysError::Hash {
            entry,
            len: hash.chars().count(),
        });
    }

    let mut role_set = BTreeSet::new();
    for role in roles.split(',').map(str::trim) {
        if role.is_empty() {
            return Err(ApiKeysError::NoRole { entry });
        }
        let role = role
            .parse::<Role>()
            .map_err(|source| ApiKeysError::Role { entry, source })?;
        role_set.insert(role);
    }

    Ok(ApiKey {
        name: name.to_owned(),
        key_hash,
        roles: role_set,
    })
}

/// Who is making the current request; [`AuthService`] puts it in the request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The API key name, or `anonymous` when the server runs open.
    pub name: String,
    /// The roles the caller holds.
    pub roles: BTreeSet<Role>,
}

impl CallerIdentity {
    /// Name of the identity used when no API keys are configured.
    pub const ANONYMOUS: &'static str = "anonymous";

    /// The identity of every caller when the server runs open: named `anonymous`, all roles.
    pub fn anonymous() -> Self {
        Self {
            name: Self::ANONYMOUS.to_owned(),
            roles: Role::ALL.into_iter().collect(),
        }
    }

    /// True when the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

impl From<&ApiKey> for CallerIdentity {
    fn from(key: &ApiKey) -> Self {
        Self {
            name: key.name.clone(),
            roles: key.roles.clone(),
        }
    }
}

/// What a gRPC method requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone may call it, without a key (health checks, reflection).
    Open,
    /// The caller must hold this role.
    Role(Role),
    /// Nobody may call it (unknown service or method).
    Deny,
}

/// Services callable without a key.
const OPEN_SERVICES: &[&str] = &[
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// One authorization rule: methods of `service` whose name starts with `method_prefix`
/// need `role`.
struct Rule {
    service: &'static str,
    method_prefix: &'static str,
    role: Role,
}

/// Authorization table, scanned top to bottom; the first matching row wins, so specific
/// rows must come before a service's catch-all row (empty prefix). A non-empty prefix
/// matches a whole PascalCase word: `List` matches `ListCustomers` but not `Listen`.
/// Methods of services not listed here are denied.
const RULES: &[Rule] = &[
    rule("custgrade.v1.CustomerService", "Get", Role::Reader),
    rule("custgrade.v1.CustomerService", "List", Role::Reader),
    rule("custgrade.v1.CustomerService", "", Role::Writer),
    rule("custgrade.v1.FiguresService", "Get", Role::Reader),
    rule("custgrade.v1.FiguresService", "List", Role::Reader),
    rule("custgrade.v1.FiguresService", "", Role::Writer),
];

/// Shorthand for a [`Rule`] row, keeping the table one row per line.
const fn rule(service: &'static str, method_prefix: &'static str, role: Role) -> Rule {
    Rule {
        service,
        method_prefix,
        role,
    }
}

fn prefix_matches(method: &str, prefix: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    match method.strip_prefix(prefix) {
        Some(rest) => rest.chars().next().is_none_or(|c| !c.is_ascii_lowercase()),
        None => false,
    }
}

/// Returns what calling the gRPC method at `path` (`/package.Service/Method`) requires.
///
/// Health and reflection are [`Access::Open`]; `custgrade.v1` methods follow the rule
/// table (`Get*`/`List*` need [`Role::Reader`], other methods of the customer and figures
/// services need [`Role::Writer`]); anything else, including malformed paths, is
/// [`Access::Deny`].
pub fn required_role(path: &str) -> Access {
    let Some((service, method)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
        return Access::Deny;
    };
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return Access::Deny;
    }
    if OPEN_SERVICES.contains(&service) {
        return Access::Open;
    }
    RULES
        .iter()
        .find(|rule| rule.service == service && prefix_matches(method, rule.method_prefix))
        .map_or(Access::Deny, |rule| Access::Role(rule.role))
}

/// Message of the UNAUTHENTICATED status; deliberately the same for every failure.
const UNAUTHENTICATED_MESSAGE: &str = "missing or invalid api key";

/// Why a request could not be authenticated; only used for logging.
#[derive(Debug, Clone, Copy)]
enum AuthFailure {
    Missing,
    Malformed,
    UnknownKey,
}

impl AuthFailure {
    fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing authorization header",
            AuthFailure::Malformed => "malformed authorization header",
            AuthFailure::UnknownKey => "unknown api key",
        }
    }
}

/// Extracts the secret from the request's single `authorization: Bearer <secret>` header.
fn bearer_secret(headers: &http::HeaderMap) -> Result<&str, AuthFailure> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthFailure::Missing)?;
    if values.next().is_some() {
        return Err(AuthFailure::Malformed);
    }
    let value = value.to_str().map_err(|_| AuthFailure::Malformed)?;
    let (scheme, secret) = value.split_once(' ').ok_or(AuthFailure::Malformed)?;
    let secret = secret.trim_start();
    if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() {
        return Err(AuthFailure::Malformed);
    }
    Ok(secret)
}

/// Outcome of checking one request.
enum Decision {
    /// Pass on, adding this identity to the extensions when present.
    Allow(Option<CallerIdentity>),
    /// Answer immediately with this status.
    Reject(Status),
}

fn decide(keys: &ApiKeys, path: &str, headers: &http::HeaderMap) -> Decision {
    let access = required_role(path);
    if access == Access::Open {
        return Decision::Allow(None);
    }
    if keys.is_empty() {
        return Decision::Allow(Some(CallerIdentity::anonymous()));
    }
    let key = match bearer_secret(headers)
        .and_then(|s| keys.authenticate(s).ok_or(AuthFailure::UnknownKey))
    {
        Ok(key) => key,
        Err(failure) => {
            tracing::info!(method = %path, reason = failure.as_str(), "rejected unauthenticated request");
            return Decision::Reject(Status::unauthenticated(UNAUTHENTICATED_MESSAGE));
        }
    };
    match access {
        Access::Open => Decision::Allow(None),
        Access::Deny => {
            tracing::info!(key = %key.name, method = %path, "denied call to unknown method");
            Decision::Reject(Status::permission_denied("method is not permitted"))
        }
        Access::Role(role) if key.roles.contains(&role) => Decision::Allow(Some(key.into())),
        Access::Role(role) => {
            tracing::info!(key = %key.name, method = %path, required_role = %role, "denied call: api key lacks role");
            Decision::Reject(Status::permission_denied(format!(
                "api key {:?} lacks role {role}",
                key.name
            )))
        }
    }
}

/// Tower layer that authenticates and authorizes every gRPC request; see the module docs.
///
/// Cloning is cheap: the key set is shared.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    keys: Arc<ApiKeys>,
}

impl AuthLayer {
    /// Creates the layer; with an empty `keys` the server runs open.
    pub fn new(keys: ApiKeys) -> Self {
        Self {
            keys: Arc::new(keys),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            keys: Arc::clone(&self.keys),
        }
    }
}

/// Service produced by [`AuthLayer`]: rejects requests with a gRPC status, or passes them
/// to `inner` with a [`CallerIdentity`] in the extensions and the `authorization` header
/// removed (so the secret cannot leak into handler logs).
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    keys: Arc<ApiKeys>,
}

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<Self::Response, Self::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match decide(&self.keys, request.uri().path(), request.headers()) {
            Decision::Allow(identity) => {
                if let Some(identity) = identity {
                    request.headers_mut().remove(http::header::AUTHORIZATION);
                    request.extensions_mut().insert(identity);
                }
                Either::Left(self.inner.call(request))
            }
            Decision::Reject(status) => Either::Right(ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;
    use std::convert::Infallible;
    use std::sync::Mutex;
    use tower::{Layer, ServiceExt, service_fn};

    /// sha256("password").
    const PASSWORD_HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

    fn hash_of(secret: &str) -> String {
        hash_secret(secret)
    }

    #[test]
    fn hash_secret_matches_known_vector() {
        assert_eq!(hash_secret("password"), PASSWORD_HASH);
        assert_eq!(
            hash_secret(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[rstest]
    #[case("reader", Role::Reader)]
    #[case("writer", Role::Writer)]
    #[case("model-admin", Role::ModelAdmin)]
    #[case("officer", Role::Officer)]
    fn role_round_trips(#[case] text: &str, #[case] role: Role) {
        assert_eq!(text.parse::<Role>().unwrap(), role);
        assert_eq!(role.to_string(), text);
    }

    #[rstest]
    #[case("Reader")]
    #[case("admin")]
    #[case("")]
    fn unknown_role_is_rejected(#[case] text: &str) {
        assert_eq!(text.parse::<Role>(), Err(UnknownRole(text.to_owned())));
    }

    #[test]
    fn parses_a_good_entry() {
        let keys =
            ApiKeys::parse(&format!("billing-backend:{PASSWORD_HASH}:reader,writer")).unwrap();
        assert_eq!(keys.len(), 1);
        let key = keys.iter().next().unwrap();
        assert_eq!(key.name, "billing-backend");
        assert_eq!(hex::encode(key.key_hash), PASSWORD_HASH);
        assert_eq!(key.roles, BTreeSet::from([Role::Reader, Role::Writer]));
    }

    #[test]
    fn parses_multiple_entries_with_whitespace_and_empty_entries() {
        let config = format!(
            "  ; a_1 :{}: reader ;\n\tb-2:{}:model-admin, officer,officer;; ",
            hash_of("one"),
            hash_of("two").to_uppercase()
        );
        let keys = ApiKeys::parse(&config).unwrap();
        let names: Vec<_> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["a_1", "b-2"]);
        let second = keys.iter().nth(1).unwrap();
        assert_eq!(
            second.roles,
            BTreeSet::from([Role::ModelAdmin, Role::Officer])
        );
        assert_eq!(hex::encode(second.key_hash), hash_of("two"));
    }

    #[rstest]
    #[case("")]
    #[case("   ")]
    #[case(" ; ;\n")]
    fn blank_config_means_no_keys(#[case] config: &str) {
        assert!(ApiKeys::parse(config).unwrap().is_empty());
    }

    #[rstest]
    #[case::too_few_fields("svc:reader", ApiKeysError::Shape { entry: 1, fields: 2 })]
    #[case::too_many_fields(&format!("svc:{PASSWORD_HASH}:reader:x"), ApiKeysError::Shape { entry: 1, fields: 4 })]
    #[case::empty_name(&format!(":{PASSWORD_HASH}:reader"), ApiKeysError::Name { entry: 1 })]
    #[case::uppercase_name(&format!("Svc:{PASSWORD_HASH}:reader"), ApiKeysError::Name { entry: 1 })]
    #[case::name_with_dot(&format!("s.v:{PASSWORD_HASH}:reader"), ApiKeysError::Name { entry: 1 })]
    #[case::long_name(&format!("{}:{PASSWORD_HASH}:reader", "a".repeat(65)), ApiKeysError::Name { entry: 1 })]
    #[case::short_hash("svc:5e88:reader", ApiKeysError::Hash { entry: 1, len: 4 })]
    #[case::long_hash(&format!("svc:{PASSWORD_HASH}00:reader"), ApiKeysError::Hash { entry: 1, len: 66 })]
    #[case::non_hex_hash(&format!("svc:{}:reader", "g".repeat(64)), ApiKeysError::Hash { entry: 1, len: 64 })]
    #[case::no_roles(&format!("svc:{PASSWORD_HASH}:"), ApiKeysError::NoRole { entry: 1 })]
    #[case::empty_role_item(&format!("svc:{PASSWORD_HASH}:reader,,writer"), ApiKeysError::NoRole { entry: 1 })]
    #[case::unknown_role(
        &format!("svc:{PASSWORD_HASH}:reader,admin"),
        ApiKeysError::Role { entry: 1, source: UnknownRole("admin".to_owned()) }
    )]
    fn rejects_bad_entries(#[case] config: &str, #[case] expected: ApiKeysError) {
        assert_eq!(ApiKeys::parse(config).unwrap_err(), expected);
    }

    #[test]
    fn a_long_name_of_64_chars_is_accepted() {
        let name = "a".repeat(64);
        let keys = ApiKeys::parse(&format!("{name}:{PASSWORD_HASH}:reader")).unwrap();
        assert_eq!(keys.iter().next().unwrap().name, name);
    }

    #[test]
    fn error_names_the_entry_counting_only_non_empty_entries() {
        let config = format!("a:{}:reader;; b:{}:nope", hash_of("1"), hash_of("2"));
        let err = ApiKeys::parse(&config).unwrap_err();
        assert_eq!(
            err,
            ApiKeysError::Role {
                entry: 2,
                source: UnknownRole("nope".to_owned())
            }
        );
        assert!(
            err.to_string()
                .starts_with("api key entry 2: unknown role \"nope\"")
        );
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let config = format!(
            "a:{}:reader;b:{}:reader;a:{}:writer",
            hash_of("1"),
            hash_of("2"),
            hash_of("3")
        );
        assert_eq!(
            ApiKeys::parse(&config).unwrap_err(),
            ApiKeysError::DuplicateName {
                entry: 3,
                name: "a".to_owned(),
                first: 1
            }
        );
    }

    #[test]
    fn duplicate_hashes_are_rejected_even_in_different_case() {
        let config = format!(
            "a:{PASSWORD_HASH}:reader;b:{}:writer",
            PASSWORD_HASH.to_uppercase()
        );
        let err = ApiKeys::parse(&config).unwrap_err();
        assert_eq!(err, ApiKeysError::DuplicateHash { entry: 2, first: 1 });
    }

    #[test]
    fn errors_and_debug_never_contain_the_hash() {
        let bad_hash = format!("svc:{}x:reader", &PASSWORD_HASH[..63]);
        let dup_hash = format!("a:{PASSWORD_HASH}:reader;b:{PASSWORD_HASH}:writer");
        for config in [bad_hash, dup_hash] {
            let err = ApiKeys::parse(&config).unwrap_err();
            assert!(!err.to_string().contains(&PASSWORD_HASH[..16]), "{err}");
            assert!(
                !format!("{err:?}").contains(&PASSWORD_HASH[..16]),
                "{err:?}"
            );
        }
        let keys = ApiKeys::parse(&format!("a:{PASSWORD_HASH}:reader")).unwrap();
        let debug = format!("{keys:?}");
        assert!(debug.contains("key_hash: \"<redacted>\""), "{debug}");
        assert!(!debug.contains("94"), "{debug}");
    }

    #[test]
    fn authenticate_finds_the_matching_key() {
        let config = format!("a:{}:reader;b:{}:writer", hash_of("alpha"), hash_of("beta"));
        let keys = ApiKeys::parse(&config).unwrap();
        assert_eq!(
            keys.authenticate("beta").map(|k| k.name.as_str()),
            Some("b")
        );
        assert_eq!(
            keys.authenticate("alpha").map(|k| k.name.as_str()),
            Some("a")
        );
        assert!(keys.authenticate("gamma").is_none());
        assert!(keys.authenticate("").is_none());
    }

    #[test]
    fn anonymous_identity_has_every_role() {
        let anonymous = CallerIdentity::anonymous();
        assert_eq!(anonymous.name, "anonymous");
        assert!(Role::ALL.into_iter().all(|role| anonymous.has_role(role)));
    }

    #[rstest]
    #[case("/grpc.health.v1.Health/Check", Access::Open)]
    #[case("/grpc.health.v1.Health/Watch", Access::Open)]
    #[case(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        Access::Open
    )]
    #[case(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        Access::Open
    )]
    #[case(
        "/custgrade.v1.CustomerService/GetCustomer",
        Access::Role(Role::Reader)
    )]
    #[case(
        "/custgrade.v1.CustomerService/ListCustomers",
        Access::Role(Role::Reader)
    )]
    #[case("/custgrade.v1.CustomerService/Get", Access::Role(Role::Reader))]
    #[case(
        "/custgrade.v1.CustomerService/CreateCustomer",
        Access::Role(Role::Writer)
    )]
    #[case(
        "/custgrade.v1.CustomerService/UpdateCustomer",
        Access::Role(Role::Writer)
    )]
    #[case("/custgrade.v1.CustomerService/Listen", Access::Role(Role::Writer))]
    #[case("/custgrade.v1.FiguresService/GetFigures", Access::Role(Role::Reader))]
    #[case("/custgrade.v1.FiguresService/ListFigures", Access::Role(Role::Reader))]
    #[case(
        "/custgrade.v1.FiguresService/RecordFigures",
        Access::Role(Role::Writer)
    )]
    #[case("/custgrade.v1.ScoringModelService/GetModel", Access::Deny)]
    #[case("/custgrade.v1.Unknown/GetThing", Access::Deny)]
    #[case("/grpc.health.v2.Health/Check", Access::Deny)]
    #[case("/custgrade.v1.CustomerService", Access::Deny)]
    #[case("/custgrade.v1.CustomerService/", Access::Deny)]
    #[case("/custgrade.v1.CustomerService/GetCustomer/x", Access::Deny)]
    #[case("custgrade.v1.CustomerService/GetCustomer", Access::Deny)]
    #[case("//GetCustomer", Access::Deny)]
    #[case("/", Access::Deny)]
    #[case("", Access::Deny)]
    fn required_role_follows_the_table(#[case] path: &str, #[case] expected: Access) {
        assert_eq!(required_role(path), expected);
    }

    #[rstest]
    #[case(None, Err("missing"))]
    #[case(Some("Bearer secret"), Ok("secret"))]
    #[case(Some("bearer secret"), Ok("secret"))]
    #[case(Some("BEARER  secret"), Ok("secret"))]
    #[case(Some("Basic c2VjcmV0"), Err("malformed"))]
    #[case(Some("Bearer"), Err("malformed"))]
    #[case(Some("Bearer "), Err("malformed"))]
    #[case(Some("secret"), Err("malformed"))]
    fn bearer_secret_parses_the_header(
        #[case] header: Option<&str>,
        #[case] expected: Result<&str, &str>,
    ) {
        let mut headers = http::HeaderMap::new();
        if let Some(value) = header {
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        let got = bearer_secret(&headers).map_err(|failure| match failure {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::UnknownKey => "unknown",
        });
        assert_eq!(got, expected);
    }

    #[test]
    fn two_authorization_headers_are_malformed() {
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::AUTHORIZATION, "Bearer a".parse().unwrap());
        headers.append(http::header::AUTHORIZATION, "Bearer b".parse().unwrap());
        assert!(matches!(
            bearer_secret(&headers),
            Err(AuthFailure::Malformed)
        ));
    }

    /// What the inner service saw of a request that got through.
    #[derive(Debug, Default, Clone)]
    struct Seen {
        identity: Option<CallerIdentity>,
        authorization: Option<http::HeaderValue>,
    }

    /// Runs one request through [`AuthService`] in front of an inner service that answers
    /// 200 and records what it saw; returns the response and the record (None when the
    /// inner service was not reached).
    async fn call(
        keys: ApiKeys,
        path: &str,
        authorization: Option<&str>,
    ) -> (http::Response<tonic::body::Body>, Option<Seen>) {
        let seen = Arc::new(Mutex::new(None));
        let recorder = Arc::clone(&seen);
        let inner = service_fn(move |request: http::Request<()>| {
            let recorder = Arc::clone(&recorder);
            async move {
                *recorder.lock().unwrap() = Some(Seen {
                    identity: request.extensions().get::<CallerIdentity>().cloned(),
                    authorization: request.headers().get(http::header::AUTHORIZATION).cloned(),
                });
                Ok::<_, Infallible>(http::Response::new(tonic::body::Body::empty()))
            }
        });
        let mut request = http::Request::builder().uri(format!("http://localhost{path}"));
        if let Some(value) = authorization {
            request = request.header(http::header::AUTHORIZATION, value);
        }
        let response = AuthLayer::new(keys)
            .layer(inner)
            .oneshot(request.body(()).unwrap())
            .await
            .unwrap();
        let seen = seen.lock().unwrap().clone();
        (response, seen)
    }

    fn grpc_status(response: &http::Response<tonic::body::Body>) -> Option<&str> {
        response
            .headers()
            .get("grpc-status")
            .map(|v| v.to_str().unwrap())
    }

    fn grpc_message(response: &http::Response<tonic::body::Body>) -> String {
        let status = Status::from_header_map(response.headers()).unwrap();
        status.message().to_owned()
    }

    fn configured_keys() -> ApiKeys {
        ApiKeys::parse(&format!(
            "billing:{}:reader;ops:{}:reader,writer",
            hash_of("billing-secret"),
            hash_of("ops-secret")
        ))
        .unwrap()
    }

    const GET: &str = "/custgrade.v1.CustomerService/GetCustomer";
    const CREATE: &str = "/custgrade.v1.CustomerService/CreateCustomer";

    #[tokio::test]
    async fn open_path_passes_without_a_key() {
        let (response, seen) = call(configured_keys(), "/grpc.health.v1.Health/Check", None).await;
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(grpc_status(&response), None);
        assert!(seen.unwrap().identity.is_none());
    }

    #[tokio::test]
    async fn without_keys_every_request_passes_as_anonymous() {
        let (response, seen) = call(ApiKeys::default(), CREATE, None).await;
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(seen.unwrap().identity, Some(CallerIdentity::anonymous()));
    }

    #[tokio::test]
    async fn missing_header_is_unauthenticated() {
        let (response, seen) = call(configured_keys(), GET, None).await;
        assert_eq!(grpc_status(&response), Some("16"));
        assert_eq!(grpc_message(&response), "missing or invalid api key");
        assert!(seen.is_none());
    }

    #[rstest]
    #[case("Bearer wrong-secret")]
    #[case("Basic billing-secret")]
    #[case("billing-secret")]
    #[tokio::test]
    async fn wrong_or_malformed_key_is_unauthenticated(#[case] authorization: &str) {
        let (response, seen) = call(configured_keys(), GET, Some(authorization)).await;
        assert_eq!(grpc_status(&response), Some("16"));
        assert!(seen.is_none());
    }

    #[tokio::test]
    async fn missing_role_is_permission_denied() {
        let (response, seen) = call(configured_keys(), CREATE, Some("Bearer billing-secret")).await;
        assert_eq!(grpc_status(&response), Some("7"));
        assert_eq!(
            grpc_message(&response),
            "api key \"billing\" lacks role writer"
        );
        assert!(seen.is_none());
    }

    #[tokio::test]
    async fn unknown_method_is_permission_denied() {
        let path = "/custgrade.v1.Unknown/DoThing";
        let (response, seen) = call(configured_keys(), path, Some("Bearer ops-secret")).await;
        assert_eq!(grpc_status(&response), Some("7"));
        assert!(seen.is_none());
    }

    #[tokio::test]
    async fn unknown_method_without_key_is_unauthenticated() {
        let (response, _) = call(configured_keys(), "/custgrade.v1.Unknown/DoThing", None).await;
        assert_eq!(grpc_status(&response), Some("16"));
    }

    #[tokio::test]
    async fn right_key_and_role_passes_with_identity_and_without_the_secret() {
        let (response, seen) = call(configured_keys(), CREATE, Some("bearer ops-secret")).await;
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(grpc_status(&response), None);
        let seen = seen.unwrap();
        assert_eq!(
            seen.identity,
            Some(CallerIdentity {
                name: "ops".to_owned(),
                roles: BTreeSet::from([Role::Reader, Role::Writer]),
            })
        );
        assert!(seen.authorization.is_none());
    }

    #[test]
    fn layer_is_clone_and_future_is_send() {
        fn assert_clone_send<T: Clone + Send + Sync>(_: &T) {}
        fn assert_send<T: Send>(_: &T) {}
        let layer = AuthLayer::new(ApiKeys::default());
        assert_clone_send(&layer);
        let mut service = layer.layer(service_fn(|_: http::Request<()>| async {
            Ok::<_, Infallible>(http::Response::new(tonic::body::Body::empty()))
        }));
        assert_clone_send(&service);
        let future = tower::Service::call(&mut service, http::Request::new(()));
        assert_send(&future);
    }

    proptest! {
        #[test]
        fn digests_equal_agrees_with_eq(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), same in any::<bool>()) {
            let b = if same { a } else { b };
            prop_assert_eq!(digests_equal(&a, &b), a == b);
        }

        #[test]
        fn parse_never_panics(config in ".{0,200}") {
            let _ = ApiKeys::parse(&config);
        }

        #[test]
        fn required_role_never_panics(path in ".{0,100}") {
            let _ = required_role(&path);
        }

        #[test]
        fn valid_entries_parse_back(
            name in "[a-z0-9_-]{1,64}",
            secret in ".{0,40}",
            roles in proptest::sample::subsequence(Role::ALL.to_vec(), 1..=4),
        ) {
            let role_list: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
            let config = format!("{name}:{}:{}", hash_secret(&secret), role_list.join(","));
            let keys = ApiKeys::parse(&config).unwrap();
            let key = keys.authenticate(&secret).unwrap();
            prop_assert_eq!(&key.name, &name);
            prop_assert_eq!(&key.roles, &roles.into_iter().collect::<BTreeSet<_>>());
        }
    }
}
