// The meters workload's stream logic, message by message and without I/O: validate, quarantine,
// dedupe, bronze; register diffs, hourly silver; days and months closed by each meter's event-time
// watermark into gold; predictions from day 3 and their outcomes at month close.
// Deterministic: the same messages in the same order give the same rows, whatever the pacing.

import { parseReadingTs, type Reading, type Validated } from '../../domain/meters/reading.ts';
import { METER_TABLES } from '../../domain/meters/tables.ts';
import { LakestreamError } from '../../errors.ts';
import type { ConsumptionModel } from '../../models/consumption/state.ts';
import { isoOffsetMs, offsetMs } from '../../sources/time.ts';
import type { BatchOutputs } from '../../stream/outputs.ts';
import type { Message } from '../../transport/index.ts';
import { daysInMonth, localDayStartUtc, localFields, nextDay, previousMonth } from './calendar.ts';
import { HourSums, SeenSet, SmallMap } from './compact.ts';
import type { Enrichment } from './enrich.ts';
import { exact, sub } from './exact-sum.ts';
import { addToFleet } from './fleet-partials.ts';
import {
  type DayState,
  dayComplete,
  intern,
  type MeterState,
  type MonthState,
  NO_MONTHS,
  newPartitionState,
  PartitionChanges,
  type PartitionState,
  setDayComplete,
} from './state.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** What the processor predicts with: the consumption model (or any stand-in with its shape). */
export type Forecaster = Pick<ConsumptionModel, 'version' | 'predict'>;

export interface MetersConfig {
  /** event time a meter's day stays open after it ends (ms) */
  allowedLatenessMs: number;
  /** how long closed days are kept to absorb late readings (ms); older readings are quarantined */
  retentionMs: number;
  /** largest register increase accepted between two reads (litres) */
  maxRegisterDiff: number;
  predictionsTopic: string;
  quarantineTopic: string;
}

export const DEFAULT_METERS_CONFIG: MetersConfig = {
  allowedLatenessMs: 2 * HOUR,
  retentionMs: 7 * DAY,
  maxRegisterDiff: 100_000,
  predictionsTopic: 'meters.predictions',
  quarantineTopic: 'meters.quarantine',
};

export interface ProcessContext {
  config: MetersConfig;
  enrichment: Enrichment;
  forecaster: Forecaster;
  decode: (bytes: Uint8Array) => Validated;
  /** wall clock of processing (ms), for ingested_at / predicted_at columns only */
  now: () => number;
}

