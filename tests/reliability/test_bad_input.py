"""Bad input, beyond tests/test_cli_errors.py: one line naming what and where, exit 2, nothing written.

Categories: pipeline.toml (executor and other sections), task folders and task.toml (through
``litecore verify`` and ``litecore run`` on a dataset), domain plugin output (a plugin
registered in-process returning broken records and drafts), LLM replies (the ``llm`` engine
against a scripted server on 127.0.0.1) and CLI arguments.
"""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

import litecore
from litecore.errors import LitecoreError
from litecore.testing import make_task, run_cli

from .conftest import record


def _one_error_line(res) -> str:
    lines = [ln for ln in res.stderr.strip().splitlines() if not ln.startswith("litecore: warning: ")]
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert len(lines) == 1 and lines[0].startswith("litecore: error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


# -- pipeline.toml -------------------------------------------------------------------------

PIPELINES = {
    "unknown executor": ("[executor]\nname = 'raay'\n", "executor.name: unknown executor 'raay'; available:"),
    "executor option typo": ("[executor]\nname = 'ray'\nadress = '127.0.0.1:1'\n", "executor.adress: unknown key"),
    "executor option negative": ("[executor]\nname = 'ray'\nnum_cpus_per_task = -1\n",
                                 "executor.num_cpus_per_task: must not be negative"),
    "executor option type": ("[executor]\nname = 'ray'\nmax_retries = 'many'\n",
                             "executor.max_retries: expected an integer"),
    "local executor takes no options": ("[executor]\nthreads = 4\n", "executor.threads: unknown key"),
    "unknown terminal": ("[rollout]\nterminal = 'vt100'\n", "rollout.terminal: unknown value 'vt100'"),
    "unknown export format": ("[export]\nformats = ['csv']\n", "export.formats: unknown value 'csv'"),
    "stages not a list": ("[run]\noutput = 'out'\nstages = 'generate'\n", "run.stages: expected a list"),
    "negative weight": ("[generate.domains]\ndata-science = -1.0\n",
                        "generate.domains.data-science: weight must not be negative"),
    "float seed": ("[run]\noutput = 'out'\nseed = 1.5\n", "run.seed: expected an integer"),
    "policy option unknown value": ("[rollout]\npolicy = 'hostile'\nbehaviour = 'polite'\n",
                                    "rollout.behaviour: unknown behaviour 'polite'"),
    "pass@k above attempts": ("[run]\noutput = 'out'\nstages = ['eval']\n[eval]\npolicy = 'noop'\nk = [5]\n"
                              "attempts = 2\n", "eval.k: pass@5 needs at least 5 attempts"),
    "sft filter typo": ("[export.sft]\nloop_treshold = 3\n", "export.sft.loop_treshold: unknown key"),
    "not utf-8": (b"[run]\noutput = '\xff\xfe'\n", "not UTF-8 text"),
}


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_bad_pipeline_toml(tmp_path, name):
    text, message = PIPELINES[name]
    cfg = tmp_path / "pipeline.toml"
    if isinstance(text, bytes):
        cfg.write_bytes(text)
    else:
        cfg.write_text(text if text.startswith("[run]") else "[run]\noutput = 'out'\n" + text)
    line = _one_error_line(run_cli("run", str(cfg)))
    record("bad_input", category="pipeline.toml", case=name, error=line)
    assert str(cfg) in line and message in line, line
    assert not (tmp_path / "out").exists()


# -- task folders and task.toml --------------------------------------------------------------

def _break(task_path: Path, how: str) -> None:
    toml = task_path / "task.toml"
    if how == "task.toml invalid TOML":
        toml.write_text("[agent\ntimeout_sec = 1\n")
    elif how == "task.toml wrong type":
        toml.write_text(toml.read_text().replace("timeout_sec = 60.0", 'timeout_sec = "long"', 1))
    elif how == "task.toml negative timeout":
        toml.write_text(toml.read_text().replace("timeout_sec = 60.0", "timeout_sec = -5.0", 1))
    elif how == "task.toml table is a value":
        toml.write_text('schema_version = "1.1"\nagent = 5\n')
    elif how == "task.toml missing":
        toml.unlink()
    elif how == "task.toml not UTF-8":
        toml.write_bytes(b"[task]\nname = '\xff'\n")
    elif how == "instruction empty":
        (task_path / "instruction.md").write_text("  \n")
    elif how == "tests/test.sh missing":
        (task_path / "tests" / "test.sh").unlink()
    elif how == "dataset without tasks":
        for p in sorted(task_path.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
    else:
        raise AssertionError(how)


TASK_CASES = {
    "task.toml invalid TOML": "task.toml: invalid TOML",
    "task.toml wrong type": "task.toml",
    "task.toml negative timeout": "must be positive",
    "task.toml table is a value": "[agent] must be a table",
    "task.toml missing": "task.toml",
    "task.toml not UTF-8": "task.toml: not UTF-8 text",
    "instruction empty": "instruction.md: empty instruction",
    "tests/test.sh missing": "test.sh: missing (the verifier entry point)",
    "dataset without tasks": "no task folders found",
}


@pytest.mark.parametrize("how", sorted(TASK_CASES))
def test_bad_task_folder(tmp_path, how):
    task = make_task(tmp_path / "ds", "broken")
    _break(task.path, how)
    target = tmp_path / "ds" if how in ("task.toml missing", "dataset without tasks") else task.path
    line = _one_error_line(run_cli("verify", "--json", str(tmp_path / "result.json"), str(target)))
    record("bad_input", category="task folder", case=how, error=line)
    assert TASK_CASES[how] in line and str(tmp_path / "ds") in line, line
    assert not (tmp_path / "result.json").exists()


def test_bad_task_in_an_eval_dataset(tmp_path):
    make_task(tmp_path / "ds", "good")
    bad = make_task(tmp_path / "ds", "bad")
    _break(bad.path, "task.toml invalid TOML")
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text("[run]\noutput = 'out'\nstages = ['eval']\n[eval]\npolicy = 'noop'\ndataset = 'ds'\n")
    line = _one_error_line(run_cli("run", str(cfg)))
    record("bad_input", category="task folder", case="broken task in an eval dataset", error=line)
    assert f"{bad.path / 'task.toml'}: invalid TOML" in line
    assert not (tmp_path / "out" / "eval").exists()


# -- domain plugin output ---------------------------------------------------------------------

def _domain(generate) -> litecore.Domain:
    spec = litecore.DomainSpec(description="d", skills=("s",), topics=("t",), tools=("bash",))
    fam = litecore.TaskFamily(name="fam", description="a family", generate=generate)
    return litecore.Domain(name="broken-domain", spec=spec, families=(fam,), category="coding")


def _draft(**over):
    base = dict(instruction="Write 1 to /app/x.", app_files={}, solve="echo 1 > /app/x\n",
                tests="def test_x():\n    assert open('/app/x').read().strip() == '1'\n", wrong_solve="true\n")
    return litecore.TaskDraft(**(base | over))


DRAFTS = {
    "app file escapes the task folder": (lambda req: _draft(app_files={"../../../escape.txt": "x"}),
                                         "escapes the task folder"),
    "solution file escapes the task folder": (lambda req: _draft(solution_files={"../../x": "y"}),
                                              "escapes the task folder"),
}


def _pipeline(plugin_manager, tmp_path: Path, stages: str = '["generate"]'):
    from litecore.config import load_config
    from litecore.pipeline import Pipeline

    cfg = tmp_path / "pipeline.toml"
    cfg.write_text(f"[run]\noutput = 'out'\nstages = {stages}\n[generate]\ncount = 2\n"
                   "[generate.domains]\nbroken-domain = 1.0\n")
    from litecore.builtins import generator_procedural, policies, sandbox_local, verifier_harbor

    for mod in (generator_procedural, policies, sandbox_local, verifier_harbor):
        plugin_manager.register(mod, mod.__name__)
    return Pipeline(load_config(cfg), plugin_manager)


@pytest.mark.parametrize("name", sorted(DRAFTS))
def test_broken_drafts_from_a_domain_plugin(plugin_manager, tmp_path, name):
    generate, message = DRAFTS[name]
    domain = _domain(generate)
    plugin = type("P", (), {"litecore_domains": staticmethod(litecore.hookimpl(lambda: [domain]))})
    plugin_manager.register(plugin, "broken")
    with pytest.raises(LitecoreError) as err:
        _pipeline(plugin_manager, tmp_path).run()
    line = str(err.value)
    record("bad_input", category="domain plugin output", case=name, error=line)
    assert "\n" not in line and message in line and err.value.exit_code == 2
    tasks = tmp_path / "out" / "tasks"
    assert not tasks.exists() or [p for p in tasks.iterdir()] == []
    assert not Path(tmp_path.parent / "escape.txt").exists()


def test_a_domain_plugin_returning_the_wrong_record(plugin_manager, tmp_path):
    plugin = type("P", (), {"litecore_domains": staticmethod(litecore.hookimpl(lambda: ["not a domain"]))})
    plugin_manager.register(plugin, "wrong-record", distribution="litecore-plugin-wrong")
    with pytest.raises(LitecoreError) as err:
        _pipeline(plugin_manager, tmp_path)
    line = str(err.value)
    record("bad_input", category="domain plugin output", case="wrong record type", error=line)
    assert "litecore-plugin-wrong" in line and "expected Domain" in line and "\n" not in line
    assert not (tmp_path / "out").exists()


def test_a_family_that_raises_costs_only_its_instance(plugin_manager, tmp_path):
    """Not exit 2 by design: a broken family is recorded per plan item, the run goes on."""
    def boom(req):
        raise KeyError("the family forgot a key")

    domain = _domain(boom)
    plugin = type("P", (), {"litecore_domains": staticmethod(litecore.hookimpl(lambda: [domain]))})
    plugin_manager.register(plugin, "raising")
    _pipeline(plugin_manager, tmp_path).run()
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    record("bad_input", category="domain plugin output", case="family raises (recorded, run continues)",
           error=next(iter(plan["errors"].values())))
    assert len(plan["errors"]) == 2 and all("KeyError" in e and "\n" not in e for e in plan["errors"].values())
    assert list((tmp_path / "out" / "tasks").iterdir()) == [] if (tmp_path / "out" / "tasks").exists() else True


# -- LLM replies ------------------------------------------------------------------------------

SOLVE_OK = "```bash\nawk '{s+=$1} END {print s}' /app/numbers.txt > /app/total.txt\n```"
TESTS_GOOD = ("```python\nimport pathlib\n\n\ndef test_total():\n"
              "    assert pathlib.Path('/app/total.txt').read_text().strip() == '60'\n```")


class Script:
    """Scripted replies per synthesis stage (the stage is named in the system prompt)."""

    def __init__(self, **stages: str) -> None:
        self.stages = {
            "sample": "Sum the numbers in a file and write the total.",
            "judge": '{"accept": true, "reason": "clear"}',
            "instruction": "Add up the integers in /app/numbers.txt and write the total to /app/total.txt.",
            "environment": json.dumps({"files": {"numbers.txt": "10\n20\n30\n"}}),
            "solution": SOLVE_OK,
            "verifier": TESTS_GOOD,
            "attack": json.dumps({"attacks": [{"name": "constant", "script": "echo 0 > /app/total.txt"}]}),
            "config": '{"difficulty": "easy", "tags": ["awk"], "agent_timeout_sec": 120}',
        } | stages
        self.calls: dict[str, int] = defaultdict(int)

    def __call__(self, body, index):
        stage = "?"
        for m in body["messages"]:
            if m["role"] == "system" and m["content"].startswith("litecore-stage: "):
                stage = m["content"].split("\n", 1)[0].removeprefix("litecore-stage: ")
        self.calls[stage] += 1
        return self.stages[stage]


LLM_REPLIES = {
    "judge verdict not JSON": ({"judge": "sure, looks fine!"}, "judge: unreadable verdict"),
    "environment not JSON": ({"environment": "Here are the files you need."}, "environment: reply held no JSON"),
    "environment files not a map": ({"environment": '{"files": ["numbers.txt"]}'}, "'files' must map paths to text"),
    "environment path escapes": ({"environment": '{"files": {"../../etc/passwd": "x"}}'}, "bad file path"),
    "empty instruction": ({"instruction": "   "}, "instruction: empty"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LLM_REPLIES))
def test_malformed_llm_replies_are_rejected_per_item(tmp_path, name):
    """A bad reply costs its plan item (one-line reason in plan.json), never the run, and writes no task."""
    pytest.importorskip("litecore_gen_llm")
    from litecore.llmserver import ScriptedLLM

    stages, message = LLM_REPLIES[name]
    with ScriptedLLM(Script(**stages)) as llm:
        assert llm.url.startswith("http://127.0.0.1:")
        cfg = tmp_path / "pipeline.toml"
        cfg.write_text(textwrap.dedent(f"""
            [run]
            output = "out"
            stages = ["generate", "validate", "export"]
            [generate]
            generator = "llm"
            count = 1
            difficulties = ["easy"]
            model = "openai/scripted"
            api_base = "{llm.url}"
            max_retries = 1
            [generate.domains]
            "data-science" = 1.0
            """))
        res = run_cli("run", str(cfg))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    errors = json.loads((out / "plan.json").read_text())["errors"]
    record("bad_input", category="LLM reply", case=name, error=next(iter(errors.values()), ""))
    assert len(errors) == 1 and message in next(iter(errors.values()))
    assert "\n" not in next(iter(errors.values()))
    assert [p for p in (out / "tasks").iterdir()] == [] if (out / "tasks").exists() else True
    assert json.loads((out / "manifest.json").read_text())["tasks_proven"] == 0


# -- CLI arguments ----------------------------------------------------------------------------

CLI = {
    "verify concurrency zero": (["verify", "-j", "0", "{task}"], "--concurrency"),
    "generate unknown difficulty": (["generate", "-d", "data-science", "--difficulty", "extreme", "-o", "{out}"],
                                    "'extreme' is not one of"),
    "run pipeline is a folder": (["run", "{dir}"], "is a directory"),
    "run unknown backend flag": (["run", "--backend", "qemu", "{cfg}"], "sandbox.backend: unknown sandbox backend 'qemu'"),
    "eval missing dataset": (["eval", "{missing}", "--policy", "noop", "-o", "{out}"], "Directory '{missing}' does not exist"),
    "unknown option": (["run", "--concurrency", "3"], "No such option '--concurrency'"),
}


@pytest.mark.parametrize("name", sorted(CLI))
def test_bad_cli_arguments(tmp_path, name):
    args, message = CLI[name]
    task = make_task(tmp_path / "ds")
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text("[run]\noutput = 'runout'\n")
    subs = {"{task}": str(task.path), "{out}": str(tmp_path / "gen"), "{dir}": str(tmp_path / "ds"),
            "{cfg}": str(cfg), "{missing}": str(tmp_path / "missing")}
    line = _one_error_line(run_cli(*[subs.get(a, a) for a in args], cwd=tmp_path))
    record("bad_input", category="CLI arguments", case=name, error=line)
    assert subs.get(message, message).replace("{missing}", subs["{missing}"]) in line, line
    assert not (tmp_path / "gen").exists() and not (tmp_path / "runout").exists()
