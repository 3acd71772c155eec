/**
 * fastai's special tokens, in id order. A {@linkcode Vocab} built with the defaults puts them first, so their
 * ids are the same in every vocab: xxunk 0, xxpad 1, xxbos 2, xxeos 3, xxfld 4, xxrep 5, xxwrep 6, xxup 7, xxmaj 8.
 *
 * @module
 */

/** Unknown token: any word missing from the vocab maps to it (id 0). */
export const UNK = "xxunk";
/** Padding token (id 1): classifier batches pad before the text, seq2seq batches after. */
export const PAD = "xxpad";
/** Beginning of a document (id 2). */
export const BOS = "xxbos";
/** End of a document (id 3). */
export const EOS = "xxeos";
/** Field marker (id 4): a multi-field document reads `xxbos xxfld 1 <field 1> xxfld 2 <field 2>`. */
export const FLD = "xxfld";
/** Character repetition (id 5): `xxrep 4 !` stands for `!!!!`. */
export const REP = "xxrep";
/** Word repetition (id 6): `xxwrep 3 very` stands for `very very very`. */
export const WREP = "xxwrep";
/** The next token was written in capitals (id 7): `xxup usa` stands for `USA`. */
export const UP = "xxup";
/** The next token was capitalised (id 8): `xxmaj paris` stands for `Paris`. */
export const MAJ = "xxmaj";

/**
 * The special tokens in fastai's order; a token's index here is its id in a default {@linkcode Vocab}.
 *
 * @example Ids of the special tokens
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { SPECIAL_TOKENS } from "./special_tokens.ts";
 * assert.equal(SPECIAL_TOKENS.indexOf("xxbos"), 2);
 * assert.equal(SPECIAL_TOKENS.length, 9);
 * ```
 */
export const SPECIAL_TOKENS: readonly string[] = Object.freeze([UNK, PAD, BOS, EOS, FLD, REP, WREP, UP, MAJ]);

/** Ids of the special tokens in a vocab built with the default specials. */
export const SPECIAL_IDS = Object.freeze(
  {
    unk: 0,
    pad: 1,
    bos: 2,
    eos: 3,
    fld: 4,
    rep: 5,
    wrep: 6,
    up: 7,
    maj: 8,
  } as const,
);

/**
 * Whether `token` is one of fastai's special tokens (`xxunk`, `xxpad`, ... `xxmaj`).
 *
 * @param token the token to test
 * @returns true for the nine special tokens
 */
export function isSpecialToken(token: string): boolean {
  return SPECIAL_SET.has(token);
}

const SPECIAL_SET = new Set(SPECIAL_TOKENS);
