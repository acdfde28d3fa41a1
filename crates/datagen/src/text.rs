//! Text features: tokens, signed feature hashing, TF-IDF fitted on the training rows, L2
//! normalisation, and an optional truncated SVD.
//!
//! Tokens are lowercase runs of letters, digits and inner apostrophes; `|` and white space
//! separate posts and words. A URL (`http://`, `https://`, `www.`) becomes the one token
//! `__url__`. **The 16 type codes and their obvious variants are removed**: `infj`, `INFJs`,
//! `infj's`, and codes with one blank axis such as `inxj`. They name the label, so a model that
//! saw them would learn to read labels, not personalities.

use crate::mbti::TextCorpus;
use crate::svd::TruncatedSvd;
use crate::Dataset;
use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng;

/// The token a URL becomes.
pub const URL_TOKEN: &[u8] = b"__url__";

/// Calls `emit` with each token of `text`, lowercased, type codes removed.
pub fn for_each_token(text: &str, mut emit: impl FnMut(&[u8])) {
    let mut token: Vec<u8> = Vec::with_capacity(32);
    for chunk in text
        .as_bytes()
        .split(|&b| b.is_ascii_whitespace() || b == b'|')
    {
        let start = chunk
            .iter()
            .position(|&b| b.is_ascii_alphanumeric() || b >= 0x80)
            .unwrap_or(chunk.len());
        let chunk = &chunk[start..];
        if is_url(chunk) {
            emit(URL_TOKEN);
            continue;
        }
        for word in chunk.split(|&b| !(b.is_ascii_alphanumeric() || b == b'\'' || b >= 0x80)) {
            let word = trim_apostrophes(word);
            if word.is_empty() {
                continue;
            }
            token.clear();
            token.extend(word.iter().map(|b| b.to_ascii_lowercase()));
            if !is_type_code(&token) {
                emit(&token);
            }
        }
    }
}

fn is_url(chunk: &[u8]) -> bool {
    let starts = |p: &[u8]| chunk.len() >= p.len() && chunk[..p.len()].eq_ignore_ascii_case(p);
    starts(b"http://") || starts(b"https://") || starts(b"www.")
}

fn trim_apostrophes(mut w: &[u8]) -> &[u8] {
    while let [b'\'', rest @ ..] = w {
        w = rest;
    }
    while let [rest @ .., b'\''] = w {
        w = rest;
    }
    w
}

/// A lowercase token that begins with an MBTI type code (at most one axis blank as `x`):
/// the code itself, its plural or possessive, and words built on it (`intjness`, `infpish`,
/// `isfp´s`, a user name like `infpblog`), all of which name the label. No English word
/// begins with these four letters.
pub fn is_type_code(token: &[u8]) -> bool {
    if token.len() < 4 {
        return false;
    }
    let code = &token[..4];
    const LETTERS: [&[u8; 3]; 4] = [b"iex", b"nsx", b"tfx", b"jpx"];
    let fits = code
        .iter()
        .zip(LETTERS)
        .all(|(b, allowed)| allowed.contains(b));
    fits && code.iter().filter(|&&b| b == b'x').count() <= 1
}

