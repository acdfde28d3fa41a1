//! The settings a report groups runs by. A variant of an experiment file may itself be a
//! grid over training settings (hidden sizes, learning rates, batch sizes, ...) or over
//! per-task drop rates; runs that differ in anything but their seed and strategy are never
//! one group. Each group is named by its variant and, only where they vary within it, the
//! settings that set it apart (`wide · hidden [64,32] · learning-rate 0.01`), so tables,
//! findings and figures say which setting they show. A grid with none of these axes keeps
//! its variants' plain names.

use crate::spec::RunSpec;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Names of the setting groups of one grid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Groups {
    /// Per variant, the training keys (`hidden`, `learning-rate`, ...) that vary within it,
    /// and whether two drop settings share a mechanism and nominal rate.
    varies: HashMap<String, (Vec<String>, bool)>,
}

fn variant(spec: &RunSpec) -> &str {
    spec.variant.as_deref().unwrap_or_default()
}

/// The training settings by key, as written in experiment files. Settings a record leaves
/// out at their default (dropout and weight decay at 0) are named with it, so that a grid
/// over `dropout = [0.0, 0.5]` shows both values.
fn training_settings(spec: &RunSpec) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert(
        "hidden".to_string(),
        format!("{:?}", spec.hidden).replace(' ', ""),
    );
    out.insert("dropout".to_string(), spec.training.dropout.to_string());
    out.insert(
        "weight-decay".to_string(),
        spec.training.weight_decay.to_string(),
    );
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(&spec.training) {
        for (k, v) in map {
            out.insert(k, v.to_string());
        }
    }
    out
}

impl Groups {
    /// The groups of the grid whose runs are `specs`.
    pub fn of<'a>(specs: impl IntoIterator<Item = &'a RunSpec>) -> Groups {
        type Seen = (
            BTreeMap<String, BTreeSet<String>>,
            HashMap<(String, u64), BTreeSet<String>>,
        );
        let mut seen: HashMap<String, Seen> = HashMap::new();
        for spec in specs {
            let (training, drops) = seen.entry(variant(spec).to_string()).or_default();
            for (k, v) in training_settings(spec) {
                training.entry(k).or_default().insert(v);
            }
            // Rates a reader cannot tell apart collide too (0.6+0.4+0.2 and 0.2+0.4+0.6
            // differ in their last bit).
            let at = (
                spec.missing.mechanism_label(),
                (spec.missing.nominal_rate() * 1e9).round() as u64,
            );
            let detail = serde_json::to_string(&spec.missing).unwrap_or_default();
            drops.entry(at).or_default().insert(detail);
        }
        let varies = seen
            .into_iter()
            .map(|(v, (training, drops))| {
                let keys = training
                    .into_iter()
                    .filter(|(_, values)| values.len() > 1)
                    .map(|(k, _)| k)
                    .collect();
                let drops_collide = drops.values().any(|d| d.len() > 1);
                (v, (keys, drops_collide))
            })
            .collect();
        Groups { varies }
    }

    /// The name of the group a run belongs to.
    pub fn name(&self, spec: &RunSpec) -> String {
        let base = variant(spec);
        let Some((keys, drops_collide)) = self.varies.get(base) else {
            return base.to_string();
        };
        if keys.is_empty() && !drops_collide {
            return base.to_string();
        }
        let settings = training_settings(spec);
        let mut parts: Vec<String> = Vec::new();
        if !base.is_empty() {
            parts.push(base.to_string());
        }
        for k in keys {
            parts.push(format!(
                "{k} {}",
                settings.get(k).map_or("-", |v| v.as_str())
            ));
        }
        if *drops_collide {
            if let Some(rates) = &spec.missing.task_rates {
                let rates: Vec<String> = rates.iter().map(|r| r.to_string()).collect();
                parts.push(format!("task rates [{}]", rates.join(",")));
            }
        }
        parts.join(" · ")
    }
}
