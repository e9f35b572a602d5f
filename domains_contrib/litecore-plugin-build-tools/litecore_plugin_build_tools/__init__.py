"""litecore domain plugin: build tools (make, gcc/ld, CMake, shared libraries, Python packaging)."""

from __future__ import annotations

import importlib

import litecore
from litecore.records import Domain, DomainSpec

#: Family modules, in the order the domain lists them.
FAMILY_MODULES = ("makefile_write", "makefile_repair", "codegen_incremental", "c_build_fix",
                  "cmake_project", "pyproject_offline")

SPEC = DomainSpec(
    description=(
        "Build engineering at the terminal: turning source trees into reproducible artifacts. Writing and "
        "repairing GNU Makefiles (pattern rules, automatic header dependencies, phony targets, parallel-safe "
        "graphs, generated sources), diagnosing compiler and linker errors (missing include paths, libraries, "
        "link order, prototypes), producing static archives and versioned shared libraries with correct "
        "SONAMEs and exported symbols, configuring CMake projects with options and install rules, and "
        "packaging Python projects so they install offline with pip. Success means a clean checkout builds "
        "with the stated command, rebuilds minimally, and installs to the stated layout."
    ),
    skills=("read build errors and map them to the missing flag or rule", "write Makefiles with pattern rules "
            "and -MMD/-MP dependencies", "make builds incremental and -j safe", "respect CC/CFLAGS/PREFIX/DESTDIR "
            "conventions", "build static and shared libraries with ar and gcc -shared", "set SONAME and "
            "symbol visibility", "write CMakeLists.txt with options, targets and install rules",
            "write pyproject.toml metadata, entry points and package data", "verify artifacts with nm, readelf, "
            "ldd and test runs"),
    topics=("C command-line tools", "code generated from table files", "shared libraries and ABI versions",
            "CMake options and install trees", "offline Python wheels and console scripts",
            "broken builds inherited from a colleague"),
    tools=("make", "gcc", "ar", "nm", "readelf", "ldd", "cmake", "pkg-config", "python3", "pip", "setuptools"),
    packages=("make", "gcc", "libc6-dev", "binutils", "cmake", "pkg-config", "python3", "python3-pip",
              "python3-setuptools", "python3-wheel", "python3-venv", "python3-yaml"),
)


def _families() -> tuple:
    mods = [importlib.import_module(f"litecore_plugin_build_tools.families.{m}") for m in FAMILY_MODULES]
    return tuple(m.FAMILY for m in mods)


def domain() -> Domain:
    return Domain(
        name="build-tools",
        spec=SPEC,
        category="build-tools",
        description="Makefiles, compile/link fixes, libraries, CMake and offline Python packaging",
        families=_families(),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
