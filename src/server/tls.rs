//! Mutual TLS in front of the gRPC server, built on rustls directly.
//!
//! The handshake asks every client for a certificate and checks that the client holds
//! its key, but defers the chain check to the application, once per connection: so a
//! client with no certificate, or one from another CA, gets a gRPC UNAUTHENTICATED
//! status it can read, rather than a broken handshake, and never anything else.

use std::{
    collections::HashSet,
    io,
    path::PathBuf,
    pin::Pin,
    sync::{Arc, PoisonError, RwLock},
    task::{Context, Poll},
    time::Duration,
};

use prometheus::GaugeVec;
use rustls::{
    client::danger::HandshakeSignatureValid,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, UnixTime},
    server::{
        danger::{ClientCertVerified, ClientCertVerifier},
        ClientHello, ResolvesServerCert, WebPkiClientVerifier,
    },
    sign::CertifiedKey,
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
};
use tokio_rustls::{server::TlsStream, TlsAcceptor};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use crate::{
    app::identity::{Peer, Refused, Verified},
    clock::SharedClock,
    pki::{self, Holder, Identity, Revoked},
};

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// Accepts any client certificate during the handshake (but still checks the
/// handshake signature against it); [`Tls::identify`] checks the chain afterwards.
#[derive(Debug)]
struct DeferredVerifier(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for DeferredVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The files the hub's TLS rests on, read again while it runs.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA's revocation list; none revoked while the file does not exist.
    pub crl: PathBuf,
}

/// What the files said when last read.
struct Trust {
    verifier: Arc<dyn ClientCertVerifier>,
    server: Arc<CertifiedKey>,
    /// The contents read, to tell whether anything changed.
    read: Vec<Vec<u8>>,
}

/// Hands the handshake the server certificate as last read.
#[derive(Debug)]
struct CurrentCertificate(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(PoisonError::into_inner).clone())
    }
}

/// The hub's TLS setup: its acceptor and the verifier of member certificates, both
/// renewed by [`Tls::reload`] when the files change.
#[derive(Clone)]
pub struct Tls {
    /// For gRPC: HTTP/2 only.
    acceptor: TlsAcceptor,
    /// For browsers: HTTP/2 or HTTP/1.1.
    web: TlsAcceptor,
    files: TlsFiles,
    trust: Arc<RwLock<Trust>>,
    certificate: Arc<CurrentCertificate>,
    revoked: Arc<watch::Sender<Revoked>>,
    clock: SharedClock,
    /// Days left, per identity: the hub's own certificate, the CA, and every member's
    /// as it connects.
    expiry: GaugeVec,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the files hold now, to tell whether they changed (a missing file: nothing).
fn contents(files: &TlsFiles) -> Vec<Vec<u8>> {
    [&files.ca, &files.cert, &files.key, &files.crl]
        .iter()
        .map(|path| std::fs::read(path).unwrap_or_default())
        .collect()
}

/// Reads the files and builds what they say.
fn read_trust(files: &TlsFiles) -> Result<(Trust, HashSet<String>), TlsError> {
    let read = contents(files);
    let mut roots = RootCertStore::empty();
    for ca_cert in pki::read_certificates(&files.ca)? {
        roots.add(ca_cert)?;
    }
    let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
    let mut revoked = HashSet::new();
    if files.crl.exists() {
        let (crl, serials) = pki::read_crl(&files.crl)?;
        builder = builder.with_crls([crl]);
        revoked = serials;
    }
    let key = pki::read_key(&files.key)?;
    let signing = provider().key_provider.load_private_key(key)?;
    let server = Arc::new(CertifiedKey::new(pki::read_certificates(&files.cert)?, signing));
    Ok((Trust { verifier: builder.build()?, server, read }, revoked))
}

impl Tls {
    /// Loads the CA that signs member certificates, its CRL and the hub's own
    /// certificate.
    /// The revoked serial numbers it reads go to `revoked`, now and as the CRL changes.
    pub fn load(
        files: TlsFiles,
        clock: SharedClock,
        expiry: GaugeVec,
        revoked: watch::Sender<Revoked>,
    ) -> Result<Self, TlsError> {
        let (trust, serials) = read_trust(&files)?;
        revoked.send_replace(Arc::new(serials));
        let certificate = Arc::new(CurrentCertificate(RwLock::new(trust.server.clone())));
        let verifier: Arc<dyn ClientCertVerifier> = Arc::new(DeferredVerifier(trust.verifier.clone()));
        let acceptor = |alpn: &[&[u8]]| -> Result<TlsAcceptor, TlsError> {
            let mut config = ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()?
                .with_client_cert_verifier(verifier.clone())
                .with_cert_resolver(certificate.clone());
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(TlsAcceptor::from(Arc::new(config)))
        };
        let tls = Self {
            acceptor: acceptor(&[b"h2"])?,
            web: acceptor(&[b"h2", b"http/1.1"])?,
            files,
            trust: Arc::new(RwLock::new(trust)),
            certificate,
            revoked: Arc::new(revoked),
            clock,
            expiry,
        };
        tls.measure_own();
        Ok(tls)
    }

    /// Records the days left of a certificate (DER) under `identity`; warns from 30
    /// days before it ends.
    fn measure(&self, identity: &str, der: &[u8]) {
        if let Ok(not_after) = pki::not_after(der) {
            self.measure_until(identity, not_after);
        }
    }

