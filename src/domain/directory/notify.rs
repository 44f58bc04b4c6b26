//! 通知方式 — how a member is told of what waits for it, away from the workbench: the
//! channels it chose, the events, and its webhook. Kept in the directory with the
//! member's contacts; the words of the messages are `notification`'s.

use serde::{Deserialize, Serialize};

use crate::domain::{error::Violations, Caller, DomainError, MemberCode, Role, Rule};

/// How a message reaches a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// To the liaison's e-mail address, over the county's SMTP server.
    Email,
    /// A JSON POST to the member's own system or its group robot (钉钉, 企业微信, 政务微信).
    Webhook,
    /// To the liaison's mobile, through the province's SMS gateway.
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Webhook, Channel::Sms];

    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Sms => "sms",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Email => "电子邮件",
            Channel::Webhook => "工作群机器人或本单位系统",
            Channel::Sms => "短信",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// What is worth telling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A referral or clue arrived (an urgent clue is told at once, marked 紧急).
    NewReferral,
    /// A deadline the member owes falls due: the working day before, and again the
    /// morning of the day while it is still open.
    DueSoon,
    /// A deadline passed unmet: told to the member that owes it and to the office.
    Missed,
    /// The office's 催办.
    Chased,
    /// The office's 督办函; told as the member chose for 催办, not chosen apart.
    Supervised,
    /// A referral the member sent was returned.
    Returned,
    /// A referral the member received was withdrawn.
    Withdrawn,
    /// The feedback on a referral the member sent.
    FedBack,
    /// The recipient of a referral the member sent asks for more materials.
    MaterialsAsked,
    /// The office answered the member's request to extend a deadline.
    ExtensionDecided,
    /// For the office: a member asks to extend a deadline.
    ExtensionAsked,
}

impl Event {
    /// The events a member chooses among.
    pub const ALL: [Event; 9] = [
        Event::NewReferral,
        Event::DueSoon,
        Event::Missed,
        Event::Chased,
        Event::Returned,
        Event::Withdrawn,
        Event::FedBack,
        Event::MaterialsAsked,
        Event::ExtensionDecided,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Event::NewReferral => "new_referral",
            Event::DueSoon => "due_soon",
            Event::Missed => "missed",
            Event::Chased => "chased",
            Event::Supervised => "supervised",
            Event::Returned => "returned",
            Event::Withdrawn => "withdrawn",
            Event::FedBack => "fed_back",
            Event::MaterialsAsked => "materials_asked",
            Event::ExtensionDecided => "extension_decided",
            Event::ExtensionAsked => "extension_asked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Event::NewReferral => "新的移送或线索",
            Event::DueSoon => "期限将至",
            Event::Missed => "期限逾期",
            Event::Chased => "催办、督办",
            Event::Supervised => "督办",
            Event::Returned => "移送被退回",
            Event::Withdrawn => "移送被撤回",
            Event::FedBack => "收到办理结果反馈",
            Event::MaterialsAsked => "对方请求补充材料",
            Event::ExtensionDecided => "延期申请的答复",
            Event::ExtensionAsked => "成员单位申请延期",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().chain([Event::Supervised, Event::ExtensionAsked]).find(|e| e.code() == code)
    }

    /// The event a member chooses to hear of it by: 督办 goes as 催办 does.
    fn chosen_as(self) -> Event {
        match self {
            Event::Supervised => Event::Chased,
            event => event,
        }
    }
}

/// The format of a webhook's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// The hub's own JSON, signed (HMAC-SHA256) for the county's systems.
    #[default]
    Json,
    /// A 钉钉 group robot's text message.
    Dingtalk,
    /// A 企业微信 (or 政务微信) group robot's text message.
    Wecom,
}

impl WebhookFormat {
    pub const ALL: [WebhookFormat; 3] = [WebhookFormat::Json, WebhookFormat::Dingtalk, WebhookFormat::Wecom];

