// The datastore package's entry: re-exports the interface, openDatastore, the settings readers, key layout, resources
// and the in-memory backend. A short-lived process that needs only openDatastore imports open.js (and settings.js)
// directly, so it does not initialise the resource validation, the YAML parser or the memory backend.

export * from './types.js';
export * from './keys.js';
export * from './settings.js';
export * from './calicoctl-config.js';
export * from './open.js';
export { MemoryDatastore } from './memory.js';
export * from './resources.js';
export * from './tiers.js';
