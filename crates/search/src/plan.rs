//! A search cut into independent subtrees, in a form that can be written down and read back
//! bit for bit: what a checkpoint refers to and what shards of one count share.

use mipbound_formulation::Witness;
use mipbound_network::{Network, UnitId};
use serde::{Deserialize, Serialize};

use crate::dfs::{Decided, Subproblem};

/// The nodes at one depth of the search tree: exploring each of them on its own, in any
/// order and on any machine, covers the whole search exactly once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchPlan {
    /// The depth (number of decided units) of every subtree's root.
    pub cut_depth: usize,
    /// The subtrees, in the single-thread search order.
    pub subtrees: Vec<SubtreeStart>,
}

/// The root of one subtree: the decisions leading to it and a witness point of its region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtreeStart {
    /// One decision per position on the path.
    pub decisions: Vec<PlanStep>,
    /// A point strictly inside the subtree's region, in the domain's coordinates.
    #[serde(with = "hex_floats")]
    pub point: Vec<f64>,
    /// Its distance to the region's boundary (unit-box coordinates; may be infinite).
    #[serde(with = "hex_float")]
    pub margin: f64,
}

/// One decision on a subtree's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanStep {
    /// Hidden layer of the unit.
    pub layer: usize,
    /// Unit within the layer.
    pub unit: usize,
    /// Its option (piece or maxout winner).
    pub option: usize,
    /// Half-spaces the decision put on the LP's stack (0 for a unit fixed on the region).
    pub rows: usize,
}

impl SubtreeStart {
    pub(crate) fn from_subproblem(sub: &Subproblem) -> Self {
        Self {
            decisions: sub
                .decisions
                .iter()
                .map(|d| PlanStep {
                    layer: d.id.layer,
                    unit: d.id.unit,
                    option: d.option,
                    rows: d.rows,
                })
                .collect(),
            point: sub.witness.point.clone(),
            margin: sub.witness.margin,
        }
    }

    pub(crate) fn to_subproblem(&self) -> Subproblem {
        Subproblem {
            decisions: self
                .decisions
                .iter()
                .map(|s| Decided {
                    id: UnitId {
                        layer: s.layer,
                        unit: s.unit,
                    },
                    option: s.option,
                    rows: s.rows,
                })
                .collect(),
            witness: Witness {
                point: self.point.clone(),
                margin: self.margin,
            },
        }
    }
}

impl SearchPlan {
    /// Checks that the plan fits `net` searched layer by layer in `order`: every path has
    /// `cut_depth` decisions of distinct units of the layers `order` visits at those
    /// positions, with options the units have, and every point has the input dimension.
    /// It does not prove that the plan came from this network (a fingerprint does that).
    pub fn check(&self, net: &Network, order: &[UnitId]) -> Result<(), String> {
        if self.subtrees.is_empty() {
            return Err("the plan has no subtrees".into());
        }
        if self.cut_depth > order.len() {
            return Err(format!(
                "cut depth {} exceeds the {} hidden units",
                self.cut_depth,
                order.len()
            ));
        }
        let widths = net.hidden_widths();
        for (i, sub) in self.subtrees.iter().enumerate() {
            let bad = |why: String| Err(format!("subtree {i}: {why}"));
            if sub.decisions.len() != self.cut_depth {
                return bad(format!(
                    "{} decisions, the cut depth is {}",
                    sub.decisions.len(),
                    self.cut_depth
                ));
            }
            if sub.point.len() != net.input_dim() {
                return bad(format!(
                    "a point of dimension {}, the network has {} inputs",
                    sub.point.len(),
                    net.input_dim()
                ));
            }
            if sub.point.iter().any(|v| !v.is_finite()) || sub.margin.is_nan() {
                return bad("a witness that is not finite".into());
            }
            let mut seen = std::collections::HashSet::new();
            for (pos, s) in sub.decisions.iter().enumerate() {
                if s.layer != order[pos].layer || s.unit >= widths[s.layer] {
                    return bad(format!(
                        "decision {pos} names unit {}:{} out of the search order",
                        s.layer, s.unit
                    ));
                }
                if !seen.insert((s.layer, s.unit)) {
                    return bad(format!("unit {}:{} decided twice", s.layer, s.unit));
                }
                let activation = &net.hidden_layers()[s.layer].activation;
                if s.option >= activation.options() {
                    return bad(format!(
                        "unit {}:{} has no option {}",
                        s.layer, s.unit, s.option
                    ));
                }
            }
        }
        Ok(())
    }
}

/// An `f64` as the 16 hexadecimal digits of its bits: exact, infinities included.
mod hex_float {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:016x}", v.to_bits()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(D::Error::custom)
    }

    pub fn parse(text: &str) -> Result<f64, String> {
        if text.len() != 16 {
            return Err(format!("'{text}' is not 16 hexadecimal digits"));
        }
        u64::from_str_radix(text, 16)
            .map(f64::from_bits)
            .map_err(|_| format!("'{text}' is not 16 hexadecimal digits"))
    }
}

/// A list of `f64` as one string of 16 hexadecimal digits per value.
mod hex_floats {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(16 * v.len());
        for x in v {
            text.push_str(&format!("{:016x}", x.to_bits()));
        }
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() % 16 != 0 || !text.is_ascii() {
            return Err(D::Error::custom(
                "a point must be 16 hexadecimal digits per value",
            ));
        }
        (0..text.len() / 16)
            .map(|k| super::hex_float::parse(&text[16 * k..16 * (k + 1)]).map_err(D::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_exactly() {
        let start = SubtreeStart {
            decisions: vec![PlanStep {
                layer: 0,
                unit: 3,
                option: 1,
                rows: 1,
            }],
            point: vec![0.1, -0.0, 1.0 / 3.0, 5e-324, f64::MAX],
            margin: f64::INFINITY,
        };
        let text = serde_json::to_string(&start).unwrap();
        let back: SubtreeStart = serde_json::from_str(&text).unwrap();
        assert_eq!(back, start);
        assert!(back.point[1].is_sign_negative());
        assert!(text.contains("\"margin\":\"7ff0000000000000\""), "{text}");
        let bad = text.replace("7ff0000000000000", "7ff00000000000zz");
        assert!(serde_json::from_str::<SubtreeStart>(&bad).is_err());
    }
}
