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
