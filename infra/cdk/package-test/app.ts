// A user's CDK app, compiled against the installed ecs-emf-exporter-cdk package (not lib/).
import { App, Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ecs from "aws-cdk-lib/aws-ecs";
import { EcsEmfExporter, ExporterOutput } from "ecs-emf-exporter-cdk";

const app = new App();
const stack = new Stack(app, "ConsumerStack");
const cluster = ecs.Cluster.fromClusterArn(stack, "Cluster", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod");
const taskDefinition = new ecs.FargateTaskDefinition(stack, "TaskDefinition");
taskDefinition.addContainer("app", {
  containerName: "app",
  image: ecs.ContainerImage.fromRegistry("public.ecr.aws/nginx/nginx:stable"),
  enableRestartPolicy: true,
  restartIgnoredExitCodes: [0],
  restartAttemptPeriod: Duration.seconds(60),
});
const exporter = new EcsEmfExporter(stack, "Exporter", {
  taskDefinition,
  image: ecs.ContainerImage.fromRegistry("registry.example/ecs-emf-exporter:0.1.0"),
  output: ExporterOutput.CLOUDWATCH,
  interval: Duration.seconds(30),
  tagsFromApi: true,
  cluster,
  dashboard: { dimensionValues: { ClusterName: "prod", ServiceName: "api" }, period: Duration.minutes(1), minTasksReporting: 2 },
});
exporter.metricMemoryUtilization({ statistic: "Maximum" }).createAlarm(stack, "MemoryPeak", {
  threshold: 95,
  evaluationPeriods: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
});
app.synth();
