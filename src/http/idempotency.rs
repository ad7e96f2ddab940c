//! `Idempotency-Key` on POST (D90): a client that timed out, or lost the
//! connection, sends the same request again with the same key and gets the
//! first answer instead of a second write.
//!
//! The key belongs to the API key that sent it. The first request with it
//! claims it (one row, in its own transaction) and runs detached from the
//! client: if the client goes away, the request still finishes and its
//! answer is kept. A repeat with the same method, path, query, media type
//! and body gets that answer again, marked `Idempotent-Replayed: true`;
//! one with a different request is 422 `idempotency_key_reused`; one that
//! comes while the first still runs is 409 `idempotency_key_in_use`. Answers
//! of 500 and above are not kept (a database outage, a refused write): the
//! key is let go and a retry runs afresh. Anonymous POSTs (the views beacon,
//! OAI-PMH) and other methods pass through untouched.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::db::idempotency::{self, Answer, Claim};
use crate::db::Db;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode};

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The header a replayed answer carries.
pub const REPLAYED: &str = "idempotent-replayed";

/// Longest key accepted.
const MAX_KEY: usize = 255;

/// Largest body buffered to compare a repeat with the first request (the
/// largest JSON body any endpoint takes); past it the endpoint refuses the
/// body itself.
const MAX_BODY: usize = 16 << 20;

/// The answer's headers that are kept and replayed.
const KEPT_HEADERS: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::LAST_MODIFIED,
];

/// The middleware's work (see the module's documentation).
pub async fn idempotent<B>(
    db: Db,
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error>
where
    B: MessageBody + 'static,
{
    let key = match req.headers().get(HEADER) {
        Some(key) if req.method() == Method::POST => key.clone(),
        _ => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
    };
    let holder = {
        let extensions = req.extensions();
        match extensions.get::<Caller>() {
            Some(Caller::Key(holder)) => Some(holder.id.clone()),
            _ => None,
        }
    };
    let Some(holder) = holder else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let key = match checked(&key) {
        Ok(key) => key,
        Err(error) => return Ok(refuse(req, error)),
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        // The endpoint refuses it unread; nothing to remember.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(error) => return Ok(refuse(req, error)),
    };
    let hash = request_hash(&req, &body);
    // The body goes back for the endpoint to read as it came.
    let again: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(futures_util::stream::once(std::future::ready(Ok(body))));
    req.set_payload(actix_web::dev::Payload::from(again));

    let claimed = {
        let (holder, key, hash) = (holder.clone(), key.clone(), hash.clone());
        db.run(move |conn| -> Result<Claim, ApiError> {
            Ok(idempotency::claim(conn, &holder, &key, &hash, now_s())?)
        })
        .await
    };
    match claimed {
        Err(error) => Ok(refuse(req, error)),
        Ok(Claim::Reused) => Ok(refuse(
            req,
            ApiError::new(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request (method, path, query or body); use a new key for a new request",
            ),
        )),
        Ok(Claim::Running) => {
            let mut error = ApiError::new(
                ErrorCode::IdempotencyKeyInUse,
                "a request with this Idempotency-Key is still running; try again in a moment to get its answer",
            );
            error.retry_after = Some(1);
            Ok(refuse(req, error))
        }
        Ok(Claim::Answered(answer)) => {
            let response = replay(&answer);
            Ok(req.into_response(response).map_into_right_body())
        }
        Ok(Claim::Claimed) => {
            // Detached: the request finishes, and its answer is kept, even
            // when the client stops waiting for it.
            let finished = actix_web::rt::spawn(async move {
                match next.call(req).await {
                    Ok(response) => keep(db, holder, key, response).await,
                    Err(error) => {
                        let _ = db
                            .run(move |conn| -> Result<(), ApiError> {
                                Ok(idempotency::release(conn, &holder, &key)?)
                            })
                            .await;
                        Err(error)
                    }
                }
            });
            match finished.await {
                Ok(result) => result.map(ServiceResponse::map_into_right_body),
                Err(error) => Err(ApiError::internal(error).into()),
            }
        }
    }
}

/// The key as text: 1 to 255 visible ASCII characters.
fn checked(key: &HeaderValue) -> Result<String, ApiError> {
    let bytes = key.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY || !bytes.iter().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::new(
                ErrorCode::InvalidBody,
                format!("the body broke off: {error}"),
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("a request with Idempotency-Key takes a body of at most {MAX_BODY} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// What makes two requests the same one.
fn request_hash(req: &ServiceRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    for part in [
        req.method().as_str().as_bytes(),
        req.path().as_bytes(),
        req.query_string().as_bytes(),
        req.headers()
            .get(header::CONTENT_TYPE)
            .map_or(&b""[..], HeaderValue::as_bytes),
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn now_s() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs()),
    )
    .unwrap_or(i64::MAX)
}

/// Reads the answer whole, keeps it (or lets the key go on a 5xx), and
/// gives it on.
async fn keep<B: MessageBody + 'static>(
    db: Db,
    holder: String,
    key: String,
    response: ServiceResponse<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = actix_web::body::to_bytes(body).await.map_err(|error| {
        let error: Box<dyn std::error::Error> = error.into();
        ApiError::internal(error)
    })?;
    let status = head.status();
    let outcome = if status.is_server_error() {
        db.run(move |conn| -> Result<(), ApiError> {
            Ok(idempotency::release(conn, &holder, &key)?)
        })
        .await
    } else {
        let headers: Vec<(&str, String)> = KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = head.headers().get(name)?.to_str().ok()?;
                Some((name.as_str(), value.to_owned()))
            })
            .collect();
        let answer = Answer {
            status: status.as_u16(),
            headers: serde_json::to_string(&headers).unwrap_or_default(),
            body: body.to_vec(),
        };
        db.run(move |conn| -> Result<(), ApiError> {
            Ok(idempotency::answer(conn, &holder, &key, &answer)?)
        })
        .await
    };
    if let Err(error) = outcome {
        // The write stands; only its replay is lost (a retry within the
        // abandonment time is told the key is in use).
        tracing::warn!(%error, "could not keep the answer of an idempotent request");
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(body)),
    ))
}

/// A kept answer, sent again.
fn replay(answer: &Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    let headers: Vec<(String, String)> = serde_json::from_str(&answer.headers).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((REPLAYED, "true"));
    response.body(answer.body.clone())
}

fn refuse<B>(req: ServiceRequest, error: ApiError) -> ServiceResponse<EitherBody<B, BoxBody>> {
    req.error_response(error).map_into_right_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(checked(&HeaderValue::from_static(
            "0b8a6c1e-5f2d-4c1b-9a77-2f0e6a1d3c44"
        ))
        .is_ok());
        assert!(checked(&HeaderValue::from_static("")).is_err());
        assert!(checked(&HeaderValue::from_static("two words")).is_err());
        let long = "k".repeat(MAX_KEY + 1);
        assert!(checked(&HeaderValue::from_str(&long).expect("header")).is_err());
        assert!(checked(&HeaderValue::from_str(&long[1..]).expect("header")).is_ok());
    }
}
