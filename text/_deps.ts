/**
 * The text package's third-party packages, pinned in one place with full `npm:` specifiers so the library
 * resolves for any importer (by URL, without this repository's `deno.json`).
 *
 * @module
 */
export { parse as parseCsvStream } from "npm:csv-parse@6.2.0/stream";
