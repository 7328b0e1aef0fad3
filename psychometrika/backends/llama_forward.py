"""A lean forward pass for Llama-layout decoders, for option scoring on top of cached prefixes.

Questionnaire scoring runs short suffixes (an item, ~30 tokens) on top of long cached prefixes (system prompt,
persona, instructions, scale) and needs logits at the last few positions only. ``transformers``' generic forward
pays for generality there: a ``DynamicCache`` that concatenates every prefix onto every row's keys and values,
``repeat_kv`` copies of them for grouped-query attention, a 4-D mask, and unfused elementwise kernels. This module
runs the same arithmetic with the model's own weights:

* only the real tokens of a padded batch go through the linear layers, norms and RoPE (packed ``[tokens,
  hidden]``); attention alone uses the padded ``[batch, length]`` grid, so padding costs no GEMM work.
* attention (``attention="sdpa"``, the default) hands each row's cached prefix keys and its suffix keys to
  ``scaled_dot_product_attention`` with one additive mask built per batch, grouped-query heads folded into the
  query dimension instead of repeating the keys. ``attention="matmul"`` computes it in two explicit blocks --
  queries against the cached prefix and against the suffix -- joined in one float32 softmax; a prefix shared by
  the whole batch is then one ``[kv_heads, P, head_dim]`` matrix that every row's queries multiply (no per-row
  copy). Attention is a small share of the FLOPs on this workload (about 0.3 % of the linear layers' at the
  Llama-3-8B shape, 6 % for the 135M embedded model); what it costs beyond that is memory traffic.
* q/k/v and gate/up projections run as one GEMM each (the modules' weights become views into one fused
  tensor, so no memory is added); the residual additions ride in the o and down projections' GEMMs
  (``addmm``); RMSNorm is ``torch.nn.functional.rms_norm`` (one kernel on CUDA).
* the final norm and ``lm_head`` run on the kept last positions only.

Supported: ``model_type`` llama, mistral (no sliding window in reach) and qwen2 (q/k/v biases), with SiLU MLPs,
plain ``nn.Linear`` projections and a position-independent RoPE (default, linear, llama3, yarn...: the inverse
frequencies and scaling are read from the model's own rotary module). :func:`supports` says why not otherwise,
and the backend then uses the ``transformers`` forward. Equality with the ``transformers`` forward is tested
(``tests/backends/test_llama_forward.py``).

Arithmetic follows ``transformers``' Llama: RoPE ``x * cos + rotate_half(x) * sin`` with cos/sin cast to the
model dtype, softmax in float32. In float32 the results equal ``transformers``' up to summation order; in bf16
the norms and the residual additions round once where ``transformers`` rounds twice (scores then differ by
bf16 rounding, ~1e-2 in log-probability).
"""

from __future__ import annotations

import weakref
from typing import Any

_TYPES = {"llama", "mistral", "qwen2"}
_POSITION_DEPENDENT_ROPE = {"dynamic", "longrope"}


def supports(model: Any, max_length: int | None = None) -> str | None:
    """``None`` when :class:`LlamaForward` can run ``model`` on sequences up to ``max_length`` tokens (default:
    the model's ``max_position_embeddings``), else the reason it cannot."""
    try:
        return _unsupported(model, max_length)
    except AttributeError as exc:  # a remote-code model that calls itself llama but is laid out otherwise
        return f"unexpected module layout ({exc})"


def _unsupported(model: Any, max_length: int | None) -> str | None:
    import torch

    cfg = getattr(model, "config", None)
    kind = getattr(cfg, "model_type", None)
    if kind not in _TYPES:
        return f"model_type {kind!r} is not one of {sorted(_TYPES)}"
    if getattr(cfg, "hidden_act", "silu") != "silu":
        return f"hidden_act {cfg.hidden_act!r} is not silu"
    window = getattr(cfg, "sliding_window", None)
    reach = max_length or getattr(cfg, "max_position_embeddings", None) or 1 << 30
    if window and (kind != "qwen2" or getattr(cfg, "use_sliding_window", False)) and window < reach:
        return f"sliding_window {window} is within the context"
    inner = getattr(model, "model", None)
    rotary = getattr(inner, "rotary_emb", None)
    if rotary is None or not hasattr(rotary, "inv_freq"):
        return "no rotary_emb.inv_freq"
    if getattr(rotary, "rope_type", "default") in _POSITION_DEPENDENT_ROPE:
        return f"rope_type {rotary.rope_type!r} depends on the sequence length"
    for layer in inner.layers:
        att, mlp = layer.self_attn, layer.mlp
        mods = [att.q_proj, att.k_proj, att.v_proj, att.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj]
        if any(type(m) is not torch.nn.Linear for m in mods):
            return "projections are not plain nn.Linear (quantized weights?)"
        if any(m.bias is not None for m in mods[3:]) or len({m.bias is None for m in mods[:3]}) > 1:
            return "unsupported projection biases"
    if type(getattr(model, "lm_head", None)) is not torch.nn.Linear:
        return "lm_head is not a plain nn.Linear"
    return None


