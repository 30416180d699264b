"""rStar (``rl-reasoner eval --search rstar|mcts``): an MCTS generator over human-like actions, and a second
model that checks each trajectory by completing it from a masked point (Qi et al., 2024; ``../shared/seeds``).

**Generator.** Per prompt a tree of partial completions; each node is made by one *action* on its parent:

* ``step`` (A1, one next step): one sampled line;
* ``rest`` (A2, the remaining steps): sampled to the end (a terminal node);
* ``subquestion`` (A3, a sub-question and its answer): ``VOTES`` sampled next lines, the most frequent kept,
  its share the node's confidence (self-consistency on the sub-answer);
* ``reanswer`` (A4, answer that sub-question again): only under a ``subquestion`` node, ``VOTES`` fresh
  samples of the same line, the most frequent replacing it;
* ``rephrase`` (A5, restate the problem): only at the root, the opening that restates the problem's
  conditions, forced (``REPHRASE``, tiny-arith's ``Let me add a and b.``), then its line sampled.

The actions are forced line prefixes and line-level sampling, as the issue allows for a model that cannot
follow instructions; ``ACTION_SETS["two"]`` keeps A1 and A2 (the ablation). Each rollout selects by UCT
(``Q/N + C * sqrt(ln N_parent / N)``) down to a node with an untried action, expands it, simulates with A2
to a terminal node, and adds that node's reward to ``Q`` on the whole path: the self-consistency confidence
of its answer (the share of this prompt's terminal answers so far that agree with it). All prompts of a
chunk take each rollout together: one batched call for the new lines, one for the completions.

**Picks.** ``mcts`` (rStar's "generator @maj"): the most frequent answer among the trajectories, and of its
trajectories the one with the highest ``Q/N``. ``rstar``: each distinct trajectory's lines are cut at a
random step between 20 % and 80 % of them (at least one masked: a one-line trajectory is solved again from
nothing), the *discriminator* model completes the prefix greedily, and the trajectory is *verified* when the
two answers agree (mutual consistency); the pick is the verified trajectory with the highest ``Q/N`` x
answer share (all trajectories when none is verified). ``spent``
counts every generated token: actions, simulations, votes and the discriminator's completions.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rewards.verify import extract_answer, normalize
from rl_reasoner.generation import Generation

VOTES = 4  # samples behind a subquestion / reanswer line
C = 1.4  # UCT exploration constant
REPHRASE = "<think>\nLet me"  # tiny-arith's opening that restates the problem (data.arith.STYLE_PREFIX)
ACTION_SETS = {
    "five": ("step", "rest", "subquestion", "reanswer", "rephrase"),
    "two": ("step", "rest"),
}
MASK_FROM, MASK_TO = 0.2, 0.8  # where the discriminator's prefix may end, as a share of the steps


@dataclass(eq=False)
class Node:
    """A partial (or finished) completion in one prompt's tree."""

    ids: tuple[int, ...]
    action: str
    parent: Node | None = None
    ended: str = "line"  # "line", "eos" or "budget" (``generation.Step``)
    children: list[Node] = field(default_factory=list)
    untried: list[str] = field(default_factory=list)
    visits: int = 0
    value: float = 0.0
    answer: str | None = None  # a terminal node's normalised answer

    @property
    def terminal(self) -> bool:
        return self.ended != "line"

    def uct(self) -> float:
        if self.visits == 0:
            return math.inf
        return self.value / self.visits + C * math.sqrt(math.log(self.parent.visits) / self.visits)


def valid_actions(node: Node, actions: Sequence[str]) -> list[str]:
    """The actions that apply at ``node``: rephrase at the root only, reanswer under a subquestion only.

    >>> root, five = Node((), "root"), ACTION_SETS["five"]
    >>> valid_actions(root, five), valid_actions(Node((1,), "subquestion", root), five)
    (['step', 'rest', 'subquestion', 'rephrase'], ['step', 'rest', 'subquestion', 'reanswer'])
    """
    ok = {"rephrase": node.parent is None, "reanswer": node.action == "subquestion"}
    return [a for a in actions if ok.get(a, True)]


def majority_line(lines: Sequence[tuple[int, ...]]) -> tuple[tuple[int, ...], float]:
    """The most frequent line (the first of equal counts) and its share.

    >>> majority_line([(1,), (2,), (2,), (3,)])
    ((2,), 0.5)
    """
    counts = Counter(lines)
    best = max(dict.fromkeys(lines), key=lambda line: counts[line])
    return best, counts[best] / len(lines)


