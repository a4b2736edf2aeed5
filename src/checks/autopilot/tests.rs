//! Family-level tests: the list's order and the cause order name every check once.

use super::*;

#[test]
fn rules_are_in_id_order_and_the_cause_order_names_each_once() {
    let ids: Vec<&str> = RULES.iter().map(|r| r.meta.id).collect();
    assert_eq!(
        ids,
        [
            "AP001", "AP002", "AP003", "AP004", "AP005", "AP006", "AP007", "AP008"
        ]
    );
    for r in RULES {
        assert_eq!(
            AUTOPILOT_CAUSE_ORDER
                .iter()
                .filter(|c| c.id == r.meta.id)
                .count(),
            1,
            "{}",
            r.meta.id
        );
    }
}

#[test]
fn a_device_without_autopilot_gets_only_skips() {
    use super::testutil::*;
    let mut snap = snapshot();
    testutil::set(&mut snap.sources.autopilot_devices, serde_json::json!([]));
    let r = report(None);
    let analysis = crate::checks::device::analyse(&r, as_of());
    let keys = crate::checks::correlate::keys::device_keys(&r, &analysis, None);
    let cf = CorrelationFacts::new(&snap, &r, &analysis, &keys, as_of());
    let found = evaluate(&cf);
    assert_eq!(found.len(), RULES.len());
    assert!(
        found.iter().all(|f| f.status == crate::model::Status::Skip),
        "{:?}",
        found
            .iter()
            .map(|f| (&f.check, &f.summary))
            .collect::<Vec<_>>()
    );
}
