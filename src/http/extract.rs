//! The extractors every handler shares, so that a malformed request gets the one error
//! envelope however it is malformed: JSON bodies, API query strings, page query strings,
//! and the store's errors.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::store::StoreError;

/// A JSON body whose problems get the API's error envelope (malformed, wrong types, too large).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(format!(
                    "the request body is larger than {} bytes",
                    super::MAX_BODY_BYTES
                )))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "send the body as JSON with `Content-Type: application/json`".into(),
            )),
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "invalid JSON body: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// An API query string: a malformed one is a `400` in the error envelope.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))
    }
}

/// A page's query string: a malformed one (a mangled link) is ignored, and the page renders
/// with its defaults rather than an error.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageQuery(
            Query::<T>::from_request_parts(parts, state)
                .await
                .map(|Query(v)| v)
                .unwrap_or_default(),
        ))
    }
}

/// A store that could not be read or written: `503`, "nothing was stored — please retry".
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}
