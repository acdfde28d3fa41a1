//! MBTI-style text: the loader for the Kaggle `type,posts` CSV (`mbti_1.csv`), and a seeded
//! generator of corpora in the same format.
//!
//! Four binary tasks, one per axis, positive for the first letter: `introvert` (I vs E),
//! `intuitive` (N vs S), `thinking` (T vs F), `judging` (J vs P). A type may hold `X` on an
//! axis a labeller left blank (`INXJ`): that axis's label is then missing.

use crate::csvio::{csv_reader, for_each_record, read_header};
use crate::input::Input;
use crate::DataError;
use ndarray::Array2;
use rand::seq::IndexedRandom;
use rand::Rng;
use std::io::Write;
use std::path::Path;

/// Task names, in column order.
pub const MBTI_TASKS: [&str; 4] = ["introvert", "intuitive", "thinking", "judging"];
/// The letters of each axis: (positive, negative).
pub const AXES: [(u8, u8); 4] = [(b'I', b'E'), (b'N', b'S'), (b'T', b'F'), (b'J', b'P')];
/// Share of each axis's positive letter (I, N, T, J) in the real Kaggle file, from its
/// published balance: I 0.770, N 0.862, F 0.541 (so T 0.459), P 0.604 (so J 0.396).
pub const REAL_POSITIVE_SHARE: [f64; 4] = [0.770, 0.862, 1.0 - 0.541, 1.0 - 0.604];

/// Texts with one label row each.
#[derive(Clone, Debug, PartialEq)]
pub struct TextCorpus {
    pub texts: Vec<String>,
    /// `(rows, 4)`: 0/1 where observed, NaN elsewhere.
    pub labels: Array2<f32>,
    pub observed: Array2<bool>,
    pub task_names: Vec<String>,
}

/// Parses a type such as `INFJ` (case-insensitive, `X` for a blank axis) into labels and
/// observed flags; `None` if it is not four valid letters.
pub fn parse_type(code: &str) -> Option<([f32; 4], [bool; 4])> {
    let bytes = code.trim().as_bytes();
    if bytes.len() != 4 {
        return None;
    }
    let mut labels = [f32::NAN; 4];
    let mut observed = [false; 4];
    for (k, (&b, &(pos, neg))) in bytes.iter().zip(&AXES).enumerate() {
        match b.to_ascii_uppercase() {
            c if c == pos => (labels[k], observed[k]) = (1.0, true),
            c if c == neg => (labels[k], observed[k]) = (0.0, true),
            b'X' => {}
            _ => return None,
        }
    }
    Some((labels, observed))
}

/// Loads a Kaggle-format MBTI CSV (`type,posts`; other columns are ignored).
pub fn load_mbti<'a>(input: impl Into<Input<'a>>) -> Result<TextCorpus, DataError> {
    let input = input.into();
    let path = input.path;
    let bytes = input.read()?;
    let mut reader = csv_reader(&bytes);
    let header = read_header(&mut reader, path)?;
    let column = |name: &str| crate::csvio::column_index(&header, name, path);
    let (type_col, posts_col) = (column("type")?, column("posts")?);
    let (mut texts, mut labels, mut observed) = (Vec::new(), Vec::new(), Vec::new());
    for_each_record(&mut reader, path, |record, line| {
        let (l, o) = parse_type(&record[type_col]).ok_or_else(|| DataError::BadType {
            path: path.into(),
            line,
            value: record[type_col].to_string(),
        })?;
        labels.extend(l);
        observed.extend(o);
        texts.push(record[posts_col].to_string());
        Ok(())
    })?;
    let n = texts.len();
    Ok(TextCorpus {
        texts,
        labels: Array2::from_shape_vec((n, 4), labels).expect("four per row"),
        observed: Array2::from_shape_vec((n, 4), observed).expect("four per row"),
        task_names: MBTI_TASKS.iter().map(|s| s.to_string()).collect(),
    })
}