# fused (weight, bias) of a module whose projections were re-pointed into them: a model attached to several
# backends (the benchmark's) is fused once, not once per backend
_FUSED: "weakref.WeakKeyDictionary[Any, tuple[Any, Any]]" = weakref.WeakKeyDictionary()


def _fuse(torch, owner: Any, mods: list) -> tuple[Any, Any]:
    """One weight (and bias) for the Linear modules ``mods`` of ``owner``, the modules' own parameters becoming
    views of it (same values, no added memory)."""
    done = _FUSED.get(owner)
    if done is not None and mods[0].weight.data_ptr() == done[0].data_ptr() \
            and sum(m.weight.shape[0] for m in mods) == done[0].shape[0]:
        return done
    weight = torch.cat([m.weight.detach() for m in mods], 0)
    bias = torch.cat([m.bias.detach() for m in mods], 0) if mods[0].bias is not None else None
    at = 0
    for m in mods:
        n = m.weight.shape[0]
        m.weight = torch.nn.Parameter(weight[at:at + n], requires_grad=False)
        if bias is not None:
            m.bias = torch.nn.Parameter(bias[at:at + n], requires_grad=False)
        at += n
    _FUSED[owner] = (weight, bias)
    return weight, bias


class LlamaForward:
    """Functional scoring forward over a loaded Llama-layout ``transformers`` model (see the module docstring).

    Args:
        model: a model :func:`supports` accepts. Its q/k/v and gate/up weights are re-pointed into fused
            tensors (same values, same memory).
        compile: wrap each decoder layer in ``torch.compile(dynamic=True)`` (fuses the norm, RoPE and SiLU
            kernels; the first batches of each new shape pay the compile time).
        attention: ``sdpa`` (default) -- each row's prefix and suffix keys concatenated and handed to
            ``torch.nn.functional.scaled_dot_product_attention`` (fused kernels; no score tensor is written to
            memory); ``matmul`` -- explicit attention blocks, a shared prefix multiplied once by every row's
            queries, scores and softmax in float32. On the 2-core CPU both ran at the same speed.
        compute_dtype: run the arithmetic in this dtype (``"float32"``) while the weights stay stored in
            theirs (bfloat16): each layer's weights are widened just before its GEMMs and dropped after, the
            output head in slices of :attr:`HEAD_ROWS` rows -- half the memory of float32 weights at float32
            speed on a CPU without bf16 instructions (1.5 B: benchmarks/bench_dtype.py). ``None``: the
            weights' dtype.
    """

    #: output-head rows widened at a time under ``compute_dtype`` (32k x 1536 float32 = 200 MB)
    HEAD_ROWS = 32768

    ATTENTION = ("sdpa", "matmul")

    def __init__(self, model: Any, *, compile: bool = False, attention: str = "sdpa",
                 compute_dtype: str | None = None) -> None:
        import torch

        reason = supports(model)
        if reason:
            raise ValueError(f"LlamaForward cannot run this model: {reason}")
        if attention not in self.ATTENTION:
            raise ValueError(f"attention must be one of {self.ATTENTION}, not {attention!r}")
        self._torch = torch
        cfg, inner = model.config, model.model
        self.n_heads = cfg.num_attention_heads
        self.n_kv = getattr(cfg, "num_key_value_heads", None) or self.n_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads
        self.scale = self.head_dim ** -0.5
        self.embed = inner.embed_tokens
        self.inv_freq = inner.rotary_emb.inv_freq
        self.rope_scale = float(getattr(inner.rotary_emb, "attention_scaling", 1.0) or 1.0)
        self.norm = (inner.norm.weight, inner.norm.variance_epsilon)
        self.lm_head = model.lm_head
        self.attention = attention
        self.layers = []
        for layer in inner.layers:
            att, mlp = layer.self_attn, layer.mlp
            wqkv, bqkv = _fuse(torch, att, [att.q_proj, att.k_proj, att.v_proj])
            wgu, _ = _fuse(torch, mlp, [mlp.gate_proj, mlp.up_proj])
            self.layers.append((layer.input_layernorm.weight, layer.input_layernorm.variance_epsilon, wqkv, bqkv,
                                att.o_proj.weight, layer.post_attention_layernorm.weight,
                                layer.post_attention_layernorm.variance_epsilon, wgu, mlp.down_proj.weight))
        self._layer = torch.compile(self._layer_fn, dynamic=True) if compile else self._layer_fn
        weights = next(model.parameters()).dtype
        cd = getattr(torch, compute_dtype) if compute_dtype else weights
        self.compute_dtype = None if cd == weights else cd

    def _widen(self, params: tuple) -> tuple:
        cd = self.compute_dtype
        return tuple(p.to(cd) if isinstance(p, self._torch.Tensor) and p.is_floating_point() else p
                     for p in params)

    def _head(self, h):
        F = self._torch.nn.functional
        w, bias = self.lm_head.weight, self.lm_head.bias
        if self.compute_dtype is None:
            return F.linear(h, w, bias)
        cd, n = self.compute_dtype, self.HEAD_ROWS
        return self._torch.cat([F.linear(h, w[i:i + n].to(cd), None if bias is None else bias[i:i + n].to(cd))
                                for i in range(0, w.shape[0], n)], -1)

    # ------------------------------------------------------------------ pieces
    def _rms(self, x, weight, eps):
        # one fused kernel on CUDA; in float32 identical to transformers' (float32 norm, then the weight), in
        # bf16 within one rounding of it
        return self._torch.nn.functional.rms_norm(x, (x.shape[-1],), weight, eps)

    def _rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rot = self._torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rot * sin

    def _layer_fn(self, x, cos, sin, where, b: int, s: int, pk, pv, shared: bool, masks, params):
        """One decoder layer on the packed real tokens ``x`` [T, D] (``where``: their places in the padded
        grid -- flat indices into [b * s], and the same as (row, column) index pairs -- or None when nothing
        is padded). The linear layers, norms and RoPE run on the T real tokens only; attention runs on the
        padded grid with the prefix keys/values ``pk``/``pv`` ([1 or b, kv, P, d], or None) and the masks of
        :meth:`_masks`. Returns the new states and this layer's suffix keys/values [b, kv, s, d]."""
        torch = self._torch
        F = torch.nn.functional
        ln1, eps1, wqkv, bqkv, wo, ln2, eps2, wgu, wd = params
        kvh, d, nh = self.n_kv, self.head_dim, self.n_heads
        g = nh // kvh
        qkv = F.linear(self._rms(x, ln1, eps1), wqkv, bqkv)
        q, k, v = qkv.split([nh * d, kvh * d, kvh * d], dim=-1)
        q = self._rope(q.view(-1, nh, d), cos, sin)
        k = self._rope(k.view(-1, kvh, d), cos, sin)
        if where is not None:  # padding positions get zero states (masked as keys, never read as queries)
            rows = where[0]
            q = q.new_zeros((b * s, nh, d)).index_copy_(0, rows, q)
            k = k.new_zeros((b * s, kvh, d)).index_copy_(0, rows, k)
            v = v.new_zeros((b * s, kvh * d)).index_copy_(0, rows, v)
        k = k.view(b, s, kvh, d).transpose(1, 2)  # [b, kv, s, d]
        v = v.reshape(b, s, kvh, d).transpose(1, 2)
        # query heads h = kv * g + j share key head kv: fold (s, g) into the query dimension
        q = q.view(b, s, kvh, g, d).permute(0, 2, 1, 3, 4).reshape(b, kvh, s * g, d)
        attend = self._attend_sdpa if self.attention == "sdpa" else self._attend_matmul
        out = attend(q, k, v, pk, pv, shared, masks)  # [b, kv, s * g, d]
        out = out.view(b, kvh, s, g, d).permute(0, 2, 1, 3, 4)  # [b, s, kv, g, d]
        # back to the packed tokens in one gather (a reshape would copy the padded grid first)
        out = out.reshape(b * s, nh * d) if where is None else out[where[1], where[2]].view(-1, nh * d)
        x = torch.addmm(x, out, wo.t())  # the residual added in the GEMM's epilogue
        gate, up = F.linear(self._rms(x, ln2, eps2), wgu).chunk(2, dim=-1)
        x = torch.addmm(x, F.silu(gate) * up, wd.t())
        return x, k, v

    def _attend_matmul(self, q, k, v, pk, pv, shared: bool, masks):
        """Attention as explicit matmuls: scores against the prefix and against the suffix joined in one
        float32 softmax; a prefix shared by all rows is one matrix that every row's queries multiply."""
        torch = self._torch
        pbias, sbias = masks
        b, kvh, sg, d = q.shape
        s = k.shape[2]
        g = sg // s
        scores_s = torch.matmul(q, k.transpose(-1, -2)).view(b, kvh, s, g, s).float() * self.scale + sbias
        if pk is None:
            return torch.matmul(torch.softmax(scores_s, -1).to(q.dtype).reshape(b, kvh, sg, s), v)
        if shared:  # every row's queries against the one prefix: [kv, b*s*g, d] @ [kv, d, P]
            sp = torch.matmul(q.transpose(0, 1).reshape(kvh, b * sg, d), pk[0].transpose(-1, -2))
            sp = sp.view(kvh, b, s, g, -1).transpose(0, 1)
        else:
            sp = torch.matmul(q, pk.transpose(-1, -2)).view(b, kvh, s, g, -1)
        p_len = sp.shape[-1]
        probs = torch.softmax(torch.cat([sp.float() * self.scale + pbias, scores_s], -1), -1).to(q.dtype)
        pp, ps = probs[..., :p_len], probs[..., p_len:]
        if shared:
            out = torch.matmul(pp.transpose(0, 1).reshape(kvh, b * sg, p_len), pv[0])
            out = out.view(kvh, b, sg, d).transpose(0, 1)
        else:
            out = torch.matmul(pp.reshape(b, kvh, sg, p_len), pv)
        return out + torch.matmul(ps.reshape(b, kvh, sg, s), v)

    def _attend_sdpa(self, q, k, v, pk, pv, shared: bool, masks):
        """Attention by ``scaled_dot_product_attention`` over each row's prefix + suffix keys (the prefix
        expanded or gathered per row: one copy of its keys/values per layer, but no score tensor in
        memory)."""
        torch = self._torch
        if pk is not None:
            b = q.shape[0]
            if shared:
                pk, pv = pk.expand(b, -1, -1, -1), pv.expand(b, -1, -1, -1)
            k, v = torch.cat([pk, k], 2), torch.cat([pv, v], 2)
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=masks, scale=self.scale)

    def _masks(self, valid, plen, p_width: int, g: int, dtype):
        """Additive masks for :meth:`_layer_fn`: causal over the suffix (padding keys masked, a padding query
        attends to itself so that it stays finite) and the prefix's padding beyond each row's length
        ``plen`` ([1 or b], or None without a prefix). ``matmul``: float32 ``(pbias [1 or b, 1, 1, 1, P],
        sbias [b, 1, s, 1, s])``; ``sdpa``: one ``[b, 1, s * g, P + s]`` mask in the model dtype."""
        torch = self._torch
        b, s = valid.shape
        dev = valid.device
        causal = torch.tril(torch.ones((s, s), dtype=torch.bool, device=dev))
        allowed = causal[None] & valid[:, None, :]
        allowed = allowed | torch.eye(s, dtype=torch.bool, device=dev)[None]  # [b, s(query), s(key)]
        if plen is not None:
            inside = torch.arange(p_width, device=dev)[None, :] < plen.view(-1, 1)  # [1 or b, P]
        if self.attention == "sdpa":
            if plen is not None:
                allowed = torch.cat([inside[:, None, :].expand(b, s, -1), allowed], -1)
            allowed = allowed[:, None, :, None, :].expand(-1, -1, -1, g, -1).reshape(b, 1, s * g, -1)
            return torch.zeros(allowed.shape, dtype=dtype, device=dev).masked_fill_(~allowed, torch.finfo(dtype).min)
        neg = torch.finfo(torch.float32).min
        sbias = torch.zeros((b, s, s), device=dev).masked_fill(~allowed, neg)[:, None, :, None, :]
        pbias = None
        if plen is not None:
            pbias = torch.zeros(inside.shape, device=dev).masked_fill(~inside, neg)[:, None, None, None, :]
        return pbias, sbias

    # ------------------------------------------------------------------ forward
    def __call__(self, ids, positions, valid, past=None, keep: int = 1, want_cache: bool = False,
                 steer: dict[int, Any] | None = None):
        """Logits of the last ``keep`` positions, and the new tokens' keys/values when ``want_cache``.

        Args:
            ids, positions: ``[b, s]`` token ids and their positions (a row's first suffix token sits at
                position = its prefix length).
            valid: ``[b, s]`` bool, the real (non-padding) tokens; padding may be on either side. Only the
                real tokens go through the linear layers.
            past: ``None`` or ``(layers, lengths, rows)``: per-layer ``(keys, values)`` of shape
                ``[n, kv_heads, P, head_dim]`` (after RoPE, as ``transformers`` caches them), each prefix's
                valid length ``[n]`` (positions beyond it are padding), and ``rows`` -- ``None`` when every
                row continues prefix 0 (then ``n`` should be 1), else a ``[b]`` index into the ``n`` prefixes.
            keep: how many last positions need logits (those that are padding in a row get meaningless ones).
            want_cache: also return per-layer ``(keys, values)`` of the suffix tokens, ``[b, kv, s, d]``
                (zeros at padding positions).
            steer: activation steering, ``{layer index: vector [hidden]}``: the vector is added to the residual
                stream after that decoder layer, at every token (as
                :func:`psychometrika.backends.steering.steering_hooks` does to the ``transformers`` forward).
        """
        torch = self._torch
        b, s = ids.shape
        dev = ids.device
        flat = valid.reshape(-1)
        rows = None if bool(flat.all()) else flat.nonzero().squeeze(1)
        tok, pos = ids.reshape(-1), positions.reshape(-1)
        where = None
        if rows is not None:
            tok, pos = tok.index_select(0, rows), pos.index_select(0, rows)
            where = (rows, rows // s, rows % s)
        x = self.embed(tok)  # [T, D]
        if self.compute_dtype is not None:
            x = x.to(self.compute_dtype)
        freqs = pos.to(torch.float32)[:, None] * self.inv_freq.float().to(dev)
        emb = torch.cat((freqs, freqs), -1)
        cos = (emb.cos() * self.rope_scale).to(x.dtype)[:, None, :]
        sin = (emb.sin() * self.rope_scale).to(x.dtype)[:, None, :]
        layers, shared, which, plen, p_width = None, False, None, None, 0
        if past is not None:
            layers, lengths, which = past
            shared = which is None
            p_width = layers[0][0].shape[2]
            plen = lengths.to(dev) if which is None else lengths.to(dev).index_select(0, which)
        masks = self._masks(valid, plen, p_width, self.n_heads // self.n_kv, x.dtype)
        new = []
        for li, params in enumerate(self.layers):
            pk = pv = None
            if layers is not None:
                pk, pv = layers[li]
                if not shared:
                    pk, pv = pk.index_select(0, which), pv.index_select(0, which)
            if self.compute_dtype is not None:
                params = self._widen(params)
            x, k, v = self._layer(x, cos, sin, where, b, s, pk, pv, shared, masks, params)
            del params
            if steer and li in steer:
                x = x + steer[li]
            if want_cache:
                new.append((k, v))
        if rows is not None:  # back onto the padded grid for the last positions
            x = x.new_zeros((b * s, x.shape[-1])).index_copy_(0, rows, x)
        norm_w, norm_eps = self.norm
        h = self._rms(x.view(b, s, -1)[:, -keep:], norm_w.to(x.dtype), norm_eps)
        logits = self._head(h)
        return (logits, new) if want_cache else logits
