//! The rules an input can break, each a value with its wording in English (for API
//! clients and the command line) and in Chinese (for the workbench), side by side in
//! one table: a rule cannot be added without both. The wording never repeats the value
//! that broke the rule, which may be personal data.

use chrono::NaiveDate;

/// Declares [`Rule`] from its table: `Name { field: Type, … } => "English", "中文";`,
/// each wording a format string over the rule's fields, both using every field.
macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident $({ $($field:ident: $ty:ty),+ })? => $english:literal, $chinese:literal;)+) => {
        /// A rule an input broke.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Rule {
            $($(#[$doc])* $name $({ $($field: $ty),+ })?,)+
        }

        impl Rule {
            /// The rule in English, as the API and the command line say it.
            pub fn english(&self) -> String {
                match self {
                    $(Rule::$name $({ $($field),+ })? => format!($english $($(, $field = $field)+)?),)+
                }
            }

            /// The rule in Chinese, as the workbench says it.
            pub fn chinese(&self) -> String {
                match self {
                    $(Rule::$name $({ $($field),+ })? => format!($chinese $($(, $field = $field)+)?),)+
                }
            }

            /// One of each rule, its fields at their defaults.
            #[cfg(test)]
            pub fn every() -> Vec<Rule> {
                vec![$(Rule::$name $({ $($field: Default::default()),+ })?,)+]
            }
        }
    };
}

/// In English: a rule said outside the workbench.
impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl std::error::Error for Rule {}

