/**
 * Things built once per key and reused by warm invocations (clients per URL and credentials).
 * At most `max` are kept, oldest first out, so rotating a credential many times cannot grow memory.
 */
export function boundedMemo<T>(max: number): (key: string, create: () => T) => T {
  const built = new Map<string, T>();
  return (key, create) => {
    let value = built.get(key);
    if (value === undefined) {
      const oldest = built.keys().next();
      if (built.size >= max && !oldest.done) built.delete(oldest.value);
      value = create();
      built.set(key, value);
    }
    return value;
  };
}

/**
 * Things built once per pair of keys and kept while the first key lives (a WeakMap on it): what belongs to
 * one configuration or one event store, shared by the warm invocations that use the same pair.
 */
export function pairMemo<A extends object, B, T>(): (a: A, b: B, create: () => T) => T {
  const built = new WeakMap<A, Map<B, T>>();
  return (a, b, create) => {
    let byB = built.get(a);
    if (byB === undefined) {
      byB = new Map();
      built.set(a, byB);
    }
    let value = byB.get(b);
    if (value === undefined) {
      value = create();
      byB.set(b, value);
    }
    return value;
  };
}
