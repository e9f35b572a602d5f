"""The DMPO pieces on their own: phi, turn segmentation, token weights."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from litecore_trainer_dmpo.loss import assistant_runs, phi, token_weights, tokenize_pair, turn_weights


def test_phi_values() -> None:
    assert turn_weights(1, 0.9) == [1.0]
    assert turn_weights(2, 0.9) == pytest.approx([1.0, 0.47368], abs=1e-5)
    assert turn_weights(3, 0.9) == pytest.approx([1.0, 0.63100, 0.29889], abs=1e-5)
    for T in (2, 5, 9):
        w = turn_weights(T, 0.7)
        assert w[0] == pytest.approx(1.0)
        assert all(a > b > 0 for a, b in zip(w, w[1:]))
    with pytest.raises(ValueError):
        phi(3, 3, 0.9)


def test_phi_gamma_one_is_the_limit() -> None:
    for T in (1, 2, 4, 7):
        exact = turn_weights(T, 1.0)
        assert exact == pytest.approx([(T - t) / T for t in range(T)])
        assert turn_weights(T, 1.0 - 1e-7) == pytest.approx(exact, abs=1e-5)


def test_runs_and_weights() -> None:
    mask = [0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1]
    assert assistant_runs(mask) == [(2, 4), (5, 6), (8, 11)]
    w, T = token_weights(mask, 0.9)
    assert T == 3
    p = turn_weights(3, 0.9)
    assert w == pytest.approx([0, 0, p[0], p[0], 0, p[1], 0, 0, p[2], p[2], p[2]])
    w2, _ = token_weights(mask, 0.9, scored_from=5)
    assert w2 == pytest.approx([0, 0, 0, 0, 0, p[1], 0, 0, p[2], p[2], p[2]])


def _pair() -> dict:
    from litecore_trainer_sft.samples import action, prompt

    pre = prompt(0) + [{"role": "assistant", "content": action("ls", False)},
                       {"role": "user", "content": "New Terminal Output:\ndata0.csv"}]
    chosen = [{"role": "assistant", "content": action("wc -l data0.csv", False)},
              {"role": "user", "content": "New Terminal Output:\n3 data0.csv"},
              {"role": "assistant", "content": action("echo 3 > out.txt", True)}]
    rejected = [{"role": "assistant", "content": action("cat data0.csv", True)}]
    return {"prompt": pre, "chosen": chosen, "rejected": rejected}


def _weighted_spans(tok, ids: list[int], weights: list[float]) -> list[tuple[float, str]]:
    spans, cur, cur_w = [], [], None
    for i, w in zip(ids, weights):
        if w != cur_w and cur:
            if cur_w:
                spans.append((cur_w, tok.decode(cur)))
            cur = []
        cur.append(i)
        cur_w = w
    if cur and cur_w:
        spans.append((cur_w, tok.decode(cur)))
    return spans


@pytest.mark.parametrize("score_prompt_turns", [True, False])
def test_segmentation_with_an_assistant_turn_in_the_prompt(tiny_model: Path, score_prompt_turns: bool) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    ex = _pair()
    out = tokenize_pair(ex, tok, 0.9, score_prompt_turns)
    assert out["chosen_turns"] == 3 and out["rejected_turns"] == 2  # the prompt's turn counts on both sides
    eot = "<|im_end|>\n"
    a0, c1, c2 = ex["prompt"][2]["content"], ex["chosen"][0]["content"], ex["chosen"][2]["content"]
    r1 = ex["rejected"][0]["content"]
    chosen = _weighted_spans(tok, out["prompt_ids"] + out["chosen_ids"], out["chosen_weights"])
    rejected = _weighted_spans(tok, out["prompt_ids"] + out["rejected_ids"], out["rejected_weights"])
    p3, p2 = turn_weights(3, 0.9), turn_weights(2, 0.9)
    want_c = [(p3[1], c1 + eot), (p3[2], c2 + eot)]
    want_r = [(p2[1], r1 + eot)]
    if score_prompt_turns:
        want_c, want_r = [(p3[0], a0 + eot)] + want_c, [(p2[0], a0 + eot)] + want_r
    assert [(pytest.approx(w), s) for w, s in want_c] == chosen
    assert [(pytest.approx(w), s) for w, s in want_r] == rejected


def test_observations_and_markup_weigh_zero(tiny_model: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    ex = _pair()
    out = tokenize_pair(ex, tok, 0.7, True)
    ids, w = out["prompt_ids"] + out["chosen_ids"], out["chosen_weights"]
    unweighted = tok.decode([i for i, x in zip(ids, w) if x == 0])
    for msg in ex["prompt"] + ex["chosen"]:
        if msg["role"] != "assistant":
            assert msg["content"] in unweighted
    weighted = tok.decode([i for i, x in zip(ids, w) if x != 0])
    assert "Terminal Output" not in weighted and "<|im_start|>" not in weighted
    assert weighted.count("<|im_end|>") == 3  # each turn's end-of-turn token is scored
    assert math.isclose(max(w), 1.0)
