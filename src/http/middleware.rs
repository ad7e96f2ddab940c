//! The middleware stack's entry points. Each reads what it needs from the
//! application state and hands it to the file that does the work, so that
//! the rest of `http/` never names the state (which holds their settings).
//! `app.rs` wraps them around the routes, in this order from outside in:
//! [`finish`](crate::http::edge::finish), [`cors`], metrics
//! ([`observe`]), caching ([`headers`]), compression, HEAD as GET,
//! [`authenticate`], rate limits ([`limit`]), idempotency keys
//! ([`idempotent`]), the path check.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::http::auth::{self, Caller};
use crate::http::{caching, cors as cross_origin, idempotency, metrics, ratelimit};
use crate::state::AppState;

fn state(req: &ServiceRequest) -> Option<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned()
}

/// Refuses browser origins that may not call the API ([`cross_origin::guard`]).
pub async fn cors<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    cross_origin::guard(&state.cors, state.public_url.origin(), req, next).await
}

/// Counts and times every request ([`metrics::observe`]).
pub async fn observe<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next.call(req).await;
    };
    metrics::observe(&state.metrics, req, next).await
}

/// Sets `Cache-Control` and marks ETags with the content coding
/// ([`caching::headers`]).
pub async fn headers<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let max_age = state(&req).map_or(0, |state| state.cache_max_age);
    caching::headers(max_age, req, next).await
}

/// Answers a repeated keyed POST with its first answer
/// ([`idempotency::idempotent`]).
pub async fn idempotent<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    idempotency::idempotent(state.db.clone(), req, next).await
}

/// Authenticates a request's bearer key once, before any handler, and
/// leaves the [`Caller`] in the request's extensions. A header that is not
/// a valid key is answered here with 401, as a response, so that the
/// middleware around (CORS) still sees it; it counts against the client's
/// address, so that keys cannot be guessed at full speed.
pub async fn authenticate<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    match auth::caller_of(req.request(), &state.db).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(error) => {
            let response = ratelimit::refuse_bad_key(&state.rate_limiter, state.proxies, &req)
                .unwrap_or_else(|| actix_web::ResponseError::error_response(&error));
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// Counts the request against its key or address, 429 past the limit
/// ([`ratelimit::limit`]).
pub async fn limit<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let key = match req.extensions().get::<Caller>() {
        Some(Caller::Key(holder)) => Some(holder.id.clone()),
        _ => None,
    };
    ratelimit::limit(&state.rate_limiter, state.proxies, key, req, next).await
}
