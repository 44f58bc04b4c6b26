//! The channels a county has: e-mail over its SMTP server, webhooks to its own systems
//! and group robots, text messages through the province's SMS gateway. Each sends one
//! message and says whether it went; the queue, retries and records are the
//! application's (`app::notifications`).

mod email;
mod http;

use crate::{
    config::NotifyConfig,
    domain::notification::{Channel, WebhookFormat},
};

/// One message on its way out.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The idempotency key: the e-mail's Message-ID, the webhook's
    /// `X-Xianjie-Notification` header and its JSON's `id`.
    pub id: &'a str,
    pub channel: Channel,
    /// The e-mail address, the mobile or the webhook's address.
    pub address: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// The member told, and its webhook's format.
    pub member: &'a str,
    pub event: &'a str,
    pub format: WebhookFormat,
    /// The hub's time, which a signed webhook carries.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The channels as configured.
pub struct Senders {
    email: Option<email::Email>,
    sms: Option<crate::config::SmsGateway>,
    webhook_secret: Option<String>,
    http: http::Http,
}

impl Senders {
    /// The channels `config` sets up; an SMTP address that cannot be read is refused
    /// here, when the hub starts.
    pub fn new(config: &NotifyConfig) -> Result<Self, String> {
        let email = match &config.smtp_url {
            Some(url) => Some(email::Email::new(url, &config.from)?),
            None => None,
        };
        Ok(Self {
            email,
            sms: config.sms.clone(),
            webhook_secret: config.webhook_secret.clone(),
            http: http::Http::new(),
        })
    }

    /// Whether the hub can send by `channel` at all.
    pub fn has(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Sms => self.sms.is_some(),
            Channel::Webhook => true,
        }
    }

    /// Sends `message`; the error says why it did not go, in a line for the
    /// administrator (never the message's text).
    pub async fn send(&self, message: &Outgoing<'_>) -> Result<(), String> {
        match message.channel {
            Channel::Email => match &self.email {
                Some(email) => email.send(message).await,
                None => Err("no SMTP server is configured (notify.smtp_url)".into()),
            },
            Channel::Sms => match &self.sms {
                Some(gateway) => self.http.sms(gateway, message).await,
                None => Err("no SMS gateway is configured ([notify.sms])".into()),
            },
            Channel::Webhook => self.http.webhook(message, self.webhook_secret.as_deref()).await,
        }
    }
}
