//! The workbench's Chinese words for what the hub names in codes.

use crate::domain::{history::EntryKind, lifecycle::NoticeKind, referral::State};

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
        "conclusion.amount_fen" => "救助金额",
        "conclusion.aid" => "救助种类",
        "feedback" => "反馈意见",
        "reason" => "理由",
        "text" => "补充说明",
        "note" => "催办说明",
        "password" => "证书密码",
        "clerk" => "经办人代码",
        "initial_password" => "初始登录密码",
        "current_password" => "当前密码",
        "new_password" => "新密码",
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
        _ => "填写内容",
    }
}

/// A rule of the hub (said in English to API clients) as the form says it; a rule
/// with no Chinese words yet is shown as the hub said it.
pub fn rule(description: &str) -> String {
    if let Some(said) = limit(description) {
        return said;
    }
    // The first rule a description starts with: the specific before the general.
    const RULES: [(&str, &str); 50] = [
        ("required: a year from 2000 to 2100", "请选择年度，或填写起止日期"),
        ("required when aid was granted", "予以救助或部分救助时必须选择救助种类"),
        ("must not be before period.from", "不能早于起始日期"),
        ("either a year", "请选择年度（可加季度或月份），或填写起止日期"),
        ("a quarter or a month, not both", "季度和月份只能选一项"),
        ("a period spans at most", "统计期间不能超过十年"),
        ("required unless", "除先行移送外必须填写"),
        ("required for an advance referral", "先行移送须说明理由"),
        ("only for an advance referral", "仅先行移送需要填写"),
        ("required", "必须填写"),
        ("must be 18 characters", "应为18位"),
        ("the first 17 characters must be digits", "前17位应为数字"),
        ("characters 7–14 must be a birth date", "第7至14位应为有效的出生日期"),
        ("the birth date must not be before 1900", "出生日期不能早于1900年"),
        ("the check digit does not match", "校验位不正确，请核对号码"),
        ("5–20 digits", "应为5至20位数字，可含 +、- 或空格"),
        ("at most", "超出长度限制"),
        ("must not contain control characters", "不能包含控制字符"),
        ("not a date", "应为日期（年-月-日）"),
        ("must not be in the future", "不能晚于今天"),
        ("at least one", "至少选择一项"),
        ("not a partner agency", "应为成员单位（职能部门）"),
        (
            "not a PDF, OFD, JPEG, PNG, DOCX or XLSX file",
            "不是 PDF、OFD、JPG、PNG、DOCX 或 XLSX 文件（按文件内容判断，与文件名无关）",
        ),
        ("the file is empty", "文件是空的"),
        ("the file could not be read to its end", "文件未能完整上传，请重新选择"),
        ("not a file you uploaded", "不是本单位上传的文件"),
        ("yuan with at most two decimals", "以元为单位，最多两位小数"),
        ("only when aid was granted", "不予救助时不选救助种类"),
        ("the file is attached already", "该文件已经附上"),
        ("no such file was uploaded", "没有这个已上传的文件"),
        ("not the id of a file", "不是已上传的文件"),
        ("a file name is required", "文件缺少名称"),
        ("control characters are not allowed", "不能包含控制字符"),
        (
            "a clerk's code is a lower-case letter",
            "经办人代码应以小写字母开头，只含小写字母和数字，最多 32 位（如 wangfang）",
        ),
        ("a clerk's name has", "经办人姓名应为 1 至 32 个字"),
        ("from 10 to 128 characters", "应为 10 至 128 位"),
        ("not only digits or only letters", "不能全是数字或全是字母"),
        ("not the password it replaces", "不能与原密码相同"),
        ("not the current password", "与当前密码不符"),
        ("a clerk, as unit.clerk", "应为经办人，写作 单位代码.经办人代码（如 mz.wangfang）"),
        ("invisible characters", "文件名不能包含不可见字符（双向文字控制符、零宽字符等），请重命名后再选"),
        ("11 digits starting with 1", "应为以 1 开头的 11 位手机号码"),
        ("must not be before the conclusion", "不能早于办结日期"),
        ("already a member", "该代码已有成员单位使用"),
        ("not a member of the joint meeting", "不是联席会议成员单位"),
        ("is suspended already", "已处于暂停状态"),
        ("is not suspended", "未处于暂停状态"),
        ("the procuratorate cannot be suspended", "检察院不能暂停：所有线索都移送检察院"),
        ("reserved for a role", "该代码保留给系统角色"),
        ("not a member code", "应为 1 至 16 位小写字母或数字，以字母开头"),
    ];
    RULES
        .iter()
        .find(|(english, _)| description.starts_with(english))
        .map_or_else(|| description.to_owned(), |(_, chinese)| (*chinese).to_owned())
}

/// A rule of the materials' limits, with its number.
fn limit(description: &str) -> Option<String> {
    let n: String = description.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    if description.starts_with("a file is at most") {
        Some(format!("单个文件不能超过 {n} MB"))
    } else if description.ends_with("MiB of files") || description.starts_with("the files of one form") {
        Some(format!("一件移送的材料合计不能超过 {n} MB"))
    } else if description.starts_with("a referral carries at most") {
        Some(format!("一件移送最多附 {n} 个文件"))
    } else {
        None
    }
}

/// The file a violation of `files[i]` names, as a person counts them: 所选第 2 个文件.
pub fn chosen_file(api: &str) -> Option<String> {
    let place: usize = api.strip_prefix("files[")?.strip_suffix(']')?.parse().ok()?;
    Some(format!("所选第 {} 个文件", place + 1))
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
        EntryKind::Visited => "回访",
    }
}

pub fn notice(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::NewReferral => "新移送",
        NoticeKind::StateChanged => "状态变化",
        NoticeKind::Feedback => "反馈",
        NoticeKind::Comment => "补充材料",
        NoticeKind::Withdrawn => "撤回",
        NoticeKind::DueSoon => "即将到期",
        NoticeKind::DeadlineMissed => "已超期",
        NoticeKind::Reminder => "催办",
        NoticeKind::DeadlineMoved => "期限调整",
        NoticeKind::AuditCheckpoint => "审计检查点",
        NoticeKind::DirectoryChanged => "成员单位变更",
        NoticeKind::Visited => "回访",
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
        "visit" => "回访已记录。",
        "marked" => "已标记为重点救助对象。",
        "unmarked" => "已取消重点救助对象标记。",
        "reroute" => "已改送其他单位。",
        "submitted" => "已移送。",
        "reminded" => "催办已发送。",
        "corrected" => "更正函已印发，原函保留。",
        _ => "已完成。",
    }
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

    #[test]
    fn the_limits_of_files_are_said_with_their_numbers() {
        assert_eq!(rule("a file is at most 20 MiB"), "单个文件不能超过 20 MB");
        assert_eq!(rule("a referral carries at most 100 MiB of files"), "一件移送的材料合计不能超过 100 MB");
        assert_eq!(rule("a referral carries at most 30 files"), "一件移送最多附 30 个文件");
        assert_eq!(rule("the file is empty"), "文件是空的");
        assert_eq!(rule("required when aid was granted: the kind of aid"), "予以救助或部分救助时必须选择救助种类");
        assert_eq!(rule("required"), "必须填写");
    }
}
