//! Every malformed input a user can give (experiment files, CSV data, command-line
//! arguments) gets exit code 2, one line naming the file and the line or key with the rule
//! broken, and leaves nothing written.

use crate::common::{masklab, SMALL};
use std::path::Path;

/// One malformed input: what to change in the small experiment, an optional CSV beside it,
/// extra arguments, and what the one error line must contain.
struct Case {
    name: &'static str,
    /// `(find, replace)` edits applied to [`SMALL`] in order.
    edits: &'static [(&'static str, &'static str)],
    /// Text appended to the experiment file.
    append: &'static str,
    /// A CSV written as `data.csv` beside the experiment.
    csv: Option<&'static str>,
    args: &'static [&'static str],
    /// The subcommand: `sweep`, or `slurm` for the job-array arguments.
    command: &'static str,
    /// The experiment file's name (without `.toml`).
    file: &'static str,
    expected: &'static str,
}

const CSV_SOURCE: (&str, &str) = (
    "source = \"toy\"\nrows = 3000",
    "source = \"csv\"\npath = \"data.csv\"\nlabel-prefix = \"y\"",
);

const SMILES_SOURCE: (&str, &str) = (
    "source = \"toy\"\nrows = 3000",
    "source = \"smiles-csv\"\npath = \"data.csv\"\nlabel-columns = [\"a\"]",
);

const COLUMN_SPLIT: (&str, &str) = ("test-rows = 500", "method = \"column\"");

const fn case(
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    expected: &'static str,
) -> Case {
    Case {
        name,
        edits,
        append: "",
        csv: None,
        args: &[],
        command: "sweep",
        file: "bad",
        expected,
    }
}