/// Parameters of a generated corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct MbtiParams {
    pub users: usize,
    pub posts_per_user: usize,
    pub words_per_post: usize,
    /// Probability that a word is an axis signal word rather than filler, in `[0, 1]`.
    pub signal: f64,
    /// Probability that a signal word speaks for the user's own pole (else the opposite one).
    pub signal_fidelity: f64,
}

impl Default for MbtiParams {
    fn default() -> Self {
        MbtiParams {
            users: 2000,
            posts_per_user: 50,
            words_per_post: 12,
            signal: 0.08,
            signal_fidelity: 0.7,
        }
    }
}

/// Signal words per pole, in `AXES` order: (positive letter's, negative letter's).
const SIGNAL: [[&[&str]; 2]; 4] = [
    [
        &[
            "quiet",
            "alone",
            "recharge",
            "books",
            "solitude",
            "introspection",
            "home",
            "reserved",
            "drained",
            "headphones",
        ],
        &[
            "party",
            "friends",
            "crowd",
            "outgoing",
            "energized",
            "talking",
            "socialize",
            "club",
            "loud",
            "everyone",
        ],
    ],
    [
        &[
            "theory",
            "imagine",
            "abstract",
            "meaning",
            "possibilities",
            "symbolism",
            "future",
            "intuition",
            "concept",
            "patterns",
        ],
        &[
            "practical",
            "details",
            "facts",
            "hands",
            "concrete",
            "routine",
            "experience",
            "realistic",
            "tools",
            "today",
        ],
    ],
    [
        &[
            "logic",
            "analysis",
            "objective",
            "debate",
            "efficient",
            "argument",
            "rational",
            "data",
            "system",
            "critique",
        ],
        &[
            "feelings",
            "empathy",
            "harmony",
            "values",
            "hurt",
            "compassion",
            "heart",
            "care",
            "kindness",
            "emotional",
        ],
    ],
    [
        &[
            "plan",
            "schedule",
            "organized",
            "deadline",
            "list",
            "decided",
            "structure",
            "order",
            "finish",
            "tidy",
        ],
        &[
            "spontaneous",
            "flexible",
            "explore",
            "whatever",
            "improvise",
            "options",
            "procrastinate",
            "random",
            "adapt",
            "later",
        ],
    ],
];

const FILLER: &[&str] = &[
    "the",
    "a",
    "i",
    "you",
    "it",
    "is",
    "was",
    "and",
    "to",
    "of",
    "that",
    "in",
    "my",
    "me",
    "this",
    "for",
    "just",
    "so",
    "but",
    "have",
    "like",
    "not",
    "be",
    "what",
    "with",
    "do",
    "think",
    "know",
    "really",
    "people",
    "about",
    "get",
    "can",
    "would",
    "one",
    "time",
    "they",
    "if",
    "all",
    "out",
    "are",
    "your",
    "on",
    "at",
    "when",
    "how",
    "love",
    "lol",
    "good",
    "yeah",
    "much",
    "too",
    "more",
    "thing",
    "things",
    "work",
    "day",
    "life",
    "music",
    "song",
    "movie",
    "game",
    "thread",
    "post",
    "agree",
    "funny",
    "guess",
    "maybe",
    "never",
    "always",
    "sometimes",
    "feel",
    "want",
    "make",
    "going",
    "see",
    "also",
    "some",
    "very",
    "pretty",
    "well",
    "still",
    "even",
    "actually",
    "right",
    "cool",
    "haha",
    "thanks",
    "great",
];

fn type_code(poles: [bool; 4]) -> String {
    poles
        .iter()
        .zip(&AXES)
        .map(|(&p, &(a, b))| if p { a as char } else { b as char })
        .collect()
}

