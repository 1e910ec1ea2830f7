"""The data bucket: private, encrypted, versioned, logged, and removed or kept per stage."""

from aws_cdk.assertions import Match


def data_bucket(template):
    buckets = template.find_resources(
        "AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": Match.any_value()}}
    )
    assert len(buckets) == 1
    return next(iter(buckets.items()))


def test_data_bucket_logical_id_is_pinned_because_changing_it_replaces_the_bucket(dev, prod):
    for synthesized in (dev, prod):
        logical_id, _ = data_bucket(synthesized.storage)
        assert logical_id == "DataBucketE6B0FAA8"


def test_data_bucket_blocks_all_public_access(dev):
    _, bucket = data_bucket(dev.storage)
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_data_bucket_is_encrypted(dev):
    _, bucket = data_bucket(dev.storage)
    rules = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_data_bucket_denies_requests_without_tls(dev):
    logical_id, _ = data_bucket(dev.storage)
    dev.storage.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": logical_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_data_bucket_writes_server_access_logs_to_the_log_bucket(dev):
    _, bucket = data_bucket(dev.storage)
    logging = bucket["Properties"]["LoggingConfiguration"]
    assert logging["LogFilePrefix"] == "data-bucket/"
    assert logging["DestinationBucketName"]["Ref"].startswith("DataAccessLogBucket")


def test_data_bucket_expires_old_versions_sooner_in_dev_than_in_prod(dev, prod):
    def noncurrent_days(synthesized):
        _, bucket = data_bucket(synthesized.storage)
        rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        (rule,) = [r for r in rules if r["Id"] == "ExpireOldVersions"]
        return rule["NoncurrentVersionExpiration"]["NoncurrentDays"]

    assert noncurrent_days(dev) == 7
    assert noncurrent_days(prod) == 90


def test_dev_bucket_is_emptied_and_deleted_on_destroy(dev):
    _, bucket = data_bucket(dev.storage)
    assert bucket["DeletionPolicy"] == "Delete"
    dev.storage.resource_count_is("Custom::S3AutoDeleteObjects", 2)


def test_prod_bucket_is_retained_on_destroy(prod):
    _, bucket = data_bucket(prod.storage)
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    prod.storage.resource_count_is("Custom::S3AutoDeleteObjects", 0)


def test_storage_stack_outputs_the_bucket_name(dev):
    logical_id, _ = data_bucket(dev.storage)
    dev.storage.has_output("DataBucketName", {"Value": {"Ref": logical_id}})


def test_no_bucket_has_a_physical_name(dev, prod):
    for synthesized in (dev, prod):
        for bucket in synthesized.storage.find_resources("AWS::S3::Bucket").values():
            assert "BucketName" not in bucket["Properties"]
