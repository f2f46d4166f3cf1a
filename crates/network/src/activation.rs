//! Activations: what a hidden unit does with its pre-activation(s), and how its state is
//! written in the activation pattern.
//!
//! Every non-linear activation splits the input space into *options* (pieces): a scalar
//! piecewise-linear activation with `p` breakpoints `e_1 < ... < e_p` has `p + 1` pieces,
//! piece `i` being `e_i < z <= e_{i+1}` (ReLU: piece 1 iff `z > 0`); a rank-`k` maxout unit
//! takes the maximum of `k` pre-activations and its option is the index of the winner (the
//! first one on ties). In the pattern, a scalar unit's option is written as `p` monotone bits
//! `[z > e_1], ..., [z > e_p]` and a maxout unit's as the winner's index in
//! `ceil(log2 k)` binary digits (least significant first), so that counting, the LP oracle
//! and XOR hashing all work on bits.

/// A continuous piecewise-linear function of one variable.
#[derive(Debug, Clone, PartialEq)]
pub struct PiecewiseLinear {
    breakpoints: Vec<f64>,
    slopes: Vec<f64>,
    /// `f(e_i)` for each breakpoint.
    values: Vec<f64>,
}

impl PiecewiseLinear {
    /// `p` strictly increasing finite breakpoints, `p + 1` finite slopes (piece by piece)
    /// and the value at the first breakpoint. Errors are one-line descriptions.
    pub fn new(
        breakpoints: Vec<f64>,
        slopes: Vec<f64>,
        value_at_first: f64,
    ) -> Result<Self, String> {
        if breakpoints.is_empty() {
            return Err("a piecewise-linear activation needs at least one breakpoint".into());
        }
        if slopes.len() != breakpoints.len() + 1 {
            return Err(format!(
                "{} breakpoints need {} slopes, found {}",
                breakpoints.len(),
                breakpoints.len() + 1,
                slopes.len()
            ));
        }
        if let Some(v) = breakpoints
            .iter()
            .chain(&slopes)
            .chain([&value_at_first])
            .find(|v| !v.is_finite())
        {
            return Err(format!("{v} is not finite"));
        }
        if breakpoints.windows(2).any(|w| w[0] >= w[1]) {
            return Err("breakpoints must be strictly increasing".into());
        }
        let mut values = vec![value_at_first];
        for i in 1..breakpoints.len() {
            let last = values[i - 1];
            values.push(last + slopes[i] * (breakpoints[i] - breakpoints[i - 1]));
        }
        Ok(Self {
            breakpoints,
            slopes,
            values,
        })
    }

    /// The breakpoints.
    pub fn breakpoints(&self) -> &[f64] {
        &self.breakpoints
    }

    /// The slope of each piece.
    pub fn slopes(&self) -> &[f64] {
        &self.slopes
    }

    /// The value at the first breakpoint.
    pub fn value_at_first(&self) -> f64 {
        self.values[0]
    }

    /// The piece of `z`: the number of breakpoints strictly below it.
    pub fn piece(&self, z: f64) -> usize {
        self.breakpoints.iter().take_while(|&&e| z > e).count()
    }

    /// `(slope, intercept)` of a piece: `f(z) = slope * z + intercept` there.
    pub fn affine(&self, piece: usize) -> (f64, f64) {
        // Anchored at the piece's left breakpoint (the first one for piece 0).
        let slope = self.slopes[piece];
        let anchor = piece.saturating_sub(1);
        (
            slope,
            self.values[anchor] - slope * self.breakpoints[anchor],
        )
    }

    /// `f(z)`.
    pub fn apply(&self, z: f64) -> f64 {
        let (s, c) = self.affine(self.piece(z));
        s * z + c
    }

    /// The interval of `z` on which a piece applies (open at the lower end).
    pub fn piece_range(&self, piece: usize) -> (f64, f64) {
        let lo = if piece == 0 {
            f64::NEG_INFINITY
        } else {
            self.breakpoints[piece - 1]
        };
        let hi = self
            .breakpoints
            .get(piece)
            .copied()
            .unwrap_or(f64::INFINITY);
        (lo, hi)
    }

