# The same sidecar as one entry of the container_definitions map of terraform-aws-modules/ecs's
# service submodule ("terraform-aws-modules/ecs/aws//modules/service"), major version 6.
#
# Since 6.0.0 (2025-07-07) that map takes the ECS API's own camelCase keys (readonlyRootFilesystem,
# memoryReservation, mountPoints, logConfiguration, healthCheck, restartPolicy, ...) next to the
# snake_case log group settings (create_cloudwatch_log_group, cloudwatch_log_group_*); 5.x took
# snake_case keys (readonly_root_filesystem, ...) and passed no restart policy at all. Key names
# checked against terraform-aws-ecs modules/service/variables.tf (commit 00f040dd8a63b3eb826b2a7121fcb824b9f09f99,
# the container_definitions object type) and modules/container-definition/variables.tf and main.tf
# (commit 054ad891744dd9fc1ba3f8216e52c2387e841186), both of the 6.x line. Facts used from them:
#   - the entry's name defaults to its map key; an unknown key is dropped by the object type, so a
#     misspelt key would vanish silently (the tests pin every key emitted here);
#   - create_cloudwatch_log_group defaults to true there and would create a second, unused log group
#     (/aws/ecs/SERVICE/NAME); this module owns the sidecar's group, so it is set to false, and
#     logConfiguration is then used exactly as given;
#   - restartPolicy defaults to { enabled = true } there, so a disabled policy must be sent as
#     { enabled = false } rather than left out;
#   - the task volume is the service's `volume` map ({ (volume_name) = {} }), not part of the entry.
locals {
  service_container_definition = merge(
    local.container_definition,
    # container_definition leaves restartPolicy out when it is disabled; here it must say so.
    { for key, value in { restartPolicy = { enabled = false } } : key => value if !var.restart_policy.enabled },
    # This module creates (or was given) the log group the awslogs options name.
    { create_cloudwatch_log_group = false },
  )
}
