//! The typed bindings that remain hand-written beside the table-driven
//! paths (`photon_family_*` and `photon_label_*` in C, `photon::Family`
//! and `photon::LabelValue` in C++, `Family` and `LabelValue` in Python)
//! name the catalog's labels and values exactly as the declarations do: a
//! label renamed, a value added or reordered in a `derive(Label)` without
//! its C constant, C++ trait or Python class following, fails here.

use photon_metrics::catalog;
use photon_metrics::labels::LabelName;
use std::collections::BTreeMap;

const HEADER: &str = include_str!("../photon-metrics-ffi/include/photon_metrics.h");
const WRAPPER: &str = include_str!("../photon-metrics-ffi/include/photon_metrics.hpp");
const STUBS: &str = include_str!("../photon-metrics-py/python/photon_metrics/_native.pyi");

/// Every label of the catalog's families, by name.
fn catalog_labels() -> BTreeMap<&'static str, LabelName> {
    catalog::families()
        .into_iter()
        .filter(|f| f.subsystem != catalog::Subsystem::Application)
        .flat_map(|f| f.labels.iter().map(|l| (l.as_str(), *l)))
        .collect()
}

fn open(label: &str) -> bool {
    matches!(catalog_labels().get(label), Some(l) if l.open().is_some())
}

/// `snake_case` from `CamelCase`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The `#define NAME value` lines of the C header whose name starts with `prefix`.
fn defines(prefix: &str) -> Vec<(String, u32)> {
    HEADER
        .lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, _)| name.starts_with(prefix))
        .filter_map(|(name, v)| Some((name.to_string(), v.trim().parse().ok()?)))
        .collect()
}

#[test]
fn every_c_closed_constant_is_its_value_in_slot_order() {
    let mut checked = 0;
    for (name, label) in catalog_labels() {
        let Some(values) = label.closed_values() else {
            continue;
        };
        let prefix = format!("PHOTON_{}_", name.to_uppercase());
        let constants = defines(&prefix);
        if constants.is_empty() {
            continue; // no typed C constants: the label is reached by name
        }
        let expected: Vec<(String, u32)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{prefix}{}", v.to_uppercase()), i as u32))
            .collect();
        assert_eq!(constants, expected, "the C constants of `{name}`");
        checked += 1;
    }
    assert!(
        checked >= 3,
        "status, device_type and memory have C constants"
    );
}

#[test]
fn every_c_open_label_binding_names_a_catalog_open_label() {
    let labels = defines("PHOTON_LABEL_");
    assert!(!labels.is_empty());
    for (constant, _) in &labels {
        let name = constant["PHOTON_LABEL_".len()..].to_lowercase();
        assert!(open(&name), "{constant} names no catalog open label");
    }
    let news: Vec<&str> = HEADER
        .lines()
        .filter_map(|l| l.strip_prefix("PhotonCode photon_"))
        .filter_map(|l| l.split_once("_new(").map(|(n, _)| n))
        .collect();
    assert!(news.len() >= 6, "{news:?}");
    for name in news {
        assert!(open(name), "photon_{name}_new names no catalog open label");
    }
}

#[test]
fn every_cpp_trait_names_a_catalog_label_of_its_kind() {
    let mut seen = 0;
    for (macro_name, wants_open) in [
        ("PHOTON_OPEN_TRAITS(", true),
        ("PHOTON_CLOSED_TRAITS(", false),
    ] {
        for line in WRAPPER.lines().filter(|l| l.starts_with(macro_name)) {
            let name = line.split('"').nth(1).expect("a quoted label name");
            let label = catalog_labels()
                .get(name)
                .copied()
                .unwrap_or_else(|| panic!("{line}: no catalog label `{name}`"));
            assert_eq!(label.open().is_some(), wants_open, "{line}");
            seen += 1;
        }
    }
    assert!(seen >= 9, "{seen} traits");
}

#[test]
fn every_python_label_class_is_a_catalog_label_with_its_values() {
    let labels = catalog_labels();
    let mut classes = 0;
    let mut lines = STUBS.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(class) = line
            .strip_prefix("class ")
            .and_then(|l| l.strip_suffix("(_OpenLabelValue): ..."))
        {
            assert!(open(&snake(class)), "{class} is no catalog open label");
            classes += 1;
        } else if let Some(class) = line
            .strip_prefix("class ")
            .and_then(|l| l.strip_suffix("(Enum):"))
        {
            let mut members = Vec::new();
            while let Some(member) = lines.next_if(|l| l.starts_with("    ")) {
                let (name, value) = member.trim().split_once(" = ").expect("NAME = value");
                members.push((name.to_lowercase(), value.parse::<u32>().unwrap()));
            }
            if class == "OpenLabel" {
                for (name, _) in &members {
                    assert!(open(name), "OpenLabel.{name} is no catalog open label");
                }
            } else {
                // The closed label with exactly these values, in this order.
                let found = labels
                    .values()
                    .filter_map(|l| l.closed_values())
                    .any(|values| {
                        values.len() == members.len()
                            && values
                                .iter()
                                .zip(&members)
                                .enumerate()
                                .all(|(i, (v, (m, n)))| *v == m && *n == i as u32)
                    });
                assert!(
                    found,
                    "{class}'s members {members:?} are no catalog label's values"
                );
            }
            classes += 1;
        }
    }
    assert!(classes >= 10, "{classes} classes");
}
