"""Trait directions built on the embedded SmolLM2-135M (``build_steering``, ``psychometrika steer build``): two
builds are byte-identical, the artefact round-trips and its hash follows the prompt set, the per-layer held-out
Cohen's d stored in the artefact agree with a recomputation from ``output_hidden_states`` of single unpadded
prompts, the chosen layer is the one of the largest d, coefficient 0 is bit-identical to no steering in float32 and
a nonzero coefficient changes the option log-probabilities of BFI-44 extraversion items (their monotonicity in the
coefficient is measured and printed, with no threshold: a 135M model need not follow)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import psychometrika as pm  # noqa: E402
from psychometrika.backends import ScoreRequest, make_backend  # noqa: E402
from psychometrika.backends.base import Steering  # noqa: E402
from psychometrika.engine.steering import build_steering, neutral_questions, pole_texts, prompt_set  # noqa: E402
from psychometrika.errors import StudyError  # noqa: E402
from psychometrika.models.steering import artefact_paths, artefact_sha256, load_directions  # noqa: E402

pytestmark = pytest.mark.slow

E_ITEMS = ["bfi01", "bfi06", "bfi11", "bfi16", "bfi21", "bfi26", "bfi31", "bfi36"]  # BFI-44 extraversion
COEFS = [-8.0, -4.0, 0.0, 4.0, 8.0]


@pytest.fixture(scope="module")
def backend():
    be = make_backend("transformers", model="embedded")
    assert be.info.dtype == "float32"
    return be


@pytest.fixture(scope="module")
def built(backend, tmp_path_factory):
    path = tmp_path_factory.mktemp("steer") / "smol-E"
    meta = build_steering(path, trait="extraversion", backend_obj=backend)
    return path, meta


def _independent_d(backend, meta):
    """Held-out d per layer from single-prompt forwards with ``output_hidden_states`` (no padding, no hooks but one
    for the last block, whose hidden state transformers returns after the final norm)."""
    qs = neutral_questions()
    prompts = prompt_set(meta["high_text"], meta["low_text"], qs)
    model = backend.model
    last = {}
    h = model.model.layers[-1].register_forward_hook(
        lambda m, a, o: last.__setitem__("x", o[0] if isinstance(o, tuple) else o))
    acts = []
    try:
        with torch.inference_mode():
            for _, _, msgs in prompts:
                ids = torch.tensor([backend._encode(backend.render(msgs))])
                hs = model(input_ids=ids, output_hidden_states=True).hidden_states
                rows = [x[0, -1].double().numpy() for x in hs[:-1]] + [last["x"][0, -1].double().numpy()]
                acts.append(np.stack(rows))
    finally:
        h.remove()
    acts = np.stack(acts)
    n = len(qs)
    hi, lo = acts[:n], acts[n:]
    even, odd = slice(0, n, 2), slice(1, n, 2)
    ds = [np.nan]
    for layer in range(1, acts.shape[1]):
        u = hi[even, layer].mean(0) - lo[even, layer].mean(0)
        u /= np.sqrt(u @ u)
        a, b = hi[odd, layer] @ u, lo[odd, layer] @ u
        sd = np.sqrt((a.var(ddof=1) * (len(a) - 1) + b.var(ddof=1) * (len(b) - 1)) / (len(a) + len(b) - 2))
        ds.append((a.mean() - b.mean()) / sd)
    return np.array(ds), hi.mean(0) - lo.mean(0)


def test_stored_d_agree_with_a_recomputation_and_the_layer_is_their_argmax(backend, built):
    path, meta = built
    sep = np.array([np.nan if v is None else v for v in meta["separation"]], dtype=float)
    n_layers = len(backend.model.model.layers)
    assert len(sep) == n_layers + 1 and np.isnan(sep[0]) and np.isfinite(sep[1:]).all()
    want, diff = _independent_d(backend, meta)
    print("\nheld-out d per layer:", " ".join(f"{i}:{d:.2f}" for i, d in enumerate(want) if i))
    assert np.abs(sep[1:] - want[1:]).max() < 1e-3
    assert meta["layer"] == int(np.nanargmax(want)) and meta["layer_choice"].startswith("held-out Cohen's d")
    directions, loaded = load_directions(path, artefact_sha256(path))
    assert loaded == meta
    # the stored vectors are the mean differences over all 40 questions (float32 of the float64 mean)
    rel = np.abs(directions[1:] - diff[1:]).max(1) / np.abs(diff[1:]).max(1)
    assert rel.max() < 1e-4
    assert meta["weights_sha256"] == backend.info.weights_sha256 and meta["n_questions"] == 40


def test_two_builds_are_byte_identical_and_the_hash_follows_the_prompt_set(backend, tmp_path):
    qs = neutral_questions()[:10]
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ma = build_steering(a, trait="E", backend_obj=backend, questions=qs)
    mb = build_steering(b, trait="E", backend_obj=backend, questions=qs)
    for x, y in zip(artefact_paths(a), artefact_paths(b)):
        assert x.read_bytes() == y.read_bytes()
    assert ma == mb and artefact_sha256(a) == artefact_sha256(b)
    mc = build_steering(c, trait="E", backend_obj=backend, questions=qs[:9] + ["What is your favourite season?"])
    assert mc["prompt_set_sha256"] != ma["prompt_set_sha256"]
    assert mc["vectors_sha256"] != ma["vectors_sha256"] and artefact_sha256(c) != artefact_sha256(a)
    # a given layer is taken as given; given pole texts are recorded
    md = build_steering(tmp_path / "d", trait="talk", backend_obj=backend, questions=qs[:4], layer=3,
                        high="You love to talk.", low="You hardly ever talk.", norm="unit")
    assert md["layer"] == 3 and md["layer_choice"] == "given" and md["poles"] == "given"
    assert all(d is None for d in md["separation"])  # 2 held out per pole: no d is reported
    d, _ = load_directions(tmp_path / "d")
    assert np.allclose(np.linalg.norm(d[1:], axis=1), 1.0, atol=1e-5)
    with pytest.raises(StudyError, match="choosing a layer needs at least 10"):
        build_steering(tmp_path / "e", trait="E", backend_obj=backend, questions=qs[:9])
    with pytest.raises(StudyError, match="at least 2 are needed"):
        build_steering(tmp_path / "e", trait="E", backend_obj=backend, questions=qs[:1], layer=3)
    with pytest.raises(StudyError, match="no trait"):
        pole_texts("charisma")


def test_coefficient_zero_is_exact_and_steering_moves_extraversion_items(backend, built, tmp_path):
    """Both option orders (original and reversed), so that a shift towards one label (a response style) and a
    shift along the trait can be told apart: the keyed score averaged over the orders cancels the label effect."""
    from psychometrika.plan.plan import build_plan

    path, meta = built
    sf = tmp_path / "s.yaml"
    sf.write_text("id: steer-e\ninstruments: [{id: bfi-44, items: [" + ", ".join(E_ITEMS) + "]}]\n"
                  "models: [{id: smol, backend: transformers, model: embedded}]\n"
                  "option_orders: [original, reversed]\n")
    plan = build_plan(pm.load_study(sf))
    assert sorted(set(plan["item"])) == sorted(E_ITEMS) and set(plan["scale"]) == {"E"} and len(plan) == 16
    vec, sha = str(artefact_paths(path)[0]), artefact_sha256(path)

    def score(coef):
        st = None if coef is None else Steering(vec, sha, (meta["layer"],), coef)
        res = backend.score([ScoreRequest(r.cell_key, tuple(r.messages), tuple(r.continuations), st)
                             for r in plan.itertuples()])
        assert all(x.error is None for x in res)
        return np.array([x.logprobs for x in res])

    plain = score(None)
    assert len({tuple(r) for r in plain}) == len(plain)  # every prompt scored on its own
    assert np.array_equal(score(0.0), plain)  # float32, bit for bit
    lps = {c: (plain if c == 0 else score(c)) for c in COEFS}
    assert np.abs(lps[4.0] - plain).max() > 1e-3 and np.abs(lps[-4.0] - plain).max() > 1e-3
    # value of each display position (permutation: display position -> original option), keyed
    values = np.array([[r.option_values[k] for k in r.permutation] for r in plan.itertuples()])
    keyed = plan["keyed"].to_numpy()
    label_mean, keyed_score = {}, {}
    for c, lp in lps.items():
        p = np.exp(lp - lp.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        label_mean[c] = p @ np.arange(1, 6)
        s = (p * values).sum(1)
        keyed_score[c] = np.where(keyed < 0, 6 - s, s)
    items = list(dict.fromkeys(plan["item"]))
    rows = {it: np.flatnonzero(plan["item"].to_numpy() == it) for it in items}
    m = np.array([[keyed_score[c][rows[it]].mean() for c in COEFS] for it in items])  # items x coefficients
    lab = np.array([label_mean[c] for c in COEFS]).T
    up, down = np.all(np.diff(m, axis=1) > 0, axis=1), np.all(np.diff(m, axis=1) < 0, axis=1)
    lab_down = np.all(np.diff(lab, axis=1) < 0, axis=1)
    print(f"\nlayer {meta['layer']}, coefficients {COEFS}: keyed expected score per item (mean of 2 orders)")
    for it, row in zip(items, m):
        print(f"  {it}: " + " ".join(f"{v:.4f}" for v in row))
    print(f"  increasing in the coefficient on {int(up.sum())}/{len(items)} items, decreasing on "
          f"{int(down.sum())}; scale mean " + " ".join(f"{v:.3f}" for v in m.mean(0)))
    orig = plan["order_id"].to_numpy() == "original"
    gap = max(float(np.abs(label_mean[c][orig] - label_mean[c][~orig]).max()) for c in COEFS)
    print(f"  largest difference of an item's mean label between the two orders: {gap:.4f} (the model answers "
          "by label, not by the option's text, when this is near 0)")
    print(f"  mean label chosen (1..5) falls with the coefficient on {int(lab_down.sum())}/{len(lab)} prompts; "
          "mean label " + " ".join(f"{v:.3f}" for v in lab.mean(0)))


def test_steer_build_command_prints_the_per_layer_table_and_writes_the_artefact(backend, tmp_path, capsys):
    from psychometrika.cli import main

    qfile = tmp_path / "q.txt"
    qfile.write_text("\n".join(neutral_questions()[:4]) + "\n")
    out = tmp_path / "cli-E"
    try:
        main(["steer", "build", "--trait", "E", "--out", str(out), "--questions", str(qfile), "--layer", "5"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    text = capsys.readouterr().out
    meta = load_directions(out, artefact_sha256(out))[1]
    assert meta["n_questions"] == 4 and meta["questions"] == str(qfile) and meta["layer"] == 5
    lines = [ln.split() for ln in text.splitlines() if ln.split() and ln.split()[0].isdigit()]
    assert [int(ln[0]) for ln in lines] == list(range(1, 31)) and all(ln[1] == "n/a" for ln in lines)
    for ln in lines:
        assert abs(float(ln[2]) - meta["mean_diff_norm"][int(ln[0])]) < 1e-3
    assert [ln[0] for ln in lines if "chosen" in ln] == ["5"] and "layer 5 (given)" in text
    # a bad trait is a user error: exit status 2 and one clear message
    with pytest.raises(SystemExit) as exc:
        main(["steer", "build", "--trait", "charisma", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2 and "no trait 'charisma'" in capsys.readouterr().err
