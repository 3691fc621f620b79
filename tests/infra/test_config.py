"""Config validation: each bad value fails before any resource, naming the key and the fix."""

from __future__ import annotations

import os

import pytest

from infra.catalog import load_catalog
from infra.config import (
    CONFIG_KEYS,
    ConfigError,
    DictSource,
    load_config,
    local_compatibility_date,
)
from tests.infra.pulumi_harness import BASE


def load(**overrides: object):  # type: ignore[no-untyped-def]
    return load_config(DictSource({**BASE, **overrides}), "dev", load_catalog())


def problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(**overrides)
    return caught.value.problems


def test_defaults_fill_everything_else() -> None:
    config = load()
    assert config.hostname == "moltworker.example.com"
    assert config.worker_name == "openclaw-edge-dev"
    assert config.bucket_name == "openclaw-edge-dev-data"
    assert config.instance_type == "standard-1"
    assert config.sleep_after.text == "never"
    assert config.sleep_after.seconds is None
    assert config.cron.text == "*/5 * * * *"
    assert config.cron.interval_seconds == 300
    assert config.access.session_duration.seconds == 86400
    assert config.ssm_prefix == "/lolice/openclaw/"
    assert config.protect_bucket is True
    assert config.debug_routes is False
    assert config.openclaw_version  # from the Dockerfile's ARG default
    assert config.cost.monthly_budget_usd == 50.0
    assert config.compatibility_date == local_compatibility_date()


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"accountId": "abc"}, "openclaw-edge:accountId", "32 hex characters"),
        ({"accountId": "0123456789ABCDEF0123456789ABCDEF"}, "openclaw-edge:accountId", "32 hex"),
        ({"zoneId": "not-a-zone"}, "openclaw-edge:zoneId", "32 hex characters"),
        ({"hostname": "moltworker.other.org"}, "openclaw-edge:hostname", "inside the zone"),
        ({"hostname": "bad_host.example.com"}, "openclaw-edge:hostname", "DNS name"),
        ({"instanceType": "huge"}, "openclaw-edge:instanceType", "standard-4"),
        ({"sleepAfter": "ten minutes"}, "openclaw-edge:sleepAfter", "never or a duration"),
        ({"sleepAfter": "0m"}, "openclaw-edge:sleepAfter", "never or a duration"),
        # One rule: the Sandbox SDK takes one unit, so 90m, not 1h30m (cost used to accept it).
        ({"sleepAfter": "1h30m"}, "openclaw-edge:sleepAfter", "never or a duration"),
        ({"sleepAfter": "10d"}, "openclaw-edge:sleepAfter", "never or a duration"),
        ({"cron": "*/5 * * *"}, "openclaw-edge:cron", "needs 5 fields"),
        ({"cron": "61 * * * *"}, "openclaw-edge:cron", "outside 0-59"),
        ({"ssmPrefix": "lolice/openclaw/"}, "openclaw-edge:ssmPrefix", "must start with '/'"),
        ({"maxInstances": "0"}, "openclaw-edge:maxInstances", "between 1 and 100"),
        ({"maxInstances": "two"}, "openclaw-edge:maxInstances", "whole number"),
        ({"protectBucket": "yes"}, "openclaw-edge:protectBucket", "true or false"),
        ({"bucketLocation": "mars"}, "openclaw-edge:bucketLocation", "apac"),
        ({"bucketName": "Bad_Name"}, "openclaw-edge:bucketName", "a-z, 0-9"),
        ({"accessTeamDomain": "myteam.example.com"}, "openclaw-edge:accessTeamDomain", "<team>"),
        ({"accessGithubIdpId": "github"}, "openclaw-edge:accessGithubIdpId", "UUID"),
        ({"accessAllowedEmails": ["not-an-email"]}, "openclaw-edge:accessAllowedEmails", "email"),
        ({"accessAllowedEmails": []}, "openclaw-edge:accessAllowedEmails", "nobody can log in"),
        ({"optionalSecrets": ["NOPE"]}, "openclaw-edge:optionalSecrets", "not an optional secret"),
        ({"optionalSecrets": ["MOLTBOT_GATEWAY_TOKEN"]}, "openclaw-edge:optionalSecrets", "not an"),
        ({"workerVars": {"CF_ACCESS_AUD": "x"}}, "openclaw-edge:workerVars", "stack manages"),
        # The stack sets it from backupIntervalSeconds; a user value used to be overwritten.
        (
            {"workerVars": {"BACKUP_INTERVAL_SECONDS": "5"}},
            "openclaw-edge:workerVars",
            "BACKUP_INTERVAL_SECONDS, which the stack manages itself",
        ),
        ({"workerVars": {"UNKNOWN": "x"}}, "openclaw-edge:workerVars", "does not read"),
        (
            {"workerVars": {"CF_ACCESS_JWKS_URL": "https://keys.example.net/certs"}},
            "openclaw-edge:workerVars",
            "CF_ACCESS_JWKS_URL, which is for local runs and tests only",
        ),
        (
            {"workerVars": {"CF_ACCESS_LOGIN_ORIGIN": "http://127.0.0.1:8790"}},
            "openclaw-edge:workerVars",
            "CF_ACCESS_LOGIN_ORIGIN, which is for local runs and tests only",
        ),
        ({"workerVars": "not a map"}, "openclaw-edge:workerVars", "map of NAME"),
        ({"gatewayOrigin": "ftp://x"}, "openclaw-edge:gatewayOrigin", "http(s) URL"),
        ({"llmProvider": "gemini"}, "openclaw-edge:llmProvider", "anthropic, openai"),
        ({"monthlyBudgetUsd": "-1"}, "openclaw-edge:monthlyBudgetUsd", "between 1"),
        ({"expectedActiveHoursPerDay": "25"}, "openclaw-edge:expectedActiveHoursPerDay", "24"),
        ({"expectedStateSizeMb": "-1"}, "openclaw-edge:expectedStateSizeMb", "between 0"),
        ({"backupIntervalSeconds": "0"}, "openclaw-edge:backupIntervalSeconds", "between 10"),
        ({"monthlyBudgetUsd": "lots"}, "openclaw-edge:monthlyBudgetUsd", "must be a number"),
        ({"adoptAccessApplicationId": "app"}, "openclaw-edge:adoptAccessApplicationId", "UUID"),
        ({"compatibilityDate": "soon"}, "openclaw-edge:compatibilityDate", "a date"),
        # Defect 11: Access takes Go durations (session_duration "300ms", "2h45m").
        ({"accessSessionDuration": "never"}, "openclaw-edge:accessSessionDuration", "Go duration"),
        ({"accessSessionDuration": "1d"}, "openclaw-edge:accessSessionDuration", "Go duration"),
        ({"accessSessionDuration": "0s"}, "openclaw-edge:accessSessionDuration", "positive"),
        ({"accessSessionDuration": "24"}, "openclaw-edge:accessSessionDuration", "Go duration"),
    ],
)
def test_bad_value_names_key_and_fix(overrides: dict[str, object], key: str, fragment: str) -> None:
    found = problems(**overrides)
    assert any(p.startswith(key) and fragment in p for p in found), found