    pub fn code(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Dingtalk => "dingtalk",
            WebhookFormat::Wecom => "wecom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WebhookFormat::Json => "本单位系统（JSON，HMAC-SHA256 签名）",
            WebhookFormat::Dingtalk => "钉钉群机器人",
            WebhookFormat::Wecom => "企业微信或政务微信群机器人",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// A member's choice: by which channels, of which events, and its webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Notify {
    pub channels: Vec<Channel>,
    pub events: Vec<Event>,
    /// The webhook's address; empty for none.
    pub webhook_url: String,
    pub webhook_format: WebhookFormat,
}

/// Every event, by e-mail to the liaison.
impl Default for Notify {
    fn default() -> Self {
        Self {
            channels: vec![Channel::Email],
            events: Event::ALL.to_vec(),
            webhook_url: String::new(),
            webhook_format: WebhookFormat::Json,
        }
    }
}

const MAX_URL: usize = 512;

impl Notify {
    /// A choice as typed: channel and event codes, the webhook's address and format.
    pub fn parse(
        channels: &[&str],
        events: &[&str],
        webhook_url: &str,
        webhook_format: &str,
    ) -> Result<Self, DomainError> {
        let mut v = Violations::default();
        let mut pick = |field: &str, codes: &[&str], choices: &'static str, parse: &dyn Fn(&str) -> bool| {
            for (i, code) in codes.iter().enumerate() {
                if !parse(code) {
                    v.add(format!("{field}[{i}]"), Rule::OneOf { choices });
                }
            }
        };
        pick("notify.channels", channels, "email, webhook, sms", &|c| Channel::from_code(c).is_some());
        pick("notify.events", events, "new_referral, due_soon, missed, chased, returned, withdrawn, fed_back", &|e| {
            Event::from_code(e).is_some()
        });
        let mut channels: Vec<Channel> = channels.iter().filter_map(|c| Channel::from_code(c)).collect();
        channels.sort();
        channels.dedup();
        let mut events: Vec<Event> = events.iter().filter_map(|e| Event::from_code(e)).collect();
        events.sort();
        events.dedup();
        let webhook_url = webhook_url.trim();
        let url_ok = webhook_url.is_empty()
            || ((webhook_url.starts_with("http://") || webhook_url.starts_with("https://"))
                && webhook_url.len() <= MAX_URL
                && !webhook_url.chars().any(char::is_whitespace));
        if !url_ok {
            v.add("notify.webhook_url", Rule::WebhookUrl);
        } else if webhook_url.is_empty() && channels.contains(&Channel::Webhook) {
            v.add("notify.webhook_url", Rule::WebhookNeedsUrl);
        }
        let format = WebhookFormat::from_code(webhook_format.trim());
        if format.is_none() {
            v.add("notify.webhook_format", Rule::OneOf { choices: "json, dingtalk, wecom" });
        }
        v.finish(|| Notify {
            channels,
            events,
            webhook_url: webhook_url.to_owned(),
            webhook_format: format.unwrap_or_default(),
        })
    }

    /// Whether `event` goes out by `channel`.
    pub fn tells(&self, event: Event, channel: Channel) -> bool {
        self.events.contains(&event.chosen_as()) && self.channels.contains(&channel)
    }

    /// The choice as `caller` may read it of `member`: the webhook's address (which
    /// may hold a robot's token) whole for the member itself, the office and an
    /// administrator; to others only its scheme and host.
    pub fn as_seen_by(&self, caller: &Caller, member: &MemberCode) -> Notify {
        if matches!(caller.role, Role::Office | Role::Admin) || &caller.code == member {
            return self.clone();
        }
        let host = |url: &str| {
            let (scheme, rest) = url.split_once("://")?;
            let host = rest.split(['/', '?', '#']).next()?;
            Some(format!("{scheme}://{host}/…"))
        };
        Notify { webhook_url: host(&self.webhook_url).unwrap_or_default(), ..self.clone() }
    }

    /// The choice in words, as the directory announces it.
    pub fn describe(&self) -> String {
        let channels: Vec<&str> = self.channels.iter().map(|c| c.label()).collect();
        let events: Vec<&str> = self.events.iter().map(|e| e.label()).collect();
        let or_none = |list: Vec<&str>| if list.is_empty() { "无".to_owned() } else { list.join("、") };
        format!("通知方式 {}；通知事项 {}", or_none(channels), or_none(events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_is_checked_field_by_field() {
        let ok = Notify::parse(&["sms", "email", "email"], &["missed"], "", "json").unwrap();
        assert_eq!(ok.channels, vec![Channel::Email, Channel::Sms]);
        assert!(ok.tells(Event::Missed, Channel::Sms) && !ok.tells(Event::NewReferral, Channel::Email));
        let DomainError::Invalid(v) = Notify::parse(&["fax"], &["x"], "ftp://a", "xml").unwrap_err() else {
            panic!("refused as invalid")
        };
        let fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["notify.channels[0]", "notify.events[0]", "notify.webhook_url", "notify.webhook_format"]);
        let DomainError::Invalid(v) = Notify::parse(&["webhook"], &[], "", "json").unwrap_err() else {
            panic!("refused as invalid")
        };
        assert_eq!(v[0].rule, Rule::WebhookNeedsUrl);
    }
}