    /// Records the days left until `not_after` under `identity`; warns, once a day,
    /// from 30 days before.
    fn measure_until(&self, identity: &str, not_after: chrono::DateTime<chrono::Utc>) {
        let days = (not_after - self.clock.now()).num_seconds() as f64 / 86_400.0;
        let gauge = self.expiry.with_label_values(&[identity]);
        let first = gauge.get() == 0.0 || gauge.get().floor() != days.floor();
        gauge.set(days);
        if days < pki::authority::EXPIRY_WARNING_DAYS as f64 && first {
            tracing::warn!(identity, days = days.floor(), %not_after, "certificate expires soon: issue a new one (xianjie pki issue)");
        }
    }

    /// Records the days left of the hub's own certificate, of the CA, and of every
    /// certificate the CA beside it has issued and not revoked.
    fn measure_own(&self) {
        for (identity, path) in [("hub", &self.files.cert), ("ca", &self.files.ca)] {
            let first = pki::read_certificates(path).ok().and_then(|certs| certs.into_iter().next());
            if let Some(der) = first {
                self.measure(identity, der.as_ref());
            }
        }
        let issued = self.files.ca.parent().map(|dir| pki::authority::Authority::at(dir).list());
        for issued in issued.and_then(Result::ok).unwrap_or_default() {
            if issued.current && !issued.revoked && issued.name != "server" {
                self.measure_until(&issued.name, issued.not_after);
            }
        }
    }

    /// Reads the files again; when any changed, new connections are checked against
    /// the new CA and CRL and shown the new server certificate, and the revoked serial
    /// numbers are published. Returns whether anything changed. On error the hub goes
    /// on with what it had.
    pub fn reload(&self) -> Result<bool, TlsError> {
        self.measure_own();
        if self.trust.read().unwrap_or_else(PoisonError::into_inner).read == contents(&self.files) {
            return Ok(false);
        }
        let (trust, revoked) = read_trust(&self.files)?;
        *self.certificate.0.write().unwrap_or_else(PoisonError::into_inner) = trust.server.clone();
        *self.trust.write().unwrap_or_else(PoisonError::into_inner) = trust;
        self.revoked.send_if_modified(|current| {
            let changed = **current != revoked;
            *current = Arc::new(revoked);
            changed
        });
        Ok(true)
    }

    /// Checks a connection's client certificate chain against the CA and its CRL at
    /// the hub's time, and reads whom it names.
    pub fn identify(&self, chain: Option<&[CertificateDer<'static>]>) -> Peer {
        let Some((end_entity, intermediates)) = chain.and_then(|c| c.split_first()) else {
            return Peer(Err(Refused::Missing));
        };
        let seconds = self.clock.now().timestamp().max(0) as u64;
        let now = UnixTime::since_unix_epoch(Duration::from_secs(seconds));
        let verifier = self.trust.read().unwrap_or_else(PoisonError::into_inner).verifier.clone();
        if let Err(e) = verifier.verify_client_cert(end_entity, intermediates, now) {
            // Ours, but revoked or past its time: said so, not taken for a stranger's.
            let serial = || pki::serial(end_entity).unwrap_or_default();
            return Peer(Err(match e {
                rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked) => Refused::Revoked(serial()),
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. },
                ) => Refused::Expired(serial()),
                e => Refused::Foreign(e.to_string()),
            }));
        }
        if let Ok(identity) = Identity::from_certificate(end_entity) {
            self.measure(identity.name(), end_entity.as_ref());
        }
        Peer(
            Holder::from_certificate(end_entity)
                .and_then(|Holder { identity, clerk }| {
                    Ok(Verified {
                        identity,
                        clerk,
                        serial: pki::serial(end_entity)?,
                        not_after: pki::not_after(end_entity)?,
                    })
                })
                .map_err(Refused::Foreign),
        )
    }

    /// Accepts gRPC connections on `listener` and hands over those that complete the
    /// handshake, each with what its certificate established. Stops when the receiver
    /// is dropped.
    pub fn incoming(self, listener: TcpListener) -> ReceiverStream<Result<PeerStream, io::Error>> {
        let acceptor = self.acceptor.clone();
        self.accept(acceptor, listener)
    }

    /// Accepts browsers' connections (HTTP/1.1 or HTTP/2) on `listener`, as
    /// [`Tls::incoming`] does gRPC's.
    pub fn incoming_web(self, listener: TcpListener) -> ReceiverStream<Result<PeerStream, io::Error>> {
        let acceptor = self.web.clone();
        self.accept(acceptor, listener)
    }

    fn accept(self, acceptor: TlsAcceptor, listener: TcpListener) -> ReceiverStream<Result<PeerStream, io::Error>> {
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    () = tx.closed() => return,
                };
                let (tcp, remote) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (tls, acceptor, tx) = (self.clone(), acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let peer = tls.identify(stream.get_ref().1.peer_certificates());
                            if let Err(why) = &peer.0 {
                                tracing::info!(%remote, why = %why, "unauthenticated connection");
                            }
                            let _ = tx.send(Ok(PeerStream { inner: stream, peer })).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                });
            }
        });
        ReceiverStream::new(rx)
    }
}

/// A TLS connection with what its client certificate established.
pub struct PeerStream {
    inner: TlsStream<TcpStream>,
    peer: Peer,
}

impl PeerStream {
    /// What the connection's client certificate established.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }
}

impl Connected for PeerStream {
    type ConnectInfo = Peer;

    fn connect_info(&self) -> Peer {
        self.peer.clone()
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
