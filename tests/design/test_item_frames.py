"""Item preambles/postambles (PsyBORGS' item instructions) as a paraphrase factor of the study."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from psychometrika.design.factors import expand_factors, plan_size
from psychometrika.design.study import Study
from psychometrika.plan.plan import build_plan

FRAMES = [{"id": "original", "text": "{item}"},
          {"id": "pb1", "text": 'Thinking about the statement "{item}", how accurately does it describe you?'},
          {"id": "pb2", "text": "Please rate this statement: {item}"}]


def _study(frames=None) -> Study:
    para = {"item_frames": frames} if frames is not None else {}
    return Study.model_validate({"id": "frames", "instruments": [{"id": "bfi-44", "items": ["bfi01", "bfi02"]},
                                                                 {"id": "sjt-core", "items": None}],
                                 "models": [{"id": "m", "backend": "dummy"}], "paraphrases": para})


def test_frames_multiply_likert_items_only_and_keep_original_keys():
    plain, framed = build_plan(_study()), build_plan(_study(FRAMES))
    bfi_plain, bfi = plain[plain.instrument == "bfi-44"], framed[framed.instrument == "bfi-44"]
    assert len(bfi) == 3 * len(bfi_plain)
    assert sorted(set(bfi.stem_id)) == ["original", "original~pb1", "original~pb2"]
    sjt_plain, sjt = plain[plain.instrument != "bfi-44"], framed[framed.instrument != "bfi-44"]
    assert sjt.cell_key.tolist() == sjt_plain.cell_key.tolist()  # SJTs are not framed
    # the 'original' frame is the unframed item: same prompts and keys as a study without frames
    assert bfi[bfi.stem_id == "original"].cell_key.tolist() == bfi_plain.cell_key.tolist()
    row = bfi[(bfi.stem_id == "original~pb1") & (bfi.item == "bfi01")].iloc[0]
    assert 'Thinking about the statement "I see myself as someone who is talkative.", how accurately' in \
        row.messages[-1]["content"]
    assert plan_size(_study(FRAMES), expand_factors(_study(FRAMES))) == len(framed)


def test_bad_frames_are_refused():
    with pytest.raises(ValidationError, match=r"must contain \{item\}"):
        _study([{"id": "x", "text": "no placeholder"}])
    with pytest.raises(ValidationError, match="duplicate item frame"):
        _study([FRAMES[1], FRAMES[1]])
