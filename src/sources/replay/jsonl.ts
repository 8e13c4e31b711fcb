// JSONL replay: every line of the file is one message, byte for byte and unparsed (replaying captured
// traffic, testing bad input). Only the "\n" separators are removed; the key is null.

import type { LineFile } from '../io/lines.ts';
import type { FileStats, SourceMessage } from '../source.ts';

export async function* parseJsonl(file: LineFile, stats: FileStats): AsyncGenerator<SourceMessage[]> {
  for await (const batch of file.batches()) {
    // copy each line: the batch's buffer is reused by the stream
    const out: SourceMessage[] = batch.map((line) => ({
      key: null,
      value: Uint8Array.prototype.slice.call(line),
    }));
    stats.messages += out.length;
    yield out;
  }
}
