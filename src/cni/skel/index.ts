// The CNI dispatcher's public face: the handler contract, the dispatcher, result shapes and version rules.
export * from './types.js';
export * from './dispatch.js';
export * from './result.js';
export * from './versions.js';
export * from './validate.js';
