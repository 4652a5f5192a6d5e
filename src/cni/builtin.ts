// Node built-in modules loaded on demand by the plugin process, synchronously where Node allows it
// (process.getBuiltinModule, Node >= 20.16): a dynamic import() would start Node's ESM loader, which costs milliseconds.

/** The built-in module `id`, loaded now; undefined where this Node cannot load built-ins synchronously. */
export function builtinNow<T>(id: string): T | undefined {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return typeof get === 'function' ? (get.call(process, id) as T) : undefined;
}

/** The built-in module `id`, synchronously loaded where possible, else through import(). */
export async function builtin<T>(id: string): Promise<T> {
  return builtinNow<T>(id) ?? ((await import(id)) as T);
}
