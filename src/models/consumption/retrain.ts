// Monthly retraining that remembers: which month was retrained (or why it failed) is recorded in the
// registry (models/consumption/RETRAIN.json), so a restarted worker does not retrain that month again.

import { describeError } from '../../errors.ts';
import type { ObjectStore } from '../../storage/index.ts';
import { readRetrain, recordRetrain } from '../registry.ts';

const NAME = 'consumption';

export class MonthlyRetrainer {
  private readonly store: ObjectStore;
  private readonly retrain: () => Promise<number>;
  /** the newest month retrained or tried by this process, or recorded as retrained in the registry */
  private done: string | undefined;
  private loaded = false;
  private running: Promise<void> | undefined;

  constructor(store: ObjectStore, retrain: () => Promise<number>) {
    this.store = store;
    this.retrain = retrain;
  }

  /**
   * Starts a retrain in the background when `closed` is newer than the last month retrained; returns
   * at once. A failed retrain registers nothing (the previous version stays LATEST) and records why;
   * a restarted process tries that month again once, a month already retrained never.
   */
  async afterMonthClosed(closed: string): Promise<void> {
    if (this.running) return;
    if (!this.loaded) {
      const rec = await readRetrain(this.store, NAME);
      if (rec?.ok) this.done = rec.month;
      this.loaded = true;
    }
    if (this.done !== undefined && closed <= this.done) return;
    this.done = closed;
    this.running = this.run(closed).finally(() => {
      this.running = undefined;
    });
  }

  /** The retrain under way, if any (tests wait for it). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async run(month: string): Promise<void> {
    const at = () => new Date().toISOString();
    try {
      const version = await this.retrain();
      await recordRetrain(this.store, NAME, { month, ok: true, version, at: at() });
    } catch (e) {
      const error = describeError(e);
      process.stderr.write(`\nretrain after ${month} failed, the previous model stays: ${error}\n`);
      await recordRetrain(this.store, NAME, { month, ok: false, error, at: at() }).catch(() => {});
    }
  }
}
