/**
 * Vision: image I/O, transforms, CNN backbone, DeViSE head and nearest-neighbour search.
 *
 * @module
 */
export {};
