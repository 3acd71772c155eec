import { strict as assert } from "node:assert";
import {
  decodeRules,
  lowercase,
  postRules,
  preRules,
  replaceAllCaps,
  replaceAllCapsText,
  replaceMaj,
  replaceMajText,
  replaceRep,
  replaceWrep,
  rmUselessSpaces,
  specAddSpaces,
  textRules,
} from "./rules.ts";

// [input, Python fastai replace_rep(input), Python fastai replace_wrep(input)], computed with Python 3.11 `re`
// and fastai's regexes `(\S)(\1{2,})` and `(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)`.
const FASTAI_CASES: [string, string, string][] = [
  ["aaa", " xxrep 3 a ", "aaa"],
  ["aa", "aa", "aa"],
  ["coooool", "c xxrep 5 o l", "coooool"],
  ["!!!!", " xxrep 4 ! ", "!!!!"],
  ["wow!!! ok...", "wow xxrep 3 !  ok xxrep 3 . ", "wow!!! ok..."],
  ["😂😂😂", " xxrep 3 😂 ", "😂😂😂"],
  ["1000000", "1 xxrep 6 0 ", "1000000"],
  ["$3,000.00", "$3, xxrep 3 0 .00", "$3,000.00"],
  ["ab ab ab", "ab ab ab", " xxwrep 3 ab "],
  ["go go go!", "go go go!", " xxwrep 3 go !"],
  ["go go gone", "go go gone", "go go gone"],
  ["the the the the end", "the the the the end", " xxwrep 4 the  end"],
  ["a a a b b b", "a a a b b b", " xxwrep 3 a  b b b"],
  ["a a a  b b b", "a a a  b b b", " xxwrep 3 a   xxwrep 3 b "],
  ["hi  hi\thi\n", "hi  hi\thi\n", " xxwrep 3 hi \n"],
  ["go go", "go go", "go go"],
  ["x go go go", "x go go go", "x xxwrep 3 go "],
  ["go go go go.", "go go go go.", " xxwrep 4 go ."],
  ["été été été", "été été été", " xxwrep 3 été "],
  ["word1 word1 word1", "word1 word1 word1", " xxwrep 3 word1 "],
  ["it it it's", "it it it's", " xxwrep 3 it 's"],
  ["ha ha ha ha ha", "ha ha ha ha ha", " xxwrep 5 ha "],
];

Deno.test("replaceRep() matches fastai's replace_rep", async (t) => {
  for (const [input, rep] of FASTAI_CASES) {
    await t.step(JSON.stringify(input), () => assert.equal(replaceRep(input, { keepUrls: false }), rep));
  }
  await t.step("returns the same string when there is no run", () => {
    const s = "no runs here, only pairs: aa bb";
    assert.equal(replaceRep(s), s);
  });
  await t.step("keeps runs inside URLs and e-mail addresses by default", () => {
    assert.equal(replaceRep("see www.x.com now!!!"), "see www.x.com now xxrep 3 ! ");
    assert.equal(replaceRep("(http://a.org/aaa) mail zzz@x.org"), "(http://a.org/aaa) mail zzz@x.org");
    assert.equal(replaceRep("www.x.com", { keepUrls: false }), " xxrep 3 w .x.com");
  });
  await t.step("leaves combining marks attached", () => {
    assert.equal(replaceRep("a\u0301\u0301\u0301"), "a\u0301\u0301\u0301");
  });
  await t.step("is linear on a 1,000,000-character run", () => {
    assert.equal(replaceRep("x".repeat(1_000_000)), " xxrep 1000000 x ");
    assert.equal(replaceRep("ab".repeat(500_000)).length, 1_000_000);
  });
});

Deno.test("replaceWrep() matches fastai's replace_wrep", async (t) => {
  for (const [input, , wrep] of FASTAI_CASES) {
    await t.step(JSON.stringify(input), () => assert.equal(replaceWrep(input), wrep));
  }
  await t.step("is linear on 200,000 repetitions", () => {
    assert.equal(replaceWrep("na ".repeat(200_000)), " xxwrep 200000 na  ");
  });
});

Deno.test("specAddSpaces() and rmUselessSpaces() space / # \\ and collapse spaces", async (t) => {
  await t.step("spec_add_spaces", () => assert.equal(specAddSpaces("a/b#c\\d"), "a / b # c \\ d"));
  await t.step("rm_useless_spaces", () => assert.equal(rmUselessSpaces("a   b  c d\n\n e"), "a b c d\n\n e"));
  await t.step("preRules chains the four in order", () => {
    assert.equal(preRules("go go go!!!! and/or"), " xxwrep 3 go xxrep 4 ! and / or");
  });
});

Deno.test("token rules: replaceAllCaps(), replaceMaj(), lowercase(), postRules()", async (t) => {
  await t.step("xxup for all-caps tokens longer than one character", () => {
    assert.deepEqual(replaceAllCaps(["I", "LOVE", "U.S.", "NY2", "a", "Ok"]), [
      "I",
      "xxup",
      "love",
      "xxup",
      "u.s.",
      "xxup",
      "ny2",
      "a",
      "Ok",
    ]);
  });
  await t.step("xxmaj for capitalised tokens longer than one character", () => {
    assert.deepEqual(replaceMaj(["Paris", "A", "McDonald", "Éric", "paris", "PARIS"]), [
      "xxmaj",
      "paris",
      "A",
      "McDonald",
      "xxmaj",
      "éric",
      "paris",
      "PARIS",
    ]);
  });
  await t.step("lowercase with xxbos and optional xxeos", () => {
    assert.deepEqual(lowercase(["Hi", "THERE"]), ["xxbos", "hi", "there"]);
    assert.deepEqual(lowercase(["Hi"], { bos: false, eos: true }), ["hi", "xxeos"]);
  });
  await t.step("postRules = the three in one pass", () => {
    const toks = ["The", "USA", "and", "McDonald", "I", "Élan", "ÉTÉ", "x", "\n"];
    assert.deepEqual(postRules(toks), lowercase(replaceMaj(replaceAllCaps(toks))));
    assert.deepEqual(postRules(toks), [
      "xxbos",
      "xxmaj",
      "the",
      "xxup",
      "usa",
      "and",
      "mcdonald",
      "i",
      "xxmaj",
      "élan",
      "xxup",
      "été",
      "x",
      "\n",
    ]);
  });
});

