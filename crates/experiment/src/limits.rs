//! Limits and checks shared by every run's settings.

use anyhow::{Result, bail};

/// Most weights and biases a network that mipbound makes (`generate`, `train`, `study`) may
/// have: 800 MB of f64. Larger widths are refused before anything is allocated.
pub const MAX_PARAMETERS: usize = 100_000_000;

/// Most trials per width: past this the slack alpha of a 0.99 bound is below 1e-5, so more
/// trials cannot improve a bound, while each planned trial costs memory and output.
pub const MAX_TRIALS: usize = 1_000_000;

/// Most trials over all the widths.
pub const MAX_TOTAL_TRIALS: usize = 10_000_000;

/// Weights and biases of a dense network with layer widths `widths` (input first), hidden
/// layers of `rank` rows per unit, the last layer linear if `output_layer`; `None` past
/// `usize`.
pub fn parameters(widths: &[usize], rank: usize, output_layer: bool) -> Option<usize> {
    let layers = widths.len().checked_sub(1)?;
    (0..layers).try_fold(0usize, |total, l| {
        let rank = if output_layer && l + 1 == layers {
            1
        } else {
            rank
        };
        let rows = widths[l + 1].checked_mul(rank)?;
        total.checked_add(rows.checked_mul(widths[l].checked_add(1)?)?)
    })
}

/// Refuses (naming `what`) a network with more than [`MAX_PARAMETERS`] parameters.
pub fn check_parameters(
    what: &str,
    widths: &[usize],
    rank: usize,
    output_layer: bool,
) -> Result<()> {
    match parameters(widths, rank, output_layer) {
        Some(n) if n <= MAX_PARAMETERS => Ok(()),
        _ => bail!(
            "{what}: a network of widths {widths:?} would have more than {MAX_PARAMETERS} weights and biases (the most mipbound makes)"
        ),
    }
}

/// Checks that optional time limits are non-negative numbers (huge ones mean no limit).
pub fn check_seconds(limits: &[(&str, Option<f64>)]) -> Result<()> {
    for (flag, value) in limits {
        if let Some(v) = value
            && (v.is_nan() || *v < 0.0)
        {
            bail!("{flag} must be a non-negative number of seconds");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parameters;

    #[test]
    fn parameters_are_counted_with_overflow_checks() {
        // 2x3 + 3 biases, then 3x1 + 1 (the output layer ignores the rank).
        assert_eq!(parameters(&[2, 3, 1], 1, true), Some(13));
        // maxout rank 2: 6 rows of 2 + 6 biases, then an output row of 3 + 1.
        assert_eq!(parameters(&[2, 3, 1], 2, true), Some(22));
        assert_eq!(
            parameters(&[4_294_967_296, 4_294_967_296, 1], 1, true),
            None
        );
        assert_eq!(parameters(&[2, usize::MAX, 1], 1, true), None);
        assert_eq!(parameters(&[2, 3, 1], usize::MAX, false), None);
    }
}
