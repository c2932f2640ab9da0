'use strict';
// variant_cases.js defines the coverage variants: small tokenizers that each exercise one component
// (normalizer, pre-tokenizer, model option, added-token flag, post-processor, decoder). build_variants.js
// builds each one from a base (see there) by editing its JSON; the reference loads it with
// Tokenizer.fromString, and what it writes back is committed as testdata/tokenizer/variants/<name>.json.
//
// Each entry: { name, base, edit(json, helpers), inputs: [...], note }.

const BL_DECODER = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
const byteLevel = (aps, regex, trim) => ({ type: 'ByteLevel', add_prefix_space: aps, trim_offsets: trim === undefined ? true : trim, use_regex: regex });
// Pre-tokenizer X followed by ByteLevel without its regex: X decides the splits, ByteLevel only maps bytes,
// so the byte-level BPE can encode every character whatever X does.
const thenBytes = (x) => ({ type: 'Sequence', pretokenizers: [x, byteLevel(false, false)] });
const bert = (o) => Object.assign({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true }, o);
const split = (pattern, behavior, invert) => ({ type: 'Split', pattern, behavior, invert: !!invert });
const metaspace = (scheme, split) => ({ type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split });
const tmplTok = (id, type_id) => ({ SpecialToken: { id, type_id } });
const tmplSeq = (id, type_id) => ({ Sequence: { id, type_id } });
const addedTok = (id, content, o) => Object.assign({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }, o);

// Variants encode corpus-small.txt (the hand-written part of corpus.txt, no dataset lines, no line over 300
// characters) to keep the committed golden files small; a few also encode pairs.tsv.
const SMALL = 'corpus-small.txt';
const v = [];
const def = (name, base, edit, inputs, note) => v.push({ name, base, edit, inputs: inputs || [SMALL], note });
const norm = (n) => (j) => { j.normalizer = n; };
const pre = (p) => (j) => { j.pre_tokenizer = p; };

// --- normalizers, on the byte-level BPE base (every change of the text shows in tokens and offsets)
def('norm-nfc', 'blbpe', norm({ type: 'NFC' }));
def('norm-nfd', 'blbpe', norm({ type: 'NFD' }));
def('norm-nfkc', 'blbpe', norm({ type: 'NFKC' }));
def('norm-nfkd', 'blbpe', norm({ type: 'NFKD' }));
def('norm-lowercase', 'blbpe', norm({ type: 'Lowercase' }));
def('norm-strip-accents', 'blbpe', norm({ type: 'StripAccents' }));
def('norm-replace-string', 'blbpe', norm({ type: 'Replace', pattern: { String: 'an' }, content: 'AN–' }));
def('norm-replace-regex', 'blbpe', norm({ type: 'Replace', pattern: { Regex: '\\s+|[0-9]{2,}' }, content: '_' }));
def('norm-prepend', 'blbpe', norm({ type: 'Prepend', prepend: '▁' }));
def('norm-strip-both', 'blbpe', norm({ type: 'Strip', strip_left: true, strip_right: true }));
def('norm-strip-left', 'blbpe', norm({ type: 'Strip', strip_left: true, strip_right: false }));
def('norm-nmt', 'blbpe', norm({ type: 'Nmt' }));
// SentencePiece's nmt_nfkc map, as XLM-R and ALBERT carry it (make_charsmap.py writes the file).
const charsmap = () => require('fs').readFileSync(require('path').join(__dirname, '../../../testdata/tokenizer/precompiled_charsmap.b64'), 'utf8').trim();
def('norm-precompiled', 'blbpe', (j) => { j.normalizer = { type: 'Precompiled', precompiled_charsmap: charsmap() }; });
def('norm-precompiled-xlmr', 'unigram', (j) => {
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: charsmap() },
    { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] };
}, [SMALL, 'pairs.tsv']);
def('norm-sequence', 'blbpe', norm({ type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }, { type: 'Strip', strip_left: false, strip_right: true }] }));
def('norm-bert-default', 'blbpe', norm(bert({})));
def('norm-bert-no-clean-text', 'blbpe', norm(bert({ clean_text: false })));
def('norm-bert-no-chinese-chars', 'blbpe', norm(bert({ handle_chinese_chars: false })));
def('norm-bert-strip-accents-cased', 'blbpe', norm(bert({ strip_accents: true, lowercase: false })));
def('norm-bert-keep-accents-lower', 'blbpe', norm(bert({ strip_accents: false, lowercase: true })));

