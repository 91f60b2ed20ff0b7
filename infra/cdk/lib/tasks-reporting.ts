// Tasks reporting: how many of the service's tasks published, from what every task already
// publishes (no custom metric). Each task's sidecar publishes RunningContainerCount once per
// interval I at the task dimension set, whatever its value, so over a period P the service's
// SampleCount is about tasks x P / I and
//
//   tasks reporting = SampleCount(RunningContainerCount) / (P / I)      ("m1 / 5" for I = 60 s, P = 300 s)
//
// The same numbers as the Terraform module (infra/terraform/modules/ecs-emf-exporter-dashboard/
// tasks_reporting.tf); precision in infra/README.md.

/** The period: max(the dashboard period, the interval rounded up to a whole minute), so P >= I.
 * The no-data alarm uses the same period (one datapoint per interval at most: a shorter period
 * would be empty between two healthy cycles), as the Terraform module's local.no_data_period. */
export function periodCoveringInterval(dashboardPeriodSeconds: number, intervalMillis: number): number {
  return Math.max(dashboardPeriodSeconds, Math.ceil(intervalMillis / 60_000) * 60);
}

/**
 * "m1 / (P/I)" with P/I rendered when it is whole; otherwise "m1 * I / P" (seconds, or
 * milliseconds for an interval that is not whole seconds): exact, without a rounded decimal.
 */
export function tasksReportingExpression(intervalMillis: number, periodSeconds: number): string {
  const periodMillis = periodSeconds * 1000;
  if (periodMillis % intervalMillis === 0) {
    return `m1 / ${periodMillis / intervalMillis}`;
  }
  return intervalMillis % 1000 === 0 ? `m1 * ${intervalMillis / 1000} / ${periodSeconds}` : `m1 * ${intervalMillis} / ${periodMillis}`;
}

/**
 * All of at least 3 periods and at least 5 minutes: the newest period or two are low while their
 * EMF is still on its way, so one low period proves nothing (60 s: 5 of 5; 120 s and more: 3 of 3).
 */
export function tasksReportingEvaluationPeriods(periodSeconds: number): number {
  return Math.max(3, Math.ceil(300 / periodSeconds));
}

/**
 * "Fewer than N tasks": below N - 0.5, i.e. at least half a task's samples missing across the
 * service in each evaluated period; one skipped tick, or a task starting or stopping within the
 * period (it counts fractionally), does not by itself read as a missing task.
 */
export function tasksReportingThreshold(minTasks: number): number {
  return minTasks - 0.5;
}
