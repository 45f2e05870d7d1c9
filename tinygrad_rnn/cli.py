"""The `tinygrad-rnn` command: train, sample, draw and gradflow.

This module only parses arguments and reports errors; each subcommand lives in `commands/`.
Every mistake a user can make (a bad option, a missing or unreadable file, a checkpoint of the wrong
kind) ends as one line on stderr and exit status 2, never as a traceback.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from importlib import metadata

from .commands.config import DEFAULTS
from .commands.errors import CLIError

PROG = "tinygrad-rnn"
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse prints the usage and then the error; we keep it to the one line that matters."""

    def error(self, message: str):
        hint = f" (see '{self.prog} --help')"
        sys.stderr.write(f"{PROG}: error: {message}{hint}\n")
        raise SystemExit(EXIT_USAGE)


# -- argument types that reject nonsense numbers up front --------------------------------------
def _whole_number(text: str, lowest: int, rule: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < lowest:
        raise argparse.ArgumentTypeError(f"{rule}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1, "must be at least 1")


def steps_to_show(text: str):
    """--max-steps: a positive whole number, or "all" to draw every step."""
    return "all" if text == "all" else _whole_number(text, 1, "must be at least 1 (or all)")


def nonnegative_int(text: str) -> int:
    return _whole_number(text, 0, "must not be negative")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    return value


def _per_task(key: str) -> str:
    """The defaults of one option, for the help text: "char 1500, adding 800, copy 1500"."""
    return "default: " + ", ".join(f"{task} {values[key]:g}" for task, values in DEFAULTS.items())


CELLS = ("rnn", "lstm", "gru")
TASKS = ("char", "adding", "copy")
VIEWS = ("unfolded", "folded", "ops")


def _version() -> str:
    try:
        return metadata.version("tinygrad_rnn")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Train, sample, draw and inspect small recurrent networks "
                                            "built with tinygrad_rnn.")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.subcommands = sub.choices  # name -> its parser, for errors that argparse reports at the top

    # Train options default to None so that --resume can tell what the user asked to change.
    train = sub.add_parser("train", help="train a model (a character model on a built-in corpus by default)",
                           description="Train a recurrent model. With no options: a character-level RNN on "
                                       "the built-in corpus, in about a minute on 2 cores. Part of the data is "
                                       "held out and scored as training goes. Writes the last checkpoint "
                                       "(model.npz), the best one by held-out loss (best.npz), config.json, "
                                       "loss.csv, loss.png and the unrolled diagram into --out. Stops with exit "
                                       "status 3, keeping the last good checkpoint, if the loss diverges.")
    train.add_argument("--task", choices=TASKS, help="char (default), adding (Le et al. 2015) or "
                                                     "copy (Arjovsky et al. 2016)")
    train.add_argument("--cell", choices=CELLS, help="recurrent cell (default rnn)")
    train.add_argument("--text", metavar="FILE", help="train the character model on this UTF-8 text file "
                                                      "instead of the built-in corpus")
    train.add_argument("--steps", type=positive_int, metavar="N",
                       help=f"total optimizer steps, with --resume the step to train up to ({_per_task('steps')})")
    train.add_argument("--seq-len", type=positive_int, metavar="N",
                       help=f"characters per window (char), sequence length T (adding) or delay T (copy) "
                            f"({_per_task('seq_len')})")
    train.add_argument("--hidden", type=positive_int, metavar="N", help=f"hidden size ({_per_task('hidden')})")
    train.add_argument("--lr", type=positive_float, metavar="X", help=f"Adam learning rate ({_per_task('lr')})")
    train.add_argument("--batch", type=positive_int, metavar="N", help=f"sequences per step ({_per_task('batch')})")
    train.add_argument("--seed", type=nonnegative_int, metavar="N",
                       help="random seed: the same seed gives the same numbers (default 0)")
    train.add_argument("--resume", metavar="CKPT", help="continue training from this checkpoint (a run folder, "
                                                        "its model.npz or its best.npz)")
    train.add_argument("--out", metavar="DIR", help="output folder (default runs/<UTC timestamp>/, or the "
                                                    "checkpoint's folder with --resume)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    sample = sub.add_parser("sample", help="generate text from a trained character model",
                            description="Generate text from a character model written by 'train'.")
    sample.add_argument("--checkpoint", metavar="CKPT", required=True,
                        help="a run folder written by train, its model.npz or its best.npz")
    sample.add_argument("--length", type=positive_int, default=300, help="characters to generate (default 300)")
    sample.add_argument("--temperature", type=positive_float, default=0.6,
                        help="softmax temperature: lower is more conservative, 1 samples the model as it is "
                             "(default 0.6)")
    sample.add_argument("--prime", default=None, help="text to start from (default: the corpus's first character)")
    sample.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")

    draw = sub.add_parser("draw", help="draw an unrolled recurrent network",
                          description="Unroll a small model for a few steps and draw its graph.")
    draw.add_argument("--cell", choices=CELLS, default="rnn", help="recurrent cell (default rnn)")
    draw.add_argument("--steps", type=positive_int, default=3, help="time steps to unroll (default 3)")
    draw.add_argument("--view", choices=VIEWS, default="unfolded", help="unfolded (default), folded or ops")
    draw.add_argument("--grads", action="store_true", help="run backward and show ‖∂L/∂a_t‖ on each hidden state")
    draw.add_argument("--max-steps", type=steps_to_show, default=None, metavar="N|all",
                      help="show only the first and last N steps of a long unroll (default: as many as "
                           "stay readable); all: every step")
    draw.add_argument("-o", "--output", metavar="FILE", default="unrolled.svg",
                      help="output file; the suffix picks the format: .svg .png .pdf .dot (default unrolled.svg)")

    flow = sub.add_parser("gradflow", help="show how ‖∂L/∂a_t‖ vanishes or explodes through time",
                          description="Unroll a cell whose recurrent weight is rho times an orthogonal "
                                      "matrix and print ‖∂L/∂a_t‖ for every step, with the loss on the last "
                                      "step: a table, a sparkline on a log scale, and a plot.")
    flow.add_argument("--cell", choices=CELLS, default="rnn", help="recurrent cell (default rnn)")
    flow.add_argument("--steps", type=positive_int, default=50, help="time steps T (default 50)")
    flow.add_argument("--rho", type=positive_float, default=0.9,
                      help="scale of the recurrent weight: its spectral radius (default 0.9)")
    flow.add_argument("--hidden", type=positive_int, default=32, help="hidden size (default 32)")
    flow.add_argument("--compare", action="store_true", help="show RNN, LSTM and GRU on the same sequence")
    flow.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    flow.add_argument("-o", "--output", metavar="FILE", default="gradflow.png",
                      help="plot file (default gradflow.png; needs matplotlib)")

    inspect = sub.add_parser("inspect", help="one HTML page of what a trained model does inside",
                             description="Record a trained model over a text (a character model) or a sequence "
                                         "of its task, and write one self-contained HTML page: units that follow "
                                         "the text, heatmaps, gate saturation, the Jacobian spectrum and "
                                         "connectivity.")
    inspect.add_argument("--checkpoint", metavar="CKPT", required=True, help="model.npz written by train")
    inspect.add_argument("--text", default=None, help="text for a character model to read (default: held-out "
                                                      "text like its training text)")
    inspect.add_argument("--unit", type=nonnegative_int, action="append", metavar="N",
                         help="also show this hidden unit (from 0) over the text; repeat for more")
    inspect.add_argument("--seed", type=nonnegative_int, default=0,
                         help="random seed of the sequence for a model of the adding or copy task (default 0)")
    inspect.add_argument("-o", "--output", metavar="FILE", default="report.html", help="the page (default report.html)")
    return parser


def _run(args: argparse.Namespace) -> int:
    # Imported here so that `--help` and argument errors answer at once.
    if args.command == "train":
        from .commands.train import run
    elif args.command == "sample":
        from .commands.sample import run
    elif args.command == "draw":
        from .commands.draw import run
    elif args.command == "inspect":
        from .commands.inspect import run
    else:
        from .commands.gradflow import run
    return run(args)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the arguments; a word the subcommand does not know is reported with that subcommand's help."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.subcommands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return _run(args) or 0
    except BrokenPipeError:  # e.g. `tinygrad-rnn sample ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except KeyboardInterrupt:  # outside the training loop, which handles Ctrl-C itself
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except CLIError as error:
        return _fail(str(error), EXIT_USAGE)
    except (ValueError, KeyError, TypeError, OSError) as error:
        # Library errors already say what is wrong; the user needs the sentence, not the stack.
        if os.environ.get("TINYGRAD_RNN_DEBUG"):
            raise
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        return _fail(str(message), EXIT_USAGE)
    except Exception as error:  # a bug: still one line, with a way to see more
        if os.environ.get("TINYGRAD_RNN_DEBUG"):
            raise
        return _fail(f"internal error: {type(error).__name__}: {error} "
                     f"(run with TINYGRAD_RNN_DEBUG=1 to see the traceback)", 1)


def _fail(message: str, status: int) -> int:
    message = " ".join(message.split())  # always exactly one line
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
