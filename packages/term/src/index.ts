export * from './model/atom.js';
export * from './model/identifiers.js';
export * from './model/containers.js';
export * from './model/fun.js';
export * from './model/map.js';
export * from './model/key.js';
export type { Term } from './model/term.js';
export * from './errors.js';
