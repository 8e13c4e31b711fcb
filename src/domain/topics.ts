// The topic names of every workload, shared by producers, the stream, the cluster's setup and the dashboard.

export const TOPICS = {
  readings: 'meters.readings',
  quarantine: 'meters.quarantine',
  predictions: 'meters.predictions',
  traceEvents: 'trace.events',
  traceQuarantine: 'trace.quarantine',
  taskClasses: 'trace.task-classes',
} as const;
