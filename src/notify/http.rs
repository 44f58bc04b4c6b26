//! Webhooks and the SMS gateway: one HTTP request each, over TLS for `https://`
//! addresses (the public roots), with a time limit and the answer's body bounded.

use std::{sync::Arc, time::Duration};

use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    body::Bytes,
    header::{CONTENT_TYPE, HOST},
    Request, Uri,
};
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use tokio::net::TcpStream;

use super::Outgoing;
use crate::{config::SmsGateway, domain::notification::WebhookFormat};

/// How long one request may take, from connecting to the answer's end.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The most of an answer read.
const ANSWER_BYTES: usize = 64 * 1024;

pub struct Http {
    tls: tokio_rustls::TlsConnector,
}

/// An answer: its status and (the start of) its body.
struct Answer {
    status: u16,
    body: String,
}

impl Http {
    pub fn new() -> Self {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|e| unreachable!("ring supports the default versions: {e}"))
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self { tls: tokio_rustls::TlsConnector::from(Arc::new(config)) }
    }

    /// A webhook: the hub's JSON (signed when a secret is set) or a group robot's text.
    pub async fn webhook(&self, message: &Outgoing<'_>, secret: Option<&str>) -> Result<(), String> {
        let at = message.at.timestamp();
        let body = match message.format {
            WebhookFormat::Json => serde_json::json!({
                "id": message.id, "member": message.member, "event": message.event,
                "subject": message.subject, "text": message.text,
            }),
            WebhookFormat::Dingtalk | WebhookFormat::Wecom => {
                serde_json::json!({"msgtype": "text", "text": {"content": message.text}})
            }
        }
        .to_string();
        let mut headers = vec![("x-xianjie-notification", message.id.to_owned())];
        if let (WebhookFormat::Json, Some(secret)) = (message.format, secret) {
            headers.push(("x-xianjie-timestamp", at.to_string()));
            headers.push(("x-xianjie-signature", format!("sha256={}", sign(secret, at, &body))));
        }
        let answer = self.request("POST", message.address, "application/json", &headers, body).await?;
        // The robots answer 200 with an error code of their own.
        let robot = message.format != WebhookFormat::Json;
        if robot && !answer.body.replace(' ', "").contains("\"errcode\":0") {
            return Err(format!("the robot refused the message (HTTP {})", answer.status));
        }
        Ok(())
    }

    /// A text message through `gateway`: its URL and body with the phone and the text
    /// put in.
    pub async fn sms(&self, gateway: &SmsGateway, message: &Outgoing<'_>) -> Result<(), String> {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let url = gateway.url.replace("{phone}", &encode(message.address)).replace("{text}", &encode(message.text));
        let json = gateway.content_type.contains("json");
        let fill = |s: &str| {
            if json {
                // The contents of a JSON string: quotes and escapes, no surrounding quotes.
                let quoted = serde_json::Value::from(s).to_string();
                quoted[1..quoted.len() - 1].to_owned()
            } else {
                encode(s)
            }
        };
        let body = gateway.body.replace("{phone}", &fill(message.address)).replace("{text}", &fill(message.text));
        let answer = self.request(&gateway.method, &url, &gateway.content_type, &[], body).await?;
        if !gateway.success.is_empty() && !answer.body.contains(&gateway.success) {
            return Err(format!("the gateway did not confirm the message (HTTP {})", answer.status));
        }
        Ok(())
    }

    /// One request; an answer other than 2xx is an error.
    async fn request(
        &self,
        method: &str,
        url: &str,
        content_type: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<Answer, String> {
        let answer = tokio::time::timeout(TIMEOUT, self.exchange(method, url, content_type, headers, body))
            .await
            .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))??;
        if !(200..300).contains(&answer.status) {
            return Err(format!("HTTP {}", answer.status));
        }
        Ok(answer)
    }

    async fn exchange(
        &self,
        method: &str,
        url: &str,
        content_type: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<Answer, String> {
        let uri: Uri = url.parse().map_err(|_| "not an http:// or https:// address".to_owned())?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("not an http:// or https:// address".into()),
        };
        let host = uri.host().ok_or_else(|| "the address names no host".to_owned())?.to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut request = Request::builder()
            .method(method)
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(HOST, uri.authority().map_or(host.as_str(), |a| a.as_str()))
            .header(CONTENT_TYPE, content_type);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| format!("the request: {e}"))?;
        let tcp = TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port))
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        if https {
            let name =
                rustls_pki_types::ServerName::try_from(host.clone()).map_err(|_| "a bad host name".to_owned())?;
            let tls = self.tls.connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
            send(TokioIo::new(tls), request).await
        } else {
            send(TokioIo::new(tcp), request).await
        }
    }
}

async fn send<T>(io: T, request: Request<Full<Bytes>>) -> Result<Answer, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender.send_request(request).await.map_err(|e| format!("HTTP: {e}"))?;
    let status = response.status().as_u16();
    let body = Limited::new(response.into_body(), ANSWER_BYTES)
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    Ok(Answer { status, body })
}

/// The hex HMAC-SHA256 of `{at}.{body}` under `secret`: what a receiving system
/// computes to know the message came from the hub, and recently.
fn sign(secret: &str, at: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|e| unreachable!("HMAC takes a key of any length: {e}"));
    mac.update(format!("{at}.{body}").as_bytes());
    crate::domain::hex::lower(&mac.finalize().into_bytes())
}
