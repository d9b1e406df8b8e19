"""Small PyTorch modules shared by several test files."""

from torch import nn


class RecurrentHead(nn.Module):
    """A batch-first recurrent stack with a Linear head at the last or at every step."""

    def __init__(self, rnn: nn.Module, head: nn.Module, last_step: bool):
        super().__init__()
        self.rnn, self.head, self.last_step = rnn, head, last_step

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1] if self.last_step else out)
