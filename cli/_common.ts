/**
 * Helpers shared by the `denofit` subcommands: option parsing with clear errors, the backend, notes on stderr.
 *
 * @module
 */
import { InvalidArgumentError } from "./_deps.ts";
import { setBackend } from "../nn/engine.ts";
import { createBackend } from "../gpu/create_backend.ts";

/** An error the CLI prints as `denofit: <message>` and exits 1. */
export class CliError extends Error {
  /** @param message what went wrong and what to do */
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Commander argument parser for an integer >= `min`. */
export function intArg(min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}, got "${v}"`);
    }
    return n;
  };
}

/** Commander argument parser for a number > 0 (or in (0, 1) when `fraction`). */
export function numArg({ fraction = false, allowZero = false } = {}): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    const ok = Number.isFinite(n) && (allowZero ? n >= 0 : n > 0) && (!fraction || n < 1);
    if (!ok) {
      throw new InvalidArgumentError(
        `expected a number ${fraction ? "in (0, 1)" : allowZero ? ">= 0" : "> 0"}, got "${v}"`,
      );
    }
    return n;
  };
}

/** Commander argument parser for a probability in (0, 1]. */
export function probArg(v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0 && n <= 1)) {
    throw new InvalidArgumentError(`expected a probability in (0, 1], got "${v}"`);
  }
  return n;
}

/** Commander argument parser for a comma-separated list of integers (e.g. `1,1,2`). */
export function intListArg(v: string): number[] {
  const parts = v.split(",").map((s) => Number(s.trim()));
  if (parts.length === 0 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`expected comma-separated integers >= 0, got "${v}"`);
  }
  return parts;
}

/**
 * Select the compute backend by name (`createBackend` in gpu/create_backend.ts chooses); prints nothing. The CPU
 * backend runs large matmuls on up to 4 threads (measured on the 2-core dev machine at AWD-LSTM demo sizes: 2.4x
 * the single-threaded CPU backend, 1.3-1.9x llvmpipe WebGPU).
 */
export async function selectBackend(kind: string): Promise<string> {
  if (kind !== "cpu" && kind !== "webgpu" && kind !== "auto") {
    throw new CliError(`--backend: expected cpu, webgpu or auto, got "${kind}"`);
  }
  const { backend } = await createBackend({ prefer: kind, cpu: { threads: cliThreads() }, quiet: true });
  setBackend(backend);
  return backend.name;
}

/** Threads of the CPU backend the commands make: the machine's cores, at most 4. */
export function cliThreads(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency));
}

/** Read all of standard input as text. */
export async function readStdin(): Promise<string> {
  return await new Response(Deno.stdin.readable).text();
}

/** A log line on stderr (so stdout stays machine-readable with --json). */
export function note(msg: string): void {
  console.error(msg);
}
