//! API keys and roles. A key is 256 random bits, shown once when it is made
//! and stored only as its SHA-256 (a key that long needs no slow hash: there
//! is nothing to guess). Callers send it as `Authorization: Bearer …`.
//!
//! Roles, each able to do what the ones before it do:
//! - `partner`: reads, with higher rate limits (partner harvesters);
//! - `editor`: writes content, sees drafts;
//! - `admin`: deletes, manages keys, rebuilds the search index.

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::db::keys;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Every key starts with this, so that a leaked one is easy to recognise
/// (secret scanners, logs).
pub const KEY_PREFIX: &str = "arkiv_";

/// How many characters of a key its listing shows.
const SHOWN_CHARS: usize = KEY_PREFIX.len() + 6;

/// What a key may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
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

/// Who is calling: nobody in particular, or the holder of a valid key.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    Key(KeyHolder),
}

impl Caller {
    /// The caller's role, if it has a key.
    pub fn role(&self) -> Option<Role> {
        match self {
            Caller::Anonymous => None,
            Caller::Key(holder) => Some(holder.role),
        }
    }

    /// Whether the caller's role includes `role`.
    pub fn has(&self, role: Role) -> bool {
        self.role().is_some_and(|own| own >= role)
    }

    /// The key holder, when its role includes `role`: 401 without a key,
    /// 403 with one whose role is lower.
    pub fn require(&self, role: Role) -> Result<&KeyHolder, ApiError> {
        match self {
            Caller::Anonymous => Err(ApiError::new(
                ErrorCode::Unauthorized,
                format!(
                    "this needs an API key with the {role} role: send Authorization: Bearer <key>"
                ),
            )),
            Caller::Key(holder) if holder.role >= role => Ok(holder),
            Caller::Key(holder) => Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "this needs the {role} role; the key {:?} has the {} role",
                    holder.name, holder.role
                ),
            )),
        }
    }
}

/// Reads the bearer key of a request: None without an Authorization
/// header, an error for one that is not a well-formed bearer key.
fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = |detail: &str| ApiError::new(ErrorCode::Unauthorized, detail.to_owned());
    let value = value
        .to_str()
        .map_err(|_| invalid("the Authorization header is not ASCII"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| invalid("the Authorization header must be \"Bearer <key>\""))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid("only Bearer authorization is accepted"));
    }
    let token = token.trim();
    if !token.starts_with(KEY_PREFIX) || token.len() > 200 {
        return Err(invalid("this is not an arkiv API key"));
    }
    Ok(Some(token.to_owned()))
}

/// Middleware: authenticates a request's bearer key once, before any
/// handler, and leaves the [`Caller`] in the request's extensions. A header
/// that is not a valid key is a 401 on every endpoint, reads included: a
/// client with a broken key should hear about it, not be served as
/// anonymous.
pub async fn authenticate<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match caller_of(&req).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        // Answered here, as a response, so that the middleware around
        // (CORS) still sees it. A bad key counts against its address, so
        // keys cannot be guessed at full speed.
        Err(error) => {
            let response =
                crate::ratelimit::refuse_bad_key(&req).unwrap_or_else(|| error.error_response());
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

async fn caller_of(req: &ServiceRequest) -> Result<Caller, ApiError> {
    let Some(token) = bearer(req.request())? else {
        return Ok(Caller::Anonymous);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("no application state"))?;
    look_up(&state, token).await
}

/// The holder of a key, or 401 when it is unknown or revoked.
async fn look_up(state: &AppState, token: String) -> Result<Caller, ApiError> {
    let hashed = hash(&token);
    let found = state
        .db
        .run(move |conn| -> Result<_, ApiError> { Ok(keys::find_active(conn, &hashed)?) })
        .await?;
    let unknown = || {
        ApiError::new(
            ErrorCode::Unauthorized,
            "this API key is unknown or has been revoked",
        )
    };
    let row = found.ok_or_else(unknown)?;
    // The row was found by its hash; compare again in constant time so
    // that no timing depends on how much of a guess was right.
    if !constant_time_eq(&row.hash, &hash(&token)) {
        return Err(unknown());
    }
    let role = Role::parse(&row.role).map_err(ApiError::internal)?;
    Ok(Caller::Key(KeyHolder {
        id: row.id,
        name: row.name,
        role,
    }))
}

/// A handler's caller, as [`authenticate`] found it (anonymous when the
/// middleware did not run).
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(req
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or(Caller::Anonymous)))
    }
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
    fn roles_include_the_lower_ones() {
        let caller = |role| {
            Caller::Key(KeyHolder {
                id: "k".into(),
                name: "n".into(),
                role,
            })
        };
        assert!(caller(Role::Admin).require(Role::Editor).is_ok());
        assert!(caller(Role::Editor).require(Role::Editor).is_ok());
        assert_eq!(
            caller(Role::Partner)
                .require(Role::Editor)
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            Caller::Anonymous.require(Role::Partner).unwrap_err().code,
            ErrorCode::Unauthorized
        );
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
