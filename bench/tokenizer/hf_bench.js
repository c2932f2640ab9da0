#!/usr/bin/env node
// hf_bench.js measures the HF tokenizers Node binding (the reference) on testdata/tokenizer/corpus.txt repeated to
// about 1 MB of text: a loop of single encode calls, and encodeBatch in chunks of 64 lines, for
// bert-base-uncased, roberta-style and unigram. Tokens counted include the special tokens added.
//
// Usage: node bench/tokenizer/hf_bench.js [target bytes]     (set RAYON_NUM_THREADS=1 for one thread)
// Needs `npm install` in scripts/golden/tokenizer (bench/tokenizer/run.sh does it).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '../..');
const tk = require(path.join(root, 'scripts/golden/tokenizer/node_modules/tokenizers'));
const target = Number(process.argv[2] || 1 << 20);

const corpus = fs.readFileSync(path.join(root, 'testdata/tokenizer/corpus.txt'), 'utf8').slice(0, -1).split('\n');
const lines = [];
let bytes = 0;
while (bytes < target) {
  for (const l of corpus) {
    lines.push(l);
    bytes += Buffer.byteLength(l, 'utf8') + 1;
  }
}

const threads = process.env.RAYON_NUM_THREADS || `default (${os.cpus().length} CPUs)`;
console.log(`HF tokenizers ${require(path.join(root, 'scripts/golden/tokenizer/node_modules/tokenizers/package.json')).version} (Node ${process.version}); ` +
  `${lines.length} lines, ${(bytes / 1e6).toFixed(2)} MB; rayon threads: ${threads}`);

async function single(tok) {
  let n = 0;
  for (const l of lines) n += (await tok.encode(l)).getLength();
  return n;
}
async function batch(tok) {
  let n = 0;
  for (let i = 0; i < lines.length; i += 64) {
    for (const e of await tok.encodeBatch(lines.slice(i, i + 64))) n += e.getLength();
  }
  return n;
}

async function time(fn, tok) {
  await fn(tok); // warm-up (caches, JIT)
  const t0 = process.hrtime.bigint();
  const n = await fn(tok);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { n, s };
}

async function main() {
  for (const name of ['bert-base-uncased', 'roberta-style', 'unigram']) {
    const tok = tk.Tokenizer.fromFile(path.join(root, 'testdata/tokenizer', name, 'tokenizer.json'));
    for (const [mode, fn] of [['encode', single], ['encodeBatch/64', batch]]) {
      const { n, s } = await time(fn, tok);
      console.log(`${name.padEnd(18)} ${mode.padEnd(15)} ${(n / s / 1e6).toFixed(3)} M tokens/s  ` +
        `${(bytes / s / 1e6).toFixed(2)} MB/s  (${n} tokens in ${s.toFixed(2)} s)`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
