//! The workbench's Chinese words for what the hub names in codes.

use crate::domain::{history::EntryKind, referral::State, vocabulary::AidKind};

/// A field of the API (`draft.person.id_number`, `recipients[1]`) as the form labels it.
pub fn field(api: &str) -> &'static str {
    match form_field(api).as_str() {
        "person.name" => "姓名",
        "person.id_number" => "公民身份号码",
        "person.phone" => "联系电话",
        "person.address" => "住址",
        "person.household" => "家庭情况",
        "situations" => "救助情形",
        "priority_groups" => "重点群体",
        "needs" => "救助需求",
        "narrative" => "基本案情",
        "case_reference" => "案号",
        "investigation_ended_on" => "调查核实结束日期",
        "advance_reason" => "先行移送理由",
        "discovered_on" => "发现日期",
        "recipients" => "接收单位",
        "conclusion.outcome" => "办结结果",
        "conclusion.concluded_on" => "办结日期",
        "conclusion.summary" => "办理情况",
        "conclusion.aids" => "救助种类及金额",
        "feedback" => "反馈意见",
        "reason" => "理由",
        "text" => "补充说明",
        "note" => "说明",
        "days" => "延长工作日",
        "answer" => "答复",
        "search" => "姓名、公民身份号码或案号",
        "due_from" => "到期日（从）",
        "due_to" => "到期日（至）",
        "submitted_from" => "移送日期（从）",
        "submitted_to" => "移送日期（至）",
        "password" => "证书密码",
        "clerk" => "经办人代码",
        "initial_password" => "初始登录密码",
        "current_password" => "当前密码",
        "new_password" => "新密码",
        "new_password_again" => "再次输入新密码",
        "holder" => "经办人",
        "clerk_name" => "经办人姓名",
        "schedule" => "节假日安排",
        "source" => "来源",
        "attachments" => "材料",
        "period" => "统计期间",
        "period.year" => "年度",
        "period.quarter" => "季度",
        "period.month" => "月份",
        "period.from" => "起始日期",
        "period.to" => "截止日期",
        "files" => "所选文件",
        "visit.visited_on" => "回访日期",
        "visit.method" => "回访方式",
        "visit.visitor" => "回访人",
        "visit.findings" => "回访情况",
        "visit.effect" => "救助效果",
        "member.code" => "单位代码",
        "member.name" => "单位名称",
        "member.short_name" => "简称",
        "member.articles" => "职责依据",
        "contacts.leader" => "分管领导",
        "contacts.department" => "内设机构",
        "contacts.liaison" => "联络员",
        "contacts.office_phone" => "办公电话",
        "contacts.mobile" => "手机",
        "contacts.email" => "电子邮箱",
        "notify.webhook_url" => "工作群机器人或本单位系统的网址",
        "notify.webhook_format" => "格式",
        f if f.starts_with("notify.channels[") => "通知渠道",
        f if f.starts_with("notify.events[") => "通知事项",
        _ => "填写内容",
    }
}

/// The file a violation of `files[i]` names, as a person counts them: 所选第 2 个文件.
pub fn chosen_file(api: &str) -> Option<String> {
    let place: usize = api.strip_prefix("files[")?.strip_suffix(']')?.parse().ok()?;
    Some(format!("所选第 {} 个文件", place + 1))
}

/// The amount a violation of `conclusion.aids[subsistence]` names, as the 办结 form
/// labels it: 纳入低保金额.
pub fn aid_amount(api: &str) -> Option<String> {
    let code = api.strip_prefix("conclusion.aids[")?.strip_suffix(']')?;
    Some(format!("{}金额", AidKind::from_code(code)?.label()))
}

/// The form's name of an API field: without `draft.` and without an index.
pub fn form_field(api: &str) -> String {
    let name = api.strip_prefix("draft.").unwrap_or(api);
    match name.find('[') {
        Some(at) => name[..at].to_owned(),
        None => name.to_owned(),
    }
}

/// A state's label from its code, as errors name it.
pub fn state_code(code: &str) -> &'static str {
    State::from_code(code).map_or("未知", State::label)
}

pub fn entry(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Submitted => "移送",
        EntryKind::Received => "签收",
        EntryKind::Started => "启动程序",
        EntryKind::Concluded => "办结",
        EntryKind::FedBack => "反馈",
        EntryKind::Returned => "退回",
        EntryKind::Withdrawn => "撤回",
        EntryKind::Commented => "补充材料",
        EntryKind::MaterialsAsked => "请求补充材料",
        EntryKind::Visited => "回访",
    }
}

/// An act's button, by [`crate::domain::lifecycle::Action::name`].
pub fn act(name: &str) -> &'static str {
    match name {
        "receive" => "签收",
        "start" => "启动程序",
        "conclude" => "办结",
        "feedback" => "反馈",
        "return" => "退回",
        "withdraw" => "撤回",
        "comment" => "补充材料",
        "ask_materials" => "请求补充材料",
        "visit" => "回访",
        _ => "操作",
    }
}

/// What the page says once an act is done.
pub fn done(name: &str) -> &'static str {
    match name {
        "receive" => "已签收。",
        "start" => "已启动程序。",
        "conclude" => "已办结。",
        "feedback" => "已反馈。",
        "return" => "已退回。",
        "withdraw" => "已撤回。",
        "comment" => "补充材料已发送。",
        "ask_materials" => "已请求对方补充材料。",
        "extension_asked" => "延期申请已提交联席会议办公室。",
        "extension_granted" => "已同意延期。",
        "extension_refused" => "已答复不同意延期。",
        "pause_allowed" => "已允许再次暂停计时。",
        "visit" => "回访已记录。",
        "marked" => "已标记为重点救助对象。",
        "unmarked" => "已取消重点救助对象标记。",
        "reroute" => "已改送其他单位。",
        "submitted" => "已移送。",
        "reminded" => "催办已发送。",
        "supervised" => "督办函已发出，可在总览页下载。",
        "corrected" => "更正函已印发，原函保留。",
        _ => "已完成。",
    }
}

/// A request to extend and its answer, in a line: 「民政 11月10日申请延长启动期限 3 个工作日（原
/// 11月13日到期）：等待户籍材料 — 已同意，延期 3 个工作日，至 2026-11-18」.
pub fn extension(e: &crate::domain::extension::Extension, member: &str) -> String {
    use crate::domain::{date::local_date, date::month_day, extension::ExtensionState};
    let mut line = format!(
        "{member} {}申请延长{} {} 个工作日（原 {} 到期）：{} — {}",
        month_day(local_date(e.asked_at)),
        e.kind.label(),
        e.days,
        e.due_before,
        e.reason,
        e.state.label()
    );
    if let (ExtensionState::Granted, Some(to)) = (e.state, e.due_after) {
        line.push_str(&format!("，延期 {} 个工作日，至 {to}", e.granted_days));
    }
    if !e.answer.is_empty() {
        line.push_str(&format!("（{}）", e.answer));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_fields_are_named_as_the_form_labels_them() {
        assert_eq!(field("draft.person.id_number"), "公民身份号码");
        assert_eq!(field("recipients[3]"), "接收单位");
        assert_eq!(field("draft.needs[0]"), "救助需求");
        assert_eq!(form_field("draft.person.id_number"), "person.id_number");
        assert_eq!(field("attachments[2]"), "材料");
        assert_eq!(chosen_file("files[1]").as_deref(), Some("所选第 2 个文件"));
        assert_eq!(chosen_file("attachments[1]"), None);
    }
}
