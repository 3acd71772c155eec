/**
 * Training progress: a bar with elapsed time and ETA (redrawn in place on a terminal, plain log lines
 * otherwise) and fastai's per-epoch metrics table (`epoch  train_loss  valid_loss  accuracy  time`).
 *
 * @example A metrics table written to a string
 * ```ts
 * import { MetricsTable } from "./progress.ts";
 * let text = "";
 * const table = new MetricsTable(["epoch", "train_loss", "time"], { write: (s) => text += s });
 * table.row([0, 1.5, 75]);
 * if (!text.includes("1.500000") || !text.includes("01:15")) throw new Error(text);
 * ```
 *
 * @module
 */

/** Where progress goes: a text sink and whether it is an interactive terminal. */
export interface ProgressSink {
  /** Write text (no newline added). */
  write: (text: string) => void;
  /** Redraw in place with `\r` (true) or print one line per update (false). @default false */
  isTerminal?: boolean;
}

const encoder = new TextEncoder();

/** Standard output as a sink: in-place redraws only when stdout is a terminal. */
export function stdoutSink(): ProgressSink {
  return {
    write: (s) => void Deno.stdout.writeSync(encoder.encode(s)),
    isTerminal: Deno.stdout.isTerminal(),
  };
}

/** Seconds as `mm:ss` (or `h:mm:ss` past an hour), like fastprogress. */
export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mmss = `${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** Options of {@linkcode ProgressBar}. */
export interface ProgressBarOptions {
  /** Where to write. @default stdout */
  sink?: ProgressSink;
  /** Bar width in characters. @default 30 */
  width?: number;
  /** Label before the bar. @default "" */
  label?: string;
  /** Non-terminal sinks: print a line every this fraction of the total. @default 0.25 */
  logEvery?: number;
  /** Clock in milliseconds (tests). @default performance.now */
  now?: () => number;
}

/** A progress bar over `total` steps with elapsed time and ETA. */
export class ProgressBar {
  /** Number of steps. */
  readonly total: number;
  #sink: ProgressSink;
  #width: number;
  #label: string;
  #logEvery: number;
  #now: () => number;
  #start: number;
  #nextLog: number;
  #done = 0;

  /**
   * Create a ProgressBar.
   * @param total number of steps (> 0)
   */
  constructor(total: number, options: ProgressBarOptions = {}) {
    if (!(Number.isInteger(total) && total > 0)) {
      throw new Error(`ProgressBar: total must be a positive integer, got ${total}`);
    }
    this.total = total;
    this.#sink = options.sink ?? stdoutSink();
    this.#width = options.width ?? 30;
    this.#label = options.label ?? "";
    this.#logEvery = options.logEvery ?? 0.25;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#nextLog = this.#logEvery;
  }

  /** Steps done so far. */
  get done(): number {
    return this.#done;
  }

  /** Seconds since the bar started. */
  elapsed(): number {
    return (this.#now() - this.#start) / 1000;
  }

  /** Estimated seconds left: elapsed / done * remaining (NaN before the first step). */
  eta(): number {
    return this.#done === 0 ? NaN : this.elapsed() / this.#done * (this.total - this.#done);
  }

  /** The bar as text, e.g. `[=====-----] 50% 5/10 00:04<00:04 loss 2.31`. */
  render(comment = ""): string {
    const frac = this.#done / this.total;
    const fill = Math.round(frac * this.#width);
    const bar = "█".repeat(fill) + "-".repeat(this.#width - fill);
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    const head = this.#label ? `${this.#label} ` : "";
    const tail = comment ? ` ${comment}` : "";
    return `${head}|${bar}| ${pct} ${this.#done}/${this.total} [${formatTime(this.elapsed())}<${
      formatTime(this.eta())
    }]${tail}`;
  }

  /** Mark `done` steps as finished (absolute count) and redraw or log. */
  update(done: number, comment = ""): void {
    this.#done = Math.min(this.total, Math.max(0, done));
    const last = this.#done === this.total;
    if (this.#sink.isTerminal) {
      this.#sink.write(`\r${this.render(comment)}\x1b[K${last ? "\n" : ""}`);
    } else if (last || this.#done / this.total >= this.#nextLog) {
      this.#sink.write(`${this.render(comment)}\n`);
      while (this.#nextLog <= this.#done / this.total) this.#nextLog += this.#logEvery;
    }
  }

  /** One more step done. */
  tick(comment = ""): void {
    this.update(this.#done + 1, comment);
  }
}

/**
 * fastai's per-epoch metrics table: a header of column names, then one row per epoch; numbers print with six
 * decimals, integers as they are, and a column named `time` as `mm:ss`.
 */
export class MetricsTable {
  /** Column names. */
  readonly names: readonly string[];
  #sink: ProgressSink;
  #printedHeader = false;

  /**
   * Create a MetricsTable.
   * @param names column names, e.g. `["epoch", "train_loss", "valid_loss", "accuracy", "time"]`
   */
  constructor(names: readonly string[], sink: ProgressSink = stdoutSink()) {
    this.names = names;
    this.#sink = sink;
  }

  #widths(): number[] {
    return this.names.map((n) => Math.max(n.length, 8));
  }

  /** Format one cell. */
  format(name: string, value: number | string): string {
    if (typeof value === "string") return value;
    if (name === "time") return formatTime(value);
    if (Number.isInteger(value) && name === "epoch") return String(value);
    return Number.isFinite(value) ? value.toFixed(6) : String(value);
  }

  /** The header line. */
  header(): string {
    const w = this.#widths();
    return this.names.map((n, i) => n.padEnd(w[i]!)).join("  ").trimEnd();
  }

  /** Print one row (the header first, once). */
  row(values: readonly (number | string)[]): string {
    if (values.length !== this.names.length) {
      throw new Error(`MetricsTable.row: ${values.length} values for columns [${this.names.join(", ")}]`);
    }
    const w = this.#widths();
    const line = values.map((v, i) => this.format(this.names[i]!, v).padEnd(w[i]!)).join("  ").trimEnd();
    if (!this.#printedHeader) {
      this.#sink.write(`${this.header()}\n`);
      this.#printedHeader = true;
    }
    this.#sink.write(`${line}\n`);
    return line;
  }
}
