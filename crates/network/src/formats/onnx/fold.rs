//! Constant folding: evaluates a node whose inputs are all constants (initialisers,
//! `Constant` nodes, earlier folded nodes, and shapes of the data), as exporters emit for
//! deduplicated parameters (`Identity`) and for `Flatten`/`Unflatten` shape arithmetic.

use super::super::onnx_proto::{NodeProto, data_type};
use super::tensor::{Tensor, element_count, read_tensor};
use super::{DataFolder, int_attribute, ints_attribute};
use crate::LoadErrorKind;

/// The operators folded when all their inputs are constant.
pub(super) const FOLDED: &str = "Identity, Constant, Cast, Transpose, Reshape, Flatten, \
    Shape, Size, Gather, Slice, Concat, Unsqueeze, Squeeze, Expand, ConstantOfShape, Range, \
    Add, Sub, Mul, Div, Mod, Pow, Neg, Abs, Sqrt, Reciprocal, Floor, Ceil, Min, Max, Equal, \
    Less, Greater, LessOrEqual, GreaterOrEqual, Not, And, Or, Where";

/// Evaluates `node` on constant `inputs` (`None` for an omitted optional input).
pub(super) fn fold(
    node: &NodeProto,
    inputs: &[Option<&Tensor>],
    opset: i64,
    place: &str,
) -> Result<Tensor, LoadErrorKind> {
    let arg = |i: usize| -> Result<&Tensor, LoadErrorKind> {
        inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| LoadErrorKind::syntax(place, format!("missing input {i}")))
    };
    let bad = |m: String| LoadErrorKind::syntax(place, m);
    let op = node.op_type.as_str();
    Ok(match op {
        "Identity" => arg(0)?.clone(),
        "Constant" => constant(node, place)?,
        "Cast" => cast(arg(0)?, int_attribute(node, "to", 0), place)?,
        "Transpose" => transpose(arg(0)?, &ints_attribute(node, "perm"), place)?,
        "Reshape" => {
            let t = arg(0)?;
            let dims = reshape_dims(
                &t.dims,
                &ints(arg(1)?, place)?,
                int_attribute(node, "allowzero", 0) != 0,
                place,
            )?;
            Tensor { dims, ..t.clone() }
        }
        "Flatten" => {
            let t = arg(0)?;
            let rank = t.dims.len() as i64;
            let a = int_attribute(node, "axis", 1);
            let axis = usize::try_from(if a < 0 { a + rank } else { a })
                .ok()
                .filter(|&x| x <= t.dims.len())
                .ok_or_else(|| bad(format!("Flatten axis {a} out of range for rank {rank}")))?;
            let outer = t.dims[..axis].iter().product();
            let inner = t.dims[axis..].iter().product();
            Tensor {
                dims: vec![outer, inner],
                ..t.clone()
            }
        }
        "Shape" => shape_of(&arg(0)?.dims, node, place)?,
        "Size" => Tensor::int(vec![], vec![arg(0)?.values.len() as f64]),
        "Gather" => gather(arg(0)?, arg(1)?, int_attribute(node, "axis", 0), place)?,
        "Slice" => slice(node, inputs, opset, place)?,
        "Concat" => {
            let parts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
            concat(&parts, int_attribute(node, "axis", 0), place)?
        }
        "Unsqueeze" | "Squeeze" => {
            let t = arg(0)?;
            let axes = match inputs.get(1).copied().flatten() {
                Some(a) => ints(a, place)?,
                None => ints_attribute(node, "axes"),
            };
            let dims = if op == "Unsqueeze" {
                unsqueeze_dims(&t.dims, &axes, place)?
            } else {
                squeeze_dims(&t.dims, &axes, place)?
            };
            Tensor { dims, ..t.clone() }
        }
        "Expand" => {
            let t = arg(0)?;
            let target: Vec<usize> = ints(arg(1)?, place)?
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| bad(format!("Expand to dimension {d}"))))
                .collect::<Result<_, _>>()?;
            let dims = broadcast_dims(&t.dims, &target, place)?;
            let values = spread(t, &dims, place)?;
            Tensor { dims, values, ..*t }
        }
        "ConstantOfShape" => {
            let dims: Vec<usize> = ints(arg(0)?, place)?
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| bad(format!("dimension {d}"))))
                .collect::<Result<_, _>>()?;
            let n = element_count(&dims, place)?;
            let value = match node.attribute.iter().find_map(|a| a.t.as_ref()) {
                Some(t) => read_tensor(t, place, DataFolder(None))?,
                None => Tensor::float(vec![1], vec![0.0]),
            };
            let v = value.values.first().copied().unwrap_or(0.0);
            Tensor {
                dims,
                values: vec![v; n],
                integer: value.integer,
            }
        }
        "Range" => range(arg(0)?, arg(1)?, arg(2)?, place)?,
        "Where" => {
            let (c, x, y) = (arg(0)?, arg(1)?, arg(2)?);
            let dims = broadcast_dims(&broadcast_dims(&c.dims, &x.dims, place)?, &y.dims, place)?;
            let (c, a, b) = (
                spread(c, &dims, place)?,
                spread(x, &dims, place)?,
                spread(y, &dims, place)?,
            );
            let values = (0..c.len())
                .map(|i| if c[i] != 0.0 { a[i] } else { b[i] })
                .collect();
            Tensor {
                dims,
                values,
                integer: x.integer,
            }
        }
        "Neg" | "Abs" | "Sqrt" | "Reciprocal" | "Floor" | "Ceil" | "Not" => {
            let t = arg(0)?;
            let f: fn(f64) -> f64 = match op {
                "Neg" => |v| -v,
                "Abs" => f64::abs,
                "Sqrt" => f64::sqrt,
                "Reciprocal" => |v| 1.0 / v,
                "Floor" => f64::floor,
                "Ceil" => f64::ceil,
                _ => |v| f64::from(u8::from(v == 0.0)),
            };
            Tensor {
                values: t.values.iter().map(|&v| f(v)).collect(),
                ..t.clone()
            }
        }
        "Add" | "Sub" | "Mul" | "Div" | "Mod" | "Pow" | "Min" | "Max" | "Equal" | "Less"
        | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" => {
            let (a, b) = (arg(0)?, arg(1)?);
            let fmod = int_attribute(node, "fmod", 0) != 0;
            binary(op, a, b, fmod, place)?
        }
        _ => {
            return Err(LoadErrorKind::unsupported(
                place,
                format!(
                    "operator {} on constants (folded: {FOLDED})",
                    op.escape_debug()
                ),
            ));
        }
    })
}

