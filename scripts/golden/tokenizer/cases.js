'use strict';
// cases.js lists the golden cases (see ../../../testdata/tokenizer/README.md for the format).
// Fields beyond the manifest format, used only by the generator:
//   reference  the tokenizer.json the reference loads when `tokenizer` names a directory of slow files
//   golden_of  the case whose golden file this case shares (no file of its own)
const { variants } = require('./variant_cases');

const cases = [];
function add(c) {
  c.golden = c.golden || `golden/${c.name}.jsonl.gz`;
  cases.push(c);
}

const real = {
  'bert-base-uncased': { file: 'bert-base-uncased/tokenizer.json', pad: [0, '[PAD]'] },
  'bert-base-chinese': { file: 'bert-base-chinese/tokenizer.json', pad: [0, '[PAD]'] },
  gpt2: { file: 'gpt2/tokenizer.json', pad: null },
  'roberta-style': { file: 'roberta-style/tokenizer.json', pad: [50258, '<pad>'] },
  unigram: { file: 'unigram/tokenizer.json', pad: [1, '<pad>'] },
};

for (const [name, r] of Object.entries(real)) {
  add({ name: `${name}.plain`, tokenizer: r.file, inputs: 'corpus.txt', add_special_tokens: true });
  add({ name: `${name}.nospecial`, tokenizer: r.file, inputs: 'corpus.txt', add_special_tokens: false });
  add({ name: `${name}.pairs`, tokenizer: r.file, inputs: 'pairs.tsv', add_special_tokens: true });
}

// The slow-file forms load to the same tokenizer, so they share the golden files.
for (const kind of ['plain', 'nospecial', 'pairs']) {
  add({
    name: `bert-base-chinese-vocab.${kind}`, tokenizer: 'bert-base-chinese-vocab', reference: 'bert-base-chinese/tokenizer.json',
    inputs: kind === 'pairs' ? 'pairs.tsv' : 'corpus.txt', add_special_tokens: kind !== 'nospecial',
    golden: `golden/bert-base-chinese.${kind}.jsonl.gz`, golden_of: `bert-base-chinese.${kind}`,
    note: 'BertTokenizer built from vocab.txt + tokenizer_config.json; equals bert-base-chinese/tokenizer.json (checked by build_real.js), so it shares its golden file',
  });
  add({
    name: `gpt2-files.${kind}`, tokenizer: 'gpt2', reference: 'gpt2/tokenizer.json',
    inputs: kind === 'pairs' ? 'pairs.tsv' : 'corpus.txt', add_special_tokens: kind !== 'nospecial',
    golden: `golden/gpt2.${kind}.jsonl.gz`, golden_of: `gpt2.${kind}`,
    note: 'GPT-2 built from gpt2/vocab.json + gpt2/merges.txt the way transformers GPT2Converter does; gpt2/tokenizer.json is that tokenizer, so it shares its golden file',
  });
}

// Truncation and padding for bert-base-uncased and roberta-style.
for (const name of ['bert-base-uncased', 'roberta-style']) {
  const r = real[name];
  for (const direction of ['right', 'left']) {
    for (const stride of [0, 4]) {
      add({
        name: `${name}.trunc.single.longest_first.s${stride}.${direction}`, tokenizer: r.file, inputs: 'corpus.txt',
        add_special_tokens: true, truncation: { max_length: 16, strategy: 'longest_first', stride, direction },
      });
      // Pairs with a stride make every part of A meet every part of B; roberta-style leaves stride 4 out
      // (bert-base-uncased has it) to keep the golden files small.
      if (stride && name === 'roberta-style') continue;
      add({
        name: `${name}.trunc.pairs.longest_first.s${stride}.${direction}`, tokenizer: r.file, inputs: 'pairs.tsv',
        add_special_tokens: true, truncation: { max_length: 16, strategy: 'longest_first', stride, direction },
      });
    }
    for (const strategy of ['only_first', 'only_second']) {
      add({
        name: `${name}.trunc.pairs.${strategy}.s0.${direction}`, tokenizer: r.file, inputs: 'pairs.tsv',
        add_special_tokens: true, truncation: { max_length: 16, strategy, stride: 0, direction },
      });
    }
  }
  // only_second on a single text: fine when it fits, an error ("Second sequence not provided") when not.
  add({
    name: `${name}.trunc.single.only_second.s0.right`, tokenizer: r.file, inputs: 'corpus-small.txt', add_special_tokens: true,
    truncation: { max_length: 16, strategy: 'only_second', stride: 0, direction: 'right' },
  });
  add({
    name: `${name}.trunc.single.nospecial.s4.right`, tokenizer: r.file, inputs: 'corpus.txt', add_special_tokens: false,
    truncation: { max_length: 16, strategy: 'longest_first', stride: 4, direction: 'right' },
  });
  const pad = (strategy, direction, mult) => ({
    strategy, direction, pad_to_multiple_of: mult, pad_id: r.pad[0], pad_type_id: 0, pad_token: r.pad[1],
  });
  add({ name: `${name}.pad.batch_longest.right`, tokenizer: r.file, inputs: 'corpus.txt', add_special_tokens: true, padding: pad('batch_longest', 'right', null), batch: true });
  add({ name: `${name}.pad.batch_longest.left`, tokenizer: r.file, inputs: 'corpus.txt', add_special_tokens: true, padding: pad('batch_longest', 'left', null), batch: true });
  add({ name: `${name}.pad.fixed48.right`, tokenizer: r.file, inputs: 'pairs.tsv', add_special_tokens: true, padding: pad({ fixed: 48 }, 'right', null) });
  add({ name: `${name}.pad.multiple8.right`, tokenizer: r.file, inputs: 'pairs.tsv', add_special_tokens: true, padding: pad('batch_longest', 'right', 8) });
  if (name === 'bert-base-uncased') add({ name: `${name}.pad.multiple8.left.batch`, tokenizer: r.file, inputs: 'corpus.txt', add_special_tokens: true, padding: pad('batch_longest', 'left', 8), batch: true });
  add({
    name: `${name}.trunc_pad.batch`, tokenizer: r.file, inputs: 'corpus.txt', add_special_tokens: true, batch: true,
    truncation: { max_length: 24, strategy: 'longest_first', stride: 4, direction: 'right' }, padding: pad('batch_longest', 'right', null),
  });
  add({
    name: `${name}.trunc_pad.pairs.fixed`, tokenizer: r.file, inputs: 'pairs.tsv', add_special_tokens: true,
    truncation: { max_length: 20, strategy: 'longest_first', stride: 0, direction: 'left' }, padding: pad({ fixed: 20 }, 'left', 8),
  });
}
// A truncated unigram case (TemplateProcessing pair with 4 added tokens).
add({
  name: 'unigram.trunc.pairs.longest_first.s2.right', tokenizer: real.unigram.file, inputs: 'pairs.tsv', add_special_tokens: true,
  truncation: { max_length: 16, strategy: 'longest_first', stride: 2, direction: 'right' },
});

for (const v of variants) add(v);

module.exports = { cases };