def test_missing_required_keys_are_all_reported_with_the_command() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(DictSource({}), "dev", load_catalog())
    text = str(caught.value)
    for key in ("accountId", "zoneId", "zoneName", "accessTeamDomain", "accessGithubIdpId"):
        assert f"openclaw-edge:{key} is required" in text
        assert f"pulumi config set {key}" in text
    assert caught.value.problems[-4:] == [
        "openclaw-edge:zoneName is required: the zone's domain, e.g. example.com "
        "(pulumi config set zoneName <value>)",
        "openclaw-edge:accessTeamDomain is required: your Zero Trust team domain "
        "(pulumi config set accessTeamDomain <value>)",
        "openclaw-edge:accessGithubIdpId is required: the id of the GitHub login method in Zero "
        "Trust (pulumi config set accessGithubIdpId <value>)",
        "openclaw-edge:accessAllowedEmails or accessGithubOrganization must be set, or nobody can "
        "log in (pulumi config set --path 'accessAllowedEmails[0]' you@example.com)",
    ]
    assert len(caught.value.problems) == 6  # nothing about the keys derived from zoneName


@pytest.mark.parametrize("duration", ["24h", "1h30m", "30m", "90s", "2h45m", "720h", "1.5h"])
def test_go_durations_are_valid_session_lengths(duration: str) -> None:
    assert load(accessSessionDuration=duration).access.session_duration.text == duration


def test_prefix_gets_trailing_slash_and_lists_accept_commas() -> None:
    config = load(ssmPrefix="/team/bot", optionalSecrets="DISCORD_BOT_TOKEN, GITHUB_TOKEN")
    assert config.ssm_prefix == "/team/bot/"
    assert config.optional_secrets == ("DISCORD_BOT_TOKEN", "GITHUB_TOKEN")


def test_sleep_after_and_cron_arrive_parsed() -> None:
    config = load(sleepAfter="90m", cron="*/10 * * * *")
    assert (config.sleep_after.text, config.sleep_after.seconds) == ("90m", 5400)
    assert config.cron.interval_seconds == 600


def test_bad_cron_names_the_field() -> None:
    assert problems(cron="0 24 * * *") == [
        "openclaw-edge:cron is not a valid cron expression: hour field '24' is outside 0-23 or "
        "malformed"
    ]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        maxInstances="0",
        sleepAfter="soon",
        workerVars={"CF_ACCESS_AUD": "x", "UNKNOWN": "y"},
        instancetype="lite",
    )
    keys = [p.split(" ", 1)[0] for p in found]
    assert keys == [
        "openclaw-edge:maxInstances",
        "openclaw-edge:sleepAfter",
        "openclaw-edge:workerVars",
        "openclaw-edge:workerVars",
        "openclaw-edge:instancetype",
    ], found