/// A corpus in the Kaggle format: rows of (type, posts joined by `|||`). Each user's four
/// letters are drawn with the real dataset's shares; posts mix filler with signal words, URLs,
/// and, as real users write, mentions of their own and others' type codes.
pub fn generate_mbti(params: &MbtiParams, rng: &mut impl Rng) -> Vec<(String, String)> {
    let mut rows = Vec::with_capacity(params.users);
    for _ in 0..params.users {
        let poles: [bool; 4] =
            std::array::from_fn(|k| rng.random::<f64>() < REAL_POSITIVE_SHARE[k]);
        let code = type_code(poles);
        let mut posts = String::new();
        for p in 0..params.posts_per_user {
            if p > 0 {
                posts.push_str("|||");
            }
            let roll = rng.random::<f64>();
            if roll < 0.08 {
                posts.push_str(&format!(
                    "https://www.youtube.com/watch?v={:011x}",
                    rng.random::<u64>() >> 20
                ));
                continue;
            }
            for w in 0..params.words_per_post {
                if w > 0 {
                    posts.push(' ');
                }
                if rng.random::<f64>() < params.signal {
                    let axis = rng.random_range(0..4);
                    let own = rng.random::<f64>() < params.signal_fidelity;
                    let pole = if own == poles[axis] { 0 } else { 1 };
                    posts.push_str(SIGNAL[axis][pole].choose(rng).expect("non-empty"));
                } else {
                    posts.push_str(FILLER.choose(rng).expect("non-empty"));
                }
            }
            if roll > 0.95 {
                // "as an INFJ I ...", or someone else's type.
                let mention = if roll > 0.975 {
                    code.clone()
                } else {
                    type_code(std::array::from_fn(|_| rng.random()))
                };
                posts.push_str(&format!(" as an {mention} i"));
            }
        }
        rows.push((code, posts));
    }
    rows
}

/// The generated rows as a corpus (what loading their CSV would give).
pub fn corpus_from_rows(rows: &[(String, String)]) -> TextCorpus {
    let n = rows.len();
    let mut labels = Array2::from_elem((n, 4), f32::NAN);
    let mut observed = Array2::from_elem((n, 4), false);
    for (i, (code, _)) in rows.iter().enumerate() {
        let (l, o) = parse_type(code).expect("generated types are valid");
        for k in 0..4 {
            labels[[i, k]] = l[k];
            observed[[i, k]] = o[k];
        }
    }
    TextCorpus {
        texts: rows.iter().map(|r| r.1.clone()).collect(),
        labels,
        observed,
        task_names: MBTI_TASKS.iter().map(|s| s.to_string()).collect(),
    }
}

