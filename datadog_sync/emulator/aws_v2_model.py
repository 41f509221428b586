"""How the v2 AWS accounts API sees the one per-org account store that the v1 API also uses. No HTTP here.

Fields both generations have live once, in the v1 shape (`AwsAccount.settings`, tag filters, logs); v2 derives its
view from them, following what the recorded v2 list shows for accounts created through v1
(datadog-api-client-python cassette `test_list_all_aws_integrations_returns_aws_accounts_list_object_response`).
What only v2 has, or what v2 states more precisely than v1 can (an `include_only` region list, namespace filters),
lives in `AwsAccount.v2` and wins until a v1 write of the matching v1 field (see `AwsAccount.apply_settings`).
"""

from __future__ import annotations

import copy
from typing import Any

from datadog_sync.emulator.aws_catalog import V2_LOGS_SERVICES
from datadog_sync.emulator.state import FILTER_NAMESPACES, AwsAccount

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

#: Every region of the `aws` partition, in the order the recorded v2 list spells `include_only` for a v1 account
#: that excluded us-east-1 and us-west-2 (cassette named in the module docstring).
ALL_REGIONS: tuple[str, ...] = tuple(
    """us-east-1 us-east-2 us-west-1 us-west-2 eu-west-1 eu-central-1 ap-southeast-1 ap-southeast-2 ap-northeast-1
    ap-northeast-2 ap-northeast-3 sa-east-1 ap-south-1 ca-central-1 eu-west-2 eu-west-3 eu-north-1 af-south-1
    ap-east-1 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ca-west-1 eu-central-2 eu-south-1 eu-south-2
    il-central-1 me-central-1 me-south-1""".split()
)

#: GET /api/v2/integration/aws/available_namespaces, recorded 2025-08-06 (datadog-api-client-python cassette
#: `test_list_available_namespaces_returns_aws_namespaces_list_object_response`), in its order.
AVAILABLE_NAMESPACES: tuple[str, ...] = tuple(
    """AWS/ApiGateway|AWS/AppRunner|AWS/AppStream|AWS/AppSync|AWS/ApplicationELB|AWS/Athena|AWS/AutoScaling|AWS/Backup
    |AWS/Bedrock|AWS/Billing|AWS/Budgeting|AWS/CertificateManager|AWS/ELB|AWS/CloudFront|AWS/CloudHSM|AWS/CloudSearch
    |AWS/Logs|AWS/CodeBuild|AWS/CodeWhisperer|AWS/Cognito|AWS/Config|AWS/Connect|AWS/DMS|AWS/DX|AWS/DocDB
    |AWS/DynamoDB|AWS/DAX|AWS/EC2|AWS/EC2/API|AWS/EC2/InfrastructurePerformance|AWS/EC2Spot|AWS/ElasticMapReduce
    |AWS/ElastiCache|AWS/ElasticBeanstalk|AWS/EBS|AWS/ECR|AWS/ECS|AWS/EFS|AWS/ElasticInference|AWS/ElasticTranscoder
    |AWS/MediaConnect|AWS/MediaConvert|AWS/MediaLive|AWS/MediaPackage|AWS/MediaStore|AWS/MediaTailor|AWS/Events
    |AWS/EventBridge/Pipes|AWS/Scheduler|AWS/FSx|AWS/GameLift|AWS/GlobalAccelerator|Glue|AWS/Inspector|AWS/IoT|AWS/KMS
    |AWS/Cassandra|AWS/Kinesis|AWS/KinesisAnalytics|AWS/Firehose|AWS/Lambda|AWS/Lex|AWS/AmazonMQ|AWS/ML|AWS/Kafka
    |AmazonMWAA|AWS/MemoryDB|AWS/NATGateway|AWS/Neptune|AWS/NetworkFirewall|AWS/NetworkELB|AWS/Network Manager
    |AWS/NetworkMonitor|AWS/ES|AWS/AOSS|AWS/OpsWorks|AWS/PCS|AWS/Polly|AWS/PrivateLinkEndpoints
    |AWS/PrivateLinkServices|AWS/RDS|AWS/RDS/Proxy|AWS/Redshift|AWS/Rekognition|AWS/Route53|AWS/Route53Resolver
    |AWS/S3|AWS/S3/Storage-Lens|AWS/SageMaker|/aws/sagemaker/Endpoints|AWS/Sagemaker/LabelingJobs
    |AWS/Sagemaker/ModelBuildingPipeline|/aws/sagemaker/ProcessingJobs|/aws/sagemaker/TrainingJobs
    |/aws/sagemaker/TransformJobs|AWS/SageMaker/Workteam|AWS/ServiceQuotas|AWS/DDoSProtection|AWS/SES|AWS/SNS|AWS/SQS
    |AWS/SWF|AWS/States|AWS/StorageGateway|AWS/Textract|AWS/TransitGateway|AWS/Translate|AWS/TrustedAdvisor|AWS/Usage
    |AWS/VPN|WAF|AWS/WAFV2|AWS/WorkSpaces|AWS/X-Ray""".replace("\n", "").replace("    ", "").split("|")
)

