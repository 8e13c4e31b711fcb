import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptingMs, watchdogVerdict } from './producer-loop.ts';

describe("the fault runs' producer watchdog", () => {
  it('counts all of a segment while the cluster accepts writes', () => {
    assert.equal(acceptingMs(1_000, 61_000, []), 60_000);
  });

  it('does not count the time the cluster refused writes, ended or still going', () => {
    // refused from 10 s to 70 s: a segment of 100 s ran 40 s while writes were accepted
    assert.equal(acceptingMs(0, 100_000, [{ from: 10_000, to: 70_000 }]), 40_000);
    // still refused: only the 10 s before it count
    assert.equal(acceptingMs(0, 100_000, [{ from: 10_000 }]), 10_000);
  });

  it('counts only the overlap with this segment: a refusal before it started, or partly before', () => {
    assert.equal(acceptingMs(50_000, 100_000, [{ from: 0, to: 40_000 }]), 50_000);
    assert.equal(acceptingMs(50_000, 100_000, [{ from: 30_000, to: 60_000 }]), 40_000);
    assert.equal(
      acceptingMs(0, 100_000, [
        { from: 0, to: 10_000 },
        { from: 90_000, to: 120_000 },
      ]),
      80_000,
    );
  });

  it('judges a stall only after the limit without an acknowledgement while writes were accepted, and not during a fault', () => {
    // last acknowledgement at 0, 60 s limit: at 50 s it looks again within a second; at 61 s, stalled
    assert.equal(watchdogVerdict(0, 50_000, 60_000, [], false), 1000);
    assert.equal(watchdogVerdict(0, 59_500, 60_000, [], false), 500);
    assert.equal(watchdogVerdict(0, 61_000, 60_000, [], false), 'stalled');
    // a slow producer acknowledged at 55 s is not stalled at 61 s: the limit runs from its last acknowledgement
    assert.equal(watchdogVerdict(55_000, 61_000, 60_000, [], false), 1000);
    // a fault in progress: ask again in a second, whatever the time
    assert.equal(watchdogVerdict(0, 200_000, 60_000, [], true), 1000);
    // after it: the refused minute is not counted
    assert.equal(watchdogVerdict(0, 100_000, 60_000, [{ from: 20_000, to: 80_000 }], false), 1000);
    assert.equal(watchdogVerdict(0, 121_000, 60_000, [{ from: 20_000, to: 80_000 }], false), 'stalled');
  });
});
