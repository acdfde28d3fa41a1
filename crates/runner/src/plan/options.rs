//! `[strategy-options]` resolved: each strategy with parameters gets its paper's values,
//! replaced key by key by the file's, each checked against its rule.

use super::resolve::{finite, ErrFn};
use crate::config::RawStrategyOptions;
use crate::ConfigError;
use record::strategy::StrategyParams;
use record::Strategy;

/// The parameters every run of each strategy records.
pub struct StrategyOptions {
    params: Vec<(Strategy, StrategyParams)>,
}

impl StrategyOptions {
    pub fn params(&self, strategy: Strategy) -> Option<StrategyParams> {
        self.params
            .iter()
            .find(|(s, _)| *s == strategy)
            .map(|(_, p)| *p)
    }
}

/// Checks the options and fills in the defaults. Options for a strategy the experiment does
/// not run are refused: they would change nothing, which is surely not what was meant.
pub fn resolve(
    raw: &RawStrategyOptions,
    strategies: &[Strategy],
    err: &ErrFn,
) -> Result<StrategyOptions, ConfigError> {
    let given = [
        (Strategy::PartialBce, raw.partial_bce.is_some()),
        (Strategy::AnLs, raw.an_ls.is_some()),
        (Strategy::Epr, raw.epr.is_some()),
        (Strategy::LargeLoss, raw.large_loss.is_some()),
        (Strategy::Role, raw.role.is_some()),
        (Strategy::PseudoLabel, raw.pseudo_label.is_some()),
        (Strategy::LabelConditional, raw.label_conditional.is_some()),
    ];
    for (s, set) in given {
        if set && !strategies.contains(&s) {
            return Err(err(
                &format!("strategy-options.{}", s.name()),
                format!(
                    "options for `{}`, which is not among the strategies",
                    s.name()
                ),
            ));
        }
    }
    let mut params = Vec::new();
    for &s in strategies {
        let Some(default) = s.default_params() else {
            continue;
        };
        params.push((s, resolve_one(default, raw, err)?));
    }
    Ok(StrategyOptions { params })
}