    /// Minimum and maximum of `f` over `[lo, hi]`.
    pub fn range(&self, lo: f64, hi: f64) -> (f64, f64) {
        let points = std::iter::once(lo)
            .chain(
                self.breakpoints
                    .iter()
                    .copied()
                    .filter(|&e| e > lo && e < hi),
            )
            .chain(std::iter::once(hi));
        points
            .map(|z| self.apply(z))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    }
}

/// The activation applied after a layer's affine map.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Activation {
    /// `max(0, z)`: active iff `z > 0`.
    Relu,
    /// `z` if `z > 0`, else `slope * z`.
    LeakyRelu {
        /// Slope for negative inputs.
        slope: f64,
    },
    /// Any continuous piecewise-linear function (hard tanh, ReLU6, clip, ...).
    Pwl(PiecewiseLinear),
    /// The maximum of `rank` consecutive rows of the layer (also max pooling).
    Maxout {
        /// Pieces per unit (at least 2).
        rank: usize,
    },
    /// No activation: an output (or foldable linear) layer.
    Identity,
}

/// How a unit's output depends on its pre-activation rows on one option:
/// `h = slope * z[row] + offset`, `row` counted within the unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostAffine {
    /// Which of the unit's rows (0 for scalar activations).
    pub row: usize,
    /// Slope.
    pub slope: f64,
    /// Offset.
    pub offset: f64,
}

impl Activation {
    /// Hard tanh: `clip(z, -1, 1)`.
    pub fn hard_tanh() -> Self {
        Self::clip(-1.0, 1.0).expect("valid")
    }

    /// `clip(z, lo, hi)` (ReLU6 is `clip(z, 0, 6)`).
    pub fn clip(lo: f64, hi: f64) -> Result<Self, String> {
        Ok(Activation::Pwl(PiecewiseLinear::new(
            vec![lo, hi],
            vec![0.0, 1.0, 0.0],
            lo,
        )?))
    }

    /// Returns true if and only if the activation splits the input space (is not linear).
    pub fn is_piecewise(&self) -> bool {
        !matches!(self, Activation::Identity)
    }

    /// A short name for reports and files.
    pub fn name(&self) -> String {
        match self {
            Activation::Relu => "relu".into(),
            Activation::LeakyRelu { slope } => format!("leaky_relu({slope})"),
            Activation::Pwl(f) => format!("pwl({} breakpoints)", f.breakpoints().len()),
            Activation::Maxout { rank } => format!("maxout({rank})"),
            Activation::Identity => "identity".into(),
        }
    }

    /// Pre-activation rows per unit: the maxout rank, else 1.
    pub fn rank(&self) -> usize {
        match self {
            Activation::Maxout { rank } => *rank,
            _ => 1,
        }
    }

    /// The scalar piecewise-linear function, for every activation but maxout and identity.
    pub fn scalar(&self) -> Option<PiecewiseLinear> {
        match self {
            Activation::Relu => PiecewiseLinear::new(vec![0.0], vec![0.0, 1.0], 0.0).ok(),
            Activation::LeakyRelu { slope } => {
                PiecewiseLinear::new(vec![0.0], vec![*slope, 1.0], 0.0).ok()
            }
            Activation::Pwl(f) => Some(f.clone()),
            Activation::Maxout { .. } | Activation::Identity => None,
        }
    }

    /// The interval of pre-activations on which a scalar activation takes a piece (open at
    /// the lower end), `None` for maxout and identity. Unlike [`Activation::scalar`] it does
    /// not allocate: the search calls it at every node.
    pub fn piece_range(&self, piece: usize) -> Option<(f64, f64)> {
        match self {
            Activation::Relu | Activation::LeakyRelu { .. } => Some(if piece == 0 {
                (f64::NEG_INFINITY, 0.0)
            } else {
                (0.0, f64::INFINITY)
            }),
            Activation::Pwl(f) => Some(f.piece_range(piece)),
            Activation::Maxout { .. } | Activation::Identity => None,
        }
    }

