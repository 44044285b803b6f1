//! One structured log line per call: method, gRPC status code and latency. No request content,
//! so no personal data. Health checks log at debug level: a mesh probes them every few seconds.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use tower::{Layer, Service};

#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog { inner }
    }
}

#[derive(Debug, Clone)]
pub struct AccessLog<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> Service<http::Request<B>> for AccessLog<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut call = CallRecord {
            method: request.uri().path().to_owned(),
            started: Instant::now(),
            finished: false,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            call.finished = true;
            let method = &call.method;
            let latency_ms = call.latency_ms();
            match &result {
                Ok(response) => {
                    // A failed unary call carries its status in the headers ("trailers-only");
                    // a successful one sends it in the trailers, after this point.
                    let code = response
                        .headers()
                        .get("grpc-status")
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.parse::<i32>().ok())
                        .unwrap_or(0);
                    let code = tonic::Code::from_i32(code);
                    if method.starts_with("/grpc.health.") {
                        tracing::debug!(%method, ?code, latency_ms, "call");
                    } else {
                        tracing::info!(%method, ?code, latency_ms, "call");
                    }
                }
                Err(error) => tracing::warn!(%method, %error, latency_ms, "call failed"),
            }
            result
        })
    }
}

/// A call in progress. Dropped before it finished, it logs the call as cancelled: that is how
/// a call ends when its deadline passes, its client goes away or a shutdown drops it.
struct CallRecord {
    method: String,
    started: Instant,
    finished: bool,
}

impl CallRecord {
    fn latency_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        if !self.finished {
            let code = tonic::Code::Cancelled;
            tracing::info!(method = %self.method, ?code, latency_ms = self.latency_ms(), "call");
        }
    }
}