def test_every_key_is_read_from_the_source() -> None:
    """Each key of the model is asked for by name: an unread key would pass as unknown."""
    asked: list[str] = []

    class Recording(DictSource):
        def get(self, key: str) -> str | None:
            asked.append(key)
            return super().get(key)

    load_config(Recording(BASE), "dev", load_catalog())
    assert sorted(asked) == sorted(CONFIG_KEYS)
    assert len(CONFIG_KEYS) > 30


# --- keys nobody reads (typos in the project namespace) ----------------------------------------


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("instancetype", "instanceType"),
        ("monthlyBudget", "monthlyBudgetUsd"),
        ("acessAllowedEmails", "accessAllowedEmails"),
    ],
)
def test_misspelled_key_is_reported_with_the_closest_known_one(typo: str, meant: str) -> None:
    found = problems(**{typo: "lite"})
    assert found == [
        f"openclaw-edge:{typo} is not a key this program reads; did you mean "
        f"openclaw-edge:{meant}? (pulumi config rm {typo}, then pulumi config set {meant} <value>)"
    ]


def test_misspelled_secret_key_points_at_the_secret_command() -> None:
    source = DictSource(BASE, secret_keys=["ANTHROPIC_APIKEY", "MOLTBOT_GATEWAY_TOKEN"])
    with pytest.raises(ConfigError) as caught:
        load_config(source, "dev", load_catalog())
    assert caught.value.problems == [
        "openclaw-edge:ANTHROPIC_APIKEY is not a key this program reads; did you mean "
        "openclaw-edge:ANTHROPIC_API_KEY? (pulumi config rm ANTHROPIC_APIKEY, then "
        "pulumi config set --secret ANTHROPIC_API_KEY)"
    ]


def test_unknown_key_without_a_close_match_points_at_the_readme() -> None:
    assert problems(frobnicate="1") == [
        "openclaw-edge:frobnicate is not a key this program reads; see the configuration table "
        "in README.md"
    ]


def test_stack_made_secret_in_config_is_refused() -> None:
    found = problems(R2_ACCESS_KEY_ID="AKIA...")
    assert found == [
        "openclaw-edge:R2_ACCESS_KEY_ID is set, but the stack creates R2_ACCESS_KEY_ID itself "
        "(the bucket-scoped R2 token); remove it (pulumi config rm R2_ACCESS_KEY_ID)"
    ]


def test_every_documented_key_and_config_secret_is_known() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \| [^|]+ \| ", readme, re.MULTILINE)
    catalog = load_catalog()
    secrets = [s.name for s in catalog.secrets if s.source == "ssm"]
    assert "instanceType" in documented
    assert "MOLTBOT_GATEWAY_TOKEN" in secrets
    # Set as secret keys: counted as set, but no value to validate.
    source = DictSource(BASE, secret_keys=[*documented, *secrets])
    assert load_config(source, "dev", catalog).stack == "dev"


def _load_in_a_real_run(environment: dict[str, str], loader: str) -> list[str]:
    """load_config over `pulumi.Config` as a real run fills it, in a fresh context (the runtime's
    config is a ContextVar, so nothing leaks into other tests)."""
    import contextvars
    import json

    import pulumi
    from pulumi.runtime import config as runtime_config

    from infra.config import NAMESPACE, PulumiSource

    def run() -> list[str]:
        runtime_config.CONFIG.set({})
        if loader == "exec":
            # What pulumi-language-python-exec does with the engine's PULUMI_CONFIG
            # (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec, lines 102-110).
            runtime_config.set_all_config(json.loads(environment["PULUMI_CONFIG"]), [])
        with pytest.raises(ConfigError) as caught:
            load_config(PulumiSource(pulumi.Config(NAMESPACE).get), "dev", load_catalog())
        return caught.value.problems

    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        return contextvars.copy_context().run(run)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.parametrize("loader", ["exec", "environment only"])
def test_a_real_run_lists_the_keys_the_engine_passes(loader: str) -> None:
    import json

    config = {
        f"openclaw-edge:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in BASE.items()
    }
    config["openclaw-edge:instancetype"] = "lite"
    config["openclaw-edge:MOLTBOT_GATEWAY_TOKEN"] = "decrypted-by-the-engine"
    config["cloudflare:apiToken"] = "other-namespace"
    found = _load_in_a_real_run({"PULUMI_CONFIG": json.dumps(config)}, loader)
    assert found == [
        "openclaw-edge:instancetype is not a key this program reads; did you mean "
        "openclaw-edge:instanceType? (pulumi config rm instancetype, then "
        "pulumi config set instanceType <value>)"
    ]
