import { strict as assert } from "node:assert";
import { fixup, FIXUP_REPLACEMENTS, htmlUnescape } from "./fixup.ts";

Deno.test("fixup() applies fastai's replacements", async (t) => {
  const cases: [string, string][] = [
    ["it#39;s", "it's"],
    ["R amp; D", "R & D"],
    ["don#146;t", "don't"],
    ["a nbsp;b", "a b"],
    ["#36;5", "$5"],
    ["line\\nbreak", "line\nbreak"],
    ["quot;hi quot;", "'hi '"],
    ["one<br />two<br /><br />three", "one\ntwo\n\nthree"],
    ['say \\"hi\\"', 'say "hi"'],
    ["the <unk> cat", "the xxunk cat"],
    ["3 @.@ 5 and 1 @,@ 000 and well @-@ known", "3.5 and 1,000 and well-known"],
  ];
  for (const [input, expected] of cases) {
    await t.step(JSON.stringify(input), () => assert.equal(fixup(input), expected));
  }
  await t.step(
    "in fastai's order: a well-formed &amp; becomes && (fastai's corpora had lost their &)",
    () => {
      assert.equal(fixup("A &amp; B &quot;x&quot;"), "A && B &'x&'");
    },
  );
  await t.step("the replacement table is fastai's, in order", () => {
    assert.deepEqual(FIXUP_REPLACEMENTS.map(([a]) => a).slice(0, 4), ["#39;", "amp;", "#146;", "nbsp;"]);
    assert.equal(FIXUP_REPLACEMENTS.length, 13);
  });
});

Deno.test("fixup() unescapes HTML, collapses spaces and removes control characters", async (t) => {
  await t.step("HTML unescape after the replacements", () => {
    assert.equal(fixup("caf&eacute; &lt;b&gt; &#233;t&#xE9;"), "café <b> été");
  });
  await t.step("runs of spaces collapse; newlines and tabs stay", () => {
    assert.equal(fixup("a    b \n\n  c\td"), "a b \n\n c\td");
  });
  await t.step("NUL and other control characters become spaces", () => {
    assert.equal(fixup("a\u0000b\u0000\u0000\u0000c\u0007d\u007fe"), "a b c d e");
    assert.equal(fixup("\u0000".repeat(1_000_000)), " ");
  });
  await t.step("controlChars: false keeps them", () => {
    assert.equal(fixup("a\u0000b", { controlChars: false }), "a\u0000b");
  });
  await t.step("lone surrogates (invalid UTF-16) become U+FFFD", () => {
    assert.equal(fixup("a\ud800b\udc00c"), "a\ufffdb\ufffdc");
  });
  await t.step("bytes that are not UTF-8 come in as U+FFFD and stay", () => {
    const text = new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0xc3]));
    assert.equal(fixup(text), "a\ufffd\ufffdb\ufffd");
  });
});

Deno.test("htmlUnescape() follows Python's html.unescape", async (t) => {
  // Expected values printed by Python 3.11 html.unescape.
  const cases: [string, string][] = [
    [
      "&copyright &amp &#0; &#x110000; &#128; &#65; &notit; &notin; &zz; &#1;a",
      "©right & \ufffd \ufffd € A ¬it; ∉ &zz; a",
    ],
    ["a&b&&lt", "a&b&<"],
    ["&eacute;t&eacute; &#x263a; &hellip;", "été ☺ …"],
    ["&AMP;&LT &#150; &#xD800;", "&< – \ufffd"],
    ["&#99999999999999999999;", "\ufffd"],
    ["no entity", "no entity"],
  ];
  for (const [input, expected] of cases) {
    await t.step(JSON.stringify(input), () => assert.equal(htmlUnescape(input), expected));
  }
});
