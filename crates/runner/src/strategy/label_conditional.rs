//! `label-conditional`: imputation from the row's other labels (after Walter et al.,
//! J Cheminform 2022, who impute missing assay labels from the observed ones). The one
//! strategy here that uses the correlation between labels.
//!
//! Stage 1 trains an imputer whose input is the features, the row's visible labels (0
//! where not visible) and the visibility mask. Each training row appears `copies` (2)
//! times, each time with every observed label hidden with probability `hide` (0.5), and the
//! imputer is scored on the hidden ones only: it learns to predict a label from the
//! features and the others. Its dev rows are made the same way, for early stopping.
//! Stage 2 fills every missing training cell with the imputer's probability, given all the
//! row's observed labels, as a soft target of weight `weight` (0.5), and trains the final
//! network, which sees the features only, on the observed labels (weight 1) and those.

use super::cell_targets::CellTargets;
use super::{Context, Filled, Network, NextStage, Stage};
use datagen::Dataset;
use ndarray::{concatenate, Array2, ArrayView2, Axis};
use nn::Loss;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use record::strategy::StrategyParams;

struct Params {
    hide: f64,
    copies: usize,
    weight: f32,
}

fn params(cx: &Context) -> Params {
    let Some(StrategyParams::LabelConditional {
        hide,
        copies,
        weight,
    }) = cx.params
    else {
        unreachable!("label-conditional runs carry their parameters")
    };
    Params {
        hide,
        copies,
        weight: weight as f32,
    }
}

/// Stage 1: the imputer, on copies of the training rows with labels hidden at random.
pub fn networks<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let p = params(cx);
    let mut rng = ChaCha8Rng::seed_from_u64(cx.seed);
    rng.set_stream(1 << 41); // far from every network's streams
    let train = hidden_copies(cx.train, p.copies, p.hide, &mut rng);
    let dev = hidden_copies(cx.dev, 1, p.hide, &mut rng);
    vec![Network {
        tasks: (0..cx.train.n_tasks()).collect(),
        x: train.features.into(),
        y: train.labels,
        observed: train.observed,
        objective: Box::new(Loss::masked()),
        dev: Some(dev),
    }]
}

/// Stage 2: the final network on the observed labels and the imputer's fill.
pub fn next_stage<'a>(cx: &Context<'a>, done: &Stage) -> Option<NextStage<'a>> {
    if done.index > 0 {
        return None;
    }
    let p = params(cx);
    let train = cx.train;
    let input = conditioned(
        train.features.view(),
        train.labels.view(),
        train.observed.view(),
    );
    let filled = (done.predict)(input.view());
    let targets = ndarray::Zip::from(&train.labels)
        .and(&train.observed)
        .and(&filled)
        .map_collect(|&y, &o, &f| if o { y } else { f });
    let weights = train.observed.mapv(|o| if o { 1.0 } else { p.weight });
    let filled = Filled {
        cells: train.observed.mapv(|o| !o),
        targets: targets.clone(),
    };
    Some(NextStage {
        networks: vec![Network {
            tasks: (0..train.n_tasks()).collect(),
            x: train.features.view().into(),
            y: train.labels.clone(),
            observed: train.observed.clone(),
            objective: Box::new(CellTargets { targets, weights }),
            dev: None,
        }],
        filled: Some(filled),
    })
}

/// The imputer's input: `[features | labels where visible, else 0 | visible as 0/1]`.
fn conditioned(
    features: ArrayView2<f32>,
    labels: ArrayView2<f32>,
    visible: ArrayView2<bool>,
) -> Array2<f32> {
    let shown = super::filled(labels, visible, 0.0);
    let mask = visible.mapv(|v| v as u8 as f32);
    concatenate(Axis(1), &[features, shown.view(), mask.view()]).expect("same rows")
}

/// `copies` copies of `d`'s rows, each observed label hidden with probability `hide`:
/// the inputs show the rest, and the observed mask marks the hidden ones, which are scored.
fn hidden_copies(d: &Dataset, copies: usize, hide: f64, rng: &mut impl Rng) -> Dataset {
    let mut parts = Vec::with_capacity(copies);
    let mut scored = Vec::with_capacity(copies);
    for _ in 0..copies {
        let hidden = d.observed.mapv(|o| o && rng.random::<f64>() < hide);
        let visible = ndarray::Zip::from(&d.observed)
            .and(&hidden)
            .map_collect(|&o, &h| o && !h);
        parts.push(conditioned(
            d.features.view(),
            d.labels.view(),
            visible.view(),
        ));
        scored.push(hidden);
    }
    let mut feature_names = d.feature_names.clone();
    for prefix in ["label", "shown"] {
        feature_names.extend(d.task_names.iter().map(|t| format!("{prefix}:{t}")));
    }
    Dataset {
        features: stacked(&parts),
        labels: concatenate(Axis(0), &vec![d.labels.view(); copies]).expect("same width"),
        observed: stacked(&scored),
        task_names: d.task_names.clone(),
        feature_names,
        truth: None,
    }
}

/// The arrays one under another.
fn stacked<T: Clone>(parts: &[Array2<T>]) -> Array2<T> {
    let views: Vec<ArrayView2<T>> = parts.iter().map(|a| a.view()).collect();
    concatenate(Axis(0), &views).expect("same width")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn dataset() -> Dataset {
        Dataset {
            features: array![[0.5f32], [0.25]],
            labels: array![[1.0f32, 0.0, f32::NAN], [0.0, 1.0, 1.0]],
            observed: array![[true, true, false], [true, true, true]],
            task_names: vec!["a".into(), "b".into(), "c".into()],
            feature_names: vec!["x".into()],
            truth: None,
        }
    }

    #[test]
    fn the_input_shows_visible_labels_and_the_mask_and_hides_the_rest() {
        let d = dataset();
        let visible = array![[true, false, false], [false, true, true]];
        let x = conditioned(d.features.view(), d.labels.view(), visible.view());
        assert_eq!(
            x,
            array![
                [0.5f32, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
                [0.25, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
            ]
        );
    }

    #[test]
    fn copies_score_exactly_the_hidden_observed_labels() {
        let d = dataset();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let c = hidden_copies(&d, 50, 0.5, &mut rng);
        assert_eq!(c.features.dim(), (100, 7));
        let (mut hidden, mut observed) = (0, 0);
        for r in 0..100 {
            for t in 0..3 {
                let shown = c.features[[r, 4 + t]] == 1.0;
                let was_observed = d.observed[[r % 2, t]];
                // A scored cell is observed and not shown; a shown one is observed.
                assert!(!(c.observed[[r, t]] && shown));
                assert_eq!(c.observed[[r, t]] || shown, was_observed);
                // What is shown is the label.
                if shown {
                    assert_eq!(c.features[[r, 1 + t]], d.labels[[r % 2, t]]);
                }
                hidden += c.observed[[r, t]] as usize;
                observed += was_observed as usize;
            }
        }
        // About half the observed labels hidden (250 observed cells).
        assert!((100..150).contains(&hidden), "{hidden} of {observed}");
        assert_eq!(c.feature_names.len(), 7);
    }
}
