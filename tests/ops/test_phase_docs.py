"""Phase documents: filled from saved stack outputs, "unverified" wherever evidence is absent."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from ops import latency_probe, phase_docs
from ops.phase_docs import Evidence, Verdict
from tests.infra.pulumi_harness import run

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "project_docs" / "T-20260219-003"
SAMPLE = DOCS / "sample-outputs.json"


def sample_outputs() -> dict[str, Any]:
    data = json.loads(SAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def verdicts(ev: Evidence) -> dict[str, str]:
    return {k: v["verdict"] for k, v in phase_docs.summary(ev)["items"].items()}


def render(ev: Evidence, phase: int) -> str:
    return phase_docs.render_phase(phase, ev, {"stack outputs": "test"}, sample=False)


def probe_doc(
    a_ms: float, b_ms: float, *, access_status: int = 302, with_health: bool = True
) -> dict[str, Any]:
    """A real probe document (shape from run_probe against a closed port) with chosen figures."""
    closed = "http://127.0.0.1:9"
    creds = latency_probe.Credentials()
    doc = latency_probe.run_probe(
        latency_probe.Endpoint("a", "kubernetes", closed, creds),
        latency_probe.Endpoint("b", "edge", closed, creds),
        latency_probe.ProbeSettings(requests=1, ws_samples=1, timeout=1),
    )
    for key, ms in (("a", a_ms), ("b", b_ms)):
        endpoint = doc["endpoints"][key]
        endpoint["http"].update(latency_probe.summarize([ms] * 20))
        endpoint["http"]["statuses"] = {"200": 20}
        endpoint["http"]["errors"] = []
        endpoint["ws"]["health"] = latency_probe.summarize([ms * 2] * 5 if with_health else [])
        endpoint["accessCheck"] = {"status": access_status, "enforced": None, "error": None}
        endpoint["accessCheck"]["enforced"] = access_status in (302, 401, 403)
    ratios = {
        "httpP50": round(b_ms / a_ms, 2),
        "wsHealthP50": round(b_ms / a_ms, 2) if with_health else None,
    }
    doc["ratios"] = ratios
    doc["verdict"] = latency_probe.verdict(ratios)
    return doc


def manual(
    **entries: tuple[str, list[str]] | tuple[str, list[str], dict[str, Any]],
) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key, value in entries.items():
        item_id = key.replace("_", "-").removeprefix("i")
        raw[item_id] = {"verdict": value[0], "evidence": value[1], "source": "reviewer, 2026-11"}
        if len(value) > 2:
            raw[item_id]["details"] = value[2]
    return raw


# --- filled from outputs ------------------------------------------------------------------------


def test_sample_outputs_fill_the_documented_values() -> None:
    ev = Evidence(sample_outputs(), repo_root=ROOT)
    phase1 = render(ev, 1)
    out = sample_outputs()
    filled = ("hostname", "accessAud", "bucketName", "aiGatewayId", "instanceType",
              "openclawVersion", "sandboxVersion", "accessTeamDomain", "workerName")  # fmt: skip
    for name in filled:
        assert f"`{out[name]}`" in phase1, name
    assert "$34.65" in phase1
    assert out["aiGatewayBaseUrl"] in phase1
    assert "| r2AccessKeyId | [secret] |" in phase1


def test_items_the_outputs_prove_get_verdicts() -> None:
    v = verdicts(Evidence(sample_outputs(), repo_root=ROOT))
    for item in ("1-1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-7"):
        assert v[item] == "possible", item
    assert v["0-8"] == "possible with constraints"


def test_items_without_evidence_stay_unverified() -> None:
    v = verdicts(Evidence(sample_outputs(), repo_root=ROOT))
    for item in ("0-1", "0-2", "0-3", "0-4", "0-5", "0-6", "0-7", "1-8",
                 "2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "2-7"):  # fmt: skip
        assert v[item] == "unverified", item
    phase2 = render(Evidence(sample_outputs()), 2)
    assert "unverified: no probe results" in phase2
    assert "measured cost: unverified" in phase2


@pytest.mark.parametrize(
    ("removed", "item"),
    [
        ("bucketName", "1-1"),
        ("aiGatewayId", "1-2"),
        ("accessAud", "1-3"),
        ("hostname", "1-4"),
        ("workerSecretNames", "1-7"),
        ("workerName", "1-6"),
    ],
)
def test_absent_output_makes_its_item_unverified(removed: str, item: str) -> None:
    outputs = sample_outputs()
    del outputs[removed]
    ev = Evidence(outputs)
    assert verdicts(ev)[item] == "unverified"
    text = render(ev, 1)
    assert removed in text  # named as missing
    if removed in ("bucketName", "aiGatewayId", "accessAud", "hostname", "workerName"):
        assert f"| {removed} | unverified (not in outputs) |" in text


def test_secret_values_are_never_rendered() -> None:
    outputs = sample_outputs()
    outputs["r2AccessKeyId"] = "AKIA-REAL-LOOKING-ID"
    outputs["r2SecretAccessKey"] = "super-secret-value-0123"
    ev = Evidence(outputs)
    text = "".join(render(ev, phase) for phase in (0, 1, 2)) + json.dumps(phase_docs.summary(ev))
    assert "AKIA-REAL-LOOKING-ID" not in text
    assert "super-secret-value-0123" not in text
    with pytest.raises(KeyError):
        ev.output("r2SecretAccessKey")


def test_cost_stop_criterion_uses_the_estimate() -> None:
    outputs = sample_outputs()
    expensive = copy.deepcopy(outputs)
    expensive["costEstimate"]["monthlyUsd"] = 57.6
    assert "| Workers Paid + usage above $50/month expected | met (stop) |" in render(
        Evidence(expensive), 1
    )
    assert "| Workers Paid + usage above $50/month expected | not met |" in render(
        Evidence(outputs), 1
    )
    del outputs["costEstimate"]
    assert "| Workers Paid + usage above $50/month expected | unverified |" in render(
        Evidence(outputs), 1
    )


# --- probe, measured cost and reviewed evidence ---------------------------------------------


def test_probe_within_2x_without_24h_evidence_is_constrained() -> None:
    ev = Evidence(sample_outputs(), probe=probe_doc(100, 150))
    assert verdicts(ev)["2-5"] == "possible with constraints"
    text = render(ev, 2)
    assert "HTTP status p50/p95/p99 150/150/150 ms (n=20)" in text
    assert "24 h continuous operation not evidenced" in text
    assert "httpP50 1.5" in text


def test_probe_within_2x_with_24h_evidence_is_possible() -> None:
    evidence = phase_docs.parse_manual(
        manual(i2_5=("possible", ["24 h run, 0 restarts, Workers analytics 2026-11-20"])), "e"
    )
    ev = Evidence(sample_outputs(), probe=probe_doc(100, 150), manual=evidence)
    assert verdicts(ev)["2-5"] == "possible"


@pytest.mark.parametrize(
    ("b_ms", "verdict"), [(250, "possible with constraints"), (300, "not possible")]
)
def test_probe_over_2x_or_3x(b_ms: float, verdict: str) -> None:
    ev = Evidence(sample_outputs(), probe=probe_doc(100, b_ms))
    assert verdicts(ev)["2-5"] == verdict
    if verdict == "not possible":
        assert "| latency 3x the Kubernetes deployment or worse | met (stop) |" in render(ev, 2)


def test_probe_fills_phase_1_reachability_and_access() -> None:
    ev = Evidence(sample_outputs(), probe=probe_doc(100, 120))
    text = render(ev, 1)
    assert "| reachable at the test hostname | met |" in text
    assert "| Cloudflare Access authentication works | met |" in text
    open_door = Evidence(sample_outputs(), probe=probe_doc(100, 120, access_status=200))
    assert "| Cloudflare Access authentication works | not met |" in render(open_door, 1)
    assert "| reachable at the test hostname | unverified |" in render(
        Evidence(sample_outputs()), 1
    )


def test_measured_cost_decides_2_6() -> None:
    cheap = Evidence(
        sample_outputs(), measured_cost={"usd": 7.5, "periodDays": 7, "source": "bill"}
    )
    assert verdicts(cheap)["2-6"] == "possible"
    assert "= $32.14/month" in render(cheap, 2)
    dear = Evidence(sample_outputs(), measured_cost={"usd": 14, "periodDays": 7, "source": "bill"})
    assert verdicts(dear)["2-6"] == "not possible"
    assert "| monthly cost above $50 | met (stop) |" in render(dear, 2)


def test_go_no_go_needs_every_phase_2_verdict() -> None:
    tools = {"ghq": True, "gwq": True, "mcp-grafana": True, "Babashka": True, "Codex CLI": False}
    entries = manual(
        i2_1=("possible with constraints", ["4 of 5 tools run"], {"tools": tools}),
        i2_2=("possible", ["DM answered on 2026-11-19"]),
        i2_3=("possible", ["dashboard list read"]),
        i2_4=("possible with constraints", ["exec() replaces docker run for scripts"]),
        i2_5=("possible", ["24 h run without restarts"]),
    )
    evidence = phase_docs.parse_manual(entries, "e")
    cost = {"usd": 7, "periodDays": 7, "source": "bill"}
    ev = Evidence(sample_outputs(), probe_doc(100, 150), cost, evidence)
    findings = verdicts(ev)
    assert findings["2-7"] == "possible with constraints"
    text = render(ev, 2)
    assert "custom tool parity 80% (threshold 80%)" in text
    assert "| 80% or more of the custom tools work in the Sandbox | met | 80% |" in text

    no_go = Evidence(sample_outputs(), probe_doc(100, 400), cost, evidence)
    assert verdicts(no_go)["2-7"] == "not possible"

    partial = Evidence(sample_outputs(), probe_doc(100, 150), None, evidence)
    assert verdicts(partial)["2-7"] == "unverified"


def test_manual_entries_need_evidence_and_a_source() -> None:
    with pytest.raises(phase_docs.EvidenceError, match="evidence"):
        phase_docs.parse_manual(
            {"0-1": {"verdict": "possible", "evidence": [], "source": "x"}}, "e"
        )
    with pytest.raises(phase_docs.EvidenceError, match="source"):
        phase_docs.parse_manual({"0-1": {"verdict": "possible", "evidence": ["y"]}}, "e")
    with pytest.raises(phase_docs.EvidenceError, match="verdict"):
        phase_docs.parse_manual(
            {"0-1": {"verdict": "maybe", "evidence": ["y"], "source": "x"}}, "e"
        )
    parsed = phase_docs.parse_manual(
        {"$comment": "ignored", "0-4": {"verdict": "possible", "evidence": ["amd64 in manifest"],
                                         "source": "docker manifest inspect, 2026-11-20"}}, "e"
    )  # fmt: skip
    assert parsed["0-4"].verdict is Verdict.POSSIBLE
    assert verdicts(Evidence(sample_outputs(), manual=parsed))["0-4"] == "possible"


# --- CLI and committed documents -----------------------------------------------------------------


def test_cli_reads_outputs_from_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = phase_docs.main(
        ["--outputs", "-", "--out", str(tmp_path), "--repo-root", str(ROOT)],
        stdin=io.StringIO(SAMPLE.read_text()),
    )
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(phase_docs.GENERATED_FILES)
    assert "stack outputs: stdin" in (tmp_path / "phase-0.md").read_text()
    assert "wrote" in capsys.readouterr().out


def test_cli_with_probe_cost_and_evidence_files(tmp_path: Path) -> None:
    (tmp_path / "probe.json").write_text(json.dumps(probe_doc(100, 130)))
    (tmp_path / "cost.json").write_text(json.dumps({"usd": 8, "periodDays": 7, "source": "bill"}))
    (tmp_path / "evidence.json").write_text(
        json.dumps(manual(i0_4=("possible", ["linux/amd64 listed"])))
    )
    out = tmp_path / "docs"
    argv = ["--outputs", str(SAMPLE), "--probe", str(tmp_path / "probe.json"),
            "--cost", str(tmp_path / "cost.json"), "--evidence", str(tmp_path / "evidence.json"),
            "--out", str(out)]  # fmt: skip
    assert phase_docs.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["items"]["2-5"]["verdict"] == "possible with constraints"
    assert summary["items"]["2-6"]["verdict"] == "possible"
    assert summary["items"]["0-4"]["verdict"] == "possible"


def test_cli_rejects_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert phase_docs.main(["--outputs", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert (
        phase_docs.main(
            ["--outputs", str(SAMPLE), "--probe", str(bad), "--out", str(tmp_path / "o")]
        )
        == 2
    )
    assert phase_docs.main(["--outputs", str(tmp_path / "missing.json"), "--out", "x"]) == 2
    assert "phase_docs:" in capsys.readouterr().err


def test_committed_documents_are_rendered_from_the_sample(tmp_path: Path) -> None:
    argv = ["--outputs", str(SAMPLE), "--out", str(tmp_path), "--sample", "--repo-root", str(ROOT)]
    assert phase_docs.main(argv) == 0
    for name in phase_docs.GENERATED_FILES:
        committed = DOCS / name
        assert committed.is_file(), f"{committed} missing: run the command in its README"
        assert committed.read_text() == (tmp_path / name).read_text(), (
            f"{committed} is stale: regenerate it (README.md in that folder)"
        )
    assert "SAMPLE" in (DOCS / "phase-1.md").read_text()


def test_outputs_of_the_real_program_fill_every_stack_fact(tmp_path: Path) -> None:
    # As `pulumi stack output --json` prints them: secret outputs masked. Like Pulumi.dev.yaml,
    # with the probe's service token.
    result = run(tmp_path, {"accessProbeServiceToken": True})
    outputs = {
        k: phase_docs.SECRET_PLACEHOLDER if k in result.secret_outputs else v
        for k, v in result.outputs.items()
    }
    assert set(sample_outputs()) == set(outputs), "sample-outputs.json lacks or adds an output"
    ev = Evidence(json.loads(json.dumps(outputs)), repo_root=ROOT)
    text = render(ev, 1)
    assert "unverified (not in outputs)" not in text
    v = verdicts(ev)
    assert [v[i] for i in ("1-1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-7")] == ["possible"] * 7
    for secret in result.secret_outputs:
        assert str(result.outputs[secret]) not in text


@pytest.mark.parametrize(
    ("cost", "fragment"),
    [
        ({"usd": "seven", "periodDays": 7}, "usd must be a number, got 'seven'"),
        ({"usd": 7.4}, "periodDays must be a number, got None"),
        ({"usd": 7.4, "periodDays": 0}, "periodDays must be more than 0"),
        ({"usd": -1, "periodDays": 7}, "usd must be 0 or more"),
        ({"usd": True, "periodDays": 7}, "usd must be a number, got True"),
        ({"usd": 7.4, "periodDays": 7, "source": 3}, "source must be a string"),
        ([7.4, 7], "expected {"),
    ],
)
def test_malformed_cost_file_is_an_error_not_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cost: Any, fragment: str
) -> None:
    path = tmp_path / "cost.json"
    path.write_text(json.dumps(cost))
    out = tmp_path / "docs"
    argv = ["--outputs", str(SAMPLE), "--cost", str(path), "--out", str(out)]
    assert phase_docs.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"phase_docs: {path}: ")
    assert fragment in err
    assert not out.exists()


def test_real_outputs_never_overwrite_the_committed_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "T-20260219-003"
    folder.mkdir()
    (folder / "sample-outputs.json").write_text(SAMPLE.read_text())
    (folder / "phase-0.md").write_text("committed sample")
    assert phase_docs.main(["--outputs", str(SAMPLE), "--out", str(folder)]) == 2
    assert "holds the committed SAMPLE documents" in capsys.readouterr().err
    assert (folder / "phase-0.md").read_text() == "committed sample"
    argv = ["--outputs", str(SAMPLE), "--out", str(folder), "--sample"]
    assert phase_docs.main([*argv, "--repo-root", str(ROOT)]) == 0


def test_an_unwritable_out_folder_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    assert phase_docs.main(["--outputs", str(SAMPLE), "--out", str(tmp_path / "a-file")]) == 2
    assert "a-file is a file, not a directory" in capsys.readouterr().err
