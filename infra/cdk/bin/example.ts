// Example app: a Fargate service with the exporter sidecar (restart policy on by default), a tag
// and a static dimension, self metrics, a dashboard and alarms: CPU, memory, exporter errors,
// no data (on by default), restarts of app and the sidecar, exits of app, plus one alarm of its own made
// from a metric helper. A second stack runs the exporter in daemon mode instead: an EC2 cluster,
// an app service on it, and EcsEmfExporterDaemon (one exporter per instance) with a dashboard
// and alarms over that app service. Environment-agnostic (no account/region, no lookups), so
// `cdk synth` works offline and without credentials; check.sh lints what it synthesizes, and
// scripts/check-infra.sh drift-checks both templates (infra/tests/check_metric_drift.py).
// In your own app, import from the package instead: import { EcsEmfExporter, ExporterOutput } from "ecs-emf-exporter-cdk";
import { App, Duration, Stack, StackProps, Tags } from "aws-cdk-lib";
import * as autoscaling from "aws-cdk-lib/aws-autoscaling";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { EcsEmfExporter, EcsEmfExporterDaemon, ExporterOutput } from "../lib";

const SERVICE_NAME = "ecs-emf-exporter-demo";
// Where you pushed the exporter image (see the repository README); `cdk synth -c exporterImage=...`.
const DEFAULT_EXPORTER_IMAGE = "YOUR_REGISTRY/ecs-emf-exporter:0.1.0";

class ExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const exporterImage: string = this.node.tryGetContext("exporterImage") ?? DEFAULT_EXPORTER_IMAGE;

    // Public subnets only, no NAT gateway: the smallest network that can pull public images.
    const vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC }],
    });
    const cluster = new ecs.Cluster(this, "Cluster", { vpc });

    const taskDefinition = new ecs.FargateTaskDefinition(this, "TaskDefinition", { cpu: 256, memoryLimitMiB: 512 });
    // Added first: the exporter's dashboard lines default to the task's default container.
    taskDefinition.addContainer("app", {
      containerName: "app",
      image: ecs.ContainerImage.fromRegistry("public.ecr.aws/nginx/nginx:stable"),
      essential: true,
      portMappings: [{ containerPort: 80 }],
      // This is how an app container gets its restarts counted: ECS reports RestartCount (which
      // the exporter publishes as ContainerRestarts) only for a container with a restart policy,
      // so only then does the exporter's default give it a restart alarm. Exit 0 (a clean stop)
      // is not restarted; a container must have run 60 s before ECS restarts it.
      enableRestartPolicy: true,
      restartIgnoredExitCodes: [0],
      restartAttemptPeriod: Duration.seconds(60),
    });

    const alarmTopic = new sns.Topic(this, "AlarmTopic");
    const alarmAction = new cloudwatchActions.SnsAction(alarmTopic);
    const exporter = new EcsEmfExporter(this, "Exporter", {
      taskDefinition,
      image: ecs.ContainerImage.fromRegistry(exporterImage),
      output: ExporterOutput.CLOUDWATCH,
      tagDimensions: ["env"],
      // The exporter reads task tags itself; the tag reaches the task through propagateTags below.
      tagsFromApi: true,
      cluster,
      staticDimensions: { team: "payments" },
      selfMetrics: true,
      // restartPolicy is left at its default: enabled, exit 0 ignored, 60 s attempt period.
      dashboard: {
        dashboardName: "ecs-emf-exporter-demo",
        dimensionValues: { ClusterName: cluster.clusterName, ServiceName: SERVICE_NAME, env: "demo" },
        alarmActions: [alarmAction],
        // noDataAlarm (default true) and restartAlarmContainers (default: the containers above
        // with an enabled restart policy, here app and the sidecar) are left at their defaults.
        // "Fewer than 1 task reporting": metric math over RunningContainerCount samples (no extra
        // custom metric); the service's desiredCount below.
        minTasksReporting: 1,
        // An alarm on every exit of app (found STOPPED, or restarted): ContainerExits Sum >= 1 in
        // one period, missing data not breaching (no exit, no datapoint). No restart policy needed.
        exitAlarmContainers: ["app"],
      },
    });

    // An alarm of your own: the helper gives the namespace, the dimensions the exporter publishes
    // (values from dashboard.dimensionValues) and the published unit; a metric the settings do
    // not publish is refused at synth.
    exporter
      .metric("ExporterDroppedDatapoints", { statistic: "Sum" })
      .createAlarm(this, "DroppedDatapoints", {
        alarmDescription: "ecs-emf-exporter dropped datapoints in 3 consecutive periods",
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })
      .addAlarmAction(alarmAction);

    new ecs.FargateService(this, "Service", {
      cluster,
      taskDefinition,
      serviceName: SERVICE_NAME,
      desiredCount: 1,
      assignPublicIp: true,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    Tags.of(this).add("env", "demo");
  }
}

