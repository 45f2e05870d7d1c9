"""The built-in character corpus: short English-like sentences from a small handmade grammar.

The text is generated, not copied, so the project ships no third-party writing. A fixed seed gives
the same text everywhere; the grammar is varied enough for a character model to have words,
agreement and punctuation to learn, and regular enough that a small model learns it in a minute.
"""
from __future__ import annotations

import numpy as np

NAMES = ["Ada", "Ben", "Clara", "Dev", "Elif", "Femi", "Greta", "Hugo", "Iris", "Jonas", "Kemal", "Lena",
         "Milo", "Nora", "Otto", "Priya", "Rosa", "Sami", "Tove", "Yuki"]
ANIMALS = ["cat", "dog", "fox", "owl", "hen", "goat", "horse", "mouse", "crow", "frog", "duck", "bear"]
THINGS = ["lamp", "book", "kettle", "boat", "garden", "window", "letter", "bridge", "river", "bell",
          "table", "candle", "map", "basket", "clock", "road", "apple", "song"]
PLACES = ["the village", "the market", "the old mill", "the valley", "the station", "the kitchen",
          "the harbour", "the forest", "the school", "the little square"]
ADJECTIVES = ["red", "quiet", "small", "happy", "old", "bright", "sleepy", "green", "warm", "tall",
              "clever", "brave", "cold", "round", "lazy", "kind"]
ADVERBS = ["slowly", "quickly", "softly", "again", "together", "gladly", "loudly", "carefully", "alone"]
TIMES = ["in the morning", "at night", "every day", "after lunch", "on sunday", "before dinner",
         "in the rain", "at noon", "once a week"]
# (third person singular, plain form) of verbs taking an object, and of verbs taking none.
TRANSITIVE = [("sees", "see"), ("finds", "find"), ("likes", "like"), ("carries", "carry"),
              ("paints", "paint"), ("opens", "open"), ("watches", "watch"), ("holds", "hold"),
              ("keeps", "keep"), ("mends", "mend"), ("wants", "want"), ("reads", "read")]
INTRANSITIVE = [("sleeps", "sleep"), ("sings", "sing"), ("runs", "run"), ("waits", "wait"),
                ("laughs", "laugh"), ("walks", "walk"), ("dances", "dance"), ("rests", "rest")]


class _Grammar:
    """Each method builds one kind of phrase from the generator's choices."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def pick(self, items):
        return items[self.rng.integers(len(items))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def noun_phrase(self) -> tuple[str, bool]:
        """A noun phrase and whether it is plural (verbs must agree with it)."""
        if self.chance(0.3):
            return self.pick(NAMES), False
        noun = self.pick(ANIMALS + THINGS)
        plural = self.chance(0.3)
        if plural:
            noun = noun + ("es" if noun.endswith(("s", "sh", "ch", "x")) else "s")
        det = self.pick(["the", "some", "two"] if plural else ["the", "a", "every", "my", "this"])
        if det == "a" and noun[0] in "aeiou":
            det = "an"
        if self.chance(0.4):
            adjective = self.pick(ADJECTIVES)
            if det == "an" and adjective[0] not in "aeiou":
                det = "a"
            elif det == "a" and adjective[0] in "aeiou":
                det = "an"
            noun = f"{adjective} {noun}"
        return f"{det} {noun}", plural

    def verb_phrase(self, plural: bool) -> str:
        if self.chance(0.6):
            verb = self.pick(TRANSITIVE)[1 if plural else 0]
            obj, _ = self.noun_phrase()
            phrase = f"{verb} {obj}"
        else:
            phrase = self.pick(INTRANSITIVE)[1 if plural else 0]
            if self.chance(0.5):
                phrase += " " + self.pick(ADVERBS)
        if self.chance(0.35):
            phrase += f" {self.pick(['in', 'near', 'behind'])} {self.pick(PLACES)}"
        if self.chance(0.3):
            phrase += " " + self.pick(TIMES)
        return phrase

    def clause(self) -> str:
        subject, plural = self.noun_phrase()
        return f"{subject} {self.verb_phrase(plural)}"

    def sentence(self) -> str:
        kind = self.rng.random()
        if kind < 0.55:
            text, end = self.clause(), "."
        elif kind < 0.75:
            text, end = f"{self.clause()} {self.pick(['and', 'but', 'while', 'because'])} {self.clause()}", "."
        elif kind < 0.9:
            subject, plural = self.noun_phrase()
            # the question keeps the plain form of the verb: "does the cat sleep", "do two dogs sleep"
            text, end = f"{'do' if plural else 'does'} {subject} {self.verb_phrase(plural=True)}", "?"
        else:
            text, end = f"{self.pick(NAMES)} says that {self.clause()}", "."
        return text[0].upper() + text[1:] + end


def make_corpus(seed: int = 0, size: int = 40_000) -> str:
    """About `size` characters of sentences, six or so to a line, the same text for the same seed."""
    grammar = _Grammar(np.random.default_rng(seed))
    lines, length = [], 0
    while length < size:
        line = " ".join(grammar.sentence() for _ in range(int(grammar.rng.integers(3, 8))))
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines) + "\n"
