//! Value parsers of the numeric flags. clap names the flag and the value in front of the
//! message ("invalid value '-1' for '--time-limit <SECONDS>': ..."); these give the problem.
//!
//! Numeric flags accept a leading `-` (`allow_negative_numbers`), so that `--time-limit -1`
//! is refused here, by what is wrong with it, rather than by clap as an unknown flag.

/// Seconds: a number >= 0. Limits too large for the clock (1e300, `inf`) mean no limit.
pub fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "not a number of seconds".to_string())?;
    if value.is_nan() {
        return Err("NaN is not a number of seconds".into());
    }
    if value < 0.0 {
        return Err("negative; a time limit is a number of seconds >= 0".into());
    }
    Ok(value)
}

/// A whole number >= 0 that fits a `usize`.
pub fn count(text: &str) -> Result<usize, String> {
    whole(text)
}

/// A whole number >= 0 that fits a `u64` (seeds).
pub fn seed(text: &str) -> Result<u64, String> {
    whole(text)
}

fn whole<T: std::str::FromStr<Err = std::num::ParseIntError>>(text: &str) -> Result<T, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err("negative; expected a whole number >= 0".into());
    }
    text.parse().map_err(|e: std::num::ParseIntError| {
        use std::num::IntErrorKind;
        match e.kind() {
            IntErrorKind::PosOverflow => "too large".into(),
            IntErrorKind::Empty => "empty; expected a whole number >= 0".into(),
            _ => "not a whole number".into(),
        }
    })
}

/// An image size in pixels: `WIDTH`, or `WIDTHxHEIGHT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSize {
    /// Width.
    pub width: u32,
    /// Height, when given.
    pub height: Option<u32>,
}

/// Sides of an image, in pixels.
const IMAGE_SIDES: std::ops::RangeInclusive<u32> = 100..=8000;

/// `W` or `WxH`, each side from 100 to 8000 pixels.
pub fn image_size(text: &str) -> Result<ImageSize, String> {
    let side = |s: &str| -> Result<u32, String> {
        let v: u32 = whole(s)?;
        if IMAGE_SIDES.contains(&v) {
            Ok(v)
        } else {
            Err(format!(
                "{v} pixels; each side must be from {} to {}",
                IMAGE_SIDES.start(),
                IMAGE_SIDES.end()
            ))
        }
    };
    let lower = text.trim().to_ascii_lowercase();
    match lower.split_once('x') {
        Some((w, h)) => Ok(ImageSize {
            width: side(w)?,
            height: Some(side(h)?),
        }),
        None => Ok(ImageSize {
            width: side(&lower)?,
            height: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_huge_and_refuse_nan_and_negative() {
        assert_eq!(seconds("2.5"), Ok(2.5));
        assert_eq!(seconds("1e300"), Ok(1e300));
        assert_eq!(seconds("inf"), Ok(f64::INFINITY));
        assert_eq!(seconds("0"), Ok(0.0));
        assert!(seconds("-1").unwrap_err().contains("negative"));
        assert!(seconds("-0.5").unwrap_err().contains("negative"));
        assert!(seconds("NaN").unwrap_err().contains("NaN"));
        assert!(seconds("ten").unwrap_err().contains("not a number"));
    }

    #[test]
    fn image_sizes() {
        assert_eq!(
            image_size("640x480"),
            Ok(ImageSize {
                width: 640,
                height: Some(480)
            })
        );
        assert_eq!(image_size("900").map(|s| s.height), Ok(None));
        assert!(image_size("50").unwrap_err().contains("from 100 to 8000"));
        assert!(image_size("640x").unwrap_err().contains("empty"));
        assert!(
            image_size("big")
                .unwrap_err()
                .contains("not a whole number")
        );
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(count("12"), Ok(12));
        assert!(count("-3").unwrap_err().contains("negative"));
        assert!(count("1.5").unwrap_err().contains("not a whole number"));
        assert!(
            seed("99999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(seed("18446744073709551615"), Ok(u64::MAX));
    }
}
