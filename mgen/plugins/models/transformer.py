"""A decoder-only (causal) Transformer on the same contract as the recurrent models.

    ids [B, T] -> embedding -> L x (pre-norm attention + pre-norm MLP) -> norm -> tied head

Positions are rotary (RoPE): attention scores depend only on how far apart two tokens are, so
a token attends to itself and the `context - 1` tokens before it wherever it stands, a sliding
window that needs no absolute position. The state is a key/value cache per layer holding the
last `context - 1` positions, with keys stored before rotation: each call rotates them for
positions 0..S-1 and the new tokens for S..S+T-1, so a cache that slid along a long piece is
exactly as valid as a fresh one. Hence `forward(ids[:, t:t+1], cache)` token by token gives the
logits of one pass over the whole sequence, however long, and sampling costs one token's
projections per step plus attention over at most `context` keys (never a recompute of the
window). Training on lanes carries the (detached) cache from window to window, Transformer-XL
style, so training tokens see the same up-to-`context` history as scoring and sampling do.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.model import ModelConfig, SequenceModel, State
from mgen.plugins.models.recurrent import fast_dropout

#: One layer's cache: keys and values [B, heads, S, head_dim], keys not yet rotated.
LayerCache = tuple[torch.Tensor, torch.Tensor]


@dataclasses.dataclass
class TransformerConfig(ModelConfig):
    embed_dim: int = 128
    num_layers: int = 4
    heads: int = 4
    context: int = 256  # a token attends to itself and the context - 1 tokens before it
    hidden_size: int = 0  # MLP width; 0: 4 x embed_dim
    dropout: float = 0.1  # on the embeddings and on each residual branch, while training
    rope_base: float = 10000.0  # rotary frequencies: base ** (-2i / head_dim)

    def validate(self) -> None:
        super().validate()
        for name in ("embed_dim", "num_layers", "heads", "context"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.embed_dim % self.heads:
            raise ConfigError(
                f"heads ({self.heads}) must divide embed_dim ({self.embed_dim}) evenly"
            )
        if (self.embed_dim // self.heads) % 2:
            raise ConfigError(
                f"rotary positions need an even head size; embed_dim / heads = "
                f"{self.embed_dim} / {self.heads} = {self.embed_dim // self.heads}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.rope_base <= 1.0:
            raise ConfigError(f"rope_base must be > 1, got {self.rope_base}")

    @property
    def mlp_width(self) -> int:
        return self.hidden_size or 4 * self.embed_dim


def rotary_table(n: int, head_dim: int, base: float, device: torch.device) -> torch.Tensor:
    """cos and sin of the rotation angles of positions 0..n-1: [2, n, head_dim / 2] (fp32)."""
    freqs = base ** (-torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
    angles = torch.arange(n, device=device, dtype=torch.float32)[:, None] * freqs  # [n, D/2]
    return torch.stack([angles.cos(), angles.sin()])


def rotate(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_i, x_{i+D/2}) of x [B, H, n, D] by its position's angle (NeoX-style
    halves); `table` [2, n, D/2] from `rotary_table`. Rotations keep norms, and q.k of two
    rotated vectors depends on the difference of their positions only."""
    cos, sin = table.to(x.dtype)
    x1, x2 = x.chunk(2, dim=-1)  # [B, H, n, D/2] each
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def attention_mask(
    t: int, s: int, context: int, live: torch.Tensor | None, device: torch.device
) -> torch.Tensor | None:
    """Which keys each query may see when T=t new tokens follow S=s cached ones: [t, s+t] bool,
    True where s+i - context < j <= s+i (itself and the context - 1 keys before it), and with
    `live` ([B, s] bool: cached positions a row may still see) [B, 1, t, s+t]. None when no key
    is out of reach: plain causal attention (no cache, t <= context) or a single new token that
    sees every key (the sampling step); no mask to build for either."""
    if live is None and ((s == 0 and t <= context) or (t == 1 and s < context)):
        return None
    q = torch.arange(s, s + t, device=device)[:, None]  # [t, 1] query positions
    k = torch.arange(s + t, device=device)  # [s+t] key positions
    band = (k <= q) & (k > q - context)
    if live is None:
        return band
    seen = torch.cat([live, live.new_ones(live.shape[0], t)], dim=1)  # [B, s+t]
    return band & seen[:, None, None, :]  # a query always sees itself: no empty row


