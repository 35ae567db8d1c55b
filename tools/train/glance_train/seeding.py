"""One call seeds every random number generator a training run touches."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Python's, NumPy's global and torch's generators. Data never draws from these (it has keyed streams,
    ``glance_train.synth.seeding``); they decide initial weights and the sampler's shuffling."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
