#!/usr/bin/env node
// make_corpus.js writes testdata/tokenizer/corpus.txt and testdata/tokenizer/pairs.tsv.
//
// The output is deterministic: hand-written lines (below, with control and invisible characters written as
// JS escapes so this file stays readable) plus lines taken at fixed strides from the shared datasets.
//
// Usage: node make_corpus.js <datasets dir> <testdata/tokenizer dir>
'use strict';
const fs = require('fs');
const path = require('path');

const [datasets, outDir] = process.argv.slice(2);
if (!datasets || !outDir) {
  console.error('usage: node make_corpus.js <datasets dir> <out dir>');
  process.exit(2);
}

// Hand-written lines. One text per line: no '\n' or '\r' inside any of them.
const hand = [
  // --- plain English, punctuation, contractions
  'Hello, world!',
  'hello world',
  'HELLO WORLD',
  "I can't believe it's not butter; they'd've said so.",
  "Don't stop-believing: it's the 80's, isn't it?",
  'The quick brown fox jumps over the lazy dog.',
  'A man, a plan, a canal: Panama!',
  'Wait... what?! (Really?) [Yes.] {No!}',
  '"Quoted text," she said, \'and more quotes.\'',
  'semi;colon:colon--dash---triple—em–en',
  'e-mail me at someone@example.com or visit https://example.com/path?q=1&b=two#frag',
  'http://www.example.org/a/b/c.html ftp://files.example.net/pub/file_v2.tar.gz',
  'Use C++ or C# (or Go 1.26) with flags like --verbose -x and a/b\\c paths.',
  '#hashtag @mention $dollar %percent ^caret &amp *star _under +plus =eq ~tilde `tick` |pipe',
  'Numbers: 1,234.56 and 2026 and 3.14159 and -42 and +7 and 1e10 and 0x1F and 007.',
  'Phone: (555) 123-4567, date 2026-11-29, time 08:40:00, 50% off, $19.99, €5, £3, ¥100.',
  '12345678901234567890 123 4567 89',
  'Version v1.2.3-rc.1+build.5',
  'snake_case camelCase PascalCase kebab-case SCREAMING_CASE',
  'unaffable unbelievably antidisestablishmentarianism supercalifragilisticexpialidocious',
  'tokenization tokenizer tokenizers tokenized retokenize',
  "O'Neill's rock'n'roll y'all ma'am",
  'I.B.M. U.S.A. e.g. i.e. etc. Mr. Mrs. Dr.',
  'a',
  'I',
  '.',
  '!!!',
  '?',
  '...',
  '-',
  'x y z',
  // --- accents and Latin variety
  'café naïve Ångström façade résumé coöperate jalapeño',
  'Crème brûlée à la française, señor, über, Ærøskøbing, Łódź, Øresund, Straße',
  'CAFÉ NAÏVE ÅNGSTRÖM FAÇADE',
  'Ἐν ἀρχῇ ἦν ὁ λόγος — Greek with polytonic accents',
  'Привет, мир! Съешь же ещё этих мягких французских булок.',
  'Việt Nam xin chào, Tiếng Việt có dấu.',
  'İstanbul ıI iİ — Turkish dotted and dotless i',
  'ǅemal ǈubljana ǋina — titlecase digraphs',
  'ﬁ ﬂ ﬀ ﬃ ligatures and ½ ¼ ¾ fractions and ² ³ superscripts and ℌ ℍ ℕ ℝ',
  'Ｆｕｌｌｗｉｄｔｈ　ＡＳＣＩＩ　１２３ and halfwidth ｶﾀｶﾅ',
  '㍿ ㌔ ㎏ ㈱ ① ② ⑩ Ⅻ compatibility characters',
  'Å (U+212B angstrom sign) vs Å (U+00C5) vs Å (A + ring)',
  // combining marks
  'cafe\u0301 nai\u0308ve A\u030Angstro\u0308m fac\u0327ade',
  'e\u0301\u0302\u0303\u0304 stacked combining marks on e',
  'Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319\u0324\u031E\u0349\u035A\u032F\u031E\u0320\u034Da\u0357\u0369\u0301\u030B\u0352\u035A\u034D\u0319\u032C\u035AL\u0310\u0357\u0350G\u0360\u0340O\u0335\u0310 zalgo text',
  '\u0301 leading combining acute',
  'ก\u0e34\u0e49 Thai with combining marks: ภาษาไทย ไม่มีช่องว่าง',
  // --- Chinese
  '我爱自然语言处理。',
  '今天天气很好，我们去公园散步吧！',
  '你好 世界 这是 有 空格 的 中文',
  '北京是中华人民共和国的首都，有着三千多年的建城史。',
  '他说：“这个价格是１２３元。”然后离开了。',
  '（括号）【方括号】《书名号》——破折号……省略号、顿号；分号',
  '中文English混合Mixed文本text123数字',
  '繁體中文與簡體中文的對比：學習 vs 学习',
  '𠀀𠀁𪚥 CJK Extension B characters and 〇 ideographic zero',
  // --- Japanese
  '日本語のテキストです。ひらがな、カタカナ、漢字が混ざっています。',
  'こんにちは世界！東京タワーは３３３メートルです。',
  'ｶﾞｷﾞｸﾞ halfwidth dakuten and がぎぐ composed and か\u3099き\u3099 decomposed',
  'ジャパン・エキスポ２０２６「開催決定」',
  // --- Korean
  '안녕하세요, 세계! 한국어 텍스트입니다.',
  '대한민국의 수도는 서울입니다. 인구는 약 950만 명입니다.',
  '\u1112\u1161\u11AB\u1100\u1173\u11AF conjoining jamo vs 한글 precomposed',
  // --- Arabic, Hebrew, Hindi and other scripts
  'مرحبا بالعالم! هذا نص عربي.',
  'اللغة العربية جميلة ١٢٣٤٥٦٧٨٩٠',
  'السَّلَامُ عَلَيْكُمْ with harakat',
  'שלום עולם! זהו טקסט בעברית.',
  'नमस्ते दुनिया! यह हिंदी पाठ है।',
  'हिन्दी में संख्याएँ: १२३४५',
  'ক্ষ বাংলা ভাষা, தமிழ் மொழி, తెలుగు, ಕನ್ನಡ, മലയാളം',
  'ሰላም ዓለም Amharic, Ողջույն Armenian, გამარჯობა Georgian',
  'English then عربي then English again (bidi)',
  '\u202Eright-to-left override\u202C and \u200Fmarks\u200E',
  // --- emoji
  'I love it 😀😃😄😁',
  '👍 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿 skin tones',
  '👨‍👩‍👧‍👦 family ZWJ and 👩🏽‍💻 technologist and 🏳️‍🌈 flag and 🏴‍☠️ pirate',
  '🇺🇸🇫🇷🇯🇵🇨🇳 regional indicator flags',
  '❤️ heart with VS16, ❤ without, ☺️ ☺ ✔️ ✔',
  '1️⃣ 2️⃣ #️⃣ keycaps',
  'emoji🙂inside🙃words',
  '🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖',
  '😀',
  // --- control characters and invisible characters
  'tab\tseparated\tvalues',
  '\tleading tab',
  'trailing tab\t',
  'null\u0000byte inside',
  '\u0000',
  'unit\u001fseparator and\u001erecord separator',
  'delete\u007fchar',
  'bell\u0007 backspace\u0008 vertical\u000Btab form\u000Cfeed',
  'C1 controls: \u0080\u0085\u009F end',
  'zero\u200Bwidth\u200Bspace',
  'zero\u200Cwidth\u200Dnon-joiner and joiner',
  '\uFEFFbyte order mark at start',
  'word\u2060joiner and soft\u00ADhyphen',
  'invisible\u2062times and\u2063separator',
  'variation selector a\uFE0F b\uFE0E',
  'private use \uE000\uE001\uF8FF',
  'replacement char \uFFFD here',
  'noncharacter \uFDD0 and \uFFFE',
  'mixed\u0000\u0001\u0002controls\u0003\u0004',
  // --- spaces
  'non\u00A0breaking\u00A0space',
  'en\u2002em\u2003thin\u2009hair\u200Asix-per-em\u2006figure\u2007space',
  'ideographic\u3000space\u3000here',
  'narrow\u202Fno-break and medium\u205Fmath space',
  'ogham\u1680space mark',
  '  two leading spaces',
  'two trailing spaces  ',
  '   ',
  ' ',
  'multiple     spaces     between     words',
  '  leading and trailing  ',
  'a  b   c    d     e',
  '\u00A0\u00A0nbsp lead',
  'line\u2028separator and\u2029paragraph separator',
  'next\u0085line',
  // --- special-token lookalikes
  '[CLS] hello [SEP]',
  '[CLS]hello[SEP]',
  '[cls] lower case [sep]',
  '[MASK] is a [MASK] token',
  'the [MASK]ed word',
  '[PAD] [UNK] [PAD]',
  '<s>',
  '</s>',
  '<s> hello </s>',
  '<s>hello</s><pad><unk>',
  'fill the <mask> here',
  'fill the<mask>here',
  'a  <mask>  b',
  '<mask>',
  '<|endoftext|> gpt end of text',
  'text<|endoftext|>more',
  '<unk> <pad> <UNK>',
  '<0x41> looks like a byte token',
  '▁ is the metaspace char and Ġ is a byte-level space, Ċ a newline',
  '## hash hash ##ing',
  // --- misc
  'HTML <b>bold</b> &amp; <a href="x">link</a>',
  '{"json": [1, 2, 3], "key": null}',
  'SELECT * FROM users WHERE id = 42;',
  'func main() { fmt.Println("hi") }',
  'x = a*b + c/d - e^f; y != z && w || !v',
  '∀x∈ℝ: x²≥0 ∑ ∫ √ ∞ ≈ ≠ ≤ ≥ ± × ÷',
  '← → ↑ ↓ ⇒ ⇔ ★ ☆ ♠ ♥ ♦ ♣ ♪ ☂ ☃',
  '™ © ® § ¶ † ‡ • ‰ ′ ″',
  'ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS !@#',
  'MiXeD cAsE wOrDs',
  'repeated repeated repeated repeated repeated repeated',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '!!!!!!!!!!!!!!!!!!!!????????????????',
  '1111111111111111111111111111111111111111',
  'ab12cd34ef56',
  'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ kaomoji',
  '¯\\_(ツ)_/¯',
];

