// Task-role statements: exactly the contract's, and none at all when none is needed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { ExporterOutput } from "../lib";
import { taskArnPattern } from "../lib/ecs-emf-exporter";
import { addExporter, fargateFixture, synthExporter } from "./helpers";

const PROD_CLUSTER_ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";
/** A cluster known only by its ARN, as ecs.Cluster.fromClusterArn imports it (a literal ARN needs no stack of its own). */
const PROD_CLUSTER = ecs.Cluster.fromClusterArn(new Stack(), "Prod", PROD_CLUSTER_ARN);

/** The statements of policies attached to the task definition's task role. */
function taskRoleStatements(template: Template, stack: Stack, taskRole: iam.IRole): unknown[] {
  const roleId = stack.getLogicalId(taskRole.node.defaultChild as iam.CfnRole);
  return Object.values(template.findResources("AWS::IAM::Policy"))
    .map((policy) => (policy as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: unknown[] } } }).Properties)
    .filter((properties) => properties.Roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap((properties) => properties.PolicyDocument.Statement);
}

function statementsFor(props: Parameters<typeof synthExporter>[0]): unknown[] {
  const { template, fixture } = synthExporter(props);
  return taskRoleStatements(template, fixture.stack, fixture.taskDefinition.taskRole);
}

describe("task role", () => {
  it("gets no policy for stdout output (the default)", () => {
    assert.deepEqual(statementsFor({}), []);
  });

  it("gets no policy for agent output", () => {
    assert.deepEqual(statementsFor({ output: ExporterOutput.AGENT }), []);
  });

  it("gets exactly PutMetricData limited to the namespace for cloudwatch output", () => {
    assert.deepEqual(statementsFor({ output: ExporterOutput.CLOUDWATCH, namespace: "Shop/Tasks" }), [
      {
        Action: "cloudwatch:PutMetricData",
        Condition: { StringEquals: { "cloudwatch:namespace": "Shop/Tasks" } },
        Effect: "Allow",
        Resource: "*",
      },
    ]);
  });

  it("gets ListTagsForResource on the cluster's tasks only with tagsFromApi", () => {
    assert.deepEqual(statementsFor({ tagsFromApi: true, cluster: PROD_CLUSTER }), [
      { Action: "ecs:ListTagsForResource", Effect: "Allow", Resource: "arn:aws:ecs:eu-west-1:123456789012:task/prod/*" },
    ]);
  });

  it("gets both statements for cloudwatch output with tagsFromApi", () => {
    const statements = statementsFor({ output: ExporterOutput.CLOUDWATCH, tagsFromApi: true, cluster: PROD_CLUSTER }) as { Action: string }[];
    assert.deepEqual(
      statements.map((statement) => statement.Action),
      ["cloudwatch:PutMetricData", "ecs:ListTagsForResource"],
    );
  });

  it("keeps the execution role's awslogs grant, which CDK adds through the log driver", () => {
    const { template, exporter } = synthExporter();
    const logGroupId = Stack.of(exporter).getLogicalId(exporter.logGroup.node.defaultChild as logs.CfnLogGroup);
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: [
          { Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Effect: "Allow", Resource: { "Fn::GetAtt": [logGroupId, "Arn"] } },
        ],
      },
    });
  });
});

describe("taskArnPattern", () => {
  it("keeps the partition, region and account of the cluster ARN", () => {
    assert.equal(taskArnPattern("arn:aws-cn:ecs:cn-north-1:210987654321:cluster/batch"), "arn:aws-cn:ecs:cn-north-1:210987654321:task/batch/*");
  });

  it("derives the pattern from a token ARN at deploy time", () => {
    const fixture = fargateFixture();
    const cluster = new ecs.Cluster(fixture.stack, "Cluster");
    addExporter(fixture, { tagsFromApi: true, cluster });
    const template = Template.fromStack(fixture.stack);
    const [statement] = taskRoleStatements(template, fixture.stack, fixture.taskDefinition.taskRole) as { Resource: unknown }[];
    const rendered = JSON.stringify(statement?.Resource);
    assert.match(rendered, /"Fn::Join"/);
    assert.match(rendered, /":task\/"/);
    assert.match(rendered, /"\/\*"/);
  });

  it("rejects an ARN that is not a cluster's", () => {
    assert.throws(() => taskArnPattern("arn:aws:ecs:eu-west-1:123456789012:service/prod/api"), /not an ECS cluster ARN/);
  });
});
