/**
 * The CLI's third-party packages, pinned in one place with full `npm:` specifiers so the command resolves
 * without this repository's `deno.json` (e.g. `deno run <URL>/cli/main.ts`).
 *
 * @module
 */
export { Command, InvalidArgumentError, Option } from "npm:commander@14.0.3";