class Attention(nn.Module):
    """Multi-head causal self-attention over the cached keys/values and the new tokens."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.heads, self.keep = c.heads, c.context - 1
        self.qkv = nn.Linear(c.embed_dim, 3 * c.embed_dim, bias=False)
        self.proj = nn.Linear(c.embed_dim, c.embed_dim, bias=False)

    def forward(
        self, x: torch.Tensor, table: torch.Tensor, mask: torch.Tensor | None, cache: LayerCache
    ) -> tuple[torch.Tensor, LayerCache]:
        b, t, e = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, -1).permute(2, 0, 3, 1, 4)  # [B,H,T,D]
        if cache[0].shape[2]:  # [B, H, S+T, D]: the past first
            k = torch.cat([cache[0].to(k.dtype), k], dim=2)
            v = torch.cat([cache[1].to(v.dtype), v], dim=2)
        n = k.shape[2]
        cut = max(0, n - self.keep)  # the next call sees the last context - 1 positions
        new_cache = (k[:, :, cut:], v[:, :, cut:])
        q = rotate(q, table[:, n - t :])  # positions S..S+T-1
        k = rotate(k, table[:, :n])  # positions 0..S+T-1
        # No mask: the plain causal case (no cache, all within context) uses the fused kernel's
        # own causal mask; a single step sees every key.
        causal = mask is None and t > 1
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
        return self.proj(y.transpose(1, 2).reshape(b, t, e)), new_cache  # [B, T, E]


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.p = c.dropout
        self.norm1 = nn.LayerNorm(c.embed_dim)
        self.attn = Attention(c)
        self.norm2 = nn.LayerNorm(c.embed_dim)
        self.up = nn.Linear(c.embed_dim, c.mlp_width)
        self.down = nn.Linear(c.mlp_width, c.embed_dim)

    def forward(
        self, x: torch.Tensor, table: torch.Tensor, mask: torch.Tensor | None, cache: LayerCache
    ) -> tuple[torch.Tensor, LayerCache]:
        a, cache = self.attn(self.norm1(x), table, mask, cache)
        x = x + fast_dropout(a, self.p, self.training)
        m = self.down(F.gelu(self.up(self.norm2(x))))  # [B, T, mlp] -> [B, T, E]
        return x + fast_dropout(m, self.p, self.training), cache


class Transformer(SequenceModel):
    """Decoder-only Transformer: rotary positions, a sliding key/value cache as its state."""

    Config: ClassVar[type[ModelConfig]] = TransformerConfig

    def __init__(self, config: TransformerConfig):
        super().__init__(config)
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim)  # also the output layer (tied)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.num_layers))
        self.norm = nn.LayerNorm(c.embed_dim)
        self.apply(self._init)
        for block in self.blocks:  # GPT-2: residual branches shrink with depth
            for w in (block.attn.proj.weight, block.down.weight):
                nn.init.normal_(w, std=0.02 / math.sqrt(2 * c.num_layers))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, ids: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        c = self.config
        b, t = ids.shape
        live, caches = state if state is not None else self.init_state(b, ids.device)
        s = caches[0][0].shape[2]  # positions already cached
        table = rotary_table(s + t, c.embed_dim // c.heads, c.rope_base, ids.device)
        mask = attention_mask(t, s, c.context, live, ids.device)
        x = fast_dropout(self.embed(ids), c.dropout, self.training)  # [B, T, E]
        new = []
        for block, cache in zip(self.blocks, caches, strict=True):
            x, cache = block(x, table, mask, cache)
            new.append(cache)
        logits = F.linear(self.norm(x), self.embed.weight)  # [B, T, V], weights tied
        return logits, (self._live_after(live, t, new[0][0].shape[2]), tuple(new))

    @staticmethod
    def _live_after(live: torch.Tensor | None, t: int, kept: int) -> torch.Tensor | None:
        """`live` for the cache after T=t more tokens, of which it keeps the last `kept`
        positions; None once every row sees its whole cache again."""
        if live is None:
            return None
        live = torch.cat([live, live.new_ones(live.shape[0], t)], dim=1)  # [B, S+T]
        live = live[:, live.shape[1] - kept :]
        return None if bool(live.all()) else live

    def init_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        """An empty cache: (None: every row sees all its cached positions, per layer keys and
        values of no positions [B, H, 0, D])."""
        c = self.config
        empty = torch.zeros(batch, c.heads, 0, c.embed_dim // c.heads, device=device)
        return None, tuple((empty, empty) for _ in range(c.num_layers))

    def reset_rows(self, state: State, rows: torch.Tensor) -> State:
        """Rows marked in `rows` ([B] bool) forget their cache, as if it were empty: a cache
        cannot shrink for some rows only, so `live` ([B, S] bool) hides those positions from
        them until they slide out of the window (training, where a row opens a new piece)."""
        if not bool(rows.any()):
            return state
        live, caches = state
        if live is None:
            live = torch.ones(rows.shape[0], caches[0][0].shape[2], dtype=torch.bool,
                              device=rows.device)  # fmt: skip
        return live & ~rows[:, None], caches

    def flops_per_token(self, keys: float | None = None) -> float:
        """Forward FLOPs per token (2 per multiply-add): the matrix products of every layer and
        of the tied output layer, and attention over `keys` keys (default: a full context)."""
        c = self.config
        keys = c.context if keys is None else keys
        per_layer = 2 * (4 * c.embed_dim**2 + 2 * c.embed_dim * c.mlp_width)
        attention = 2 * 2 * keys * c.embed_dim  # q.k scores and the weighted sum of values
        return c.num_layers * (per_layer + attention) + 2 * c.embed_dim * c.vocab_size
