//! Branch-free `exp` and `ln(1 + x)` for the loss's hot loop: plain arithmetic and bit casts
//! that the compiler vectorises, where libm's calls cannot be. Both are accurate to a few
//! units in the last place of `f32` on the ranges the loss uses (see the tests).

/// `e^x` for `x <= 0`; inputs below -87 give `e^-87` (about 1.6e-38) instead of a subnormal,
/// which no caller can tell apart from 0.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4; // ln 2 split in two (Cody-Waite) for an exact reduction
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let x = x.max(-87.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND; // round(x / ln 2)
    let r = x - n * LN2_HI - n * LN2_LO; // |r| <= ln2 / 2
                                         // Taylor terms to r^7: relative error below 2e-8 on |r| <= 0.347.
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let n_int = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let scale = f32::from_bits(((n_int + 127) as u32) << 23);
    p * scale
}

/// `ln(1 + x)` for `x` in `[0, 1]`, as `2·atanh(s)` with `s = x / (2 + x) <= 1/3`.
#[inline(always)]
pub fn ln_1p_unit(x: f32) -> f32 {
    let s = x / (2.0 + x);
    let s2 = s * s;
    // Odd series of atanh to s^13: relative error below 2e-8 for s <= 1/3.
    let poly = 1.0
        + s2 * (1.0 / 3.0
            + s2 * (1.0 / 5.0
                + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0))))));
    2.0 * s * poly
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_libm_in_relative_error() {
        let mut worst = 0.0f64;
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4;
            let exact = (x as f64).exp();
            let got = exp_nonpositive(x) as f64;
            worst = worst.max(((got - exact) / exact).abs());
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(-1e4) > 0.0 && exp_nonpositive(-1e4) < 1e-37);
    }

    #[test]
    fn ln_1p_matches_libm_in_relative_error() {
        let mut worst = 0.0f64;
        for i in 1..=1_000_000 {
            let x = i as f32 * 1e-6;
            let exact = (x as f64).ln_1p();
            worst = worst.max(((ln_1p_unit(x) as f64 - exact) / exact).abs());
        }
        for k in 1..40 {
            let x = 2f32.powi(-k);
            let exact = (x as f64).ln_1p();
            worst = worst.max(((ln_1p_unit(x) as f64 - exact) / exact).abs());
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(ln_1p_unit(0.0), 0.0);
    }
}