/// The value of a `Constant` node.
fn constant(node: &NodeProto, place: &str) -> Result<Tensor, LoadErrorKind> {
    let attribute = node
        .attribute
        .first()
        .ok_or_else(|| LoadErrorKind::syntax(place, "a Constant without a value"))?;
    Ok(match attribute.name.as_str() {
        "value" => match &attribute.t {
            Some(t) => read_tensor(t, place, DataFolder(None))?,
            None => return Err(LoadErrorKind::syntax(place, "value is not a tensor")),
        },
        "value_float" => Tensor::float(vec![], vec![f64::from(attribute.f)]),
        "value_floats" => Tensor::float(
            vec![attribute.floats.len()],
            attribute.floats.iter().map(|&v| f64::from(v)).collect(),
        ),
        "value_int" => Tensor::int(vec![], vec![attribute.i as f64]),
        "value_ints" => Tensor::int(
            vec![attribute.ints.len()],
            attribute.ints.iter().map(|&v| v as f64).collect(),
        ),
        other => {
            return Err(LoadErrorKind::unsupported(
                place,
                format!("a Constant given as {other}"),
            ));
        }
    })
}

/// `Shape` of a tensor with dimensions `dims` (opset 15's `start` and `end` honoured).
pub(super) fn shape_of(
    dims: &[usize],
    node: &NodeProto,
    place: &str,
) -> Result<Tensor, LoadErrorKind> {
    let rank = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = clamp(int_attribute(node, "start", 0));
    let end = clamp(int_attribute(node, "end", rank));
    let _ = place;
    let values: Vec<f64> = dims[start..end.max(start)]
        .iter()
        .map(|&d| d as f64)
        .collect();
    Ok(Tensor::int(vec![values.len()], values))
}

