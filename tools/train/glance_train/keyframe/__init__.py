"""The RL key-frame scheduler: synthetic sequences with masks, traces of propagation quality, a DQN policy."""
