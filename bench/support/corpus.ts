/**
 * Deterministic synthetic text for the benchmarks: a seeded random source, a Zipf-distributed
 * vocabulary (English stop words at the top ranks, then common English content words, then a long
 * tail of pronounceable made-up terms, like the jargon and names of real documents), and sentences
 * and paragraphs built from it.
 */

/** sfc32, seeded through splitmix32: fast, good enough for data generation, the same on every run. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let state = seed >>> 0;
    const next = () => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let index = 0; index < 12; index++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4_294_967_296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Standard normal (Box–Muller, both values used). */
  gaussian(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * this.next();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** 16 random bytes as a version-4 UUID string. */
  uuid(): string {
    const hex = [this.uint32(), this.uint32(), this.uint32(), this.uint32()]
      .map((word) => word.toString(16).padStart(8, '0'))
      .join('');
    const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** Words Postgres' english configuration drops (a subset of its stop list), most frequent first. */
export const STOP_WORDS = (
  'the of and to a in is that for it as with was on be by this are or at from an which not but have ' +
  'has were its they their these when into only such some there all more most other each between ' +
  'than been can will so if about through after over then both any being under our same where how'
).split(' ');

/** Common English content words (not stop words), roughly by frequency in reports and manuals. */
export const COMMON_WORDS = (
  'also would may new time system data use used year first two years work number part case process ' +
  'information group results result study development level model based well make different however ' +
  'important three value high within state service program support management way order team report ' +
  'since example total design field area need analysis project changes form control user users rate ' +
  'set research found given section table order cost costs policy market change point large provide ' +
  'health public local national water energy product products quality period small test tests power ' +
  'methods method following several current people business further early long increase review view ' +
  'line term terms access range risk approach factors factor practice security network include ' +
  'included required effect effects standard shown training size production members working common ' +
  'specific private financial material materials performance application applications general ' +
  'treatment budget plan plans source sources technical operations account structure environment ' +
  'equipment values individual final function functions key office staff practice client clients ' +
  'customer customers contract contracts survey surveys sample samples meeting meetings summary ' +
  'response requirements evidence agreement average higher lower annual monthly weekly daily tool ' +
  'tools version release issue issues document documents record records measure measures target ' +
  'targets capacity demand supply schedule phase stage status share price prices growth revenue ' +
  'income expenses tax property building site sites region regional county city board committee ' +
  'director manager officer team teams partner partners vendor vendors software hardware server ' +
  'storage memory input output signal device devices module modules interface protocol request ' +
  'requests error errors failure failures monitoring incident incidents maintenance inspection ' +
  'safety compliance audit audits contractor payment payments invoice invoices delivery shipping ' +
  'inventory order orders stock logistics transport vehicle vehicles fuel emissions waste recycling ' +
  'patients clinical trial trials dose doses therapy hospital care nursing students school schools ' +
  'course courses teacher learning assessment curriculum grant funding proposal objective objectives ' +
  'outcome outcomes indicator indicators baseline milestone milestones deadline scope estimate'
).split(' ');

const ONSETS = 'b c d f g h k l m n p r s t v z br cr dr fl gr kl pr st tr ch sh th'.split(' ');
const NUCLEI = 'a e i o u ai ea io ou'.split(' ');
const CODAS = ['', '', '', 'n', 'r', 'l', 's', 'm', 'x', 'nd', 'rt', 'st'];

/**
 * A vocabulary whose word at rank r (1-based) is drawn with probability ∝ 1 / r^exponent:
 * STOP_WORDS, then COMMON_WORDS, then made-up terms up to `size` words.
 */
export class Vocabulary {
  readonly words: string[];
  private readonly cdf: Float64Array;

  constructor(size: number, random: Random, exponent = 1) {
    const seen = new Set<string>();
    const words: string[] = [];
    for (const word of [...STOP_WORDS, ...COMMON_WORDS]) {
      if (seen.has(word)) continue;
      seen.add(word);
      words.push(word);
    }
    while (words.length < size) {
      const syllables = random.between(2, 4);
      let word = '';
      for (let index = 0; index < syllables; index++)
        word +=
          random.pick(ONSETS) + random.pick(NUCLEI) + (index === syllables - 1 ? random.pick(CODAS) : '');
      if (word.length < 4 || seen.has(word)) continue;
      seen.add(word);
      words.push(word);
    }
    this.words = words;
    this.cdf = new Float64Array(words.length);
    let sum = 0;
    for (let rank = 1; rank <= words.length; rank++) {
      sum += 1 / rank ** exponent;
      this.cdf[rank - 1] = sum;
    }
    for (let index = 0; index < this.cdf.length; index++) this.cdf[index]! /= sum;
  }

  /** A word by Zipf rank. */
  sample(random: Random): string {
    return this.words[this.sampleRank(random)]!;
  }

  /** A 0-based rank. */
  sampleRank(random: Random): number {
    const u = random.next();
    let low = 0;
    let high = this.cdf.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cdf[middle]! < u) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** `count` distinct words with 0-based ranks in [from, to), uniformly: a topic's own terms. */
  distinct(random: Random, count: number, from: number, to: number): string[] {
    const chosen = new Set<string>();
    while (chosen.size < count)
      chosen.add(this.words[random.between(from, Math.min(to, this.words.length) - 1)]!);
    return [...chosen];
  }
}

export interface ProseOptions {
  /** Terms that make up `topicShare` of the words (a document's subject). */
  topicWords?: readonly string[];
  topicShare?: number;
}

/** One sentence of 6–28 words: capitalised, an occasional comma, a full stop. */
export function sentence(random: Random, vocabulary: Vocabulary, options: ProseOptions = {}): string {
  const length = random.between(6, 28);
  const words: string[] = [];
  for (let index = 0; index < length; index++) {
    let word =
      options.topicWords && random.next() < (options.topicShare ?? 0)
        ? random.pick(options.topicWords)
        : vocabulary.sample(random);
    if (index > 2 && index < length - 2 && random.next() < 0.06) word += ',';
    words.push(word);
  }
  const first = words[0]!;
  words[0] = first[0]!.toUpperCase() + first.slice(1);
  return `${words.join(' ').replace(/,$/, '')}.`;
}

/** Sentences until at least `minWords` words. */
export function prose(random: Random, vocabulary: Vocabulary, minWords: number, options: ProseOptions = {}) {
  const sentences: string[] = [];
  let words = 0;
  while (words < minWords) {
    const next = sentence(random, vocabulary, options);
    words += next.split(' ').length;
    sentences.push(next);
  }
  return sentences;
}