/// The values of an integer tensor (shapes, axes, indices).
pub(super) fn ints(t: &Tensor, place: &str) -> Result<Vec<i64>, LoadErrorKind> {
    t.values
        .iter()
        .map(|&v| {
            if v.is_finite() && v.fract() == 0.0 {
                // Saturates at +-2^63 (INT64_MAX means "to the end" in Slice).
                Ok(v as i64)
            } else {
                Err(LoadErrorKind::syntax(
                    place,
                    format!("{v} where an integer is needed"),
                ))
            }
        })
        .collect()
}

/// An axis in `[-rank, rank)` as an index.
fn axis(a: i64, rank: usize, place: &str) -> Result<usize, LoadErrorKind> {
    let r = rank as i64;
    let a2 = if a < 0 { a + r } else { a };
    if (0..r).contains(&a2) {
        Ok(a2 as usize)
    } else {
        Err(LoadErrorKind::syntax(
            place,
            format!("axis {a} out of range for rank {rank}"),
        ))
    }
}

fn cast(t: &Tensor, to: i64, place: &str) -> Result<Tensor, LoadErrorKind> {
    let to = i32::try_from(to).unwrap_or(-1);
    let values: Vec<f64> = match to {
        data_type::FLOAT => t.values.iter().map(|&v| f64::from(v as f32)).collect(),
        data_type::DOUBLE => t.values.clone(),
        data_type::BOOL => t
            .values
            .iter()
            .map(|&v| f64::from(u8::from(v != 0.0)))
            .collect(),
        data_type::INT64
        | data_type::INT32
        | data_type::INT16
        | data_type::INT8
        | data_type::UINT8
        | data_type::UINT16 => t.values.iter().map(|&v| v.trunc()).collect(),
        other => {
            return Err(LoadErrorKind::unsupported(
                place,
                format!("Cast to {}", data_type::name(other)),
            ));
        }
    };
    Ok(Tensor {
        dims: t.dims.clone(),
        values,
        integer: !matches!(to, data_type::FLOAT | data_type::DOUBLE),
    })
}

fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

fn transpose(t: &Tensor, perm: &[i64], place: &str) -> Result<Tensor, LoadErrorKind> {
    let rank = t.dims.len();
    let perm: Vec<usize> = if perm.is_empty() {
        (0..rank).rev().collect()
    } else {
        perm.iter()
            .map(|&p| axis(p, rank, place))
            .collect::<Result<_, _>>()?
    };
    let mut seen = vec![false; rank];
    if perm.len() != rank || perm.iter().any(|&p| std::mem::replace(&mut seen[p], true)) {
        return Err(LoadErrorKind::syntax(
            place,
            format!("perm {perm:?} is not a permutation of {rank} axes"),
        ));
    }
    let dims: Vec<usize> = perm.iter().map(|&p| t.dims[p]).collect();
    let old = strides(&t.dims);
    let values = (0..t.values.len())
        .map(|flat| {
            let mut rest = flat;
            let mut src = 0;
            for (k, s) in strides(&dims).iter().enumerate() {
                src += (rest / s) * old[perm[k]];
                rest %= s;
            }
            t.values[src]
        })
        .collect();
    Ok(Tensor { dims, values, ..*t })
}

