//! The tower layer in front of tonic's router: it reads the bearer secret, resolves it to a
//! [`CallerIdentity`], checks the role the method needs, and either answers with a gRPC
//! status or passes the request on. Separate because it is the only part of authentication
//! that knows about HTTP requests and tower; the decisions it applies live in the sibling
//! modules.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use tonic::Status;

use super::access::{Access, required_role};
use super::identity::CallerIdentity;
use super::keys::ApiKeys;

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
    use crate::grpc::auth::{Role, hash_secret};
    use rstest::rstest;
    use std::collections::BTreeSet;
    use std::convert::Infallible;
    use std::sync::Mutex;
    use tower::{Layer, ServiceExt, service_fn};

    fn hash_of(secret: &str) -> String {
        hash_secret(secret)
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
}