// --- pre-tokenizers (followed by a regex-less ByteLevel, see thenBytes)
def('pre-whitespace', 'blbpe', pre(thenBytes({ type: 'Whitespace' })));
def('pre-whitespace-split', 'blbpe', pre(thenBytes({ type: 'WhitespaceSplit' })));
for (const b of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
  def(`pre-punctuation-${b.toLowerCase()}`, 'blbpe', pre(thenBytes({ type: 'Punctuation', behavior: b })));
}
for (const b of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
  def(`pre-split-string-${b.toLowerCase()}`, 'blbpe', pre(thenBytes(split({ String: ' ' }, b))));
  def(`pre-split-regex-${b.toLowerCase()}`, 'blbpe', pre(thenBytes(split({ Regex: '[0-9]+|[,.!?;:]+|\\s+' }, b))));
}
def('pre-split-regex-invert-removed', 'blbpe', pre(thenBytes(split({ Regex: '\\p{L}+' }, 'Removed', true))));
def('pre-split-string-invert-isolated', 'blbpe', pre(thenBytes(split({ String: 'a' }, 'Isolated', true))));
def('pre-digits-individual', 'blbpe', pre(thenBytes({ type: 'Digits', individual_digits: true })));
def('pre-digits-grouped', 'blbpe', pre(thenBytes({ type: 'Digits', individual_digits: false })));
def('pre-sequence', 'blbpe', pre({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: true }, { type: 'Punctuation', behavior: 'Isolated' }, byteLevel(true, false)] }));
def('pre-bytelevel-prefix-space', 'blbpe', pre(byteLevel(true, true)));
def('pre-bytelevel-no-regex', 'blbpe', pre(byteLevel(false, false)));
def('pre-gpt2-split-bytelevel', 'blbpe', pre({
  type: 'Sequence',
  pretokenizers: [split({ Regex: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+" }, 'Isolated'), byteLevel(false, false)],
}));
// Metaspace on the unigram base (its decoder follows the pre-tokenizer's settings).
for (const scheme of ['always', 'first', 'never']) {
  for (const sp of scheme === 'always' ? [true, false] : [true]) {
    def(`pre-metaspace-${scheme}-${sp ? 'split' : 'nosplit'}`, 'unigram', (j) => {
      j.pre_tokenizer = metaspace(scheme, sp);
      j.decoder = { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, metaspace(scheme, sp)] };
    }, scheme === 'first' ? [SMALL, 'pairs.tsv'] : [SMALL]);
  }
}

// --- models
def('model-wordpiece-small', 'wp', () => {}, [SMALL, 'pairs.tsv']);
def('model-wordpiece-max-chars-8', 'wp', (j) => { j.model.max_input_chars_per_word = 8; });
def('model-wordpiece-decoder-no-cleanup', 'wp', (j) => { j.decoder.cleanup = false; });
def('model-bpe-llama-byte-fallback', 'cbpe', () => {}, [SMALL, 'pairs.tsv'],
  'Llama-like: Prepend+Replace normalizer, no pre-tokenizer, BPE byte_fallback, decoder Replace/ByteFallback/Fuse/Strip');
def('model-bpe-unk', 'cbpe', (j) => { j.model.byte_fallback = false; j.model.fuse_unk = false; });
def('model-bpe-unk-fused', 'cbpe', (j) => { j.model.byte_fallback = false; j.model.fuse_unk = true; });
// ignore_merges only matters for a pre-token that is itself in the vocabulary but that the merges do not
// build, so whole words are added to the vocabulary here.
def('model-bpe-ignore-merges', 'blbpe', (j) => {
  j.model.ignore_merges = true;
  let next = Math.max(...Object.values(j.model.vocab)) + 1;
  for (const w of ['Ġtokenization', 'Ġtokenizer', 'Ġbelieve', 'Ġbutter', 'Ġfox', 'Ġlazy', 'Ġcanal', 'Hello', 'Ġfilm',
    'Ġmovie', 'Ġfunny', 'Ġwonderful', 'Ġrepeated', 'Ġspaces', 'Ġnumber', 'Ġwords', 'Ġcafé', 'ĠÃ©']) {
    if (!(w in j.model.vocab)) j.model.vocab[w] = next++;
  }
});

// --- added tokens (flags single_word, lstrip, rstrip, normalized, special)
const addedSet = (base) => (j, h) => {
  const want = [
    ['[MASK]', { special: true, lstrip: true, rstrip: true }],
    ['hello', { single_word: true, normalized: true }],
    ['Café', { normalized: false }],
    ['NAÏVE', { normalized: true }],
    ['<s>', { special: true }],
    ['an', { normalized: false }],
    ['!!', { rstrip: true }],
    ['中文', { special: true, single_word: true }],
    ['ZWJ\u200D', {}],
    ['[sep]', { special: true, normalized: true }],
  ];
  h.addTokens(j, want, base);
};
def('added-wordpiece', 'wp', addedSet('wp'), [SMALL, 'pairs.tsv']);
def('added-bytelevel', 'blbpe', addedSet('blbpe'));

// --- post-processors
def('post-template', 'wp', (j, h) => {
  j.post_processor = {
    type: 'TemplateProcessing',
    single: [tmplSeq('A', 0), tmplTok('[SEP]', 0), tmplTok('[CLS]', 2)],
    pair: [tmplTok('[MASK]', 3), tmplSeq('A', 0), tmplTok('[SEP]', 0), tmplSeq('B', 1), tmplTok('[SEP]', 1), tmplTok('[CLS]', 2)],
    special_tokens: {
      '[SEP]': { id: '[SEP]', ids: [h.id(j, '[SEP]')], tokens: ['[SEP]'] },
      '[CLS]': { id: '[CLS]', ids: [h.id(j, '[CLS]')], tokens: ['[CLS]'] },
      '[MASK]': { id: '[MASK]', ids: [h.id(j, '[MASK]'), h.id(j, '[PAD]')], tokens: ['[MASK]', '[PAD]'] },
    },
  };
}, [SMALL, 'pairs.tsv'], 'XLNet-like template with a two-token special and type ids 0..3');
def('post-bert', 'wp', (j, h) => {
  j.post_processor = { type: 'BertProcessing', sep: ['[SEP]', h.id(j, '[SEP]')], cls: ['[CLS]', h.id(j, '[CLS]')] };
}, [SMALL, 'pairs.tsv']);
for (const trim of [true, false]) {
  for (const aps of [true, false]) {
    if (trim && !aps) continue; // the roberta-style tokenizer is this one
    def(`post-roberta-trim-${trim}-prefix-${aps}`, 'blbpe', (j, h) => {
      j.pre_tokenizer = byteLevel(aps, true);
      h.addTokens(j, [['<s>', { special: true }], ['</s>', { special: true }], ['<mask>', { special: true, lstrip: true }]], 'blbpe');
      j.post_processor = { type: 'RobertaProcessing', sep: ['</s>', h.id(j, '</s>')], cls: ['<s>', h.id(j, '<s>')], trim_offsets: trim, add_prefix_space: aps };
    }, [SMALL, 'pairs.tsv']);
  }
}
for (const trim of [true, false]) {
  def(`post-bytelevel-trim-${trim}`, 'blbpe', (j) => {
    j.pre_tokenizer = byteLevel(true, true);
    j.post_processor = byteLevel(true, true, trim);
  }, [SMALL, 'pairs.tsv']);
}

// UnicodeScripts decides the splits; ByteLevel (without its regex) only maps bytes for the BPE.
def('pre-unicode-scripts', 'blbpe', pre(thenBytes({ type: 'UnicodeScripts' })));

// WordLevel: the WordPiece base's whole-word entries (no ## pieces), unknown words to [UNK].
def('model-wordlevel', 'wp', (j) => {
  const vocab = {};
  for (const [tok, id] of Object.entries(j.model.vocab)) if (!tok.startsWith('##')) vocab[tok] = id;
  j.model = { type: 'WordLevel', vocab, unk_token: '[UNK]' };
}, [SMALL, 'pairs.tsv']);

// --- the pipelines of the decoders' and ModernBERT's tokenizer.json files (issue 16), on the byte-level
// BPE base: the real files differ in vocabulary and merges only.
const QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
def('arch-qwen2', 'blbpe', (j, h) => {
  j.normalizer = { type: 'NFC' };
  j.pre_tokenizer = { type: 'Sequence', pretokenizers: [split({ Regex: QWEN2_REGEX }, 'Isolated'), byteLevel(false, false, false)] };
  j.post_processor = byteLevel(false, false, false);
  j.model.ignore_merges = false;
  h.addTokens(j, [['<|endoftext|>', { special: true }], ['<|im_start|>', { special: true }], ['<|im_end|>', { special: true }]], 'blbpe');
}, [SMALL, 'pairs.tsv'], "Qwen2's pipeline: NFC, Split(Qwen2 regex, Isolated) + ByteLevel without regex, ByteLevel post-processor, <|endoftext|>");
def('arch-llama3', 'blbpe', (j, h) => {
  j.normalizer = null;
  j.pre_tokenizer = { type: 'Sequence', pretokenizers: [split({ Regex: LLAMA3_REGEX }, 'Isolated'), byteLevel(false, false, true)] };
  j.model.ignore_merges = true;
  h.addTokens(j, [['<|begin_of_text|>', { special: true }], ['<|end_of_text|>', { special: true }]], 'blbpe');
  j.post_processor = { type: 'Sequence', processors: [byteLevel(true, true, false), {
    type: 'TemplateProcessing',
    single: [tmplTok('<|begin_of_text|>', 0), tmplSeq('A', 0)],
    pair: [tmplTok('<|begin_of_text|>', 0), tmplSeq('A', 0), tmplTok('<|begin_of_text|>', 1), tmplSeq('B', 1)],
    special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [h.id(j, '<|begin_of_text|>')], tokens: ['<|begin_of_text|>'] } },
  }] };
}, [SMALL, 'pairs.tsv'], "Llama 3's pipeline: Split(Llama 3 regex, digits in threes) + ByteLevel, ignore_merges, ByteLevel + <|begin_of_text|> template");
def('arch-modernbert', 'blbpe', (j, h) => {
  j.normalizer = { type: 'NFC' };
  j.pre_tokenizer = byteLevel(false, true, true);
  h.addTokens(j, [['|||IP_ADDRESS|||', { normalized: true }], ['<|padding|>', { special: true }], ['[UNK]', { special: true }],
    ['[CLS]', { special: true }], ['[SEP]', { special: true }], ['[PAD]', { special: true }], ['[MASK]', { special: true, lstrip: true }]], 'blbpe');
  j.post_processor = {
    type: 'TemplateProcessing',
    single: [tmplTok('[CLS]', 0), tmplSeq('A', 0), tmplTok('[SEP]', 0)],
    pair: [tmplTok('[CLS]', 0), tmplSeq('A', 0), tmplTok('[SEP]', 0), tmplSeq('B', 0), tmplTok('[SEP]', 0)],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [h.id(j, '[CLS]')], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [h.id(j, '[SEP]')], tokens: ['[SEP]'] },
    },
  };
}, [SMALL, 'pairs.tsv'], "ModernBERT's (OLMo's) pipeline: NFC, ByteLevel with regex, [CLS] $A [SEP] template, [MASK] lstrip");

module.exports = { variantDefs: v, BL_DECODER, addedTok };

// The golden cases of the variants.
const variants = [];
for (const d of v) {
  for (const inputs of d.inputs) {
    const kind = inputs === 'pairs.tsv' ? 'pairs' : 'small';
    const c = { name: `variant.${d.name}.${kind}`, tokenizer: `variants/${d.name}.json`, inputs, add_special_tokens: true };
    if (d.note) c.note = d.note;
    variants.push(c);
  }
}
module.exports.variants = variants;
