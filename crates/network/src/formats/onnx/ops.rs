//! Sequential models described operator by operator, read through the ONNX walker.
//!
//! A front end that walks a model of its own (the Python package walks a PyTorch
//! `nn.Sequential`) describes each layer as the ONNX operator PyTorch would export it to,
//! with the layer's tensors as constant inputs. [`from_ops`] chains them into a graph and
//! reads it with the same walker as an ONNX file, so convolutions, pooling, batch
//! normalisation and the activation operators are lowered in one place.

use super::super::onnx_proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto, attribute_type, data_type,
};
use super::{DataFolder, read_model};
use crate::{LoadErrorKind, Network};

/// An attribute of an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    /// One integer (`group`, `ceil_mode`, `transB`, ...).
    Int(i64),
    /// A list of integers (`strides`, `pads`, `kernel_shape`, ...).
    Ints(Vec<i64>),
    /// A float; ONNX stores float attributes in 32 bits, as PyTorch exports them.
    Float(f64),
}

/// A constant input of an operator: a row-major tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Constant {
    /// The dimensions.
    pub dims: Vec<usize>,
    /// The values, row-major (`dims` multiplied out).
    pub values: Vec<f64>,
}

/// One operator of a sequential model: an ONNX operator applied to the data, followed by
/// its constant inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// Names the layer in errors (`node '<name>' (<op_type>): ...`).
    pub name: String,
    /// The ONNX operator (`Gemm`, `Conv`, `Relu`, `MaxPool`, ...).
    pub op_type: String,
    /// Its attributes.
    pub attributes: Vec<(String, Attribute)>,
    /// Its inputs after the data, in ONNX order (`Gemm`: weight, bias).
    pub constants: Vec<Constant>,
}

/// The network computed by `ops` applied in turn to an input of shape `input_shape`
/// (without the batch: `[n]`, `[C, L]` or `[C, H, W]`), validated as an ONNX file is.
pub fn from_ops(input_shape: &[usize], ops: &[Op]) -> Result<Network, LoadErrorKind> {
    let mut nodes = Vec::with_capacity(ops.len());
    let mut initializers = Vec::new();
    let mut current = "input".to_string();
    for (i, op) in ops.iter().enumerate() {
        let mut input = vec![current];
        for (j, c) in op.constants.iter().enumerate() {
            let name = format!("op{i}.input{}", j + 1);
            initializers.push(TensorProto {
                dims: c.dims.iter().map(|&d| d as i64).collect(),
                data_type: data_type::DOUBLE,
                name: name.clone(),
                double_data: c.values.clone(),
                ..Default::default()
            });
            input.push(name);
        }
        current = format!("op{i}");
        nodes.push(NodeProto {
            input,
            output: vec![current.clone()],
            name: op.name.clone(),
            op_type: op.op_type.clone(),
            attribute: op.attributes.iter().map(attribute).collect(),
            domain: String::new(),
        });
    }
    let model = ModelProto {
        graph: Some(GraphProto {
            node: nodes,
            name: "sequential".into(),
            initializer: initializers,
            input: vec![value_info("input", Some(input_shape))],
            output: vec![value_info(&current, None)],
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        ..Default::default()
    };
    read_model(&model, DataFolder(None))
}

fn attribute((name, value): &(String, Attribute)) -> AttributeProto {
    let name = name.clone();
    match value {
        Attribute::Int(i) => AttributeProto {
            name,
            i: *i,
            r#type: attribute_type::INT,
            ..Default::default()
        },
        Attribute::Ints(ints) => AttributeProto {
            name,
            ints: ints.clone(),
            r#type: attribute_type::INTS,
            ..Default::default()
        },
        Attribute::Float(f) => AttributeProto {
            name,
            f: *f as f32,
            r#type: attribute_type::FLOAT,
            ..Default::default()
        },
    }
}

/// A double tensor of shape `[batch, shape...]` (`None`: shape unknown).
fn value_info(name: &str, shape: Option<&[usize]>) -> ValueInfoProto {
    let batch = Dimension {
        dim_value: None,
        dim_param: Some("batch".into()),
    };
    let dims = shape.unwrap_or_default().iter().map(|&d| Dimension {
        dim_value: Some(d as i64),
        dim_param: None,
    });
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::DOUBLE,
                shape: shape.map(|_| TensorShapeProto {
                    dim: std::iter::once(batch).chain(dims).collect(),
                }),
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(dims: &[usize], values: &[f64]) -> Constant {
        Constant {
            dims: dims.to_vec(),
            values: values.to_vec(),
        }
    }

    fn op(name: &str, op_type: &str, constants: Vec<Constant>) -> Op {
        Op {
            name: name.into(),
            op_type: op_type.into(),
            attributes: vec![],
            constants,
        }
    }

    #[test]
    fn conv_pool_and_linear_layers_chain() {
        let mut conv = op(
            "0",
            "Conv",
            vec![
                constant(&[2, 1, 2, 2], &[1., 0., 0., -1., 0.5, 0.5, 0.5, 0.5]),
                constant(&[2], &[0.1, -0.2]),
            ],
        );
        conv.attributes
            .push(("strides".into(), Attribute::Ints(vec![1, 1])));
        let mut pool = op("2", "MaxPool", vec![]);
        pool.attributes
            .push(("kernel_shape".into(), Attribute::Ints(vec![2, 2])));
        let mut gemm = op(
            "4",
            "Gemm",
            vec![constant(&[1, 2], &[1.0, -1.0]), constant(&[1], &[0.0])],
        );
        gemm.attributes.push(("transB".into(), Attribute::Int(1)));
        let ops = [
            conv,
            op("1", "Relu", vec![]),
            pool,
            op("3", "Flatten", vec![]),
            gemm,
        ];
        let net = from_ops(&[1, 3, 3], &ops).unwrap();
        // Conv 1x3x3 -> 2x2x2 (ReLU, with its geometry), max pooling 2x2 -> 2 maxout units.
        assert_eq!(net.input_dim(), 9);
        assert_eq!(net.hidden_widths(), vec![8, 2]);
        assert!(net.layers()[0].conv().is_some());
        assert_eq!(net.layers()[2].weights.dim(), (1, 2));
    }

    #[test]
    fn errors_name_the_operator() {
        let ops = [op("3", "Softplus", vec![])];
        let err = from_ops(&[2], &ops).unwrap_err().to_string();
        assert!(
            err.starts_with("node '3' (Softplus): unsupported: operator Softplus"),
            "{err}"
        );
    }
}