rules! {
    // Any field.
    Required => "required", "必须填写";
    AtLeastChars { min: usize } => "at least {min} characters", "至少 {min} 个字";
    AtMostChars { max: usize } => "at most {max} characters", "不能超过 {max} 个字";
    TooLong { max: usize, count: usize } => "at most {max} characters, not {count}", "不能超过 {max} 个字（现有 {count} 个字）";
    ControlCharacters => "must not contain control characters", "不能包含控制字符";
    NotADate => "not a date (YYYY-MM-DD)", "应为日期（年-月-日，如 2026-03-05）";
    InTheFuture { today: NaiveDate } => "must not be in the future (today is {today} in China)", "不能晚于今天（{today}）";
    NotAUuid => "not a UUID", "不是有效的编号";
    AtMost { max: usize } => "at most {max}", "不能超过 {max}";
    AtMostEntries { max: usize } => "at most {max} entries", "最多 {max} 项";
    NamedTwice => "named twice", "重复选择";
    NotAKnownValue => "not a known value", "不是可选的项";
    /// A choice among the API's enumerated values, which the workbench offers as a list.
    OneOf { choices: &'static str } => "required: {choices}", "必须从列表中选择（{choices}）";
    NotAYear => "not a year", "不是有效的年份";
    RequestId => "required: 1–64 visible ASCII characters, e.g. a UUID", "应为 1 至 64 个可见 ASCII 字符（如 UUID）";
    PageToken => "not a token from a previous response", "不是上一次查询返回的翻页标记";
    NotADirection => "not a known direction", "不是可选的方向";
    NotAView => "not a known view", "不是可选的视图";
    NotADeadlineKind => "not a deadline kind", "不是期限种类";
    NotAnAct => "not an act of the life cycle", "不是可办理的操作";
    MoreNotListed { rest: usize } => "and {rest} more violations, not listed", "另有 {rest} 处问题未列出";

    // The person.
    IdLength { count: usize } => "must be 18 characters, not {count}", "应为18位（现有 {count} 位）";
    IdDigits => "the first 17 characters must be digits", "前17位应为数字";
    IdBirthDate => "characters 7–14 must be a birth date (YYYYMMDD)", "第7至14位应为有效的出生日期";
    IdBefore1900 => "the birth date must not be before 1900", "出生日期不能早于1900年";
    IdCheckDigit => "the check digit does not match the first 17 digits (GB 11643)", "校验位不正确，请核对号码";
    IdSeventeenDigits => "must be 17 digits", "应为17位数字";
    Phone => "5–20 digits, with optional +, - or spaces", "应为5至20位数字，可含 +、- 或空格";
    Mobile => "11 digits starting with 1", "应为以 1 开头的 11 位手机号码";
    Email => "an e-mail address such as name@example.gov.cn, at most 128 characters", "应为电子邮箱地址，如 name@example.gov.cn，不超过128个字符";
    WebhookUrl => "an http:// or https:// address of at most 512 characters, without spaces", "应为以 http:// 或 https:// 开头、不含空格、不超过512个字符的网址";
    WebhookNeedsUrl => "the webhook channel needs the webhook's address", "选择工作群机器人或本单位系统时须填写其网址";

    // A referral or clue.
    AtLeastOneSituation => "at least one situation (Art. 4) is required", "至少选择一项救助情形";
    AtLeastOneNeed => "at least one need is required", "至少选择一项救助需求";
    AtLeastOneRecipient => "at least one recipient is required", "至少选择一个接收单位";
    AtMostRecipients { max: usize } => "at most {max} recipients", "最多选择 {max} 个接收单位";
    NotAMember => "not a member of the joint meeting", "不是联席会议成员单位";
    WorkingDays { max: u32 } => "from 1 to {max} working days", "应为 1 至 {max} 个工作日";
    NothingOverdue => "has no deadline past its day to supervise", "该单位没有逾期未办的事项，无需督办";
    MemberSuspended { member: String } => "{member} is suspended", "{member}已暂停参加联席会议";
    NotAnAgency => "not a partner agency", "应为成员单位（职能部门）";
    CluesToProcuratorate { procuratorate: String } => "clues go only to the procuratorate ({procuratorate})", "司法救助线索只移送{procuratorate}";
    AdvanceReasonRequired => "required for an advance referral (先行移送, Art. 19 ¶2)", "先行移送须说明理由";
    RequiredUnlessAdvance => "required unless the referral is an advance referral (先行移送)", "除先行移送外必须填写";
    OnlyForAdvance => "only for an advance referral", "仅先行移送需要填写";
    OnlyForClues => "only for judicial-assistance clues", "仅司法救助线索需要填写";
    OnlyCluesUrgent => "only judicial-assistance clues are urgent (Art. 20 ¶2)", "仅司法救助线索可标为紧急";
    DiscoveredOnRequired => "required for a clue: the day the person was found", "线索须填写发现日期";
    OnlyForSocial => "only for social-assistance referrals", "仅社会救助移送需要填写";
    OpenReferral { recipient: String } => "the person has an open referral to {recipient} already", "此人已有一件移送给{recipient}的事项尚未办结";

    // A conclusion or a visit.
    NotNegative => "must not be negative", "不能为负数";
    Yuan => "yuan with at most two decimals, e.g. 1234.50", "以元为单位，最多两位小数（如 1234.50）";
    NotAKindOfAid => "not a kind of aid", "不是可选的救助种类";
    BeforeStart { day: NaiveDate, started: NaiveDate } => "{day} is before the procedure started on {started}", "{day}早于启动程序的日期（{started}）";
    GroundsRequired => "a refused clue names at least one ground of Art. 6", "不予救助的线索须至少选择一项不予救助的情形（第六条）";
    GroundsOnlyRefusedClue => "only for a judicial-assistance clue concluded as not granted", "仅司法救助线索不予救助时选择";
    AidOnlyWhenGranted => "only when aid was granted", "不予救助时不选救助种类";
    AidRequired => "required when aid was granted: at least one kind of aid", "予以救助或部分救助时至少选择一种救助";
    AidTwice => "each kind of aid at most once", "每种救助只填一次";
    BeforeConclusion { concluded: NaiveDate } => "must not be before the conclusion ({concluded})", "不能早于办结日期（{concluded}）";

    // A period of the records.
    PeriodEither => "either a year (with a quarter or a month) or two dates", "请选择年度（可加季度或月份），或填写起止日期";
    PeriodEnd => "must not be before period.from", "不能早于起始日期";
    EndBeforeStart => "must not be before the first day", "不能早于起始日期";
    PeriodSpan { max: u32 } => "a period spans at most {max} years", "统计期间不能超过 {max} 年";
    PeriodYear => "required: a year from 2000 to 2100, or two dates", "请选择 2000 至 2100 年间的年度，或填写起止日期";
    Month => "a month from 1 to 12", "月份应为 1 至 12";
    QuarterOrMonth => "a quarter or a month, not both", "季度和月份只能选一项";
    Quarter => "a quarter from 1 to 4", "季度应为 1 至 4";
    NoSuchYear => "no such year", "没有这一年";

    // Files.
    FileNameRequired => "a file name is required", "文件缺少名称";
    InvisibleCharacters => "invisible characters (bidirectional overrides and isolates, zero-width characters) are not allowed", "文件名不能包含不可见字符（双向文字控制符、零宽字符等），请重命名后再选";
    NotYourFile => "not a file you uploaded", "不是本单位上传的文件";
    AttachedAlready => "the file is attached already", "该文件已经附上";
    TooManyFiles { max: usize } => "a referral carries at most {max} files", "一件移送最多附 {max} 个文件";
    TooManyBytes { mib: u64 } => "a referral carries at most {mib} MiB of files", "一件移送的材料合计不能超过 {mib} MB";
    FormTooLarge { mib: u64 } => "the files of one form are at most {mib} MiB together", "一次提交的文件合计不能超过 {mib} MB";
    FileTooLarge { mib: u64 } => "a file is at most {mib} MiB", "单个文件不能超过 {mib} MB";
    EmptyFile => "the file is empty", "文件是空的";
    NotAcceptedFile => "not a PDF, OFD, JPEG, PNG, DOCX or XLSX file (judged by its content, not its name)", "不是 PDF、OFD、JPG、PNG、DOCX 或 XLSX 文件（按文件内容判断，与文件名无关）";
    MoreBytesThanHeader => "more bytes than the header's size", "文件比声明的大小多";
    CutShort => "the upload was cut short: fewer bytes than the header's size", "文件未能完整上传，请重新选择";
    NotReadToEnd => "the file could not be read to its end", "文件未能完整上传，请重新选择";
    NoSuchUpload => "no such file was uploaded", "没有这个已上传的文件";
    NotAFileId => "not the id of a file", "不是已上传的文件";
    FilesWithActs => "files come with a submit or a comment", "材料只能随移送或补充材料一并提交";
    HeaderFirst => "the first message names the file", "第一条消息应说明文件";
    OneHeader => "only the first message is a header", "只有第一条消息说明文件";

    // Sign-in, certificates and clerks.
    PasswordLength { min: usize, max: usize } => "from {min} to {max} characters", "应为 {min} 至 {max} 位";
    PasswordMixed => "not only digits or only letters", "不能全是数字或全是字母";
    PasswordSame => "not the password it replaces", "不能与原密码相同";
    NotCurrentPassword => "not the current password", "与当前密码不符";
    PasswordsDiffer => "the new password typed twice differs", "两次输入的新密码不一致";
    Holder => "a clerk, as unit.clerk (mz.wangfang)", "应为经办人，写作 单位代码.经办人代码（如 mz.wangfang）";
    ClerkCode { max: usize } => "a clerk's code is a lower-case letter, then letters and digits, at most {max} (e.g. wangfang)", "经办人代码应以小写字母开头，只含小写字母和数字，最多 {max} 位（如 wangfang）";
    ClerkName { max: usize } => "a clerk's name has 1 to {max} characters", "经办人姓名应为 1 至 {max} 个字";

    // The directory.
    MemberCode => "not a member code (1–16 lowercase letters or digits, starting with a letter)", "应为 1 至 16 位小写字母或数字，以字母开头";
    ReservedCode => "reserved for a role, not a member", "该代码保留给系统角色";
    AlreadyMember => "already a member of the joint meeting", "该代码已有成员单位使用";
    ProcuratorateStays => "the procuratorate cannot be suspended: every clue goes to it", "检察院不能暂停：所有线索都移送检察院";
    NotSuspended => "is not suspended", "未处于暂停状态";
    SuspendedAlready => "is suspended already", "已处于暂停状态";

    // The calendar and the audit log.
    ScheduleTooLarge { max: usize } => "at most {max} bytes", "文件不能超过 {max} 字节";
    /// A holiday notice that does not read: what is wrong with it, in the notice's terms.
    Schedule { problem: String } => "{problem}", "节假日安排有误：{problem}";
    OneYearPerLoad { count: usize } => "one year per load, not {count}", "每次只能载入一年的安排（文件中有 {count} 年）";
    TwentyYears => "at most twenty years from `from`", "不能超过起始日期后二十年";
    CheckpointCovers => "a kept checkpoint covers at least one entry and no more than the log", "检查点应至少覆盖一条记录，且不超出日志";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_worded_in_chinese_and_in_english() {
        for rule in Rule::every() {
            let (english, chinese) = (rule.english(), rule.chinese());
            let han = |text: &str| text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            assert!(han(&chinese), "{rule:?} has no Chinese wording: {chinese}");
            assert_ne!(english, chinese, "{rule:?}");
            if !matches!(rule, Rule::Schedule { .. }) {
                assert!(english.chars().any(|c| c.is_ascii_alphabetic()), "{rule:?} has no English wording: {english}");
            }
        }
    }

    #[test]
    fn a_rule_says_its_numbers_in_both_languages() {
        let rule = Rule::TooLong { max: 200, count: 250 };
        assert_eq!(rule.english(), "at most 200 characters, not 250");
        assert_eq!(rule.chinese(), "不能超过 200 个字（现有 250 个字）");
        assert_eq!(Rule::FileTooLarge { mib: 20 }.chinese(), "单个文件不能超过 20 MB");
    }
}
