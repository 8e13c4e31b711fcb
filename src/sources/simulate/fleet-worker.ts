// Worker thread: generates one slice of the fleet and posts its batches (bytes transferred, not
// copied), at most a few ahead of what the main thread has taken (credit-based flow control).

import { parentPort, workerData } from 'node:worker_threads';
import { type FleetSpec, generateFleet } from './fleet.ts';

export interface FleetWorkerData {
  spec: FleetSpec;
  first: number;
  count: number;
  batchSize: number;
}

export const INITIAL_CREDITS = 4;

if (parentPort) {
  const port = parentPort;
  const { spec, first, count, batchSize } = workerData as FleetWorkerData;
  let credits = INITIAL_CREDITS;
  let wake: (() => void) | null = null;
  port.on('message', () => {
    credits++;
    wake?.();
  });
  for (const b of generateFleet(spec, first, count, batchSize)) {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    wake = null;
    credits--;
    port.postMessage(b, [
      b.bytes.buffer as ArrayBuffer,
      b.ends.buffer as ArrayBuffer,
      b.times.buffer as ArrayBuffer,
    ]);
  }
  port.postMessage('done');
  port.close();
}
