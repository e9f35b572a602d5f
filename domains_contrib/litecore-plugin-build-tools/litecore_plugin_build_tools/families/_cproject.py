"""A seeded multi-file C project whose output and header dependency graph are known exactly.

Each module ``m`` has ``src/m.c`` and ``include/m.h`` with one function ``long m_apply(long x)``;
a module may call an earlier one and may use ``BASE`` from ``include/config.h`` (pulled in either
directly or through its own header, so some dependencies are transitive). ``main.c`` prints one
line per (module, input). The generator knows which object files depend on which header, which is
what the incremental-build checks need.
"""

from __future__ import annotations

import random

import attrs

from litecore_plugin_build_tools.families._util import MODULE_NAMES, PROJECT_NAMES

MOD = 1000003


@attrs.frozen(kw_only=True)
class Module:
    name: str
    mul: int
    add: int
    dep: str | None
    base_in_header: bool
    base_in_source: bool

    @property
    def uses_base(self) -> bool:
        return self.base_in_header or self.base_in_source


@attrs.frozen(kw_only=True)
class CProject:
    prog: str
    base: int
    modules: tuple[Module, ...]
    inputs: tuple[int, ...]

    def module(self, name: str) -> Module:
        return next(m for m in self.modules if m.name == name)

    def apply(self, name: str, x: int) -> int:
        m = self.module(name)
        inner = self.apply(m.dep, x) if m.dep else x
        return (inner * m.mul + m.add + (self.base if m.uses_base else 0)) % MOD

    def expected_output(self) -> str:
        return "".join(f"{m.name}({x}) = {self.apply(m.name, x)}\n" for m in self.modules for x in self.inputs)

    # -- files -------------------------------------------------------------------------------
    def header(self, m: Module) -> str:
        guard = f"{self.prog.upper()}_{m.name.upper()}_H"
        inc = '#include "config.h"\n' if m.base_in_header else ""
        return f"#ifndef {guard}\n#define {guard}\n{inc}\nlong {m.name}_apply(long x);\n\n#endif\n"

    def source(self, m: Module) -> str:
        incs = [f'#include "{m.name}.h"']
        if m.dep:
            incs.append(f'#include "{m.dep}.h"')
        if m.base_in_source:
            incs.append('#include "config.h"')
        inner = f"{m.dep}_apply(x)" if m.dep else "x"
        base = " + BASE" if m.uses_base else ""
        return ("\n".join(incs) + "\n\n"
                f"long {m.name}_apply(long x)\n{{\n"
                f"    long v = {inner} * {m.mul} + {m.add}{base};\n"
                f"    return v % {MOD}L;\n}}\n")

    def main_source(self) -> str:
        incs = "".join(f'#include "{m.name}.h"\n' for m in self.modules)
        n = len(self.inputs)
        loops = "".join(f"    for (int i = 0; i < {n}; i++)\n"
                        f"        printf(\"{m.name}(%ld) = %ld\\n\", inputs[i], {m.name}_apply(inputs[i]));\n"
                        for m in self.modules)
        return ("#include <stdio.h>\n" + incs + "\nint main(void)\n{\n"
                f"    static const long inputs[] = {{{', '.join(map(str, self.inputs))}}};\n"
                + loops + "    return 0;\n}\n")

    def config_header(self) -> str:
        return f"#ifndef {self.prog.upper()}_CONFIG_H\n#define {self.prog.upper()}_CONFIG_H\n\n#define BASE {self.base}L\n\n#endif\n"

    def files(self) -> dict[str, str]:
        out = {"include/config.h": self.config_header(), "src/main.c": self.main_source()}
        for m in self.modules:
            out[f"include/{m.name}.h"] = self.header(m)
            out[f"src/{m.name}.c"] = self.source(m)
        return out

    # -- dependency graph ----------------------------------------------------------------------
    def includes(self) -> dict[str, tuple[str, ...]]:
        """File -> headers it includes directly (paths relative to the project root)."""
        inc: dict[str, tuple[str, ...]] = {"src/main.c": tuple(f"include/{m.name}.h" for m in self.modules),
                                           "include/config.h": ()}
        for m in self.modules:
            inc[f"include/{m.name}.h"] = ("include/config.h",) if m.base_in_header else ()
            direct = [f"include/{m.name}.h"] + ([f"include/{m.dep}.h"] if m.dep else [])
            if m.base_in_source:
                direct.append("include/config.h")
            inc[f"src/{m.name}.c"] = tuple(direct)
        return inc

    def objects_depending_on(self, header: str) -> list[str]:
        """Object basenames (``m.o``) whose source includes ``header`` directly or transitively."""
        inc = self.includes()
        out = []
        for src in sorted(k for k in inc if k.startswith("src/")):
            seen: set[str] = set()
            stack = list(inc[src])
            while stack:
                h = stack.pop()
                if h not in seen:
                    seen.add(h)
                    stack.extend(inc.get(h, ()))
            if header in seen:
                out.append(src[4:-2] + ".o")
        return out

    def discriminating_header(self, rng: random.Random) -> str:
        """A header whose change must rebuild some objects but not all of them."""
        n_obj = len(self.modules) + 1
        cands = sorted(h for h in self.includes() if h.startswith("include/")
                       and 0 < len(self.objects_depending_on(h)) < n_obj)
        return rng.choice(cands)


def make_project(rng: random.Random, n_modules: int) -> CProject:
    names = rng.sample(MODULE_NAMES, n_modules)
    mods = []
    for i, name in enumerate(names):
        dep = rng.choice(names[:i]) if i and rng.random() < 0.6 else None
        in_header = rng.random() < 0.35
        mods.append(Module(name=name, mul=rng.randint(2, 19), add=rng.randint(0, 97), dep=dep,
                           base_in_header=in_header, base_in_source=(not in_header) and rng.random() < 0.4))
    inputs = tuple(sorted(rng.sample(range(1, 500), rng.randint(2, 4))))
    return CProject(prog=rng.choice(PROJECT_NAMES), base=rng.randint(100, 999), modules=tuple(mods), inputs=inputs)