// Generated lines: very long words and very long lines.
const gen = [];
gen.push('x'.repeat(250));
gen.push('pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(5));
gen.push('a' + 'bc'.repeat(110) + ' short');
gen.push('word ' + 'Ω'.repeat(220) + ' word');
gen.push('漢'.repeat(210));
gen.push('😀'.repeat(120));
gen.push('https://example.com/' + 'segment/'.repeat(30) + 'end?x=' + '9'.repeat(40));
// Long lines (1000+ characters).
{
  const words = ['the', 'film', 'is', 'a', 'tokenizer', 'café', 'naïve', 'über', 'résumé', 'data', 'model',
    'transformers', 'go', 'fast', '2026', '3.14', 'OK!', 'well,', "isn't", '中文', '日本語', '한국어', '😀', 'مرحبا'];
  let s = '';
  let i = 0;
  while (s.length < 1200) {
    s += (s ? ' ' : '') + words[(i * 7 + 3) % words.length];
    i++;
  }
  gen.push(s);
  let t = '';
  i = 0;
  while (t.length < 1500) {
    t += 'Sentence number ' + i + ' ends here. ';
    i++;
  }
  gen.push(t.trimEnd());
  gen.push('长句子'.repeat(10) + '，'.repeat(1) + '这是一个非常长的中文句子，用来测试截断和偏移量。'.repeat(22));
  gen.push(('lorem ipsum dolor sit amet ').repeat(40).trim());
}

function readLines(p) {
  return fs.readFileSync(p, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
}

// Real lines from the datasets at fixed strides.
const sst2 = readLines(path.join(datasets, 'sst2/dev.tsv')).slice(1).map((l) => l.split('\t')[1]);
const sms = readLines(path.join(datasets, 'sms_spam/SMSSpamCollection')).slice(1).map((l) => l.split('\t').slice(1).join(' '));
const thuc = readLines(path.join(datasets, 'thucnews/dev.txt')).map((l) => l.split('\t')[0]);
function stride(arr, n, offset) {
  const out = [];
  const step = Math.floor(arr.length / n);
  for (let i = 0; i < n; i++) out.push(arr[offset + i * step]);
  return out;
}
const real = [...stride(sst2, 45, 1), ...stride(sms, 40, 2), ...stride(thuc, 40, 3)];

// The same texts again with surrounding spaces (leading/trailing whitespace handling in every script).
for (let i = 0; i < hand.length; i += 12) gen.push('  ' + hand[i] + ' ');

const lines = [];
// Empty lines are spread through the file (the first and some in the middle), not only at the end.
lines.push('');
lines.push(...hand.slice(0, 60));
lines.push('');
lines.push(...real.slice(0, 50));
lines.push(...hand.slice(60, 120));
lines.push('');
lines.push('');
lines.push(...gen);
lines.push(...real.slice(50));
lines.push(...hand.slice(120));
for (const l of lines) {
  if (l.includes('\n') || l.includes('\r')) throw new Error('line contains a newline: ' + JSON.stringify(l));
}
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'corpus.txt'), lines.join('\n') + '\n');
// corpus-small.txt: the lines of corpus.txt that are not dataset lines and have at most 300 UTF-16 units,
// in the same order (used by the small coverage variants).
const realSet = new Set(real);
const small = lines.filter((l) => !realSet.has(l) && l.length <= 300);
fs.writeFileSync(path.join(outDir, 'corpus-small.txt'), small.join('\n') + '\n');

