"""litecore domain ``toy``: tasks regular enough for a model trained from scratch on a CPU.

The closed learning loop (``examples/closed_loop``) needs environments a model of
well under a million parameters can learn from a few hundred expert
trajectories. Every instance asks for values that appear only in its
instruction (a word, a file name), so a constant answer fails and instances
from unseen seeds test whether the model copies from the task rather than
remembering training answers. Each family's reference solution is one shell
command, so an expert trajectory is two turns: the command, then "done".
"""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_toy.families import FAMILIES

SPEC = DomainSpec(
    description=(
        "Toy terminal chores for tiny models: write a word given in the task into a file whose "
        "name is given in the task. Exists to exercise the learning loop end to end on a CPU, "
        "not to teach anything useful."
    ),
    skills=("read a value from the instruction", "write it to the file the instruction names"),
    topics=("answer files", "named text files"),
    tools=("echo", "shell redirection"),
    packages=("bash", "python3"),
)


def domain() -> Domain:
    return Domain(
        name="toy",
        spec=SPEC,
        category="toy",
        description="one-command file chores whose values come from the instruction (CPU closed loop)",
        families=FAMILIES,
    )


@litecore.hookimpl
def litecore_domains() -> list[Domain]:
    return [domain()]