@dataclass
class Tree:
    """One prompt's search: its root, the answers its terminal nodes reached, and the tokens it spent."""

    prompt_ids: tuple[int, ...]
    root: Node
    answers: Counter = field(default_factory=Counter)
    terminals: list[Node] = field(default_factory=list)
    spent: int = 0

    def select(self) -> tuple[Node, str | None]:
        """UCT down to a node with an untried action (and that action), or to a terminal node (None)."""
        node = self.root
        while not node.terminal:
            if node.untried:
                return node, node.untried.pop()
            if not node.children:
                break
            node = max(node.children, key=Node.uct)
        return node, None

    def backup(self, leaf: Node) -> None:
        """Add the leaf's self-consistency reward to every node on its path."""
        total = sum(self.answers.values())
        reward = self.answers[leaf.answer] / total if leaf.answer is not None and total else 0.0
        node: Node | None = leaf
        while node is not None:
            node.visits += 1
            node.value += reward
            node = node.parent


class MctsSearch:
    """The rStar generator (see the module docstring); ``discriminator`` None picks by majority (``mcts``)."""

    def __init__(self, inner, rollouts: int, actions: str = "five", discriminator=None):
        self.inner, self.rollouts, self.discriminator = inner, rollouts, discriminator
        self.actions = ACTION_SETS[actions]
        self.tokenizer = inner.tokenizer
        self.rephrase_ids = tuple(self.tokenizer(REPHRASE, add_special_tokens=False)["input_ids"])

    def prompts_per_chunk(self, n: int) -> int:
        return self.inner.prompts_per_chunk(VOTES)

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> list[list[Generation]]:
        trees, verified = self.search(prompts, max_new_tokens=max_new_tokens, temperature=temperature,
                                      top_p=top_p, seed=seed)  # fmt: skip
        if verified is None:
            return [[self._majority_pick(t)] for t in trees]
        return [[self._rstar_pick(t, ok)] for t, ok in zip(trees, verified, strict=True)]

    def search(
        self, prompts: Sequence[str], *, max_new_tokens: int, temperature: float, top_p: float, seed: int
    ) -> tuple[list[Tree], list[dict] | None]:
        """Every prompt's tree after the rollouts, and (with a discriminator) which of its trajectories
        the discriminator verified: per prompt, trajectory ids -> agreed."""
        import torch

        torch.manual_seed(seed)
        self.rng = random.Random(seed)
        trees = [Tree(tuple(self.tokenizer(p)["input_ids"]), self._node((), "root", None, "line"))
                 for p in prompts]  # fmt: skip
        for _ in range(self.rollouts):
            self._rollout(trees, max_new_tokens, {"temperature": temperature, "top_p": top_p})
        if self.discriminator is None:
            return trees, None
        return trees, self._discriminate(prompts, trees, max_new_tokens)

    def _node(self, ids: tuple[int, ...], action: str, parent: Node | None, ended: str) -> Node:
        """A new node, its valid actions in a random order of trial, added under ``parent``."""
        node = Node(ids, action, parent, ended)
        actions = valid_actions(node, self.actions)
        node.untried = self.rng.sample(actions, len(actions))
        if parent is not None:
            parent.children.append(node)
        return node

    def _rollout(self, trees: list[Tree], budget: int, sampling: dict) -> None:
        """One selection, expansion, simulation and backup in every tree, the generation batched."""
        picked = [(tree, *tree.select()) for tree in trees]
        lines = [(tree, node, action) for tree, node, action in picked if action not in (None, "rest")]
        rests = [(tree, node, "rest") for tree, node, action in picked if action == "rest"]
        new = self._expand_lines(lines, budget, sampling)
        rests += [(tree, child, "rest") for tree, child in new if not child.terminal]
        finished = [(tree, child) for tree, child in new if child.terminal]
        finished += self._expand_rests(rests, budget, sampling)
        finished += [(tree, node) for tree, node, action in picked if action is None and node.terminal]
        for tree, leaf in finished:
            if leaf not in tree.terminals:  # a new trajectory: its answer joins the vote before any backup
                leaf.answer = self._answer(leaf)
                tree.terminals.append(leaf)
                tree.answers[leaf.answer] += leaf.answer is not None
        for tree, leaf in finished:
            tree.backup(leaf)

    def _expand_lines(self, requests, budget: int, sampling: dict) -> list[tuple[Tree, Node]]:
        """Every line action of this rollout in one ``generate_lines`` call; returns (tree, new child)."""
        rows, spans = [], []
        for tree, node, action in requests:
            base = node.parent.ids if action == "reanswer" else node.ids
            prefix = base + (self.rephrase_ids if action == "rephrase" else ())
            copies = VOTES if action in ("subquestion", "reanswer") else 1
            spans.append((len(rows), copies, prefix))
            rows += [(tree.prompt_ids + prefix, max(1, budget - len(prefix)))] * copies
        if not rows:
            return []
        steps = self.inner.generate_lines([r for r, _ in rows], [b for _, b in rows], **sampling)
        made = []
        for (tree, node, action), (start, copies, prefix) in zip(requests, spans, strict=True):
            drawn = steps[start : start + copies]
            tree.spent += sum(len(s.ids) for s in drawn)
            line, _ = majority_line([s.ids for s in drawn])
            ended = next(s.ended for s in drawn if s.ids == line)
            ids = prefix + line
            ended = "budget" if ended == "line" and len(ids) >= budget else ended
            made.append((tree, self._node(ids, action, node, ended)))
        return made

    def _expand_rests(self, requests, budget: int, sampling: dict) -> list[tuple[Tree, Node]]:
        """Every completion to the end (A2 actions and simulations) in one call; returns the new terminals."""
        if not requests:
            return []
        prefixes = [tree.prompt_ids + node.ids for tree, node, _ in requests]
        budgets = [max(1, budget - len(node.ids)) for _, node, _ in requests]
        steps = self.inner.generate_rest(prefixes, budgets, **sampling)
        leaves = []
        for (tree, node, action), step in zip(requests, steps, strict=True):
            tree.spent += len(step.ids)
            ended = "eos" if step.ended == "eos" else "budget"
            leaves.append((tree, self._node(node.ids + step.ids, action, node, ended)))
        return leaves

    def _answer(self, leaf: Node) -> str | None:
        if leaf.ended != "eos":
            return None
        return answer_key(self.tokenizer.decode(leaf.ids, skip_special_tokens=True))

    @staticmethod
    def candidates(tree: Tree) -> list[Node]:
        """Distinct trajectories that ended with EOS (all distinct ones when none did)."""
        done = [leaf for leaf in tree.terminals if leaf.ended == "eos"] or tree.terminals
        return list({leaf.ids: leaf for leaf in reversed(done)}.values())[::-1]

    def _majority_pick(self, tree: Tree) -> Generation:
        found = self.candidates(tree)
        top = max(dict.fromkeys(c.answer for c in found), key=lambda a: (a is not None, tree.answers[a]))
        best = max((c for c in found if c.answer == top), key=lambda c: c.value / max(1, c.visits))
        return self._generation(tree, best, best.value / max(1, best.visits))

    def _rstar_pick(self, tree: Tree, verified: dict) -> Generation:
        found = self.candidates(tree)
        total = max(1, sum(tree.answers.values()))
        pool = [c for c in found if verified.get(c.ids)] or found
        score = {c.ids: c.value / max(1, c.visits) * tree.answers[c.answer] / total for c in pool}
        best = max(pool, key=lambda c: score[c.ids])
        judged = tuple((c.answer, bool(verified.get(c.ids))) for c in found)
        return replace(self._generation(tree, best, score[best.ids]), candidates=judged)

    def _discriminate(self, prompts: Sequence[str], trees: list[Tree], budget: int) -> list[dict]:
        """Per tree: trajectory ids -> whether the discriminator, completing it from a masked step, agrees."""
        jobs = []
        for index, tree in enumerate(trees):
            for leaf in self.candidates(tree):
                if leaf.answer is not None:
                    shown = masked_prefix(self.tokenizer.decode(leaf.ids, skip_special_tokens=True), self.rng)
                    jobs.append((index, leaf, shown))
        other = self.discriminator
        prefixes = [tuple(other.tokenizer(prompts[index] + shown)["input_ids"]) for index, _, shown in jobs]
        greedy = {"temperature": 0.0, "top_p": 1.0}
        steps = other.generate_rest(prefixes, [budget] * len(jobs), **greedy) if jobs else []
        verified: list[dict] = [{} for _ in trees]
        for (index, leaf, shown), step in zip(jobs, steps, strict=True):
            trees[index].spent += len(step.ids)
            completed = shown + other.tokenizer.decode(step.ids, skip_special_tokens=True)
            verified[index][leaf.ids] = step.ended == "eos" and answer_key(completed) == leaf.answer
        return verified

    def _generation(self, tree: Tree, node: Node, score: float) -> Generation:
        text = self.tokenizer.decode(node.ids, skip_special_tokens=True)
        truncated = node.ended != "eos"
        return Generation(text, len(node.ids), truncated, node.ids, spent=tree.spent, score=score)


def answer_key(completion: str) -> str | None:
    """A completion's final answer, normalised, for voting (None when it states none).

    >>> answer_key("<think>\\n</think>\\n\\\\boxed{12}"), answer_key("no answer")
    ('12', None)
    """
    answer = extract_answer(completion)
    return normalize(answer) if answer and answer.strip() else None


def masked_prefix(text: str, rng: random.Random) -> str:
    """The first ``i`` of the ``d`` lines of ``text``, ``i`` drawn between 20 % and 80 % of ``d`` (rounded
    down) and below ``d``: at least one line is masked, and a one-line text shows nothing.

    >>> shown = lambda text: sorted({masked_prefix(text, random.Random(i)).count("\\n") for i in range(50)})
    >>> shown("a\\n"), shown("a\\n" * 5)
    ([0], [1, 2, 3, 4])
    """
    lines = text.splitlines(keepends=True)
    low = math.floor(MASK_FROM * len(lines))
    high = max(low, min(len(lines) - 1, math.floor(MASK_TO * len(lines))))
    return "".join(lines[: rng.randint(low, high)])
