import { strictEqual } from "node:assert/strict";
import { VERSION } from "./version.ts";

Deno.test("VERSION is the version in deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))) as {
    version: string;
  };
  strictEqual(VERSION, config.version);
});