    /// Minimum and maximum output of a scalar activation over pre-activations `[lo, hi]`,
    /// `None` for maxout and identity.
    pub fn output_range(&self, lo: f64, hi: f64) -> Option<(f64, f64)> {
        match self {
            Activation::Relu => {
                let (a, b) = (lo.max(0.0), hi.max(0.0));
                Some((a.min(b), a.max(b)))
            }
            Activation::LeakyRelu { slope } => {
                // The slope may be negative (PReLU): the extremes are at lo, hi or 0.
                let f = |z: f64| if z > 0.0 { z } else { slope * z };
                let inner = if lo < 0.0 && hi > 0.0 { 0.0 } else { f(lo) };
                let values = [f(lo), f(hi), inner];
                Some(
                    values
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                            (a.min(v), b.max(v))
                        }),
                )
            }
            Activation::Pwl(f) => Some(f.range(lo, hi)),
            Activation::Maxout { .. } | Activation::Identity => None,
        }
    }

    /// Breakpoints per unit (`p`): 1 for (leaky) ReLU, `k - 1` comparisons are not counted
    /// for maxout (its bounds use the rank), 0 for identity.
    pub fn breakpoints(&self) -> usize {
        match self {
            Activation::Relu | Activation::LeakyRelu { .. } => 1,
            Activation::Pwl(f) => f.breakpoints().len(),
            Activation::Maxout { .. } | Activation::Identity => 0,
        }
    }

    /// Number of options (pieces) per unit.
    pub fn options(&self) -> usize {
        match self {
            Activation::Maxout { rank } => *rank,
            Activation::Identity => 1,
            _ => self.breakpoints() + 1,
        }
    }

    /// Pattern bits per unit.
    pub fn bits(&self) -> usize {
        match self {
            Activation::Maxout { rank } => (usize::BITS - (rank - 1).leading_zeros()) as usize,
            Activation::Identity => 0,
            _ => self.breakpoints(),
        }
    }

    /// Bit `b` of an option's code: thermometer `[option > b]` for scalar activations, binary
    /// digit `b` of the winner for maxout.
    pub fn option_bit(&self, option: usize, b: usize) -> bool {
        match self {
            Activation::Maxout { .. } => option >> b & 1 == 1,
            _ => option > b,
        }
    }

    /// The option of a unit whose pre-activation rows are `z` (`rank` values).
    pub fn state(&self, z: &[f64]) -> usize {
        match self {
            Activation::Maxout { .. } => z
                .iter()
                .enumerate()
                .fold(0, |best, (i, &v)| if v > z[best] { i } else { best }),
            Activation::Identity => 0,
            Activation::Relu | Activation::LeakyRelu { .. } => usize::from(z[0] > 0.0),
            Activation::Pwl(f) => f.piece(z[0]),
        }
    }

    /// `h` on an option, as an affine function of one of the unit's rows.
    pub fn post(&self, option: usize) -> PostAffine {
        match self {
            Activation::Maxout { .. } => PostAffine {
                row: option,
                slope: 1.0,
                offset: 0.0,
            },
            Activation::Identity => PostAffine {
                row: 0,
                slope: 1.0,
                offset: 0.0,
            },
            Activation::Relu => PostAffine {
                row: 0,
                slope: if option == 1 { 1.0 } else { 0.0 },
                offset: 0.0,
            },
            Activation::LeakyRelu { slope } => PostAffine {
                row: 0,
                slope: if option == 1 { 1.0 } else { *slope },
                offset: 0.0,
            },
            Activation::Pwl(f) => {
                let (slope, offset) = f.affine(option);
                PostAffine {
                    row: 0,
                    slope,
                    offset,
                }
            }
        }
    }

    /// The unit's output for pre-activation rows `z`.
    pub fn output(&self, z: &[f64]) -> f64 {
        match self {
            Activation::Relu => z[0].max(0.0),
            Activation::Identity => z[0],
            _ => {
                let p = self.post(self.state(z));
                p.slope * z[p.row] + p.offset
            }
        }
    }
}

