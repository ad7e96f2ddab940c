//! Who is calling: callers send an API key (see [`crate::domain::keys`]) as
//! `Authorization: Bearer …`; the middleware looks it up once a request.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::db::{keys, Db};
use crate::domain::keys::{constant_time_eq, hash, KeyHolder, Role, KEY_PREFIX};
use crate::http::error::{ApiError, ErrorCode};

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

/// Who sent a request: anonymous without an `Authorization` header, the
/// key's holder with a valid key, and 401 for a header that is not a valid
/// key (reads included: a client with a broken key should hear about it,
/// not be served as anonymous).
pub async fn caller_of(req: &HttpRequest, db: &Db) -> Result<Caller, ApiError> {
    let Some(token) = bearer(req)? else {
        return Ok(Caller::Anonymous);
    };
    look_up(db, token).await
}

/// The holder of a key, or 401 when it is unknown or revoked.
async fn look_up(db: &Db, token: String) -> Result<Caller, ApiError> {
    let hashed = hash(&token);
    let found = db
        .read(move |conn| -> Result<_, ApiError> { Ok(keys::find_active(conn, &hashed)?) })
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
    let role = row.role;
    Ok(Caller::Key(KeyHolder {
        id: row.id,
        name: row.name,
        role,
    }))
}

/// A handler's caller, as the middleware found it (anonymous when the
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
}
