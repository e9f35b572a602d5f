import re
from pathlib import Path
from types import MappingProxyType

from litecore_plugin_coding import domain
from litecore_plugin_coding.families.optimize_slow import PROBLEMS

from litecore.sandbox import SandboxBackend
from litecore.testing import DomainContract, generate, materialize
from litecore.verify import HarborVerifier, validate_task


class TestCodingDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)
    # optimize-slow computes large expected answers at generation time: sample it lightly
    instance_seeds = range(70)
    seeds_per_family = MappingProxyType({"optimize-slow": 8})


def test_optimize_slow_untouched_code_earns_nothing(local_backend: SandboxBackend, tmp_path: Path) -> None:
    """Just running the given slow kernels (no optimization) earns 0: every kernel is too slow on the hidden inputs.

    The seeds are chosen so that each kernel is the only one of some instance, where no other kernel can fail for it.
    """
    fam = domain().family("optimize-slow")
    alone: set[str] = set()
    failures = []
    for difficulty in fam.difficulties:
        for seed in (1, 4, 6):
            gen = generate(domain(), "optimize-slow", seed, difficulty)
            names = re.findall(r"kernels\.(\w+)\(", str(gen.files["environment/app/run.py"]))
            if len(names) == 1:
                alone.update(names)
            v = validate_task(materialize(gen, tmp_path), local_backend, HarborVerifier(), repeats=1,
                              attacks={"slow-code": "cd /app && python3 run.py > answers.txt"})
            if not v.ok:
                failures.append(f"{gen.task_id} {names}: {v.reason}")
    assert not failures, failures
    assert alone == {p.func for p in PROBLEMS}
