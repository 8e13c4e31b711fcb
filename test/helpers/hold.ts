// A store whose next Delta commit is held, to make a race between writers happen in a chosen order.

import type { ObjectStore } from '../../src/storage/index.ts';

/** The store with its next Delta commit held until `release()`; `reached` resolves when it is held. */
export function holdNextCommit(store: ObjectStore) {
  let reachedNow!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => {
    reachedNow = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  let armed = true;
  const held = new Proxy(store, {
    get(target, prop) {
      if (prop === 'putIfAbsent')
        return async (path: string, data: Uint8Array) => {
          if (armed && /_delta_log\/\d+\.json$/.test(path)) {
            armed = false;
            reachedNow();
            await released;
          }
          return target.putIfAbsent(path, data);
        };
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store: held, reached, release };
}
