// Settings the exporter would reject at start-up fail at synth time, with a message naming them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Duration, Lazy } from "aws-cdk-lib";
import { ExporterOutput } from "../lib";
import { ExtraProps, PROD_API, addExporter, fargateFixture } from "./helpers";

function constructWith(props: ExtraProps): () => void {
  return () => addExporter(fargateFixture(), props);
}

describe("construction errors", () => {
  it("rejects an unknown output", () => {
    // A JavaScript caller (or an `as` cast) can get past the string-literal type.
    assert.throws(constructWith({ output: "firehose" as ExporterOutput }), /output "firehose" must be one of stdout, agent, cloudwatch/);
  });

  it("rejects a namespace under AWS/", () => {
    assert.throws(constructWith({ namespace: "AWS/x" }), /namespace "AWS\/x" must not start with "AWS\/"/);
  });

  it("rejects an empty namespace", () => {
    assert.throws(constructWith({ namespace: " " }), /namespace " " must be 1-255 printable ASCII characters/);
  });

  it("rejects an unknown dimension name", () => {
    assert.throws(constructWith({ dimensions: [["ClusterName", "Service"]] }), /dimensions: unknown dimension "Service"/);
  });

  it("rejects ContainerName in a task dimension set", () => {
    assert.throws(
      constructWith({ dimensions: [["ClusterName"], ["ContainerName"]] }),
      /dimensions: unknown dimension "ContainerName" \(ContainerName is only allowed in containerDimensions\)/,
    );
  });

  it("accepts ContainerName in a container dimension set", () => {
    assert.doesNotThrow(constructWith({ containerDimensions: [["ContainerName"]] }));
  });

  it("rejects tagsFromApi without cluster", () => {
    assert.throws(constructWith({ tagsFromApi: true }), /tagsFromApi needs cluster \(ecs:ListTagsForResource is granted on that cluster's tasks only\)/);
  });

  for (const [interval, text] of [
    [Duration.seconds(0), "0 seconds (0 ms)"],
    [Duration.hours(2), "2 hours (7200000 ms)"],
    [Duration.millis(999), "999 millis (999 ms)"],
    [Duration.seconds(3601), "1 hour 1 second (3601000 ms)"],
    [Duration.millis(1000.5), "1 second 0.5 millis (1000.5 ms)"],
  ] as const) {
    it(`rejects interval ${text}`, () => {
      assert.throws(constructWith({ interval }), { message: `ecs-emf-exporter: interval ${text} must be a whole number of milliseconds from 1s to 1h` });
    });
  }

  for (const interval of [Duration.seconds(1), Duration.seconds(90), Duration.minutes(5), Duration.hours(1), Duration.millis(1500), Duration.minutes(1.5)]) {
    it(`accepts interval ${interval.toHumanString()}`, () => {
      assert.doesNotThrow(constructWith({ interval }));
    });
  }

  it("rejects tagsRefresh outside 10 s to 24 h", () => {
    assert.throws(constructWith({ tagsRefresh: Duration.seconds(9) }), /tagsRefresh 9 seconds \(9000 ms\) must be a whole number of milliseconds from 10s to 24h/);
    assert.throws(constructWith({ tagsRefresh: Duration.hours(25) }), /tagsRefresh 1 day 1 hour \(90000000 ms\) must be a whole number of milliseconds from 10s to 24h/);
    assert.doesNotThrow(constructWith({ tagsRefresh: Duration.days(1) }));
  });

  it("rejects a token interval given in days (the binary has no day suffix)", () => {
    assert.throws(
      constructWith({ interval: Duration.days(Lazy.number({ produce: () => 1 })) }),
      /interval: a Duration whose amount is a token must be given in milliseconds, seconds, minutes or hours \(got Duration.days\)/,
    );
  });

  it("rejects a hard memory limit together with noMemoryLimit, and one that is not a whole number", () => {
    assert.throws(constructWith({ memoryLimitMiB: 128, noMemoryLimit: true }), /memoryLimitMiB and noMemoryLimit contradict each other; set one/);
    assert.throws(constructWith({ memoryLimitMiB: 0 }), /memoryLimitMiB 0 must be a whole number of MiB, at least 1/);
    assert.throws(constructWith({ memoryLimitMiB: 64.5 }), /memoryLimitMiB 64.5 must be a whole number of MiB/);
  });

  it("rejects a tag dimension that collides with a built-in dimension", () => {
    assert.throws(constructWith({ tagDimensions: ["ServiceName"] }), /tagDimensions: dimension name "ServiceName" collides/);
  });

  it("rejects a static dimension named like a metric", () => {
    assert.throws(constructWith({ staticDimensions: { CpuUtilized: "x" } }), /staticDimensions: dimension name "CpuUtilized" collides/);
  });

  it("rejects a static value the comma-separated rendering cannot carry", () => {
    assert.throws(constructWith({ staticDimensions: { team: "a,b" } }), /value of "team" must be 1-1024 characters without ","/);
  });

  it("rejects a metric pattern that matches no metric", () => {
    assert.throws(constructWith({ excludeMetrics: ["Gpu*"] }), /excludeMetrics: "Gpu\*" matches no metric/);
  });

  it("rejects maxLineBytes outside 1024..1048576", () => {
    assert.throws(constructWith({ maxLineBytes: 512 }), /maxLineBytes 512 must be a whole number from 1024 to 1048576/);
  });

  it("rejects extraEnvironment that redefines a managed variable", () => {
    assert.throws(constructWith({ extraEnvironment: { ECS_EMF_OUTPUT: "agent" } }), /extraEnvironment must not set ECS_EMF_OUTPUT/);
  });

  it("rejects more than 30 dimensions in a set", () => {
    const tagDimensions = Array.from({ length: 28 }, (_, index) => `tag${index}`);
    assert.throws(constructWith({ tagDimensions }), /a dimension set would have 31 dimensions; CloudWatch allows 30/);
  });

  it("rejects a dashboard period CloudWatch alarms cannot use", () => {
    assert.throws(
      constructWith({ dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api" }, period: Duration.seconds(45) } }),
      /dashboard.period 45 must be 10, 30 or a multiple of 60 seconds/,
    );
    assert.throws(
      constructWith({ dashboard: { dimensionValues: PROD_API, period: Duration.millis(10_500) } }),
      /dashboard.period 10.5 must be 10, 30 or a multiple of 60 seconds/,
    );
  });

  it("rejects a dashboard period whose amount is a token, which widgets and alarms need as a number", () => {
    assert.throws(
      constructWith({ dashboard: { dimensionValues: PROD_API, period: Duration.seconds(Lazy.number({ produce: () => 60 })) } }),
      /dashboard.period must be known at synth time \(a Duration whose amount is a token cannot be checked or rendered into widgets and alarms\)/,
    );
  });

  it("rejects a dashboard without a value for a dimension it queries", () => {
    assert.throws(
      constructWith({ tagDimensions: ["env"], dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api" } } }),
      /need a value for dimension "env" \(task level\); add it to dashboard.dimensionValues/,
    );
  });
});

describe("restart policy errors", () => {
  it("rejects an attempt period below 60 s", () => {
    assert.throws(
      constructWith({ restartPolicy: { restartAttemptPeriod: Duration.seconds(59) } }),
      /restartPolicy.restartAttemptPeriod 59 s must be a whole number of seconds from 60 to 1800/,
    );
  });

  it("rejects an attempt period above 1800 s", () => {
    assert.throws(
      constructWith({ restartPolicy: { restartAttemptPeriod: Duration.seconds(1801) } }),
      /restartPolicy.restartAttemptPeriod 1801 s must be a whole number of seconds from 60 to 1800/,
    );
  });

  it("rejects an attempt period that is not a whole number of seconds", () => {
    assert.throws(
      constructWith({ restartPolicy: { restartAttemptPeriod: Duration.millis(90_500) } }),
      /restartPolicy.restartAttemptPeriod 90.5 s must be a whole number of seconds/,
    );
  });

  it("rejects more than 50 ignored exit codes", () => {
    const ignoredExitCodes = Array.from({ length: 51 }, (_, index) => index);
    assert.throws(constructWith({ restartPolicy: { ignoredExitCodes } }), /restartPolicy.ignoredExitCodes has 51 exit codes; ECS accepts at most 50/);
  });

  it("accepts exactly 50 ignored exit codes", () => {
    const ignoredExitCodes = Array.from({ length: 50 }, (_, index) => index);
    assert.doesNotThrow(constructWith({ restartPolicy: { ignoredExitCodes } }));
  });

  it("rejects an exit code that is not an integer", () => {
    assert.throws(constructWith({ restartPolicy: { ignoredExitCodes: [0, 1.5] } }), /restartPolicy.ignoredExitCodes: 1.5 is not an integer exit code/);
  });

  it("checks the members even when the policy is disabled", () => {
    assert.throws(
      constructWith({ restartPolicy: { enabled: false, restartAttemptPeriod: Duration.seconds(59) } }),
      /restartAttemptPeriod 59 s/,
    );
  });
});

describe("no-data alarm errors", () => {
  const withEvaluationPeriods = (noDataEvaluationPeriods: number, interval?: Duration) =>
    constructWith({ ...(interval === undefined ? {} : { interval }), dashboard: { dimensionValues: PROD_API, noDataEvaluationPeriods } });

  for (const periods of [1, 0, 2.5]) {
    it(`rejects noDataEvaluationPeriods ${periods}`, () => {
      assert.throws(withEvaluationPeriods(periods), new RegExp(`dashboard.noDataEvaluationPeriods ${periods} must be a whole number of at least 2`));
    });
  }

  it("accepts noDataEvaluationPeriods 2", () => {
    assert.doesNotThrow(withEvaluationPeriods(2));
  });

  it("needs an interval known at synth time, whose period it follows", () => {
    const interval = Duration.seconds(Lazy.number({ produce: () => 60 }));
    assert.throws(withEvaluationPeriods(5, interval), /the no-data alarm's period follows interval, which must then be known at synth time/);
    assert.doesNotThrow(constructWith({ interval, dashboard: { dimensionValues: PROD_API, noDataAlarm: false } }));
  });

  it("rejects an evaluation range longer than a day (CloudWatch's limit)", () => {
    assert.throws(withEvaluationPeriods(25, Duration.hours(1)), /the no-data alarm would evaluate 25 periods of 3600 s; CloudWatch allows at most one day/);
    assert.doesNotThrow(withEvaluationPeriods(24, Duration.hours(1)));
  });
});
