import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventClock, RatePacer } from './pacing.ts';

describe('pacing', () => {
  it('lets about 1000 messages through in one second at rate 1000', async () => {
    const pacer = new RatePacer(1000);
    const chunk = pacer.chunk(5000);
    assert.equal(chunk, 50);
    const t0 = performance.now();
    let sent = 0;
    while (performance.now() - t0 < 1000) {
      await pacer.take(chunk);
      sent += chunk;
    }
    assert.ok(sent >= 850 && sent <= 1150, `sent ${sent} in 1 s`);
  });

  it('sends one message a second at rate 1, the first at once', async () => {
    const pacer = new RatePacer(1);
    assert.equal(pacer.chunk(5000), 1);
    const t0 = performance.now();
    await pacer.take(1);
    assert.ok(performance.now() - t0 < 100);
    await pacer.take(1);
    await pacer.take(1);
    const ms = performance.now() - t0;
    assert.ok(ms >= 1950 && ms < 2600, `three messages took ${ms} ms`);
  });

  it('maps event time to wall time by the speed-up, from the first message', () => {
    const clock = new EventClock(86_400);
    const day = 86_400_000;
    const t0 = clock.dueAt(Date.parse('2013-01-01T00:00:00Z'));
    assert.ok(Math.abs(clock.dueAt(Date.parse('2013-01-02T00:00:00Z')) - t0 - 1000) < 5);
    assert.ok(Math.abs(clock.dueAt(Date.parse('2013-01-01T00:00:00Z') + 10 * day) - t0 - 10_000) < 5);
  });

  it('sends messages without an event time at once, even before the first timed one', () => {
    const clock = new EventClock(1000);
    const now = performance.now();
    assert.ok(clock.dueAt(undefined) - now < 50);
    assert.ok(clock.dueAt(Number.NEGATIVE_INFINITY) - now < 50);
    const t0 = clock.dueAt(Date.parse('2013-01-01T00:00:00Z'));
    assert.ok(Math.abs(clock.dueAt(Date.parse('2013-01-01T00:00:01Z')) - t0 - 1) < 5);
  });

  it('sends events before the clock start at once (the trace window opens at 600 s)', () => {
    const clock = new EventClock(100, 600_000);
    const t0 = clock.dueAt(0);
    assert.ok(Math.abs(clock.dueAt(600_000) - t0) < 5);
    assert.ok(Math.abs(clock.dueAt(700_000) - t0 - 1000) < 5);
  });
});
