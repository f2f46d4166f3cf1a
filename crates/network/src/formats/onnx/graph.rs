//! Structural checks of an ONNX graph before anything is read from it: every value is
//! defined once, and every node input is defined before the node (graph inputs,
//! initialisers, or outputs of earlier nodes). Out-of-order nodes and cycles are told apart.

use std::collections::{HashMap, HashSet};

use super::super::onnx_proto::{GraphProto, NodeProto};
use crate::LoadErrorKind;

/// How a node is named in error messages.
pub(super) fn node_place(index: usize, node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!("node #{index} ({})", node.op_type.escape_debug())
    } else {
        format!(
            "node '{}' ({})",
            node.name.escape_debug(),
            node.op_type.escape_debug()
        )
    }
}

/// Refuses undefined inputs, values defined twice, nodes out of topological order and
/// cycles.
pub(super) fn check(graph: &GraphProto) -> Result<(), LoadErrorKind> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    let sources: HashSet<&str> = graph
        .input
        .iter()
        .map(|v| v.name.as_str())
        .chain(graph.initializer.iter().map(|t| t.name.as_str()))
        .collect();
    for (i, node) in graph.node.iter().enumerate() {
        for out in node.output.iter().filter(|o| !o.is_empty()) {
            if sources.contains(out.as_str()) {
                return Err(LoadErrorKind::syntax(
                    node_place(i, node),
                    format!(
                        "output '{}' overwrites a graph input or initializer",
                        out.escape_debug()
                    ),
                ));
            }
            if let Some(&j) = producer.get(out.as_str()) {
                return Err(LoadErrorKind::syntax(
                    node_place(i, node),
                    format!(
                        "output '{}' is already computed by {}",
                        out.escape_debug(),
                        node_place(j, &graph.node[j])
                    ),
                ));
            }
            producer.insert(out, i);
        }
    }
    for (i, node) in graph.node.iter().enumerate() {
        for input in node.input.iter().filter(|n| !n.is_empty()) {
            if sources.contains(input.as_str()) {
                continue;
            }
            let place = node_place(i, node);
            let shown = input.escape_debug();
            match producer.get(input.as_str()) {
                None => {
                    return Err(LoadErrorKind::syntax(
                        place,
                        format!(
                            "input '{shown}' is undefined (no graph input, initializer or node computes it)"
                        ),
                    ));
                }
                Some(&j) if j >= i => {
                    let message = if on_cycle(graph, &producer, i) {
                        format!("is on a cycle (its input '{shown}' depends on its own output)")
                    } else {
                        format!(
                            "uses '{shown}' before {} computes it (nodes out of topological order)",
                            node_place(j, &graph.node[j])
                        )
                    };
                    return Err(LoadErrorKind::syntax(place, message));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Whether node `start` depends, through node inputs, on its own outputs.
fn on_cycle(graph: &GraphProto, producer: &HashMap<&str, usize>, start: usize) -> bool {
    let parents = |i: usize| {
        graph.node[i]
            .input
            .iter()
            .filter_map(|n| producer.get(n.as_str()).copied())
            .collect::<Vec<_>>()
    };
    let mut seen = HashSet::new();
    let mut stack = parents(start);
    while let Some(i) = stack.pop() {
        if i == start {
            return true;
        }
        if seen.insert(i) {
            stack.extend(parents(i));
        }
    }
    false
}
