// The batch view's rule for the cluster trace: the stream's silver task lifecycles recomputed from the
// bronze task events, as one SQL text that DuckDB and Spark both run (src/batch/dialect.ts).
//
// The rules are the stream processor's fold (src/workloads/cluster-trace/processor.ts), restated over a
// task's events in the order the stream read them (its partition's offsets, not trace time):
// - an end event (EVICT FAIL FINISH KILL LOST) ends the open attempt; the next event starts a new one;
// - a SUBMIT starts a new attempt, unless the open attempt began with a SUBMIT at the same time (a
//   repeated SUBMIT, only counted); an open attempt a new SUBMIT interrupts ends as `superseded`;
// - any other event with no attempt open starts one without a SUBMIT (submit_time null);
// - requests, priority and class come from the attempt's first event and its UPDATE events, an empty
//   field keeping the earlier value; schedule time and machine from its last SCHEDULE, the machine
//   else from its end event; an attempt still running at the end of the input is `open`;
// - the class is the one the speed layer gave the SUBMIT (gold task_classes): a model's verdict at
//   arrival, not something bronze holds.
// The trace batch test (test/batch/trace.test.ts) holds this equal to the stream's table on a replay.

import { TASK_EVENT, TASK_EVENT_NAMES } from '../domain/cluster-trace/schema.ts';
import { TRACE_LAKE_TABLES } from '../domain/cluster-trace/tables.ts';
import { viewNameOf } from '../lake/index.ts';
import type { BatchDialect } from './dialect.ts';

const EVENTS = viewNameOf(TRACE_LAKE_TABLES.taskEvents.path);
const CLASSES = viewNameOf(TRACE_LAKE_TABLES.taskClasses.path);

const ENDS = ['EVICT', 'FAIL', 'FINISH', 'KILL', 'LOST'] as const;
const { SUBMIT, SCHEDULE, UPDATE_PENDING, UPDATE_RUNNING } = TASK_EVENT;
/** one task's events, as one partition of the stream read them */
const TASK = `"partition", job_id, task_index`;

/** cluster-trace/batch/task_lifecycles: the silver table's rows. */
export function lifecyclesSql(d: BatchDialect, withClasses: boolean): string {
  const secs = (from: string, to: string) => `CAST(${to} - ${from} AS DOUBLE) / 1e6`;
  const latest = (col: string) =>
    `max_by(${col}, "offset") FILTER (WHERE sets_requests AND ${col} IS NOT NULL)`;
  const classes = withClasses
    ? `SELECT job_id, task_index, submit_time, MIN(class) AS class FROM ${CLASSES} GROUP BY job_id, task_index, submit_time`
    : 'SELECT CAST(NULL AS BIGINT) AS job_id, CAST(NULL AS BIGINT) AS task_index, CAST(NULL AS BIGINT) AS submit_time, CAST(NULL AS INT) AS class WHERE 1 = 0';
  return `WITH events AS (
  SELECT ${TASK}, "offset", time, event_type, machine_id, cpu_request, memory_request, disk_request,
         priority, scheduling_class,
         event_type IN (${ENDS.map((e) => TASK_EVENT[e]).join(', ')}) AS ends
  FROM ${EVENTS}
),
runs AS (
  -- a run: the events after the task's previous end event
  SELECT e.*, COALESCE(SUM(CASE WHEN ends THEN 1 ELSE 0 END) OVER (PARTITION BY ${TASK} ORDER BY "offset"
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS run
  FROM events e
),
marked AS (
  SELECT r.*, ROW_NUMBER() OVER (PARTITION BY ${TASK}, run ORDER BY "offset") AS nth,
         -- for a SUBMIT: the run's previous SUBMIT's time
         LAG(time) OVER (PARTITION BY ${TASK}, run, event_type = ${SUBMIT} ORDER BY "offset") AS prev_submit
  FROM runs r
),
starts AS (
  SELECT m.*, nth = 1 OR (event_type = ${SUBMIT} AND (prev_submit IS NULL OR prev_submit <> time)) AS starts
  FROM marked m
),
numbered AS (
  SELECT s.*, starts OR event_type IN (${UPDATE_PENDING}, ${UPDATE_RUNNING}) AS sets_requests,
         SUM(CASE WHEN starts THEN 1 ELSE 0 END) OVER (PARTITION BY ${TASK} ORDER BY "offset"
           ROWS UNBOUNDED PRECEDING) AS attempt
  FROM starts s
),
attempts AS (
  SELECT ${TASK}, attempt,
         MAX(CASE WHEN starts THEN time END) AS first_time,
         MAX(CASE WHEN starts AND event_type = ${SUBMIT} THEN time END) AS submit_time,
         ${d.lastBy('time', '"offset"')} FILTER (WHERE event_type = ${SCHEDULE}) AS schedule_time,
         ${d.lastBy('machine_id', '"offset"')} FILTER (WHERE event_type = ${SCHEDULE}) AS scheduled_on,
         MAX(CASE WHEN ends THEN time END) AS end_time,
         MAX(CASE WHEN ends THEN event_type END) AS end_type,
         MAX(CASE WHEN ends THEN machine_id END) AS ended_on,
         ${latest('cpu_request')} AS cpu_request,
         ${latest('memory_request')} AS memory_request,
         ${latest('disk_request')} AS disk_request,
         ${latest('priority')} AS priority,
         ${latest('scheduling_class')} AS scheduling_class,
         COUNT(*) AS n_events
  FROM numbered GROUP BY ${TASK}, attempt
),
classes AS (${classes})
SELECT a.job_id AS job_id, a.task_index AS task_index, a.first_time AS first_time,
       a.submit_time AS submit_time, a.schedule_time AS schedule_time, a.end_time AS end_time,
       CASE ${ENDS.map((e) => `WHEN a.end_type = ${TASK_EVENT[e]} THEN '${TASK_EVENT_NAMES[TASK_EVENT[e]]}'`).join(' ')}
            WHEN a.attempt < MAX(a.attempt) OVER (PARTITION BY a."partition", a.job_id, a.task_index) THEN 'superseded'
            ELSE 'open' END AS outcome,
       COALESCE(a.scheduled_on, a.ended_on) AS machine_id,
       ${secs('a.submit_time', 'a.schedule_time')} AS wait_s,
       ${secs('a.schedule_time', 'a.end_time')} AS run_s,
       ${secs('a.submit_time', 'a.end_time')} AS total_s,
       a.cpu_request AS cpu_request, a.memory_request AS memory_request, a.disk_request AS disk_request,
       CAST(a.priority AS INT) AS priority, CAST(a.scheduling_class AS INT) AS scheduling_class,
       CAST(c.class AS INT) AS class, CAST(a.n_events AS INT) AS n_events
FROM attempts a
LEFT JOIN classes c ON a.submit_time IS NOT NULL AND c.job_id = a.job_id AND c.task_index = a.task_index
  AND c.submit_time = a.submit_time`;
}

/** The latest trace time (µs) among the task events the run covered. */
export function traceMarkSql(): string {
  return `SELECT MAX(time) AS mark FROM ${EVENTS}`;
}
