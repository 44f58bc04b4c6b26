//! What the workbench answers when it cannot do what was asked: a page in Chinese with
//! the right status, naming the rule, never the data.

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};

use crate::{
    app::AppError,
    domain::{DomainError, FieldViolation},
};

/// Why a browser is not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No certificate at all.
    NoCertificate,
    /// A certificate of another authority, or one that cannot be read.
    NotOurs,
    Revoked,
    Expired,
    /// A certificate of a member that is suspended or no longer in the directory.
    NotMember,
    /// A unit's system certificate, which is for its case system, not for a person.
    SystemCertificate,
}

impl Refusal {
    fn what(self) -> &'static str {
        match self {
            Refusal::NoCertificate => "浏览器没有出示数字证书",
            Refusal::NotOurs => "浏览器出示的证书不是本联席会议签发的",
            Refusal::Revoked => "您的证书已被吊销",
            Refusal::Expired => "您的证书已过期",
            Refusal::NotMember => "证书所属单位已暂停或不在联席会议成员名单中",
            Refusal::SystemCertificate => "这是单位的系统证书，供本单位的业务系统接入，不能登录工作台",
        }
    }

    fn todo(self) -> &'static str {
        match self {
            Refusal::NoCertificate | Refusal::NotOurs => {
                "请将本单位的工作台证书（.p12 文件）导入浏览器，关闭所有浏览器窗口后重新打开本页面，并在弹出的窗口中选择该证书。"
            }
            Refusal::Revoked | Refusal::Expired => "请向系统管理员申请新的证书，导入浏览器后重新打开本页面。",
            Refusal::NotMember => "请联系联席会议办公室确认本单位的成员状态。",
            Refusal::SystemCertificate => {
                "请向系统管理员申请您本人的经办人证书和初始登录密码，导入浏览器后重新打开本页面，并选择该证书。"
            }
        }
    }
}

#[derive(Template)]
#[template(path = "refused.html")]
struct Refused {
    what: &'static str,
    todo: &'static str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    detail: String,
}

/// What went wrong with a request of the workbench.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// A post without the form token, or from another site.
    #[error("a form without a valid token or from another origin")]
    Forged,
    #[error("the form is too large")]
    TooLarge,
    /// A form with files that is not `multipart/form-data` as browsers write it.
    #[error("a form that cannot be read")]
    Malformed,
    #[error("page not found")]
    NotFound,
    /// No open session: the clerk signs in first.
    #[error("not signed in")]
    SignIn,
    /// A password set by the administrator, to be changed before anything else.
    #[error("the password must be changed")]
    MustChange,
    #[error(transparent)]
    App(#[from] AppError),
    #[error("rendering a page: {0}")]
    Render(#[from] askama::Error),
}

/// A field's violation as a person reads it: the field's Chinese name, then the rule.
pub fn violation_text(v: &FieldViolation) -> String {
    let field = super::words::chosen_file(&v.field).unwrap_or_else(|| super::words::field(&v.field).to_owned());
    format!("{field}：{}", v.rule.chinese())
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match &self {
            WebError::Refused(refusal) => {
                let page = Refused { what: refusal.what(), todo: refusal.todo() };
                let body = page.render().unwrap_or_else(|_| refusal.what().to_owned());
                let status = match refusal {
                    Refusal::NoCertificate | Refusal::NotOurs | Refusal::Expired => StatusCode::UNAUTHORIZED,
                    Refusal::Revoked | Refusal::NotMember | Refusal::SystemCertificate => StatusCode::FORBIDDEN,
                };
                return (status, Html(body)).into_response();
            }
            WebError::Forged => (
                StatusCode::FORBIDDEN,
                "表单已失效",
                "这份表单不是从本工作台的页面提交的，或页面已过期（例如更换证书之后）。请返回，刷新页面后重新提交。"
                    .to_owned(),
            ),
            WebError::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "内容过大", "提交的内容超过了允许的大小。".to_owned())
            }
            WebError::Malformed => (
                StatusCode::BAD_REQUEST,
                "表单无法读取",
                "提交的表单格式不正确。请返回，刷新页面后重新提交。".to_owned(),
            ),
            WebError::NotFound => (StatusCode::NOT_FOUND, "未找到", "没有这个页面。".to_owned()),
            WebError::SignIn => return Redirect::to("/sign-in").into_response(),
            WebError::MustChange => return Redirect::to("/password").into_response(),
            WebError::Render(e) => {
                tracing::error!(error = %e, "rendering a page");
                (StatusCode::INTERNAL_SERVER_ERROR, "系统错误", "页面无法显示，请稍后重试。".to_owned())
            }
            WebError::App(e) => app_error(e),
        };
        let body = ErrorPage { title, detail }.render().unwrap_or_else(|_| title.to_owned());
        (status, Html(body)).into_response()
    }
}

fn app_error(e: &AppError) -> (StatusCode, &'static str, String) {
    match e {
        AppError::NotFound(_) => {
            (StatusCode::NOT_FOUND, "未找到", "没有找到这条记录，或您的单位不是它的当事方。".to_owned())
        }
        AppError::Domain(DomainError::Invalid(violations)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "填写有误",
            violations.iter().take(20).map(violation_text).collect::<Vec<_>>().join("；"),
        ),
        AppError::Domain(DomainError::WrongState { current, .. }) => (
            StatusCode::CONFLICT,
            "当前状态不允许此操作",
            format!("这条移送现在的状态是“{}”，页面可能已过期，请刷新后查看。", super::words::state_code(current)),
        ),
        AppError::Domain(DomainError::Forbidden(_)) | AppError::PermissionDenied(_) => {
            (StatusCode::FORBIDDEN, "无权操作", "您的单位没有进行这项操作的权限。".to_owned())
        }
        AppError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "证书无效", "请重新选择有效的证书。".to_owned()),
        AppError::OpenReferral { recipient, .. } => (
            StatusCode::CONFLICT,
            "已有未办结的移送",
            format!("此人已有一件移送给 {recipient} 的事项尚未办结，请勿重复移送。"),
        ),
        AppError::Exhausted { .. } => (StatusCode::TOO_MANY_REQUESTS, "操作过于频繁", "请稍候片刻再试。".to_owned()),
        AppError::RequestReused(_) | AppError::AnswerNotKept(_) => {
            (StatusCode::CONFLICT, "重复提交", "这份表单已经提交过了。请回到列表查看结果。".to_owned())
        }
        AppError::Unavailable(_) | AppError::Contended => {
            (StatusCode::SERVICE_UNAVAILABLE, "系统繁忙", "请稍后重新提交；同一份表单重复提交不会重复办理。".to_owned())
        }
        AppError::Integrity(_) => {
            tracing::error!(error = %e, "a stored file failed its integrity check");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "文件校验失败",
                "存储的文件未通过完整性校验（可能被篡改或损坏），未下载任何内容。请联系系统管理员。".to_owned(),
            )
        }
        // A page drawn before the hub's database was restored follows numbers from before.
        AppError::BeyondHead { .. } => {
            (StatusCode::CONFLICT, "页面已过期", "系统数据已从备份恢复，请刷新页面。".to_owned())
        }
        AppError::LogBehind { .. }
        | AppError::EpochChanged { .. }
        | AppError::Store(_)
        | AppError::Certificates(_)
        | AppError::Document(_) => {
            tracing::error!(error = %e, "workbench request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "系统错误",
                "请稍后重新提交；同一份表单重复提交不会重复办理。".to_owned(),
            )
        }
    }
}

/// Any path the workbench does not have.
pub async fn not_found() -> WebError {
    WebError::NotFound
}
