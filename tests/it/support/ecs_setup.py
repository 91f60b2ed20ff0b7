#!/usr/bin/env python3
"""Creates, in a moto server, an ECS task carrying tags, and prints its task ARN.

  ecs_setup.py --endpoint MOTO_URL --cluster NAME --tag KEY=VALUE [--tag ...]
               [--service NAME --service-tasks N]

moto 5.2.5's run_task for the FARGATE launch type fails on its own ENI model, so the task
runs on a registered (simulated) EC2 container instance; ListTagsForResource does not care.

With --service, the cluster also gets the service NAME and N tasks of it, whose ARNs are
printed after the first one, one a line. moto's create_service starts no task (desiredCount
is only recorded), so they are started with RunTask and the `group` (`service:NAME`) and
`startedBy` the ECS service scheduler gives its tasks; DescribeTasks reports that group.
"""
import argparse
import json

import boto3
from moto.ec2 import utils as ec2_utils


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--tag", action="append", default=[])
    ap.add_argument("--service")
    ap.add_argument("--service-tasks", type=int, default=1)
    a = ap.parse_args()
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    ec2 = session.resource("ec2", endpoint_url=a.endpoint)
    ecs = session.client("ecs", endpoint_url=a.endpoint)
    instance = ec2.create_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)[0]
    document = json.dumps(ec2_utils.generate_instance_identity_document(instance))
    ecs.create_cluster(clusterName=a.cluster)
    ecs.register_container_instance(cluster=a.cluster, instanceIdentityDocument=document)
    ecs.register_task_definition(
        family="sim-app", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128, "cpu": 256}]
    )
    tags = [{"key": k, "value": v} for k, v in (t.split("=", 1) for t in a.tag)]
    answer = ecs.run_task(cluster=a.cluster, taskDefinition="sim-app", launchType="EC2", tags=tags)
    print(answer["tasks"][0]["taskArn"])
    if a.service:
        service_tasks(ecs, a.cluster, a.service, a.service_tasks)


def service_tasks(ecs, cluster, service, count):
    # Small tasks, so that a few hundred fit on the one (4096 CPU units, 7482 MiB) instance.
    ecs.register_task_definition(
        family="sim-svc", containerDefinitions=[{"name": "svc", "image": "nginx", "memory": 16, "cpu": 8}]
    )
    created = ecs.create_service(cluster=cluster, serviceName=service, taskDefinition="sim-svc", desiredCount=count)
    deployment = created["service"]["deployments"][0]["id"] if created["service"].get("deployments") else "1"
    started = 0
    while started < count:
        # RunTask starts at most 10 tasks a call.
        n = min(10, count - started)
        answer = ecs.run_task(
            cluster=cluster,
            taskDefinition="sim-svc",
            launchType="EC2",
            count=n,
            group=f"service:{service}",
            startedBy=f"ecs-svc/{deployment}",
        )
        if len(answer["tasks"]) != n:
            raise SystemExit(f"moto placed {len(answer['tasks'])} of {n} tasks: {answer.get('failures')}")
        for task in answer["tasks"]:
            print(task["taskArn"])
        started += n


if __name__ == "__main__":
    main()
