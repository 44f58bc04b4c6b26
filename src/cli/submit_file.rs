//! The file a member fills in to submit a referral or clue (TOML or JSON, by extension),
//! with vocabulary given by code: `needs = ["subsistence_allowance", "legal_aid"]`.

use serde::Deserialize;

use crate::{
    domain::{
        referral::ReferralKind,
        vocabulary::{Need, PriorityGroup, Situation},
    },
    proto as pb,
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitFile {
    /// `social_assistance` or `judicial_clue`.
    pub kind: String,
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub case_id: Option<String>,
    pub person: PersonFile,
    #[serde(default)]
    pub situations: Vec<String>,
    #[serde(default)]
    pub priority_groups: Vec<String>,
    #[serde(default)]
    pub needs: Vec<String>,
    pub narrative: String,
    #[serde(default)]
    pub case_reference: String,
    #[serde(default)]
    pub investigation_ended_on: String,
    #[serde(default)]
    pub advance: bool,
    #[serde(default)]
    pub advance_reason: String,
    #[serde(default)]
    pub discovered_on: String,
    #[serde(default)]
    pub urgent: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonFile {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub household: String,
}

fn numbers<T: Copy>(
    field: &str,
    codes: &[String],
    from_code: fn(&str) -> Option<T>,
    number: fn(T) -> i32,
) -> anyhow::Result<Vec<i32>> {
    codes
        .iter()
        .map(|c| from_code(c).map(number).ok_or_else(|| anyhow::anyhow!("{field}: {c:?} is not a known code")))
        .collect()
}

impl SubmitFile {
    pub fn parse(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        } else {
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        };
        Ok(parsed)
    }

    pub fn draft(&self) -> anyhow::Result<pb::ReferralDraft> {
        let kind = ReferralKind::from_code(&self.kind)
            .ok_or_else(|| anyhow::anyhow!("kind: {:?} is not social_assistance or judicial_clue", self.kind))?;
        Ok(pb::ReferralDraft {
            kind: kind as i32,
            person: Some(pb::Person {
                name: self.person.name.clone(),
                id_number: self.person.id_number.clone(),
                phone: self.person.phone.clone(),
                address: self.person.address.clone(),
                household: self.person.household.clone(),
            }),
            situations: numbers("situations", &self.situations, Situation::from_code, Situation::number)?,
            priority_groups: numbers(
                "priority_groups",
                &self.priority_groups,
                PriorityGroup::from_code,
                PriorityGroup::number,
            )?,
            needs: numbers("needs", &self.needs, Need::from_code, Need::number)?,
            narrative: self.narrative.clone(),
            case_reference: self.case_reference.clone(),
            investigation_ended_on: self.investigation_ended_on.clone(),
            advance: self.advance,
            advance_reason: self.advance_reason.clone(),
            discovered_on: self.discovered_on.clone(),
            urgent: self.urgent,
        })
    }
}
