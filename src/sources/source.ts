// What every source gives the producer loop: batches of keyed messages, event times, progress, counts.

export interface SourceMessage {
  key: string | null;
  value: Uint8Array;
  /** event time in ms (since the epoch; trace time for the Google trace), for ordering and --speed */
  time?: number;
  /** set on the message standing for a source row that could not be parsed */
  unparsed?: true;
}

/** Counts per input file (or per simulated fleet). */
export interface FileStats {
  label: string;
  /** messages produced from this input, unparsed rows included */
  messages: number;
  /** rows sent as {"unparsed": …} because they could not be parsed */
  unparsed: number;
  /** rows deliberately not sent, with why (e.g. UCI hours with Voltage = 0, which are gaps) */
  skipped: number;
  skipReason?: string;
}

export interface Source {
  /** the --source name */
  name: string;
  topic: string;
  /** the number of messages, when known before the start (simulated fleets) */
  total?: number;
  /** event time at which the --speed clock starts; earlier events are sent at once (trace: 600 s) */
  clockStart?: number;
  /** progress 0..1 through the input, when it can be told (bytes of the files read so far) */
  fraction(): number | undefined;
  batches(): AsyncIterable<SourceMessage[]>;
  stats(): FileStats[];
}

const enc = new TextEncoder();

/** The message for a source row that could not be parsed: the worker quarantines it with its position. */
export function unparsedMessage(src: string, line: string, error: string, time?: number): SourceMessage {
  return {
    key: null,
    value: enc.encode(
      `{"v":1,"src":${JSON.stringify(src)},"unparsed":${JSON.stringify(line)},"error":${JSON.stringify(error)}}`,
    ),
    time,
    unparsed: true,
  };
}

/** Encodes an ASCII/UTF-8 JSON text; Buffer.from is the fastest path in Node. */
export function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}
