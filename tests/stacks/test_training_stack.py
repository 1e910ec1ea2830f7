"""The training stack: a declared workflow that checks data, trains on spot GPUs, gates and registers."""

import json
import subprocess
import sys

import pytest
from stack_synthesis import synthesize

from core import hyperparameters, layout
from core.json_path import JsonPath
from core.model_package import ModelPackageSpec, create_model_package_request
from core.stage_config import stage_config
from core.training_job import TrainingJobSpec, create_training_job_request


def only(template, resource_type):
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {len(resources)}"
    return next(iter(resources.items()))


def definition(template) -> dict:
    """The state machine definition, with every CloudFormation expression replaced by a marker."""
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "<ref>" for p in parts))


def statements(template, logical_id_prefix):
    (policy,) = [
        p
        for lid, p in template.find_resources("AWS::IAM::Policy").items()
        if lid.startswith(logical_id_prefix)
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def with_action(statements_, action):
    found = [
        s for s in statements_ if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert found, f"no statement allows {action}"
    return found


def test_workflow_checks_data_trains_gates_and_registers_in_that_order(dev):
    states = definition(dev.training)
    assert definition(dev.training)["StartAt"] == "CheckData"
    assert states["States"]["CheckData"]["Next"] == "Train"
    assert states["States"]["Train"]["Next"] == "ReadAccuracy"
    assert states["States"]["ReadAccuracy"]["Next"] == "AccuracyGate"
    assert states["States"]["AccuracyGate"]["Default"] == "AccuracyBelowThreshold"
    assert states["States"]["RegisterModel"]["Next"] == "Registered"


def test_data_check_carries_the_hyperparameter_defaults_and_the_instance_bound(dev):
    payload = definition(dev.training)["States"]["CheckData"]["Parameters"]
    assert payload["defaults"] == hyperparameters.DEFAULTS
    assert payload["defaults"]["learning_rate"] == "0.0005"
    assert payload["defaults"]["augmentation_type"] == "crop_color_transform"
    assert payload["maxInstanceCount"] == 4


def test_training_waits_for_the_job_and_uses_the_checked_hyperparameters_and_channels(dev):
    train = definition(dev.training)["States"]["Train"]
    assert train["Resource"].endswith(":states:::sagemaker:createTrainingJob.sync")
    assert train["Parameters"]["HyperParameters.$"] == "$.prepared.hyperParameters"
    assert train["Parameters"]["InputDataConfig.$"] == "$.prepared.channels"
    assert train["Parameters"]["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    assert train["Parameters"]["ResourceConfig"]["InstanceCount.$"] == "$.prepared.instanceCount"


@pytest.mark.parametrize(("stage", "runtime_hours", "wait_hours"), [("dev", 6, 12), ("prod", 8, 16)])
def test_training_runs_on_spot_with_checkpoints_and_bounded_time(stage, runtime_hours, wait_hours):
    parameters = definition(synthesize(stage).training)["States"]["Train"]["Parameters"]
    assert parameters["EnableManagedSpotTraining"] is True
    assert parameters["StoppingCondition"] == {
        "MaxRuntimeInSeconds": runtime_hours * 3600,
        "MaxWaitTimeInSeconds": wait_hours * 3600,
    }
    assert parameters["CheckpointConfig"] == {"S3Uri.$": "$.prepared.checkpointUri"}


def test_training_jobs_are_tagged_so_status_stop_and_destroy_find_them(dev):
    parameters = definition(dev.training)["States"]["Train"]["Parameters"]
    assert parameters["Tags"] == layout.job_tags("dev")


@pytest.mark.parametrize(("stage", "threshold"), [("dev", 0.5), ("prod", 0.8)])
def test_gate_registers_only_models_at_or_above_the_stage_accuracy(stage, threshold):
    states = definition(synthesize(stage).training)["States"]
    assert "validation:accuracy" in states["ReadAccuracy"]["Parameters"]["accuracy.$"]
    (choice,) = states["AccuracyGate"]["Choices"]
    assert choice["And"] == [
        {"Variable": "$.metric.accuracy[0]", "IsPresent": True},
        {"Variable": "$.metric.accuracy[0]", "NumericGreaterThanEquals": threshold},
    ]
    assert choice["Next"] == "RegisterModel"


def test_registered_model_carries_its_artifact_and_accuracy(dev):
    register = definition(dev.training)["States"]["RegisterModel"]
    parameters = register["Parameters"]
    assert register["Resource"].endswith(":states:::aws-sdk:sagemaker:createModelPackage")
    (container,) = parameters["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl.$"] == "$.training.ModelArtifacts.S3ModelArtifacts"
    assert "validationAccuracy.$" in parameters["CustomerMetadataProperties"]
    assert parameters["ModelPackageGroupName"] == "DogBreeds-dev-Training"


def test_failures_end_in_named_fail_states(dev):
    states = definition(dev.training)["States"]
    assert states["CheckData"]["Catch"][0]["Next"] == "DataCheckFailed"
    assert states["Train"]["Catch"][0]["Next"] == "TrainingFailed"
    assert {states[n]["Type"] for n in ("DataCheckFailed", "TrainingFailed", "AccuracyBelowThreshold")} == {
        "Fail"
    }


def test_state_machine_logs_all_events_and_traces(dev):
    _, machine = only(dev.training, "AWS::StepFunctions::StateMachine")
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["Properties"]["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}


def test_state_machine_may_run_only_this_stage_jobs_and_pass_only_the_training_role(dev):
    policy = statements(dev.training, "WorkflowStateMachineRoleDefaultPolicy")
    (create,) = with_action(policy, "sagemaker:CreateTrainingJob")
    assert json.dumps(create["Resource"]).endswith(':training-job/dogbreeds-dev-*"]]}')
    (pass_role,) = with_action(policy, "iam:PassRole")
    assert pass_role["Resource"]["Fn::GetAtt"][0].startswith("WorkflowTrainingRole")


def test_training_role_reads_datasets_and_writes_only_under_training(dev):
    policy = statements(dev.training, "WorkflowTrainingRoleDefaultPolicy")
    writes = with_action(policy, "s3:PutObject")
    written = json.dumps([s["Resource"] for s in writes])
    assert "/training/output/*" in written and "/training/checkpoints/*" in written
    assert "/datasets/" not in written
    reads = json.dumps([s["Resource"] for s in with_action(policy, "s3:GetObject*")])
    assert "/datasets/*" in reads


def test_destroy_stops_the_workflow_runs_and_the_stage_tagged_jobs(dev):
    (resource,) = dev.training.find_resources("Custom::StopTrainingOnDelete").values()
    assert resource["Properties"]["Stage"] == "dev"
    assert resource["Properties"]["StateMachineArn"]["Ref"].startswith("WorkflowStateMachine")
    policy = statements(dev.training, "WorkflowStopOnDeleteRoleDefaultPolicy")
    (stop,) = with_action(policy, "sagemaker:StopTrainingJob")
    assert stop["Condition"] == {
        "StringEquals": {"aws:ResourceTag/Project": "DogBreeds", "aws:ResourceTag/Stage": "dev"}
    }
    with_action(policy, "states:StopExecution")


def test_destroy_clean_up_reads_and_stops_only_its_own_state_machine(dev):
    policy = statements(dev.training, "WorkflowStopOnDeleteRoleDefaultPolicy")
    states = {
        action: statement["Resource"]
        for statement in policy
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("states:")
    }
    # Only the calls it makes; no Describe* on "*", no account-wide ListStateMachines on one ARN.
    assert sorted(states) == ["states:ListExecutions", "states:StopExecution"]
    assert states["states:ListExecutions"] == {
        "Ref": next(iter(dev.training.find_resources("AWS::StepFunctions::StateMachine")))
    }
    assert "execution" in json.dumps(states["states:StopExecution"])


def test_destroy_clean_up_lists_jobs_on_star_only_with_list_calls(dev, prod):
    for synthesized, lists in (
        (
            dev,
            [
                "sagemaker:ListHyperParameterTuningJobs",
                "sagemaker:ListModelPackages",
                "sagemaker:ListTrainingJobs",
                "sagemaker:ListTransformJobs",
            ],
        ),
        (
            prod,
            [
                "sagemaker:ListHyperParameterTuningJobs",
                "sagemaker:ListTrainingJobs",
                "sagemaker:ListTransformJobs",
            ],
        ),
    ):
        policy = statements(synthesized.training, "WorkflowStopOnDeleteRoleDefaultPolicy")
        on_star = sorted(a for s in policy if s["Resource"] == "*" for a in s["Action"])
        assert on_star == lists


def test_training_jobs_are_isolated_from_the_network(dev):
    train = definition(dev.training)["States"]["Train"]
    assert train["Parameters"]["EnableNetworkIsolation"] is True


def test_training_stack_outputs_what_the_cli_reads(dev):
    outputs = dev.training.to_json()["Outputs"]
    assert {
        layout.OUTPUT_STATE_MACHINE,
        layout.OUTPUT_TRAINING_ROLE,
        layout.OUTPUT_ALGORITHM_IMAGE,
        layout.OUTPUT_MODEL_PACKAGE_GROUP,
    } <= set(outputs)


def test_workflow_functions_log_to_declared_log_groups(dev):
    functions = dev.training.find_resources("AWS::Lambda::Function")
    assert len(functions) == 2
    for function in functions.values():
        assert "Ref" in function["Properties"]["LoggingConfig"]["LogGroup"]
        assert function["Properties"]["Runtime"] == "python3.14"


def test_dev_destroy_empties_and_deletes_the_model_registry(dev):
    (group_id, group), *_ = dev.training.find_resources("AWS::SageMaker::ModelPackageGroup").items()
    assert group["DeletionPolicy"] == "Delete"
    (resource,) = dev.training.find_resources("Custom::StopTrainingOnDelete").values()
    assert resource["Properties"]["ModelPackageGroupToEmpty"] == "DogBreeds-dev-Training"
    assert group_id in resource["DependsOn"]


def test_prod_keeps_its_model_registry(prod):
    (group,) = prod.training.find_resources("AWS::SageMaker::ModelPackageGroup").values()
    assert group["DeletionPolicy"] == "Retain"
    (resource,) = prod.training.find_resources("Custom::StopTrainingOnDelete").values()
    assert resource["Properties"]["ModelPackageGroupToEmpty"] == ""


def function_bundle(synthesized, handler_module):
    for function in synthesized.training.find_resources("AWS::Lambda::Function").values():
        if function["Properties"]["Handler"].startswith(handler_module + "."):
            return synthesized.outdir / f"asset.{function['Properties']['Code']['S3Key'].split('.')[0]}"
    raise AssertionError(f"no function runs {handler_module}")


@pytest.mark.parametrize("handler_module", ["check_data", "stop_on_delete"])
def test_workflow_function_bundles_import_on_their_own(dev, handler_module):
    bundle = function_bundle(dev, handler_module)
    assert (bundle / "core" / "layout.py").is_file()
    # Only the bundle and the standard library (plus boto3, which the Lambda runtime provides).
    keep = "[p for p in sys.path if 'lib/python' in p]"
    code = f"import sys; sys.path[:] = [{str(bundle)!r}] + {keep}; import {handler_module}"
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# Every resource of the training stack, under the logical ID it was first deployed with: a changed
# ID would make CloudFormation replace the resource (a log group would lose its logs).
FIRST_RELEASE_LOGICAL_IDS = {
    "WorkflowTrainingRoleAA22F066": "AWS::IAM::Role",
    "WorkflowTrainingRoleDefaultPolicyFEF589D7": "AWS::IAM::Policy",
    "WorkflowModelPackageGroup3EA1A93F": "AWS::SageMaker::ModelPackageGroup",
    "WorkflowCheckDataLogGroup0513B0C8": "AWS::Logs::LogGroup",
    "WorkflowCheckDataRole1D652F59": "AWS::IAM::Role",
    "WorkflowCheckDataRoleDefaultPolicy061762C1": "AWS::IAM::Policy",
    "WorkflowCheckDataFunctionFC9FD5DB": "AWS::Lambda::Function",
    "WorkflowLogGroupC1B3E9D3": "AWS::Logs::LogGroup",
    "WorkflowStateMachineRoleAB27BF0D": "AWS::IAM::Role",
    "WorkflowStateMachineRoleDefaultPolicyB2EAF58E": "AWS::IAM::Policy",
    "WorkflowStateMachine8F1B1C15": "AWS::StepFunctions::StateMachine",
    "WorkflowStopOnDeleteLogGroupD6A18D73": "AWS::Logs::LogGroup",
    "WorkflowStopOnDeleteRole3E732F95": "AWS::IAM::Role",
    "WorkflowStopOnDeleteRoleDefaultPolicy23D2C9E8": "AWS::IAM::Policy",
    "WorkflowStopOnDeleteFunction1A849636": "AWS::Lambda::Function",
    "WorkflowStopOnDeleteEA432B2F": "Custom::StopTrainingOnDelete",
}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_training_resource_keeps_the_logical_id_of_its_first_release(stage):
    resources = synthesize(stage).training.to_json()["Resources"]
    assert {logical_id: resource["Type"] for logical_id, resource in resources.items()} == (
        FIRST_RELEASE_LOGICAL_IDS
    )


# Fields whose values hold CloudFormation references (the "<ref>" markers of definition()).
_REFERENCING = {"AlgorithmSpecification", "RoleArn", "OutputDataConfig", "InferenceSpecification"}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_train_state_sends_core_s_training_job_request(stage):
    config = stage_config(stage)
    parameters = definition(synthesize(stage).training)["States"]["Train"]["Parameters"]
    expected = create_training_job_request(
        TrainingJobSpec(
            stage=stage,
            image_uri="image",
            role_arn="role",
            bucket="bucket",
            channels=JsonPath("$.prepared.channels"),
            hyperparameters=JsonPath("$.prepared.hyperParameters"),
            instance_type=config.training_instance_type,
            instance_count=JsonPath("$.prepared.instanceCount"),
            max_runtime_seconds=config.training_max_runtime_hours * 3600,
            spot=config.training_spot,
            max_wait_seconds=config.training_max_wait_hours * 3600,
            checkpoint_uri=JsonPath("$.prepared.checkpointUri"),
            name=JsonPath("$.prepared.trainingJobName"),
        )
    )
    assert list(parameters) == list(expected)
    assert {k: v for k, v in parameters.items() if k not in _REFERENCING} == {
        k: v for k, v in expected.items() if k not in _REFERENCING
    }
    assert parameters["ResourceConfig"]["VolumeSizeInGB"] == 50


def test_the_register_state_sends_core_s_model_package_request(dev):
    parameters = definition(dev.training)["States"]["RegisterModel"]["Parameters"]
    expected = create_model_package_request(
        ModelPackageSpec(
            group="group",
            image_uri="image",
            model_data_url=JsonPath("$.training.ModelArtifacts.S3ModelArtifacts"),
            training_job=JsonPath("$.prepared.trainingJobName"),
            dataset=JsonPath("$.dataset"),
            validation_accuracy=JsonPath("States.Format('{}', $.metric.accuracy[0])"),
            serving_instance_type=stage_config("dev").endpoint_instance_type,
        )
    )
    assert list(parameters) == list(expected)
    assert {k: v for k, v in parameters.items() if k not in {*_REFERENCING, "ModelPackageGroupName"}} == {
        k: v for k, v in expected.items() if k not in {*_REFERENCING, "ModelPackageGroupName"}
    }
    containers = parameters["InferenceSpecification"]["Containers"]
    assert containers[0]["ModelDataUrl.$"] == "$.training.ModelArtifacts.S3ModelArtifacts"
    assert {k: v for k, v in parameters["InferenceSpecification"].items() if k != "Containers"} == {
        k: v for k, v in expected["InferenceSpecification"].items() if k != "Containers"
    }
