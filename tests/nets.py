"""Small PyTorch modules shared by several test files."""

import torch
from torch import nn


class RecurrentHead(nn.Module):
    """A batch-first recurrent stack with a Linear head at the last or at every step."""

    def __init__(self, rnn: nn.Module, head: nn.Module, last_step: bool):
        super().__init__()
        self.rnn, self.head, self.last_step = rnn, head, last_step

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1] if self.last_step else out)


class Clamped(nn.Module):
    """Linear(3, 8), Tanh, Linear(8, 1) on inputs clipped to ``[-bound, bound]`` by an operation
    of ``forward`` (no module), when ``clip`` is set: the layers alone match it only inside
    the clip."""

    def __init__(self, clip: bool = True, bound: float = 1.5):
        super().__init__()
        self.l1, self.act, self.l2 = nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)
        self.clip, self.bound = clip, bound

    def forward(self, x):
        if self.clip:
            x = x.clamp(-self.bound, self.bound)
        return self.l2(self.act(self.l1(x)))


def shifted_logits_twin(model: nn.Sequential, feature: int = 2) -> nn.Sequential:
    """``model`` (Linear, activation, Linear, float64) with one more hidden unit, driven by
    input ``feature`` (weight 2), that adds the same amount (weight 4) to every logit: the same
    softmax probabilities, other logits."""
    first, last = model[0], model[2]
    hidden = first.out_features
    twin = nn.Sequential(nn.Linear(first.in_features, hidden + 1, dtype=torch.float64),
                         type(model[1])(),
                         nn.Linear(hidden + 1, last.out_features, dtype=torch.float64))
    with torch.no_grad():
        twin[0].weight.zero_()
        twin[0].bias.zero_()
        twin[0].weight[:hidden], twin[0].bias[:hidden] = first.weight, first.bias
        twin[0].weight[hidden, feature] = 2.0
        twin[2].weight[:, :hidden], twin[2].bias[:] = last.weight, last.bias
        twin[2].weight[:, hidden] = 4.0
    return twin


class CallOrdered(nn.Module):
    """Linear layers ``fc1 .. fcK`` (sizes ``sizes``, float64) with one ``nn.Tanh`` module,
    registered after (or before, ``act_first``) them, applied after every hidden layer:
    ``fcK(act(... act(fc1(x))))``, the common PyTorch style whose registration order is not
    its call order."""

    def __init__(self, sizes: tuple[int, ...] = (4, 6, 5, 1), act_first: bool = False):
        super().__init__()
        if act_first:
            self.act = nn.Tanh()
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            setattr(self, f"fc{k + 1}", nn.Linear(n_in, n_out, dtype=torch.float64))
        if not act_first:
            self.act = nn.Tanh()
        self.depth = len(sizes) - 1

    def forward(self, x):
        for k in range(1, self.depth):
            x = self.act(getattr(self, f"fc{k}")(x))
        return getattr(self, f"fc{self.depth}")(x)


class OutOfOrder(nn.Module):
    """``out(tanh(inp(x)))`` (float64, 4 -> 6 -> 1) whose modules are registered in another
    order than forward calls them: the output layer first (``"out_first"``), an unused
    auxiliary ``Linear(6, 2)`` first (``"unused_aux"``), or a head ``nn.Sequential`` (6 -> 3,
    ReLU, 3 -> 1) registered before the body (``"head_first"``). ``branch``: forward also
    branches on a value, so that ``torch.fx`` cannot trace it."""

    def __init__(self, kind: str = "out_first", branch: bool = False):
        super().__init__()
        if kind == "unused_aux":
            self.aux = nn.Linear(6, 2, dtype=torch.float64)
        if kind == "head_first":
            self.head = nn.Sequential(nn.Linear(6, 3, dtype=torch.float64), nn.ReLU(),
                                      nn.Linear(3, 1, dtype=torch.float64))
        else:
            self.out = nn.Linear(6, 1, dtype=torch.float64)
        self.act = nn.Tanh()
        self.inp = nn.Linear(4, 6, dtype=torch.float64)
        self.branch = branch

    def linears(self) -> list[nn.Linear]:
        """The Linear layers in the order forward calls them."""
        tail = [self.head[0], self.head[2]] if hasattr(self, "head") else [self.out]
        return [self.inp, *tail]

    def forward(self, x):
        if self.branch and bool(x.abs().sum() < 0):
            x = -x
        h = self.act(self.inp(x))
        return self.head(h) if hasattr(self, "head") else self.out(h)