LOGS_SERVICES = V2_LOGS_SERVICES

#: The server default when a create leaves `namespace_filters` out (cassette
#: `test_create_an_aws_account_returns_aws_account_object_response`, 2025-08-06: two namespaces, not the spec's three).
DEFAULT_NAMESPACE_EXCLUDES = ("AWS/SQS", "AWS/ElasticMapReduce")

#: v1 namespace rules that v2 shows as excluded namespaces when set to false. Only `auto_scaling` is recorded
#: (the list cassette above); the others follow the same naming and are an inference.
RULE_NAMESPACES = {
    "api_gateway": "AWS/ApiGateway",
    "application_elb": "AWS/ApplicationELB",
    "auto_scaling": "AWS/AutoScaling",
    "cloudfront": "AWS/CloudFront",
    "dynamodb": "AWS/DynamoDB",
    "ebs": "AWS/EBS",
    "ec2": "AWS/EC2",
    "ecs": "AWS/ECS",
    "elasticache": "AWS/ElastiCache",
    "elb": "AWS/ELB",
    "emr": "AWS/ElasticMapReduce",
    "firehose": "AWS/Firehose",
    "kinesis": "AWS/Kinesis",
    "lambda": "AWS/Lambda",
    "network_elb": "AWS/NetworkELB",
    "rds": "AWS/RDS",
    "redshift": "AWS/Redshift",
    "s3": "AWS/S3",
    "sns": "AWS/SNS",
    "sqs": "AWS/SQS",
    "states": "AWS/States",
    "usage": "AWS/Usage",
}

#: v1 `/filtering` namespaces and the CloudWatch namespace v2 files them under (inferred; `custom` has none).
FILTER_TO_CLOUDWATCH = {
    "elb": "AWS/ELB",
    "application_elb": "AWS/ApplicationELB",
    "sqs": "AWS/SQS",
    "rds": "AWS/RDS",
    "network_elb": "AWS/NetworkELB",
    "lambda": "AWS/Lambda",
    "step_functions": "AWS/States",
}
CLOUDWATCH_TO_FILTER = {v: k for k, v in FILTER_TO_CLOUDWATCH.items()}


