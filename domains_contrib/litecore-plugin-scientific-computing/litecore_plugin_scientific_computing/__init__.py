"""litecore domain plugin: scientific computing."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_scientific_computing.families import (fix_unstable, least_squares, monte_carlo, ode_checkpoints,
                                                           quadrature, sparse_solve)

SPEC = DomainSpec(
    description=(
        "Numerical work at the terminal: evaluating integrals and solving ODEs to a stated tolerance, "
        "finding and repairing numerically unstable code (cancellation, overflow), fitting models to "
        "measurement files by least squares, reading and solving sparse linear systems stored in "
        "standard exchange formats, and making stochastic simulations reproducible and unbiased. "
        "Answers are checked against exact or high-accuracy reference values with explicit tolerances."
    ),
    skills=("choose a numerical method that meets a tolerance", "convert higher-order ODEs to first-order systems",
            "detect events in ODE solutions", "spot catastrophic cancellation and overflow",
            "weighted and nonlinear least squares", "parse Matrix Market files", "assemble sparse matrices (CSR)",
            "control random seeds and estimate Monte Carlo error", "validate results against known cases"),
    topics=("definite and improper integrals", "population and pendulum models", "numerical stability",
            "curve fitting of lab measurements", "sparse linear systems", "Monte Carlo probability estimates"),
    tools=("python3", "numpy", "scipy (integrate, optimize, sparse)", "awk", "bc"),
    packages=("python3", "python3-numpy", "python3-scipy", "bc", "gawk"),
)


def domain() -> Domain:
    return Domain(
        name="scientific-computing",
        spec=SPEC,
        category="scientific-computing",
        description="numerical methods to a tolerance: quadrature, ODEs, stability, fitting, sparse, Monte Carlo",
        families=(quadrature.FAMILY, ode_checkpoints.FAMILY, fix_unstable.FAMILY, least_squares.FAMILY,
                  sparse_solve.FAMILY, monte_carlo.FAMILY),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