/// 64-bit FNV-1a with a final mix, so that low bits (the bucket) and the top bit (the sign)
/// both depend on every byte.
#[inline]
fn hash(token: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in token {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Adds the signed hashed counts of `text`'s tokens into `row` (`dims = row.len()` buckets):
/// each token adds ±1 to bucket `hash % dims`, the sign from the hash's top bit, so that
/// collisions cancel on average instead of piling up.
pub fn add_hashed_counts(text: &str, row: &mut [f32]) {
    let dims = row.len() as u64;
    for_each_token(text, |token| {
        let h = hash(token);
        let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
        row[(h % dims) as usize] += sign;
    });
}

/// Hashed counts of every text, `(texts, dims)`.
pub fn hashed_counts(texts: &[String], dims: usize) -> Array2<f32> {
    assert!(dims > 0, "at least one hashing dimension");
    let mut counts = Array2::zeros((texts.len(), dims));
    for (text, mut row) in texts.iter().zip(counts.axis_iter_mut(Axis(0))) {
        add_hashed_counts(text, row.as_slice_mut().expect("row-major"));
    }
    counts
}

/// Parameters of the text features.
#[derive(Clone, Debug, PartialEq)]
pub struct TextParams {
    /// Hashing buckets.
    pub dims: usize,
    /// Reduce to this many dimensions with a truncated SVD fitted on the training rows.
    pub svd_dims: Option<usize>,
}

impl Default for TextParams {
    fn default() -> Self {
        TextParams {
            dims: 4096,
            svd_dims: None,
        }
    }
}

/// TF-IDF weights (and optionally an SVD) fitted on training rows, to apply to any rows.
#[derive(Clone, Debug)]
pub struct TfIdf {
    /// Smooth IDF per bucket: `ln((1 + n) / (1 + df)) + 1`, as scikit-learn computes it.
    pub idf: Vec<f32>,
    pub svd: Option<TruncatedSvd>,
}

impl TfIdf {
    /// Fits the IDF (and the SVD, drawing its random projection from `rng`) on `rows` of
    /// hashed `counts`. Only those rows are looked at.
    pub fn fit(
        counts: ArrayView2<f32>,
        rows: &[usize],
        svd_dims: Option<usize>,
        rng: &mut impl Rng,
    ) -> Self {
        let n = rows.len() as f32;
        let mut df = vec![0f32; counts.ncols()];
        for &r in rows {
            for (d, &c) in df.iter_mut().zip(counts.row(r)) {
                *d += (c != 0.0) as u8 as f32;
            }
        }
        let idf = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d)).ln() + 1.0)
            .collect();
        let mut fitted = TfIdf { idf, svd: None };
        if let Some(k) = svd_dims {
            let train = fitted.weigh(counts.select(Axis(0), rows).view());
            fitted.svd = Some(TruncatedSvd::fit(train.view(), k, rng));
        }
        fitted
    }

    /// TF-IDF weighted, L2-normalised rows (an all-zero row stays zero).
    pub fn weigh(&self, counts: ArrayView2<f32>) -> Array2<f32> {
        let mut x = counts.to_owned();
        for mut row in x.axis_iter_mut(Axis(0)) {
            let row = row.as_slice_mut().expect("row-major");
            for (v, &w) in row.iter_mut().zip(&self.idf) {
                *v *= w;
            }
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|v| *v /= norm);
            }
        }
        x
    }

    /// The features of `counts`: weighted, normalised, and projected when an SVD was fitted.
    pub fn transform(&self, counts: ArrayView2<f32>) -> Array2<f32> {
        let x = self.weigh(counts);
        match &self.svd {
            Some(svd) => svd.transform(x.view()),
            None => x,
        }
    }
}

/// The corpus as a dataset of text features, fitted on `train_rows` only.
pub fn featurize(
    corpus: &TextCorpus,
    train_rows: &[usize],
    params: &TextParams,
    rng: &mut impl Rng,
) -> Dataset {
    let counts = hashed_counts(&corpus.texts, params.dims);
    featurize_counts(corpus, counts.view(), train_rows, params.svd_dims, rng)
}