Deno.test("decodeRules() inverts the rules", async (t) => {
  await t.step("capitals", () => {
    assert.deepEqual(decodeRules(["xxbos", "xxmaj", "paris", "is", "xxup", "big"]), ["Paris", "is", "BIG"]);
  });
  await t.step("character repeats glue to word fragments and numbers", () => {
    assert.deepEqual(decodeRules(["c", "xxrep", "5", "o", "l"]), ["coooool"]);
    assert.deepEqual(decodeRules(["s", "xxrep", "4", "o", "good"]), ["soooo", "good"]);
    assert.deepEqual(decodeRules(["so", "xxrep", "3", "o", "good"]), ["so", "ooo", "good"]);
    assert.deepEqual(decodeRules(["outside", "xxrep", "3", "a", "-rated"]), ["outside", "aaa", "-rated"]);
    assert.deepEqual(decodeRules(["1", "xxrep", "6", "0", "years"]), ["1000000", "years"]);
    assert.deepEqual(decodeRules(["$", "3", ",", "xxrep", "3", "0", ".00"]), ["$", "3,000.00"]);
    assert.deepEqual(decodeRules(["wow", "xxrep", "3", "!"]), ["wow", "!!!"]);
  });
  await t.step("word repeats, with capitals", () => {
    assert.deepEqual(decodeRules(["xxwrep", "3", "xxmaj", "go", "!"]), ["Go", "Go", "Go", "!"]);
  });
  await t.step("fields become newlines; bos, eos, pad disappear", () => {
    assert.deepEqual(decodeRules(["xxpad", "xxbos", "xxfld", "1", "a", "xxfld", "2", "b", "xxeos"]), [
      "a",
      "\n",
      "b",
    ]);
  });
  await t.step("malformed markers are kept, huge counts are not expanded", () => {
    assert.deepEqual(decodeRules(["xxrep", "x", "a"]), ["xxrep", "x", "a"]);
    assert.deepEqual(decodeRules(["xxrep", "99999999999", "a"]), ["xxrep", "99999999999", "a"]);
    assert.deepEqual(decodeRules(["a", "xxup"]), ["a", "xxup"]);
  });
});

Deno.test("replaceRep() and replaceWrep() agree with fastai's regexes on random text", () => {
  // On ASCII word characters and common whitespace, JavaScript's regexes mean what Python's do, so fastai's
  // own patterns serve as the oracle.
  const REP_RE = /(\S)(\1{2,})/gu;
  const WREP_RE = /(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)/g;
  const alphabet = ["a", "a", "b", "ab", "go", " ", " ", "  ", "\t", "\n", "!", ".", "😂", "_", "1"];
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let replaced = 0;
  for (let k = 0; k < 3000; k++) {
    let s = "";
    for (let j = rand(24); j >= 0; j--) s += alphabet[rand(alphabet.length)];
    const rep = s.replace(REP_RE, (_m, c: string, cc: string) => ` xxrep ${[...cc].length + 1} ${c} `);
    const wrep = s.replace(
      WREP_RE,
      (_m, c: string, cc: string, e: string) => ` xxwrep ${cc.trim().split(/\s+/).length + 2} ${c} ${e}`,
    );
    assert.equal(replaceRep(s, { keepUrls: false }), rep, `replaceRep(${JSON.stringify(s)})`);
    assert.equal(replaceWrep(s), wrep, `replaceWrep(${JSON.stringify(s)})`);
    if (rep !== s || wrep !== s) replaced++;
  }
  assert.ok(replaced > 100, `only ${replaced} of 3000 random strings had a repetition`);
});

Deno.test("fastai v2's text-level case rules and textRules()", async (t) => {
  // [input, Python replace_maj(replace_all_caps(input)) with fastai v2's regexes]
  const cases: [string, string][] = [
    ["I LOVE Paris!!", "i xxup love xxmaj paris!!"],
    [
      "THE U.S. ARMY and I'm Don't (Hello) A B USA\nNEW York",
      "xxup the xxup u.s. xxup army and xxmaj i'm xxmaj don't (Hello) a b xxup usa\nxxup new xxmaj york",
    ],
    ["ÉTÉ Été ABC. Abc, McDonald", "ÉTÉ Été xxup abc. xxmaj abc, McDonald"],
  ];
  for (const [input, expected] of cases) {
    await t.step(
      JSON.stringify(input),
      () => assert.equal(replaceMajText(replaceAllCapsText(input)), expected),
    );
  }
  await t.step("textRules chains the v2 rules, lowercases and adds xxbos", () => {
    assert.equal(
      textRules("  Go go go!!!! I LOVE it/that  "),
      "xxbos xxmaj go go go xxrep 4 ! i xxup love it / that",
    );
    assert.equal(textRules("Hi", { bos: false, eos: true }), "xxmaj hi xxeos");
  });
});
