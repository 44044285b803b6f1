//! The configured API keys: parsing `CUSTGRADE_API_KEYS`, hashing secrets, and finding the key
//! a presented secret belongs to with a constant-time digest comparison. Separate from the
//! layer so the configuration format and its many error cases are tested without a server.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::identity::{CallerIdentity, Role, UnknownRole};

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

impl From<&ApiKey> for CallerIdentity {
    fn from(key: &ApiKey) -> Self {
        Self {
            name: key.name.clone(),
            roles: key.roles.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

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
