//! A tower layer in front of every gRPC service: counts each request by RPC and gRPC
//! code, and times it to its response headers.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use tonic::codegen::http;
use tower::{Layer, Service};

use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Metered {
    pub metrics: Arc<Metrics>,
}

impl<S> Layer<S> for Metered {
    type Service = MeteredService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MeteredService { inner, metrics: self.metrics.clone() }
    }
}

#[derive(Clone)]
pub struct MeteredService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

/// `Service.Method` from a gRPC path (`/xianjie.v1.ReferralService/Submit`).
fn rpc(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let service = parts.next().unwrap_or_default();
    let method = parts.next().unwrap_or_default();
    format!("{}.{method}", service.rsplit('.').next().unwrap_or(service))
}

/// The gRPC code of a response: in its headers when the call failed at once (trailers
/// only), else OK as far as the headers go.
fn code<B>(response: &http::Response<B>) -> String {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or_else(|| "OK".to_owned(), |n| format!("{:?}", tonic::Code::from(n)))
}

impl<S, B, R> Service<http::Request<B>> for MeteredService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let rpc = rpc(request.uri().path());
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await;
            let code = response.as_ref().map_or_else(|_| "Unknown".to_owned(), code);
            // Paths no service answers (and any path without a valid certificate) are
            // counted together: a label per path a stranger sends would grow without
            // bound.
            let rpc = if matches!(code.as_str(), "Unauthenticated" | "Unimplemented") { "-".to_owned() } else { rpc };
            metrics.requests.with_label_values(&[&rpc, &code]).inc();
            metrics.request_seconds.with_label_values(&[&rpc]).observe(started.elapsed().as_secs_f64());
            response
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rpc_labels_are_service_and_method() {
        assert_eq!(super::rpc("/xianjie.v1.ReferralService/Submit"), "ReferralService.Submit");
        assert_eq!(super::rpc("/grpc.health.v1.Health/Check"), "Health.Check");
    }
}
