"""Generated tasks, Terminal-Bench 1.x import and `litecore audit` on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from litecore.audit import audit_dataset
from litecore.interop import import_tb1
from litecore.task import load_task
from litecore.verify import HarborVerifier, validate_task

from .conftest import write_simple_task

TB1_TASK = {
    "task.yaml": (
        "instruction: |\n  Create /app/result.txt containing the sum of the numbers in /app/numbers.txt.\n"
        "author_name: litecore tests\nauthor_email: tests@example.org\ndifficulty: easy\n"
        "category: data-processing\ntags: [arithmetic]\nparser_name: pytest\n"
        "max_agent_timeout_sec: 120\nmax_test_timeout_sec: 60\nrun_tests_in_same_shell: false\n"
    ),
    "Dockerfile": "FROM ghcr.io/laude-institute/t-bench/python-3-13:20250620\nWORKDIR /app\nCOPY numbers.txt /app/\n",
    "docker-compose.yaml": (
        "services:\n  client:\n    build:\n      dockerfile: Dockerfile\n    image: ${T_BENCH_TASK_DOCKER_CLIENT_IMAGE_NAME}\n"
        "    environment:\n      - TEST_DIR=${T_BENCH_TEST_DIR}\n      - GREETING=hello\n"
    ),
    "numbers.txt": "3\n4\n35\n",
    "run-tests.sh": "#!/bin/bash\ncd /app\npython3 -m pytest -q -p no:cacheprovider $TEST_DIR/test_outputs.py -rA\n",
    "solution.sh": "#!/bin/bash\npaste -sd+ /app/numbers.txt | bc > /app/result.txt || "
                   "python3 -c \"print(sum(int(x) for x in open('/app/numbers.txt')))\" > /app/result.txt\n",
    "tests/test_outputs.py": (
        "import os\nfrom pathlib import Path\n\n"
        "def test_result():\n    assert Path('/app/result.txt').read_text().strip() == '42'\n\n"
        "def test_env():\n    assert os.environ.get('GREETING') == 'hello'\n"
    ),
}


def write_tb1(root: Path) -> Path:
    for rel, content in TB1_TASK.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return root


def test_tb1_conversion_layout(tmp_path):
    src = write_tb1(tmp_path / "tb" / "sum-numbers")
    result = import_tb1(src.parent, tmp_path / "harbor")
    task = load_task(result.converted[0])
    assert task.name == "terminal-bench/sum-numbers" and task.verifier_timeout_sec == 60
    assert task.instruction.startswith("Create /app/result.txt")
    assert (task.path / "environment" / "numbers.txt").is_file()
    assert not (task.path / "environment" / "task.yaml").exists()
    assert (task.path / "tests" / "run-tests.sh").is_file() and (task.path / "tests" / "test_outputs.py").is_file()
    assert task.env == {"GREETING": "hello"} and task.verifier_env == {"TEST_DIR": "/tests"}
    assert import_tb1(src.parent, tmp_path / "harbor").converted  # resumable


def test_import_cli(tmp_path):
    from litecore.commands_containers import import_group

    write_tb1(tmp_path / "tb" / "sum-numbers")
    r = CliRunner().invoke(import_group, ["tb1", str(tmp_path / "tb"), str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"converted": 1, "skipped": 0}
    r = CliRunner().invoke(import_group, ["tb1", str(tmp_path / "nothing"), str(tmp_path / "out")])
    assert r.exit_code != 0


@pytest.mark.slow
def test_tb1_task_verified(backend, dev_images, tmp_path):
    src = write_tb1(tmp_path / "tb" / "sum-numbers")
    task = load_task(import_tb1(src, tmp_path / "harbor" / "sum-numbers").converted[0])
    v = validate_task(task, backend, HarborVerifier(), repeats=1)
    assert v.ok, v.reason


@pytest.mark.slow
def test_generated_task_oracle_noop(backend, dev_images, tmp_path):
    from litecore.testing import generate, materialize
    from litecore_plugin_data_science import domain

    gen = generate(domain(), "csv-groupby", 5, "hard")
    task = materialize(gen, tmp_path)
    v = validate_task(task, backend, HarborVerifier(), repeats=1, attacks={"wrong-solution": gen.wrong_solve})
    assert v.ok, v.reason
    assert [c.reward for c in v.checks] == [1.0, 0.0, 0.0]


def broken_dataset(root: Path) -> dict[str, str | None]:
    """Tasks with one known defect each, and the cause audit must report."""
    write_simple_task(root, name="good")
    write_simple_task(root, name="missing-copy",
                      dockerfile="FROM litecore/base:bookworm\nWORKDIR /app\nCOPY data.csv /app/\n")
    write_simple_task(root, name="failing-solution", solve="echo bye > /app/out.txt\n")
    write_simple_task(root, name="always-passing",
                      test="#!/bin/bash\nmkdir -p /logs/verifier\necho 1 > /logs/verifier/reward.txt\n")
    write_simple_task(root, name="no-reward", test="#!/bin/bash\ntrue\n")
    return {"good": None, "missing-copy": "missing-copy-source", "failing-solution": "oracle-fails",
            "always-passing": "noop-passes", "no-reward": "oracle-verifier-error"}


def test_audit_reports_causes(backend, tmp_path):
    expected = broken_dataset(tmp_path / "ds")
    report = audit_dataset(tmp_path / "ds", backend, workers=2)
    got = {t.task_id: t.cause for t in report.tasks}
    assert got == expected
    good = next(t for t in report.tasks if t.task_id == "good")
    assert (good.builds, good.oracle, good.noop, good.test_network) == (True, 1.0, 0.0, False)
    assert report.summary["causes"] == {"missing-copy-source": 1, "oracle-fails": 1, "noop-passes": 1,
                                        "oracle-verifier-error": 1}
    missing = next(t for t in report.tasks if t.task_id == "missing-copy")
    assert "data.csv" in missing.detail and missing.builds is False


@pytest.mark.slow
def test_audit_network_probes(backend, tmp_path):
    """A build that needs the mirror and tests that need the network are told apart."""
    import time

    stamp = time.time_ns()
    write_simple_task(tmp_path / "ds", name="net-build", dockerfile=(
        "FROM litecore/base:bookworm\n"
        f"RUN echo {stamp} && bash -c 'exec 3<>/dev/tcp/deb.debian.org/80'\nWORKDIR /app\n"),
        toml_extra="")
    t = tmp_path / "ds" / "net-test"
    write_simple_task(tmp_path / "ds", name="net-test",
                      test="#!/bin/bash\nmkdir -p /logs/verifier\n"
                           "if bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' && [ -f /app/out.txt ]; "
                           "then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")
    cfg = t / "task.toml"
    cfg.write_text(cfg.read_text().replace('network_mode = "no-network"', 'network_mode = "public"'))
    report = audit_dataset(tmp_path / "ds", backend, workers=1)
    rows = {r.task_id: r for r in report.tasks}
    offline_builds = backend.offline_builds
    assert rows["net-build"].build_network is (True if offline_builds else None) and rows["net-build"].ok
    assert rows["net-test"].test_network is True and rows["net-test"].ok, rows["net-test"]
    assert report.summary["needs_network_build"] == int(offline_builds)
    assert report.summary["needs_network_test"] == 1


@pytest.mark.slow
def test_audit_cli_json(engine, backends, tmp_path):
    from litecore.commands_containers import audit

    broken_dataset(tmp_path / "ds")
    r = CliRunner().invoke(audit, [str(tmp_path / "ds"), "--backend", engine, "--json", "-",
                                   "--no-network-probe", "-j", "2"])
    assert r.exit_code == 1, r.output  # broken tasks make the command fail
    data = json.loads(r.stdout)
    assert data["summary"]["broken"] == 4 and data["summary"]["ok"] == 1


def test_clean_cli(engine_urls):
    from litecore.commands_containers import clean

    r = CliRunner().invoke(clean, [])
    assert r.exit_code == 0, r.output
    assert "docker" in r.output and "podman" in r.output


def test_images_build_cli_reuses(base_images):
    from litecore.commands_containers import images_group

    r = CliRunner().invoke(images_group, ["build", "--only", "base"])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stdout.splitlines() if "litecore/base:bookworm" in ln]
    assert len(lines) == 2 and all("up to date" in ln for ln in lines), r.stdout