/// The shape a Reshape to `target` gives `dims` (`0` copies unless `allow_zero`, `-1`
/// infers).
pub(super) fn reshape_dims(
    dims: &[usize],
    target: &[i64],
    allow_zero: bool,
    place: &str,
) -> Result<Vec<usize>, LoadErrorKind> {
    let total: usize = dims.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut free = None;
    for (i, &d) in target.iter().enumerate() {
        match d {
            0 if !allow_zero => out.push(*dims.get(i).ok_or_else(|| {
                LoadErrorKind::syntax(place, format!("Reshape copies dimension {i} of {dims:?}"))
            })?),
            -1 if free.is_none() => {
                free = Some(i);
                out.push(1);
            }
            d => out.push(usize::try_from(d).map_err(|_| {
                LoadErrorKind::syntax(place, format!("cannot reshape {dims:?} to {target:?}"))
            })?),
        }
    }
    let known = out.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    match (free, known) {
        (Some(i), Some(k)) if k > 0 && total.is_multiple_of(k) => out[i] = total / k,
        (None, Some(k)) if k == total => {}
        _ => {
            return Err(LoadErrorKind::syntax(
                place,
                format!("cannot reshape {dims:?} to {target:?}"),
            ));
        }
    }
    Ok(out)
}

fn gather(
    data: &Tensor,
    indices: &Tensor,
    axis_attr: i64,
    place: &str,
) -> Result<Tensor, LoadErrorKind> {
    let a = axis(axis_attr, data.dims.len(), place)?;
    let n = data.dims[a];
    let idx: Vec<usize> = ints(indices, place)?
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + n as i64 } else { i };
            usize::try_from(j).ok().filter(|&j| j < n).ok_or_else(|| {
                LoadErrorKind::syntax(place, format!("Gather index {i} out of range 0..{n}"))
            })
        })
        .collect::<Result<_, _>>()?;
    let outer: usize = data.dims[..a].iter().product();
    let inner: usize = data.dims[a + 1..].iter().product();
    let mut dims = data.dims[..a].to_vec();
    dims.extend(&indices.dims);
    dims.extend(&data.dims[a + 1..]);
    element_count(&dims, place)?;
    let mut values = Vec::new();
    for o in 0..outer {
        for &i in &idx {
            let start = (o * n + i) * inner;
            values.extend_from_slice(&data.values[start..start + inner]);
        }
    }
    Ok(Tensor {
        dims,
        values,
        ..*data
    })
}

fn slice(
    node: &NodeProto,
    inputs: &[Option<&Tensor>],
    opset: i64,
    place: &str,
) -> Result<Tensor, LoadErrorKind> {
    let data = inputs
        .first()
        .copied()
        .flatten()
        .ok_or_else(|| LoadErrorKind::syntax(place, "missing input 0"))?;
    let input = |i: usize| -> Result<Option<Vec<i64>>, LoadErrorKind> {
        inputs
            .get(i)
            .copied()
            .flatten()
            .map(|t| ints(t, place))
            .transpose()
    };
    let (starts, ends, axes, steps) = if opset < 10 && inputs.len() == 1 {
        let axes = ints_attribute(node, "axes");
        (
            ints_attribute(node, "starts"),
            ints_attribute(node, "ends"),
            (!axes.is_empty()).then_some(axes),
            None,
        )
    } else {
        (
            input(1)?.unwrap_or_default(),
            input(2)?.unwrap_or_default(),
            input(3)?,
            input(4)?,
        )
    };
    let rank = data.dims.len();
    let axes: Vec<usize> = match axes {
        Some(a) => a
            .iter()
            .map(|&x| axis(x, rank, place))
            .collect::<Result<_, _>>()?,
        None => (0..starts.len()).collect(),
    };
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(LoadErrorKind::syntax(
            place,
            "starts, ends, axes and steps differ in length",
        ));
    }
    // Per axis: the selected indices.
    let mut picks: Vec<Vec<usize>> = data.dims.iter().map(|&d| (0..d).collect()).collect();
    for k in 0..starts.len() {
        let (d, step) = (data.dims[axes[k]] as i64, steps[k]);
        if step == 0 {
            return Err(LoadErrorKind::syntax(place, "Slice step 0"));
        }
        let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
        let (lo, hi) = if step > 0 { (0, d) } else { (-1, d - 1) };
        let (mut i, end) = (norm(starts[k]).clamp(lo, hi), norm(ends[k]).clamp(lo, hi));
        let mut chosen = Vec::new();
        while (step > 0 && i < end) || (step < 0 && i > end) {
            chosen.push(i as usize);
            i = i.saturating_add(step);
        }
        picks[axes[k]] = chosen;
    }
    let dims: Vec<usize> = picks.iter().map(Vec::len).collect();
    let count = element_count(&dims, place)?;
    let old = strides(&data.dims);
    let new = strides(&dims);
    let values = (0..count)
        .map(|flat| {
            let mut src = 0;
            for (k, s) in new.iter().enumerate() {
                src += picks[k][(flat / s) % dims[k]] * old[k];
            }
            data.values[src]
        })
        .collect();
    Ok(Tensor {
        dims,
        values,
        ..*data
    })
}

