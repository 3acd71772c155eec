/**
 * Ctrl-C during training: {@linkcode InterruptCheckpoint} listens for SIGINT while a fit runs. The first Ctrl-C
 * lets the current optimizer step finish, writes a training-state checkpoint atomically (a
 * {@linkcode TrainCheckpoint}'s file, resumable exactly) and exits with {@linkcode INTERRUPT_EXIT_CODE} (130,
 * the shell's code for "terminated by SIGINT"); a second Ctrl-C exits at once with the same code (the file on
 * disk is then the previous checkpoint or the new one, never a broken one: saves are atomic).
 *
 * A training step is synchronous JavaScript, so a signal is only seen between steps: the callback yields to the
 * event loop after a batch when `yieldEveryMs` have passed since it last did (a few microseconds per batch).
 *
 * @example Requesting an interrupt by hand (what SIGINT does) saves and "exits" after the step
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { Learner } from "./learner.ts";
 * import { Linear } from "./layers/mod.ts";
 * import { mseLoss } from "./losses.ts";
 * import { fromArray } from "./tensor.ts";
 * import { INTERRUPT_EXIT_CODE, InterruptCheckpoint } from "./interrupt.ts";
 * import { readTrainState } from "./train_state.ts";
 * import { TrainCheckpoint } from "./resume.ts";
 * const path = `${await Deno.makeTempDir()}/run.safetensors`;
 * const batch = () => ({ x: fromArray([0, 1], [2, 1]), y: fromArray([1, 3], [2, 1]) });
 * const data = { train: { length: 5, *[Symbol.iterator]() { for (let i = 0; i < 5; i++) yield batch(); } } };
 * let code = -1;
 * const stop = new InterruptCheckpoint(new TrainCheckpoint({ path }), { exit: (c) => { code = c; } });
 * const learn = new Learner(new Linear(1, 1), data, { loss: mseLoss, quiet: true, callbacks: [stop] });
 * learn.addCallback({ afterBatch: (l) => { if (l.trainIter === 2) stop.request(); } });
 * await learn.fit(1, 0.1);
 * strictEqual(code, INTERRUPT_EXIT_CODE);
 * strictEqual((await readTrainState(path)).position.step, 2);
 * ```
 *
 * @module
 */
import type { Callback } from "./callbacks.ts";
import type { Learner } from "./learner.ts";
import type { TrainCheckpoint } from "./resume.ts";

/** Exit code after a Ctrl-C during training (128 + SIGINT's number 2, as shells report it). */
export const INTERRUPT_EXIT_CODE = 130;

/** Options of {@linkcode InterruptCheckpoint}. */
export interface InterruptOptions {
  /** Ends the process. @default Deno.exit */
  exit?: (code: number) => void;
  /** Where notices go. @default stderr */
  log?: (line: string) => void;
  /** Yield to the event loop (so signals are seen) at most this often. @default 50 */
  yieldEveryMs?: number;
  /** Listen for signals (off: only {@linkcode InterruptCheckpoint.request} interrupts). @default true */
  listen?: boolean;
  /** The signals that interrupt (those the platform cannot listen for are skipped). @default SIGINT, SIGTERM */
  signals?: readonly Deno.Signal[];
  /** Says where the checkpoint went (added to the notice after saving). */
  savedTo?: string;
}

/**
 * Saves a checkpoint and exits with code 130 on the first Ctrl-C (or SIGTERM) of a fit; exits at once on the
 * second.
 */
export class InterruptCheckpoint implements Callback {
  /** Name. */
  name = "InterruptCheckpoint";
  /** After the other callbacks (the step, clipping, periodic saves are done). */
  order = 95;
  /** Number of interrupts received during the current fit. */
  requests = 0;
  readonly #save: (learn: Learner, doneInEpoch: number) => Promise<void>;
  readonly #exit: (code: number) => void;
  readonly #log: (line: string) => void;
  readonly #yieldEveryMs: number;
  readonly #listen: boolean;
  readonly #signals: readonly Deno.Signal[];
  readonly #savedTo: string | undefined;
  #listener: (() => void) | null = null;
  #listening: Deno.Signal[] = [];
  #lastYield = 0;
  #done = false;

  /**
   * Create an InterruptCheckpoint.
   * @param checkpoint where to save (a {@linkcode TrainCheckpoint}), or a save function
   * @param options exit / log hooks, yield interval
   */
  constructor(
    checkpoint: TrainCheckpoint | ((learn: Learner, doneInEpoch: number) => Promise<void>),
    options: InterruptOptions = {},
  ) {
    this.#save = typeof checkpoint === "function" ? checkpoint : (l, d) => checkpoint.save(l, d);
    this.#exit = options.exit ?? ((code) => Deno.exit(code));
    this.#log = options.log ?? ((line) => console.error(line));
    this.#yieldEveryMs = options.yieldEveryMs ?? 50;
    this.#listen = options.listen ?? true;
    this.#signals = options.signals ?? ["SIGINT", "SIGTERM"];
    this.#savedTo = options.savedTo;
  }

  /** What SIGINT does: the first call asks for save-and-exit after the step, the second exits now. */
  request(): void {
    this.requests++;
    if (this.requests === 1) {
      this.#log("interrupt: finishing the current step, then saving a checkpoint (Ctrl-C again to quit now)");
    } else {
      this.#log(`interrupt: quitting now (exit ${INTERRUPT_EXIT_CODE})`);
      this.#stopListening();
      this.#exit(INTERRUPT_EXIT_CODE);
    }
  }

  #stopListening(): void {
    if (this.#listener) { for (const s of this.#listening) Deno.removeSignalListener(s, this.#listener); }
    this.#listener = null;
    this.#listening = [];
  }

  /** Stops listening for signals (also done after the fit; call it when a fit ended with an error). */
  dispose(): void {
    this.#stopListening();
  }

  /** Starts listening for the signals. */
  beforeFit(): void {
    this.requests = 0;
    this.#done = false;
    this.#lastYield = performance.now();
    if (this.#listen && !this.#listener) {
      const listener = () => this.request();
      this.#listener = listener;
      for (const s of this.#signals) {
        try {
          Deno.addSignalListener(s, listener);
          this.#listening.push(s);
        } catch {
          // a signal this platform cannot listen for (SIGTERM on Windows)
        }
      }
    }
  }

  async #maybeStop(learn: Learner, doneInEpoch: number): Promise<void> {
    if (performance.now() - this.#lastYield >= this.#yieldEveryMs) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      this.#lastYield = performance.now();
    }
    if (this.requests === 0 || this.#done) return;
    this.#done = true;
    await this.#save(learn, doneInEpoch);
    this.#log(
      `interrupt: checkpoint saved after step ${learn.trainIter}${
        this.#savedTo ? ` to ${this.#savedTo}` : ""
      }; exiting with ${INTERRUPT_EXIT_CODE}`,
    );
    this.#stopListening();
    this.#exit(INTERRUPT_EXIT_CODE);
  }

  /** After each step: yield for signals; on a pending interrupt save and exit. */
  afterBatch(learn: Learner): Promise<void> {
    return this.#maybeStop(learn, learn.iter + 1);
  }

  /** An interrupt during validation saves at the end of the epoch. */
  afterEpoch(learn: Learner): Promise<void> {
    return this.#maybeStop(learn, learn.iter);
  }

  /** Stops listening. */
  afterFit(): void {
    this.#stopListening();
  }
}