class Invalid(ValueError):
    """A v2 attribute is malformed: `field` is its dot path, the message what is wrong (the 400's `meta`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- the view ------------------------------------------------------------------------------------------------------


def attributes(acc: AwsAccount) -> dict[str, Any]:
    """`data.attributes` of the account as GET shows it (key order as recorded; never the secret)."""
    s, v2 = acc.settings, acc.v2
    auth: dict[str, Any] = (
        {"access_key_id": acc.access_key_id}
        if acc.is_key_account
        else {"role_name": acc.role_name, "external_id": acc.external_id}
    )
    metrics: dict[str, Any] = {
        "enabled": s["metrics_collection_enabled"],
        "automute_enabled": v2.get("automute_enabled", True),
        "collect_custom_metrics": v2.get(
            "collect_custom_metrics", s["account_specific_namespace_rules"].get("collect_custom_metrics", False)
        ),
        "collect_cloudwatch_alarms": v2.get(
            "collect_cloudwatch_alarms", s["account_specific_namespace_rules"].get("crawl_alarms", False)
        ),
        "tag_filters": _metric_tag_filters(acc),
        "namespace_filters": copy.deepcopy(v2.get("namespace_filters") or _derived_namespace_filters(acc)),
    }
    if "metric_name_filters" in v2:  # shown once set (TF cassette TestAccIntegrationAwsAccount_RoleBased)
        metrics["metric_name_filters"] = copy.deepcopy(v2["metric_name_filters"])
    return {
        "account_tags": list(s["host_tags"]),
        "auth_config": auth,
        "aws_account_id": acc.account_id or "",
        "aws_partition": acc.aws_partition,
        "aws_regions": copy.deepcopy(v2.get("aws_regions") or _derived_regions(acc)),
        "created_at": acc.created_at,
        "logs_config": {
            "lambda_forwarder": {
                "lambdas": list(acc.lambdas),
                "sources": list(acc.log_services),
                "log_source_config": {"tag_filters": copy.deepcopy(v2.get("log_tag_filters", []))},
            }
        },
        "metrics_config": metrics,
        "modified_at": acc.modified_at,
        "resources_config": {
            "cloud_security_posture_management_collection": s["cspm_resource_collection_enabled"],
            "extended_collection": s["extended_resource_collection_enabled"],
        },
        "traces_config": {"xray_services": copy.deepcopy(v2.get("xray_services", {"include_only": []}))},
    }


def _derived_regions(acc: AwsAccount) -> dict[str, Any]:
    excluded = set(acc.settings["excluded_regions"])
    if not excluded:
        return {"include_all": True}
    return {"include_only": [r for r in ALL_REGIONS if r not in excluded]}


def _derived_namespace_filters(acc: AwsAccount) -> dict[str, Any]:
    rules = acc.settings["account_specific_namespace_rules"]
    off = {RULE_NAMESPACES[r] for r, on in rules.items() if on is False and r in RULE_NAMESPACES}
    if not off - set(DEFAULT_NAMESPACE_EXCLUDES):
        return {"exclude_only": list(DEFAULT_NAMESPACE_EXCLUDES)}
    return {"exclude_only": sorted(off | set(DEFAULT_NAMESPACE_EXCLUDES))}  # sorted, as recorded


def _metric_tag_filters(acc: AwsAccount) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if acc.settings["filter_tags"]:
        out.append({"namespace": "AWS/EC2", "tags": list(acc.settings["filter_tags"])})
    for ns in FILTER_NAMESPACES:
        if ns in FILTER_TO_CLOUDWATCH and acc.tag_filters.get(ns) is not None:
            tags = [t.strip() for t in acc.tag_filters[ns].split(",") if t.strip()]
            out.append({"namespace": FILTER_TO_CLOUDWATCH[ns], "tags": tags})
    out.extend(copy.deepcopy(acc.v2.get("other_tag_filters", [])))
    return out


# --- applying a request's attributes -------------------------------------------------------------------------------


def _strs(path: str, value: Any, nullable: bool = False) -> list[str]:
    if value is None and nullable:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(path, "expected a list of strings")
    return list(value)


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(path, "expected a boolean")
    return value


def _obj(path: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(path, "expected an object")
    return value


def _one_of(path: str, value: Any, allowed: dict[str, str]) -> dict[str, Any]:
    """An `{include_all: bool}` / `{include_only: [...]}` style oneOf: exactly one key, of the given kind."""
    value = _obj(path, value)
    if len(value) != 1 or next(iter(value)) not in allowed:
        raise Invalid(path, f"expected exactly one of {sorted(allowed)}")
    key, item = next(iter(value.items()))
    return {key: _bool(f"{path}.{key}", item) if allowed[key] == "bool" else _strs(f"{path}.{key}", item)}


def _tag_filters(path: str, value: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise Invalid(path, "expected a list")
    out = []
    for i, item in enumerate(value):
        item = _obj(f"{path}[{i}]", item)
        if not isinstance(item.get(key), str):
            raise Invalid(f"{path}[{i}].{key}", "expected a string")
        out.append({key: item[key], "tags": _strs(f"{path}[{i}].tags", item.get("tags"), nullable=True)})
    return out


def apply(acc: AwsAccount, attrs: dict[str, Any]) -> None:
    """Set every attribute present; sub-objects and fields left out are kept (PATCH semantics, recorded in
    datadog-api-client-python cassette `test_update_an_aws_integration_returns_aws_account_object_response`).
    Raises Invalid; the caller works on a copy so that a rejected request changes nothing."""
    s, v2 = acc.settings, acc.v2
    if "aws_partition" in attrs:
        if attrs["aws_partition"] not in PARTITIONS:
            raise Invalid("aws_partition", f"invalid partition: {attrs['aws_partition']}")
        acc.aws_partition = attrs["aws_partition"]
    if "account_tags" in attrs:
        s["host_tags"] = _strs("account_tags", attrs["account_tags"], nullable=True)
    if "aws_regions" in attrs:
        regions = _one_of("aws_regions", attrs["aws_regions"], {"include_all": "bool", "include_only": "list"})
        keep = set(regions.get("include_only", ALL_REGIONS if regions.get("include_all") else ()))
        s["excluded_regions"] = [r for r in ALL_REGIONS if r not in keep]
        v2["aws_regions"] = regions
    _apply_logs(acc, _obj("logs_config", attrs.get("logs_config", {})))
    _apply_metrics(acc, _obj("metrics_config", attrs.get("metrics_config", {})))
    resources = _obj("resources_config", attrs.get("resources_config", {}))
    for name, v1_name in (
        ("cloud_security_posture_management_collection", "cspm_resource_collection_enabled"),
        ("extended_collection", "extended_resource_collection_enabled"),
    ):
        if name in resources:
            s[v1_name] = _bool(f"resources_config.{name}", resources[name])
    traces = _obj("traces_config", attrs.get("traces_config", {}))
    if traces.get("xray_services") is not None:
        v2["xray_services"] = _one_of(
            "traces_config.xray_services", traces["xray_services"], {"include_all": "bool", "include_only": "list"}
        )


def _apply_logs(acc: AwsAccount, logs: dict[str, Any]) -> None:
    forwarder = _obj("logs_config.lambda_forwarder", logs.get("lambda_forwarder", {}))
    path = "logs_config.lambda_forwarder"
    if "lambdas" in forwarder:
        acc.lambdas = _strs(f"{path}.lambdas", forwarder["lambdas"], nullable=True)
    if "sources" in forwarder:
        sources = _strs(f"{path}.sources", forwarder["sources"], nullable=True)
        unknown = [x for x in sources if x not in LOGS_SERVICES]
        if unknown:
            raise Invalid(f"{path}.sources", f"invalid sources: [{' '.join(unknown)}]")  # assumed wording
        acc.log_services = list(dict.fromkeys(sources))
    config = _obj(f"{path}.log_source_config", forwarder.get("log_source_config", {}))
    if "tag_filters" in config:
        filters = config["tag_filters"]
        acc.v2["log_tag_filters"] = _tag_filters(f"{path}.log_source_config.tag_filters", filters or [], "source")


def _apply_metrics(acc: AwsAccount, metrics: dict[str, Any]) -> None:
    s, v2 = acc.settings, acc.v2
    if "enabled" in metrics:
        s["metrics_collection_enabled"] = _bool("metrics_config.enabled", metrics["enabled"])
    for name in ("automute_enabled", "collect_custom_metrics", "collect_cloudwatch_alarms"):
        if name in metrics:
            v2[name] = _bool(f"metrics_config.{name}", metrics[name])
    if metrics.get("namespace_filters") is not None:
        path = "metrics_config.namespace_filters"
        filters = _one_of(path, metrics["namespace_filters"], {"include_only": "list", "exclude_only": "list"})
        key, names = next(iter(filters.items()))
        unknown = [n for n in names if n not in AVAILABLE_NAMESPACES]
        if unknown:  # the recorded wording (TF GH#3961)
            raise Invalid(f"{path}.{key}", f"invalid namespaces: [{' '.join(unknown)}]")
        v2["namespace_filters"] = filters
    if "tag_filters" in metrics:
        tag_filters = _tag_filters("metrics_config.tag_filters", metrics["tag_filters"] or [], "namespace")
        s["filter_tags"], others = [], []
        acc.tag_filters = {k: v for k, v in acc.tag_filters.items() if k not in FILTER_TO_CLOUDWATCH}
        for item in tag_filters:
            if item["namespace"] == "AWS/EC2":
                s["filter_tags"] = item["tags"]
            elif item["namespace"] in CLOUDWATCH_TO_FILTER:
                acc.tag_filters[CLOUDWATCH_TO_FILTER[item["namespace"]]] = ",".join(item["tags"])
            else:
                others.append(item)
        v2["other_tag_filters"] = others
    if "metric_name_filters" in metrics:
        v2["metric_name_filters"] = _metric_name_filters(metrics["metric_name_filters"] or [])
    elif metrics:
        # Unlike the other fields, a metrics_config sent without it drops it: TF's "back to defaults" PATCH
        # (TestAccIntegrationAwsAccount_RoleBased interaction 6) gets an answer without metric_name_filters.
        v2.pop("metric_name_filters", None)


def _metric_name_filters(value: Any) -> list[dict[str, Any]]:
    path = "metrics_config.metric_name_filters"
    if not isinstance(value, list):
        raise Invalid(path, "expected a list")
    out = []
    for i, item in enumerate(value):
        item = _obj(f"{path}[{i}]", item)
        modes = [k for k in ("include_only", "exclude_only") if k in item]
        if not isinstance(item.get("namespace"), str) or len(modes) != 1 or set(item) - {"namespace", *modes}:
            # "Exactly one of include_only or exclude_only must be set on each filter" (the v2 model's docs).
            raise Invalid(f"{path}[{i}]", "exactly one of include_only or exclude_only must be set")
        out.append({"namespace": item["namespace"], modes[0]: _strs(f"{path}[{i}].{modes[0]}", item[modes[0]])})
    return out
