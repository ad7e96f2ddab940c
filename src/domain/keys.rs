//! API keys and what they may do. A key is 256 random bits, shown once
//! when it is made and stored only as its SHA-256 (a key that long needs no
//! slow hash: there is nothing to guess).
//!
//! Roles, each able to do what the ones before it do:
//! - `partner`: reads, with higher rate limits (partner harvesters);
//! - `editor`: writes content, sees drafts;
//! - `admin`: deletes, manages keys, rebuilds the search index.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// Every key starts with this, so that a leaked one is easy to recognise
/// (secret scanners, logs).
pub const KEY_PREFIX: &str = "arkiv_";

/// How many characters of a key its listing shows.
const SHOWN_CHARS: usize = KEY_PREFIX.len() + 6;

/// What a key may do; each role includes the ones before it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
// Named apart from an organisation's role in the spec, which has one
// namespace for schemas.
#[schema(as = KeyRole)]
pub enum Role {
    Partner,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Partner, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Partner => "partner",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == raw)
            .ok_or_else(|| format!("{raw:?} is not a role: use partner, editor or admin"))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A newly made key: the secret (shown once) and what is stored of it.
pub struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

/// Makes a random key.
pub fn generate() -> Result<NewKey, getrandom::Error> {
    let secret = random_secret(KEY_PREFIX)?;
    Ok(NewKey {
        prefix: secret.chars().take(SHOWN_CHARS).collect(),
        hash: hash(&secret),
        secret,
    })
}

/// `prefix` and 256 random bits in base64url (43 characters): API keys,
/// webhook secrets.
pub fn random_secret(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The SHA-256 of a key, in lowercase hex: what the database keeps.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Compares two strings in time that depends only on their lengths
/// (`subtle`, which keeps the optimiser from cutting the loop short).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A key the database knows and has not revoked.
#[derive(Debug, Clone)]
pub struct KeyHolder {
    pub id: String,
    pub name: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hashed() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(KEY_PREFIX));
        assert_eq!(a.secret.len(), KEY_PREFIX.len() + 43);
        assert!(a.secret.starts_with(&a.prefix));
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret));
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(!constant_time_eq("", "a"));
        assert!(constant_time_eq("", ""));
    }
}