/// [`featurize`] from hashed counts already computed (a sweep hashes a corpus once and
/// fits TF-IDF per split): features named `hash{j}`, or `svd{j}` after an SVD.
pub fn featurize_counts(
    corpus: &TextCorpus,
    counts: ArrayView2<f32>,
    train_rows: &[usize],
    svd_dims: Option<usize>,
    rng: &mut impl Rng,
) -> Dataset {
    let tfidf = TfIdf::fit(counts, train_rows, svd_dims, rng);
    let features = tfidf.transform(counts);
    let prefix = if svd_dims.is_some() { "svd" } else { "hash" };
    let complete = corpus.observed.iter().all(|&o| o);
    Dataset {
        feature_names: (0..features.ncols())
            .map(|j| format!("{prefix}{j}"))
            .collect(),
        features,
        truth: complete.then(|| corpus.labels.clone()),
        labels: corpus.labels.clone(),
        observed: corpus.observed.clone(),
        task_names: corpus.task_names.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mbti::{
        load_mbti,
        tests::{fixture_path, sample_path},
    };
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_token(text, |t| out.push(String::from_utf8_lossy(t).into_owned()));
        out
    }

    #[test]
    fn tokenises_posts_urls_and_removes_type_codes() {
        assert_eq!(
            tokens("'http://youtu.be/x Hello, World!|||As an INFJ, my INTJs' friend's ENFP's|||www.site.org/a don't"),
            vec!["__url__", "hello", "world", "as", "an", "my", "friend's", "__url__", "don't"]
        );
        assert_eq!(
            tokens("INXJ or ixxj, esfps vs estp-ish"),
            vec!["or", "ixxj", "vs", "ish"]
        );
        assert_eq!(
            tokens("exit  isnt intjness infpblog isfp´s Enfj7 ixxjish"),
            vec!["exit", "isnt", "ixxjish"]
        );
        // Non-ASCII letters stay inside their word (only ASCII is lowercased).
        assert_eq!(tokens("Ünïcode CAFÉ"), vec!["Ünïcode", "cafÉ"]);
        assert!(tokens("").is_empty() && tokens(" ||| ").is_empty());
    }

    #[test]
    fn signed_hashing_counts_tokens() {
        let mut row = vec![0f32; 1 << 16];
        add_hashed_counts("apple apple pear", &mut row);
        let nonzero: Vec<f32> = row.iter().copied().filter(|&v| v != 0.0).collect();
        // Two distinct buckets (no collision at this width): |apple| = 2, |pear| = 1.
        let mut magnitudes: Vec<f32> = nonzero.iter().map(|v| v.abs()).collect();
        magnitudes.sort_by(f32::total_cmp);
        assert_eq!(magnitudes, vec![1.0, 2.0]);
        // Both signs occur across many tokens.
        let mut wide = vec![0f32; 1 << 16];
        add_hashed_counts(
            &(0..200)
                .map(|i| format!("w{i}"))
                .collect::<Vec<_>>()
                .join(" "),
            &mut wide,
        );
        assert!(wide.iter().any(|&v| v > 0.0) && wide.iter().any(|&v| v < 0.0));
    }

    #[test]
    fn tfidf_is_fitted_on_training_rows_only() {
        let texts: Vec<String> = ["a b", "a c", "zzz zzz"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let counts = hashed_counts(&texts, 1 << 12);
        let fit = TfIdf::fit(
            counts.view(),
            &[0, 1],
            None,
            &mut ChaCha8Rng::seed_from_u64(0),
        );
        let bucket = |tok: &str| {
            (0..1 << 12)
                .find(|&j| {
                    let mut r = vec![0f32; 1 << 12];
                    add_hashed_counts(tok, &mut r);
                    r[j] != 0.0
                })
                .unwrap()
        };
        // `a` is in both training docs: idf = ln(3/3) + 1 = 1; `b` in one: ln(3/2) + 1;
        // `zzz` only outside training: ln(3/1) + 1, as if unseen.
        assert!((fit.idf[bucket("a")] - 1.0).abs() < 1e-6);
        assert!((fit.idf[bucket("b")] - (1.5f32.ln() + 1.0)).abs() < 1e-6);
        assert!((fit.idf[bucket("zzz")] - (3f32.ln() + 1.0)).abs() < 1e-6);
        let x = fit.transform(counts.view());
        for row in x.rows() {
            assert!((row.dot(&row) - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn the_real_sample_and_the_fixture_featurize_without_type_codes() {
        for path in std::iter::once(fixture_path()).chain(sample_path()) {
            featurizes_without_type_codes(&path);
        }
    }

    fn featurizes_without_type_codes(path: &std::path::Path) {
        let corpus = load_mbti(path).unwrap();
        // Independently of the tokeniser's filter: the 16 codes written out by hand, and a
        // plain split on non-letters. The sample names types in its posts...
        const CODES: [&str; 16] = [
            "intj", "intp", "entj", "entp", "infj", "infp", "enfj", "enfp", "istj", "isfj", "estj",
            "esfj", "istp", "isfp", "estp", "esfp",
        ];
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| !w.is_empty())
                .map(|w| w.to_ascii_lowercase())
                .collect()
        };
        let mentions: usize = corpus
            .texts
            .iter()
            .map(|t| {
                words(t)
                    .iter()
                    .filter(|w| CODES.contains(&w.as_str()))
                    .count()
            })
            .sum();
        assert!(mentions > 10, "the sample should name types ({mentions})");
        // ...and none reaches a token, nor a feature: a text of type codes hashes to nothing,
        // and adding them to a text leaves its counts as they were.
        let mut tokens = Vec::new();
        for text in &corpus.texts {
            for_each_token(text, |t| {
                tokens.push(String::from_utf8_lossy(t).to_ascii_lowercase())
            });
        }
        let leaked: Vec<&String> = tokens
            .iter()
            .filter(|t| CODES.iter().any(|c| t.contains(c)))
            .collect();
        assert!(leaked.is_empty(), "{leaked:?}");
        let codes = CODES.join(" ") + " INTJs ENFP. (istp)";
        assert!(hashed_counts(std::slice::from_ref(&codes), 64)
            .iter()
            .all(|&v| v == 0.0));
        let plain = hashed_counts(&["hello world".to_string()], 64);
        assert_eq!(hashed_counts(&[format!("hello {codes} world")], 64), plain);
        let n = corpus.texts.len();
        let train: Vec<usize> = (0..n * 8 / 10).collect();
        let svd_dims = 16.min(train.len() / 2);
        let params = TextParams {
            dims: 2048,
            svd_dims: Some(svd_dims),
        };
        let d = featurize(&corpus, &train, &params, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(d.features.dim(), (n, svd_dims));
        assert!(d.features.iter().all(|v| v.is_finite()));
        assert_eq!(d.task_names.len(), 4);
        // A raw sample post mentions type codes; they are gone from the tokens.
        assert!(corpus.texts[0].to_lowercase().contains("infj"));
    }
}