const DAEMON_APP_SERVICE_NAME = "ecs-emf-exporter-daemon-demo-app";

/** Daemon mode: one exporter per EC2 container instance, covering every task on it. */
class DaemonExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const exporterImage: string = this.node.tryGetContext("exporterImage") ?? DEFAULT_EXPORTER_IMAGE;

    const vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC }],
    });
    const cluster = new ecs.Cluster(this, "Cluster", { vpc });
    // The EC2 capacity: ECS-optimized Amazon Linux 2023 instances (the AMI ID is an SSM parameter
    // CloudFormation resolves, not a lookup), IMDSv2 only, no inbound rule.
    const launchTemplate = new ec2.LaunchTemplate(this, "LaunchTemplate", {
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
      instanceType: new ec2.InstanceType("t3.small"),
      // The capacity provider appends the ECS agent's cluster setting to it.
      userData: ec2.UserData.forLinux(),
      role: new iam.Role(this, "InstanceRole", { assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com") }),
      securityGroup: new ec2.SecurityGroup(this, "InstanceSecurityGroup", { vpc, allowAllOutbound: true }),
      associatePublicIpAddress: true,
      requireImdsv2: true,
    });
    const autoScalingGroup = new autoscaling.AutoScalingGroup(this, "Instances", {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate,
      minCapacity: 1,
      maxCapacity: 2,
    });
    cluster.addAsgCapacityProvider(
      // ECS drains an instance's tasks before the group terminates it (no drain-hook Lambda).
      new ecs.AsgCapacityProvider(this, "CapacityProvider", { autoScalingGroup, enableManagedTerminationProtection: false, enableManagedDraining: true }),
    );

    // The service the daemon's dashboard watches; the daemon covers every other task too.
    const appTaskDefinition = new ecs.Ec2TaskDefinition(this, "AppTaskDefinition");
    appTaskDefinition.addContainer("app", {
      containerName: "app",
      image: ecs.ContainerImage.fromRegistry("public.ecr.aws/nginx/nginx:stable"),
      essential: true,
      cpu: 256,
      memoryLimitMiB: 256,
      // ECS restarts it in place; the daemon cannot see those restarts (no ContainerRestarts).
      enableRestartPolicy: true,
      restartIgnoredExitCodes: [0],
      restartAttemptPeriod: Duration.seconds(60),
    });
    new ecs.Ec2Service(this, "AppService", {
      cluster,
      taskDefinition: appTaskDefinition,
      serviceName: DAEMON_APP_SERVICE_NAME,
      desiredCount: 1,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      // The service's tags reach its tasks, where the daemon reads them (tagDimensions below).
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    Tags.of(this).add("env", "demo");

    const alarmTopic = new sns.Topic(this, "AlarmTopic");
    new EcsEmfExporterDaemon(this, "ExporterDaemon", {
      cluster,
      image: ecs.ContainerImage.fromRegistry(exporterImage),
      // serviceFromApi is left at its default (true): ServiceName from ecs:DescribeTasks, granted
      // on this cluster's tasks only. EMF lines on stdout (the default output) need no other grant.
      staticDimensions: { team: "payments" },
      // Task tags come from the same ecs:DescribeTasks call as the service (tagsFromApi is
      // required with tagDimensions; it also grants ecs:ListTagsForResource on the tasks).
      tagDimensions: ["env"],
      tagsFromApi: true,
      // What daemon mode never publishes (docs/daemon.md, "What daemon mode cannot know":
      // ContainerRestarts, ImagePullTime, ClockErrorBound, the ephemeral storage and the
      // exporter's own metrics) the construct leaves out of its dashboard and alarms itself.
      dashboard: {
        dashboardName: "ecs-emf-exporter-daemon-demo",
        // ClusterName defaults to the cluster's name.
        dimensionValues: { ServiceName: DAEMON_APP_SERVICE_NAME, env: "demo" },
        // The daemon cannot see the app's task definition: its containers are named here.
        containerNames: ["app"],
        // An exit counts when a poll finds the container STOPPED. No restartAlarmContainers: the
        // daemon never publishes ContainerRestarts, and the construct refuses it.
        exitAlarmContainers: ["app"],
        minTasksReporting: 1,
        alarmActions: [new cloudwatchActions.SnsAction(alarmTopic)],
      },
    });
  }
}

const app = new App();
new ExampleStack(app, "EcsEmfExporterExample");
new DaemonExampleStack(app, "EcsEmfExporterDaemonExample");
app.synth();