fn concat(parts: &[&Tensor], axis_attr: i64, place: &str) -> Result<Tensor, LoadErrorKind> {
    let first = parts
        .first()
        .ok_or_else(|| LoadErrorKind::syntax(place, "Concat without inputs"))?;
    let a = axis(axis_attr, first.dims.len(), place)?;
    let mut dims = first.dims.clone();
    dims[a] = 0;
    for p in parts {
        let same = p.dims.len() == dims.len()
            && p.dims
                .iter()
                .zip(&first.dims)
                .enumerate()
                .all(|(k, (x, y))| k == a || x == y);
        if !same {
            return Err(LoadErrorKind::syntax(
                place,
                format!(
                    "Concat of shapes {:?} and {:?} on axis {a}",
                    first.dims, p.dims
                ),
            ));
        }
        dims[a] += p.dims[a];
    }
    element_count(&dims, place)?;
    let outer: usize = dims[..a].iter().product();
    let mut values = Vec::new();
    for o in 0..outer {
        for p in parts {
            let block = p.dims[a..].iter().product::<usize>();
            values.extend_from_slice(&p.values[o * block..(o + 1) * block]);
        }
    }
    Ok(Tensor {
        dims,
        values,
        integer: parts.iter().all(|p| p.integer),
    })
}

/// Dimensions after inserting size-1 axes at `axes` (of the output rank).
pub(super) fn unsqueeze_dims(
    dims: &[usize],
    axes: &[i64],
    place: &str,
) -> Result<Vec<usize>, LoadErrorKind> {
    let rank = dims.len() + axes.len();
    let mut positions: Vec<usize> = axes
        .iter()
        .map(|&a| axis(a, rank, place))
        .collect::<Result<_, _>>()?;
    positions.sort_unstable();
    if positions.windows(2).any(|w| w[0] == w[1]) {
        return Err(LoadErrorKind::syntax(
            place,
            format!("repeated axes {axes:?}"),
        ));
    }
    let mut out = dims.to_vec();
    for p in positions {
        out.insert(p, 1);
    }
    Ok(out)
}

/// Dimensions after removing the size-1 axes `axes` (all size-1 axes when empty).
pub(super) fn squeeze_dims(
    dims: &[usize],
    axes: &[i64],
    place: &str,
) -> Result<Vec<usize>, LoadErrorKind> {
    if axes.is_empty() {
        return Ok(dims.iter().copied().filter(|&d| d != 1).collect());
    }
    let positions: Vec<usize> = axes
        .iter()
        .map(|&a| axis(a, dims.len(), place))
        .collect::<Result<_, _>>()?;
    if let Some(&p) = positions.iter().find(|&&p| dims[p] != 1) {
        return Err(LoadErrorKind::syntax(
            place,
            format!("Squeeze of axis {p} of size {}", dims[p]),
        ));
    }
    Ok(dims
        .iter()
        .enumerate()
        .filter(|(k, _)| !positions.contains(k))
        .map(|(_, &d)| d)
        .collect())
}

