//! E-mail over the county's SMTP server (`lettre`): STARTTLS or TLS as the URL says,
//! with the credentials it holds.

use std::time::Duration;

use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use super::Outgoing;

/// How long one conversation with the server may take.
const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Email {
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("notify.smtp_url: not an SMTP address ({e})"))?
            .timeout(Some(TIMEOUT))
            .build();
        let from = from.parse().map_err(|e| format!("notify.from: not a mailbox ({e})"))?;
        Ok(Self { transport, from })
    }

    pub async fn send(&self, message: &Outgoing<'_>) -> Result<(), String> {
        let to: Mailbox = message.address.parse().map_err(|_| "the address is not an e-mail address".to_owned())?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject)
            .message_id(Some(format!("<{}@xianjie>", message.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.to_owned())
            .map_err(|e| format!("the message could not be built: {e}"))?;
        self.transport.send(email).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
    }
}
