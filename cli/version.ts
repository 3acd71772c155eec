/** The library version, recorded in checkpoints and printed by `denofit --version`. */
export const VERSION = "0.1.0";