/// The numpy broadcast of two shapes.
pub(super) fn broadcast_dims(
    a: &[usize],
    b: &[usize],
    place: &str,
) -> Result<Vec<usize>, LoadErrorKind> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], k: usize| {
        if k + s.len() < rank {
            1
        } else {
            s[k + s.len() - rank]
        }
    };
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(LoadErrorKind::syntax(
                place,
                format!("shapes {a:?} and {b:?} do not broadcast"),
            )),
        })
        .collect()
}

/// The values of `t` broadcast to `dims` (which `t.dims` must broadcast to).
pub(super) fn spread(t: &Tensor, dims: &[usize], place: &str) -> Result<Vec<f64>, LoadErrorKind> {
    if broadcast_dims(&t.dims, dims, place)? != dims {
        return Err(LoadErrorKind::syntax(
            place,
            format!("shape {:?} does not broadcast to {dims:?}", t.dims),
        ));
    }
    let count = element_count(dims, place)?;
    let pad = dims.len() - t.dims.len();
    let src = strides(&t.dims);
    let out = strides(dims);
    Ok((0..count)
        .map(|flat| {
            let mut i = 0;
            for k in pad..dims.len() {
                if t.dims[k - pad] != 1 {
                    i += ((flat / out[k]) % dims[k]) * src[k - pad];
                }
            }
            t.values[i]
        })
        .collect())
}

fn binary(
    op: &str,
    a: &Tensor,
    b: &Tensor,
    fmod: bool,
    place: &str,
) -> Result<Tensor, LoadErrorKind> {
    let dims = broadcast_dims(&a.dims, &b.dims, place)?;
    let (x, y) = (spread(a, &dims, place)?, spread(b, &dims, place)?);
    let integer = a.integer && b.integer;
    let boolean = matches!(
        op,
        "Equal" | "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or"
    );
    let truth = |c: bool| f64::from(u8::from(c));
    let mut values = Vec::with_capacity(x.len());
    for (&p, &q) in x.iter().zip(&y) {
        values.push(match op {
            "Add" => p + q,
            "Sub" => p - q,
            "Mul" => p * q,
            "Div" if integer => {
                if q == 0.0 {
                    return Err(LoadErrorKind::syntax(place, "integer division by zero"));
                }
                (p / q).trunc()
            }
            "Div" => p / q,
            "Mod" => {
                if integer && q == 0.0 {
                    return Err(LoadErrorKind::syntax(place, "integer Mod by zero"));
                }
                let r = p % q;
                // fmod = 0 (integers): the sign of the divisor, as in Python.
                if !fmod && r != 0.0 && (r < 0.0) != (q < 0.0) {
                    r + q
                } else {
                    r
                }
            }
            "Pow" => p.powf(q),
            "Min" => p.min(q),
            "Max" => p.max(q),
            "Equal" => truth(p == q),
            "Less" => truth(p < q),
            "Greater" => truth(p > q),
            "LessOrEqual" => truth(p <= q),
            "GreaterOrEqual" => truth(p >= q),
            "And" => truth(p != 0.0 && q != 0.0),
            _ => truth(p != 0.0 || q != 0.0),
        });
    }
    Ok(Tensor {
        dims,
        values,
        integer: integer || boolean,
    })
}

fn range(
    start: &Tensor,
    limit: &Tensor,
    delta: &Tensor,
    place: &str,
) -> Result<Tensor, LoadErrorKind> {
    let scalar = |t: &Tensor| {
        t.values
            .first()
            .copied()
            .filter(|_| t.values.len() == 1)
            .ok_or_else(|| LoadErrorKind::syntax(place, "Range needs scalar inputs"))
    };
    let (s, l, d) = (scalar(start)?, scalar(limit)?, scalar(delta)?);
    let n = ((l - s) / d).ceil().max(0.0);
    if !n.is_finite() || n > super::tensor::MAX_TENSOR_VALUES as f64 {
        return Err(LoadErrorKind::syntax(
            place,
            format!("Range({s}, {l}, {d})"),
        ));
    }
    let values: Vec<f64> = (0..n as usize).map(|i| s + i as f64 * d).collect();
    Ok(Tensor {
        dims: vec![values.len()],
        values,
        integer: start.integer,
    })
}
