import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutSqliteWarning } from './sqlite.ts';

describe('loading node:sqlite', () => {
  it("hides only SQLite's ExperimentalWarning while loading, letting every other warning through", () => {
    const passed: string[] = [];
    const real = process.emitWarning;
    // Stand in for Node's emitter to see what the filter passes on, without printing warnings.
    const recorder = ((w: string | Error, type?: string | { type?: string }) =>
      void passed.push(
        typeof w === 'string'
          ? `${typeof type === 'string' ? type : type?.type}: ${w}`
          : `${w.name}: ${w.message}`,
      )) as typeof process.emitWarning;
    process.emitWarning = recorder;
    try {
      withoutSqliteWarning(() => {
        process.emitWarning(
          'SQLite is an experimental feature and might change at any time',
          'ExperimentalWarning',
        );
        process.emitWarning('SQLite is an experimental feature', { type: 'ExperimentalWarning' });
        process.emitWarning(
          Object.assign(new Error('SQLite is experimental'), { name: 'ExperimentalWarning' }),
        );
        process.emitWarning('WASI is an experimental feature', 'ExperimentalWarning');
        process.emitWarning('SQLite file is large', 'Warning');
      });
      assert.equal(process.emitWarning, recorder, 'the filter is removed after loading');
    } finally {
      process.emitWarning = real;
    }
    assert.deepEqual(passed, [
      'ExperimentalWarning: WASI is an experimental feature',
      'Warning: SQLite file is large',
    ]);
  });
});