fn resolve_one(
    default: StrategyParams,
    raw: &RawStrategyOptions,
    err: &ErrFn,
) -> Result<StrategyParams, ConfigError> {
    // A number: the file's if given, else the default; finite and within its rule.
    let number = |key: &str, given: Option<f64>, default: f64, ok: fn(f64) -> bool, rule: &str| {
        let value = given.unwrap_or(default);
        finite(key, &[value], err)?;
        if ok(value) {
            Ok(value)
        } else {
            Err(err(key, format!("{value}: {rule}")))
        }
    };
    // A count: the file's if given, else the default; at least 1.
    let count = |key: &str, given: Option<usize>, default: usize, rule: &str| match given
        .unwrap_or(default)
    {
        0 => Err(err(key, rule.to_string())),
        n => Ok(n),
    };
    const POSITIVE_WEIGHT: &str = "weight must be positive";
    Ok(match default {
        // Nothing to set: recorded for the runs' ids only.
        StrategyParams::SingleTask { .. } => default,
        StrategyParams::PartialBce { alpha, beta, gamma } => {
            let r = raw.partial_bce.clone().unwrap_or_default();
            let key = |k: &str| format!("strategy-options.partial-bce.{k}");
            let gamma = number(
                &key("gamma"),
                r.gamma,
                gamma,
                |g| g > 0.0,
                "gamma must be positive",
            )?;
            let beta = number(
                &key("beta"),
                r.beta,
                beta,
                |b| b >= 0.0,
                "g(0) = beta must not be negative (a negative weight rewards errors)",
            )?;
            // g(1) = alpha + beta: alpha's rule depends on beta.
            let alpha = r.alpha.unwrap_or(alpha);
            finite(&key("alpha"), &[alpha], err)?;
            if alpha + beta < 0.0 {
                return Err(err(
                    &key("alpha"),
                    format!("{alpha}: g(1) = alpha + beta must not be negative (a negative weight rewards errors)"),
                ));
            }
            StrategyParams::PartialBce { alpha, beta, gamma }
        }
        StrategyParams::AnLs { smoothing } => {
            let given = raw.an_ls.as_ref().and_then(|r| r.smoothing);
            let smoothing = number("strategy-options.an-ls.smoothing", given, smoothing, |s| (0.0..0.5).contains(&s), "smoothing must be in [0, 0.5): a positive's target is 1 - smoothing, a negative's smoothing")?;
            StrategyParams::AnLs { smoothing }
        }
        StrategyParams::Epr { lambda } => {
            let given = raw.epr.as_ref().and_then(|r| r.lambda);
            let lambda = number(
                "strategy-options.epr.lambda",
                given,
                lambda,
                |l| l >= 0.0,
                "lambda must not be negative",
            )?;
            StrategyParams::Epr { lambda }
        }
        StrategyParams::LargeLoss {
            mode,
            max_rate,
            warmup_epochs,
            ramp_epochs,
        } => {
            let r = raw.large_loss.clone().unwrap_or_default();
            let key = |k: &str| format!("strategy-options.large-loss.{k}");
            StrategyParams::LargeLoss {
                mode: r.mode.unwrap_or(mode),
                max_rate: number(
                    &key("max-rate"),
                    r.max_rate,
                    max_rate,
                    |m| (0.0..=1.0).contains(&m),
                    "max-rate is a share of the missing cells, in [0, 1]",
                )?,
                warmup_epochs: number(
                    &key("warmup-epochs"),
                    r.warmup_epochs,
                    warmup_epochs,
                    |w| w >= 0.0,
                    "warmup-epochs must not be negative",
                )?,
                ramp_epochs: number(
                    &key("ramp-epochs"),
                    r.ramp_epochs,
                    ramp_epochs,
                    |e| e >= 0.0,
                    "ramp-epochs must not be negative",
                )?,
            }
        }
        StrategyParams::LabelConditional {
            hide,
            copies,
            weight,
        } => {
            let r = raw.label_conditional.clone().unwrap_or_default();
            let key = |k: &str| format!("strategy-options.label-conditional.{k}");
            StrategyParams::LabelConditional {
                hide: number(
                    &key("hide"),
                    r.hide,
                    hide,
                    |h| h > 0.0 && h < 1.0,
                    "hide is the chance an observed label is hidden from the imputer, in (0, 1)",
                )?,
                copies: count(
                    &key("copies"),
                    r.copies,
                    copies,
                    "copies must be at least 1",
                )?,
                weight: number(
                    &key("weight"),
                    r.weight,
                    weight,
                    |w| w > 0.0,
                    POSITIVE_WEIGHT,
                )?,
            }
        }
        StrategyParams::Role { lambda, table_lr } => {
            let r = raw.role.clone().unwrap_or_default();
            let key = |k: &str| format!("strategy-options.role.{k}");
            StrategyParams::Role {
                lambda: number(
                    &key("lambda"),
                    r.lambda,
                    lambda,
                    |l| l >= 0.0,
                    "lambda must not be negative",
                )?,
                table_lr: number(
                    &key("table-lr"),
                    r.table_lr,
                    table_lr,
                    |t| t > 0.0,
                    "table-lr multiplies the learning rate: it must be positive",
                )?,
            }
        }
        StrategyParams::PseudoLabel {
            positive,
            negative,
            weight,
            rounds,
        } => {
            let r = raw.pseudo_label.clone().unwrap_or_default();
            let key = |k: &str| format!("strategy-options.pseudo-label.{k}");
            StrategyParams::PseudoLabel {
                positive: number(&key("positive"), r.positive, positive, |p| p > 0.5 && p <= 1.0, "positive is the probability a missing cell needs to become a positive, in (0.5, 1]")?,
                negative: number(&key("negative"), r.negative, negative, |n| (0.0..0.5).contains(&n), "negative is the probability a missing cell must not exceed to become a negative, in [0, 0.5)")?,
                weight: number(&key("weight"), r.weight, weight, |w| w > 0.0, POSITIVE_WEIGHT)?,
                rounds: count(&key("rounds"), r.rounds, rounds, "rounds must be at least 1 (pseudo-label with no round is masked)")?,
            }
        }
    })
}
