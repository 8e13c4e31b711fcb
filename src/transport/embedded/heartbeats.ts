// The main thread's handle on the heartbeat thread (heartbeat-thread.ts): registers members and
// records when each last polled.

import { Worker } from 'node:worker_threads';
import type { HeartbeatCommand, HeartbeatSetup } from './heartbeat-thread.ts';

export class Heartbeats {
  private readonly worker: Worker;

  constructor(setup: HeartbeatSetup) {
    this.worker = new Worker(new URL('./heartbeat-thread.ts', import.meta.url), { workerData: setup });
    // Neither keeps the process alive nor outlives it: a killed process stops beating at once.
    this.worker.unref();
    this.worker.on('error', (e) => {
      // Without the thread, members still beat on every poll; say why takeovers may come early.
      process.emitWarning(`lakestream: the embedded log's heartbeat thread stopped: ${e.message}`);
    });
  }

  /** Starts beating for a member; returns the function the member calls on every poll. */
  add(group: string, memberId: string): { polled: () => void; remove: () => void } {
    const lastPoll = new SharedArrayBuffer(8);
    const view = new BigInt64Array(lastPoll);
    const polled = () => void Atomics.store(view, 0, BigInt(Date.now()));
    polled();
    this.post({ type: 'add', group, memberId, lastPoll });
    return {
      polled,
      remove: () => {
        Atomics.store(view, 0, 0n); // stop at once, before the message arrives
        this.post({ type: 'remove', group, memberId });
      },
    };
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  private post(c: HeartbeatCommand): void {
    this.worker.postMessage(c);
  }
}