// Pairs: text<TAB>pair. Neither side contains a tab.
const pairs = [];
const handPairs = [
  ['Hello, world!', 'How are you?'],
  ['', 'empty first'],
  ['empty second', ''],
  ['', ''],
  ['[CLS] hello [SEP]', '<s> world </s>'],
  ['我爱自然语言处理。', '今天天气很好'],
  ['café naïve', 'Ångström façade'],
  ['👨‍👩‍👧‍👦 family', '👍🏽 ok'],
  ['  spaced  out  ', '   '],
  ['short', 'a much longer second sequence with many more words than the first one, so that longest first truncation has to cut it down quite a lot'],
  ['a much longer first sequence with many more words than the second one, so that longest first truncation has to cut it down quite a lot', 'short'],
  ['fill the <mask> here', 'and <mask> there'],
  ['null\u0000byte', 'zero\u200Bwidth'],
  ['non\u00A0breaking', 'ideographic\u3000space'],
  ['Numbers: 1,234.56', '2026-11-29'],
  ['مرحبا بالعالم', 'नमस्ते दुनिया'],
  ['안녕하세요', 'こんにちは'],
  ['x'.repeat(210), 'y'],
  ['one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen',
    'uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciseis diecisiete'],
  ['.', '!'],
];
pairs.push(...handPairs);
const sstP = stride(sst2, 28, 11);
const smsP = stride(sms, 28, 13);
const thucP = stride(thuc, 28, 17);
for (let i = 0; i < 28; i++) {
  pairs.push([sstP[i], smsP[(i + 5) % 28]]);
  pairs.push([thucP[i], sstP[(i + 3) % 28]]);
  pairs.push([smsP[i], thucP[(i + 7) % 28]]);
}
for (const [a, b] of pairs) {
  for (const s of [a, b]) {
    if (/[\t\n\r]/.test(s)) throw new Error('pair side contains tab/newline: ' + JSON.stringify(s));
  }
}
fs.writeFileSync(path.join(outDir, 'pairs.tsv'), pairs.map(([a, b]) => a + '\t' + b).join('\n') + '\n');
console.log(`corpus.txt: ${lines.length} lines; corpus-small.txt: ${small.length} lines; pairs.tsv: ${pairs.length} lines`);
