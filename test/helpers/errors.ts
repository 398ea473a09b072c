/**
 * The error `promise` rejects with, checked to be a `type`: a test fails with a clear message when the
 * promise resolves or rejects with something else.
 */
export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected the promise to reject with ${type.name}`);
}