fn cases() -> Vec<Case> {
    let good_csv = "x0,x1,y0,y1\n0.1,0.2,1,0\n0.3,0.4,0,1\n0.5,0.6,1,-1\n0.7,0.8,0,0\n";
    vec![
        // Reading the TOML.
        case("unknown key", &[("epochs = 4", "epoch = 4")], "line 17: training.epoch: unknown field `epoch`, expected one of `epochs`"),
        case("wrong type", &[("epochs = 4", "epochs = \"ten\"")], "line 17: training.epochs: invalid type: string \"ten\", expected usize"),
        case("unknown strategy", &[("\"single-task\"]", "\"magic\"]")], "line 4: strategies: in the list: unknown variant `magic`, expected one of `masked`"),
        case("unknown source", &[("\"toy\"", "\"images\"")], "line 7: data.source: unknown variant `images`"),
        case("unclosed table", &[("[missing]", "[missing")], "line 13: (file): unclosed table, expected `]`"),
        case("unknown section", &[("[split]", "[splits]")], "line 10: (file): unknown field `splits`"),
        // Values.
        case("rate above 1", &[("rate = [0.0, 0.5]", "rate = [0.0, 1.5]")], "line 14: missing.rate: rate 1.5 is outside [0, 1]"),
        case("empty axis", &[("rate = [0.0, 0.5]", "rate = []")], "line 14: missing.rate: an empty list sweeps over nothing"),
        case("nan rate", &[("rate = [0.0, 0.5]", "rate = [0.0, nan]")], "line 14: missing.rate: NaN is not a finite number"),
        case("infinite learning rate", &[("learning-rate = 0.01", "learning-rate = inf")], "line 19: training.learning-rate: inf is not a finite number"),
        case("nan skew", &[("rate = [0.0, 0.5]", "mechanism = \"mnar\"\nrate = 0.5\nmnar-skew = nan")], "line 16: missing.mnar-skew: NaN is not a finite number"),
        case("zero epochs", &[("epochs = 4", "epochs = 0")], "line 17: training.epochs: epochs must be at least 1"),
        case("zero batch", &[("batch-size = 256", "batch-size = 0")], "line 18: training.batch-size: batch size must be at least 1"),
        case("zero hidden", &[("[training]", "[model]\nhidden = [10, 0]\n\n[training]")], "line 17: model.hidden: hidden layer sizes must be at least 1"),
        case("zero seeds", &[("seeds = 3", "seeds = 0")], "line 3: seeds: at least one seed is needed"),
        case("key of another source", &[("rows = 3000", "rows = 3000\nusers = 5")], "line 9: data.users: not used with source = \"toy\""),
        case("rows and fraction", &[("test-rows = 500", "test-rows = 500\ntest-fraction = 0.2")], "line 11: split.test-rows: give test-rows or test-fraction, not both"),
        case("task rates for 2 of 3 tasks", &[("rate = [0.0, 0.5]", "task-rates = [0.1, 0.2]")], "line 14: missing.task-rates: 2 rates given for 3 tasks"),
        case("rate and task rates", &[("rate = [0.0, 0.5]", "rate = 0.1\ntask-rates = [0.1, 0.2, 0.3]")], "missing.task-rates: give rate or task-rates, not both"),
        case("patience zero", &[("learning-rate = 0.01", "learning-rate = 0.01\npatience = 0")], "line 20: training.patience: patience must be at least 1 evaluation"),
        case("patience without evaluations", &[("learning-rate = 0.01", "learning-rate = 0.01\neval-every = 0\npatience = 3")], "line 21: training.patience: early stopping needs dev evaluations"),
        // Repeated axis values would run and count the same runs twice.
        case("repeated seed", &[("seeds = 3", "seeds = [0, 1, 1]")], "line 3: seeds: `1` is listed twice"),
        case("repeated rate", &[("rate = [0.0, 0.5]", "rate = [0.5, 0.5]")], "line 14: missing.rate: `0.5` is listed twice"),
        case("repeated strategy", &[("\"single-task\"]", "\"masked\"]")], "line 4: strategies: `masked` is listed twice"),
        case("repeated epochs", &[("epochs = 4", "epochs = [4, 4]")], "line 17: training.epochs: `4` is listed twice"),
        case("repeated architecture", &[("[training]", "[model]\nhidden = [[8], [8]]\n\n[training]")], "line 17: model.hidden: `[8]` is listed twice"),
        case("repeated mechanism", &[("rate = [0.0, 0.5]", "mechanism = [\"mcar\", \"mcar\"]\nrate = 0.5")], "line 14: missing.mechanism: `mcar` is listed twice"),
        // Rules that need the data.
        case("skew for mcar", &[("rate = [0.0, 0.5]", "rate = 0.5\nmnar-skew = 2.0")], "line 15: missing.mnar-skew: only mnar takes a skew"),
        case("unreachable mnar rate", &[("rate = [0.0, 0.5]", "mechanism = \"mnar\"\nrate = 0.9")], "line 15: missing.rate: an overall mnar drop rate of 0.9 cannot be reached at skew 3: with these labels' prevalences the highest reachable rate is 0."),
        case("all rows test", &[("test-rows = 500", "test-fraction = 1.0")], "line 11: split.test-fraction: leaves no rows to train on: of 3000 rows, 3000 test and 0 dev"),
        case("all rest dev", &[("test-rows = 500", "test-rows = 500\ndev-fraction = 1.0")], "line 12: split.dev-fraction: leaves no rows to train on: of 3000 rows, 500 test and 2500 dev"),
        case("test rows are every row", &[("test-rows = 500", "test-rows = 3000")], "line 11: split.test-rows: leaves no rows to train on: of 3000 rows, 3000 test and 0 dev"),
        case("scaffold split of toy data", &[("test-rows = 500", "test-fraction = 0.2\nmethod = \"scaffold\"")], "line 12: split.method: a scaffold split needs molecules: source = \"smiles-csv\""),
        case("pos-weight with the post's loss", &[("\"single-task\"]", "\"plain\"]"), ("learning-rate = 0.01", "learning-rate = 0.01\npos-weight = \"balanced\"")], "line 20: training.pos-weight: pos-weight weighs the masked loss; `plain` uses the post's own loss"),
        case("unknown pos-weight", &[("learning-rate = 0.01", "learning-rate = 0.01\npos-weight = \"equal\"")], "line 20: training.pos-weight: unknown variant `equal`"),
        // Strategy options.
        Case { append: "\n[strategy-options]\nepr = { lambda = 2.0 }\n", ..case("options for a strategy not run", &[], "strategy-options.epr: options for `epr`, which is not among the strategies") },
        Case { append: "\n[strategy-options]\nan-ls = { smoothing = 0.5 }\n", ..case("smoothing of one half", &[("\"single-task\"]", "\"an-ls\"]")], "strategy-options.an-ls.smoothing: 0.5: smoothing must be in [0, 0.5)") },
        Case { append: "\n[strategy-options]\nlarge-loss = { mode = \"drop\" }\n", ..case("unknown large-loss mode", &[("\"single-task\"]", "\"large-loss\"]")], "line 22: strategy-options.large-loss: unknown variant `drop`, expected one of `reject`, `correct`, `permanent`") },
        Case { append: "\n[strategy-options]\npartial-bce = { alpha = -6.0 }\n", ..case("partial-bce weight below zero", &[("\"single-task\"]", "\"partial-bce\"]")], "strategy-options.partial-bce.alpha: -6: g(1) = alpha + beta must not be negative") },
        Case { append: "\n[strategy-options]\nepr = { lamda = 1.0 }\n", ..case("misspelt epr option", &[("\"single-task\"]", "\"epr\"]")], "line 22: strategy-options.epr: unknown field `lamda`, expected `lambda`") },
        Case { append: "\n[strategy-options]\npseudo-label = { rounds = 0 }\n", ..case("pseudo-label with no round", &[("\"single-task\"]", "\"pseudo-label\"]")], "strategy-options.pseudo-label.rounds: rounds must be at least 1") },
        Case { append: "\n[strategy-options]\nrole = { table-lr = 0.0 }\n", ..case("role table that cannot learn", &[("\"single-task\"]", "\"role\"]")], "strategy-options.role.table-lr: 0: table-lr multiplies the learning rate: it must be positive") },
        Case { append: "\n[strategy-options]\nlabel-conditional = { copies = 0 }\n", ..case("label-conditional without copies", &[("\"single-task\"]", "\"label-conditional\"]")], "strategy-options.label-conditional.copies: copies must be at least 1") },
        // Names that become paths.
        Case { append: "\n[[variants]]\nname = \"../escape\"\n", ..case("variant name with a path", &[], "variants[1].name: `../escape` names files") },
        Case { append: "\n[[variants]]\nname = \"a\"\n\n[[variants]]\nname = \"a\"\n", ..case("variant name twice", &[], "variants[2].name: variant name `a` is used twice") },
        Case { file: "..", ..case("file named ...toml", &[], "(file name): the experiment's name `..`") },
        // CSV data.
        Case { csv: Some("x0,y0\n"), ..case("header-only csv", &[CSV_SOURCE, ("test-rows = 500", "test-rows = 1")], "data.csv: line 2: the file has a header but no data rows") },
        Case { csv: Some(good_csv), ..case("repeated label column", &[("source = \"toy\"\nrows = 3000", "source = \"csv\"\npath = \"data.csv\"\nlabel-columns = [\"y0\", \"y0\"]"), ("test-rows = 500", "test-rows = 1")], "line 9: data.label-columns: `y0` is listed twice") },
        Case { csv: Some(good_csv), ..case("csv test rows beyond its rows", &[CSV_SOURCE, ("test-rows = 500", "test-rows = 9")], "line 12: split.test-rows: 9 test rows asked of a data set of 4 rows") },
        Case { csv: Some("x0,y0\n0.1,2\n"), ..case("bad label", &[CSV_SOURCE, ("test-rows = 500", "test-rows = 0")], "data.csv: line 2: column `y0`: label `2` is not 0, 1, -1 or empty") },
        Case { csv: Some("x0,z0\n0.1,1\n"), ..case("no label column", &[CSV_SOURCE, ("test-rows = 500", "test-rows = 0")], "data.csv: no label columns: none named `y*`") },
        case("missing csv", &[CSV_SOURCE], "line 8: data.path: "),
        case("missing csv, said", &[CSV_SOURCE], "data.csv: cannot read: No such file or directory"),
        Case { csv: Some("SMILES,a\nCC,1\nC1CC,0\n"), ..case("unparseable smiles", &[("source = \"toy\"\nrows = 3000", "source = \"smiles-csv\"\npath = \"data.csv\""), ("test-rows = 500", "test-fraction = 0.5\nmethod = \"scaffold\"")], "data.csv: 1 of 2 SMILES do not parse (at most 1% may be skipped): line 3: `C1CC`") },
        Case { csv: Some("smiles,a\nCC,1\n"), ..case("no smiles column", &[("source = \"toy\"\nrows = 3000", "source = \"smiles-csv\"\npath = \"data.csv\"")], "bad.toml: data.smiles-column: ") },
        Case { csv: Some("SMILES,a\nCC,1\n"), ..case("scaffold split with test rows", &[("source = \"toy\"\nrows = 3000", "source = \"smiles-csv\"\npath = \"data.csv\""), ("test-rows = 500", "test-rows = 1\nmethod = \"scaffold\"")], "split.method: a scaffold split takes test-fraction") },
        // A predefined split from a column.
        Case { csv: Some("SMILES,split,a\nCC,train,1\nCCO,tset,0\nCCN,test,1\n"), ..case("split column value unknown", &[SMILES_SOURCE, COLUMN_SPLIT], "split.column: ") },
        Case { csv: Some("SMILES,split,a\nCC,train,1\nCCO,tset,0\nCCN,test,1\n"), ..case("split column value unknown, named with its line", &[SMILES_SOURCE, COLUMN_SPLIT], "data.csv: line 3: column `split`: value `tset` is none of the train values [\"train\"], dev values [\"validation\", \"valid\", \"dev\"] or test values [\"test\"]") },
        Case { csv: Some("SMILES,split,a\nCC,train,1\nCCO,validation,0\n"), ..case("split column without test rows", &[SMILES_SOURCE, COLUMN_SPLIT], "split.test-values: ") },
        Case { csv: Some("SMILES,split,a\nCC,train,1\nCCO,validation,0\n"), ..case("split column without test rows, said", &[SMILES_SOURCE, COLUMN_SPLIT], "no row's `split` is one of [\"test\"]: the test set would be empty") },
        Case { csv: Some("SMILES,a\nCC,1\n"), ..case("split column missing", &[SMILES_SOURCE, COLUMN_SPLIT], "data.csv: line 1: required column `split` is missing from the header (it has `SMILES`, `a`)") },
        Case { csv: Some("SMILES,split,a\nCC,train,1\n"), ..case("split column with test rows", &[SMILES_SOURCE, ("test-rows = 500", "method = \"column\"\ntest-rows = 5")], "split.test-rows: a column split takes its parts from the column") },
        Case { csv: Some("SMILES,a\nCC,1\n"), ..case("no feature block", &[SMILES_SOURCE, ("label-columns = [\"a\"]", "label-columns = [\"a\"]\nfeatures = []")], "data.features: give at least one block") },
        Case { csv: Some("SMILES,a\nCC,1\n"), ..case("repeated feature block", &[SMILES_SOURCE, ("label-columns = [\"a\"]", "label-columns = [\"a\"]\nfeatures = [\"ecfp\", \"ecfp\"]")], "data.features: `ecfp` is listed twice") },
        Case { csv: Some("SMILES,a\nCC,1\n"), ..case("unknown feature block", &[SMILES_SOURCE, ("label-columns = [\"a\"]", "label-columns = [\"a\"]\nfeatures = [\"maccs\"]")], "line 10: data.features: unknown variant `maccs`, expected `ecfp` or `descriptors`") },
        case("feature blocks for the toy set", &[("rows = 3000", "rows = 3000\nfeatures = [\"ecfp\"]")], "data.features: not used with source = \"toy\""),
        case("dropout of one", &[("learning-rate = 0.01", "learning-rate = 0.01\ndropout = 1.0")], "line 20: training.dropout: dropout 1 is outside [0, 1)"),
        case("negative weight decay", &[("learning-rate = 0.01", "learning-rate = 0.01\nweight-decay = -1e-5")], "line 20: training.weight-decay: weight decay -0.00001 must not be negative"),
        case("repeated dropout", &[("learning-rate = 0.01", "learning-rate = 0.01\ndropout = [0.5, 0.5]")], "line 20: training.dropout: `0.5` is listed twice"),
        case("select by auc without patience", &[("learning-rate = 0.01", "learning-rate = 0.01\nselect-by = \"auc\"")], "line 20: training.select-by: selecting by the dev ROC-AUC is early stopping's: set patience"),
        case("split column on the toy set", &[("test-rows = 500", "method = \"column\"")], "split.method: a column split reads a column of a molecule file"),
        // The command line.
        Case { args: &["--jobs", "0"], ..case("zero jobs", &[], "--jobs <JOBS>': 0 is not in 1..") },
        Case { args: &["--shard", "3/3"], ..case("shard out of range", &[], "--shard 3/3: expected K/N with 0 <= K < N") },
        Case { args: &["--shard", "a/b"], ..case("shard not numbers", &[], "--shard a/b: expected K/N") },
        // Slurm's arguments: nothing a user types may become a line of the batch script.
        Case { command: "slurm", args: &["--shards", "2", "--mem", "4G\necho INJECTED"], ..case("slurm memory with a shell line", &[], "--mem: `4G\\necho INJECTED` is not a Slurm memory size") },
        Case { command: "slurm", args: &["--shards", "2", "--mem", "4GB"], ..case("slurm memory unit", &[], "--mem: `4GB` is not a Slurm memory size") },
        Case { command: "slurm", args: &["--shards", "2", "--time", "banana"], ..case("slurm time not a time", &[], "--time: `banana` is not a Slurm time limit") },
        Case { command: "slurm", args: &["--shards", "2", "--time", "1:2:3:4"], ..case("slurm time too many parts", &[], "--time: `1:2:3:4` is not a Slurm time limit") },
        Case { command: "slurm", args: &["--shards", "2", "--partition", "short\n#SBATCH --exclusive"], ..case("slurm partition with a newline", &[], "--partition: `short\\n#SBATCH --exclusive` is not a Slurm name") },
        Case { command: "slurm", args: &["--shards", "2", "--account", "a b"], ..case("slurm account with a space", &[], "--account: `a b` is not a Slurm name") },
        Case { command: "slurm", args: &["--resubmit", "0;rm"], ..case("slurm resubmit not task numbers", &[], "--resubmit: `0;rm` is not a list of array task numbers") },
        Case { command: "slurm", args: &["--shards", "0"], ..case("slurm zero shards", &[], "--shards <SHARDS>': 0 is not in 1..") },
    ]
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_malformed_input_gets_exit_2_one_line_and_writes_nothing() {
    let cases = cases();
    assert!(cases.len() >= 30);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let claim = format!("a table of {} malformed inputs", cases.len());
    assert!(
        readme.contains(&claim),
        "the README says how many cases there are: `{claim}`"
    );
    let mut failures = Vec::new();
    for c in &cases {
        let dir = tempfile::tempdir().unwrap();
        let mut body = SMALL.to_string();
        for (find, replace) in c.edits {
            assert!(
                body.contains(find),
                "{}: `{find}` is not in the experiment",
                c.name
            );
            body = body.replacen(find, replace, 1);
        }
        body.push_str(c.append);
        let file = dir.path().join(format!("{}.toml", c.file));
        std::fs::write(&file, &body).unwrap();
        if let Some(csv) = c.csv {
            std::fs::write(dir.path().join("data.csv"), csv).unwrap();
        }
        let before = listing(dir.path());
        let result = masklab()
            .current_dir(dir.path())
            .arg(c.command)
            .arg(&file)
            .args(["--out", "out"])
            .args(c.args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        // A file's error names the file; an argument's names the argument.
        let named_file = c.args.is_empty();
        let ok = result.status.code() == Some(2)
            && stderr.trim().lines().count() == 1
            && stderr.starts_with("error: ")
            && (!named_file || stderr.contains(&file.display().to_string()))
            && stderr.contains(c.expected)
            && listing(dir.path()) == before;
        if !ok {
            failures.push(format!(
                "{}: exit {:?}, wanted `{}` in one line:\n{stderr}\nfiles: {:?}",
                c.name,
                result.status.code(),
                c.expected,
                listing(dir.path())
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
