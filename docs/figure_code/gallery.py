"""The gallery of docs/seeing_the_graph.md: the recurrent architectures of Goodfellow et al. (2016),
chapter 10, each written in a few lines of plain code, and the figure drawn from exactly that code.

The page shows each snippet as it is here (a test checks that), and each figure is what running
the snippet and drawing its `dot` gives.
"""
from __future__ import annotations

SNIPPETS = {
    # fig. 10.3: an output at every step, hidden-to-hidden recurrence
    "gallery_10_3": '''\
import numpy as np
from tinygrad_rnn import Linear, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph

rng = np.random.default_rng(0)
xs = [Tensor(rng.standard_normal((1, 3))) for _ in range(4)]
ys = [Tensor(rng.standard_normal((1, 2))) for _ in range(4)]
cell, head = RNNCell(3, 4, rng=0), Linear(4, 2, rng=1)
a, loss = None, 0.0
for x, y in zip(xs, ys):
    a = cell(x, a)                       # a_t = tanh(U x_t + W a_{t-1} + b)
    loss = loss + F.mse_loss(head(a), y)  # ŷ_t = V a_t + c
dot = draw_graph(loss)
''',
    # fig. 10.4: the recurrence runs from the output to the next hidden state
    "gallery_10_4": '''\
import numpy as np
from tinygrad_rnn import Linear, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph

rng = np.random.default_rng(0)
xs = [Tensor(rng.standard_normal((1, 3))) for _ in range(4)]
ys = [Tensor(rng.standard_normal((1, 2))) for _ in range(4)]
cell, head = RNNCell(3 + 2, 4, rng=0), Linear(4, 2, rng=1)
o, loss = Tensor(np.zeros((1, 2))), 0.0
for x, y in zip(xs, ys):
    a = cell(F.concat([x, o], axis=-1))  # no a_{t-1}: the state sees the last output only
    o = head(a)
    loss = loss + F.mse_loss(o, y)
dot = draw_graph(loss)
''',
    # fig. 10.5: one output at the end (the adding problem's shape), through RNN
    "gallery_10_5": '''\
import numpy as np
from tinygrad_rnn import RNN
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph

rng = np.random.default_rng(0)
xs = rng.standard_normal((4, 1, 3))      # (T, batch, inputs)
y = rng.standard_normal((1, 2))
rnn = RNN(3, 4, output_size=2, rng=0)
outs, _ = rnn(xs)
loss = F.mse_loss(outs[-1], y)           # only ŷ_T is read
dot = draw_graph(loss)
''',
    # fig. 10.11: bidirectional, h_t forward and g_t backward, ŷ_t reads both
    "gallery_10_11": '''\
import numpy as np
from tinygrad_rnn import Linear, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph

rng = np.random.default_rng(0)
xs = [Tensor(rng.standard_normal((1, 3))) for _ in range(4)]
ys = [Tensor(rng.standard_normal((1, 2))) for _ in range(4)]
fwd, bwd, head = RNNCell(3, 4, rng=0), RNNCell(3, 4, rng=1), Linear(8, 2, rng=2)
h = g = None
hs, gs = [], []
for x in xs:
    h = fwd(x, h)
    hs.append(h)
for x in reversed(xs):                   # the same x_t, read from the end
    g = bwd(x, g)
    gs.insert(0, g)
loss = sum(F.mse_loss(head(F.concat([h, g], axis=-1)), y) for h, g, y in zip(hs, gs, ys))
dot = draw_graph(loss)
''',
    # fig. 10.12: encoder-decoder; the context C is the encoder's final state, read at every step
    "gallery_10_12": '''\
import numpy as np
from tinygrad_rnn import Linear, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph

rng = np.random.default_rng(0)
xs = [Tensor(rng.standard_normal((1, 3))) for _ in range(4)]
ys = [Tensor(rng.standard_normal((1, 2))) for _ in range(3)]
encoder, decoder = RNNCell(3, 4, rng=0), RNNCell(4, 4, rng=1)
head = Linear(4, 2, rng=2)
h = None
for x in xs:
    h = encoder(x, h)
context, s, loss = h, None, 0.0
for y in ys:
    s = decoder(context, s)
    loss = loss + F.mse_loss(head(s), y)
dot = draw_graph(loss)
''',
    # fig. 10.13: a deep recurrent network, two layers stacked
    "gallery_10_13": '''\
import numpy as np
from tinygrad_rnn import Linear, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph

rng = np.random.default_rng(0)
xs = [Tensor(rng.standard_normal((1, 3))) for _ in range(4)]
ys = [Tensor(rng.standard_normal((1, 2))) for _ in range(4)]
lower, upper, head = RNNCell(3, 4, rng=0), RNNCell(4, 4, rng=1), Linear(4, 2, rng=2)
a1 = a2 = None
loss = 0.0
for x, y in zip(xs, ys):
    a1 = lower(x, a1)
    a2 = upper(a1, a2)                   # the lower layer's state is the upper one's input
    loss = loss + F.mse_loss(head(a2), y)
dot = draw_graph(loss)
''',
}


def run(name: str):
    """Run a snippet as the page shows it; returns the picture it drew."""
    scope: dict = {}
    exec(compile(SNIPPETS[name], f"<{name}>", "exec"), scope)  # the snippet as the page shows it
    return scope["dot"]


FIGURES = [(name, (lambda n=name: run(n))) for name in SNIPPETS]
