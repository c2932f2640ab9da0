// ONNX Runtime side of bench/model/run.sh: times session.run on the ONNX
// exports that torch_bench.py writes (the same random-weight reference BERT),
// on the shapes textclf's `bench` uses.
//
//   node ort_bench.js OUTDIR --config bert-base|minilm|gpt2|qwen2-0.5b|modernbert-base --batch B --seq T
//                    [--threads 2] [--min-seconds 5] [--min-iterations 5] [--windows 3]
//
// Before timing, the model runs the check batch that the export stored
// (OUTDIR/NAME.check.json, 3 x 24 with a padded row) and its logits must
// match PyTorch's within 1e-4, else the script exits non-zero.
// Prints one JSON object (seq_per_s, ms_per_batch, ...); a measurement is `windows`
// consecutive windows of at least min-seconds and min-iterations runs after
// a warm-up, each window's value its mean time per run, reported value the
// median window (the rule run.sh applies to all three implementations).
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const a = { outdir: null, config: null, batch: 0, seq: 0, threads: 2, minSeconds: 5, minIterations: 5, windows: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${k} needs a positive number`);
      return v;
    };
    if (k === '--config') a.config = argv[++i];
    else if (k === '--batch') a.batch = num();
    else if (k === '--seq') a.seq = num();
    else if (k === '--threads') a.threads = num();
    else if (k === '--min-seconds') a.minSeconds = num();
    else if (k === '--min-iterations') a.minIterations = num();
    else if (k === '--windows') a.windows = num();
    else if (!k.startsWith('--') && a.outdir === null) a.outdir = k;
    else throw new Error(`unknown argument ${k}`);
  }
  if (a.outdir === null || !/^[a-z0-9.-]+$/.test(a.config || '') || !a.batch || !a.seq) {
    throw new Error('usage: node ort_bench.js OUTDIR --config NAME --batch B --seq T [--threads N] ...');
  }
  return a;
}

function int64(values, dims) {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

// Random ids in [1000, vocab), mask 1, token types 0 (as model.RandomBatch),
// for the inputs the model has (the decoders and ModernBERT take no token types).
function randomFeeds(b, t, seed, vocab, names) {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const n = b * t;
  const ids = new Array(n);
  for (let i = 0; i < n; i++) ids[i] = 1000 + Math.floor(rnd() * (vocab - 1000));
  const feeds = {
    input_ids: int64(ids, [b, t]),
    attention_mask: int64(new Array(n).fill(1), [b, t]),
  };
  if (names.includes('token_type_ids')) feeds.token_type_ids = int64(new Array(n).fill(0), [b, t]);
  return feeds;
}

async function check(session, file) {
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  const feeds = { input_ids: int64(c.input_ids, c.shape), attention_mask: int64(c.attention_mask, c.shape) };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = int64(c.token_type_ids, c.shape);
  const out = await session.run(feeds);
  const got = out.logits.data;
  if (got.length !== c.logits.length) throw new Error(`${file}: ${got.length} logits, PyTorch has ${c.logits.length}`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - c.logits[i]));
  if (!(worst <= 1e-4)) throw new Error(`${file}: ORT logits differ from PyTorch by ${worst}`);
  return worst;
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const opts = {
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  };
  if (process.env.ORT_BENCH_NO_SPIN === '1') {
    opts.extra = { session: { intra_op: { allow_spinning: '0' } } };
  }
  const name = a.config;
  const b = a.batch;
  const t = a.seq;
  const session = await ort.InferenceSession.create(path.join(a.outdir, `${name}.onnx`), opts);
  const checkFile = path.join(a.outdir, `${name}.check.json`);
  const worst = await check(session, checkFile);
  const vocab = JSON.parse(fs.readFileSync(checkFile, 'utf8')).vocab_size || 30522;
  const feeds = randomFeeds(b, t, 2, vocab, session.inputNames);
  await session.run(feeds); // warm-up
  await session.run(feeds);
  const means = [];
  for (let w = 0; w < a.windows; w++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
    while (n < a.minIterations || elapsed() < a.minSeconds) {
      await session.run(feeds);
      n++;
    }
    means.push(elapsed() / n);
  }
  const med = median(means);
  console.log(JSON.stringify({
    impl: 'ort', config: name, batch: b, seq: t, train: false,
    seq_per_s: b / med, ms_per_batch: 1000 * med, windows_ms: means.map((x) => Math.round(1e5 * x) / 100),
    check_max_abs_diff_vs_pytorch: worst, ort: ort.env.versions.node, options: opts,
  }));
}

main().catch((e) => {
  console.error(`ort_bench: ${e.message}`);
  process.exit(1);
});
