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
    let check = |key: &str, value: f64, ok: bool, rule: &str| {
        finite(key, &[value], err)?;
        if ok {
            Ok(value)
        } else {
            Err(err(key, format!("{value}: {rule}")))
        }
    };
    Ok(match default {
        StrategyParams::PartialBce { alpha, beta, gamma } => {
            let r = raw.partial_bce.clone().unwrap_or_default();
            let (alpha, beta, gamma) = (
                r.alpha.unwrap_or(alpha),
                r.beta.unwrap_or(beta),
                r.gamma.unwrap_or(gamma),
            );
            let key = "strategy-options.partial-bce";
            check(
                &format!("{key}.gamma"),
                gamma,
                gamma > 0.0,
                "gamma must be positive",
            )?;
            check(
                &format!("{key}.beta"),
                beta,
                beta >= 0.0,
                "g(0) = beta must not be negative (a negative weight rewards errors)",
            )?;
            check(
                &format!("{key}.alpha"),
                alpha,
                alpha + beta >= 0.0,
                "g(1) = alpha + beta must not be negative (a negative weight rewards errors)",
            )?;
            StrategyParams::PartialBce { alpha, beta, gamma }
        }
        StrategyParams::AnLs { smoothing } => {
            let s = raw
                .an_ls
                .as_ref()
                .and_then(|r| r.smoothing)
                .unwrap_or(smoothing);
            check(
                "strategy-options.an-ls.smoothing",
                s,
                (0.0..0.5).contains(&s),
                "smoothing must be in [0, 0.5): a positive's target is 1 - smoothing, a negative's smoothing",
            )?;
            StrategyParams::AnLs { smoothing: s }
        }
        StrategyParams::Epr { lambda } => {
            let l = raw.epr.as_ref().and_then(|r| r.lambda).unwrap_or(lambda);
            check(
                "strategy-options.epr.lambda",
                l,
                l >= 0.0,
                "lambda must not be negative",
            )?;
            StrategyParams::Epr { lambda: l }
        }
        StrategyParams::LargeLoss {
            mode,
            max_rate,
            warmup_epochs,
            ramp_epochs,
        } => {
            let r = raw.large_loss.clone().unwrap_or_default();
            let key = "strategy-options.large-loss";
            let max_rate = r.max_rate.unwrap_or(max_rate);
            check(
                &format!("{key}.max-rate"),
                max_rate,
                (0.0..=1.0).contains(&max_rate),
                "max-rate is a share of the missing cells, in [0, 1]",
            )?;
            let warmup = r.warmup_epochs.unwrap_or(warmup_epochs);
            check(
                &format!("{key}.warmup-epochs"),
                warmup,
                warmup >= 0.0,
                "warmup-epochs must not be negative",
            )?;
            let ramp = r.ramp_epochs.unwrap_or(ramp_epochs);
            check(
                &format!("{key}.ramp-epochs"),
                ramp,
                ramp >= 0.0,
                "ramp-epochs must not be negative",
            )?;
            StrategyParams::LargeLoss {
                mode: r.mode.unwrap_or(mode),
                max_rate,
                warmup_epochs: warmup,
                ramp_epochs: ramp,
            }
        }
        StrategyParams::LabelConditional {
            hide,
            copies,
            weight,
        } => {
            let r = raw.label_conditional.clone().unwrap_or_default();
            let key = "strategy-options.label-conditional";
            let hide = r.hide.unwrap_or(hide);
            check(
                &format!("{key}.hide"),
                hide,
                hide > 0.0 && hide < 1.0,
                "hide is the chance an observed label is hidden from the imputer, in (0, 1)",
            )?;
            let weight = r.weight.unwrap_or(weight);
            check(
                &format!("{key}.weight"),
                weight,
                weight > 0.0,
                "weight must be positive",
            )?;
            let copies = r.copies.unwrap_or(copies);
            if copies == 0 {
                return Err(err(
                    &format!("{key}.copies"),
                    "copies must be at least 1".into(),
                ));
            }
            StrategyParams::LabelConditional {
                hide,
                copies,
                weight,
            }
        }
        StrategyParams::Role { lambda, table_lr } => {
            let r = raw.role.clone().unwrap_or_default();
            let key = "strategy-options.role";
            let lambda = r.lambda.unwrap_or(lambda);
            check(
                &format!("{key}.lambda"),
                lambda,
                lambda >= 0.0,
                "lambda must not be negative",
            )?;
            let table_lr = r.table_lr.unwrap_or(table_lr);
            check(
                &format!("{key}.table-lr"),
                table_lr,
                table_lr > 0.0,
                "table-lr multiplies the learning rate: it must be positive",
            )?;
            StrategyParams::Role { lambda, table_lr }
        }
        StrategyParams::PseudoLabel {
            positive,
            negative,
            weight,
            rounds,
        } => {
            let r = raw.pseudo_label.clone().unwrap_or_default();
            let key = "strategy-options.pseudo-label";
            let positive = r.positive.unwrap_or(positive);
            check(&format!("{key}.positive"), positive, positive > 0.5 && positive <= 1.0, "positive is the probability a missing cell needs to become a positive, in (0.5, 1]")?;
            let negative = r.negative.unwrap_or(negative);
            check(&format!("{key}.negative"), negative, (0.0..0.5).contains(&negative), "negative is the probability a missing cell must not exceed to become a negative, in [0, 0.5)")?;
            let weight = r.weight.unwrap_or(weight);
            check(
                &format!("{key}.weight"),
                weight,
                weight > 0.0,
                "weight must be positive",
            )?;
            let rounds = r.rounds.unwrap_or(rounds);
            if rounds == 0 {
                return Err(err(
                    &format!("{key}.rounds"),
                    "rounds must be at least 1 (pseudo-label with no round is masked)".into(),
                ));
            }
            StrategyParams::PseudoLabel {
                positive,
                negative,
                weight,
                rounds,
            }
        }
    })
}