/// Parses the command-line spelling of an activation: `relu`, `identity`, `hardtanh`,
/// `relu6`, `leaky_relu:SLOPE`, `clip:LO:HI`, `maxout:RANK` or
/// `pwl:E1/E2/...:S0/S1/...[:VALUE_AT_E1]` (the names of the JSON format).
impl std::str::FromStr for Activation {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        let arity = |n: std::ops::RangeInclusive<usize>, usage: &str| {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(format!("activation `{spec}`: expected `{usage}`"))
            }
        };
        let number = |text: &str| -> Result<f64, String> {
            match text.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(format!(
                    "activation `{spec}`: `{text}` is not a finite number"
                )),
            }
        };
        let numbers =
            |text: &str| -> Result<Vec<f64>, String> { text.split('/').map(number).collect() };
        let in_spec = |e: String| format!("activation `{spec}`: {e}");
        let simple = |a: Activation| arity(0..=0, name).map(|()| a);
        match name {
            "relu" => simple(Activation::Relu),
            "identity" => simple(Activation::Identity),
            "hardtanh" => simple(Activation::hard_tanh()),
            "relu6" => simple(Activation::clip(0.0, 6.0)?),
            "leaky_relu" => {
                arity(1..=1, "leaky_relu:SLOPE")?;
                Ok(Activation::LeakyRelu {
                    slope: number(args[0])?,
                })
            }
            "clip" => {
                arity(2..=2, "clip:LO:HI")?;
                Activation::clip(number(args[0])?, number(args[1])?).map_err(in_spec)
            }
            "maxout" => {
                arity(1..=1, "maxout:RANK")?;
                match args[0].trim().parse::<usize>() {
                    Ok(rank) if rank >= 2 => Ok(Activation::Maxout { rank }),
                    _ => Err(format!(
                        "activation `{spec}`: the rank must be an integer >= 2"
                    )),
                }
            }
            "pwl" => {
                arity(2..=3, "pwl:E1/E2/...:S0/S1/...[:VALUE_AT_E1]")?;
                let value = args.get(2).map_or(Ok(0.0), |v| number(v))?;
                let f = PiecewiseLinear::new(numbers(args[0])?, numbers(args[1])?, value);
                f.map(Activation::Pwl).map_err(in_spec)
            }
            _ => Err(format!(
                "unknown activation `{spec}` (expected relu, identity, hardtanh, relu6, \
                 leaky_relu:SLOPE, clip:LO:HI, maxout:RANK or pwl:BREAKPOINTS:SLOPES)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_values_and_ranges() {
        let f = PiecewiseLinear::new(vec![-1.0, 0.0, 2.0], vec![0.5, -1.0, 2.0, 0.0], 1.0).unwrap();
        // f(-1) = 1, f(0) = 0, f(2) = 4.
        assert_eq!(f.apply(-3.0), 0.0);
        assert_eq!(f.apply(-1.0), 1.0);
        assert_eq!(f.apply(-0.5), 0.5);
        assert_eq!(f.apply(1.0), 2.0);
        assert_eq!(f.apply(5.0), 4.0);
        assert_eq!(
            (f.piece(-1.0), f.piece(-0.9), f.piece(2.0), f.piece(2.1)),
            (0, 1, 2, 3)
        );
        assert_eq!(f.range(-2.0, 3.0), (0.0, 4.0));
        assert!(PiecewiseLinear::new(vec![1.0, 1.0], vec![0.0; 3], 0.0).is_err());
        assert!(PiecewiseLinear::new(vec![1.0], vec![0.0], 0.0).is_err());
    }

    #[test]
    fn relu_leaky_clip_and_maxout_states() {
        assert_eq!(Activation::Relu.state(&[0.0]), 0);
        assert_eq!(Activation::Relu.output(&[2.5]), 2.5);
        let leaky = Activation::LeakyRelu { slope: 0.1 };
        assert!((leaky.output(&[-2.0]) + 0.2).abs() < 1e-15);
        let relu6 = Activation::clip(0.0, 6.0).unwrap();
        assert_eq!(
            (
                relu6.output(&[-1.0]),
                relu6.output(&[3.0]),
                relu6.output(&[9.0])
            ),
            (0.0, 3.0, 6.0)
        );
        assert_eq!((relu6.bits(), relu6.options()), (2, 3));
        assert!(relu6.option_bit(2, 1) && relu6.option_bit(1, 0) && !relu6.option_bit(1, 1));
        let maxout = Activation::Maxout { rank: 3 };
        assert_eq!((maxout.bits(), maxout.options()), (2, 3));
        assert_eq!(maxout.state(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(maxout.output(&[1.0, 3.0, 2.0]), 3.0);
        assert!(maxout.option_bit(2, 1) && !maxout.option_bit(2, 0));
        assert_eq!(Activation::Maxout { rank: 2 }.bits(), 1);
        assert_eq!(Activation::Maxout { rank: 4 }.bits(), 2);
        assert_eq!(Activation::Maxout { rank: 5 }.bits(), 3);
    }
    #[test]
    fn parses_every_spelling_and_names_the_problem() {
        let parse = |s: &str| s.parse::<Activation>();
        assert_eq!(parse("relu"), Ok(Activation::Relu));
        assert_eq!(parse("identity"), Ok(Activation::Identity));
        assert_eq!(parse("hardtanh"), Ok(Activation::hard_tanh()));
        assert_eq!(parse("relu6"), Activation::clip(0.0, 6.0));
        assert_eq!(parse("clip:-2:0.5"), Activation::clip(-2.0, 0.5));
        assert_eq!(
            parse("leaky_relu:0.01"),
            Ok(Activation::LeakyRelu { slope: 0.01 })
        );
        assert_eq!(parse("maxout:3"), Ok(Activation::Maxout { rank: 3 }));
        let f = PiecewiseLinear::new(vec![-1.0, 0.0, 1.0], vec![0.0, 1.0, -1.0, 0.5], 0.25);
        assert_eq!(
            parse("pwl:-1/0/1:0/1/-1/0.5:0.25"),
            Ok(Activation::Pwl(f.unwrap()))
        );
        let g = PiecewiseLinear::new(vec![0.0], vec![0.0, 1.0], 0.0).unwrap();
        assert_eq!(parse("pwl:0:0/1"), Ok(Activation::Pwl(g)));
        for (bad, says) in [
            ("tanh", "unknown activation `tanh`"),
            ("relu:1", "expected `relu`"),
            ("leaky_relu", "expected `leaky_relu:SLOPE`"),
            ("leaky_relu:nan", "`nan` is not a finite number"),
            ("maxout:1", "the rank must be an integer >= 2"),
            ("clip:1:0", "clip"),
            ("pwl:0/1:1/0", "2 breakpoints need 3 slopes, found 2"),
            ("pwl:1/0:0/1/0", "strictly increasing"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
    #[test]
    fn fast_paths_agree_with_the_piecewise_linear_form() {
        let kinds = [
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.1 },
            Activation::LeakyRelu { slope: -0.5 },
            Activation::hard_tanh(),
            "pwl:-1/0/2:0.5/-1/2/0:1".parse().unwrap(),
        ];
        let points = [-3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 4.0];
        for a in kinds {
            let f = a.scalar().unwrap();
            for piece in 0..a.options() {
                assert_eq!(a.piece_range(piece), Some(f.piece_range(piece)), "{a:?}");
                let p = a.post(piece);
                assert_eq!((p.slope, p.offset), f.affine(piece), "{a:?} piece {piece}");
            }
            for &z in &points {
                assert_eq!(a.state(&[z]), f.piece(z), "{a:?} at {z}");
                assert_eq!(a.output(&[z]), f.apply(z), "{a:?} at {z}");
                for &w in points.iter().filter(|&&w| w >= z) {
                    assert_eq!(
                        a.output_range(z, w),
                        Some(f.range(z, w)),
                        "{a:?} on [{z}, {w}]"
                    );
                }
            }
        }
        assert_eq!(Activation::Maxout { rank: 2 }.piece_range(0), None);
        assert_eq!(Activation::Identity.output_range(0.0, 1.0), None);
    }
}
