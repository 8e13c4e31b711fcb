// Reading a JVM's live heap: the Total line of a class histogram, in MiB.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramTotalMiB } from './jvm-heap.ts';

describe('the live heap from a class histogram', () => {
  it('is the bytes of its Total line in MiB', () => {
    const out = `28384:
 num     #instances         #bytes  class name (module)
-------------------------------------------------------
   1:        101706       41230144  [B (java.base@17.0.15)
   2:         75422        1810128  java.lang.String (java.base@17.0.15)
Total        400317      155031968
`;
    assert.equal(histogramTotalMiB(out), 147.9);
  });

  it('is undefined when jcmd printed no histogram (the JVM refused or is gone)', () => {
    assert.equal(
      histogramTotalMiB(
        '28384:\ncom.sun.tools.attach.AttachNotSupportedException: Unable to open socket file',
      ),
      undefined,
    );
  });
});
