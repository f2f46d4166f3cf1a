//! The ONNX writer: PyTorch's export style, one `Gemm` and activation per layer.

use prost::Message;

use super::super::onnx_proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto,
    ValueInfoProto, attribute_type, data_type,
};
use super::OnnxPrecision;
use crate::{Activation, Layer, LoadErrorKind, Network};

/// An ONNX activation operator and its named constant inputs.
type OnnxActivation = (&'static str, Vec<(&'static str, f64)>);

/// The ONNX operator of an activation and its constant inputs (Clip's bounds, PRelu's
/// slope, written as tensors so that they keep their f64 value).
fn activation_node(a: &Activation) -> Result<Option<OnnxActivation>, LoadErrorKind> {
    Ok(match a {
        Activation::Identity => None,
        Activation::Relu => Some(("Relu", vec![])),
        Activation::LeakyRelu { slope } => Some(("PRelu", vec![("slope", *slope)])),
        Activation::Pwl(f)
            if f.slopes() == [0.0, 1.0, 0.0] && f.value_at_first() == f.breakpoints()[0] =>
        {
            Some((
                "Clip",
                vec![("min", f.breakpoints()[0]), ("max", f.breakpoints()[1])],
            ))
        }
        other => {
            return Err(LoadErrorKind::unsupported(
                "network",
                format!(
                    "activation {} has no ONNX operator (use the JSON format)",
                    other.name()
                ),
            ));
        }
    })
}

/// Writes the network in PyTorch's export style: `Gemm(transB=1)` and its activation
/// (`Relu`, `PRelu` for leaky ReLU, `Clip`; maxout as `Reshape` to `[n, units, rank]` and
/// `ReduceMax` over the last axis) per layer; convolutions are written as `Gemm`.
pub(crate) fn write(net: &Network, precision: OnnxPrecision) -> Result<Vec<u8>, LoadErrorKind> {
    let mut nodes = Vec::new();
    let mut initializers = Vec::new();
    let mut current = "input".to_string();
    for (i, layer) in net.layers().iter().enumerate() {
        let (w, b) = (format!("layers.{i}.weight"), format!("layers.{i}.bias"));
        initializers.push(tensor(
            &w,
            &[layer.rows(), layer.inputs()],
            layer.weights.iter(),
            precision,
        ));
        initializers.push(tensor(&b, &[layer.rows()], layer.bias.iter(), precision));
        let gemm_out = format!("gemm_{i}");
        nodes.push(NodeProto {
            input: vec![current, w, b],
            output: vec![gemm_out.clone()],
            name: format!("Gemm_{i}"),
            op_type: "Gemm".into(),
            attribute: vec![AttributeProto {
                name: "transB".into(),
                i: 1,
                r#type: attribute_type::INT,
                ..Default::default()
            }],
            domain: String::new(),
        });
        current = gemm_out;
        if let Activation::Maxout { rank } = layer.activation {
            let shape = format!("layers.{i}.shape");
            initializers.push(TensorProto {
                dims: vec![3],
                data_type: data_type::INT64,
                name: shape.clone(),
                int64_data: vec![-1, layer.width() as i64, rank as i64],
                ..Default::default()
            });
            let reshaped = format!("reshape_{i}");
            nodes.push(plain_node("Reshape", i, vec![current, shape], &reshaped));
            let out = format!("act_{i}");
            let mut reduce = plain_node("ReduceMax", i, vec![reshaped], &out);
            reduce.attribute = vec![
                AttributeProto {
                    name: "axes".into(),
                    ints: vec![-1],
                    r#type: attribute_type::INTS,
                    ..Default::default()
                },
                AttributeProto {
                    name: "keepdims".into(),
                    i: 0,
                    r#type: attribute_type::INT,
                    ..Default::default()
                },
            ];
            nodes.push(reduce);
            current = out;
        } else if let Some((op, constants)) = activation_node(&layer.activation)? {
            let out = format!("act_{i}");
            let mut input = vec![current];
            for (name, v) in constants {
                let t = format!("layers.{i}.{name}");
                initializers.push(tensor(&t, &[], [v].iter(), precision));
                input.push(t);
            }
            nodes.push(plain_node(op, i, input, &out));
            current = out;
        }
    }
    let out_width = net.layers().last().map_or(0, Layer::width);
    let elem = match precision {
        OnnxPrecision::F32 => data_type::FLOAT,
        OnnxPrecision::F64 => data_type::DOUBLE,
    };
    let model = ModelProto {
        ir_version: 8,
        producer_name: "mipbound".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: String::new(),
        graph: Some(GraphProto {
            node: nodes,
            name: "mipbound".into(),
            initializer: initializers,
            input: vec![value_info("input", net.input_dim(), elem)],
            output: vec![value_info(&current, out_width, elem)],
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        metadata_props: net
            .metadata()
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: k.clone(),
                value: v.to_string(),
            })
            .collect(),
    };
    Ok(model.encode_to_vec())
}

/// A node of layer `layer` without attributes.
fn plain_node(op: &str, layer: usize, input: Vec<String>, output: &str) -> NodeProto {
    NodeProto {
        input,
        output: vec![output.into()],
        name: format!("{op}_{layer}"),
        op_type: op.into(),
        attribute: vec![],
        domain: String::new(),
    }
}

fn tensor<'a>(
    name: &str,
    dims: &[usize],
    values: impl Iterator<Item = &'a f64>,
    precision: OnnxPrecision,
) -> TensorProto {
    let (data_type, raw_data) = match precision {
        OnnxPrecision::F32 => (
            data_type::FLOAT,
            values.flat_map(|&v| (v as f32).to_le_bytes()).collect(),
        ),
        OnnxPrecision::F64 => (
            data_type::DOUBLE,
            values.flat_map(|&v| v.to_le_bytes()).collect(),
        ),
    };
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type,
        name: name.into(),
        raw_data,
        ..Default::default()
    }
}

pub(super) fn value_info(name: &str, width: usize, elem_type: i32) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        Dimension {
                            dim_value: None,
                            dim_param: Some("batch".into()),
                        },
                        Dimension {
                            dim_value: Some(width as i64),
                            dim_param: None,
                        },
                    ],
                }),
            }),
        }),
    }
}