const T = {
  bronze: METER_TABLES.bronze.path,
  quarantine: METER_TABLES.quarantine.path,
  silver: METER_TABLES.silver.path,
  daily: METER_TABLES.daily.path,
  monthly: METER_TABLES.monthly.path,
  predictions: METER_TABLES.predictions.path,
  outcomes: METER_TABLES.outcomes.path,
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class MetersProcessor {
  readonly state: PartitionState;
  /** the meters changed since the state was last saved (the manifest's deltas): touched before they change */
  readonly changes = new PartitionChanges();
  private readonly ctx: ProcessContext;
  private readonly localCache = new Map<
    string | number,
    { hour: number; local: ReturnType<typeof localFields> }
  >();

  constructor(ctx: ProcessContext, state: PartitionState = newPartitionState()) {
    this.ctx = ctx;
    this.state = state;
  }

  setForecaster(f: Forecaster): void {
    this.ctx.forecaster = f;
  }

  /** The newest month ('YYYY-MM') closed for any meter of this partition, if any. */
  latestClosedMonth(): string | undefined {
    let latest: string | undefined;
    for (const m of this.state.meters.values())
      for (const key of Object.keys(m.monthTotals)) if (!latest || key > latest) latest = key;
    return latest;
  }

  process(msg: Message, out: BatchOutputs): void {
    const c = this.state.counters;
    c.read++;
    const decoded = this.ctx.decode(msg.value);
    if (!decoded.ok) {
      this.quarantine(out, msg, decoded.reason, decoded.detail, decoded.src, decoded.meter_id);
      return;
    }
    const r = decoded.reading;
    const ts = parseReadingTs(r.ts) as number;
    let m = this.state.meters.get(r.meter_id);
    if (m && (m.kind !== r.kind || (m.tz ?? '') !== (r.tz ?? ''))) {
      this.quarantine(
        out,
        msg,
        'meter-changed',
        `meter ${r.meter_id} was ${m.kind}${m.tz ? ` in ${m.tz}` : ''}`,
        r.src,
        r.meter_id,
      );
      return;
    }
    if (!m) {
      m = newMeter(r);
      this.state.meters.set(r.meter_id, m);
      this.changes.created(m);
    } else this.changes.touch(m);
    const local = this.localTime(m, ts);
    let day = m.days.get(local.day);
    if (!day) {
      const dayStart = localDayStartUtc(local.day, m.tz, m.fixedOffset);
      if (dayStart + DAY + this.ctx.config.retentionMs < m.watermark) {
        this.quarantine(
          out,
          msg,
          'too-late',
          `reading for ${local.day} arrived after the day was closed and released (allowed lateness + retention passed)`,
          r.src,
          r.meter_id,
        );
        return;
      }
      day = newDay(m, local.day, dayStart);
      m.days.set(local.day, day);
      this.dueBy(m, day.end + this.ctx.config.allowedLatenessMs);
    }
    if (!day.seen.tryAdd(ts)) {
      c.duplicates++;
      return;
    }
    c.accepted++;
    out.append(T.bronze, {
      meter_id: r.meter_id,
      kind: r.kind,
      // Timestamps as ms numbers (the Parquet staging takes ms numbers as it takes Dates): no Date per reading.
      ts,
      value: r.value,
      unit: r.unit,
      type: r.type,
      seq: r.seq,
      tz: r.tz ?? null,
      src: r.src ?? null,
      topic: msg.topic,
      partition: msg.partition,
      offset: msg.offset,
      ingested_at: this.ctx.now(),
      day: local.day,
    });

    let consumption: number | undefined;
    if (r.type === 'interval') consumption = r.value;
    else consumption = this.registerDiff(m, ts, r.value, msg, out, r.src);

    if (ts > m.lastTs && m.lastTs > 0) {
      const gap = ts - m.lastTs;
      if (m.intervalMs === 0 || gap < m.intervalMs) m.intervalMs = gap;
    }
    if (ts > m.lastTs) m.lastTs = ts;

    day.n++;
    if (consumption !== undefined) {
      day.sum += consumption;
      const hourStart = Math.floor(ts / HOUR) * HOUR;
      day.hours.add(hourStart, consumption);
    }
    if (!day.closed && day.end + this.ctx.config.allowedLatenessMs <= m.watermark) {
      // The first reading of a day already past the watermark: close it at once.
      this.closeDay(m, day, out);
    } else if (day.closed) {
      // A late reading within retention: re-emit the day (and its month, if closed) in place.
      this.emitDay(m, day, true, out);
      const month = m.months.get(day.month);
      if (month?.closed) {
        const before = monthTotal(month);
        this.recordDayInMonth(m, month, day);
        this.emitMonth(m, month, true, out, before);
      }
    }
    if (ts > m.watermark) {
      m.watermark = ts;
      if (ts >= m.nextCloseAt) this.closeDue(m, out);
    }
  }

  /**
   * The local day, month and hour of an instant for a meter; one computation per zone-hour. Kept per
   * zone (or fixed offset), not per meter: the fields depend on nothing else, and a million meters
   * share a few zones.
   */
  private localTime(m: MeterState, ts: number) {
    const hour = Math.floor(ts / HOUR);
    const zone = m.tz ?? m.fixedOffset;
    const cached = this.localCache.get(zone);
    if (cached && cached.hour === hour) return cached.local;
    const offset = m.tz ? offsetMs(m.tz, ts) : m.fixedOffset;
    // Offsets are whole quarter hours, so the local fields are the same for the whole UTC hour
    // except where an offset has minutes (none of the workloads' zones): compute per instant then.
    // The day as the meter's days are keyed (interned): the lookup of a reading's day compares
    // the same string, not two copies of it character by character.
    const fields = localFields(ts + offset);
    const local = { ...fields, day: intern(fields.day) };
    if (offset % HOUR === 0) this.localCache.set(zone, { hour, local });
    return local;
  }

  /** At the end of a bounded input: writes open days and months as they stand, flagged open. */
  flush(out: BatchOutputs): void {
    for (const m of this.state.meters.values()) {
      this.changes.touch(m);
      for (const day of m.days.values())
        if (!day.closed && day.n > 0) {
          this.emitDay(m, day, false, out);
          // the open month's total includes its open days as they stand
          this.recordDayInMonth(m, this.monthOf(m, day.month), day);
        }
      for (const month of m.months.values()) if (!month.closed) this.emitMonth(m, month, false, out);
    }
  }

  private registerDiff(
    m: MeterState,
    ts: number,
    value: number,
    msg: Message,
    out: BatchOutputs,
    src?: string,
  ): number | undefined {
    const prev = m.register;
    if (!prev) {
      m.register = { ts, value };
      return undefined;
    }
    if (ts < prev.ts) {
      this.quarantineDiff(
        out,
        msg,
        m,
        'out-of-order-register',
        `register read at ${new Date(ts).toISOString()} is older than the last one (${new Date(prev.ts).toISOString()}); no diff taken`,
        src,
      );
      return undefined;
    }
    m.register = { ts, value };
    const diff = value - prev.value;
    if (diff < 0) {
      this.quarantineDiff(
        out,
        msg,
        m,
        'negative-diff',
        `register fell from ${prev.value} to ${value} (${diff} L)`,
        src,
      );
      return undefined;
    }
    if (diff > this.ctx.config.maxRegisterDiff) {
      this.quarantineDiff(
        out,
        msg,
        m,
        'implausible-diff',
        `register rose by ${diff} L since ${new Date(prev.ts).toISOString()} (limit ${this.ctx.config.maxRegisterDiff} L)`,
        src,
      );
      return undefined;
    }
    return diff;
  }

  private closeDue(m: MeterState, out: BatchOutputs): void {
    const { allowedLatenessMs, retentionMs } = this.ctx.config;
    const due = [...m.days.values()].filter((d) => !d.closed && d.end + allowedLatenessMs <= m.watermark);
    due.sort((a, b) => a.start - b.start);
    for (const day of due) this.closeDay(m, day, out);
    for (const month of m.months.values())
      if (!month.closed && month.end + allowedLatenessMs <= m.watermark) this.closeMonth(m, month, out);
    for (const [key, day] of m.days)
      if (day.closed && day.end + retentionMs < m.watermark) m.days.delete(key);
    for (const [key, month] of m.months)
      if (month.closed && month.end + retentionMs < m.watermark) m.months.delete(key);
    // The next event time anything here is due: an open day or month to close, a closed one to
    // release (+Infinity: none). Left behind the watermark, every later reading that moved it came
    // back here to scan the meter's days and months. (The meter is touched before it changes, so the
    // delta carries the moved value. A state saved before it was moved on holds an earlier time:
    // that costs one more scan here, which then moves it.)
    let next = Number.POSITIVE_INFINITY;
    for (const day of m.days.values())
      next = Math.min(next, day.end + (day.closed ? retentionMs : allowedLatenessMs));
    for (const month of m.months.values())
      next = Math.min(next, month.end + (month.closed ? retentionMs : allowedLatenessMs));
    m.nextCloseAt = next;
  }

  /** A day or month of `m` opened that is due to close at `t`. */
  private dueBy(m: MeterState, t: number): void {
    if (t < m.nextCloseAt) m.nextCloseAt = t;
  }

  private closeDay(m: MeterState, day: DayState, out: BatchOutputs): void {
    day.closed = true;
    this.emitDay(m, day, true, out);
    const month = this.monthOf(m, day.month);
    const before = monthTotal(month);
    this.recordDayInMonth(m, month, day);
    if (month.closed) {
      this.emitMonth(m, month, true, out, before);
      return;
    }
    const k = day.dayOfMonth;
    if (k >= 3 && !month.predictions.some((p) => p.k === k)) this.predict(m, month, k, out);
    if (k === month.daysInMonth) this.closeMonth(m, month, out);
  }

  private predict(m: MeterState, month: MonthState, k: number, out: BatchOutputs): void {
    const daily = month.sums.slice(0, k).map((s, i) => (s !== null && dayComplete(month, i) ? s : null));
    const observed = month.sums.slice(0, k).reduce<number>((a, s) => a + (s ?? 0), 0);
    const meta = this.ctx.enrichment.household(m.id);
    const [y, mo] = month.month.split('-');
    const prevMonth = previousMonth(month.month);
    const lastYear = `${Number(y) - 1}-${mo}`;
    const f = this.ctx.forecaster;
    let predicted = f.predict({
      meterId: m.id,
      month: month.month,
      daysInMonth: month.daysInMonth,
      daily,
      prevMonthDailyMean: m.monthMeans[prevMonth],
      prevMonthDaily: m.lastMonthDaily?.month === prevMonth ? m.lastMonthDaily.daily : undefined,
      // as offline (dataset.ts): only a complete month's total is known
      sameMonthLastYearTotal: m.completeMonthTotals?.[lastYear],
      tariff: meta?.tariff,
      acornGroup: meta?.acornGroup,
      holidays: this.ctx.enrichment.calendarOf(m.id, m.tz),
    });
    if (!Number.isFinite(predicted)) predicted = observed;
    month.predictions.push({ k, predicted, observed, version: f.version });
    const row = {
      meter_id: m.id,
      kind: m.kind,
      as_of_day: k,
      predicted_total: predicted,
      observed_to_date: observed,
      model_version: f.version,
      predicted_at: new Date(this.ctx.now()),
      month: month.month,
    };
    out.append(T.predictions, row);
    addToFleet(
      out,
      'predictions',
      m.kind,
      month.month,
      k,
      predicted,
      observed,
      f.version,
      row.predicted_at.getTime(),
    );
    out.send(
      this.ctx.config.predictionsTopic,
      m.id,
      new TextEncoder().encode(JSON.stringify({ ...row, predicted_at: row.predicted_at.toISOString() })),
    );
  }

  private closeMonth(m: MeterState, month: MonthState, out: BatchOutputs): void {
    month.closed = true;
    const total = monthTotal(month);
    // the meter's first closed month: records of its own in place of the shared empty one
    if (m.monthMeans === NO_MONTHS) m.monthMeans = {};
    if (m.monthTotals === NO_MONTHS) m.monthTotals = {};
    const completeVals = month.sums.filter((s, i) => s !== null && dayComplete(month, i)) as number[];
    if (completeVals.length > 0)
      m.monthMeans[month.month] = completeVals.reduce((a, b) => a + b, 0) / completeVals.length;
    m.monthTotals[month.month] = total;
    m.completeMonthTotals ??= {};
    if (month.sums.every((_, i) => dayComplete(month, i))) m.completeMonthTotals[month.month] = total;
    else delete m.completeMonthTotals[month.month];
    m.lastMonthDaily = {
      month: month.month,
      daily: month.sums.map((v, i) => (v !== null && dayComplete(month, i) ? v : null)),
    };
    this.emitMonth(m, month, true, out);
  }

  private emitDay(m: MeterState, day: DayState, closed: boolean, out: BatchOutputs): void {
    const key = `${m.id}|${day.day}`;
    const inLake = day.written !== 'none';
    const meta = this.ctx.enrichment.household(m.id);
    const calendar = this.ctx.enrichment.calendarOf(m.id, m.tz);
    const holiday = calendar ? calendar.has(day.day) : null;
    const sample = this.ctx.enrichment.inSample(m.id);
    const hours = day.hours.entries();
    const silver = hours.map(([hourStart, [sum, n]]) => {
      const offset = m.tz ? offsetMs(m.tz, hourStart) : m.fixedOffset;
      const lf = localFields(hourStart + offset);
      return {
        meter_id: m.id,
        kind: m.kind,
        hour: hourStart,
        value: sum,
        unit: m.unit,
        n_readings: n,
        day: day.day,
        local_hour: lf.hour,
        weekday: day.weekday,
        is_holiday: holiday,
        tariff: meta?.tariff ?? null,
        acorn: meta?.acorn ?? null,
        acorn_group: meta?.acornGroup ?? null,
        sample,
        month: day.month,
      };
    });
    out.upsert(T.silver, key, silver, inLake);
    const expected = expectedReadings(m, day);
    out.upsert(
      T.daily,
      key,
      [
        {
          meter_id: m.id,
          kind: m.kind,
          day: day.day,
          value: day.sum,
          unit: m.unit,
          n_readings: day.n,
          expected_readings: expected,
          complete: isComplete(m, day.n, expected),
          closed,
          tariff: meta?.tariff ?? null,
          acorn_group: meta?.acornGroup ?? null,
          month: day.month,
        },
      ],
      inLake,
    );
    day.written = closed ? 'closed' : 'open';
  }

  /**
   * `totalBefore`: for a closed month emitted again (a late reading), the total its outcome rows in
   * the lake hold (the fleet partials take the change).
   */
  private emitMonth(
    m: MeterState,
    month: MonthState,
    closed: boolean,
    out: BatchOutputs,
    totalBefore?: number,
  ): void {
    const key = `${m.id}|${month.month}`;
    const inLake = month.written !== 'none';
    const daysWithData = month.sums.filter((s) => s !== null).length;
    const completeDays = month.sums.filter((_, i) => dayComplete(month, i)).length;
    const total = monthTotal(month);
    out.upsert(
      T.monthly,
      key,
      [
        {
          meter_id: m.id,
          kind: m.kind,
          value: total,
          unit: m.unit,
          days_with_data: daysWithData,
          complete_days: completeDays,
          days_in_month: month.daysInMonth,
          complete: completeDays === month.daysInMonth,
          closed,
          month: month.month,
        },
      ],
      inLake,
    );
    if (closed) {
      const outcomes = month.predictions.map((p) => ({
        meter_id: m.id,
        kind: m.kind,
        as_of_day: p.k,
        predicted_total: p.predicted,
        actual_total: total,
        error: p.predicted - total,
        ape: total !== 0 ? (Math.abs(p.predicted - total) / Math.abs(total)) * 100 : null,
        model_version: p.version,
        month: month.month,
      }));
      const again = month.written === 'closed';
      out.upsert(T.outcomes, key, outcomes, again);
      // The fleet's outcome rows: a first emission adds the rows; one that replaces rows in the
      // lake adds the change of their actual total (exactly: exact-sum.ts).
      if (again && totalBefore === undefined)
        throw new LakestreamError(
          'INTERNAL',
          `${key}: outcomes emitted again without the total they replace`,
        );
      const change = again ? sub(exact(total), exact(totalBefore as number)) : undefined;
      for (const p of month.predictions)
        addToFleet(
          out,
          'outcomes',
          m.kind,
          month.month,
          p.k,
          change ? 0 : p.predicted,
          change ?? total,
          p.version,
          null,
        );
    }
    month.written = closed ? 'closed' : 'open';
  }

  private monthOf(m: MeterState, month: string): MonthState {
    let s = m.months.get(month);
    if (!s) {
      const n = daysInMonth(month);
      const lastDay = `${month}-${String(n).padStart(2, '0')}`;
      s = {
        month,
        daysInMonth: n,
        end: localDayStartUtc(nextDay(lastDay), m.tz, m.fixedOffset),
        sums: Array.from({ length: n }, () => null),
        complete: 0,
        predictions: [],
        closed: false,
        written: 'none',
      };
      m.months.set(month, s);
      this.dueBy(m, s.end + this.ctx.config.allowedLatenessMs);
    }
    return s;
  }

  private recordDayInMonth(m: MeterState, month: MonthState, day: DayState): void {
    month.sums[day.dayOfMonth - 1] = day.sum;
    setDayComplete(month, day.dayOfMonth - 1, isComplete(m, day.n, expectedReadings(m, day)));
    // (the delta's baseline keeps no copy of the sums: it is told instead)
    this.changes.monthDaySet(month);
  }

  private quarantineDiff(
    out: BatchOutputs,
    msg: Message,
    m: MeterState,
    reason: string,
    detail: string,
    src?: string,
  ): void {
    this.state.counters.quarantinedDiffs++;
    this.writeQuarantine(out, msg, reason, detail, src, m.id);
  }

  private quarantine(
    out: BatchOutputs,
    msg: Message,
    reason: string,
    detail: string,
    src?: string,
    meterId?: string,
  ): void {
    this.state.counters.quarantined++;
    this.writeQuarantine(out, msg, reason, detail, src, meterId);
  }

  private writeQuarantine(
    out: BatchOutputs,
    msg: Message,
    reason: string,
    detail: string,
    src: string | undefined,
    meterId: string | undefined,
  ): void {
    const c = this.state.counters;
    c.byReason[reason] = (c.byReason[reason] ?? 0) + 1;
    const at = new Date(this.ctx.now());
    const rawText = utf8.decode(msg.value.byteLength > 4096 ? msg.value.subarray(0, 4096) : msg.value);
    out.append(T.quarantine, {
      reason,
      detail,
      meter_id: meterId ?? null,
      raw: msg.value,
      raw_text: rawText,
      src: src ?? null,
      topic: msg.topic,
      partition: msg.partition,
      offset: msg.offset,
      quarantined_at: at,
      day: at.toISOString().slice(0, 10),
    });
    out.send(
      this.ctx.config.quarantineTopic,
      msg.key,
      new TextEncoder().encode(
        JSON.stringify({
          reason,
          detail,
          src: src ?? null,
          topic: msg.topic,
          partition: msg.partition,
          offset: msg.offset,
          raw_base64: Buffer.from(msg.value).toString('base64'),
        }),
      ),
    );
  }
}

function newMeter(r: Reading): MeterState {
  return {
    id: r.meter_id,
    kind: intern(r.kind),
    unit: intern(r.unit),
    tz: r.tz === undefined ? undefined : intern(r.tz),
    fixedOffset: r.tz ? 0 : (isoOffsetMs(r.ts) ?? 0),
    watermark: Number.NEGATIVE_INFINITY,
    intervalMs: 0,
    lastTs: 0,
    days: new SmallMap(),
    months: new SmallMap(),
    nextCloseAt: Number.POSITIVE_INFINITY,
    monthMeans: NO_MONTHS,
    monthTotals: NO_MONTHS,
  };
}

function newDay(m: MeterState, day: string, start: number): DayState {
  const end = localDayStartUtc(nextDay(day), m.tz, m.fixedOffset);
  const lf = localFields(Date.parse(`${day}T12:00:00Z`));
  return {
    day: intern(day),
    month: intern(day.slice(0, 7)),
    dayOfMonth: lf.dayOfMonth,
    weekday: lf.weekday,
    start,
    end,
    hours: new HourSums(start, end),
    // on the meter's interval once it is known (30 min until then: a day finds a finer grid itself)
    seen: new SeenSet(start, end - start, m.intervalMs),
    sum: 0,
    n: 0,
    closed: false,
    written: 'none',
  };
}

/** Readings a complete day holds: the day's length over the meter's interval (46/50 on DST days). */
function expectedReadings(m: MeterState, day: DayState): number {
  if (m.intervalMs <= 0) return day.n;
  return Math.round((day.end - day.start) / m.intervalMs);
}

/** Interval meters must send every reading; register meters read irregularly, so 3/4 will do. */
function isComplete(m: MeterState, n: number, expected: number): boolean {
  return m.kind === 'water' ? n >= Math.floor(expected * 0.75) : n >= expected;
}

function monthTotal(month: MonthState): number {
  return month.sums.reduce<number>((a, s) => a + (s ?? 0), 0);
}
