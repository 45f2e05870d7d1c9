"""A character-level RNN trained on the built-in corpus, with the training loop written out.

    python examples/char_rnn.py                 # about a minute
    python examples/char_rnn.py --steps 20      # a quick look
"""
import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is faster
import numpy as np

from tinygrad_rnn import RNN, no_grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.optim import Adam, clip_grad_norm
from tinygrad_rnn.tasks import Vocab, char_batch, make_corpus, one_hot

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--steps", type=int, default=1000)
parser.add_argument("--hidden", type=int, default=192)
parser.add_argument("--seq-len", type=int, default=48)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

text = make_corpus(seed=args.seed)
vocab = Vocab.from_text(text)
data = vocab.encode(text)
V = len(vocab)
rng = np.random.default_rng(args.seed)

# x_t is a one-hot character, a_t = tanh(U x_t + W a_{t-1} + b), ŷ_t = V a_t + c scores the next one.
model = RNN(V, args.hidden, output_size=V, cell="rnn", rng=rng)
optimizer = Adam(model.parameters(), lr=3e-3)

for step in range(1, args.steps + 1):
    ids, targets = char_batch(data, args.seq_len, args.batch, rng)       # (T, B) each
    logits, _ = model(one_hot(ids, V))                                    # (T, B, V): one call per step inside
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))    # mean over all T·B predictions
    optimizer.zero_grad()
    loss.backward()                                                       # backpropagation through time
    clip_grad_norm(model.parameters(), 5.0)                               # keeps an exploding step in check
    optimizer.step()
    if step % max(1, args.steps // 10) == 0 or step == 1:
        print(f"step {step:5d}  loss {loss.item():.3f}")


def sample(prime: str, length: int, temperature: float = 0.8) -> str:
    """Feed the prime, then feed back each drawn character: the state carries the context."""
    out, state = list(prime), None
    with no_grad():
        for ch in prime:
            logits, state = model(one_hot(vocab.encode(ch)[None], V), state)
        for _ in range(length):
            z = logits.data[-1, 0].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            ch = vocab.chars[rng.choice(V, p=p / p.sum())]
            out.append(ch)
            logits, state = model(one_hot(vocab.encode(ch)[None], V), state)
    return "".join(out)


print("\n" + sample("The ", 300))
