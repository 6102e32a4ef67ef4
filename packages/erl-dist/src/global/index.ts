export { ErlGlobal, erlGlobal, globalRegister, globalSend, globalUnregister, globalWhereis, startGlobal, type GlobalLockId, type GlobalOptions, type Resolve } from './global.js';
export type { ResolveFn } from './resolve.js';
export type { NameChange } from './tables.js';
