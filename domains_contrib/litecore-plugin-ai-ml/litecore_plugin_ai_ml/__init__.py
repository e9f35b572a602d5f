"""litecore domain plugin: machine learning at the terminal."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_ai_ml.families import (
    checkpoint_convert,
    classification_metrics,
    fix_training,
    hyperparameter_search,
    tokenizer_vocab,
    train_classifier,
)

SPEC = DomainSpec(
    description=(
        "Practical machine-learning engineering in a terminal with small, CPU-sized data: training and "
        "shipping models that must generalise to data the engineer never sees, debugging training code "
        "whose bugs are silent (leakage, misaligned labels, wrong gradients, dishonest metrics), evaluating "
        "predictions by precisely stated rules, tuning hyperparameters by cross-validation within a budget, "
        "building tokenizers to an exact specification, and moving model weights between serialisation "
        "formats without losing names, layouts or dtypes."
    ),
    skills=("inspect datasets and class balance", "train and compare scikit-learn models by cross-validation",
            "write a prediction CLI around a saved model", "debug numpy training loops",
            "detect data leakage in preprocessing", "compute precision/recall/F1 and averages by stated rules",
            "run a grid search with K-fold CV and report it", "implement word-level and BPE tokenizers",
            "read and write .npz checkpoints", "convert tensor layouts (transpose, rename, dtype)"),
    topics=("churn and fraud classifiers", "sensor fault detection", "spam filtering", "logistic regression",
            "ridge regression", "model evaluation reports", "tokenizers for language models",
            "checkpoint export for serving"),
    tools=("python3", "numpy", "pandas", "scikit-learn", "scipy", "jq", "head/wc/cut"),
    packages=("python3", "python3-numpy", "python3-pandas", "python3-scipy", "python3-sklearn", "jq"),
)


def domain() -> Domain:
    return Domain(
        name="ai-ml",
        spec=SPEC,
        category="machine-learning",
        description="train, debug, evaluate, tune and serialise small ML models on CPU",
        families=(
            train_classifier.FAMILY,
            fix_training.FAMILY,
            classification_metrics.FAMILY,
            hyperparameter_search.FAMILY,
            tokenizer_vocab.FAMILY,
            checkpoint_convert.FAMILY,
        ),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
