"""Bad input: one clear line naming the file, field or plugin; exit code 2; nothing written."""

from __future__ import annotations


import pytest

from litecore.testing import make_task, run_cli

def error_lines(stderr: str) -> list[str]:
    """stderr minus warnings about unrelated broken plugins (those are one line each, by design)."""
    return [ln for ln in stderr.strip().splitlines() if not ln.startswith("litecore: warning: ")]


PIPELINES = {
    "bad toml": ("[run\noutput = 'x'", "invalid TOML"),
    "unknown key": ("[generate]\ncuont = 3\n", "generate.cuont: unknown key"),
    "wrong type": ("[generate]\ncount = 'ten'\n", "generate.count: expected an integer, got str 'ten'"),
    "bool for int": ("[run]\nconcurrency = true\n", "run.concurrency: expected an integer, got a boolean"),
    "non-positive": ("[generate]\ncount = 0\n", "generate.count: must be positive"),
    "unknown section": ("[trian]\nepochs = 1\n", "[trian]: unknown section"),
    "unknown backend": ("[sandbox]\nbackend = 'dokcer'\n", "sandbox.backend: unknown sandbox backend 'dokcer'; available:"),
    "unknown policy": ("[rollout]\npolicy = 'orcale'\n", "rollout.policy: unknown policy 'orcale'; available:"),
    "unknown generator": ("[generate]\ngenerator = 'magic'\n", "generate.generator: unknown generator 'magic'"),
    "unknown domain": ("[generate.domains]\nunderwater-basket-weaving = 1.0\n",
                       "generate.domains.underwater-basket-weaving: unknown domain"),
    "unknown family": ("[generate.families]\ndata-science = ['nope']\n", "has no task family 'nope'"),
    "bad difficulty": ("[generate]\ndifficulties = ['extreme']\n", "generate.difficulties: must be a non-empty list"),
    "bad stage": ("[run]\nstages = ['generate', 'deploy']\n", "run.stages: unknown stage 'deploy'"),
    "plugin option typo": ("[sandbox]\nbackend = 'local'\nrooot = '/tmp'\n", "sandbox.rooot: unknown key"),
    "plugin option type": ("[sandbox]\nbackend = 'local'\nmax_output_bytes = 'lots'\n",
                           "sandbox.max_output_bytes: expected an integer"),
    "section not a table": ("run = 5\n", "run: expected a table"),
}


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_malformed_pipeline_toml(tmp_path, name):
    text, message = PIPELINES[name]
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text(f"[run]\noutput = 'out'\n{text}" if not text.startswith(("[run", "run =")) else text)
    res = run_cli("run", str(cfg))
    lines = error_lines(res.stderr)
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and lines[0].startswith("litecore: error: "), res.stderr
    assert str(cfg) in lines[0] and message in lines[0], lines[0]
    assert not (tmp_path / "out").exists()
    assert "Traceback" not in res.stderr


def test_missing_pipeline_file(tmp_path):
    res = run_cli("run", str(tmp_path / "nope.toml"))
    assert res.returncode == 2 and "nope.toml: no such file" in res.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["verify", "{missing}"], "no such task or dataset folder"),
        (["verify", "{noinstr}"], "instruction.md: missing"),
        (["verify", "--backend", "dokcer", "{task}"], "unknown sandbox backend 'dokcer'"),
        (["generate", "--domain", "nonexistent", "-o", "{out}"], "unknown domain 'nonexistent'"),
        (["generate", "--domain", "data-science", "--family", "nope", "-o", "{out}"], "no task family 'nope'"),
        (["generate", "--domain", "data-science", "-n", "zero", "-o", "{out}"], "'zero' is not a valid integer"),
        (["verify", "--repeats", "0", "{task}"], "--repeats"),
        (["run", "--stages", "generate,deploy"], "unknown stage 'deploy'"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["run", "--count", "-3"], "--count"),
    ],
)
def test_malformed_cli_arguments(tmp_path, args, message):
    task = make_task(tmp_path / "ds")
    noinstr = make_task(tmp_path / "ds2")
    (noinstr.path / "instruction.md").unlink()
    subs = {"{missing}": str(tmp_path / "missing"), "{noinstr}": str(noinstr.path), "{task}": str(task.path),
            "{out}": str(tmp_path / "gen")}
    res = run_cli(*[subs.get(a, a) for a in args], cwd=tmp_path)
    lines = error_lines(res.stderr)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert len(lines) == 1 and lines[0].startswith("litecore: error: ") and message in lines[0], res.stderr
    assert not (tmp_path / "gen").exists() and not (tmp_path / "runs").exists()
