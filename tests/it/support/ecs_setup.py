#!/usr/bin/env python3
"""Creates, in a moto server, an ECS task carrying tags, and prints its task ARN.

  ecs_setup.py --endpoint MOTO_URL --cluster NAME --tag KEY=VALUE [--tag ...]

moto 5.2.5's run_task for the FARGATE launch type fails on its own ENI model, so the task
runs on a registered (simulated) EC2 container instance; ListTagsForResource does not care.
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


if __name__ == "__main__":
    main()
