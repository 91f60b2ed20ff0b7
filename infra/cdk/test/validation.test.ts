// Settings the exporter would reject at start-up fail at synth time, with a message naming them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExtraProps, addExporter, fargateFixture } from "./helpers";

function constructWith(props: ExtraProps): () => void {
  return () => addExporter(fargateFixture(), props);
}

describe("construction errors", () => {
  it("rejects an unknown output", () => {
    // A JavaScript caller (or an `as` cast) can get past the string-literal type.
    assert.throws(constructWith({ output: "firehose" as "stdout" }), /output "firehose" must be one of stdout, agent, cloudwatch/);
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

  it("rejects tagsFromApi without clusterArn", () => {
    assert.throws(constructWith({ tagsFromApi: true }), /tagsFromApi needs clusterArn/);
  });

  for (const interval of ["0s", "2h", "1.5m", "60 seconds", ""]) {
    it(`rejects interval "${interval}"`, () => {
      assert.throws(constructWith({ interval }), /interval ".*" must be a duration from 1s to 1h/);
    });
  }

  for (const interval of ["1s", "90s", "5m", "1h", "1500ms", "30"]) {
    it(`accepts interval "${interval}" (the binary's forms)`, () => {
      assert.doesNotThrow(constructWith({ interval }));
    });
  }

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
      constructWith({ dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api" }, period: 45 } }),
      /dashboard.period 45 must be 10, 30 or a multiple of 60 seconds/,
    );
  });

  it("rejects a dashboard without a value for a dimension it queries", () => {
    assert.throws(
      constructWith({ tagDimensions: ["env"], dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api" } } }),
      /need a value for dimension "env" \(task level\); add it to dashboard.dimensionValues/,
    );
  });
});
