//! The seed network's training step and its parts, on the seed's batch of 5000; the Tox21
//! network's step (2048 or 2089 inputs, batch 256) on fingerprint-shaped inputs, the way a
//! sweep trains it (`tox21_step`, `tox21_step_indexed`) with their limits printed at the end,
//! and the scoring of a Tox21 dev set (`tox21_score`, `tox21_score_blas`); MUV's step at
//! batches of 256 to 4,096 (`muv_step_*`), with the limits of the 4,096 step on one core and
//! on two printed at the end too.
//!
//! - `train_step`: the step as a sweep runs it (the tiled kernels, `nn::tiled`);
//!   `train_step_blas`: the same step through whole-batch BLAS products.
//! - `gemm_only`: exactly the BLAS products of one `train_step_blas` (four forward, four
//!   weight-gradient and three hidden-delta products) on buffers of the same shapes.
//! - `sgemm_peak`: a large square product through the same BLAS, the machine's practical
//!   peak on one core. Throughputs of `train_step*`, `gemm_only` and `sgemm_peak` are in
//!   FLOPs (criterion's "elem/s"), and at the end the run prints the step's efficiency:
//!   `(step FLOPs / step median) / (sgemm FLOPs / sgemm median)`, from this run's medians.

use criterion::{Criterion, Throughput};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2};
use nn::sparse::{sparse_affine_large_into, LargeBatches, Way};
use nn::{masked_bce, Kernel, Loss, Mlp, Trainer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const SIZES: [usize; 5] = [2, 10, 40, 30, 3];
const BATCH: usize = 5000;

fn seed_batch(rng: &mut ChaCha8Rng) -> (Array2<f32>, Array2<f32>, Array2<bool>) {
    let x = Array2::from_shape_simple_fn((BATCH, 2), || rng.random::<f32>());
    let y = Array2::from_shape_fn((BATCH, 3), |(i, j)| {
        let (x0, x1) = (x[[i, 0]], x[[i, 1]]);
        [x1 <= 0.5, x0 >= 0.5, x0 + x1 > 1.0][j] as u8 as f32
    });
    // One label in ten missing, as in a moderately holey data set.
    let observed = Array2::from_shape_simple_fn((BATCH, 3), || rng.random::<f32>() >= 0.1);
    (x, y, observed)
}

/// A fingerprint-shaped batch: 2,048 inputs with about 50 set per row (as Tox21's ECFP4
/// has), 12 tasks with a sixth of the labels missing.
fn fingerprint_batch(
    rows: usize,
    rng: &mut ChaCha8Rng,
) -> (Array2<f32>, Array2<f32>, Array2<bool>) {
    let x = Array2::from_shape_simple_fn((rows, 2048), || {
        (rng.random::<f32>() < 50.0 / 2048.0) as u8 as f32
    });
    let y = Array2::from_shape_simple_fn((rows, 12), || (rng.random::<f32>() < 0.08) as u8 as f32);
    let observed = Array2::from_shape_simple_fn((rows, 12), || rng.random::<f32>() >= 0.17);
    (x, y, observed)
}

/// The Tox21 network (2048-512-128-12, batch 256): a step with the sparse first layer,
/// the same step with the dense product, and Adam's update alone (which touches all 1.1M
/// weights whichever path computed the gradients).
fn bench_fingerprints(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(43);
    let (x, y, observed) = fingerprint_batch(256, &mut rng);
    let mlp = Mlp::new(&[2048, 512, 128, 12], &mut rng);
    let mut loss = Loss::masked();
    let mut group = c.benchmark_group("nn");
    group.throughput(Throughput::Elements(256));
    let mut sparse = Trainer::new(mlp.clone(), 1e-3, 256);
    group.bench_function("tox21_step_sparse", |b| {
        b.iter(|| black_box(sparse.step(x.view(), y.view(), observed.view(), &mut loss)))
    });
    // The Tox21 step as a sweep takes it: batches of 256 from a training set of
    // fingerprints indexed once, each batch read from its rows' non-zeros.
    let (tx, ty, to) = fingerprint_batch(TRAIN_ROWS, &mut rng);
    let fingerprints = Trainer::new(mlp.clone(), 1e-3, 256);
    let nnz = bench_indexed(
        &mut group,
        "tox21_step",
        fingerprints,
        (&tx, &ty, &to),
        256,
        &FINGERPRINT_MEASURED,
    );
    FINGERPRINT_NNZ.store(nnz, Ordering::Relaxed);
    let mut dense = Trainer::new(mlp.clone(), 1e-3, 256).with_sparse_below(0.0);
    group.bench_function("tox21_step_dense", |b| {
        b.iter(|| black_box(dense.step(x.view(), y.view(), observed.view(), &mut loss)))
    });
    // The sparse first layer's forward alone, on the same batch.
    let mut first = nn::sparse::SparseRows::default();
    assert!(first.fill_from(x.view(), usize::MAX));
    let mut z = Array2::zeros((256, 512));
    group.bench_function("tox21_first_layer", |b| {
        b.iter(|| {
            let (w, bias) = (mlp.weights[0].view(), mlp.biases[0].as_slice().unwrap());
            nn::sparse::sparse_affine_into(&first, w, bias, true, z.view_mut(), nn::Threads::ONE);
            black_box(&z);
        })
    });
    let mut adam = Trainer::new(mlp, 1e-3, 256);
    adam.compute_gradients(x.view(), y.view(), observed.view(), &mut loss);
    group.bench_function("tox21_adam", |b| b.iter(|| adam.apply_adam()));
    // The fingerprint beside 41 dense standardised descriptors (2089 inputs, ~91 non-zero a
    // row), through the same sparse first layer; and with dropout 0.2 as well.
    let descriptors = Array2::from_shape_simple_fn((256, 41), || rng.random_range(-2.0f32..2.0));
    let mixed = ndarray::concatenate(ndarray::Axis(1), &[x.view(), descriptors.view()]).unwrap();
    let mlp = Mlp::new(&[2089, 512, 128, 12], &mut rng);
    let mut blocks = Trainer::new(mlp.clone(), 1e-3, 256);
    group.bench_function("tox21_step_descriptors", |b| {
        b.iter(|| black_box(blocks.step(mixed.view(), y.view(), observed.view(), &mut loss)))
    });
    let mut dropped =
        Trainer::new(mlp.clone(), 1e-3, 256).with_dropout(0.2, ChaCha8Rng::seed_from_u64(44));
    group.bench_function("tox21_step_descriptors_dropout", |b| {
        b.iter(|| black_box(dropped.step(mixed.view(), y.view(), observed.view(), &mut loss)))
    });
    // As a sweep trains Tox21 (tox21.toml: fingerprint + descriptors, dropout 0.2): batches
    // of 256 drawn from a training set whose inputs were indexed once, so each batch is
    // read from its rows' non-zeros (`Trainer::epoch_indexed`).
    let (fx, fy, fo) = fingerprint_batch(TRAIN_ROWS, &mut rng);
    let fd = Array2::from_shape_simple_fn((TRAIN_ROWS, 41), || rng.random_range(-2.0f32..2.0));
    let train_x = ndarray::concatenate(ndarray::Axis(1), &[fx.view(), fd.view()]).unwrap();
    let indexed =
        Trainer::new(mlp.clone(), 1e-3, 256).with_dropout(0.2, ChaCha8Rng::seed_from_u64(45));
    let data = (&train_x, &fy, &fo);
    let nnz = bench_indexed(
        &mut group,
        "tox21_step_indexed",
        indexed,
        data,
        256,
        &TOX21_MEASURED,
    );
    let mut adam = Trainer::new(mlp.clone(), 1e-3, 256);
    adam.compute_gradients(mixed.view(), y.view(), observed.view(), &mut loss);
    group.bench_function("tox21_adam_descriptors", |b| b.iter(|| adam.apply_adam()));
    // Scoring a dev set of Tox21's size as a run does every epoch: indexed once, the first
    // layer on the sparse kernel (`Mlp::forward_inputs`); and through whole-batch BLAS.
    let dev = train_x.slice(s![..DEV_ROWS, ..]);
    let inputs = nn::mlp::Inputs::new(dev);
    group.throughput(Throughput::Elements(DEV_ROWS as u64));
    group.bench_function("tox21_score", |b| {
        b.iter(|| black_box(mlp.forward_inputs(&inputs)))
    });
    group.bench_function("tox21_score_blas", |b| {
        b.iter(|| black_box(mlp.forward_blas(dev)))
    });
    group.finish();
    TOX21_NNZ.store(nnz, Ordering::Relaxed);
}

/// A step on batches of `batch` rows drawn in a fixed scrambled order from a training set
/// whose inputs `x` were indexed once, as a sweep's epochs take them
/// (`Trainer::epoch_indexed`). Returns the non-zeros in a batch of 256, on average.
fn bench_indexed(
    group: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    name: &str,
    mut trainer: Trainer,
    (x, y, observed): (&Array2<f32>, &Array2<f32>, &Array2<bool>),
    batch: usize,
    measured: &AtomicBool,
) -> usize {
    let index = trainer
        .index_inputs(x.view())
        .expect("sparse enough to index");
    let rows = x.nrows();
    let order: Vec<usize> = (0..rows).map(|i| (i * 7919) % rows).collect();
    let mut batches = order.chunks(batch).cycle();
    let mut loss = Loss::masked();
    group.bench_function(name, |b| {
        measured.store(true, Ordering::Relaxed);
        b.iter(|| {
            let rows = batches.next().expect("cycles");
            let (xv, yv, ov) = (x.view(), y.view(), observed.view());
            black_box(trainer.step_rows_indexed(xv, Some(&index), yv, ov, rows, &mut loss))
        })
    });
    index.nnz() * 256 / rows
}

/// MUV's network (2089-512-128-17, dropout 0.2) on fingerprint-and-descriptor rows, a step
/// at batches of 256, 1,024 and 4,096 (throughput in rows): the time a row costs should not
/// grow with the batch, whose first-layer outputs and deltas outgrow the caches.
fn bench_batch_sizes(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(46);
    let rows = 8192;
    let (fx, _, _) = fingerprint_batch(rows, &mut rng);
    let fd = Array2::from_shape_simple_fn((rows, 41), || rng.random_range(-2.0f32..2.0));
    let x = ndarray::concatenate(ndarray::Axis(1), &[fx.view(), fd.view()]).unwrap();
    let y = Array2::from_shape_simple_fn((rows, 17), || (rng.random::<f32>() < 0.01) as u8 as f32);
    let observed = Array2::from_shape_simple_fn((rows, 17), || rng.random::<f32>() < 0.16);
    let mlp = Mlp::new(&MUV_SIZES, &mut rng);
    let mut group = c.benchmark_group("nn");
    group.sample_size(10);
    // The largest batch again on two threads (`Trainer::with_threads`: the same bits).
    for (&(batch, threads), measured) in MUV_STEPS.iter().zip(&MUV_MEASURED) {
        group.throughput(Throughput::Elements(batch as u64));
        let trainer = Trainer::new(mlp.clone(), 1e-3, batch)
            .with_dropout(0.2, ChaCha8Rng::seed_from_u64(47))
            .with_threads(nn::Threads::new(threads));
        let name = match threads {
            1 => format!("muv_step_{batch}"),
            _ => format!("muv_step_{batch}_threads{threads}"),
        };
        let nnz = bench_indexed(
            &mut group,
            &name,
            trainer,
            (&x, &y, &observed),
            batch,
            measured,
        );
        MUV_NNZ.store(nnz, Ordering::Relaxed);
    }
    // Adam's update alone, on one thread and shared by two: the gradients of a batch of
    // more than 256 rows are stored whole, as a step at 4,096 stores them.
    let mut loss = Loss::masked();
    for threads in [1, 2] {
        let mut adam = Trainer::new(mlp.clone(), 3e-3, 512).with_threads(nn::Threads::new(threads));
        let rows = s![..512, ..];
        adam.compute_gradients(
            x.slice(rows),
            y.slice(rows),
            observed.slice(rows),
            &mut loss,
        );
        let name = match threads {
            1 => "muv_adam".to_string(),
            _ => format!("muv_adam_threads{threads}"),
        };
        group.bench_function(name, |b| b.iter(|| adam.apply_adam()));
    }
    // The first layer alone at batch 4096 on two threads, each way of a large batch's
    // forward pass (a trainer times both and keeps the faster: `LargeBatches`).
    let mut first = nn::sparse::SparseRows::default();
    assert!(first.fill_from(x.slice(s![..4096, ..]), usize::MAX));
    let mut z = Array2::zeros((4096, 512));
    let (w, bias) = (mlp.weights[0].view(), mlp.biases[0].as_slice().unwrap());
    for (name, way) in [("in_place", Way::InPlace), ("packed", Way::Packed)] {
        let mut large = LargeBatches::always(way);
        group.bench_function(format!("muv_first_layer_{name}"), |b| {
            b.iter(|| {
                let threads = nn::Threads::new(2);
                sparse_affine_large_into(&first, w, bias, true, z.view_mut(), threads, &mut large);
                black_box(&z);
            })
        });
    }
    group.finish();
}

/// The MUV steps' batches and threads, in the order they run.
const MUV_STEPS: [(usize, usize); 4] = [(256, 1), (1024, 1), (4096, 1), (4096, 2)];
/// Whether each of `MUV_STEPS` ran in this process.
static MUV_MEASURED: [AtomicBool; 4] = [const { AtomicBool::new(false) }; 4];
/// Non-zero inputs in a batch of 256 of the MUV steps' training set (on average).
static MUV_NNZ: AtomicUsize = AtomicUsize::new(0);
/// MUV's network.
const MUV_SIZES: [usize; 4] = [2089, 512, 128, 17];

/// Training rows the indexed Tox21 step draws its batches from (a multiple of 256).
const TRAIN_ROWS: usize = 4096;
/// Rows of Tox21's dev set (random split, 10% of 7,831 molecules).
const DEV_ROWS: usize = 783;
static TOX21_MEASURED: AtomicBool = AtomicBool::new(false);
static FINGERPRINT_MEASURED: AtomicBool = AtomicBool::new(false);
/// Non-zero inputs in a batch of 256 of the indexed steps' training sets (on average).
static TOX21_NNZ: AtomicUsize = AtomicUsize::new(0);
static FINGERPRINT_NNZ: AtomicUsize = AtomicUsize::new(0);

/// Multiply-adds of a step of a network of layer `sizes` on a batch of `batch` rows with
/// `nnz` non-zero inputs, two FLOPs each: the sparse first layer's forward and weight
/// gradient over the non-zeros, then the dense layers' forward, weight gradient and delta
/// products. Of `sizes[..2]`, the sparse layer's alone.
fn sparse_step_flops(sizes: &[usize], batch: usize, nnz: usize) -> f64 {
    let first = 2.0 * 2.0 * nnz as f64 * sizes[1] as f64;
    let dense: f64 = sizes[1..]
        .windows(2)
        .map(|w| 3.0 * 2.0 * (batch * w[0] * w[1]) as f64)
        .sum();
    first + dense
}

/// This run's large-product BLAS rate in FLOP/s, the rate the limits count FLOPs at, when
/// `sgemm_peak` ran in this process (not in `--test` mode, and not filtered out).
fn peak_rate() -> Option<f64> {
    if !PEAK_MEASURED.load(Ordering::Relaxed) || std::env::args().any(|a| a == "--test") {
        return None;
    }
    Some(2.0 * (PEAK_SIDE as f64).powi(3) / median_seconds("sgemm_peak")?)
}

/// This run's medians of a step and of Adam's update alone, when the step ran in it.
fn step_and_adam(measured: &AtomicBool, step: &str, adam: &str) -> Option<(f64, f64)> {
    if !measured.load(Ordering::Relaxed) {
        return None;
    }
    Some((median_seconds(step)?, median_seconds(adam)?))
}

/// The indexed Tox21 steps against their limits: FLOPs at the large-product BLAS rate of
/// this run, plus Adam's update of every weight (memory-bound, measured alone), from this
/// run's medians.
fn print_tox21_limits() {
    let Some(peak_rate) = peak_rate() else {
        return;
    };
    let steps = [
        (
            "tox21_step",
            "tox21_adam",
            "2048-512-128-12, batch 256",
            2048.0,
            (&FINGERPRINT_MEASURED, &FINGERPRINT_NNZ),
        ),
        (
            "tox21_step_indexed",
            "tox21_adam_descriptors",
            "2089-512-128-12, batch 256, dropout 0.2",
            2089.0,
            (&TOX21_MEASURED, &TOX21_NNZ),
        ),
    ];
    for (name, adam_name, shape, inputs, (measured, nnz)) in steps {
        let Some((step, adam)) = step_and_adam(measured, name, adam_name) else {
            continue;
        };
        let sizes = [inputs as usize, 512, 128, 12];
        let flops = sparse_step_flops(&sizes, 256, nnz.load(Ordering::Relaxed));
        let limit = flops / peak_rate + adam;
        println!(
            "\nnn/{name} ({shape}): {:.2} ms; limit {:.2} ms ({:.1} MFLOP at sgemm's {:.1} \
             GFLOP/s = {:.2} ms, plus Adam over {:.2} M weights {:.2} ms); efficiency {:.2}",
            step * 1e3,
            limit * 1e3,
            flops / 1e6,
            peak_rate / 1e9,
            flops / peak_rate * 1e3,
            sizes.windows(2).map(|w| w[0] * w[1]).sum::<usize>() as f64 / 1e6,
            adam * 1e3,
            limit / step
        );
    }
}

/// MUV's step at batch 4,096 against its limits, from this run's medians. Its FLOPs are
/// the sparse first layer's forward and weight gradient over the batch's non-zeros and the
/// dense layers' forward, weight gradient and delta products. On one thread the limit is
/// all of them at the large-product BLAS rate plus Adam's update alone. On two, each core
/// runs at that rate, except that the 512 × 128 layer's forward product is one OpenBLAS
/// call on one core (split, its bits would change, and with them every committed result),
/// plus Adam's update shared by both.
fn print_muv_limits() {
    let Some(rate) = peak_rate() else {
        return;
    };
    let batch = 4096;
    let nnz = MUV_NNZ.load(Ordering::Relaxed) * batch / 256;
    let sparse = sparse_step_flops(&MUV_SIZES[..2], batch, nnz);
    let flops = sparse_step_flops(&MUV_SIZES, batch, nnz);
    let forward_product = 2.0 * (batch * MUV_SIZES[1] * MUV_SIZES[2]) as f64;
    let shape = MUV_SIZES.map(|n| n.to_string()).join("-");
    let steps = [
        ("muv_step_4096", "muv_adam", "one core", 1.0, 0.0),
        (
            "muv_step_4096_threads2",
            "muv_adam_threads2",
            "two cores",
            2.0,
            forward_product,
        ),
    ];
    for (measured, (name, adam_name, on, cores, one_core)) in MUV_MEASURED[2..].iter().zip(steps) {
        let Some((step, adam)) = step_and_adam(measured, name, adam_name) else {
            continue;
        };
        let products = one_core / rate + (flops - one_core) / (cores * rate);
        let limit = products + adam;
        println!(
            "\nnn/{name} ({shape}, batch {batch}, {on}): {:.1} ms; limit {:.1} ms \
             ({:.0} MFLOP, {:.0} of them sparse, at sgemm's {:.1} GFLOP/s a core = {:.1} ms, \
             plus Adam {:.2} ms); efficiency {:.2}",
            step * 1e3,
            limit * 1e3,
            flops / 1e6,
            sparse / 1e6,
            rate / 1e9,
            products * 1e3,
            adam * 1e3,
            limit / step
        );
    }
}

pub fn bench(c: &mut Criterion) {
    masklab::blas::use_single_thread();
    bench_fingerprints(c);
    bench_batch_sizes(c);
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let (x, y, observed) = seed_batch(&mut rng);
    let mlp = Mlp::new(&SIZES, &mut rng);

    let mut group = c.benchmark_group("nn");
    group.throughput(Throughput::Elements(BATCH as u64));

    let flops = step_flops(&SIZES, BATCH);
    group.throughput(Throughput::Elements(flops));
    let mut trainer = Trainer::new(mlp.clone(), 1e-3, BATCH);
    assert_eq!(trainer.kernel(), Kernel::Tiled);
    let mut loss = Loss::masked();
    group.bench_function("train_step", |b| {
        STEP_MEASURED.store(true, Ordering::Relaxed);
        b.iter(|| black_box(trainer.step(x.view(), y.view(), observed.view(), &mut loss)))
    });
    let mut blas = Trainer::new(mlp.clone(), 1e-3, BATCH).with_kernel(Kernel::Blas);
    group.bench_function("train_step_blas", |b| {
        b.iter(|| black_box(blas.step(x.view(), y.view(), observed.view(), &mut loss)))
    });
    let mut gemm = GemmSequence::new(&mlp, &x);
    group.bench_function("gemm_only", |b| b.iter(|| gemm.run()));
    group.throughput(Throughput::Elements(BATCH as u64));

    group.bench_function("forward", |b| {
        b.iter(|| black_box(mlp.forward(black_box(x.view()))))
    });

    let logits = mlp.forward(x.view());
    let mut grad = Array2::zeros(logits.dim());
    group.bench_function("masked_bce", |b| {
        b.iter(|| {
            black_box(Loss::masked().loss_and_grad_into(
                logits.view(),
                y.view(),
                observed.view(),
                grad.view_mut(),
            ))
        })
    });
    // The allocating convenience form, for comparison.
    group.bench_function("masked_bce_alloc", |b| {
        b.iter(|| black_box(masked_bce(logits.view(), y.view(), observed.view(), None)))
    });

    group.finish();
    bench_sgemm_peak(c);
    print_efficiency(flops);
    print_tox21_limits();
    print_muv_limits();
}

/// Side of the square product that measures BLAS's peak: large enough that packing and
/// call overhead vanish (about 0.9 GFLOP a product), small enough for a quick bench.
const PEAK_SIDE: usize = 768;

fn bench_sgemm_peak(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(44);
    let mut fill =
        || Array2::from_shape_simple_fn((PEAK_SIDE, PEAK_SIDE), || rng.random_range(-1.0f32..1.0));
    let (a, b, mut out) = (fill(), fill(), Array2::zeros((PEAK_SIDE, PEAK_SIDE)));
    let mut group = c.benchmark_group("nn");
    group.sample_size(20);
    group.throughput(Throughput::Elements(2 * (PEAK_SIDE as u64).pow(3)));
    group.bench_function("sgemm_peak", |bench| {
        PEAK_MEASURED.store(true, Ordering::Relaxed);
        bench.iter(|| general_mat_mul(1.0, &a, &b, 0.0, &mut out))
    });
    group.finish();
}

/// Multiply-adds of a step, counted as two FLOPs each: the forward products, the weight
/// gradients, and the deltas of every layer but the first. The loss, the bias sums, ReLU
/// and Adam (a few FLOPs per value) are left out.
fn step_flops(sizes: &[usize], batch: usize) -> u64 {
    let products: Vec<u64> = sizes.windows(2).map(|w| (w[0] * w[1]) as u64).collect();
    let forward: u64 = products.iter().sum();
    let deltas: u64 = products[1..].iter().sum();
    2 * batch as u64 * (2 * forward + deltas)
}

static STEP_MEASURED: AtomicBool = AtomicBool::new(false);
static PEAK_MEASURED: AtomicBool = AtomicBool::new(false);

/// Criterion's median for `nn/NAME` in this run, in seconds.
fn median_seconds(name: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let path = target
        .join("criterion/nn")
        .join(name)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(json["median"]["point_estimate"].as_f64()? * 1e-9)
}

/// The step's FLOP rate as a share of BLAS's large-product rate, when both were measured
/// by this process (not in `--test` mode, and not filtered out).
fn print_efficiency(step_flops: u64) {
    if !(STEP_MEASURED.load(Ordering::Relaxed) && PEAK_MEASURED.load(Ordering::Relaxed)) {
        return;
    }
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let (Some(step), Some(peak)) = (median_seconds("train_step"), median_seconds("sgemm_peak"))
    else {
        return;
    };
    let peak_flops = 2.0 * (PEAK_SIDE as f64).powi(3);
    let (step_rate, peak_rate) = (step_flops as f64 / step, peak_flops / peak);
    println!(
        "\nnn/train_step efficiency: {:.1} MFLOP a step (2-10-40-30-3, batch {BATCH}) in {:.1} µs \
         = {:.1} GFLOP/s; sgemm {PEAK_SIDE}³ = {:.1} GFLOP/s; efficiency {:.2}\n",
        step_flops as f64 / 1e6,
        step * 1e6,
        step_rate / 1e9,
        peak_rate / 1e9,
        step_rate / peak_rate
    );
}

/// The buffers and products of one training step, without anything else.
struct GemmSequence {
    x: Array2<f32>,
    weights: Vec<Array2<f32>>,
    acts: Vec<Array2<f32>>,
    deltas: Vec<Array2<f32>>,
    grad_w: Vec<Array2<f32>>,
}

impl GemmSequence {
    fn new(mlp: &Mlp, x: &Array2<f32>) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut fill =
            |(r, c)| Array2::from_shape_simple_fn((r, c), || rng.random_range(-1.0f32..1.0));
        GemmSequence {
            x: x.clone(),
            weights: mlp.weights.clone(),
            acts: SIZES[1..].iter().map(|&k| fill((BATCH, k))).collect(),
            deltas: SIZES[1..].iter().map(|&k| fill((BATCH, k))).collect(),
            grad_w: mlp.weights.iter().map(|w| Array2::zeros(w.dim())).collect(),
        }
    }

    fn run(&mut self) {
        let layers = self.weights.len();
        for l in 0..layers {
            let (before, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 {
                self.x.view()
            } else {
                before[l - 1].view()
            };
            general_mat_mul(1.0, &input, &self.weights[l], 0.0, &mut rest[0]);
        }
        for l in (0..layers).rev() {
            let input = if l == 0 {
                self.x.view()
            } else {
                self.acts[l - 1].view()
            };
            general_mat_mul(1.0, &input.t(), &self.deltas[l], 0.0, &mut self.grad_w[l]);
            if l > 0 {
                let (below, from_l) = self.deltas.split_at_mut(l);
                let mut prev = below[l - 1].slice_mut(s![.., ..]);
                general_mat_mul(1.0, &from_l[0], &self.weights[l].t(), 0.0, &mut prev);
            }
        }
        black_box(&self.grad_w);
    }
}
