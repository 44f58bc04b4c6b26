//! The eligibility vocabulary (Art. 4–6) and the needs the agencies serve (Art. 9–18).
//!
//! Each term has a stable number (the same on the wire), a code for files and the
//! command line, and its Chinese name for people.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $number:literal, $code:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant = $number,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable number of the term, as on the wire.
            pub fn number(self) -> i32 {
                self as i32
            }

            pub fn from_number(number: i32) -> Option<Self> {
                match number {
                    $($number => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The code used in files and on the command line.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|term| term.code() == code)
            }

            /// The Chinese name.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }
    };
}

vocabulary! {
    /// 救助情形 (Art. 4).
    Situation {
        SeriousInjury = 1, "serious_injury", "受犯罪侵害致重伤或严重残疾";
        LifeThreatening = 2, "life_threatening", "危及生命急需救治";
        BreadwinnerKilled = 3, "breadwinner_killed", "被害人死亡致近亲属生活困难";
        MajorPropertyLoss = 4, "major_property_loss", "财产遭受重大损失";
        Retaliation = 5, "retaliation", "举报人证人鉴定人遭打击报复";
        CivilTort = 6, "civil_tort", "道路交通事故等民事侵权";
        Other = 7, "other", "其他需要救助的情形";
        Petitioner = 8, "petitioner", "涉法涉诉信访人";
    }
}

vocabulary! {
    /// 重点救助对象 (Art. 5). Any of them opens the green channel (绿色通道).
    PriorityGroup {
        AtRiskHousehold = 1, "at_risk_household", "脱贫不稳定户/边缘致贫户/突发严重困难户";
        Veteran = 2, "veteran", "退役军人、军属及其他优抚对象";
        Woman = 3, "woman", "困难妇女";
        Minor = 4, "minor", "未成年人";
        Disabled = 5, "disabled", "残疾人";
        Petitioner = 6, "petitioner", "涉法涉诉信访人";
        OtherHardship = 7, "other_hardship", "其他特殊困难群体";
    }
}

vocabulary! {
    /// 不予救助情形 (Art. 6).
    RefusalGround {
        MajorFault = 1, "major_fault", "对案件发生有重大过错";
        RefusedCooperation = 2, "refused_cooperation", "无正当理由拒绝配合查明案件事实";
        FalseStatement = 3, "false_statement", "故意作虚假陈述或伪造证据";
        WaivedCompensation = 4, "waived_compensation", "放弃民事赔偿请求或拒绝赔偿";
        HardshipNotFromCase = 5, "hardship_not_from_case", "生活困难非案件原因所致";
        AlreadyAssisted = 6, "already_assisted", "已通过社会救助等得到合理补偿";
    }
}

vocabulary! {
    /// 救助需求 — what a person needs; the directory says who serves it.
    Need {
        JudicialAssistance = 1, "judicial_assistance", "国家司法救助金";
        AdvanceAid = 2, "advance_aid", "先行救助";
        StudentAid = 3, "student_aid", "学生资助";
        ReturnToSchool = 4, "return_to_school", "劝返复学";
        SubsistenceAllowance = 5, "subsistence_allowance", "最低生活保障";
        ExtremePovertySupport = 6, "extreme_poverty_support", "特困人员供养";
        NearSubsistence = 7, "near_subsistence", "低保边缘家庭";
        TemporaryAssistance = 8, "temporary_assistance", "临时救助";
        ChildWelfare = 9, "child_welfare", "孤儿及事实无人抚养儿童保障";
        LegalAid = 10, "legal_aid", "法律援助";
        Employment = 11, "employment", "就业服务与就业援助";
        VocationalTraining = 12, "vocational_training", "职业技能培训";
        PovertyPrevention = 13, "poverty_prevention", "防止返贫监测帮扶";
        MedicalTreatment = 14, "medical_treatment", "就医便利";
        MedicalAssistance = 15, "medical_assistance", "医疗救助与医疗保险";
        VeteranSupport = 16, "veteran_support", "退役军人及优抚对象帮扶";
        MinorCare = 17, "minor_care", "未成年人关爱帮扶";
        WomenSupport = 18, "women_support", "妇女关爱帮扶";
        DisabilitySupport = 19, "disability_support", "残疾人培训就业";
        ChildRehabilitation = 20, "child_rehabilitation", "残疾儿童康复救助";
    }
}

vocabulary! {
    /// 办结结果 — how a recipient concluded.
    Outcome {
        Granted = 1, "granted", "予以救助";
        PartiallyGranted = 2, "partially_granted", "部分救助";
        NotGranted = 3, "not_granted", "不予救助";
    }
}

vocabulary! {
    /// 救助种类 — the aid a conclusion granted (Art. 9–18), for the ledgers and the
    /// amounts by kind.
    AidKind {
        JudicialAssistance = 1, "judicial_assistance", "司法救助金";
        Subsistence = 2, "subsistence", "纳入低保";
        Temporary = 3, "temporary", "临时救助";
        Medical = 4, "medical", "医疗救助";
        LegalAid = 5, "legal_aid", "法律援助";
        Employment = 6, "employment", "就业援助";
        Schooling = 7, "schooling", "助学";
        Rehabilitation = 8, "rehabilitation", "康复补助";
        Other = 9, "other", "其他";
    }
}

impl Outcome {
    /// Whether aid was granted, wholly or in part.
    pub fn granted(self) -> bool {
        matches!(self, Outcome::Granted | Outcome::PartiallyGranted)
    }
}

vocabulary! {
    /// 回访方式 — how a follow-up visit was made (Art. 25).
    VisitMethod {
        Phone = 1, "phone", "电话";
        Home = 2, "home", "上门";
        AtUnit = 3, "at_unit", "到单位";
    }
}

vocabulary! {
    /// 救助效果 — what a follow-up visit found the aid did.
    VisitEffect {
        Marked = 1, "marked", "明显改善";
        Some = 2, "some", "有所改善";
        None = 3, "none", "未改善";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_codes_round_trip() {
        for need in Need::ALL {
            assert_eq!(Need::from_number(need.number()), Some(*need));
            assert_eq!(Need::from_code(need.code()), Some(*need));
        }
        assert_eq!(Need::from_number(0), None);
        assert_eq!(Situation::from_number(99), None);
    }
}
