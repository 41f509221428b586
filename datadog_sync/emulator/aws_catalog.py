"""Fixed AWS catalogs: v1 tag-filter namespaces, log services (v1 and v2) and v1 namespace rules."""

from __future__ import annotations

# Enum of the v1 tag-filter namespaces, in the order the real GET /filtering lists them (recorded:
# TestAccDatadogIntegrationAwsTagFilter_Basic); step_functions, added later, from the v1 spec's AWSNamespace.
FILTER_NAMESPACES: tuple[str, ...] = (
    "elb",
    "application_elb",
    "sqs",
    "rds",
    "custom",
    "network_elb",
    "lambda",
    "step_functions",
)

# GET /api/v1/integration/aws/logs/services, recorded 2024-04-16 (TestAccDatadogIntegrationAWSLogsServicesDatasource).
LOG_SERVICES: tuple[tuple[str, str], ...] = (
    ("apigw-access-logs", "API Gateway Access Logs"),
    ("apigw-execution-logs", "API Gateway Execution Logs"),
    ("elbv2", "Application ELB Access Logs"),
    ("elb", "Classic ELB Access Logs"),
    ("cloudfront", "CloudFront Access Logs"),
    ("lambda", "Lambda Cloudwatch Logs"),
    ("redshift", "Redshift Logs"),
    ("s3", "S3 Access Logs"),
    ("states", "Step Functions CloudWatch Logs"),
    ("waf", "Web Application Firewall Logs"),
)
LOG_SERVICE_IDS: frozenset[str] = frozenset(sid for sid, _ in LOG_SERVICES)

# GET /api/v1/integration/aws/available_namespace_rules, recorded 2024-04-16
# (TestAccDatadogIntegrationAWSNamespaceRulesDatasource cassette, terraform-provider-datadog).
NAMESPACE_RULES: tuple[str, ...] = tuple(
    """api_gateway application_elb apprunner appstream appsync athena auto_scaling backup bedrock billing budgeting
    certificatemanager cloudfront cloudhsm cloudsearch cloudwatch_events cloudwatch_logs codebuild codewhisperer
    cognito collect_custom_metrics connect crawl_alarms directconnect dms documentdb dynamodb dynamodbaccelerator ebs
    ec2 ec2api ec2spot ecr ecs efs elasticache elasticbeanstalk elasticinference elastictranscoder elb emr es firehose
    fsx gamelift globalaccelerator glue inspector iot keyspaces kinesis kinesis_analytics kms lambda lex mediaconnect
    mediaconvert medialive mediapackage mediastore mediatailor memorydb ml mq msk mwaa nat_gateway neptune network_elb
    networkfirewall networkmonitor opsworks polly privatelinkendpoints privatelinkservices rds rdsproxy redshift
    rekognition route53 route53resolver s3 s3storagelens sagemaker sagemakerendpoints sagemakerlabelingjobs
    sagemakermodelbuildingpipeline sagemakerprocessingjobs sagemakertrainingjobs sagemakertransformjobs
    sagemakerworkteam service_quotas ses shield sns sqs step_functions storage_gateway swf textract transitgateway
    translate trusted_advisor usage vpn waf wafv2 workspaces xray""".split()
)

#: GET /api/v2/integration/aws/logs/services, recorded 2024-12 (terraform-provider-datadog cassette
#: `TestAccDatadogIntegrationAWSAvailableLogsServicesDatasource`): v1's ids plus cloudtrail, lambda-edge and ssm.
V2_LOGS_SERVICES: tuple[str, ...] = tuple(
    "apigw-access-logs apigw-execution-logs cloudfront cloudtrail elb elbv2 lambda lambda-edge redshift s3 ssm states "
    "waf".split()
)