/// Writes rows in the Kaggle format, atomically.
pub fn write_mbti_csv(rows: &[(String, String)], path: &Path) -> Result<(), DataError> {
    crate::csvio::write_atomic(path, |out: &mut dyn Write| {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["type", "posts"])?;
        for (t, p) in rows {
            w.write_record([t, p])?;
        }
        w.flush()?;
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The real 99-row sample, when it is here: `$MASKLAB_MBTI_SAMPLE`, else
    /// `../shared/data/mbti_sample.csv` beside the project. It holds people's posts and stays
    /// outside the repository, so a clone alone has none: then the tests that want it say so
    /// and the format fixture ([`fixture_path`]) keeps the loader covered.
    pub(crate) fn sample_path() -> Option<std::path::PathBuf> {
        let path = std::env::var_os("MASKLAB_MBTI_SAMPLE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mbti_sample.csv")
            });
        if path.is_file() {
            Some(path)
        } else {
            eprintln!(
                "the real MBTI sample is not at {}: its checks run on the format fixture only \
                 (set MASKLAB_MBTI_SAMPLE, or clone masklab beside `shared/`, to run them on it)",
                path.display()
            );
            None
        }
    }

    /// Invented posts in the Kaggle file's format (`tests/data/README.md`).
    pub(crate) fn fixture_path() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mbti_format.csv")
    }

    /// A data set shipped in the repository's `data/` (Tox21's, say).
    pub(crate) fn data_path(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(name)
    }

    #[test]
    fn parses_types_with_blank_axes() {
        assert_eq!(
            parse_type("INFJ").unwrap(),
            ([1.0, 1.0, 0.0, 1.0], [true; 4])
        );
        assert_eq!(parse_type("estp").unwrap().0, [0.0, 0.0, 1.0, 0.0]);
        let (l, o) = parse_type("INXJ").unwrap();
        assert_eq!(o, [true, true, false, true]);
        assert!(l[2].is_nan());
        for bad in ["INF", "INFJS", "ABCD", "IINJ", ""] {
            assert!(parse_type(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn loads_the_format_fixture() {
        let c = load_mbti(&fixture_path()).unwrap();
        assert_eq!(c.texts.len(), 12);
        assert_eq!(c.labels.row(0).to_vec(), vec![1.0, 1.0, 0.0, 1.0]); // INFJ
                                                                        // IXTJ: the blank axis is missing, the others observed.
        assert_eq!(c.observed.row(5).to_vec(), vec![true, false, true, true]);
        assert!(c
            .texts
            .iter()
            .all(|t| t.starts_with('\'') && t.contains("|||")));
        assert!(c.texts.iter().any(|t| t.contains("https://")));
        // A doubled quote in the CSV field is one quote in the post.
        assert!(c.texts.iter().any(|t| t.contains("\"you're such an ")));
    }

    #[test]
    fn loads_the_real_sample() {
        let Some(path) = sample_path() else {
            return;
        };
        let c = load_mbti(&path).unwrap();
        assert_eq!(c.texts.len(), 99);
        assert!(c.observed.iter().all(|&o| o));
        // The first row of the Kaggle file is an INFJ whose posts begin with a YouTube link.
        assert_eq!(c.labels.row(0).to_vec(), vec![1.0, 1.0, 0.0, 1.0]);
        assert!(c.texts[0].starts_with("'http://www.youtube.com"));
        assert!(c.texts.iter().all(|t| t.contains("|||")));
    }

    #[test]
    fn generated_corpus_has_the_real_balance_and_round_trips() {
        let params = MbtiParams {
            users: 4000,
            posts_per_user: 5,
            ..MbtiParams::default()
        };
        let rows = generate_mbti(&params, &mut ChaCha8Rng::seed_from_u64(1));
        let corpus = corpus_from_rows(&rows);
        for (k, &real) in REAL_POSITIVE_SHARE.iter().enumerate() {
            let share = corpus.labels.column(k).sum() as f64 / 4000.0;
            let se = (real * (1.0 - real) / 4000.0).sqrt();
            assert!((share - real).abs() < 5.0 * se, "axis {k}: {share}");
        }
        assert!(rows.iter().all(|(_, p)| p.split("|||").count() == 5));
        assert!(rows.iter().any(|(_, p)| p.contains("https://")));
        assert!(rows
            .iter()
            .any(|(t, p)| p.contains(&format!("as an {t} i"))));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mbti.csv");
        write_mbti_csv(&rows, &path).unwrap();
        assert_eq!(load_mbti(&path).unwrap(), corpus);
        assert_eq!(
            rows,
            generate_mbti(&params, &mut ChaCha8Rng::seed_from_u64(1))
        );
    }

    #[test]
    fn bad_mbti_files_name_file_line_and_rule() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        let cases: [(&[u8], &str); 4] = [
            (b"type,posts\nINFJ,hello\nINFQ,bye\n", "line 3: type `INFQ` is not four MBTI letters (I/E, N/S, T/F, J/P; X for a blank axis)"),
            (b"kind,posts\nINFJ,hello\n", "line 1: required column `type` is missing from the header (it has `kind`, `posts`)"),
            (b"type,posts\nINFJ,\"unterminated\xff\"\n", "line 2: not valid UTF-8"),
            (b"type,posts\nINFJ,a,b\n", "line 2: 3 fields where the header has 2"),
        ];
        for (bytes, rule) in cases {
            std::fs::write(&p, bytes).unwrap();
            let msg = load_mbti(&p).unwrap_err().to_string();
            assert_eq!(msg, format!("{}: {rule}", p.display()));
        }
        std::fs::write(&p, b"").unwrap();
        assert!(load_mbti(&p)
            .unwrap_err()
            .to_string()
            .ends_with("the file is empty (a header line is required)"));
    }
}
