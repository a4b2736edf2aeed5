//! Service plans that license a user for Intune MDM enrollment, as data with their sources.
//!
//! Match by `servicePlanId` in `assignedPlans` (which carries no name) and by `servicePlanName`
//! in `subscribedSkus` / `licenseDetails`. SKU ids are a different namespace: never mix them.

/// How sure we are of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    High,
    Medium,
}

/// One Intune service plan.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ServicePlan {
    pub name: &'static str,
    pub id: &'static str,
    pub description: &'static str,
    /// Bundles (SKU part numbers) the plan is known to ship in.
    pub found_in: &'static [&'static str],
    pub source: &'static str,
    pub confidence: Confidence,
}

/// Where the entries below were checked: 12 service plans carry "INTUNE" in their name there;
/// these five license MDM enrollment. INTUNE_P2 (Intune Plan 2, in Microsoft_Intune_Suite),
/// Intune_Defender, Intune_AdvancedEA, Intune-EPM, Intune-MAMTunnel and Intune_ServiceNow are
/// add-ons on top of Plan 1, not an MDM licence by themselves. Names like INTUNE_A_D,
/// INTUNE_A_D_GOV or INTUNE_A_VL_USGOV_GCCHIGH are SKU part numbers, not plans.
const REF: &str = "Entra licensing service plan reference (entra-docs \
    identity/users/licensing-service-plan-reference.md, updated 2025-10-29)";

/// Plans that grant Intune MDM for a user (Intune Plan 1 and its variants).
pub static INTUNE_MDM_PLANS: &[ServicePlan] = &[
    ServicePlan {
        name: "INTUNE_A",
        id: "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
        description: "Microsoft Intune Plan 1",
        found_in: &[
            "SPE_E3",
            "SPE_E5",
            "SPE_F1",
            "SPB",
            "EMS",
            "EMSPREMIUM",
            "INTUNE_A",
            "M365_G3_GOV",
        ],
        source: REF,
        confidence: Confidence::High,
    },
    ServicePlan {
        name: "INTUNE_A_VL",
        id: "3e170737-c728-4eae-bbb9-3f3360f7184c",
        description: "Microsoft Intune Plan 1 (volume licensing; also the plan of GCC High's \
                      INTUNE_A_VL_USGOV_GCCHIGH SKU)",
        // INTUNE_A_VL_USGOV_GCCHIGH (skuId b4288abe-01be-47d9-ad20-311d6e83fc24) is a SKU, not a
        // plan: the plan it carries is this one.
        found_in: &["INTUNE_A_VL", "INTUNE_A_VL_USGOV_GCCHIGH"],
        source: REF,
        confidence: Confidence::High,
    },
    ServicePlan {
        name: "INTUNE_EDU",
        id: "da24caf9-af8e-485c-b7c8-e73336da2693",
        description: "Intune for Education",
        found_in: &[
            "INTUNE_EDU",
            "M365EDU_A1",
            "M365EDU_A3_FACULTY",
            "M365EDU_A3_STUDENT",
            "M365EDU_A5_FACULTY",
            "EMS_EDU_FACULTY",
        ],
        source: REF,
        confidence: Confidence::High,
    },
    ServicePlan {
        name: "INTUNE_SMBIZ",
        id: "8e9ff0ff-aa7a-4b20-83c1-2f636b600ac2",
        description: "Microsoft Intune (small business)",
        found_in: &["SPB", "INTUNE_SMB"],
        source: REF,
        confidence: Confidence::High,
    },
    ServicePlan {
        name: "INTUNE_A_GOV",
        id: "d216f254-796f-4dab-bbfa-710686e646b9",
        description: "Microsoft Intune Plan 1 for Government",
        found_in: &[
            "INTUNE_A_GOV",
            "MEETING_ROOM_GOV",
            "Microsoft_Teams_Rooms_Pro_GCC",
        ],
        source: REF,
        confidence: Confidence::High,
    },
];

/// Plans that look like Intune but do not license Windows MDM enrollment.
pub static NOT_SUFFICIENT: &[ServicePlan] = &[ServicePlan {
    name: "INTUNE_O365",
    id: "882e1d05-acd1-4ccb-8708-6ee03664b117",
    description: "Mobile Device Management for Office 365 (Basic Mobility and Security)",
    found_in: &[
        "ENTERPRISEPACK",
        "ENTERPRISEPREMIUM",
        "O365_BUSINESS_PREMIUM",
    ],
    source: "Graph servicePlanInfo docs (the PendingActivation example)",
    confidence: Confidence::High,
}];

/// The Intune MDM plan with this service plan id.
pub fn intune_plan_by_id(service_plan_id: &str) -> Option<&'static ServicePlan> {
    INTUNE_MDM_PLANS
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(service_plan_id.trim()))
}

/// The Intune MDM plan with this service plan name (case-insensitive).
pub fn intune_plan_by_name(service_plan_name: &str) -> Option<&'static ServicePlan> {
    INTUNE_MDM_PLANS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(service_plan_name.trim()))
}

/// A plan that is known not to be enough (for the evidence of a failing check).
pub fn insufficient_plan_by_id(service_plan_id: &str) -> Option<&'static ServicePlan> {
    NOT_SUFFICIENT
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(service_plan_id.trim()))
}

/// Either lookup: by id, else by name.
pub fn is_intune_mdm_plan(id: &str, name: Option<&str>) -> Option<&'static ServicePlan> {
    intune_plan_by_id(id).or_else(|| name.and_then(intune_plan_by_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_mobility_is_not_intune_mdm() {
        assert!(intune_plan_by_id("882e1d05-acd1-4ccb-8708-6ee03664b117").is_none());
        assert!(insufficient_plan_by_id("882E1D05-ACD1-4CCB-8708-6EE03664B117").is_some());
        assert_eq!(
            intune_plan_by_id("C1EC4A95-1F05-45B3-A911-AA3FA01094F5").map(|p| p.name),
            Some("INTUNE_A")
        );
        assert_eq!(
            intune_plan_by_name("intune_smbiz").map(|p| p.name),
            Some("INTUNE_SMBIZ")
        );
    }

    #[test]
    fn gcc_high_sku_id_is_not_a_plan_but_its_plan_is_known() {
        // The GCC High SKU's skuId must never be matched as a servicePlanId ...
        assert!(intune_plan_by_id("b4288abe-01be-47d9-ad20-311d6e83fc24").is_none());
        // ... the plan it ships is INTUNE_A_VL.
        let vl = intune_plan_by_id("3e170737-c728-4eae-bbb9-3f3360f7184c");
        assert_eq!(vl.map(|p| p.name), Some("INTUNE_A_VL"));
        assert!(vl.is_some_and(|p| p.found_in.contains(&"INTUNE_A_VL_USGOV_GCCHIGH")));
        assert_eq!(
            intune_plan_by_id("d216f254-796f-4dab-bbfa-710686e646b9").map(|p| p.name),
            Some("INTUNE_A_GOV")
        );
    }

    #[test]
    fn ids_are_unique_lowercase_guids() {
        let mut ids: Vec<&str> = INTUNE_MDM_PLANS
            .iter()
            .chain(NOT_SUFFICIENT)
            .map(|p| p.id)
            .collect();
        for id in &ids {
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
            assert_eq!(*id, id.to_ascii_lowercase());
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), INTUNE_MDM_PLANS.len() + NOT_SUFFICIENT.len());
    }
}
