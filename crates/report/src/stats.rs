//! Student t quantiles for confidence intervals.

/// Two-sided 95% critical values `t(0.975, df)` for df = 1..=30 (standard tables).
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// `t(0.975, df)`; NaN for `df = 0`. Beyond 30 degrees of freedom, the Cornish-Fisher
/// expansion around the normal quantile (error below 1e-4 there).
pub fn t975(df: usize) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T975[df - 1],
        _ => {
            let z = 1.959_963_984_540_054f64;
            let n = df as f64;
            z + (z.powi(3) + z) / (4.0 * n)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
                + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z)
                    / (384.0 * n.powi(3))
        }
    }
}

/// Half-width of the 95% confidence interval of a mean of `n` values with sample standard
/// deviation `std`: `t(0.975, n-1) · std / sqrt(n)`. NaN below two values.
pub fn ci95_half_width(std: f64, n: usize) -> f64 {
    if n < 2 {
        f64::NAN
    } else {
        t975(n - 1) * std / (n as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_tables_and_join_smoothly() {
        assert_eq!(t975(4), 2.776);
        assert!(t975(0).is_nan());
        // Published values: t(0.975, 40) = 2.021, 60 -> 2.000, 120 -> 1.980.
        for (df, want) in [(40, 2.021), (60, 2.000), (120, 1.980), (31, 2.040)] {
            assert!((t975(df) - want).abs() < 1e-3, "{df}: {}", t975(df));
        }
    }

    #[test]
    fn half_width_by_hand() {
        // Values 1, 2, 3: std 1, n 3, t(0.975, 2) = 4.303 -> 4.303 / sqrt 3.
        assert!((ci95_half_width(1.0, 3) - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        assert!(ci95_half_width(1.0, 1).is_nan());
    }
}
