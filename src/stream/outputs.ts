// What processing a batch of messages produces for the lake: appended rows, and keyed rows that
// replace earlier versions of themselves (a day re-emitted after a late reading).

export type Row = Record<string, unknown>;

/** The value under `key`, created by `make` the first time. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

export class BatchOutputs {
  /** table path → rows appended as they are */
  readonly appends = new Map<string, Row[]>();
  /** table path → key → rows that are the key's full content after this batch */
  readonly keyed = new Map<string, Map<string, Row[]>>();
  /** table path → keys whose rows already in the lake must be removed (they are re-emitted) */
  readonly replaced = new Map<string, Set<string>>();
  /** messages for other topics (quarantine, predictions): topic → [key, value] */
  readonly messages = new Map<string, { key: string | null; value: Uint8Array }[]>();

  append(table: string, row: Row): void {
    getOrCreate(this.appends, table, () => []).push(row);
  }

  /**
   * Sets the rows of `key` in `table`. `inLake` says the lake may already hold rows for the key
   * (written by an earlier batch): those are removed in the same commit.
   */
  upsert(table: string, key: string, rows: Row[], inLake: boolean): void {
    getOrCreate(this.keyed, table, () => new Map<string, Row[]>()).set(key, rows);
    if (inLake) getOrCreate(this.replaced, table, () => new Set<string>()).add(key);
  }

  send(topic: string, key: string | null, value: Uint8Array): void {
    getOrCreate(this.messages, topic, () => []).push({ key, value });
  }

  /** Every row to add to a table: appends, then keyed rows. */
  rowsFor(table: string): Row[] {
    const out = [...(this.appends.get(table) ?? [])];
    for (const rows of this.keyed.get(table)?.values() ?? []) out.push(...rows);
    return out;
  }

  tables(): string[] {
    return [...new Set([...this.appends.keys(), ...this.keyed.keys(), ...this.replaced.keys()])];
  }

  get empty(): boolean {
    return (
      this.appends.size === 0 && this.keyed.size === 0 && this.replaced.size === 0 && this.messages.size === 0
    );
  }
}
