"""AWS SSM SecureString parameters: the source of truth for every secret the Worker needs.
A value comes from Pulumi secret config when set; otherwise the parameter is declared with a
placeholder whose changes are ignored (the value is managed outside Pulumi) and the real value
is read back decrypted. A required secret with neither fails with the commands that fix it.

Lifecycle facts this follows (docs/lifecycle.md):
- The prefix is read once with GetParametersByPath, which returns what exists and cannot fail on
  an absent name (GetParameter answers `reading SSM Parameter (<name>): couldn't find resource`).
- A parameter that already exists is imported instead of created (creating it would fail with
  `ParameterAlreadyExists`); once in state the engine ignores the import id.
- Parameters are retained on delete: `pulumi destroy` or dropping an optional secret leaves
  the value in SSM (deleting is a deliberate `aws ssm delete-parameters`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.catalog import Catalog, SecretSpec
from infra.config import StackConfig
from infra.outputs import SECRET_STORE_TYPE

PLACEHOLDER = "managed-outside-pulumi"

SecretReader = Callable[[str], pulumi.Output[str] | None]
"""Returns the Pulumi secret config value of a key, or None when unset."""
ParameterReader = Callable[[str], str | None]
"""Returns the decrypted value of an SSM parameter, or None when it does not exist."""


class SsmReadError(RuntimeError):
    """Reading the parameters under the prefix failed (credentials, permissions, region)."""


class MissingSecretError(ValueError):
    """Required secrets that have a value neither in Pulumi config nor in SSM."""

    def __init__(self, names: list[str], prefix: str) -> None:
        self.names = names
        fixes = "\n".join(
            f"  - {n}: pulumi config set --secret {n}   (prompts for the value)\n"
            f"      or: aws ssm put-parameter --name {prefix}{n} --type SecureString "
            f"--overwrite --value file:///path/to/{n.lower()}.txt"
            for n in names
        )
        super().__init__(
            f"{len(names)} required secret(s) have no value in config or SSM:\n{fixes}"
        )


def needed_secrets(
    config: StackConfig, catalog: Catalog, has_config: Callable[[str], bool]
) -> list[SecretSpec]:
    """The SSM-sourced secrets this stack sets on the Worker, and whether each is required.

    Always-required ones; the LLM key of `llmProvider` (the other one only when configured);
    AI_GATEWAY_API_KEY when the gateway requires authentication; optional ones when listed in
    `optionalSecrets` or given a value in config."""
    chosen: list[SecretSpec] = []
    for spec in catalog.secrets:
        if spec.source != "ssm":
            continue
        wanted = (
            spec.required == "always"
            or spec.name in required_optional(config)
            or spec.name in config.optional_secrets
            or has_config(spec.name)
        )
        if wanted:
            chosen.append(spec)
    return chosen


def required_optional(config: StackConfig) -> set[str]:
    """Secrets that are optional in general but required by this configuration."""
    required = {f"{config.llm_provider.upper()}_API_KEY"}
    if config.ai_gateway.authentication:
        required.add("AI_GATEWAY_API_KEY")
    return required


@dataclass(frozen=True)
class SecretStoreArgs:
    prefix: str
    """SSM path prefix (`ssmPrefix`; default /lolice/openclaw/)."""
    secrets: list[SecretSpec]
    """The secrets to store, from `needed_secrets`."""
    required: set[str]
    """Names that must have a real value."""
    adopt: bool = False
    """`adoptSsmParameters`; no longer needed: every parameter that exists is imported."""


class SecretStore(pulumi.ComponentResource):
    """One SecureString parameter per secret; `values` are secret Outputs for the Worker."""

    parameters: dict[str, aws.ssm.Parameter]
    values: dict[str, pulumi.Output[str]]
    parameter_names: dict[str, str]

    def __init__(
        self,
        name: str,
        args: SecretStoreArgs,
        read_config: SecretReader,
        read_parameter: ParameterReader,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(SECRET_STORE_TYPE, name, None, opts)
        self.parameters = {}
        self.values = {}
        self.parameter_names = {}
        missing: list[str] = []
        for spec in args.secrets:
            path = f"{args.prefix}{spec.name}"
            self.parameter_names[spec.name] = path
            current = read_parameter(path)
            from_config = read_config(spec.name)
            if from_config is not None:
                value: pulumi.Output[str] | None = pulumi.Output.secret(from_config)
                stored: pulumi.Input[str] = value  # type: ignore[assignment]
                ignore: list[str] = []
            else:
                real = current is not None and current not in ("", PLACEHOLDER)
                value = pulumi.Output.secret(current) if real and current is not None else None
                stored = PLACEHOLDER
                ignore = ["value", "insecureValue"]
                if value is None and spec.name in args.required:
                    missing.append(spec.name)
            self.parameters[spec.name] = aws.ssm.Parameter(
                f"{name}-{spec.name.lower().replace('_', '-')}",
                name=path,
                type="SecureString",
                value=stored,
                description=spec.description,
                tags={"managed-by": "openclaw-edge", "stack": pulumi.get_stack()},
                opts=pulumi.ResourceOptions(
                    parent=self,
                    ignore_changes=ignore,
                    # Existing parameter: adopt it (creating it would fail ParameterAlreadyExists).
                    # The engine imports only when the id differs from the one in state
                    # (step_generator.go, isImport), so this is a no-op on later runs.
                    import_=path if current is not None else None,
                    # The value outlives the stack: SSM is the source of truth.
                    retain_on_delete=True,
                    additional_secret_outputs=["value"],
                ),
            )
            if value is not None:
                self.values[spec.name] = value
        if missing:
            raise MissingSecretError(missing, args.prefix)
        self.register_outputs({"parameterNames": self.parameter_names})


def pulumi_secret_reader(config: pulumi.Config) -> SecretReader:
    return config.get_secret


def ssm_parameter_reader(region: str | None = None) -> ParameterReader:
    """Reads parameters decrypted through the AWS provider: one GetParametersByPath per
    directory (the first time a name in it is asked for), so an absent name is simply absent —
    never the `couldn't find resource` error a GetParameter of it raises."""
    directories: dict[str, dict[str, str]] = {}

    def read(path: str) -> str | None:
        directory = path.rsplit("/", 1)[0] + "/"
        if directory not in directories:
            directories[directory] = read_directory(directory, region)
        return directories[directory].get(path)

    return read


def read_directory(directory: str, region: str | None = None) -> dict[str, str]:
    """name -> decrypted value of every parameter directly under `directory`."""
    try:
        result = aws.ssm.get_parameters_by_path(
            path=directory, with_decryption=True, recursive=False, region=region
        )
    except Exception as error:  # the provider raises a plain Exception with AWS's message
        raise SsmReadError(
            f"reading the SSM parameters under {directory} failed: {error}\n"
            f"  The AWS credentials need ssm:GetParametersByPath on the path "
            f"(arn:aws:ssm:<region>:<account>:parameter{directory.rstrip('/')}) and kms:Decrypt; "
            "see README, Deploying for real."
        ) from error
    return dict(zip(result.names, result.values, strict=True))
