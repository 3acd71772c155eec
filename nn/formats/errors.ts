/**
 * Typed checkpoint errors. Every error has a machine-readable `code`, the file it came from and, where one is at
 * fault, the tensor (or pickle offset / zip entry) — so callers can branch on `code` and users read what broke.
 *
 * @module
 */

/** Options shared by every checkpoint error. */
export interface CheckpointErrorOptions {
  /** The file being read or written (`"<bytes>"` when decoding an in-memory buffer). */
  file?: string;
  /** The tensor (or entry) at fault, when there is one. */
  tensor?: string;
  /** What `tensor` names, in messages. @default "tensor" (zip errors say "entry") */
  label?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** Base class of every checkpoint error: `code` names the failure, `file`/`tensor` say where. */
export class CheckpointError extends Error {
  /** Machine-readable failure name; each subclass documents its codes. */
  readonly code: string;
  /** The file at fault. */
  readonly file: string;
  /** The tensor (or entry) at fault, if any. */
  readonly tensor: string | undefined;

  /**
   * @param code machine-readable failure name
   * @param detail what was wrong and what to do
   * @param options file / tensor / cause
   */
  constructor(code: string, detail: string, options: CheckpointErrorOptions = {}) {
    const { file = "<bytes>", tensor, cause, label = "tensor" } = options;
    const where = tensor === undefined ? file : `${file}, ${label} "${tensor}"`;
    super(`${where}: ${detail} [${code}]`, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.file = file;
    this.tensor = tensor;
  }
}

/** Failure codes of {@linkcode SafetensorsError}, one per validation of the reference implementation. */
export type SafetensorsErrorCode =
  | "header_too_small"
  | "header_too_large"
  | "invalid_header_length"
  | "invalid_header_utf8"
  | "invalid_header_start"
  | "invalid_header_json"
  | "invalid_tensor_entry"
  | "unsupported_dtype"
  | "invalid_metadata"
  | "invalid_offset"
  | "validation_overflow"
  | "tensor_invalid_info"
  | "metadata_incomplete_buffer"
  | "value_out_of_range"
  | "invalid_tensor_map";

/** A safetensors file (or a TensorMap about to be written) failed validation. */
export class SafetensorsError extends CheckpointError {
  declare readonly code: SafetensorsErrorCode;
  /**
   * @param code which validation failed
   * @param detail what was wrong
   * @param options file / tensor / cause
   */
  constructor(code: SafetensorsErrorCode, detail: string, options: CheckpointErrorOptions = {}) {
    super(code, detail, options);
  }
}

/** Failure codes of {@linkcode ZipError}. */
export type ZipErrorCode =
  | "not_a_zip"
  | "truncated"
  | "compressed_entry"
  | "encrypted_entry"
  | "bad_entry"
  | "crc_mismatch"
  | "missing_entry";

/** The zip container of a PyTorch checkpoint is malformed or uses a feature we refuse (compression). */
export class ZipError extends CheckpointError {
  declare readonly code: ZipErrorCode;
  /**
   * @param code what failed
   * @param detail what was wrong
   * @param options file / entry (as `tensor`) / cause
   */
  constructor(code: ZipErrorCode, detail: string, options: CheckpointErrorOptions = {}) {
    super(code, detail, { label: "entry", ...options });
  }
}

/** Failure codes of {@linkcode PickleError}. */
export type PickleErrorCode =
  | "unknown_opcode"
  | "forbidden_global"
  | "forbidden_call"
  | "bad_persistent_id"
  | "storage_size_mismatch"
  | "truncated"
  | "malformed"
  | "unsupported_dtype"
  | "bad_tensor"
  | "value_out_of_range"
  | "too_large";

/** A pickle stream was rejected by the allow-list interpreter (nothing it named was ever run). */
export class PickleError extends CheckpointError {
  declare readonly code: PickleErrorCode;
  /**
   * @param code what failed
   * @param detail what was wrong (names the opcode / global / offset)
   * @param options file / tensor / cause
   */
  constructor(code: PickleErrorCode, detail: string, options: CheckpointErrorOptions = {}) {
    super(code, detail, options);
  }
}

/** Failure codes of {@linkcode CheckpointMismatchError}. */
export type CheckpointMismatchCode =
  | "config_mismatch"
  | "vocab_mismatch"
  | "missing_metadata"
  | "name_mapping"
  | "missing_tensor"
  | "unexpected_tensor"
  | "shape_mismatch"
  | "non_finite";

/** A checkpoint is well-formed but does not fit the model / vocab it is loaded into. */
export class CheckpointMismatchError extends CheckpointError {
  declare readonly code: CheckpointMismatchCode;
  /**
   * @param code what did not match
   * @param detail which keys / hashes differ
   * @param options file / tensor / cause
   */
  constructor(code: CheckpointMismatchCode, detail: string, options: CheckpointErrorOptions = {}) {
    super(code, detail, options);
  }
}

/** Failure codes of {@linkcode VocabFileError}. */
export type VocabFileErrorCode =
  | "not_a_list"
  | "not_a_string"
  | "empty"
  | "bad_json"
  | "bad_utf8"
  | "unreadable"
  | "wrong_format";

/** A vocabulary file (pickle, JSON array or one token per line) does not hold a list of words. */
export class VocabFileError extends CheckpointError {
  declare readonly code: VocabFileErrorCode;
  /**
   * @param code what was wrong
   * @param detail what was found instead, and where
   * @param options file / cause
   */
  constructor(code: VocabFileErrorCode, detail: string, options: CheckpointErrorOptions = {}) {
    super(code, detail, options);
  }
}

/**
 * A message for a file-system error that names the path and says what is wrong in words (`is a folder, not a
 * file`, `no such file`, `permission denied`), for errors that Deno reports without the path
 * (`Is a directory (os error 21)`).
 *
 * @param path the file or folder at fault
 * @param e the error
 * @returns `"<path>: <what>"`
 * @example A folder given where a file is needed
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { describeFsError } from "./errors.ts";
 * const dir = await Deno.makeTempDir();
 * const e = await Deno.readFile(dir).catch((e) => e);
 * strictEqual(describeFsError(dir, e), `${dir}: is a folder, not a file`);
 * await Deno.remove(dir);
 * ```
 */
export function describeFsError(path: string, e: unknown): string {
  const what = e instanceof Deno.errors.NotFound
    ? "no such file or folder"
    : e instanceof Deno.errors.IsADirectory
    ? "is a folder, not a file"
    : e instanceof Deno.errors.NotADirectory
    ? "is not a folder (or a part of its path is a file)"
    : e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : `cannot read it (${e instanceof Error ? e.message : String(e)})`;
  return `${path}: ${what}`;
}

/**
 * Whether `e` is a file-system error (missing file, folder given for a file, no permission, ...).
 *
 * @param e any error
 * @returns true for Deno's file-system errors
 */
export function isFsError(e: unknown): boolean {
  const E = Deno.errors;
  return [E.NotFound, E.IsADirectory, E.NotADirectory, E.PermissionDenied, E.NotCapable].some((c) =>
    e instanceof c
  );
}
